"""The course's facts, each stated once: where its parts are, its lessons, what ships to students.

Everything here is plain data, so the module ships with the visible checks (the worker and
the student bundle import it) and says nothing private. The default gradebook is set in
``nbgrader_config.py`` (`NBGRADER_CONFIG`), where nbgrader's own tools read it too;
`nbgrader_cmd.course_directories` resolves it.
"""
import os
from pathlib import Path

from autograder import SANDBOX, SHIPPED

ROOT = Path(__file__).resolve().parents[2]
#: The masters, ``solutions/<lesson>/lesson.ipynb`` (instructor only: never shipped).
SOLUTIONS = ROOT / "solutions"
NBGRADER_CONFIG = ROOT / "nbgrader_config.py"

#: The lessons, in teaching order: ``NN_name``, with ``autograder/checks/<name>.py`` (visible
#: checks) and ``autograder/judge/<name>.py`` (hidden cases) beside the master.
LESSONS = ("01_normalizing_inputs", "02_batch_norm", "03_vanishing_gradients", "04_initialization",
           "05_putting_it_together")

#: What the worker runs from (`runner.prepare_public` copies it, read-only): the shared code
#: the student's functions call and the package's sandbox folders (`autograder.SANDBOX`).
WORKER_FILES = ["lessonkit", "autograder/__init__.py", *(f"autograder/{folder}" for folder in SANDBOX)]
#: What students receive (`release.bundle`): the released lessons (with their figures), the shared code,
#: the package's shipped folders (`autograder.SHIPPED`) and its entry point. The private
#: folders stay out; `tests/unit/authoring/test_release.py` checks that nothing of them leaks.
STUDENT_FILES = ["notebooks", "lessonkit", "autograder/__init__.py", "autograder/__main__.py",
                 "autograder/cli.py", *(f"autograder/{folder}" for folder in SHIPPED), "nbgrader_config.py",
                 "requirements.lock"]


def lessons():
    """The lesson folders, e.g. ``["01_normalizing_inputs", ...]`` (a new list each call)."""
    return list(LESSONS)


def lesson_module(lesson):
    """The name of a lesson's check and judge modules: ``"02_batch_norm"`` -> ``"batch_norm"``."""
    return lesson.split("_", 1)[1]


def lesson_number(lesson):
    """A lesson's number as the course writes it: ``"02_batch_norm"`` -> ``"02"``."""
    return lesson.split("_", 1)[0]


def master_path(lesson):
    """Path of a lesson's master notebook, e.g. ``solutions/02_batch_norm/lesson.ipynb``."""
    path = SOLUTIONS / lesson / "lesson.ipynb"
    if not path.exists():
        raise FileNotFoundError(f"no master notebook for lesson {lesson!r} at {path} "
                                "(masters exist only in the instructor's course tree)")
    return path


def copy_files(rels, dest):
    """Copy the course's files and folders `rels` (relative to `ROOT`) to the same places
    under `dest`, without caches and notebook checkpoints; returns `dest` as a Path. The copies are
    readable by everyone (folders 0755, files 0644, or 0755 if executable) whatever the modes in the
    course tree: a sandboxed worker reads its public copy as nobody, and `make hub` closes the tree
    (``hub.close_course_tree``), whose modes a plain copy would carry."""
    import shutil
    dest = Path(dest)
    for rel in rels:
        src, dst = ROOT / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
                            dirs_exist_ok=True)
            for folder, _, files in os.walk(dst):
                os.chmod(folder, 0o755)
                for name in files:
                    _readable(Path(folder) / name, ROOT / rel / Path(folder).relative_to(dst) / name)
        else:
            shutil.copy2(src, dst)
            _readable(dst, src)
    return dest


def _readable(copy, original):
    os.chmod(copy, 0o755 if os.stat(original).st_mode & 0o100 else 0o644)
