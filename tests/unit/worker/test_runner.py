"""The worker's confinement, tried directly: hostile cells run by `runner.run` (no static
scan in the way), each checked from the outside."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.grading import scratch
from autograder.worker import isolation, runner
from autograder.worker.course import ROOT

# the confinement guarantees every worker holds, run here on workers started alone
from tests.support.confinement import *  # noqa: F401,F403
from tests.support.confinement import MARKER, printed


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
print("wrote=" + open("written-by-the-worker.txt").read())
""")
    assert "0" not in printed(outcome, "ids").split(",")
    assert "secret" not in printed(outcome, "read") and "root:" not in printed(outcome, "read")
    assert set(printed(outcome, "etc").split(",")) <= {Path(p).name for p in isolation.ETC}
    # its working folder is a tmpfs of its own (gone with it), still writable by nobody
    assert printed(outcome, "wrote") == "its own folder stays writable", outcome.log


@pytest.mark.slow
def test_interrupted_run_leaves_no_scratch_and_no_process(tmp_path):
    """SIGTERM in the middle of grading: scratch removed, workers gone."""
    from autograder.authoring.catalogue import Variant, build
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


# ---- the event pipe is hostile input; the submission's time is the grader's ------------

#: A cell's way to the event pipe: fd 3 in a worker forked by the zygote, argv[1] in one started alone.
EVENTS_FD = "EVENTS = int(sys.argv[1]) if sys.argv[0].endswith('sandbox.py') else 3\n"


def writes_events(payload):
    """A cell that writes `payload` (bytes) on the event pipe, then idles as if it were fine."""
    return f"import os, sys, time\n{EVENTS_FD}os.write(EVENTS, {payload!r})\ntime.sleep(1)\n"


def one_job():
    from autograder import judge
    return judge.jobs("bn_inference")[:1]


HOSTILE_EVENTS = {
    "nests-100000-deep": b"[" * 100_000 + b"\n",
    "unhashable-key": b'{"event": "case_end", "key": ["bn_inference#0"], "record": {}}\n',
    "starts-an-unplanned-case": b'{"event": "case_end", "id": "attack", "error": null}\n'
                                b'{"event": "case_start", "key": "no-such-item#0"}\n',
    "not-json": b"\xff\xfe not json\n",
    "a-valid-event-then-garbage": b'{"event": "cell_end", "id": "attack", "error": null} {"event": "done"}\n',
    "extra-fields": b'{"event": "cell_end", "id": "attack", "error": null, "more": 1}\n',
    "record-of-other-fields": b'{"event": "cell_end", "id": "attack", "error": null}\n'
                              b'{"event": "case_start", "key": "bn_inference#0"}\n'
                              b'{"event": "case_end", "key": "bn_inference#0", "record": {"x": 1}}\n',
    "forged-isolation-level": b'{"event": "isolation", "level": "namespaces"}\n',
    "done-too-early": b'{"event": "done"}\n',
    "line-without-end": b"x" * (17 * 2**20),
}


@pytest.mark.parametrize("name", HOSTILE_EVENTS)
def test_hostile_events_end_the_worker_as_a_protocol_violation(confined, tmp_path, name):
    """Whatever the pipe carries, the grader raises nothing: the worker's remaining cases
    are lost, by name, and the incident quotes nothing the worker sent."""
    public = tmp_path / "public"
    outcome = runner.run([{"id": "attack", "source": writes_events(HOSTILE_EVENTS[name])}], one_job(), public,
                         tmp_path / "work" / name, jail=tmp_path / "jail")
    assert [i for i in outcome.incidents if "broke the grader's protocol" in i and "bn_inference" in i], outcome.incidents
    assert outcome.records == {"bn_inference#0": {"error": outcome.records["bn_inference#0"]["error"]}}
    assert outcome.records["bn_inference#0"]["error"].startswith("not run: the process running the code broke")
    assert not any("no-such-item" in i or "xxxx" in i for i in outcome.incidents)


def test_events_of_a_submission_are_bounded_in_bytes(confined, tmp_path):
    """Lines each within the limit, but more of them than a submission may send."""
    line = b'{"event": "isolation", "level": "' + b"x" * 1000 + b'"}\n'
    limits = runner.Limits(events_bytes=2**20)
    outcome = runner.run([{"id": "attack", "source": writes_events(line * 2000)}], one_job(), tmp_path / "public",
                         tmp_path / "work" / "s", limits, jail=tmp_path / "jail")
    assert any("broke the grader's protocol" in i for i in outcome.incidents), outcome.incidents


