"""`make clean` never deletes an instructor's grades or a class's submissions unasked: it refuses
while build/gradebook.db holds anything a person set in nbgrader (or cannot be read) or
build/submitted/ holds submissions other than the sample class; FORCE=1 deletes anyway, and
everything the grader makes again goes as before."""
import os
import shutil
import subprocess
from datetime import datetime

import pytest
from nbgrader.api import Gradebook

from autograder.authoring.guard import SAMPLE_CLASS_MARKER, guard
from autograder.gradebook import nbgrader_cmd
from autograder.worker.course import ROOT

LESSON = "02_batch_norm"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A gradebook as `python -m autograder grade` leaves one: auto scores, timestamps, late penalties,
    students by id alone (made once: a new gradebook runs nbgrader's alembic)."""
    path = tmp_path_factory.mktemp("graded") / "gradebook.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", nbgrader_cmd.with_venv_on_path()["PATH"])  # nbgrader runs this environment's alembic
        with Gradebook(f"sqlite:///{path}") as gb:
            gb.add_assignment(LESSON)
            gb.add_notebook("lesson", LESSON)
            gb.add_grade_cell("batchnorm_forward", "lesson", LESSON, max_score=2, cell_type="code")
            gb.add_solution_cell("batchnorm_forward", "lesson", LESSON)
            for student in ["ann", "bob"]:
                gb.update_or_create_student(student)
                gb.add_submission(LESSON, student, timestamp=datetime(2026, 1, 5, 9))
                grade = gb.find_grade("batchnorm_forward", "lesson", LESSON, student)
                grade.auto_score, grade.needs_manual_grade = 2.0, False
                gb.find_submission_notebook("lesson", LESSON, student).late_submission_penalty = 0.0
            gb.db.commit()
    return path


@pytest.fixture
def graded_gradebook(graded):
    """`graded_gradebook(path, hand_set)`: the graded gradebook copied to `path`, then `hand_set(gb)` applied
    as a person in the formgrader or with ``nbgrader db`` would."""
    def made(path, hand_set=None):
        shutil.copy(graded, path)
        if hand_set:
            with Gradebook(f"sqlite:///{path}") as gb:
                hand_set(gb)
                gb.db.commit()
        return path
    return made


def manual_score(gb):
    gb.find_grade("batchnorm_forward", "lesson", LESSON, "bob").manual_score = 1.5


#: What a person can set in nbgrader -> (how, what the refusal names).
HAND_SET = {
    "manual score": (manual_score, "manual score or extra credit (1): bob/02_batch_norm/batchnorm_forward"),
    "manual score of 0": (lambda gb: setattr(gb.find_grade("batchnorm_forward", "lesson", LESSON, "ann"),
                                             "manual_score", 0.0), "manual score or extra credit (1): ann/"),
    "extra credit": (lambda gb: setattr(gb.find_grade("batchnorm_forward", "lesson", LESSON, "ann"),
                                        "extra_credit", 1.0), "manual score or extra credit (1): ann/"),
    "comment": (lambda gb: setattr(gb.find_comment("batchnorm_forward", "lesson", LESSON, "ann"),
                                   "manual_comment", "see me"), "comment (1): ann/02_batch_norm/batchnorm_forward"),
    "extension": (lambda gb: gb.grant_extension(LESSON, "bob", days=2), "extension (1): bob/02_batch_norm"),
    "flag": (lambda gb: setattr(gb.find_submission_notebook("lesson", LESSON, "ann"), "flagged", True),
             "flag (1): ann/02_batch_norm"),
    "due date": (lambda gb: setattr(gb.find_assignment(LESSON), "duedate", datetime(2026, 1, 4)),
                 f"due date (1): {LESSON}"),
    "roster": (lambda gb: setattr(gb.find_student("ann"), "email", "ann@example.org"),
               "roster entry (name, email or LMS id) (1): ann"),
}


