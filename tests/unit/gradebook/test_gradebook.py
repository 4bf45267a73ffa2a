"""nbgrader's gradebook and files after `grade`: nothing an instructor set is lost, nothing
leaks, and nbgrader's own tools (export, generate_feedback, release_feedback) work."""
import csv
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy import event
from sqlalchemy.engine import Engine

from autograder import cli
from autograder.authoring.catalogue import build, normalizing_inputs
from autograder.gradebook import nbgrader_cmd, published
from autograder.gradebook import process as gradebook_process
from autograder.gradebook import record as gradebook
from autograder.gradebook.by_hand import set_by_hand
from autograder.gradebook.process import cell_order
from autograder.grading.grade import load_master
from autograder.grading.options import Options
from autograder.grading.results import ItemResult, SubmissionResult
from autograder.outputs import report
from autograder.worker.course import ROOT
from autograder.worker.notebook import submission_time

LESSON = "02_batch_norm"
STAMP = "2024-03-01 09:30:00.123456 UTC"  # as nbgrader submit writes it


@pytest.fixture(autouse=True)
def venv_on_path(monkeypatch):
    """nbgrader creates gradebooks with this environment's `alembic`."""
    monkeypatch.setenv("PATH", nbgrader_cmd.with_venv_on_path()["PATH"])


