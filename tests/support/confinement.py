"""The worker's confinement as tests that take a `confined` fixture (run cells, return (outcome,
the worker's folder)): `unit/worker/test_runner.py` runs them on a worker started alone,
`unit/worker/test_zygote.py` on one forked by a zygote, each with its own `confined`."""
import os
import sys
import time
from pathlib import Path

import pytest

from autograder.grading import scratch
from autograder.worker import runner
from autograder.worker.course import ROOT
from tests.support.processes import processes_naming

#: In the command line of every process a confinement test starts, to find survivors by
MARKER = "course-test-survivor"

#: What a test module takes with `from tests.support.confinement import *`: the tests
__all__ = [
           "test_worker_reaches_namespaces_with_a_process_limit",
           "test_course_tree_and_other_runs_are_out_of_sight",
           "test_public_code_and_python_are_read_only",
           "test_only_its_own_processes_are_visible_and_signals_reach_no_one",
           "test_detached_processes_die_with_the_worker",
           "test_fork_bomb_is_bounded",
           "test_symlinked_output_log_reaches_nothing",
           "test_folders_holding_exposed_paths_are_read_only_even_under_tmp",
           "test_memory_of_all_a_worker_starts_is_bounded",
           ]


def survivors():
    """Pids of live processes that carry MARKER in their argv."""
    return processes_naming(MARKER)


def printed(outcome, key):
    """The value a hostile cell printed as `key=value`."""
    lines = [line for line in outcome.log.splitlines() if line.startswith(key + "=")]
    assert lines, f"the cell printed no {key}=...: {outcome.log!r} {outcome.cell_errors}"
    return lines[-1].split("=", 1)[1]


def test_worker_reaches_namespaces_with_a_process_limit(confined):
    outcome, _ = confined("print('ok=1')")
    assert outcome.isolation == "namespaces"
    assert printed(outcome, "ok") == "1"


def test_course_tree_and_other_runs_are_out_of_sight(confined, tmp_path):
    other_run = Path(os.environ.get("TMPDIR", "/tmp")) / (scratch.PREFIX + "someone-else")
    outcome, _ = confined(f"""
import os
print("seen=" + ",".join(p for p in [{str(ROOT / 'solutions')!r}, {str(ROOT / 'nbgrader_config.py')!r},
      {str(ROOT / 'autograder' / 'judge')!r}, {str(ROOT / 'Makefile')!r}, {str(tmp_path / 'work' / 'other')!r},
      {str(other_run)!r}] if os.path.exists(p)))
""")
    assert printed(outcome, "seen") == ""


def test_public_code_and_python_are_read_only(confined, tmp_path):
    targets = [tmp_path / "public" / "autograder" / "worker" / "wire.py", Path(sys.prefix) / "marker", ROOT / "lessonkit" / "marker"]
    outcome, _ = confined(f"""
written = []
for path in {[str(t) for t in targets]!r}:
    try:
        with open(path, "a") as f:
            f.write("# changed")
        written.append(path)
    except OSError:
        pass
print("written=" + ",".join(written))
""")
    assert printed(outcome, "written") == ""
    assert "changed" not in (tmp_path / "public" / "autograder" / "worker" / "wire.py").read_text()
    assert not (ROOT / "lessonkit" / "marker").exists()


def test_only_its_own_processes_are_visible_and_signals_reach_no_one(confined):
    outcome, _ = confined("""
import os, signal
print("pids=" + ",".join(p for p in os.listdir("/proc") if p.isdigit()))
print("parent=" + str(os.getppid()))
try:
    os.kill(-1, signal.SIGKILL) if os.fork() == 0 else os.wait()
except OSError:
    pass
print("alive=1")
""")
    assert printed(outcome, "pids") == "1"
    assert printed(outcome, "parent") == "0"
    assert printed(outcome, "alive") == "1"


@pytest.mark.slow
def test_detached_processes_die_with_the_worker(confined):
    outcome, _ = confined(f"""
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["{MARKER}", "60"])
    os._exit(0)
os.wait()
print("detached=1")
""")
    assert printed(outcome, "detached") == "1"
    time.sleep(0.2)
    assert survivors() == []


@pytest.mark.slow
def test_fork_bomb_is_bounded(confined):
    outcome, _ = confined(f"""
import os, time
n = 0
try:
    for _ in range(1000):
        if os.fork() == 0:
            os.execv("/bin/sleep", ["{MARKER}", "60"])
        n += 1
except OSError:
    pass
print("forked=" + str(n))
""")
    assert int(printed(outcome, "forked")) < runner.Limits().processes
    time.sleep(0.2)
    assert survivors() == []


def test_symlinked_output_log_reaches_nothing(confined, tmp_path):
    """The worker's folder is the worker's: whatever it leaves there, the grader never opens it."""
    victim = tmp_path / "victim.ipynb"
    victim.write_text("{}")
    outcome, workdir = confined(f"""
import os
for name in ["output.log", "plan.json"]:
    os.symlink({str(victim)!r}, name)
os._exit(1)
""")
    assert victim.read_text() == "{}"
    assert any("exited" in i for i in outcome.incidents)


def test_folders_holding_exposed_paths_are_read_only_even_under_tmp(confined, tmp_path):
    """The course and the worker's folders may live under /tmp (a clone there, pytest's tmp_path):
    the folders around them in the worker's private /tmp are read-only skeletons."""
    targets = [tmp_path / "nbgrader_config.py", tmp_path / "work" / "student" / "other.txt",
               Path(sys.prefix).parent / "marker.txt"]
    outcome, workdir = confined(f"""
made = []
for path in {[str(t) for t in targets]!r} + ["/tmp/mine.txt", "mine.txt"]:
    try:
        open(path, "a").close()
        made.append(path)
    except OSError:
        pass
print("made=" + ",".join(made))
""")
    assert printed(outcome, "made") == "/tmp/mine.txt,mine.txt"


@pytest.mark.skipif(os.geteuid() != 0, reason="per-worker cgroups are made only when grading as root")
@pytest.mark.slow
def test_memory_of_all_a_worker_starts_is_bounded(confined):
    """Each process has its own address-space limit; together they share one memory cgroup."""
    limits = runner.Limits(worker_memory_bytes=300 * 2**20)
    outcome, _ = confined("""
import os, numpy as np
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        hog = np.ones(120 * 2**20 // 8)  # 120 MiB, touched
        import time; time.sleep(2)
        os._exit(0)
    children.append(pid)
killed = sum(os.WIFSIGNALED(os.waitpid(pid, 0)[1]) for pid in children)
print("killed=" + str(killed))
""", limits)
    assert any("SIGKILL" in i for i in outcome.incidents) or int(printed(outcome, "killed")) > 0, outcome
