"""`grade --db postgresql://...` against a real PostgreSQL server the tests start themselves
(`autograder.authoring.local_postgres`, as `make bench` does), stopped when the module ends."""
import csv
import os
import subprocess
import sys
import time

import pytest
from nbgrader.api import Gradebook
from sqlalchemy import create_engine, text

from autograder.authoring import local_postgres
from autograder.authoring.catalogue import build, normalizing_inputs
from autograder.gradebook import nbgrader_cmd
from autograder.grading.grade import load_master
from tests.support.course_copy import copy_course

LESSON = normalizing_inputs.LESSON
USER, PASSWORD = local_postgres.USER, local_postgres.PASSWORD
#: A correct and two mistaken submissions, so the scores differ by student.
VARIANTS = ["correct-different", "scales-by-variance", "rate-one-over-lambda"]


@pytest.fixture(autouse=True)
def venv_on_path(monkeypatch):
    """nbgrader creates gradebooks with this environment's `alembic`."""
    monkeypatch.setenv("PATH", nbgrader_cmd.with_venv_on_path()["PATH"])


@pytest.fixture(scope="module")
def server():
    """A PostgreSQL server on 127.0.0.1: yields ``url(database)`` -> URL without the password."""
    if local_postgres.server_binaries() is None and os.geteuid() != 0:
        pytest.skip("PostgreSQL is not installed and installing it needs root: run `make test` as root "
                    "(it runs apt-get install postgresql), or install the package postgresql")
    try:
        with local_postgres.server(["sample", "concurrent"]) as url:
            yield url
    except local_postgres.Unavailable as exc:
        pytest.fail(str(exc))


def write_class(folder, students):
    """``folder/<student>/LESSON/lesson.ipynb``, each student always the same variant."""
    variants = {v.name: v for v in normalizing_inputs.VARIANTS}
    for student in students:
        variant = variants[VARIANTS[sum(map(ord, student)) % len(VARIANTS)]]
        (folder / student / LESSON).mkdir(parents=True)
        (folder / student / LESSON / "lesson.ipynb").write_bytes(build(LESSON, variant))
    return folder


def grade_command(course, submissions, db_url, out):
    """The course's `grade`, run from a copy of the course; the password only in the environment."""
    return dict(args=[sys.executable, "-m", "autograder", "grade", str(submissions), "--db", db_url,
                      "--out", str(out)],
                cwd=course, env=dict(nbgrader_cmd.with_venv_on_path(), PGPASSWORD=PASSWORD),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def lesson_totals(grades_csv):
    return {r["student"]: float(r[f"{LESSON}/total"]) for r in csv.DictReader(open(grades_csv))}


def gradebook_scores(db_url):
    with Gradebook(db_url.replace(f"{USER}@", f"{USER}:{PASSWORD}@")) as gb:
        return {s.student.id: s.score for s in gb.find_assignment(LESSON).submissions}


def test_a_class_is_graded_into_postgresql(server, tmp_path):
    course = copy_course(tmp_path / "course")
    submissions = write_class(tmp_path / "class", ["s0", "s1", "s2"])
    done = subprocess.run(**grade_command(course, submissions, server("sample"), tmp_path / "out"))
    assert done.returncode == 0, done.stdout
    assert f"gradebook: {server('sample')}" in done.stdout and PASSWORD not in done.stdout
    ours = lesson_totals(tmp_path / "out" / "grades.csv")
    assert len(set(ours.values())) == 3  # the three variants score differently
    assert gradebook_scores(server("sample")) == ours
    assert not (course / "build" / "gradebook.db").exists()  # SQLite stays the default, unused here


def waiting_on(engine, table):
    with engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM pg_locks l JOIN pg_class t ON l.relation = t.oid "
                              "WHERE t.relname = :table AND NOT l.granted"), {"table": table}).scalar()


def test_two_runs_at_once_lose_nothing_and_duplicate_nothing(server, tmp_path):
    """Both runs are held at a lock until both wait, twice: when they look up the lessons the
    gradebook knows (neither does yet), and when their transactions start, so both register
    the same lesson and the two students they share at the same moment."""
    course = copy_course(tmp_path / "course")
    first = write_class(tmp_path / "first", ["s0", "s1", "s2", "s3"])
    second = write_class(tmp_path / "second", ["s2", "s3", "s4", "s5"])
    url = server("concurrent")
    Gradebook(url.replace(f"{USER}@", f"{USER}:{PASSWORD}@")).close()  # the tables, empty, to lock
    admin = create_engine(url, connect_args={"password": PASSWORD})
    runs = []
    try:
        for stage in range(2):
            with admin.connect() as c:
                c.execute(text("LOCK TABLE assignment IN ACCESS EXCLUSIVE MODE"))
                if stage == 0:
                    runs = [subprocess.Popen(**grade_command(course, folder, url, tmp_path / f"out-{folder.name}"))
                            for folder in (first, second)]
                deadline = time.monotonic() + 300
                while waiting_on(admin, "assignment") < 2:
                    assert all(r.poll() is None for r in runs), [r.communicate()[0] for r in runs]
                    assert time.monotonic() < deadline, "the two runs never both reached the gradebook"
                    time.sleep(0.05)
                c.commit()  # both go on at once
        outputs = [r.communicate(timeout=300)[0] for r in runs]
    finally:
        for r in runs:
            if r.poll() is None:
                r.kill()
        admin.dispose()
    assert [r.returncode for r in runs] == [0, 0], outputs

    items = len(load_master(LESSON).items)
    students = [f"s{k}" for k in range(6)]
    engine = create_engine(url, connect_args={"password": PASSWORD})
    with engine.connect() as c:
        def rows(sql):
            return c.execute(text(sql)).all()
        assert rows("SELECT name FROM assignment") == [(LESSON,)]
        assert rows("SELECT count(*) FROM notebook") == [(1,)]
        assert rows("SELECT count(*) FROM grade_cells") == [(items,)]
        assert sorted(rows("SELECT id FROM student")) == [(s,) for s in students]
        assert sorted(rows("SELECT student_id, count(*) FROM submitted_assignment GROUP BY student_id")) \
            == [(s, 1) for s in students]
        assert sorted(rows("SELECT a.student_id, count(*) FROM submitted_notebook n "
                           "JOIN submitted_assignment a ON n.assignment_id = a.id GROUP BY a.student_id")) \
            == [(s, 1) for s in students]
        per_cell = rows("SELECT a.student_id, g.cell_id, count(*) FROM grade g "
                        "JOIN submitted_notebook n ON g.notebook_id = n.id "
                        "JOIN submitted_assignment a ON n.assignment_id = a.id GROUP BY a.student_id, g.cell_id")
        assert len(per_cell) == len(students) * items and {n for _, _, n in per_cell} == {1}
    engine.dispose()
    ours = {**lesson_totals(tmp_path / "out-first" / "grades.csv"),
            **lesson_totals(tmp_path / "out-second" / "grades.csv")}
    assert gradebook_scores(url) == ours