def result(student, points=None, timestamp=None, lesson=LESSON, items=None):
    """A hand-built result: every item of the master at `points` (default: full marks)."""
    items = items or load_master(lesson).items
    return SubmissionResult(student, lesson, [ItemResult(g, p if points is None else points, p) for g, p in items],
                            timestamp=timestamp)


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A gradebook that knows LESSON (registering runs nbgrader generate_assignment once)."""
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", nbgrader_cmd.with_venv_on_path()["PATH"])
        recorded, notes = gradebook.record([result("template")], f"sqlite:///{path}")
    assert notes == [] and len(recorded) == 1
    return path


@pytest.fixture
def db(registered, tmp_path):
    shutil.copy(registered, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


def snapshot(db_url):
    """Everything grading may touch, as plain data."""
    with Gradebook(db_url) as gb:
        return sorted((g.notebook.assignment.student.id, g.cell.name, g.auto_score, g.manual_score,
                       g.needs_manual_grade, g.max_score, str(g.notebook.assignment.timestamp))
                      for a in gb.assignments for s in a.submissions for n in s.notebooks for g in n.grades)


def test_a_regrade_keeps_manual_grades_comments_and_extensions(db):
    gradebook.record([result("ann", points=0)], db)
    with Gradebook(db) as gb:
        gb.find_grade("bn_inference", "lesson", LESSON, "ann").manual_score = 1.5
        gb.find_comment("batchnorm_forward", "lesson", LESSON, "ann").manual_comment = "see me"
        gb.db.commit()
        gb.grant_extension(LESSON, "ann", days=2)
        submission_id = gb.find_submission(LESSON, "ann").id
    gradebook.record([result("ann")], db)  # the regrade: full auto marks now
    with Gradebook(db) as gb:
        grade = gb.find_grade("bn_inference", "lesson", LESSON, "ann")
        assert (grade.auto_score, grade.manual_score, grade.score) == (2.0, 1.5, 1.5)
        assert gb.find_comment("batchnorm_forward", "lesson", LESSON, "ann").manual_comment == "see me"
        submission = gb.find_submission(LESSON, "ann")
        assert submission.extension == timedelta(days=2)
        assert submission.id == submission_id


def test_make_clean_never_takes_what_the_grader_wrote_for_what_a_person_set(db):
    """`make clean` deletes a gradebook `grade` alone filled (`by_hand`), regrades included, and keeps one
    holding a manual score, before and after a regrade."""
    for points in (0, None):
        gradebook.record([result("ann", points, datetime(2024, 1, 1)), result("bob", points)], db)
        assert set_by_hand(db[len("sqlite:///"):]) == {}
    with Gradebook(db) as gb:
        gb.find_grade("bn_inference", "lesson", LESSON, "ann").manual_score = 1.5
        gb.db.commit()
    gradebook.record([result("ann", 0)], db)
    assert set_by_hand(db[len("sqlite:///"):]) == {"manual score or extra credit": [f"ann/{LESSON}/bn_inference"]}


# The gradebook as the one source of a published grade (gradebook/published.py): what a person
# set in nbgrader (manual scores, extra credit, comments) and the late penalty are what the course
# publishes; the results as graded stay as they were.

def test_manual_scores_extra_credit_and_comments_are_published(db):
    graded = [result("ann", points=0), result("bob")]
    gradebook.record(graded, db)
    with Gradebook(db) as gb:
        gb.find_grade("bn_inference", "lesson", LESSON, "ann").manual_score = 1.5
        gb.find_grade("bn_running_stats", "lesson", LESSON, "bob").extra_credit = 0.5
        gb.find_comment("batchnorm_inference", "lesson", LESSON, "ann").manual_comment = "  close: see me  "
        gb.find_comment("batchnorm_forward", "lesson", LESSON, "ann").manual_comment = "look at the axis"
        gb.find_comment("batchnorm_backward", "lesson", LESSON, "ann").manual_comment = "   "  # blank: nothing said
        gb.db.commit()
    views = published.read(db, [("ann", LESSON), ("bob", LESSON), ("cid", LESSON)])
    assert sorted(v["student"] for v in views) == ["ann", "bob"]  # cid was never recorded
    ann, bob = published.apply(graded, views, cell_order)
    points = {i.grade_id: (i.points, i.graded_points) for i in ann.items}
    assert points["bn_inference"] == (1.5, 0)
    assert {k: v for k, v in points.items() if k != "bn_inference"} == {g: (0, None) for g, _ in load_master(LESSON).items
                                                                         if g != "bn_inference"}
    assert ann.comments == [["batchnorm_forward", "look at the axis"], ["batchnorm_inference", "close: see me"]]
    assert bob.raw_score == graded[1].raw_score + 0.5 and bob.comments == []
    with Gradebook(db) as gb:  # the same numbers nbgrader's own export reads
        assert gb.find_submission(LESSON, "ann").score == ann.score
        assert gb.find_submission(LESSON, "bob").score == bob.score
    assert all(i.graded_points is None for r in graded for i in r.items) and graded[0].comments == []  # left as graded


def test_the_feedback_page_shows_the_persons_score_and_comment_escaped():
    graded = result("ann", points=0)
    view = {"student": "ann", "lesson": LESSON, "penalty": 0.0, "seconds_late": 0.0,
            "grades": {"bn_inference": [0.0, 2.0, None]}, "comments": [["batchnorm_inference", "<b>nice</b> & fixed"]]}
    page = report.feedback_page(published.apply([graded], [view])[0])
    assert "2 / 2<br><small>set by your grader; the autograder gave 0</small>" in page
    assert "Comments from your grader" in page and "&lt;b&gt;nice&lt;/b&gt; &amp; fixed" in page
    assert "Comments from your grader" not in report.feedback_page(graded)


def test_what_the_grader_decided_needs_no_manual_grade(db):
    gradebook.record([result("ann", points=0), result("bob")], db)
    with Gradebook(db) as gb:
        grades = [g for s in gb.find_assignment(LESSON).submissions for n in s.notebooks for g in n.grades]
    assert len(grades) == 3 * len(load_master(LESSON).items)
    assert not any(g.needs_manual_grade for g in grades)


def test_a_run_records_each_score_of_new_and_already_recorded_students_alike(db):
    gradebook.record([result("ann", points=0)], db)
    gradebook.record([result("ann", points=1), result("bob", points=2)], db)
    with Gradebook(db) as gb:
        scores = {(s.student.id, g.cell.name): (g.auto_score, g.needs_manual_grade)
                  for s in gb.find_assignment(LESSON).submissions for n in s.notebooks for g in n.grades}
    items = load_master(LESSON).items
    for student, points in (("ann", 1.0), ("bob", 2.0), ("template", None)):
        assert [scores[student, g] for g, _ in items] == [(points or p, False) for g, p in items], student


def test_a_class_read_in_several_queries_is_recorded_whole(db, monkeypatch):
    """Students beyond one SQL ``IN`` list (500; here 2) are found, added and scored like the first."""
    monkeypatch.setattr(gradebook, "IN_LIST", 2)
    students = [f"s{k}" for k in range(5)]
    gradebook.record([result(s, points=0) for s in students[:3]], db)
    gradebook.record([result(s, points=1) for s in students], db)
    with Gradebook(db) as gb:
        submissions = gb.find_assignment(LESSON).submissions
        assert sorted(s.student.id for s in submissions) == sorted(students + ["template"])
        items = load_master(LESSON).items
        for s in submissions:
            assert [g.auto_score for n in s.notebooks for g in sorted(n.grades, key=lambda g: g.cell.name)] \
                == [p if s.student.id == "template" else 1.0 for _, p in sorted(items)], s.student.id


def statements_sent(db_url, results):
    """How many SQL statements `record` sends to record `results`."""
    sent = []

    def count(*args):
        sent.append(args[2])
    event.listen(Engine, "before_cursor_execute", count)
    try:
        gradebook.record(results, db_url)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return len(sent)


def test_recording_costs_as_many_statements_for_twelve_students_as_for_two(registered, tmp_path):
    """A remote PostgreSQL charges a round trip per statement: their number must not grow with
    the class, whether its submissions are new to the gradebook or regraded with other scores."""
    sent = {}
    for size in (2, 12):
        shutil.copy(registered, tmp_path / f"{size}.db")
        db = f"sqlite:///{tmp_path / f'{size}.db'}"
        sent[size] = [statements_sent(db, [result(f"s{k}", points=points) for k in range(size)]) for points in (0, 1)]
    assert sent[12] == sent[2], sent


def test_changed_points_update_the_gradebook_with_one_note(db):
    items = dict(load_master(LESSON).items)
    items["bn_inference"] += 1  # the master's points changed from 2 to 3
    del items["bn_running_stats"]  # an item removed from the master
    items["bn_new_item"] = 1.0  # and one added
    changed = list(items.items())
    recorded, notes = gradebook.record([result("ann", items=changed), result("bob", items=changed)], db)
    assert len(recorded) == 2
    assert len(notes) == 1 and "bn_inference 2 -> 3" in notes[0] and "bn_running_stats removed" in notes[0] \
        and "bn_new_item added" in notes[0], notes
    with Gradebook(db) as gb:
        cells = {c.name: c.max_score for c in gb.find_notebook("lesson", LESSON).grade_cells}
        assert cells == items
        bob = gb.find_submission(LESSON, "bob")
        assert bob.score == bob.max_score == sum(items.values())
        # a submission recorded before the change has the new cell too, ungraded
        with pytest.raises(MissingEntry):
            gb.find_grade("bn_new_item", "lesson", LESSON, "template")
        assert gb.find_submission(LESSON, "template").max_score == sum(items.values())
    assert gradebook.record([result("ann", items=changed)], db)[1] == []  # said once, not on every run


def test_a_failure_midway_leaves_the_gradebook_as_it_was(db, monkeypatch):
    gradebook.record([result(s, points=0) for s in ("ann", "bob", "cid")], db)
    before = snapshot(db)
    calls, original = [], gradebook._record_submission

    def third_fails(gb, r, *args):
        calls.append(r.student)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        original(gb, r, *args)

    monkeypatch.setattr(gradebook, "_record_submission", third_fails)
    with pytest.raises(KeyboardInterrupt):
        gradebook.record([result(s, timestamp=datetime(2024, 1, 1)) for s in ("ann", "bob", "cid", "dan")], db)
    assert len(calls) == 3
    assert snapshot(db) == before
    with Gradebook(db) as gb:
        assert "dan" not in {s.id for s in gb.students}


def test_a_lesson_registered_by_another_run_meanwhile_is_reloaded(db, tmp_path, monkeypatch):
    """Two runs register the same lesson: the one that loses the race finds the winner's."""
    other = f"sqlite:///{tmp_path / 'other.db'}"
    Gradebook(other).close()  # an empty gradebook: the lesson is new to it
    original, raced = gradebook._ensure_lesson, []

    def stale_lookup(name):  # what our run saw before the other run committed
        raise MissingEntry(name)

    def race(gb, lesson, notebook, cells):
        if not raced:  # the other run commits the same lesson between our look-up and our insert
            raced.append(lesson)
            with Gradebook(other) as winner, gradebook._deferred_commits(winner) as commit:
                original(winner, lesson, notebook, cells)
                commit()
            monkeypatch.setattr(gb, "find_assignment", stale_lookup)
        return original(gb, lesson, notebook, cells)

    monkeypatch.setattr(gradebook, "_ensure_lesson", race)
    recorded, notes = gradebook.record([result("ann")], other)
    assert raced == [LESSON] and len(recorded) == 1 and notes == []
    with Gradebook(other) as gb:
        assert [a.name for a in gb.assignments] == [LESSON]
        assert gb.find_submission(LESSON, "ann").score == sum(p for _, p in load_master(LESSON).items)


