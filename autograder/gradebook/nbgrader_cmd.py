"""Running nbgrader's own commands for the course, and where its course directory puts things.

Only a scratch SQLite path ever reaches an nbgrader command line: the real gradebook's URL
(which may hold a PostgreSQL password) stays in this process.
"""
import ctypes
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from autograder.worker.course import ROOT


def with_venv_on_path():
    """nbgrader runs the `alembic` command of this environment to create gradebooks."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None).prctl  # looked up here: between fork and exec only the call may run


def dies_with_parent():
    """Ask the kernel to SIGKILL this process when the one that started it ends, however it
    ends (as the `preexec_fn` of a command, or first thing in a helper process)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


#: What `generate` runs in its one nbgrader process: nbgrader's own API (as Formgrader calls it) on each lesson,
#: with the course's nbgrader_config.py; prints {lesson: None, or nbgrader's output when it failed} as JSON.
_GENERATE_EACH = """# nbgrader generate_assignment of each lesson
import json, sys
from traitlets.config import Config
from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
root, into, db, *lessons = sys.argv[1:]
into, db = into.split("=", 1)[1], db.split("=", 1)[1]  # nbgrader's own options, as its command line spells them
try:
    config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
except ConfigFileNotFound:
    config = Config()
config.CourseDirectory.root = root
config.CourseDirectory.db_url = db
config.CourseDirectory.release_directory = into
config.NbGraderAPI.log_level = "WARN"
api = NbGraderAPI(CourseDirectory(config=config), config=config)
failed = {}
for lesson in lessons:
    done = api.generate_assignment(lesson, force=True)
    failed[lesson] = None if done["success"] else (done.get("log", "") + done.get("error", "")).strip()
print(json.dumps(failed))
"""


def generate(lessons, into, scratch_db, root=None):
    """nbgrader generate_assignment of each of `lessons`, one nbgrader process for them all (not one per lesson:
    its start-up is most of a lesson's time), against a throw-away SQLite gradebook.

    Parameters
    ----------
    lessons : list of str, e.g. ``["02_batch_norm"]``
    into : str or Path, the release folder to write ``<lesson>/lesson.ipynb`` into
    scratch_db : Path, a SQLite file nbgrader creates and registers the lessons' cells in
    root : str or Path or None, the course root (default: this checkout)

    Returns
    -------
    failed : dict, lesson -> nbgrader's output, for each lesson nbgrader could not generate (every one of
        them, with the process's output, when the process itself failed)
    """
    if not lessons:
        return {}
    root = Path(root or ROOT).resolve()
    done = subprocess.run([sys.executable, "-c", _GENERATE_EACH, str(root),
                           f"--CourseDirectory.release_directory={Path(into).resolve()}",
                           f"--CourseDirectory.db_url=sqlite:///{Path(scratch_db).resolve()}", *lessons],
                          cwd=root, env=with_venv_on_path(),
                          capture_output=True, text=True, preexec_fn=dies_with_parent)
    try:
        failed = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
    except (ValueError, IndexError):
        failed = None
    if not isinstance(failed, dict) or set(failed) != set(lessons):
        output = (done.stdout + done.stderr).strip() or f"nbgrader exit status {done.returncode}"
        return {lesson: output for lesson in lessons}
    return {lesson: output for lesson, output in failed.items() if output is not None}


def course_directories(root=None):
    """Where nbgrader's tools look, as the course's ``nbgrader_config.py`` sets it.

    Relative folders are resolved against the course root, never the current folder.

    Returns
    -------
    db_url : str, the default gradebook
    autograded : Path, ``<autograded>/<student>/<lesson>/lesson.ipynb``
    feedback : Path, ``<feedback>/<student>/<lesson>/lesson.html``
    """
    root = Path(root or ROOT)
    course = course_config(root).CourseDirectory
    return course.db_url, root / course.autograded_directory, root / course.feedback_directory


def folders_for(db_url, out, root=None):
    """Where a run that records into `db_url` writes nbgrader's autograded and feedback files.

    The course's own folders only when `db_url` is the course's gradebook: a class recorded
    into another gradebook (``--db``) keeps its nbgrader files beside its outputs, in
    ``<out>/nbgrader/``, so nothing of it reaches the course's folders or, through
    ``nbgrader release_feedback``, its exchange.

    Returns
    -------
    autograded, feedback : Path
    """
    course_db, autograded, feedback = course_directories(root)
    if _same_database(db_url, course_db):
        return autograded, feedback
    return Path(out) / "nbgrader" / "autograded", Path(out) / "nbgrader" / "feedback"


def _same_database(a, b):
    """Whether two gradebook URLs name one database (SQLite files compared by their resolved path)."""
    def key(url):
        prefix = "sqlite:///"
        return ("sqlite", Path(url[len(prefix):]).resolve()) if url.startswith(prefix) else ("url", url)
    return key(a) == key(b)


def course_config(root=None):
    """The course's ``nbgrader_config.py`` (in the course root) as a traitlets Config."""
    return PyFileConfigLoader("nbgrader_config.py", path=str(Path(root or ROOT))).load_config()
