"""No make target overwrites a student's work: notebooks filled with answers survive
`make release`, `make demo`, `make work` (what `make lab` runs first), `make bundle` and
`make clean`, each run in a copy of the course tree."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from autograder.authoring.catalogue import reference_answers
from autograder.worker.course import lessons

ROOT = Path(__file__).resolve().parents[2]
#: What the notebook-writing targets read; the copy shares .venv with this tree.
COURSE = ["Makefile", "pyproject.toml", "requirements.lock", "nbgrader_config.py", "solutions", "notebooks",
          "lessonkit", "autograder"]


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    for rel in COURSE:
        src, dst = ROOT / rel, root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(src, dst)
    (root / ".venv").symlink_to(ROOT / ".venv")
    return root


def make(course, *args):
    """`make ARGS` in the copy; `-o` keeps make from ever rebuilding the shared .venv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "PYTEST"))}
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)


def fill_in(folder):
    """Answer every lesson in `folder` (<lesson>/lesson.ipynb) with the reference; return the bytes written."""
    written = {}
    for lesson in lessons():
        path = folder / lesson / "lesson.ipynb"
        nb = json.loads(path.read_text())
        answers = reference_answers(lesson)
        for cell in nb["cells"]:
            gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                cell["source"] = answers[gid].splitlines(keepends=True)
        path.write_text(json.dumps(nb, indent=1) + "\n")
        written[path] = path.read_bytes()
    return written


def assert_intact(written):
    for path, data in written.items():
        assert path.read_bytes() == data, f"{path} was overwritten"


def test_release_and_demo_refuse_to_replace_answers(course):
    written = fill_in(course / "notebooks")
    for target in ["release", "demo"]:
        done = make(course, target)
        assert done.returncode != 0, f"make {target} went through over filled-in notebooks"
        assert "refusing to overwrite" in done.stderr and "FORCE=1" in done.stderr, done.stderr
        for lesson in lessons():
            assert f"notebooks/{lesson}/lesson.ipynb: answer cell" in done.stderr, done.stderr
        assert_intact(written)
    assert not (course / "build" / "submitted").exists(), "demo went on past the refused release"
    done = make(course, "release", "FORCE=1")
    assert done.returncode == 0, done.stderr
    for lesson in lessons():
        assert (course / "notebooks" / lesson / "lesson.ipynb").read_bytes() == \
            (ROOT / "notebooks" / lesson / "lesson.ipynb").read_bytes()


def test_release_replaces_a_notebook_that_was_only_run(course):
    path = course / "notebooks" / lessons()[0] / "lesson.ipynb"
    nb = json.loads(path.read_text())
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["ran\n"]}]
    path.write_text(json.dumps(nb, indent=1))
    done = make(course, "release")
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == (ROOT / "notebooks" / lessons()[0] / "lesson.ipynb").read_bytes()


def test_work_is_made_once_and_never_replaced(course):
    done = make(course, "work")
    assert done.returncode == 0, done.stderr
    for lesson in lessons():
        assert (course / "work" / lesson / "lesson.ipynb").read_bytes() == \
            (course / "notebooks" / lesson / "lesson.ipynb").read_bytes()
    shown = sorted(p.relative_to(course / "notebooks") for p in (course / "notebooks").glob("*/figures/*.png"))
    assert shown and all((course / "work" / p).read_bytes() == (course / "notebooks" / p).read_bytes() for p in shown)
    written = fill_in(course / "work")
    first = lessons()[0]
    shutil.rmtree(course / "work" / first)  # a lesson released later is copied in
    del written[course / "work" / first / "lesson.ipynb"]
    done = make(course, "work")
    assert done.returncode == 0, done.stderr
    assert f"created work/{first}/lesson.ipynb" in done.stdout and "(your work)" in done.stdout, done.stdout
    assert_intact(written)


def test_bundle_and_clean_keep_a_student_s_bundle(course):
    assert make(course, "bundle").returncode == 0
    bundle = course / "build" / "student-bundle"
    written = fill_in(bundle / "notebooks")
    for target in ["bundle", "clean"]:
        done = make(course, target)
        assert done.returncode != 0 and "refusing to overwrite" in done.stderr, (target, done.stderr)
        assert f"`make {target} FORCE=1`" in done.stderr, done.stderr
        assert_intact(written)
    assert make(course, "clean", "FORCE=1").returncode == 0
    assert not bundle.exists()