@pytest.mark.slow
def test_the_gradebook_url_never_reaches_a_command_line(tmp_path, monkeypatch):
    seen, run = [], subprocess.run

    def spy(argv, **kwargs):
        seen.append(" ".join(map(str, argv)))
        return run(argv, **kwargs)

    monkeypatch.setattr(nbgrader_cmd.subprocess, "run", spy)
    secret_place = tmp_path / "s3cret-gradebook.db"
    recorded, _ = gradebook.record([result("ann")], f"sqlite:///{secret_place}")
    assert len(recorded) == 1 and any("generate_assignment" in argv for argv in seen)
    assert not [argv for argv in seen if "s3cret" in argv]


@pytest.mark.parametrize("url, printed", [
    ("postgresql://grader:hunter2@db.example/course", "postgresql://grader:***@db.example/course"),
    ("postgresql://grader@db.example/course?password=hunter2&sslmode=require",
     "postgresql://grader@db.example/course?password=***&sslmode=require"),
    ("postgresql://grader:hunter2@db.example:notaport/course", gradebook.UNREADABLE),
    ("postgresql://grader:hun@ter2@db.example/course", gradebook.UNESCAPED_AT),  # '@' should be %40
    ("sqlite:////srv/course/gradebook.db", "sqlite:////srv/course/gradebook.db"),
])
def test_the_printed_gradebook_url_hides_the_password(url, printed):
    assert gradebook.shown(url) == printed


