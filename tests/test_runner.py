"""The worker's confinement, tried directly: hostile cells run by `runner.run` (no static
scan in the way), each checked from the outside."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import isolation, runner, scratch
from autograder.course import ROOT

MARKER = "course-test-survivor"


@pytest.fixture()
def confined(tmp_path):
    """Run cells in a confined worker; returns (outcome, the worker's folder)."""
    public = runner.prepare_public(tmp_path / "public")
    (tmp_path / "jail").mkdir()

    def run(source, limits=None):
        workdir = tmp_path / "work" / "student" / "lesson"
        outcome = runner.run([{"id": "attack", "source": source}], [], public, workdir, limits, jail=tmp_path / "jail")
        return outcome, workdir
    yield run
    subprocess.run(["pkill", "-KILL", "-f", MARKER], check=False)


def survivors():
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and MARKER.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


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
    targets = [tmp_path / "public" / "autograder" / "wire.py", Path(sys.prefix) / "marker", ROOT / "lessonkit" / "marker"]
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
    assert "changed" not in (tmp_path / "public" / "autograder" / "wire.py").read_text()
    assert not (ROOT / "lessonkit" / "marker").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the identity inside differs from the grader's only when grading as root")
def test_grading_as_root_runs_the_code_as_nobody(confined, tmp_path):
    """Issue 21: as root, uid 0 inside was uid 0 outside (owner of every file of the course) and
    /etc was exposed whole, shadow included. The code now runs as an unprivileged user that
    cannot open a root-only file even where it is exposed, and sees only what /etc must hold."""
    secret = tmp_path / "public" / "root-only.txt"
    secret.write_text("root's secret\n")
    secret.chmod(0o600)
    outcome, workdir = confined(f"""
import os
print("ids=" + ",".join(str(i) for i in os.getresuid() + os.getresgid() + tuple(os.getgroups())))
found = []
for path in ["/etc/shadow", "/etc/gshadow", "/etc/passwd", {str(secret)!r}]:
    try:
        found.append(path + ":" + open(path).read(40))
    except OSError as exc:
        found.append(path + ":" + type(exc).__name__)
print("read=" + ";".join(found))
print("etc=" + ",".join(sorted(os.listdir("/etc"))))
open("written-by-the-worker.txt", "w").write("its own folder stays writable")
""")
    assert "0" not in printed(outcome, "ids").split(",")
    assert "secret" not in printed(outcome, "read") and "root:" not in printed(outcome, "read")
    assert set(printed(outcome, "etc").split(",")) <= {Path(p).name for p in isolation.ETC}
    assert (workdir / "written-by-the-worker.txt").exists()


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


def test_interrupted_run_leaves_no_scratch_and_no_process(tmp_path):
    """SIGTERM in the middle of grading: scratch removed, workers gone."""
    from tests.catalogue import Variant, build
    folder = tmp_path / "class" / "alice" / "02_batch_norm"
    folder.mkdir(parents=True)
    hang = {"batchnorm_inference": "import time\ntime.sleep(60)\n"}
    (folder / "lesson.ipynb").write_bytes(build("02_batch_norm", Variant("hangs", answers=hang)))
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(tmp_path / "class"), "--out",
                             str(tmp_path / "out"), "--db", ""], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(scratch.PREFIX + "*/work/alice")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)  # the worker is now inside the hanging cell
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode != 0, output
    assert list(tmp_path.glob(scratch.PREFIX + "*")) == [], output
    assert not (tmp_path / "out" / "grades.csv").exists()
    assert "interrupted" in output.lower(), output


def test_scratch_of_a_killed_run_is_removed_by_the_next(tmp_path):
    stale = tmp_path / (scratch.PREFIX + "killed")
    (stale / "work").mkdir(parents=True)
    (stale / ".lock").write_text("")
    live_lock = tmp_path / (scratch.PREFIX + "live")
    live_lock.mkdir()
    import fcntl
    with open(live_lock / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        scratch.remove_stale(tmp_path)
        assert not stale.exists()
        assert live_lock.exists()


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
