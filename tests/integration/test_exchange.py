"""nbgrader's own workflow around `grade`, with nbgrader's real commands on a local exchange.

The instructor releases a lesson with a due date, two students fetch it, answer and submit,
the instructor collects, grades with the course's `python -m autograder grade`, exports and
releases the feedback, and each student fetches a page that shows the score. The course's
late rule (nbgrader's AssignLatePenalties plugin, set in nbgrader_config.py) halves the
score of a late submission; a student granted an extension is on time when regraded.
"""
import csv
import json
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from nbgrader.api import Gradebook

from autograder.authoring.catalogue import build, normalizing_inputs
from autograder.gradebook import nbgrader_cmd
from autograder.gradebook import record as gradebook
from autograder.grading.grade import load_master
from autograder.grading.results import ItemResult, SubmissionResult
from autograder.worker.course import ROOT
from tests.support.course_copy import copy_course
from tests.support.lab import start_lab, stop
from tests.support.network import free_port

COURSE_ID = "training-deep-networks"  # the course's c.CourseDirectory.course_id
LESSON = normalizing_inputs.LESSON
#: A course's own late rule, in its nbgrader_config.py as nbgrader's documentation shows.
LATE_RULE = '''
from nbgrader.plugins import LateSubmissionPlugin


class HalfOffWhenLate(LateSubmissionPlugin):
    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return score / 2


c.AssignLatePenalties.plugin_class = HalfOffWhenLate
'''
VARIANTS = {"ann": "correct-different", "bob": "scales-by-variance"}  # bob: one item wrong, and late
TOKEN = "formgrader-test-token"
COMMENT = "Partial credit: you divided by the variance <sigma^2>; scale by its square root."


def run(argv, cwd, env=None):
    done = subprocess.run(argv, cwd=cwd, env=env or nbgrader_cmd.with_venv_on_path(), capture_output=True,
                          text=True)
    return done


def nbgrader(*args, cwd, env=None):
    done = run([sys.executable, "-m", "nbgrader", *args], cwd, env)
    assert done.returncode == 0, f"nbgrader {args[0]}: {done.stdout}{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    base = tmp_path_factory.mktemp("exchange")
    course, exchange = base / "course", base / "exchange"
    copy_course(course)
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(LATE_RULE)
    exchange.mkdir()
    exchange.chmod(0o777)
    on_exchange = [f"--Exchange.root={exchange}", f"--CourseDirectory.course_id={COURSE_ID}"]

    # the instructor: a due date an hour ago, then the release
    due = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)
    nbgrader("db", "assignment", "add", LESSON, f"--duedate={due:%Y-%m-%d %H:%M:%S} UTC", cwd=course)
    nbgrader("release_assignment", LESSON, *on_exchange, cwd=course)

    # each student in their own home: fetch, answer, submit
    variants = {v.name: v for v in normalizing_inputs.VARIANTS}
    homes = {}
    for student, variant in VARIANTS.items():
        home = homes[student] = base / "home" / student
        home.mkdir(parents=True)
        env = dict(nbgrader_cmd.with_venv_on_path(), HOME=str(home), USER=student, JUPYTERHUB_USER=student)
        as_student = [*on_exchange, f"--CourseDirectory.student_id={student}"]
        nbgrader("fetch_assignment", LESSON, *as_student, cwd=home, env=env)
        (home / LESSON / "lesson.ipynb").write_bytes(build(LESSON, variants[variant]))
        nbgrader("submit", LESSON, *as_student, cwd=home, env=env)

    # the instructor: collect, grade, grant ann two days (nbgrader's extensions are on a graded
    # submission), grade again, export, release the feedback
    nbgrader("collect", LESSON, *on_exchange, cwd=course)
    grade = [sys.executable, "-m", "autograder", "grade", "build/submitted", "--out"]
    first = run(grade + [str(base / "before-extension")], cwd=course)
    db = f"sqlite:///{course / 'build' / 'gradebook.db'}"
    with Gradebook(db) as gb:
        gb.grant_extension(LESSON, "ann", days=2)
    graded = run(grade + [str(base / "grades")], cwd=course)
    nbgrader("export", "--to=export.csv", cwd=course)
    nbgrader("release_feedback", LESSON, *on_exchange, cwd=course)
    for student, home in homes.items():
        env = dict(nbgrader_cmd.with_venv_on_path(), HOME=str(home), USER=student, JUPYTERHUB_USER=student)
        nbgrader("fetch_feedback", LESSON, *on_exchange, f"--CourseDirectory.student_id={student}", cwd=home, env=env)
    return dict(course=course, homes=homes, first=first, graded=graded, db=db, grades=base / "grades" / "grades.csv",
                before_extension=base / "before-extension" / "grades.csv", base=base, on_exchange=on_exchange)


