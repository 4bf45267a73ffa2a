"""Resumable, incremental grading runs and the faults an instructor meets (issues 13, 14, 16):
results kept as they are graded, reused only while nothing that decides them changed;
outputs written atomically; one clear sentence for each failure."""
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest

from autograder import cli
from autograder.authoring.catalogue import Variant, build
from autograder.grading import grade, store
from autograder.grading.options import Options
from autograder.grading.results import ItemResult, SubmissionResult
from autograder.outputs import atomic, report
from autograder.worker import runner
from autograder.worker.course import ROOT
from tests.support.files import digest

BN, INIT = "02_batch_norm", "04_initialization"
CLASS = [("ann", BN), ("ben", BN), ("cat", INIT)]


def write_class(folder, submissions=CLASS, hangs=()):
    for student, lesson in submissions:
        answers = {"batchnorm_inference": "import time\ntime.sleep(60)\n"} if student in hangs else {}
        (folder / student / lesson).mkdir(parents=True, exist_ok=True)
        (folder / student / lesson / "lesson.ipynb").write_bytes(build(lesson, Variant("v", answers=answers)))
    return folder


def result(student, lesson, points=1.0):
    return SubmissionResult(student, lesson, items=[ItemResult("item_a", points, 2.0, "the message", "a hint")])


@pytest.fixture()
def fake_grading(monkeypatch):
    """grade_submission replaced by a fast fake; returns the list of (student, lesson) it graded."""
    graded = []

    def fake(student, lesson, *args):
        graded.append((student, lesson))
        return result(student, lesson)
    monkeypatch.setattr(grade, "grade_submission", fake)
    return graded


def run(tmp_path, **options):
    return cli.grade(tmp_path / "class", Options(out=tmp_path / "out", workers=2, db="", quiet=True, **options))


@pytest.mark.slow
def test_rerun_grades_only_what_changed(tmp_path, fake_grading, monkeypatch):
    write_class(tmp_path / "class")
    assert run(tmp_path) == 0
    assert sorted(fake_grading) == sorted(CLASS)
    kept = digest(tmp_path / "out" / ".results")
    assert len(kept) == 3

    fake_grading.clear()
    assert run(tmp_path) == 0
    assert fake_grading == []  # an unchanged class is not graded again
    assert digest(tmp_path / "out" / ".results") == kept

    notebook = tmp_path / "class" / "ann" / BN / "lesson.ipynb"
    notebook.write_bytes(notebook.read_bytes() + b" ")  # one byte more, same notebook
    run(tmp_path)
    assert fake_grading == [("ann", BN)]

    fake_grading.clear()
    os.utime(tmp_path / "class" / "cat" / INIT / "lesson.ipynb", (1_700_000_000, 1_700_000_000))
    run(tmp_path)
    assert fake_grading == [("cat", INIT)]  # same bytes, another submission time

    fake_grading.clear()
    original = store.lesson_digest
    monkeypatch.setattr(store, "lesson_digest", lambda lesson: "changed" if lesson == BN else original(lesson))
    run(tmp_path)
    assert sorted(fake_grading) == [("ann", BN), ("ben", BN)]  # that lesson's submissions only

    fake_grading.clear()
    (tmp_path / "out" / ".results" / "cat" / f"{INIT}.json").write_text("{ not json")
    run(tmp_path)
    assert fake_grading == [("cat", INIT)]  # an unreadable kept result is graded again

    fake_grading.clear()
    assert run(tmp_path, force=True) == 0
    assert sorted(fake_grading) == sorted(CLASS)

    fake_grading.clear()
    run(tmp_path, isolate=False)
    assert sorted(fake_grading) == sorted(CLASS)  # other grading options, other results


def fingerprints(root):
    """(shared code digest, {lesson: lesson digest}) of the course tree at `root`."""
    return store.code_digest(root), {lesson: store.lesson_digest.__wrapped__(lesson, root) for lesson in (BN, INIT)}


def test_verdict_code_lock_master_and_lesson_modules_are_fingerprinted(tmp_path):
    for rel in ["autograder", "lessonkit", "requirements.lock", f"solutions/{BN}", f"solutions/{INIT}"]:
        (shutil.copytree if (ROOT / rel).is_dir() else shutil.copy)(ROOT / rel, tmp_path / rel)
    code, lessons = before = fingerprints(tmp_path)
    (tmp_path / "autograder" / "outputs" / "report.py").write_text("# how results are shown, not what they are\n")
    assert fingerprints(tmp_path) == before
    changes = {"autograder/grading/grade.py": "all", "autograder/checks/__init__.py": "all", "lessonkit/mlp.py": "all",
               "requirements.lock": "all", "autograder/judge/batch_norm.py": BN, "autograder/checks/batch_norm.py": BN,
               f"solutions/{BN}/lesson.ipynb": BN, "autograder/judge/initialization.py": INIT}
    for rel, changed in changes.items():
        path = tmp_path / rel
        saved = path.read_bytes()
        path.write_bytes(saved.replace(b"a", b"b", 1))
        now_code, now_lessons = fingerprints(tmp_path)
        assert (now_code != code) == (changed == "all"), rel
        assert {lesson for lesson in lessons if now_lessons[lesson] != lessons[lesson]} == \
            (set() if changed == "all" else {changed}), rel
        path.write_bytes(saved)
    assert fingerprints(tmp_path) == before