@pytest.mark.parametrize("url, driver_said", [
    ("postgresql://grader@db/course?password=hunter2", 'password "hunter2" refused'),
    ("postgresql://grader:hunter2@db/course", "user grader:hunter2 unknown"),
    ("postgresql://grader:hun@ter2@db/course", 'could not translate host name "ter2@db"'),
    ("postgresql://grader:hunter2@db/course", ""),  # a driver error with no message at all
])
def test_a_gradebook_failure_never_repeats_the_password(url, driver_said):
    from sqlalchemy.exc import OperationalError
    said = gradebook.failure(OperationalError("SELECT 1", {}, Exception(driver_said)), url)
    assert said.startswith("the gradebook ") and "could not be written (" in said
    assert "hunter2" not in said and "ter2" not in said


def grade_faked(monkeypatch, tmp_path, db_url, results=None):
    """`grade` of an empty class whose grading is faked to `results` (default: ann, full marks),
    the gradebook step real; returns (status, stdout, stderr, argv of every process started)."""
    import autograder.grading.grade
    results = [result("ann")] if results is None else results

    def fake(*args, **kwargs):
        if isinstance(results, BaseException):
            raise results
        return results, []
    monkeypatch.setattr(autograder.grading.grade, "grade_class", fake)
    started, popen = [], subprocess.Popen

    def spy(argv, **kwargs):
        started.append(" ".join(map(str, argv)))
        return popen(argv, **kwargs)
    monkeypatch.setattr(gradebook_process.subprocess, "Popen", spy)
    (tmp_path / "class").mkdir(exist_ok=True)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.grade(tmp_path / "class", Options(out=tmp_path / "out", workers=1, db=db_url, quiet=True))
    return status, out.getvalue(), err.getvalue(), started