def refusal(tmp_path, **where):
    """What `guard` says, run from `tmp_path` as make clean runs it (None: it lets the deletion go)."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        guard(None, "make clean", **where)
    except SystemExit as refused:
        return str(refused.code)
    finally:
        os.chdir(cwd)
    return None


@pytest.mark.parametrize("what", HAND_SET)
def test_anything_a_person_set_in_the_gradebook_stops_make_clean_and_is_named(tmp_path, what, graded_gradebook):
    how, named = HAND_SET[what]
    db = graded_gradebook(tmp_path / "gradebook.db", how)
    before = db.read_bytes()
    said = refusal(tmp_path, gradebook=db)
    assert said is not None, f"a gradebook holding a {what} would be deleted"
    assert said.startswith("make clean refused: the gradebook gradebook.db holds what a person set") and \
        named in said and "`make clean FORCE=1`" in said and len(said.splitlines()) == 1, said
    assert db.read_bytes() == before, "checking the gradebook changed it"


def test_each_kind_set_is_one_line_and_a_long_list_is_cut(tmp_path, graded_gradebook):
    def many(gb):
        manual_score(gb)
        gb.grant_extension(LESSON, "bob", hours=1)
        for i in range(7):
            gb.update_or_create_student(f"s{i}", first_name=f"S{i}")
    said = refusal(tmp_path, gradebook=graded_gradebook(tmp_path / "gradebook.db", many))
    lines = said.splitlines()
    assert len(lines) == 3 and all(line.startswith("make clean refused: ") for line in lines), said
    assert "roster entry (name, email or LMS id) (7): s0, s1, s2, s3, s4 and 2 more." in said


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_comment_and_what_the_grader_writes_are_not_held(tmp_path, empty, graded_gradebook):
    def blank_comment(gb):
        gb.find_comment("batchnorm_forward", "lesson", LESSON, "ann").manual_comment = empty
    assert refusal(tmp_path, gradebook=graded_gradebook(tmp_path / "gradebook.db", blank_comment)) is None


@pytest.mark.parametrize("content, why", [
    (b"not a database, a file someone wrote", "file is not a database"),
    (b"SQLite format 3\x00" + b"\x00" * 84 + b"garbage", "(DatabaseError)"),
])
def test_a_gradebook_that_cannot_be_read_stops_make_clean(tmp_path, content, why):
    (tmp_path / "gradebook.db").write_bytes(content)
    said = refusal(tmp_path, gradebook=tmp_path / "gradebook.db")
    assert said is not None and "cannot be checked" in said and why in said and "`make clean FORCE=1`" in said, said
    assert (tmp_path / "gradebook.db").read_bytes() == content


def test_a_database_that_is_not_nbgrader_s_cannot_be_checked(tmp_path):
    import sqlite3
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        db.execute("CREATE TABLE grades (student TEXT, score REAL)")
    said = refusal(tmp_path, gradebook=tmp_path / "gradebook.db")
    assert said is not None and "it is not nbgrader's gradebook" in said, said


def test_an_empty_database_file_holds_nothing(tmp_path):
    (tmp_path / "gradebook.db").touch()
    assert refusal(tmp_path, gradebook=tmp_path / "gradebook.db") is None
    assert (tmp_path / "gradebook.db").stat().st_size == 0, "the check created tables"


def submitted_class(folder, sample=False):
    """`folder` as nbgrader collect leaves a class (ann's and bob's lesson), the sample class if `sample`."""
    for student in ["ann", "bob"]:
        (folder / student / LESSON).mkdir(parents=True)
        (folder / student / LESSON / "lesson.ipynb").write_text("{}")
        (folder / student / LESSON / "timestamp.txt").write_text("2026-01-05 09:00:00.000000 UTC")
    if sample:
        (folder / SAMPLE_CLASS_MARKER).write_text("the sample class\n")
    return folder


def test_submissions_that_are_not_the_sample_class_stop_make_clean(tmp_path):
    submitted_class(tmp_path / "submitted")
    said = refusal(tmp_path, submitted=tmp_path / "submitted")
    assert said == ("make clean refused: submitted/ holds submissions (2) that are not the sample class (no "
                    ".sample_class at its top), which it would delete: ann/02_batch_norm, bob/02_batch_norm. "
                    "`make clean FORCE=1` deletes them anyway."), said


def test_the_sample_class_an_empty_submitted_folder_or_none_go(tmp_path):
    submitted_class(tmp_path / "submitted", sample=True)
    (tmp_path / "empty" / "ann" / LESSON).mkdir(parents=True)
    for folder in ["submitted", "empty", "absent"]:
        assert refusal(tmp_path, submitted=tmp_path / folder) is None, folder


def test_a_file_or_a_link_alone_in_submitted_is_held(tmp_path):
    (tmp_path / "submitted").mkdir()
    (tmp_path / "submitted" / "ann").symlink_to(tmp_path)
    assert "holds submissions (1)" in refusal(tmp_path, submitted=tmp_path / "submitted")


def test_every_reason_is_named_at_once(tmp_path, graded_gradebook):
    graded_gradebook(tmp_path / "gradebook.db", manual_score)
    submitted_class(tmp_path / "submitted")
    said = refusal(tmp_path, gradebook=tmp_path / "gradebook.db", submitted=tmp_path / "submitted")
    assert len(said.splitlines()) == 2 and "manual score" in said and "submitted/ holds" in said, said


# make clean itself, in a folder holding only the Makefile, this tree's .venv and build/

def make_clean(folder, *args, venv=True):
    shutil.copy(ROOT / "Makefile", folder / "Makefile")
    if venv and not (folder / ".venv").exists():
        (folder / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "PYTEST"))}
    return subprocess.run(["make", "--no-print-directory", "clean", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


def test_make_clean_keeps_manual_grades_and_real_submissions_unless_forced(tmp_path, graded_gradebook):
    build = tmp_path / "build"
    build.mkdir()
    db = graded_gradebook(build / "gradebook.db", manual_score)
    submitted_class(build / "submitted")
    (build / "grades").mkdir()
    kept = db.read_bytes()
    done = make_clean(tmp_path)
    assert done.returncode != 0, "make clean deleted a gradebook holding a manual score"
    assert "make clean refused: the gradebook build/gradebook.db holds what a person set" in done.stderr, done.stderr
    assert "make clean refused: build/submitted/ holds submissions (2)" in done.stderr, done.stderr
    assert db.read_bytes() == kept and (build / "submitted" / "ann" / LESSON / "lesson.ipynb").is_file()
    done = make_clean(tmp_path, "FORCE=1")
    assert done.returncode == 0 and not build.exists(), done.stderr


def test_make_clean_removes_what_the_grader_makes_again(tmp_path, graded_gradebook):
    build = tmp_path / "build"
    build.mkdir()
    graded_gradebook(build / "gradebook.db")
    submitted_class(build / "submitted", sample=True)
    (build / "feedback" / "ann").mkdir(parents=True)
    done = make_clean(tmp_path)
    assert done.returncode == 0 and not build.exists(), done.stderr


def test_make_clean_without_the_venv_refuses_rather_than_deletes_unchecked(tmp_path, graded_gradebook):
    graded_gradebook((tmp_path / "build").mkdir() or tmp_path / "build" / "gradebook.db", manual_score)
    done = make_clean(tmp_path, venv=False)
    assert done.returncode != 0 and "cannot be checked without .venv" in done.stderr, done.stderr
    assert (tmp_path / "build" / "gradebook.db").is_file()
    assert make_clean(tmp_path, "FORCE=1", venv=False).returncode == 0 and not (tmp_path / "build").exists()
