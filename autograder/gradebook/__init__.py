"""Private: nbgrader's gradebook, its commands and its autograded/feedback files."""