@pytest.mark.slow
def test_an_unreachable_gradebook_is_one_line_and_never_shows_the_password(tmp_path, monkeypatch):
    status, out, err, started = grade_faked(monkeypatch, tmp_path, "postgresql://grader:hunter2@127.0.0.1:1/course")
    assert status == cli.EXIT_FAILED
    assert err.startswith("error: the gradebook postgresql://grader:***@127.0.0.1:1/course could not be written (")
    assert err.endswith(f"; nothing was written; the graded submissions are kept in {tmp_path / 'out' / '.results'}, "
                        "so the same command then only records and writes.\n") and err.count("\n") == 1
    assert not (tmp_path / "out" / "grades.csv").exists()  # no grade is published that the gradebook does not hold
    assert started and "hunter2" not in out + err + "".join(started)  # the URL goes to the helper on its stdin


@pytest.mark.parametrize("url, said", [
    ("no-such-dialect://x/y", "is not a database URL"),
    ("postgresql://grader:hunter2@db.example:notaport/course", "is not a database URL"),
    ("sqlite:///{tmp}/a-file/gradebook.db", "could not be written (File exists: "),
])
@pytest.mark.slow
def test_a_gradebook_that_cannot_be_opened_is_one_line(tmp_path, monkeypatch, url, said):
    (tmp_path / "a-file").write_text("a file where the gradebook's folder should be")
    status, _, err, _ = grade_faked(monkeypatch, tmp_path, url.format(tmp=tmp_path))
    assert status == cli.EXIT_FAILED and said in err and err.count("\n") == 1 and "hunter2" not in err


@pytest.mark.slow
def test_a_run_that_grades_nothing_never_opens_the_gradebook(tmp_path, monkeypatch):
    db = tmp_path / "gradebook.db"
    status, _, err, started = grade_faked(monkeypatch, tmp_path, f"sqlite:///{db}", results=KeyboardInterrupt())
    assert status == cli.EXIT_INTERRUPTED and "grading was interrupted" in err
    assert started and not db.exists()  # the helper was started, told "no results", and left
    status, _, err, _ = grade_faked(monkeypatch, tmp_path, f"sqlite:///{db}", results=[])
    assert status == 2 and not db.exists()
    with gradebook_process.GradebookProcess(f"sqlite:///{db}") as books:  # let it import all, then say "none"
        books.proc.stdin.close()
        assert books.proc.wait(timeout=120) == 0 and not db.exists()


def test_an_interrupted_gradebook_step_stops_the_helper_before_it_says_so(tmp_path, monkeypatch):
    books = gradebook_process.GradebookProcess(f"sqlite:///{tmp_path / 'gradebook.db'}")

    def interrupted(request):
        raise KeyboardInterrupt
    monkeypatch.setattr(books.proc, "communicate", interrupted)
    with books, pytest.raises(KeyboardInterrupt):
        books.record([result("ann")])
    assert books.proc.returncode in (128 + signal.SIGTERM, -signal.SIGTERM)  # asked to stop; it did at once
    assert not (tmp_path / "gradebook.db").exists()


def session_processes(sid):
    """pid -> command line of every live process of session `sid`."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return found


def grader_registering_a_lesson(tmp_path, ctrl_c):
    """A `grade` run (ann's notebook, a new gradebook) started with SIGINT at `ctrl_c`
    ("SIG_DFL" as in a terminal's foreground, "SIG_IGN" as under nohup or in a script's
    background), whatever pytest inherited, and caught while its gradebook helper runs nbgrader
    generate_assignment. Returns (the grader's Popen, the helper's scratch folder)."""
    variant = next(v for v in normalizing_inputs.VARIANTS if v.name == "correct-different")
    (tmp_path / "class" / "ann" / normalizing_inputs.LESSON).mkdir(parents=True)
    (tmp_path / "class" / "ann" / normalizing_inputs.LESSON / "lesson.ipynb").write_bytes(
        build(normalizing_inputs.LESSON, variant))
    with_sigint = "import os, signal, sys; signal.signal(signal.SIGINT, getattr(signal, sys.argv[1])); " \
                  "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"  # the disposition survives exec
    grader = subprocess.Popen([sys.executable, "-c", with_sigint, ctrl_c, "-m", "autograder", "grade",
                               str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                               "--db", f"sqlite:///{tmp_path / 'gradebook.db'}", "-q"], cwd=ROOT, text=True,
                              start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (nbgrader := [c for c in session_processes(grader.pid).values() if "generate_assignment" in c]):
        if grader.poll() is not None or time.monotonic() > deadline:
            grader.kill()
            pytest.fail(f"nbgrader never ran: {grader.communicate()}")
        time.sleep(0.01)
    return grader, Path(re.search(r"--CourseDirectory\.release_directory=(\S+)", nbgrader[0])[1]).parent


def stop_session(grader):
    """Kill whatever is left of the grader's session."""
    for pid in session_processes(grader.pid):
        os.kill(pid, signal.SIGKILL)
    grader.kill()
    grader.communicate()


@pytest.mark.parametrize("signum, to_group", [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGHUP, False),
                                              (signal.SIGKILL, False)])
