"""The demo's course as nbgrader's formgrader shows it (through nbgrader's own API, which its pages
call): the sample class, written and graded as `make demo` does, counted as submitted and as
autograded, with the scores of grades.csv (issue 25: "Manage Assignments" said 0 submissions)."""
import csv
import io
import shutil
from contextlib import redirect_stdout

import pytest
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from autograder import cli
from autograder.authoring.catalogue import normalizing_inputs
from autograder.authoring.sample_class import HANDED_IN
from autograder.gradebook import nbgrader_cmd
from autograder.worker.course import ROOT

LESSON = normalizing_inputs.LESSON
STUDENTS = 3  # of the sample class, kept to grade quickly


@pytest.fixture(scope="module")
def demo_course(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    course = base / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for folder in ("solutions", "notebooks"):  # the formgrader lists the lessons of source/, each with its release
        (course / folder).symlink_to(ROOT / folder)
    config = nbgrader_cmd.course_config(course)
    submitted = course / config.CourseDirectory.submitted_directory
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out):
        mp.setattr(nbgrader_cmd, "ROOT", course)
        mp.chdir(course)
        assert cli.main(["sample-class"]) == cli.EXIT_OK, out.getvalue()  # the demo's folder, by default
        kept = sorted(p.parent.name for p in submitted.glob(f"*/{LESSON}"))[:STUDENTS]
        for student in submitted.iterdir():
            if student.is_dir() and student.name not in kept:
                shutil.rmtree(student)
        for student in kept:
            for lesson in (submitted / student).iterdir():
                if lesson.name != LESSON:
                    shutil.rmtree(lesson)
        status = cli.main(["grade", str(submitted), "--out", str(base / "grades"), "--workers", "2"])
    assert status in (cli.EXIT_OK, cli.EXIT_PROBLEMS), out.getvalue()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config, root=str(course)), config=config)
    grades = {row["student"]: float(row[f"{LESSON}/total"]) for row in csv.DictReader(open(base / "grades" / "grades.csv"))}
    return api, kept, grades


def test_manage_assignments_counts_the_sample_class(demo_course):
    api, kept, _ = demo_course
    assignment = next(a for a in api.get_assignments() if a["name"] == LESSON)
    assert assignment["num_submissions"] == len(kept) == STUDENTS
    # the demo releases to no exchange (notebooks/ is the release folder): nbgrader calls that a draft
    assert assignment["release_path"] == f"notebooks/{LESSON}"
    assert assignment["status"] == ("released" if LESSON in api.get_released_assignments() else "draft")


def test_manage_submissions_shows_each_graded_with_its_grades_csv_score(demo_course):
    api, kept, grades = demo_course
    submissions = {s["student"]: s for s in api.get_submissions(LESSON)}
    assert sorted(submissions) == kept
    for student, s in submissions.items():
        assert s["submitted"] and s["autograded"], f"{student} shows as waiting to be autograded"
        assert s["timestamp"] == HANDED_IN.isoformat()
        assert s["score"] == grades[student]
