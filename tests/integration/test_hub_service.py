"""Grading on submit without a hub (autograder/hub_service/): one warm service on an exchange in a
temporary folder and an instructor's course beside it; students submit with nbgrader's own
ExchangeSubmit in this process (as root: a student named for a system user gets their folder chowned
to them, as their own server would make it) and fetch with ExchangeFetchFeedback.

The service is shared by the module (it warms once), in file order: a graded submission reaches the
gradebook, nbgrader's folders and the student's fetch; hostile ones cost only themselves; a manual grade
survives a regrade; the hourly limit; 50 simulated students within a minute. A second service, in its
own process, is killed between grading and releasing and restarted.
"""
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from autograder.authoring.catalogue import build, catalogue
from autograder.authoring.local_exchange import course_id, fetch_feedback, make_course, make_exchange, submit
from autograder.hub_service import policy
from autograder.hub_service.journal import Journal
from autograder.hub_service.service import Service
from autograder.worker.course import ROOT

LESSON = "02_batch_norm"
VARIANTS = {v.name: v for v in catalogue()[LESSON]}
CORRECT = build(LESSON, VARIANTS["correct"])
#: The limit's window while these tests run (an hour would make the limit untestable)
WINDOW = 12.0
PER_HOUR = 2
LOAD = 50
DONE_TIMEOUT = 240  # s, on 2 busy cores


class Log(io.StringIO):
    """The service's log lines, read while it writes them."""

    def lines(self):
        return self.getvalue().splitlines()


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    base = tmp_path_factory.mktemp("hub_service")
    exchange, course = make_exchange(base / "exchange"), make_course(base / "course")
    (course / policy.FILE).write_text(f'[defaults]\nfeedback = "at_once"\nper_hour = {PER_HOUR}\n'
                                      f'[lessons.{LESSON}]\nfeedback = "at_once"\n')
    window = pytest.MonkeyPatch()
    window.setattr(policy, "HOUR", WINDOW)
    log = Log()
    service = Service(exchange, course_id(), course, base / "state", simulated={f"sim{k:02d}" for k in range(LOAD)},
                      out=log)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,))
    thread.start()
    try:
        yield service, exchange, course, base, log
    finally:
        stop.set()
        thread.join()
        window.undo()


def as_student(running, student, notebook, owner=None):
    """Submit `notebook` as `student`, its inbound folder owned by system user `owner` (default: `student`;
    False: by root, for the simulated students)."""
    _, exchange, _, base, _ = running
    return submit(exchange, base / "homes" / student, student, LESSON, notebook,
                  owner=None if owner is False else owner or student)


def wait_for(journal, name, steps=("done", "rejected"), seconds=DONE_TIMEOUT):
    deadline = time.monotonic() + seconds
    while journal.step(name) not in steps:
        assert time.monotonic() < deadline, f"{name}: still {journal.step(name)} after {seconds} s"
        time.sleep(0.1)
    return journal.last(name)


def feedback(running, student):
    _, exchange, _, base, _ = running
    return fetch_feedback(exchange, base / "homes" / student, student, LESSON)


def gradebook_scores(course, student):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course}/build/gradebook.db") as gb:
        notebook = gb.find_submission_notebook("lesson", LESSON, student)
        return {g.name: (g.auto_score, g.manual_score) for g in notebook.grades}


def test_the_lessons_released_into_the_exchange_are_registered_before_a_first_submission(running):
    from nbgrader.api import Gradebook
    *_, course, _, log = running
    deadline = time.monotonic() + DONE_TIMEOUT
    while not any("watching" in line for line in log.lines()):
        assert time.monotonic() < deadline, log.getvalue()
        time.sleep(0.2)
    with Gradebook(f"sqlite:///{course}/build/gradebook.db") as gb:
        assert [a.name for a in gb.assignments] == [LESSON]  # released; the others are not
        assert len(gb.find_notebook("lesson", LESSON).grade_cells) > 3


def test_a_submission_is_collected_graded_recorded_and_its_feedback_fetched(running):
    service, _, course, _, log = running
    folder = as_student(running, "root", CORRECT)
    done = wait_for(service.journal, folder.name)
    assert done["step"] == "done" and done["score"] == "24 / 24 points", done
    scores = gradebook_scores(course, "root")
    assert scores and all(auto > 0 and manual is None for auto, manual in scores.values())
    assert (course / "build" / "submitted" / "root" / LESSON / "lesson.ipynb").read_bytes() == CORRECT
    for made in ("autograded/root/02_batch_norm/lesson.ipynb", "feedback/root/02_batch_norm/lesson.html"):
        assert (course / "build" / made).is_file(), made
    pages = feedback(running, "root")
    assert len(pages) == 1 and "24 / 24 points" in next(iter(pages.values()))
    line = next(x for x in log.lines() if "root 02_batch_norm: 24 / 24 points" in x)
    assert "feedback released" in line and " s from the exchange" in line
    assert [e["step"] for e in service.journal.entries[folder.name]] == ["collected", "graded", "done"]