def formgrader(port, method, path, body=None):
    """One call to Formgrader's own REST API (what its pages call), as the instructor; returns the JSON answer."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/formgrader/api/{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def hand_graded(round_trip):
    """After `round_trip`: a TA gives bob's wrong item a manual score and his answer a comment in
    Formgrader (its API, on the instructor's JupyterLab), runs nbgrader generate_feedback, and
    the instructor grades again as before (unchanged: from kept results), then generates
    nbgrader's feedback again and regrades everything (--force), then releases the feedback."""
    course, base, on_exchange = round_trip["course"], round_trip["base"], round_trip["on_exchange"]
    port = free_port()
    lab = start_lab(course, port, instructor=True, token=TOKEN)
    try:
        bob = next(s for s in formgrader(port, "GET", f"submitted_notebooks/{LESSON}/lesson") if s["student"] == "bob")
        lost = next(g for g in formgrader(port, "GET", f"grades?submission_id={bob['id']}")
                    if g["auto_score"] < g["max_score"])
        formgrader(port, "PUT", f"grade/{lost['id']}", {"manual_score": lost["max_score"] - 0.5})
        answer = next(c for c in formgrader(port, "GET", f"comments?submission_id={bob['id']}")
                      if c["name"] == "normalize_inputs")
        formgrader(port, "PUT", f"comment/{answer['id']}", {"manual_comment": COMMENT})
    finally:
        stop(lab)
    page = course / "build" / "feedback" / "bob" / LESSON / "lesson.html"
    nbgrader("generate_feedback", LESSON, "--force", cwd=course)
    nbgraders_first = page.read_bytes()
    grade = [sys.executable, "-m", "autograder", "grade", "build/submitted", "--out", str(base / "after-manual")]
    after_manual = run(grade, cwd=course)
    ours = page.read_bytes()
    nbgrader("generate_feedback", LESSON, "--force", cwd=course)
    nbgraders_second = page.read_bytes()
    forced = run(grade + ["--force"], cwd=course)
    nbgrader("export", "--to=export-after-manual.csv", cwd=course)
    nbgrader("release_feedback", LESSON, *on_exchange, cwd=course)
    home = round_trip["homes"]["bob"]
    env = dict(nbgrader_cmd.with_venv_on_path(), HOME=str(home), USER="bob", JUPYTERHUB_USER="bob")
    nbgrader("fetch_feedback", LESSON, *on_exchange, "--CourseDirectory.student_id=bob", cwd=home, env=env)
    return dict(lost=lost, after_manual=after_manual, forced=forced, nbgraders_first=nbgraders_first, ours=ours,
                nbgraders_second=nbgraders_second, kept=page.read_bytes(), out=base / "after-manual",
                export=course / "export-after-manual.csv", fetched=list((home / LESSON / "feedback").glob("*/lesson.html")))


def test_the_collected_class_is_graded_as_nbgrader_laid_it_out(round_trip):
    graded, course = round_trip["graded"], round_trip["course"]
    assert graded.returncode == 0, graded.stdout + graded.stderr
    for student in VARIANTS:
        assert (course / "build" / "submitted" / student / LESSON / "timestamp.txt").is_file()
        assert (course / "build" / "feedback" / student / LESSON / "lesson.html").is_file()
    rows = {r["student"]: r for r in csv.DictReader(round_trip["grades"].open())}
    assert set(rows) == set(VARIANTS)


def test_the_late_submission_is_penalized_by_the_courses_rule_and_the_extension_counts(round_trip):
    rows = {r["student"]: r for r in csv.DictReader(round_trip["grades"].open())}
    items = [c for c in rows["bob"] if c.startswith(f"{LESSON}/") and c.rsplit("/", 1)[1] not in
             ("total", "late_penalty")]
    raw = {s: sum(float(rows[s][c]) for c in items) for s in rows}
    assert 0 < raw["bob"] < raw["ann"]  # bob's mistake cost points before any penalty
    assert round_trip["first"].returncode == 0, round_trip["first"].stdout + round_trip["first"].stderr
    before = {r["student"]: r for r in csv.DictReader(round_trip["before_extension"].open())}
    assert float(before["ann"][f"{LESSON}/late_penalty"]) == raw["ann"] / 2  # late, before the extension
    assert float(rows["ann"][f"{LESSON}/late_penalty"]) == 0  # the regrade: within the extension
    assert float(rows["ann"][f"{LESSON}/total"]) == raw["ann"]
    assert float(rows["bob"][f"{LESSON}/late_penalty"]) == raw["bob"] / 2
    assert float(rows["bob"][f"{LESSON}/total"]) == raw["bob"] / 2
    with Gradebook(round_trip["db"]) as gb:
        bob = gb.find_submission_notebook("lesson", LESSON, "bob")
        assert bob.late_submission_penalty == raw["bob"] / 2
        assert gb.find_submission(LESSON, "bob").total_seconds_late > 3000
        assert gb.find_submission_notebook("lesson", LESSON, "ann").late_submission_penalty is None


def test_nbgrader_export_gives_the_scores_of_grades_csv(round_trip):
    ours = {r["student"]: r for r in csv.DictReader(round_trip["grades"].open())}
    exported = {r["student_id"]: r for r in csv.DictReader((round_trip["course"] / "export.csv").open())}
    assert set(exported) == set(ours)
    for student, row in exported.items():
        assert row["assignment"] == LESSON
        assert float(row["score"]) == float(ours[student][f"{LESSON}/total"]), student
        assert float(row["late_submission_penalty"]) == float(ours[student][f"{LESSON}/late_penalty"]), student
        assert float(row["max_score"]) == float(ours[student]["max_total"])


def test_each_student_fetches_feedback_that_shows_the_score(round_trip):
    ours = {r["student"]: r for r in csv.DictReader(round_trip["grades"].open())}
    for student, home in round_trip["homes"].items():
        pages = list((home / LESSON / "feedback").glob("*/lesson.html"))
        assert len(pages) == 1, pages
        page = pages[0].read_text()
        assert f"{LESSON}: feedback for {student}" in page
        assert f"{LESSON}: {ours[student][f'{LESSON}/total']} / {ours[student]['max_total']} points" in page
        penalty = ours[student][f"{LESSON}/late_penalty"]
        assert ("late penalty" in page) == (float(penalty) > 0)
        if float(penalty):
            assert f"late penalty {penalty} points" in page


def test_a_manual_grade_and_comment_reach_grades_csv_and_the_feedback_page(hand_graded):
    """What a TA sets in Formgrader is what the course publishes, through a regrade and a forced one."""
    for run_ in ("after_manual", "forced"):
        assert hand_graded[run_].returncode in (0, 3), hand_graded[run_].stdout + hand_graded[run_].stderr
    lost, out = hand_graded["lost"], hand_graded["out"]
    bob = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}["bob"]
    assert float(bob[f"{LESSON}/{lost['name']}"]) == lost["max_score"] - 0.5 != lost["auto_score"]
    page = (out / "feedback" / "bob" / f"{LESSON}.html").read_text()
    assert "Partial credit: you divided by the variance &lt;sigma^2&gt;" in page  # escaped, as everything quoted
    assert f"set by your grader; the autograder gave {lost['auto_score']:g}" in page
    assert f"{LESSON}: {bob[f'{LESSON}/total']} / {bob['max_total']} points" in page