def bytes_read():
    """Bytes this process has read so far (Linux's /proc/self/io, every read call counted)."""
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


def test_fingerprint_reads_a_huge_file_only_up_to_the_notebook_bound(tmp_path):
    """A sparse file of 4 GiB beside the notebook (a terabyte costs nothing to make): the
    fingerprint, taken of every submission before any is graded, read all of it, so one such
    submission held up the whole class; it now reads what the grader could read, and still
    tells a changed size apart."""
    folder = tmp_path / "alice" / BN
    folder.mkdir(parents=True)
    (folder / "lesson.ipynb").write_bytes(build(BN, Variant("v")))
    with open(folder / "data.bin", "wb") as f:
        f.truncate(4 * 2**30)
    before = bytes_read()
    first = store.submission_digest(folder)
    assert bytes_read() - before < 2 * store.MAX_NOTEBOOK_BYTES
    mtime = os.stat(folder / "data.bin").st_mtime_ns
    with open(folder / "data.bin", "r+b") as f:  # one byte more, beyond what is read, same file time
        f.truncate(4 * 2**30 + 1)
    os.utime(folder / "data.bin", ns=(mtime, mtime))
    assert store.submission_digest(folder) != first


def test_kept_result_is_the_graded_one(tmp_path):
    kept = store.ResultStore(tmp_path)
    original = SubmissionResult("ann", BN, [ItemResult("a", 1.0, 2.0, "msg", None), ItemResult("b", 0.0, 1.0, "m", "h")],
                                ["a problem"], ["an incident"], "the log", "namespaces", datetime(2024, 3, 1, 9, 30, 5))
    folder = write_class(tmp_path / "class", [("ann", BN)]) / "ann" / BN
    assert kept.load("ann", BN, folder) is None
    kept.save(original)
    assert store.ResultStore(tmp_path).load("ann", BN, folder) == original


@pytest.mark.slow
def test_stopped_workers_results_are_not_kept(tmp_path, monkeypatch, capsys):
    """A SIGTERM while a submission is being graded: what was graded before is kept, the
    submission whose worker was stopped is not, and nothing after it is started."""
    write_class(tmp_path / "class")
    stopped, graded = [], []

    def fake(student, lesson, *args):
        graded.append(student)
        if student == "ben":
            os.kill(os.getpid(), signal.SIGTERM)
            deadline = time.monotonic() + 30
            while not stopped and time.monotonic() < deadline:
                time.sleep(0.05)
            return result(student, lesson, points=0.0)  # what a killed worker would report
        return result(student, lesson)
    monkeypatch.setattr(grade, "grade_submission", fake)
    monkeypatch.setattr(runner, "stop_all", lambda: stopped.append(True))
    status = cli.grade(tmp_path / "class", Options(out=tmp_path / "out", workers=1, db="", quiet=True))
    assert status == cli.EXIT_INTERRUPTED
    assert graded == ["ann", "ben"]
    assert [p.parent.name for p in (tmp_path / "out" / ".results").glob("*/*.json")] == ["ann"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the 1 submission graded so far is kept" in err, err
    assert not (tmp_path / "out" / "grades.csv").exists()


@pytest.mark.slow
def test_killed_run_is_finished_by_the_next(tmp_path, monkeypatch):
    """Through the command: SIGTERM after two of three submissions; the rerun grades only the third."""
    write_class(tmp_path / "class", [("ann", BN), ("ben", BN), ("cat", BN)], hangs={"cat"})
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(tmp_path / "class"), "--out", str(out),
                             "--db", "", "--workers", "1"], cwd=ROOT, env=dict(os.environ, TMPDIR=str(tmp_path)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list(out.glob(".results/*/*.json"))) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(1)  # cat's worker is now inside the hanging cell
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == cli.EXIT_INTERRUPTED, stderr.decode()
    assert "Traceback" not in stderr.decode() and "the 2 submissions graded so far are kept" in stderr.decode()
    kept = {p.parent.name: p.stat().st_mtime_ns for p in out.glob(".results/*/*.json")}
    assert sorted(kept) == ["ann", "ben"]

    write_class(tmp_path / "class", [("cat", BN)])  # the student fixed the notebook
    graded, real = [], grade.grade_submission
    monkeypatch.setattr(grade, "grade_submission", lambda s, l, *a: graded.append(s) or real(s, l, *a))
    assert cli.grade(tmp_path / "class", Options(out=out, workers=1, db="", quiet=True)) == 0
    assert graded == ["cat"]
    assert {p.parent.name: p.stat().st_mtime_ns for p in out.glob(".results/*/*.json") if p.parent.name != "cat"} == kept
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["ann", "ben", "cat"]
    assert all(r.split(",")[-3] == r.split(",")[-2] for r in rows), rows  # full marks, kept or new