def test_a_student_cannot_submit_as_another(running):
    """Any student writes into inbound: daemon names root; the folder's owner gives it away."""
    service, _, course, _, log = running
    folder = as_student(running, "root", CORRECT, owner="daemon")
    done = wait_for(service.journal, folder.name)
    assert done["step"] == "rejected" and "owned by daemon" in done["reason"]
    assert any("skipped inbound folder" in x and "owned by daemon" in x for x in log.lines())


def deep_notebook():
    return b'{"cells": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"


def killing_notebook():
    nb = json.loads(CORRECT)
    answer = next(c for c in nb["cells"] if "def batchnorm_forward" in "".join(c["source"]))
    answer["source"] = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n" + "".join(answer["source"])
    return json.dumps(nb).encode()


def test_hostile_submissions_cost_only_themselves(running):
    """A notebook that kills its worker, one nested 10,000 deep, one past the grader's size, a link in inbound
    and a name that does not parse: each logged and graded "not graded" or skipped; a good one after them graded."""
    service, exchange, _, _, log = running
    inbound = exchange / course_id() / "inbound"
    killer = as_student(running, "daemon", killing_notebook())
    deep = as_student(running, "bin", deep_notebook())
    huge = as_student(running, "sys", b'{"cells": []}' + b" " * (21 * 2**20))
    (inbound / "nobody+02_batch_norm+2026-12-06 20:04:10 UTC+link").symlink_to(killer)
    (inbound / "not a submission").mkdir()
    good = as_student(running, "sync", CORRECT)
    for name in ("nobody+02_batch_norm+2026-12-06 20:04:10 UTC+link", "not a submission"):
        assert wait_for(service.journal, name)["step"] == "rejected"
    for folder in (killer, deep, huge):
        done = wait_for(service.journal, folder.name)
        assert done["step"] == "done" and done["score"] != "24 / 24 points", done
    assert wait_for(service.journal, deep.name)["score"].startswith("not graded (") and "nested" in \
        wait_for(service.journal, deep.name)["score"]
    assert wait_for(service.journal, good.name)["score"] == "24 / 24 points"
    assert (killer / "lesson.ipynb").read_bytes() == killing_notebook()  # submitted files are never modified
    assert any("daemon 02_batch_norm:" in x for x in log.lines())


def test_a_manual_grade_survives_an_unchanged_regrade_and_reaches_the_feedback(running):
    from nbgrader.api import Gradebook
    service, _, course, _, _ = running
    first = as_student(running, "games", CORRECT)
    wait_for(service.journal, first.name)
    with Gradebook(f"sqlite:///{course}/build/gradebook.db") as gb:
        grade = gb.find_submission_notebook("lesson", LESSON, "games").grades[0]
        cell, grade.manual_score = grade.name, 0.5
        gb.db.commit()
    time.sleep(0.01)
    second = as_student(running, "games", CORRECT)
    assert wait_for(service.journal, second.name)["step"] == "done"
    assert gradebook_scores(course, "games")[cell][1] == 0.5
    assert any("set by your grader" in page for page in feedback(running, "games").values())


def test_until_the_due_date_the_score_and_hidden_details_are_withheld_then_the_whole_page_is_released(running):
    """The instructor edits grading_on_submit.toml while the service runs: lesson 02 becomes "visible" with a
    due date next month; once the withheld page is out, the instructor moves the due date to two seconds away,
    and when they pass (the service's clock, not the edit) the whole page is released."""
    service, _, course, _, log = running
    settings = course / policy.FILE
    kept = settings.read_text()

    def due_in(delay, times_read):
        due = (datetime.now(timezone.utc) + delay).replace(microsecond=0)  # the file holds whole seconds
        settings.write_text(f'[defaults]\nper_hour = {PER_HOUR}\n[lessons.{LESSON}]\nfeedback = "visible"\n'
                            f'due = "{due:%Y-%m-%d %H:%M:%S} UTC"\n')
        deadline = time.monotonic() + 30
        while sum(f"read {policy.FILE} again" in line for line in log.lines()) < times_read:
            assert time.monotonic() < deadline, log.getvalue()
            time.sleep(0.1)
        return due
    try:
        read_before = sum(f"read {policy.FILE} again" in line for line in log.lines())
        due_in(timedelta(days=30), read_before + 1)
        folder = as_student(running, "lp", CORRECT)
        assert wait_for(service.journal, folder.name)["withheld"]
        (page,) = feedback(running, "lp").values()
        assert "24 / 24" not in page and "shown after the due date" in page
        due = due_in(timedelta(seconds=4), read_before + 2)
        withheld_after_the_edit = 0
        while datetime.now(timezone.utc) < due + timedelta(seconds=DONE_TIMEOUT):
            (page,) = feedback(running, "lp").values()
            if "24 / 24 points" in page:
                assert datetime.now(timezone.utc) >= due, "the whole page was released before the due date"
                break
            withheld_after_the_edit += datetime.now(timezone.utc) < due
            time.sleep(0.2)
        assert withheld_after_the_edit, "no look at the page before the due date: the test proved nothing"
        assert "24 / 24 points" in page and any("past the due date" in line for line in log.lines())
    finally:
        settings.write_text(kept)