@pytest.mark.slow
def test_a_grader_stopped_while_nbgrader_registers_a_lesson_leaves_nothing_running(tmp_path, signum, to_group):
    """Ctrl-C (to the terminal's process group), SIGTERM or SIGHUP while the gradebook's helper
    runs nbgrader generate_assignment (every first run of a term): one line, exit 130, no
    process of the run left, and no grades in the gradebook. SIGKILL: no word and no clean-up
    can happen, but the helper and its nbgrader command die with the grader."""
    db = tmp_path / "gradebook.db"
    grader, scratch = grader_registering_a_lesson(tmp_path, "SIG_DFL")
    try:
        (os.killpg if to_group else os.kill)(grader.pid, signum)
        out, err = grader.communicate(timeout=60)
        if signum != signal.SIGKILL:
            assert grader.returncode == cli.EXIT_INTERRUPTED, err
            assert err.startswith("error: interrupted (") and "while updating the gradebook" in err
            assert err.count("\n") == 1
        for _ in range(50):  # well before nbgrader would have finished on its own
            left = session_processes(grader.pid)
            if not left:
                break
            time.sleep(0.01)
        assert not left, left
        assert signum == signal.SIGKILL or not scratch.exists()  # the helper's scratch gradebook and release
    finally:
        stop_session(grader)
    if db.exists():
        with Gradebook(f"sqlite:///{db}") as gb:
            assert gb.students == []


def test_a_grader_that_ignores_ctrl_c_ignores_it_in_the_gradebook_step_too(tmp_path):
    """Started with SIGINT ignored (nohup, a script's `&`), the grader goes on through a Ctrl-C
    to its process group, and so must its helper's nbgrader command: once, it alone died and
    the run ended "could not add lesson" (exit 3) with nothing in the gradebook."""
    grader, _ = grader_registering_a_lesson(tmp_path, "SIG_IGN")
    try:
        os.killpg(grader.pid, signal.SIGINT)
        out, err = grader.communicate(timeout=120)
    finally:
        stop_session(grader)
    assert grader.returncode == 0 and "could not add lesson" not in out + err, (out, err)
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        assert [s.id for s in gb.students] == ["ann"]
        assert gb.find_submission(normalizing_inputs.LESSON, "ann").score > 0


def test_the_helper_dies_with_the_grader(tmp_path):
    """A grader killed outright (SIGKILL: no cleanup runs) takes its gradebook helper with it."""
    grader = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from autograder.gradebook.process import GradebookProcess\n"
        "books = GradebookProcess('sqlite:///' + sys.argv[2]); print(books.proc.pid, flush=True); time.sleep(60)"),
        str(ROOT), str(tmp_path / "gradebook.db")], stdout=subprocess.PIPE, text=True)
    helper = int(grader.stdout.readline())
    grader.kill()
    grader.wait()
    grader.stdout.close()
    for _ in range(500):
        if not Path(f"/proc/{helper}").exists() or "State:\tZ" in Path(f"/proc/{helper}/status").read_text():
            break
        time.sleep(0.01)
    else:
        os.kill(helper, signal.SIGKILL)
        pytest.fail("the gradebook helper outlived its grader")
    assert not (tmp_path / "gradebook.db").exists()


