"""Shipped to students: the self-check (the grader's way, before submitting) and JupyterLab in student mode."""
