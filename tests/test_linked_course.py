"""A course whose environment and folder are reached through symbolic links (a shared `.venv`
linked into the checkout, the course under a linked folder: common set-ups) grades as any
other. Issue 21: the sandbox recreated the linked `.venv` inside the jail without its target,
every worker failed with ModuleNotFoundError and every student scored 0, silently."""
import csv
import subprocess
import sys
from pathlib import Path

from autograder.grade import load_master
from tests.catalogue import Variant, build
from tests.course_copy import copy_course
from tests.corpus import LESSON


def test_linked_environment_and_course_folder_grade_in_full(tmp_path):
    real = copy_course(tmp_path / "real-course")
    (real / ".venv").symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    course = tmp_path / "course"
    course.symlink_to(real, target_is_directory=True)
    submission = tmp_path / "class" / "alice" / LESSON
    submission.mkdir(parents=True)
    (submission / "lesson.ipynb").write_bytes(build(LESSON, Variant("correct")))
    out = tmp_path / "out"
    done = subprocess.run([str(course / ".venv" / "bin" / "python"), "-m", "autograder", "grade",
                           str(tmp_path / "class"), "--out", str(out), "--db", "", "--quiet"],
                          cwd=course, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "isolated by: namespaces" in done.stdout
    with open(out / "grades.csv", newline="") as f:
        alice = next(row for row in csv.DictReader(f) if row["student"] == "alice")
    full = {f"{LESSON}/{gid}": points for gid, points in load_master(LESSON).items}
    assert {key: float(alice[key]) for key in full} == full