@pytest.mark.parametrize("line", [b"[" * 100_000, b'{"a": ' * 50 + b"1" + b"}" * 50, b"\xff", b"[1]", b'"x"',
                                  b'{"event": "case_end", "key": 1, "record": {}}', b'{"event": ["done"]}'])
def test_parse_refuses_without_recursion_or_type_errors(line):
    with pytest.raises(runner.ProtocolError):
        runner.parse(line)


def test_nesting_skips_brackets_in_strings():
    assert runner.nesting(b'{"a": "[[[{{{", "b": [[1], "]]"]}') == 3
    assert runner.nesting(b'"\\"[[[" ') == 0


def test_a_worker_cannot_extend_its_time_by_restarting_its_cell(confined, tmp_path):
    """A cell that says it starts again every 0.2 s, so that its 2 s would never run out."""
    cell = (f"import os, sys, time\n{EVENTS_FD}for _ in range(40):\n"
            "    os.write(EVENTS, b'{\"event\": \"cell_start\", \"id\": \"attack\"}\\n')\n    time.sleep(0.2)\n")
    outcome = runner.run([{"id": "attack", "source": cell}], one_job(), tmp_path / "public", tmp_path / "work" / "s",
                         runner.Limits(cell_seconds=2), jail=tmp_path / "jail")
    assert any("broke the grader's protocol" in i for i in outcome.incidents), outcome.incidents


@pytest.mark.slow
def test_cell_limits_never_add_up_past_the_submission_budget(confined, tmp_path):
    """Each cell within its own limit, all of them past the submission's: the grader stops it."""
    cells = [{"id": f"c{k}", "source": f"import time\ntime.sleep(1.5)\nprint('ran=c{k}')"} for k in range(6)]
    outcome = runner.run(cells, one_job(), tmp_path / "public", tmp_path / "work" / "s",
                         runner.Limits(cell_seconds=2, submission_seconds=4), jail=tmp_path / "jail")
    assert any("ran out of its 4 s" in i and "bn_inference" in i for i in outcome.incidents), outcome.incidents
    assert "ran=c5" not in outcome.log
    assert outcome.records["bn_inference#0"]["error"].startswith("not run: the submission ran out")


# ---- the scratch folder: removed whatever a worker left in it --------------------------

@pytest.mark.slow
def test_a_3000_deep_folder_chain_is_removed_without_recursion(tmp_path, deep_chain):
    folder = tmp_path / "scratch"
    (folder / "work").mkdir(parents=True)
    deep_chain(folder / "work")
    (folder / "work" / "link").symlink_to(tmp_path / "kept")
    (tmp_path / "kept").mkdir()
    assert scratch.remove(folder) is True
    assert not folder.exists() and (tmp_path / "kept").is_dir()


@pytest.mark.slow
def test_a_stale_scratch_holding_a_deep_chain_never_breaks_a_later_run(tmp_path, deep_chain):
    stale = tmp_path / (scratch.PREFIX + "killed")
    stale.mkdir()
    (stale / ".lock").write_text("")
    deep_chain(stale)
    scratch.remove_stale(tmp_path)
    assert not stale.exists()


def test_the_remover_never_raises(tmp_path, monkeypatch):
    (tmp_path / "x").mkdir()
    monkeypatch.setattr(scratch.os, "rmdir", lambda *a, **k: (_ for _ in ()).throw(PermissionError(1, "refused")))
    assert scratch.remove(tmp_path / "x") is False


def test_the_working_folder_is_bounded_in_bytes_and_files_and_leaves_nothing(confined):
    outcome, workdir = confined("""
import os
written = files = 0
try:
    with open("big", "wb") as f:
        for _ in range(64):
            f.write(b"x" * 2**20)
            written += 1
except OSError:
    pass
os.mkdir("many")
try:
    for k in range(20000):
        open(f"many/{k}", "w").close()
        files += 1
except OSError:
    pass
print(f"written={written}")
print(f"files={files}")
""", runner.Limits(workdir_bytes=16 * 2**20, workdir_files=1000))
    assert int(printed(outcome, "written")) < 17
    assert int(printed(outcome, "files")) < 1000
    assert list(workdir.iterdir()) == []  # it lived in the worker's memory only