def test_nbgrader_export_agrees_with_grades_csv_after_manual_grading(hand_graded):
    ours = {r["student"]: r for r in csv.DictReader((hand_graded["out"] / "grades.csv").open())}
    exported = {r["student_id"]: r for r in csv.DictReader(hand_graded["export"].open())}
    assert set(exported) == set(ours) == set(VARIANTS)
    for student, row in exported.items():
        items = [c for c in ours[student] if c.startswith(f"{LESSON}/") and c.rsplit("/", 1)[1] not in
                 ("total", "late_penalty")]
        assert float(row["raw_score"]) == sum(float(ours[student][c]) for c in items), student
        assert float(row["score"]) == float(ours[student][f"{LESSON}/total"]), student
        assert float(row["late_submission_penalty"]) == float(ours[student][f"{LESSON}/late_penalty"]), student
    assert float(exported["bob"]["late_submission_penalty"]) == float(exported["bob"]["raw_score"]) / 2  # still late


def test_nbgraders_feedback_is_kept_until_what_it_shows_changes(hand_graded):
    assert b"Partial credit: you divided by the variance" in hand_graded["nbgraders_first"]  # nbgrader's own page
    assert hand_graded["ours"] != hand_graded["nbgraders_first"]  # the regrade saw a change since it last wrote...
    assert b"Partial credit: you divided by the variance &lt;sigma^2&gt;" in hand_graded["ours"]  # ...and shows it
    assert hand_graded["kept"] == hand_graded["nbgraders_second"]  # nothing changed since: a forced regrade keeps it


