"""Private: learning-management systems (Gradescope's autograder, Canvas's grade import)."""
