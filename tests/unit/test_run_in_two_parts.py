"""`make test`'s runner (tests/run_in_two_parts.py): both parts run and are reported, a part's failure fails
the whole, and a runner stopped midway stops both pytests (each tearing down), leaving none running."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: One quick test of each part.
ONE_OF_EACH = ["tests/unit/grading/test_per_student.py::test_students_get_their_own_hidden_inputs_and_the_same_visible_ones",
               "tests/unit/test_layout.py::test_lessonkit_imports_only_shipped_folders"]

pytestmark = pytest.mark.slow  # two pytest sessions start


def runner(tmp_path, *args):
    """The runner in a process group of its own, as a terminal's foreground job is."""
    return subprocess.Popen([sys.executable, str(ROOT / "tests" / "run_in_two_parts.py"), f"--rest-log={tmp_path / 'rest.log'}",
                             "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'bt'}", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def test_both_parts_run_and_their_outputs_are_printed(tmp_path):
    out, _ = runner(tmp_path, *ONE_OF_EACH).communicate(timeout=300)
    assert "pytest --part=grading: exit 0; pytest --part=rest: exit 0" in out, out
    assert out.count(" passed") == 2 and "==== pytest --part=rest" in out, out


def test_a_part_that_fails_fails_the_run(tmp_path):
    proc = runner(tmp_path, ONE_OF_EACH[1])  # nothing of it is in the grading part: pytest exits 5
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1 and "pytest --part=grading: exit 5; pytest --part=rest: exit 0" in out, out


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_a_runner_stopped_midway_stops_both_pytests_and_outlives_neither(tmp_path, stop):
    """Ctrl-C reaches the terminal's whole foreground process group; SIGTERM, the runner alone."""
    proc = runner(tmp_path, *ONE_OF_EACH)
    deadline = time.monotonic() + 60
    while len(children := _children(proc.pid)) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    if stop == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, out
    assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == [], out


def _children(pid):
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