def disk_full_for(monkeypatch, fragment):
    """Writing a file whose (temporary) path contains `fragment` fails as on a full disk."""
    real = os.fsync

    def fsync(fd):
        if fragment in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)
    monkeypatch.setattr(os, "fsync", fsync)


def test_full_disk_leaves_previous_outputs_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    report.write_all([result("ann", BN), result("ben", BN)], [], out, [BN])
    before = digest(out)
    disk_full_for(monkeypatch, f"feedback/ben/{atomic.TEMP_PREFIX}")  # grades.csv and ann's page are written
    with pytest.raises(atomic.WriteError) as raised:
        report.write_all([result("ann", BN, 2.0), result("ben", BN, 0.0)], [], out, [BN])
    assert digest(out) == before  # byte for byte, and no temporary file left behind
    assert str(raised.value) == (f"could not write {out / 'feedback' / 'ben' / (BN + '.html')}: No space left on "
                                 "device. Free some space and run the same command again; the previous results are intact")


@pytest.mark.slow
def test_full_disk_through_the_command_then_a_rerun_finishes(tmp_path, monkeypatch, fake_grading, capsys):
    write_class(tmp_path / "class")
    assert run(tmp_path) == 0
    before = digest(tmp_path / "out")
    fake_grading.clear()
    monkeypatch.setattr(grade, "grade_submission", lambda s, l, *a: fake_grading.append(s) or result(s, l, 2.0))
    monkeypatch.setattr(store, "lesson_digest", lambda lesson: "new master")
    capsys.readouterr()
    monkeypatch.setattr(runner, "stop_all", lambda: None)  # no real worker to stop; keep the runner usable
    with monkeypatch.context() as m:
        disk_full_for(m, f".results/ben/{atomic.TEMP_PREFIX}")
        assert run(tmp_path) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert err == (f"error: could not write {tmp_path / 'out' / '.results' / 'ben' / (BN + '.json')}: No space left "
                   "on device. Free some space and run the same command again; the previous results are intact.\n")
    after = digest(tmp_path / "out")
    assert {p: h for p, h in after.items() if ".results" not in p.parts} == \
        {p: h for p, h in before.items() if ".results" not in p.parts}
    fake_grading.clear()
    assert run(tmp_path) == 0
    assert "ann" not in fake_grading and "ben" in fake_grading  # ann's result was kept
    assert all(line.split(",")[-3] == "2" for line in (tmp_path / "out" / "grades.csv").read_text().splitlines()[1:])


@pytest.mark.parametrize("last", ["receipts/dan/", "similarity.html", "regrade_diff.md"])
@pytest.mark.slow
def test_a_run_that_fails_on_any_output_changes_none(tmp_path, fake_grading, monkeypatch, capsys, last):
    """Every output of a run lands together, similarity and receipts included: a run whose
    last output cannot be written leaves every file as it was and no new file or folder."""
    write_class(tmp_path / "class")
    assert run(tmp_path) == 0
    before = digest(tmp_path / "out")
    folders = sorted(p for p in (tmp_path / "out").rglob("*") if p.is_dir() and ".results" not in p.parts)
    write_class(tmp_path / "class", [("dan", BN)])  # a new student: new feedback and receipts folders
    monkeypatch.setattr(grade, "grade_submission", lambda s, l, *a: result(s, l, 2.0))  # and every grade moves
    with monkeypatch.context() as m:
        disk_full_for(m, last + atomic.TEMP_PREFIX if last.endswith("/") else atomic.TEMP_PREFIX + last)
        assert run(tmp_path, diff=tmp_path / "out") == cli.EXIT_FAILED
    assert "No space left on device" in capsys.readouterr().err
    after = digest(tmp_path / "out")
    assert {p: h for p, h in after.items() if ".results" not in p.parts} == \
        {p: h for p, h in before.items() if ".results" not in p.parts}
    assert sorted(p for p in (tmp_path / "out").rglob("*") if p.is_dir() and ".results" not in p.parts) == folders


