"""`grade --cluster`: a real Dask scheduler and worker processes on 127.0.0.1.

A cluster run gives the bytes of a local run; a worker killed mid-class costs nothing;
a scheduler killed mid-class ends the run with one clear line and nothing written.
"""
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.authoring.catalogue import build, catalogue
from autograder.grading.options import Options

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).parent / "dask"
LESSON = "02_batch_norm"
#: Graded in a student's code process, read-only problems, and judged on the client (no notebook).
VARIANTS = ["correct", "divides-by-variance", "syntax-error", "renamed-notebook", "corrupt-notebook", "untouched"]


class Cluster:
    """A scheduler and `workers` worker processes (no nanny: a worker's pid is the worker);
    worker i keeps its scratch folders in ``tmp/worker<i>``."""

    def __init__(self, tmp, workers):
        self.tmp, self.procs = Path(tmp), []
        self.scheduler = self._start("scheduler", [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                                   "--no-dashboard"])
        self.address = self._address()
        self.workers = []
        for i in range(workers):
            folder = self.tmp / f"worker{i}"
            folder.mkdir()
            self.workers.append(self._start(f"worker{i}", [
                DASK, "worker", self.address, "--no-nanny", "--nthreads", "1", "--no-dashboard",
                "--host", "127.0.0.1", "--local-directory", folder], TMPDIR=str(folder)))
        from distributed import Client
        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=90)

    def _start(self, name, argv, **env):
        log = open(self.tmp / f"{name}.log", "wb")
        proc = subprocess.Popen([str(a) for a in argv], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, DASK_TEMPORARY_DIRECTORY=str(self.tmp), **env))
        log.close()
        self.procs.append(proc)
        return proc

    def _address(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"Scheduler at:\s+(tcp://127\.0\.0\.1:\d+)", (self.tmp / "scheduler.log").read_text())
            if found:
                return found.group(1)
            assert self.scheduler.poll() is None, (self.tmp / "scheduler.log").read_text()
            time.sleep(0.2)
        raise TimeoutError("the Dask scheduler did not start")

    def grading(self, i):
        """Students whose submission worker i is grading (a task's folder exists until it returns)."""
        return [p.name for p in (self.tmp / f"worker{i}").glob("course-grading-*/tasks/*/submission/*")]

    def worker_grading(self):
        """(process, students) of the first worker with a submission in progress, or None."""
        return next(((proc, self.grading(i)) for i, proc in enumerate(self.workers)
                     if proc.poll() is None and self.grading(i)), None)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def zygotes(pid):
    """Pids of the live zygotes (`runner.Zygote`) that process `pid` started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(parent) == pid and state != "Z" and b"/worker/zygote.py\0" in command:
            found.append(int(stat.parent.name))
    return found


def wait_for(condition, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (value := condition()) is not None:
            return value
        time.sleep(0.05)
    raise TimeoutError("condition not met in time")


def start_cluster(request, tmp, workers):
    cluster = Cluster(tmp, workers)
    request.addfinalizer(cluster.stop)
    return cluster


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    variants = {v.name: v for v in catalogue()[LESSON]}
    for i, name in enumerate(VARIANTS):
        (folder / f"student{i}" / LESSON).mkdir(parents=True)
        (folder / f"student{i}" / LESSON / variants[name].filename).write_bytes(build(LESSON, variants[name]))
    (folder / "student9" / LESSON).mkdir(parents=True)  # handed in nothing
    return folder


def grade(class_folder, out, *options, db=""):
    """`python -m autograder grade` as the instructor runs it: (exit status, stderr)."""
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(class_folder), "--out", str(out),
                           "--db", db, *options], cwd=ROOT, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stderr


def grade_in_background(class_folder, out, *options, db=""):
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(class_folder), "--out", str(out),
                             "--db", db, *options], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def pages(out):
    """grades.csv and every feedback page, by path relative to `out`."""
    files = [out / "grades.csv"] + sorted((out / "feedback").rglob("*.html"))
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


@pytest.fixture(scope="module")
def local(class_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "grades"
    status, stderr = grade(class_folder, out)
    assert status == 3, stderr  # the class has broken notebooks on purpose
    return pages(out)


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory):
    return start_cluster(request, tmp_path_factory.mktemp("cluster"), workers=2)


def test_a_cluster_run_writes_the_bytes_of_a_local_run(class_folder, local, cluster, tmp_path):
    status, stderr = grade(class_folder, tmp_path / "grades", "--cluster", cluster.address)
    assert status == 3, stderr
    assert pages(tmp_path / "grades") == local
    assert len(local) == 1 + len(VARIANTS) + 1
    assert b"renamed" in local[f"feedback/student3/{LESSON}.html"]


def test_a_task_sends_back_plain_data_only(class_folder, cluster):
    from distributed import Client

    from autograder.grading.cluster import grade_task, notebook_payload
    name, data, problems = notebook_payload(class_folder / "student0" / LESSON)
    assert (name, problems) == ("lesson.ipynb", [])
    with Client(cluster.address, timeout=60) as client:
        result = client.submit(grade_task, "student0", LESSON, name, data, pure=False).result()

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or type(value) in (str, float, int, bool)
    assert plain(result), result
    assert result["isolation"] and all(i["points"] == i["max_points"] for i in result["items"])


def test_a_worker_killed_mid_class_costs_nothing(class_folder, local, cluster, tmp_path):
    run = grade_in_background(class_folder, tmp_path / "grades", "--cluster", cluster.address)
    victim, _ = wait_for(cluster.worker_grading)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    unfinished = cluster.grading(cluster.workers.index(victim))
    assert unfinished  # killed before its task returned: that submission must be graded elsewhere
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 3, stderr
    assert pages(tmp_path / "grades") == local  # its submission was graded again elsewhere
    with open(tmp_path / "grades" / "grades.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    assert sorted(r[0] for r in rows) == sorted(f"student{i}" for i in [*range(len(VARIANTS)), 9])


def test_a_scheduler_lost_mid_class_ends_the_run_with_one_line_and_nothing_written(class_folder, request, tmp_path):
    (tmp_path / "cluster").mkdir()
    own = start_cluster(request, tmp_path / "cluster", workers=1)
    db = tmp_path / "gradebook.db"
    run = grade_in_background(class_folder, tmp_path / "grades", "--cluster", own.address, db=f"sqlite:///{db}")
    wait_for(own.worker_grading)
    os.kill(own.scheduler.pid, signal.SIGKILL)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 4, stderr
    assert stderr.strip().count("\n") == 0 and "Traceback" not in stderr, stderr
    assert stderr.startswith("error: lost the Dask scheduler at " + own.address), stderr
    assert not (tmp_path / "grades").exists() and not db.exists()


def test_an_unreachable_scheduler_is_a_cluster_error(monkeypatch):
    from autograder.grading import cluster
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    with pytest.raises(cluster.ClusterError, match=r"^could not reach the Dask scheduler at tcp://127.0.0.1:1 "):
        cluster.grade_on_cluster([], "tcp://127.0.0.1:1")


def test_workers_with_another_checkout_grade_nothing(class_folder, cluster, monkeypatch, tmp_path, capsys):
    """A client whose course differs from the workers' (here: its hash of it) gets every task refused:
    one line naming a worker, exit status 4, nothing written."""
    from autograder import cli
    from autograder.grading import cluster as dask_grading
    monkeypatch.setattr(dask_grading, "checkout", lambda lesson: "a course the workers do not have")
    status = cli.grade(class_folder, Options(out=tmp_path / "grades", workers=2, db="", quiet=True,
                                             cluster=cluster.address))
    stderr = capsys.readouterr().err
    assert status == 4, stderr
    assert re.match(rf"error: the Dask worker tcp://127\.0\.0\.1:\d+ grades {LESSON} with another course checkout",
                    stderr), stderr
    assert stderr.strip().count("\n") == 0 and not (tmp_path / "grades").exists()


def test_the_checkout_hash_covers_the_graders_data_too(tmp_path):
    """A worker whose visible cases' known outputs differ would judge differently: its hash differs."""
    from autograder.grading.cluster import checkout
    hashed = checkout.__wrapped__  # not the per-process cache
    shutil.copytree(ROOT / "autograder", tmp_path / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    before = hashed(LESSON, tmp_path)
    assert before == hashed(LESSON, ROOT)
    known = tmp_path / "autograder" / "checks" / "known_outputs.json"
    known.write_text(known.read_text().replace("0", "1", 1))
    assert hashed(LESSON, tmp_path) != before


def test_a_task_refuses_a_checkout_hash_that_is_not_its_own(class_folder):
    from autograder.grading.cluster import CheckoutMismatch, checkout, grade_task, notebook_payload
    name, data, _ = notebook_payload(class_folder / "student0" / LESSON)
    assert checkout(LESSON) != checkout("04_initialization")  # the hash tells lessons apart
    with pytest.raises(CheckoutMismatch, match="another course checkout"):
        grade_task("student0", LESSON, name, data, None, "0" * 64)



def memorizer():
    """A lesson-02 notebook whose batchnorm_inference knows only the course's cases (visible and
    hidden, as if they had leaked): it returns the reference's output for those and zeros otherwise."""
    from autograder import checks, judge
    from autograder.authoring.catalogue import Variant
    from autograder.judge import reference
    item, ref = checks.items()["bn_inference"], reference.load(LESSON)["batchnorm_inference"]
    seen = {}
    for case in judge.cases("bn_inference"):
        inputs = checks.call_inputs(item, case.inputs)
        seen[round(float(inputs["Z"].sum()), 9)] = item.run(ref, **inputs).tolist()
    source = ("import numpy as np\n"
              f"SEEN = {seen!r}\n\n"
              "def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):\n"
              "    key = round(float(np.sum(Z)), 9)\n"
              "    return np.array(SEEN[key]) if key in SEEN else np.zeros_like(Z)\n")
    return build(LESSON, Variant("memorizer", answers={"batchnorm_inference": source}))


def test_per_student_cases_on_the_cluster_are_those_of_a_local_run(cluster, tmp_path):
    """Leaked course cases get full marks without a secret; with one, the cluster grades each
    student on their own cases as a local run does (the tasks carry salts, never the secret)."""
    (tmp_path / "class" / "mo" / LESSON).mkdir(parents=True)
    (tmp_path / "class" / "mo" / LESSON / "lesson.ipynb").write_bytes(memorizer())
    secret = tmp_path / "secret.txt"
    secret.write_text("a class secret for this test\n")

    def bn_inference(out):
        with open(out / "grades.csv", newline="") as f:
            row = next(csv.DictReader(f))
        return row[f"{LESSON}/bn_inference"]
    status, stderr = grade(tmp_path / "class", tmp_path / "course-cases", "--cluster", cluster.address)
    assert status == 0, stderr
    full = bn_inference(tmp_path / "course-cases")
    status, stderr = grade(tmp_path / "class", tmp_path / "local", "--per-student-secret", str(secret))
    assert status in (0, 3), stderr
    status, stderr = grade(tmp_path / "class", tmp_path / "cluster", "--cluster", cluster.address,
                           "--per-student-secret", str(secret))
    assert status in (0, 3), stderr
    assert pages(tmp_path / "cluster") == pages(tmp_path / "local")
    assert bn_inference(tmp_path / "cluster") != full, full  # its own cases: the leaked answers are worth nothing


def test_hostile_submissions_on_the_cluster_cost_only_themselves(cluster, tmp_path):
    """The event-pipe attacks that ended a cluster run with nothing written, beside correct
    classmates: each attacker is not graded, and the classmates' rows and feedback pages are
    byte for byte those of the class without the attackers."""
    from tests.support import corpus_sandbox as hostile
    correct = next(v for v in catalogue()[LESSON] if v.name == "correct")
    attackers = [e for e in hostile.barrier_class() if e.name in
                 ("nests-the-event-pipe", "sends-an-unhashable-key", "starts-an-unplanned-case")]
    for folder in ("with", "without"):
        for student in ("ann", "bob"):
            (tmp_path / folder / student / LESSON).mkdir(parents=True)
            notebook = tmp_path / folder / student / LESSON / "lesson.ipynb"
            notebook.write_bytes(build(LESSON, correct))
            os.utime(notebook, (1_700_000_000, 1_700_000_000))
    for entry in attackers:
        (tmp_path / "with" / entry.name / LESSON).mkdir(parents=True)
        (tmp_path / "with" / entry.name / LESSON / "lesson.ipynb").write_bytes(build(LESSON, entry.variant))
    status, stderr = grade(tmp_path / "with", tmp_path / "cluster", "--cluster", cluster.address, "--no-scan")
    assert status == 3, stderr
    status, stderr = grade(tmp_path / "without", tmp_path / "local", "--no-scan")
    assert status == 0, stderr

    def rows(out):
        with open(out / "grades.csv", newline="") as f:
            return {row["student"]: row for row in csv.DictReader(f)}
    with_them, without = rows(tmp_path / "cluster"), rows(tmp_path / "local")
    assert {s: with_them[s] for s in ("ann", "bob")} == without
    assert {p: b for p, b in pages(tmp_path / "cluster").items() if "/ann/" in p or "/bob/" in p} == \
        {p: b for p, b in pages(tmp_path / "local").items() if p != "grades.csv"}
    for entry in attackers:
        assert float(with_them[entry.name][f"{LESSON}/total"]) == 0.0
        assert b"broke the grader&#x27;s protocol" in pages(tmp_path / "cluster")[f"feedback/{entry.name}/{LESSON}.html"]


def test_a_task_that_raises_costs_its_own_submission_only(class_folder, cluster):
    """A task that fails on its worker (here: a student id the task refuses) is "not graded", with
    one incident; the other submission of the run is graded."""
    from autograder.grading.cluster import grade_on_cluster
    folder = class_folder / "student0" / LESSON
    results = grade_on_cluster([("..", LESSON, folder), ("student0", LESSON, folder)], cluster.address)
    refused, graded = results
    assert refused.incidents == ["the grader failed while grading this submission (ValueError); "
                                 "your instructor has the details"]
    assert refused.raw_score == 0 and all(i.message.startswith("not graded:") for i in refused.items)
    assert graded.raw_score == graded.max_score and not graded.incidents


def leaver():
    """A lesson-02 notebook whose answer cell leaves a file in its working folder and fails where one is there."""
    from autograder.authoring.catalogue import Variant
    source = ("import os\n"
              "if os.path.exists('left.txt'):\n"
              "    raise RuntimeError('a file left by an earlier attempt')\n"
              "open('left.txt', 'w').close()\n\n"
              "def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):\n"
              "    return Z\n")
    return build(LESSON, Variant("leaver", answers={"batchnorm_inference": source}))


def test_a_worker_grades_every_task_in_one_warm_session_and_closes_it_with_itself(class_folder, request, tmp_path):
    """A worker's tasks share one zygote and one scratch folder, across runs (a cluster pays per
    submission what a local pool pays, not a new grading process each); when the worker closes,
    neither outlives it."""
    from autograder.grading.cluster import grade_on_cluster
    (tmp_path / "cluster").mkdir()
    own = start_cluster(request, tmp_path / "cluster", workers=1)
    worker, folder = own.workers[0], tmp_path / "cluster" / "worker0"
    found = [(f"student{i}", LESSON, class_folder / f"student{i}" / LESSON) for i in (0, 1, 2)]
    first = grade_on_cluster(found, own.address)
    zygote, scratch = zygotes(worker.pid), sorted(folder.glob("course-grading-*"))
    assert len(zygote) == 1 and len(scratch) == 1, (zygote, scratch)
    again = grade_on_cluster(found, own.address)
    assert (zygotes(worker.pid), sorted(folder.glob("course-grading-*"))) == (zygote, scratch)
    assert [(r.items, r.problems, r.incidents) for r in again] == [(r.items, r.problems, r.incidents) for r in first]
    assert first[0].raw_score == first[0].max_score and first[1].raw_score < first[1].max_score
    assert not list(scratch[0].glob("work/*/*")) and not list(scratch[0].glob("tasks/*"))  # nothing of a task left
    # the same submission again on this warm worker, in its working folder itself (no namespaces' own tmpfs)
    (tmp_path / "leaver" / LESSON).mkdir(parents=True)
    (tmp_path / "leaver" / LESSON / "lesson.ipynb").write_bytes(leaver())
    leaving = [("leaver", LESSON, tmp_path / "leaver" / LESSON)]
    once, twice = [grade_on_cluster(leaving, own.address, Options(isolate=False, scan=False))[0] for _ in range(2)]
    assert twice.items == once.items and "left by an earlier" not in str(twice.items), twice.items
    worker.send_signal(signal.SIGTERM)  # a worker closing (not killed: a killed one's scratch is removed later)
    worker.wait(timeout=60)
    wait_for(lambda: None if Path(f"/proc/{zygote[0]}").exists() else True, seconds=10)
    assert not list(folder.glob("course-grading-*"))
