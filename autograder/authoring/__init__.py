"""Private: turning masters into released notebooks, linting them, the student bundle and workspace."""
