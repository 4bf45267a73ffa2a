"""The zygote (autograder/worker/zygote.py): every guarantee of a worker holds for a forked one,
and the zygote gives its children nothing of its own."""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from autograder.grading import grade
from autograder.worker import runner
from autograder.worker.course import ROOT

# the confinement guarantees every worker holds, run here on workers forked by a zygote (the
# `confined` fixture below)
from tests.support.confinement import *  # noqa: F401,F403
from tests.support.confinement import MARKER, printed, survivors

# the confinement tests run in the quick loop on workers started alone (test_runner); forked again here
# they cost ~12 s, so the whole module is for `make test`
pytestmark = pytest.mark.slow

#: A process that lives a minute with MARKER in its command line (`sleep` refuses an extra argument)
SLEEPER = f'os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", "{MARKER}"])'
COURSE_FILE = ROOT / "solutions" / "02_batch_norm" / "lesson.ipynb"


@pytest.fixture()
def zygote(tmp_path):
    public = runner.prepare_public(tmp_path / "public")
    spawned = []
    with runner.Zygote(public, tmp_path / "zygote") as z:
        spawn = z.spawn
        z.spawn = lambda *a: spawned.append(spawn(*a)) or spawned[-1]
        z.spawned = spawned
        yield z
    subprocess.run(["pkill", "-KILL", "-f", MARKER], check=False)


@pytest.fixture()
def confined(tmp_path, zygote):
    """Run cells in a worker forked by the zygote; returns (outcome, the worker's folder)."""
    (tmp_path / "jail").mkdir(exist_ok=True)

    def run(source, limits=None, jail=True, name="student"):
        workdir = tmp_path / "work" / name / "lesson"
        outcome = runner.run([{"id": "attack", "source": source}], [], tmp_path / "public", workdir, limits,
                             jail=tmp_path / "jail" if jail else None, zygote=zygote)
        assert zygote.spawned and all(isinstance(w, runner.Forked) for w in zygote.spawned), "not forked"
        return outcome, workdir
    yield run


def open_fds(pid):
    """The paths of a process's open descriptors; one closed while they are listed is left out
    (a starting zygote opens and closes files as it imports)."""
    fds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            fds[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            pass
    return fds


@pytest.mark.parametrize("jail", [True, False], ids=["confined", "plain process"])
def test_a_child_has_only_its_pipes_not_the_zygotes_files(tmp_path, monkeypatch, jail):
    """The zygote holds a course file open; a worker it forks finds only its four pipes."""
    held = os.open(COURSE_FILE, os.O_RDONLY)
    os.set_inheritable(held, True)
    popen = subprocess.Popen

    def zygote_keeps_the_file(cmd, **kw):
        if str(cmd[3]).endswith("zygote.py"):
            kw["pass_fds"] = (*kw["pass_fds"], held)
        return popen(cmd, **kw)
    monkeypatch.setattr(runner.subprocess, "Popen", zygote_keeps_the_file)
    public = runner.prepare_public(tmp_path / "public")
    (tmp_path / "jail").mkdir()
    with runner.Zygote(public, tmp_path / "zygote") as z:
        os.close(held)
        assert str(COURSE_FILE) in open_fds(z.proc.pid).values()  # the test's premise
        outcome = runner.run([{"id": "look", "source": """
import os
found = []
for fd in sorted(int(fd) for fd in os.listdir("/proc/self/fd")):
    try:
        found.append(f"{fd}:{os.readlink('/proc/self/fd/%d' % fd)}")
    except OSError:
        pass  # the folder listdir had open
print("fds=" + ",".join(found))
"""}], [], public, tmp_path / "work", jail=tmp_path / "jail" if jail else None, zygote=z)
    seen = dict(entry.split(":", 1) for entry in printed(outcome, "fds").split(","))
    pipes = {fd: target for fd, target in seen.items() if target.startswith("pipe:")}
    assert sorted(pipes) == ["0", "1", "2", "3"], seen
    # the rest is what the worker opened itself (IPython's history, in its own folder)
    others = set(seen.values()) - set(pipes.values())
    assert all(target.startswith(str(tmp_path / "work") + "/") for target in others), seen


def test_a_crashing_child_leaves_the_zygote_serving(confined, zygote):
    outcome, _ = confined("import ctypes\nctypes.string_at(0)", name="crasher")
    assert any("SIGSEGV" in i for i in outcome.incidents), outcome.incidents
    outcome, _ = confined("import os\nos._exit(3)", name="quitter")
    assert any("exit status 3" in i for i in outcome.incidents), outcome.incidents
    outcome, _ = confined("print('ok=1')", name="next")
    assert printed(outcome, "ok") == "1"
    assert zygote.proc.poll() is None
    assert len(zygote.spawned) == 3


@pytest.mark.slow
def test_a_hanging_child_is_killed_with_what_it_started(confined, zygote):
    outcome, _ = confined(f"""
import os, sys, time
if os.fork() == 0:
    os.setsid()
    {SLEEPER}
time.sleep(60)
""", limits=runner.Limits(cell_seconds=2))
    assert any("timed out" in i for i in outcome.incidents), outcome.incidents
    time.sleep(0.2)
    assert survivors() == []
    assert zygote.proc.poll() is None


def test_children_die_with_the_zygote(tmp_path, zygote):
    """The grader gone mid-cell (its zygote killed): the worker and what it started go too."""
    import threading
    (tmp_path / "jail").mkdir()
    run = threading.Thread(target=runner.run, args=([{"id": "hang", "source": f"""
import os, sys, time
if os.fork() == 0:
    {SLEEPER}
time.sleep(60)
"""}], [], tmp_path / "public", tmp_path / "work", None, tmp_path / "jail", zygote))
    run.start()
    deadline = time.monotonic() + 60
    while not survivors() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert survivors(), "the cell never started its process"
    os.kill(zygote.proc.pid, signal.SIGKILL)
    run.join(timeout=30)
    assert not run.is_alive()
    time.sleep(0.2)
    assert survivors() == []


def test_the_zygote_is_gone_after_the_run(tmp_path, monkeypatch):
    from autograder.authoring.catalogue import build, catalogue
    variant = catalogue()["02_batch_norm"][0]
    for student in ["alice", "bob"]:
        folder = tmp_path / "class" / student / "02_batch_norm"
        folder.mkdir(parents=True)
        (folder / variant.filename).write_bytes(build("02_batch_norm", variant))
    started = []
    zygote_init = runner.Zygote.__init__

    def record(self, *a):
        zygote_init(self, *a)
        started.append(self.proc.pid)
    monkeypatch.setattr(runner.Zygote, "__init__", record)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    results, _ = grade.grade_class(tmp_path / "class")
    assert [r.isolation for r in results] == ["namespaces", "namespaces"]
    assert len(started) == 1
    assert not Path(f"/proc/{started[0]}").exists()