def test_the_student_fetches_feedback_with_the_comment(hand_graded):
    assert len(hand_graded["fetched"]) == 1
    assert b"Partial credit: you divided by the variance" in hand_graded["fetched"][0].read_bytes()


DUE = datetime(2025, 3, 1, 17)


def course_with_penalty_method(method, tmp_path, monkeypatch):
    """A course whose nbgrader_config.py sets ``penalty_method``, and its gradebook's URL, LESSON due at DUE."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "solutions").symlink_to(ROOT / "solutions")  # registering the lesson reads its master
    config = (ROOT / "nbgrader_config.py").read_text() + f'\nc.LateSubmissionPlugin.penalty_method = "{method}"\n'
    (course / "nbgrader_config.py").write_text(config)
    monkeypatch.setattr(nbgrader_cmd, "ROOT", course)
    monkeypatch.setenv("PATH", nbgrader_cmd.with_venv_on_path()["PATH"])
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db) as gb:
        gb.add_assignment(LESSON, duedate=DUE)  # as `nbgrader db assignment add --duedate` leaves it
    return db


@pytest.mark.parametrize("method", ["zero", "none"])
def test_nbgraders_own_penalty_methods_apply_to_a_late_submission(method, tmp_path, monkeypatch):
    """``c.LateSubmissionPlugin.penalty_method`` as nbgrader documents it: "zero" takes every
    point of a late submission, "none" (nbgrader's default) none; on time, never a penalty."""
    db, due = course_with_penalty_method(method, tmp_path, monkeypatch), DUE
    items = load_master(LESSON).items
    late, on_time = (SubmissionResult(student, LESSON, [ItemResult(g, p, p) for g, p in items], timestamp=when)
                     for student, when in [("ann", due + timedelta(minutes=5)), ("bob", due - timedelta(days=1))])
    recorded, notes = gradebook.record([late, on_time], db)
    assert len(recorded) == 2 and notes == []
    full = sum(p for _, p in items)
    assert (late.penalty, late.score, late.seconds_late) == ((full, 0, 300) if method == "zero" else (0, full, 300))
    assert (on_time.penalty, on_time.score) == (0, full)
    with Gradebook(db) as gb:
        assert gb.find_assignment(LESSON).duedate == due  # the instructor's due date is kept
        assert gb.find_submission(LESSON, "ann").late_submission_penalty == late.penalty


def test_a_late_penalty_counts_the_manual_scores_as_nbgrader_does(tmp_path, monkeypatch):
    """"zero" takes the score a TA's manual grade left, not the auto score, on every regrade."""
    db = course_with_penalty_method("zero", tmp_path, monkeypatch)
    items = load_master(LESSON).items
    late = [SubmissionResult(student, LESSON, [ItemResult(g, p, p) for g, p in items], timestamp=DUE + timedelta(hours=1))
            for student in ("ann", "bob")]
    gradebook.record(late, db)
    (first, points), full = items[0], sum(p for _, p in items)
    with Gradebook(db) as gb:
        gb.find_grade(first, "lesson", LESSON, "ann").manual_score = points - 1
        gb.db.commit()
    gradebook.record(late, db)
    assert [r.penalty for r in late] == [full - 1, full]
    with Gradebook(db) as gb:
        assert [gb.find_submission(LESSON, s).late_submission_penalty for s in ("ann", "bob")] == [full - 1, full]
