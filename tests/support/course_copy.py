"""A throw-away copy of the course, for running its commands where they may write.

`python -m autograder` run from inside the copy imports the copy's grader, whose course root
(nbgrader's course directory: build/gradebook.db, build/autograded, build/feedback) is the copy.
"""
import shutil

from autograder.worker.course import ROOT

#: What `python -m autograder grade` and nbgrader's commands need of the course.
COURSE_FILES = ["autograder", "lessonkit", "solutions", "notebooks", "nbgrader_config.py"]


def copy_course(dest):
    """Copy the course into `dest` (created, with an empty build/) and return it."""
    for rel in COURSE_FILES:
        if (ROOT / rel).is_dir():
            shutil.copytree(ROOT / rel, dest / rel, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    (dest / "build").mkdir()  # where the course's nbgrader_config.py keeps the gradebook
    return dest
