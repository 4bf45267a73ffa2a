"""Every master runs top to bottom and passes its own tests; every untouched student copy
scores zero."""
import os
import sys
from pathlib import Path

from nbgrader.validator import Validator

from autograder.worker.course import lessons

ROOT = Path(__file__).resolve().parents[2]


def test_masters_run_top_to_bottom_under_nbval(masters_under_nbval):
    """Experiments must not fail (LESSONKIT_STRICT); test cells, tagged raises-exception so that a
    student's Run All goes past them, are held to passing by the Validator test below. The run is shared
    with the lesson-number tests (tests/support/nbval_run.py)."""
    done = masters_under_nbval.done
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert sorted(masters_under_nbval.notebooks) == lessons()


def _validate(path, invert):
    env_path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env_path}"
    try:
        return Validator(invert=invert).validate(str(path))
    finally:
        os.environ["PATH"] = env_path


def test_master_passes_all_its_tests(lesson):
    assert _validate(ROOT / "solutions" / lesson / "lesson.ipynb", invert=False) == {}


def test_untouched_student_copy_scores_zero(lesson):
    assert _validate(ROOT / "notebooks" / lesson / "lesson.ipynb", invert=True) == {}
