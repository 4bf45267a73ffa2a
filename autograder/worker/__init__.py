"""Shipped into every sandbox and to students: the course facts, notebook reading, and running student code confined."""