@pytest.mark.slow
def test_the_submission_budget_is_a_grade_option(tmp_path, capsys):
    from autograder import cli
    from autograder.authoring.catalogue import Variant, build
    folder = tmp_path / "class" / "ann" / "04_initialization"
    folder.mkdir(parents=True)
    (folder / "lesson.ipynb").write_bytes(build("04_initialization", Variant("right")))
    assert cli.main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--db", "", "-q",
                     "--submission-seconds", "nan"]) == 2
    assert "--submission-seconds nan is not a positive number" in capsys.readouterr().err
    assert cli.main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--db", "", "-q",
                     "--submission-seconds", "0.01"]) == 3
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "ran out of its 0.01 s for all its cells and cases" in summary
    assert "ann,0,0" in (tmp_path / "out" / "grades.csv").read_text()


@pytest.mark.parametrize("grade_id", ["init_params_statistics", "init_params_shapes"])
def test_the_largest_honest_records_fit_the_pipes_bounds(grade_id):
    """Lesson 04's weight matrices are the largest results of the course: the reference's, on
    every case, cross the wire whole and fit in one submission's events with room to spare."""
    import json

    from autograder import checks, judge
    from autograder.judge import reference
    from autograder.worker import wire
    item, ref = checks.items()[grade_id], reference.load("04_initialization")
    lines = [json.dumps({"event": "case_end", "key": "k", "record": checks.collect(
        item, [ref[name] for name in item.functions], case.inputs)}).encode() for case in judge.cases(grade_id)]
    assert max(map(len, lines)) < runner.Limits().event_bytes / 2
    assert sum(map(len, lines)) < runner.Limits().events_bytes / 2

    def opaque(value):
        parts = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else []
        return isinstance(value, wire.Opaque) or any(opaque(v) for v in parts)
    assert not any(opaque(wire.decode(runner.parse(line)["record"]["result"])) for line in lines)


def test_what_a_cell_does_beside_the_hidden_cases_never_shows(confined, tmp_path):
    """A cell that finds its worker's plan (among the live objects) and dies when it holds a
    hidden case: neither its error nor an incident says so, and no visible case ever shared a
    worker with a hidden one."""
    from autograder import judge
    jobs = [{**job, "hidden": case.hidden} for job, case in zip(judge.jobs("bn_inference"), judge.cases("bn_inference"))]
    hidden_keys = [job["key"] for job in jobs if job["hidden"]]
    cell = f"""import gc, os
plan = next(o for o in gc.get_objects() if isinstance(o, dict) and "jobs" in o and "cells" in o)
keys = [job["key"] for job in plan["jobs"]]
print("keys=" + ",".join(keys), flush=True)
if set(keys) & set({hidden_keys!r}):
    os._exit(3)
"""
    outcome = runner.run([{"id": "finder", "source": cell}], jobs, tmp_path / "public", tmp_path / "work" / "s",
                         jail=tmp_path / "jail")
    printed = [line for line in outcome.log.splitlines() if line.startswith("keys=")]
    assert printed == ["keys=" + ",".join(job["key"] for job in jobs if not job["hidden"])], outcome.log
    assert outcome.cell_errors == {} and not any("finder" in i for i in outcome.incidents), outcome.incidents


def test_what_the_code_prints_beside_the_hidden_cases_is_never_kept(confined, tmp_path):
    """Issue 21: the log (which Gradescope's runner prints, visible to the student when the
    course says so) holds nothing the code printed while the hidden cases ran, here their inputs."""
    from autograder import judge
    jobs = [{**job, "hidden": case.hidden} for job, case in zip(judge.jobs("bn_inference"), judge.cases("bn_inference"))]
    cell = """import gc
plan = next(o for o in gc.get_objects() if isinstance(o, dict) and "jobs" in o and "cells" in o)
for job in plan["jobs"]:
    print("seen", job["key"], repr(job["inputs"])[:200], flush=True)
"""
    outcome = runner.run([{"id": "printer", "source": cell}], jobs, tmp_path / "public", tmp_path / "work" / "s",
                         jail=tmp_path / "jail")
    seen = {line.split()[1] for line in outcome.log.splitlines() if line.startswith("seen ")}
    assert seen == {job["key"] for job in jobs if not job["hidden"]}, outcome.log  # the visible ones are kept
    assert runner.HIDDEN_OUTPUT_DROPPED in outcome.log
