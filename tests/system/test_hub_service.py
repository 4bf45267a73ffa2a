"""Grading on submit on the session's hub (tests/system/conftest.py; the service is the hub's own, started by
it from ``jupyterhub_config.py``): a real student fetches and submits lesson 02 through their server's
Assignment List, the service grades it, the student's Fetch Feedback gets the page with the grader's score,
the instructor's gradebook holds it, the hub's log says so, and the instructor's own nbgrader can still write
the gradebook and the files the service (root) wrote into the course.
"""
import json
import os
import pwd
import shutil
import signal
import time
from pathlib import Path

import pytest

from autograder.authoring import hub
from autograder.authoring.catalogue import build, catalogue
from tests.support.hub import request, run_as
from tests.support.processes import processes_naming
from tests.system.conftest import LESSON

reasons = hub.missing()
if reasons:
    pytest.skip("; ".join(reasons), allow_module_level=True)

from tests.system.test_hub import assignments  # noqa: E402 - skipped above where the hub cannot run

GRADED_TIMEOUT = 300  # s: the service warms, then registers the lesson in a new gradebook, on 2 busy cores


def home(accounts, role):
    return Path(pwd.getpwnam(accounts[role]).pw_dir)


def test_a_students_submission_is_graded_and_its_feedback_fetched_from_the_assignment_list(course_hub, servers,
                                                                                            accounts):
    student = accounts["a"]
    if not (home(accounts, "a") / LESSON).is_dir():
        assignments(course_hub, servers, accounts, "a", "fetch")
    answered = home(accounts, "a") / LESSON / "lesson.ipynb"
    answered.write_bytes(build(LESSON, next(v for v in catalogue()[LESSON] if v.name == "correct")))
    shutil.chown(answered, student, student)
    assignments(course_hub, servers, accounts, "a", "submit")
    deadline = time.monotonic() + GRADED_TIMEOUT
    pages = []
    while not pages:
        assert time.monotonic() < deadline, (hub.ROOT / "build" / "hub-test.log").read_text()[-3000:]
        status, body = request(course_hub, f"/user/{student}/assignments/fetch_feedback", servers["a"],
                               data={"course_id": hub.course_id(), "assignment_id": LESSON}, method="FORM")
        assert status == 200, body
        pages = [p.read_text() for p in (home(accounts, "a") / LESSON / "feedback").glob("*/lesson.html")
                 if "24 / 24" in p.read_text()]
        time.sleep(1)
    assert f"feedback for {student}" in pages[0]
    log = (hub.ROOT / "build" / "hub-test.log").read_text()
    assert f"[grading-on-submit] {student} {LESSON}: 24 / 24 points" in log


def test_the_instructors_gradebook_holds_the_grade_and_stays_theirs_to_write(course_hub, accounts):
    """Formgrader runs as the instructor: after the service (root) wrote the gradebook and nbgrader's folders,
    the instructor's nbgrader reads the grade and sets a manual score."""
    instructor, course = accounts["instructor"], home(accounts, "instructor")
    python = str(Path(course_hub["singleuser"]).parent / "python")
    script = (f"from nbgrader.api import Gradebook\n"
              f"with Gradebook('sqlite:///{course}/build/gradebook.db') as gb:\n"
              f"    nb = gb.find_submission_notebook('lesson', {LESSON!r}, {accounts['a']!r})\n"
              f"    print(nb.score)\n"
              f"    nb.grades[0].manual_score = 0.0\n"
              f"    gb.db.commit()\n"
              f"    print(gb.find_submission_notebook('lesson', {LESSON!r}, {accounts['a']!r}).score, nb.grades[0].max_score)\n"
              f"    nb.grades[0].manual_score = None  # as it was: the session's other hub tests see a's own grade\n"
              f"    gb.db.commit()\n")
    ran = run_as(instructor, python, "-c", script)
    assert ran.returncode == 0, ran.stderr
    before, after, first_item = (float(word) for word in ran.stdout.split())
    assert before == 24.0 and after == 24.0 - first_item > 0
    uid = pwd.getpwnam(instructor).pw_uid
    made = [course / "build" / "gradebook.db", *(course / "build").glob("*/" + accounts["a"] + "/**/*")]
    assert len(made) > 3 and {p: p.stat().st_uid for p in made if p.stat().st_uid != uid} == {}
    feedback = json.dumps(sorted(str(p) for p in (course / "build" / "feedback").rglob("lesson.html")))
    assert accounts["a"] in feedback


def test_the_hub_restarts_its_grading_service_which_grades_nothing_twice(course_hub):
    """The service killed (SIGKILL: no clean-up): JupyterHub starts it again (it polls its managed services every
    30 s), and the new one finds every submission of the session in its journal, so it grades none again."""
    log_path = hub.ROOT / "build" / "hub-test.log"
    settings = str(Path(course_hub["private"]) / "settings.json")

    def services():
        return set(processes_naming(settings)) & set(processes_naming("autograder.hub_service"))
    (service,) = services()
    graded_before = log_path.read_text().count(" points")
    watching_before = log_path.read_text().count("[grading-on-submit] watching")
    os.kill(service, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while log_path.read_text().count("[grading-on-submit] watching") == watching_before:
        assert time.monotonic() < deadline, log_path.read_text()[-3000:]
        time.sleep(0.5)
    assert services() - {service}, "no new service"
    time.sleep(3)  # ten polls of inbound
    log = log_path.read_text()
    assert "Service grading-on-submit exited with status -9" in log, log[-3000:]
    assert log.count(" points") == graded_before, log[-3000:]