@pytest.mark.parametrize("content, problem", [
    (STAMP, None),
    ("2024-03-01 10:30:00.123456 Europe/Paris", None),  # the same moment written in another zone
    ("not a time", "holds no time"),
    ("", "holds no time"),
    ("9" * 2000, "larger than"),
    (b"\xff\xfe", "not UTF-8"),
    ("symlink", "timestamp.txt is a symbolic link; it was not read"),
    ("folder", "timestamp.txt is a folder; it was not read"),
])
def test_a_submission_time_comes_from_timestamp_txt_else_the_file_time(tmp_path, content, problem):
    notebook = tmp_path / "lesson.ipynb"
    notebook.write_text("{}")
    os.utime(notebook, (1_700_000_000, 1_700_000_000))
    stamp = tmp_path / "timestamp.txt"
    if content == "symlink":
        (tmp_path / "elsewhere.txt").write_text(STAMP)
        stamp.symlink_to(tmp_path / "elsewhere.txt")
    elif content == "folder":
        stamp.mkdir()
    else:
        stamp.write_bytes(content if isinstance(content, bytes) else content.encode())
    when, found = submission_time(tmp_path, notebook)
    if problem is None:
        assert (when, found) == (datetime(2024, 3, 1, 9, 30, 0, 123456), None)
    else:
        assert problem in found
        assert when == datetime.utcfromtimestamp(1_700_000_000)


# ---------------------------------------------------------------------------------------
# A real class graded with `python -m autograder grade` from another folder, on a copy of
# the course's nbgrader configuration; nbgrader's own commands then run on what it wrote.

def nbgrader(*args, cwd):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=nbgrader_cmd.with_venv_on_path(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    base = tmp_path_factory.mktemp("course")
    course, elsewhere, submitted = base / "course", base / "elsewhere", base / "course" / "build" / "submitted"
    course.mkdir()
    elsewhere.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    (course / "solutions").symlink_to(ROOT / "solutions")  # nbgrader registers lessons from the masters
    variants = {v.name: v for v in normalizing_inputs.VARIANTS}
    lesson = normalizing_inputs.LESSON
    for student, variant in [("ann", "correct-different"), ("bob", "scales-by-variance")]:
        (submitted / student / lesson).mkdir(parents=True)
        (submitted / student / lesson / "lesson.ipynb").write_bytes(build(lesson, variants[variant]))
    (submitted / "ann" / lesson / "timestamp.txt").write_text(STAMP)  # as nbgrader collect leaves them
    (submitted / "ann" / lesson / "submission_secret.txt").write_text("ab" * 64)
    os.utime(submitted / "bob" / lesson / "lesson.ipynb", (1_700_000_000, 1_700_000_000))
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out):
        mp.setattr(nbgrader_cmd, "ROOT", course)  # the course root, for everything nbgrader-shaped
        mp.chdir(elsewhere)
        status = cli.main(["grade", str(submitted), "--out", str(base / "grades"), "--workers", "2"])
    return dict(course=course, elsewhere=elsewhere, lesson=lesson, status=status, printed=out.getvalue(),
                db=f"sqlite:///{course / 'build' / 'gradebook.db'}")


def test_grading_from_another_folder_fills_the_course_gradebook(graded_course):
    g = graded_course
    assert g["status"] == 0, g["printed"]
    assert not (g["elsewhere"] / "build").exists() and not list(g["elsewhere"].glob("*.db"))
    assert f"gradebook: {g['db']}" in g["printed"]
    with Gradebook(g["db"]) as gb:
        scores = {s.student.id: (s.score, s.max_score) for s in gb.find_assignment(g["lesson"]).submissions}
    grades = {row["student"]: row for row in csv.DictReader((g["course"].parent / "grades" / "grades.csv").open())}
    assert set(scores) == {"ann", "bob"}
    assert scores["ann"][0] == scores["ann"][1] > scores["bob"][0]
    for student, (score, _) in scores.items():
        assert f"{score:g}" in grades[student].values(), grades[student]