def test_feedback_of_students_who_left_is_removed_and_nothing_else(tmp_path):
    out = tmp_path / "out"
    report.write_all([result("ann", BN), result("ben", BN), result("ben", INIT), result("cat", INIT)], [], out,
                     [BN, INIT])
    mine = [out / "notes.txt", out / "feedback" / "ben" / "mine.txt", out / "feedback" / "ben" / "99_other.html"]
    for path in mine:
        path.write_text("the instructor's")
    (out / "feedback" / "ann" / (atomic.TEMP_PREFIX + "x.html.123")).write_text("left by a killed run")
    report.write_all([result("ann", BN), result("ben", INIT)], [], out, [BN, INIT])
    pages = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert pages == ["feedback/ann/02_batch_norm.html", "feedback/ben/04_initialization.html",
                     "feedback/ben/99_other.html", "feedback/ben/mine.txt", "grades.csv", "item_analysis.png",
                     "notes.txt", "summary.md", "summary.png"]


@pytest.mark.slow
def test_corrupt_gradebook_is_one_sentence(tmp_path, fake_grading, capsys):
    write_class(tmp_path / "class")
    garbage = tmp_path / "gradebook.db"
    garbage.write_bytes(bytes(range(256)) * 16)
    status = cli.grade(tmp_path / "class", Options(out=tmp_path / "out", workers=2, db=f"sqlite:///{garbage}", quiet=True))
    assert status == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert err == (f"error: the gradebook {garbage} is not a readable SQLite database: move it aside and run again; "
                   f"nothing was written; the graded submissions are kept in {tmp_path / 'out' / '.results'}, "
                   "so the same command then only records and writes.\n")
    assert not (tmp_path / "out" / "grades.csv").exists()
    assert len(list((tmp_path / "out" / ".results").glob("*/*.json"))) == len(list((tmp_path / "class").glob("*/*")))
    assert garbage.read_bytes() == bytes(range(256)) * 16


@pytest.mark.slow
def test_progress_unless_quiet(tmp_path, fake_grading, capsys):
    write_class(tmp_path / "class")
    cli.grade(tmp_path / "class", Options(out=tmp_path / "out", workers=2, db="", quiet=False))
    assert "graded 3/3 (0 with problems)" in capsys.readouterr().err
    cli.grade(tmp_path / "class", Options(out=tmp_path / "out", workers=2, db="", quiet=True, force=True))
    assert "graded" not in capsys.readouterr().err


def classmates_outputs(out, students):
    """Every feedback page and receipt of `students` under `out`, path -> bytes."""
    return {p.relative_to(out): p.read_bytes() for s in students
            for p in sorted((out / "feedback" / s).glob("*")) + sorted((out / "receipts" / s).glob("*"))}


@pytest.mark.parametrize("where", ["feedback_page", "receipt"])
@pytest.mark.slow
def test_a_failure_writing_one_submissions_outputs_costs_only_it(tmp_path, fake_grading, monkeypatch, where):
    """Issue 21: the grader failing while it makes one submission's feedback page or receipt
    leaves that submission "not graded" with one incident; the classmates' outputs are those
    of a class without it, byte for byte."""
    from autograder.grading import receipt
    write_class(tmp_path / "class")
    shutil.copytree(tmp_path / "class", tmp_path / "alone")  # same submission times
    shutil.rmtree(tmp_path / "alone" / "ben")
    assert cli.grade(tmp_path / "alone", Options(out=tmp_path / "out_alone", workers=2, db="", quiet=True)) == 0
    owner, method = (report, "feedback_page") if where == "feedback_page" else (receipt.Receipts, "receipt")
    real = getattr(owner, method)

    def failing(*args):  # on ben's graded result, not on the "not graded" one that replaces it
        if any(getattr(a, "student", None) == "ben" and a.items[0].message == "the message" for a in args):
            raise ValueError("planted: writing ben's outputs failed")
        return real(*args)
    monkeypatch.setattr(owner, method, failing)
    assert run(tmp_path) == cli.EXIT_PROBLEMS  # graded and written; one submission with a problem
    others = ["ann", "cat"]
    assert classmates_outputs(tmp_path / "out", others) == classmates_outputs(tmp_path / "out_alone", others)
    page = (tmp_path / "out" / "feedback" / "ben" / f"{BN}.html").read_text()
    assert "not graded: the grader failed while grading this submission (ValueError)" in page
    kept = json.loads((tmp_path / "out" / "receipts" / "ben" / f"{BN}.json").read_text())
    assert all(i["points"] == 0 for i in kept["items"])
