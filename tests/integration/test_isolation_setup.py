"""How the sandbox meets the machine it grades on (issue 21).

- A course whose environment and folder are reached through symbolic links (a shared `.venv`
  linked into the checkout, the course under a linked folder: common set-ups) grades as any
  other; the sandbox used to recreate the linked `.venv` in the jail without its target, and
  every student scored 0, silently.
- Where the kernel refuses the namespaces, `grade` stops with one line and writes nothing,
  unless the instructor accepts the weaker isolation (`--allow-weak-isolation`). The refusal is
  real: the grader runs in a user namespace of its own whose limit of nested ones is 0.
"""
import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.authoring.catalogue import ROOT, Variant, build
from autograder.grading.grade import load_master
from tests.support.corpus import LESSON
from tests.support.course_copy import copy_course


def correct_class(folder):
    submission = folder / "alice" / LESSON
    submission.mkdir(parents=True)
    (submission / "lesson.ipynb").write_bytes(build(LESSON, Variant("correct")))
    return folder


def alice_points(out):
    """alice's points per item in out/grades.csv, and full marks of the lesson."""
    with open(out / "grades.csv", newline="") as f:
        alice = next(row for row in csv.DictReader(f) if row["student"] == "alice")
    full = {f"{LESSON}/{gid}": points for gid, points in load_master(LESSON).items}
    return {key: float(alice[key]) for key in full}, full


def test_linked_environment_and_course_folder_grade_in_full(tmp_path):
    real = copy_course(tmp_path / "real-course")
    (real / ".venv").symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    course = tmp_path / "course"
    course.symlink_to(real, target_is_directory=True)
    out = tmp_path / "out"
    done = subprocess.run([str(course / ".venv" / "bin" / "python"), "-m", "autograder", "grade",
                           str(correct_class(tmp_path / "class")), "--out", str(out), "--db", "", "--quiet"],
                          cwd=course, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "isolated by: namespaces" in done.stdout
    got, full = alice_points(out)
    assert got == full


def grade_where_namespaces_are_refused(folder, out, *options):
    """``python -m autograder grade`` in a user namespace that may create no other."""
    command = (f'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" -m autograder grade "$1" --out "$2" '
               f'--db "" --quiet {" ".join(options)}')
    return subprocess.run(["unshare", "--user", "--map-root-user", "sh", "-c", command, sys.executable, str(folder),
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux's unshare")
def test_refused_namespaces_stop_grading_unless_accepted(tmp_path):
    folder = correct_class(tmp_path / "class")
    stopped = grade_where_namespaces_are_refused(folder, tmp_path / "out")
    assert stopped.returncode == 5, stopped.stdout + stopped.stderr
    assert stopped.stderr.count("\n") == 1 and "--allow-weak-isolation" in stopped.stderr
    assert "namespaces" in stopped.stderr and "course tree" in stopped.stderr  # what is missing
    assert not (tmp_path / "out").exists()
    accepted = grade_where_namespaces_are_refused(folder, tmp_path / "out", "--allow-weak-isolation")
    assert accepted.returncode == 0, accepted.stdout[-2000:] + accepted.stderr[-2000:]
    assert "isolated by: process only" in accepted.stdout
    got, full = alice_points(tmp_path / "out")
    assert got == full