def test_nbgrader_export_shows_the_submission_times(graded_course):
    g = graded_course
    # from another folder: the course's nbgrader_config.py names its gradebook by an absolute path
    nbgrader("export", "--to=export.csv", f"--CourseDirectory.root={g['course']}", cwd=g["elsewhere"])
    rows = {r["student_id"]: r for r in csv.DictReader((g["elsewhere"] / "export.csv").open())}
    assert rows["ann"]["timestamp"] == "2024-03-01 09:30:00.123456"
    assert rows["bob"]["timestamp"] == str(datetime.utcfromtimestamp(1_700_000_000))


def test_the_autograded_notebooks_are_the_graded_submissions_without_hidden_tests(graded_course):
    g = graded_course
    path = g["course"] / "build" / "autograded" / "ann" / g["lesson"] / "lesson.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    text = path.read_text()
    assert "sum((x - mu[j, 0]) ** 2 for x in X[j])" in text  # ann's own answer
    assert "HIDDEN TESTS" not in text and "hidden_check" not in text
    outputs = [c.outputs[0].text for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert outputs and all(o.startswith("correct") for o in outputs)


def test_release_feedback_then_generate_feedback_work_as_in_nbgrader(graded_course, tmp_path):
    g = graded_course
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    course_id = "training-deep-networks"
    released = exchange / course_id / "feedback"
    ann_page = hashlib.md5(("ab" * 64 + "lesson").encode()).hexdigest() + ".html"  # what fetch_feedback looks for

    nbgrader("release_feedback", g["lesson"], f"--Exchange.root={exchange}", cwd=g["course"])
    pages = {p.name: p.read_text() for p in released.glob("*.html")}
    assert len(pages) == 2 and ann_page in pages
    assert f"{g['lesson']}: feedback for ann" in pages[ann_page]  # the course's own page

    nbgrader("generate_feedback", g["lesson"], "--force", cwd=g["course"])
    html = (g["course"] / "build" / "feedback" / "ann" / g["lesson"] / "lesson.html").read_text()
    assert "HIDDEN TESTS" not in html and "hidden_check" not in html
    with Gradebook(g["db"]) as gb:
        submission = gb.find_submission(g["lesson"], "ann")
        score, max_score = submission.score, submission.max_score
    assert f"Score: {score:.1f} / {max_score:.1f}" in html  # nbgrader read the grades from the gradebook
    assert html.count("correct: ") == len(load_master(g["lesson"]).items)  # and the grader's verdicts
    nbgrader("release_feedback", g["lesson"], f"--Exchange.root={exchange}", cwd=g["course"])
    assert (released / ann_page).read_text() == html


def tree_digest(folder):
    """relative path -> bytes of every file under `folder` (empty when it does not exist)."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def test_a_class_recorded_into_another_gradebook_stays_out_of_the_courses_folders(graded_course, tmp_path):
    """`--db` elsewhere: nbgrader's files of that class go beside its outputs, never into the
    course's autograded/feedback folders, so the course's release_feedback cannot send them."""
    g = graded_course
    course_files = {name: tree_digest(g["course"] / "build" / name) for name in ("autograded", "feedback")}
    assert course_files["feedback"]  # the course's own class is there
    big, submitted = tmp_path / "big", tmp_path / "class"
    (submitted / "zed" / g["lesson"]).mkdir(parents=True)
    shutil.copy(g["course"] / "build" / "submitted" / "ann" / g["lesson"] / "lesson.ipynb", submitted / "zed" / g["lesson"])
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out):
        mp.setattr(nbgrader_cmd, "ROOT", g["course"])
        mp.chdir(g["elsewhere"])
        status = cli.main(["grade", str(submitted), "--out", str(big), "--db", f"sqlite:///{big / 'big.db'}",
                           "--workers", "1"])
    assert status == 0, out.getvalue()
    assert {name: tree_digest(g["course"] / "build" / name) for name in course_files} == course_files
    assert (big / "nbgrader" / "autograded" / "zed" / g["lesson"] / "lesson.ipynb").is_file()
    assert (big / "nbgrader" / "feedback" / "zed" / g["lesson"] / "lesson.html").is_file()
    assert f"nbgrader's files: {big / 'nbgrader' / 'autograded'}" in out.getvalue()
    with Gradebook(g["db"]) as gb:  # nor into the course's gradebook
        assert "zed" not in {s.id for s in gb.students}