def test_over_the_limit_a_submission_waits_says_when_and_the_latest_is_graded(running):
    service, _, course, _, log = running
    first = as_student(running, "man", CORRECT)
    wait_for(service.journal, first.name)
    second = as_student(running, "man", build(LESSON, VARIANTS["untouched"]))
    wait_for(service.journal, second.name)
    third = as_student(running, "man", build(LESSON, VARIANTS["untouched"]))
    time.sleep(0.01)
    fourth = as_student(running, "man", CORRECT)
    assert wait_for(service.journal, fourth.name, ("waiting",), 30)["until"] > time.time()
    waiting_pages = [p for p in feedback(running, "man").values() if "is graded at" in p]
    assert waiting_pages, feedback(running, "man")
    assert wait_for(service.journal, fourth.name, seconds=WINDOW + DONE_TIMEOUT)["score"] == "24 / 24 points"
    assert service.journal.step(third.name) == "superseded"
    assert sum(e["step"] == "graded" for e in service.journal.entries[fourth.name]) == 1
    assert (course / "build" / "submitted" / "man" / LESSON / "lesson.ipynb").read_bytes() == CORRECT


def test_fifty_students_submitting_within_a_minute_are_each_graded_once_and_fed_back(running):
    """The issue's load test: simulated students from one system user (`simulated`, the test's configuration
    only); the time from the exchange to feedback is reported."""
    service, exchange, _, base, log = running
    start = time.monotonic()
    folders = []
    for k in range(LOAD):
        folders.append(as_student(running, f"sim{k:02d}", CORRECT if k % 2 else build(LESSON, VARIANTS["untouched"]),
                                  owner=False))
        time.sleep(max(0.0, start + k * 0.3 - time.monotonic()))  # spread over 15 s
    assert time.monotonic() - start < 60
    seconds = sorted(wait_for(service.journal, f.name)["seconds"] for f in folders)
    again = Journal(service.journal.folder)  # what is on disk
    for k, folder in enumerate(folders):
        assert [e["step"] for e in again.entries[folder.name]] == ["collected", "graded", "done"]
        assert len(feedback(running, f"sim{k:02d}")) == 1
    print(f"\n{LOAD} submissions: exchange to feedback median {seconds[LOAD // 2]:.2f} s, "
          f"90th percentile {seconds[int(LOAD * 0.9)]:.2f} s, longest {seconds[-1]:.2f} s")


SERVICE = """import signal, sys, threading
from autograder.hub_service.service import Service
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
Service(*sys.argv[1:5]).run(stop)
"""


def start_service(exchange, course, state, log):
    return subprocess.Popen([sys.executable, "-c", SERVICE, str(exchange), course_id(), str(course), str(state)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def test_a_service_killed_between_grading_and_releasing_finishes_after_its_restart_without_grading_again(tmp_path):
    exchange, course = make_exchange(tmp_path / "exchange"), make_course(tmp_path / "course")
    blocked = exchange / course_id() / "feedback"
    blocked.write_text("a file where the feedback folder goes: releasing fails until it is gone")
    state = tmp_path / "state"
    folder = submit(exchange, tmp_path / "home", "root", LESSON, CORRECT)
    with open(tmp_path / "service.log", "w") as log:
        proc = start_service(exchange, course, state, log)
        try:
            deadline = time.monotonic() + DONE_TIMEOUT
            while "graded" not in {e["step"] for e in Journal(state).entries.get(folder.name, [])}:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "service.log").read_text()
                time.sleep(0.1)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        assert Journal(state).step(folder.name) == "graded"
        blocked.unlink()
        proc = start_service(exchange, course, state, log)
        try:
            deadline = time.monotonic() + DONE_TIMEOUT
            while Journal(state).step(folder.name) != "done":
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "service.log").read_text()
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(60)
    steps = [e["step"] for e in Journal(state).entries[folder.name]]
    assert steps == ["collected", "graded", "done"], steps
    pages = fetch_feedback(exchange, tmp_path / "home", "root", LESSON)
    assert len(pages) == 1 and "Score: 24 / 24 points" in next(iter(pages.values()))
    assert Path(course / "build" / "gradebook.db").is_file()
