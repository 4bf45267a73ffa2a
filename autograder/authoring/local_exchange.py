"""nbgrader's exchange in a local folder, with nbgrader's own ExchangeSubmit and ExchangeFetchFeedback
called in this process for a given student id (as the Assignment List calls them for its user), and an
instructor's course folder beside it: grading on submit without a hub, for its tests and `make bench`."""
import json
import os
import pwd
import shutil
from pathlib import Path

from autograder.worker.course import ROOT

#: What the grading service needs of the instructor's course folder.
COURSE_FILES = ("nbgrader_config.py", "grading_on_submit.toml", "solutions", "notebooks")


def course_id():
    from autograder.authoring.hub import course_id
    return course_id()


def make_exchange(root, lessons=("02_batch_norm",)):
    """An exchange at `root` (made) with nbgrader's modes and `lessons` released; returns `root`."""
    course = Path(root) / course_id()
    for folder, mode in ((Path(root), 0o1777), (course, 0o755), (course / "outbound", 0o755), (course / "inbound", 0o2733)):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, mode)
    for lesson in lessons:
        shutil.copytree(ROOT / "notebooks" / lesson, course / "outbound" / lesson, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return Path(root)


def make_course(folder):
    """An instructor's course folder (the files the service reads, an empty build/); returns it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        else:
            shutil.copy(source, folder / name)
    (folder / "build").mkdir()
    return folder


def _config(exchange, home, student, lesson):
    from traitlets.config import Config
    config = Config()
    config.Exchange.root = str(exchange)
    config.Exchange.cache = str(Path(home) / ".nbgrader_cache")
    config.Exchange.assignment_dir = str(home)
    config.CourseDirectory.course_id = course_id()
    config.CourseDirectory.assignment_id = lesson
    config.CourseDirectory.student_id = student
    return config


def _run(kind, config):
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    app = kind(coursedir=CourseDirectory(config=config), authenticator=Authenticator(config=config), config=config)
    app.start()
    return app


def submit(exchange, home, student, lesson, notebook, owner=None):
    """Submit `notebook` (bytes, or a dict) as `student` from their `home` with nbgrader's ExchangeSubmit;
    returns the inbound folder (Path). With `owner` (a system user's name) the submission is made beside the
    exchange, chowned to them and moved into inbound whole, as if their own server had submitted it."""
    from nbgrader.exchange.default import ExchangeSubmit
    work = Path(home) / lesson
    work.mkdir(parents=True, exist_ok=True)
    data = notebook if isinstance(notebook, bytes) else json.dumps(notebook).encode()
    (work / "lesson.ipynb").write_bytes(data)
    staging = Path(f"{exchange}.staging") if owner else Path(exchange)
    if owner and not staging.exists():
        make_exchange(staging, [p.name for p in (Path(exchange) / course_id() / "outbound").iterdir()])
    app = _run(ExchangeSubmit, _config(staging, home, student, lesson))
    folder = Path(app.inbound_path) / app.assignment_filename
    if not owner:
        return folder
    user = pwd.getpwnam(owner)
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, user.pw_uid, user.pw_gid)
    return folder.rename(Path(exchange) / course_id() / "inbound" / folder.name)


def fetch_feedback(exchange, home, student, lesson):
    """nbgrader's ExchangeFetchFeedback as `student` from their `home`: {timestamp: page (str)} fetched."""
    from nbgrader.exchange.default import ExchangeFetchFeedback
    _run(ExchangeFetchFeedback, _config(exchange, home, student, lesson))
    fetched = Path(home) / lesson / "feedback"
    return {p.parent.name: p.read_text() for p in fetched.glob("*/lesson.html")} if fetched.is_dir() else {}
