"""The adversarial corpus: every attack scores 0 on what it attacks, nothing else moves,
the grader neither crashes nor hangs, and files stay as submitted.

`tests/support/corpus.py` is graded as one class in-process; `tests/support/corpus_sandbox.py` adds the
sandbox class (scan off), hostile files, the scan, and attacks on the grader process and
its outputs graded through the command line."""
import csv
import dataclasses
import hashlib
import io
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from autograder import judge
from autograder.authoring.catalogue import ROOT, Variant, build, verdict_problems
from autograder.grading.grade import grade_class
from autograder.grading.options import Options
from tests.support import corpus_sandbox as hostile
from tests.support.corpus import ATTACKS, LESSON
from tests.support.files import digest
from tests.support.processes import processes_naming


@pytest.fixture(scope="module")
def graded_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    for variant in ATTACKS:
        target = folder / variant.name / LESSON
        target.mkdir(parents=True)
        (target / variant.filename).write_bytes(build(LESSON, variant))
    before = digest(folder)
    results, unknown = grade_class(folder)
    assert unknown == []
    return {r.student: r for r in results}, before, folder


@pytest.mark.parametrize("variant", ATTACKS, ids=[v.name for v in ATTACKS])
def test_attack_scores_zero_on_what_it_attacks_and_nothing_else(graded_corpus, variant):
    results, _, _ = graded_corpus
    assert verdict_problems(results[variant.name], variant) == []


def test_student_code_ran_isolated(graded_corpus):
    results, _, _ = graded_corpus
    assert {r.isolation for r in results.values()} == {"namespaces"}


def test_corpus_files_are_never_modified(graded_corpus):
    _, before, folder = graded_corpus
    assert digest(folder) == before


# ---- tests/support/corpus_sandbox.py: the sandbox, the grader process, files, reports, the scan --

#: In the argv of every process an attack starts, and in every file it creates.
MARKER = f"corpus-attack-{uuid.uuid4().hex[:12]}"
SITE = Path(sysconfig.get_paths()["purelib"])
TREE = ["nbgrader_config.py", "solutions", "notebooks", "lessonkit", "autograder"]


def write_entries(folder, entries):
    for entry in entries:
        target = folder / entry.name / entry.lesson
        target.mkdir(parents=True)
        data = build(entry.lesson, entry.variant)
        if entry.place is None:
            (target / entry.variant.filename).write_bytes(data)
        else:
            entry.place(target, data)


def grade_apart(folder, timeout=90, **kwargs):
    """`grade_class` in a forked child with at most 4 GiB of address space and `timeout` s,
    so a hostile submission can neither exhaust the machine nor hang or kill pytest.

    Returns
    -------
    results : dict student -> SubmissionResult, or None when grading failed
    unknown : list of str, or the reason grading failed
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child():
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, resource.RLIM_INFINITY))
        try:
            results, unknown = grade_class(folder, **kwargs)
            send.send((True, ({r.student: r for r in results}, unknown)))
        except BaseException as exc:
            send.send((False, f"grading the class raised {type(exc).__name__}: {str(exc)[:300]}"))

    process = context.Process(target=child)
    process.start()
    send.close()
    try:
        if not receive.poll(timeout):
            return None, f"grading the class did not finish in {timeout} s"
        ok, value = receive.recv()
    except EOFError:
        process.join()
        return None, f"the grading process died (exit status {process.exitcode})"
    finally:
        if process.is_alive():
            process.kill()
        process.join()
    return value if ok else (None, value)


def marked_processes():
    """Pids of live processes that carry MARKER in their argv."""
    return processes_naming(MARKER)


@pytest.fixture(scope="module", autouse=True)
def kill_survivors():
    yield
    for pid in marked_processes():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def tree_digest():
    """Digest of the course files student code must never change (bytecode caches aside)."""
    files = {}
    for rel in TREE:
        path = ROOT / rel
        for p in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts:
                files[p.relative_to(ROOT)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return files


def lenient(result, entry):
    """What is wrong with a hostile submission's marks; any report wording is accepted, and
    `entry.reported` requires that some problem be named."""
    wrong = [w for w in verdict_problems(result, dataclasses.replace(entry.variant, problem=None))
             if not w.startswith("unexpected problems")]
    if entry.reported and not (result.problems or result.incidents):
        wrong.append("the report names no problem")
    return wrong


#: The bystander's notebook's file time in every class (its submission time, shown in its feedback).
SUBMITTED = 1_700_000_000


def same_submission_time(folder):
    os.utime(folder / "bystander" / LESSON / "lesson.ipynb", (SUBMITTED, SUBMITTED))


@pytest.fixture(scope="module")
def bystander_graded_alone(tmp_path_factory):
    """The bystander's SubmissionResult, graded alone."""
    folder = tmp_path_factory.mktemp("alone")
    write_entries(folder, [hostile.Entry(Variant("bystander"))])
    same_submission_time(folder)
    results, unknown = grade_class(folder)
    return results[0]


@pytest.fixture(scope="module")
def bystander_alone(bystander_graded_alone):
    """The bystander's items graded alone: [(grade_id, points, message)]."""
    return [(i.grade_id, i.points, i.message) for i in bystander_graded_alone.items]


def same_as_alone(results, alone):
    assert results is not None, "the class was not graded"
    assert "bystander" in results, "the bystander was not graded"
    assert [(i.grade_id, i.points, i.message) for i in results["bystander"].items] == alone


def names(entries, only=lambda entry: True):
    return [e.name for e in entries if e.name != "bystander" and only(e)]


SANDBOX = hostile.sandbox_class(Path("/submissions"), MARKER, Path("/decoy"))


@pytest.fixture(scope="module")
def graded_sandbox(tmp_path_factory):
    """The sandbox class graded with the scan off; the course tree is restored afterwards."""
    folder = tmp_path_factory.mktemp("sandbox")
    decoy = Path(tempfile.mkdtemp(prefix="course-grading-"))
    (decoy / "other-run.txt").write_text("another grading run's scratch\n")
    entries = hostile.sandbox_class(folder, MARKER, decoy)
    write_entries(folder, entries)
    (folder / ".victims").mkdir()
    for name in hostile.VICTIMS:
        (folder / ".victims" / f"{name}.ipynb").write_bytes(build(LESSON, Variant(name)))
    kept = {p: p.read_bytes() for p in (ROOT / "nbgrader_config.py", hostile.MASTER)}
    before, submitted, scratch = tree_digest(), digest(folder), digest(decoy)
    try:
        results, unknown = grade_apart(folder, options=Options(scan=False))
        after = tree_digest()
        created = [p for p in (ROOT / "lessonkit", ROOT / "notebooks", SITE, decoy) if (p / f"{MARKER}.txt").exists()]
        state = dict(results=results, unknown=unknown, entries={e.name: e for e in entries}, folder=folder,
                     tree=(before, after), submitted=(submitted, digest(folder)), created=created,
                     scratch=(scratch, digest(decoy)))
    finally:
        for path, data in kept.items():
            if path.read_bytes() != data:
                path.write_bytes(data)
        for place in (ROOT / "lessonkit", ROOT / "notebooks", SITE):
            (place / f"{MARKER}.txt").unlink(missing_ok=True)
        shutil.rmtree(decoy, ignore_errors=True)
    return state


@pytest.mark.parametrize("name", names(SANDBOX, lambda e: e.variant.lose))
def test_sandbox_attack_scores_zero_on_what_it_attacks(graded_sandbox, name):
    results = graded_sandbox["results"]
    assert results is not None, graded_sandbox["unknown"]
    assert lenient(results[name], graded_sandbox["entries"][name]) == []


def test_sandbox_attacks_leave_the_bystander_alone(graded_sandbox, bystander_alone):
    same_as_alone(graded_sandbox["results"], bystander_alone)


def test_sandbox_attacks_never_change_the_course_tree(graded_sandbox):
    before, after = graded_sandbox["tree"]
    assert {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)} == set()
    assert graded_sandbox["created"] == []
    assert graded_sandbox["scratch"][0] == graded_sandbox["scratch"][1]


@pytest.mark.parametrize("name", hostile.VICTIMS)
def test_grader_never_writes_where_a_worker_links(graded_sandbox, name):
    before, after = graded_sandbox["submitted"]
    victim = graded_sandbox["folder"] / ".victims" / f"{name}.ipynb"
    assert after[victim] == before[victim]


def test_sandbox_attacks_never_change_submissions(graded_sandbox):
    before, after = graded_sandbox["submitted"]
    assert sorted(str(p) for p in before.keys() | after.keys() if before.get(p) != after.get(p)) == []


def test_worker_reads_no_password_hashes(graded_sandbox):
    """The attack's message reaches its feedback (so the channel is proven), holding no line of
    /etc/shadow or /etc/gshadow (each starts with ``root:``)."""
    results = graded_sandbox["results"]
    assert results is not None, graded_sandbox["unknown"]
    messages = " ".join(i.message for i in results["reads-etc-shadow"].items)
    assert "read: " in messages
    assert "root:" not in messages


def test_grader_never_reads_what_a_worker_links_to(graded_sandbox):
    results = graded_sandbox["results"]
    assert results is not None, graded_sandbox["unknown"]
    result = results["links-log-to-the-master"]
    texts = [result.log, *result.problems, *result.incidents, *(i.message for i in result.items)]
    assert [t[-200:] for t in texts if '"nbformat_minor"' in t or "### BEGIN SOLUTION" in t] == []


# ---- 4: submissions that are not plain files ------------------------------------------

FILES = hostile.file_class()


@pytest.fixture(scope="module")
def graded_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    write_entries(folder, FILES)
    results, unknown = grade_apart(folder, timeout=60)
    return results, unknown


def test_hostile_files_never_stop_the_class(graded_files, bystander_alone):
    results, unknown = graded_files
    assert results is not None, unknown
    same_as_alone(results, bystander_alone)


@pytest.mark.parametrize("entry", [e for e in FILES if e.name != "bystander"], ids=names(FILES))
def test_hostile_file_scores_zero_and_is_reported(graded_files, entry):
    results, unknown = graded_files
    assert results is not None, unknown
    if entry.name not in results:  # skipped as a folder that is not a submission: must be said
        assert any(entry.name in u for u in unknown), unknown
    else:
        assert lenient(results[entry.name], entry) == []


# ---- 7: the scan ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graded_scan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan")
    write_entries(folder, hostile.SCAN_ATTACKS)
    return grade_apart(folder)


@pytest.mark.parametrize("entry", [e for e in hostile.SCAN_ATTACKS if e.name != "bystander"],
                         ids=names(hostile.SCAN_ATTACKS))
def test_scan_refuses_hidden_escapes_and_runs_honest_code(graded_scan, entry):
    results, unknown = graded_scan
    assert results is not None, unknown
    if entry.variant.lose:
        assert lenient(results[entry.name], entry) == []
    else:  # honest: full marks and nothing reported
        assert verdict_problems(results[entry.name], entry.variant) == []


def test_scan_attacks_leave_the_bystander_alone(graded_scan, bystander_alone):
    same_as_alone(graded_scan[0], bystander_alone)


# ---- 2, 6: the grader process and its outputs, through the command line ---------------

def grade_cli(folder, out, settle=3.0):
    """Run ``python -m autograder grade`` (scan off) on `folder`; what it printed and wrote,
    and grades.csv again `settle` s after it returned."""
    try:
        done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out), "--db", "",
                               "--no-scan"], cwd=ROOT, capture_output=True, timeout=150)
        status, stdout = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        status, stdout = "timed out", (exc.stdout or b"") + (exc.stderr or b"")
    grades = out / "grades.csv"
    at_return = grades.read_bytes() if grades.exists() else None
    time.sleep(settle)
    return dict(status=status, stdout=stdout, grades=at_return, out=out,
                settled=grades.read_bytes() if grades.exists() else None, survivors=marked_processes())


def csv_rows(data):
    rows = list(csv.reader(io.StringIO(data.decode())))
    return rows[0], {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}


def cli_points(run, student):
    assert run["grades"] is not None, f"grades.csv was not written (exit status {run['status']})"
    _, rows = csv_rows(run["grades"])
    assert student in rows, f"{student} is missing from grades.csv"
    return rows[student]


def cli_same_as_alone(run, alone):
    row = cli_points(run, "bystander")
    assert {gid: float(row[f"{LESSON}/{gid}"]) for gid, _, _ in alone} == {gid: pts for gid, pts, _ in alone}


GRADER = hostile.grader_class(MARKER)


@pytest.fixture(scope="module")
def graded_cli(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grader")
    write_entries(folder, GRADER)
    return grade_cli(folder, tmp_path_factory.mktemp("grader-out") / "out")


def test_grader_completes_and_its_grades_stay_put(graded_cli):
    assert graded_cli["status"] in (0, 3), graded_cli["stdout"][-2000:]
    assert graded_cli["grades"] is not None
    assert graded_cli["settled"] == graded_cli["grades"], "grades.csv changed after the grader returned"


def test_no_process_outlives_grading(graded_cli):
    assert graded_cli["survivors"] == []


@pytest.mark.parametrize("name", names(GRADER, lambda e: e.variant.lose))
def test_grader_attack_scores_zero(graded_cli, name):
    row = cli_points(graded_cli, name)
    entry = next(e for e in GRADER if e.name == name)
    assert {gid: float(row[f"{LESSON}/{gid}"]) for gid in entry.variant.lose} == dict.fromkeys(entry.variant.lose, 0.0)


def test_grader_attacks_leave_the_bystander_alone(graded_cli, bystander_alone):
    cli_same_as_alone(graded_cli, bystander_alone)


def reports(run):
    out = run["out"]
    texts = {"stdout": run["stdout"]}
    for path in [out / "summary.md", out / "grades.csv", *sorted((out / "feedback").rglob("*.html"))]:
        if path.is_file():
            texts[str(path.relative_to(out))] = path.read_bytes()
    return texts


def test_feedback_never_quotes_hidden_inputs(graded_cli):
    hidden = [case.inputs["Z"] for case in judge.cases("bn_inference") if case.hidden]
    numbers = {repr(x).encode() for Z in hidden for x in Z.ravel().tolist() if len(repr(x)) >= 8}
    leaked = {name: sorted(n for n in numbers if n in text)[:3] for name, text in reports(graded_cli).items()}
    assert {name: n for name, n in leaked.items() if n} == {}


def test_grades_csv_holds_no_formulas(graded_cli):
    header, rows = csv_rows(cli_points(graded_cli, "bystander") and graded_cli["grades"])
    fields = header + [value for row in rows.values() for value in row.values()]
    assert [f for f in fields if f[:1] in ("=", "+", "-", "@")] == []


def test_reports_escape_html(graded_cli):
    for name, text in reports(graded_cli).items():
        if name == "stdout" or name.endswith(".csv"):
            continue
        assert [tag for tag in (b"<script", b"<img", b"<svg") if tag in text.lower()] == [], name


def test_summary_links_nothing_a_submission_named(graded_cli):
    """summary.md rendered by GitHub's renderer (cmark-gfm, autolinks on) holds no link."""
    import cmarkgfm
    rendered = cmarkgfm.github_flavored_markdown_to_html((graded_cli["out"] / "summary.md").read_text())
    assert "www[.]evil.example" in rendered and "<a " not in rendered


def test_reports_hold_no_terminal_escapes(graded_cli):
    assert [name for name, text in reports(graded_cli).items() if b"\x1b" in text] == []


@pytest.fixture(scope="module")
def graded_siblings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("siblings")
    write_entries(folder, hostile.sibling_class())
    return grade_cli(folder, tmp_path_factory.mktemp("siblings-out") / "out", settle=0)


def test_a_worker_cannot_kill_the_other_workers(graded_siblings, bystander_alone):
    assert graded_siblings["status"] in (0, 3), graded_siblings["stdout"][-2000:]
    cli_same_as_alone(graded_siblings, bystander_alone)


@pytest.fixture(scope="module")
def graded_kill(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kill")
    write_entries(folder, hostile.grader_kill_class())
    return grade_cli(folder, tmp_path_factory.mktemp("kill-out") / "out", settle=0)


def test_a_worker_cannot_kill_the_grader(graded_kill, bystander_alone):
    assert graded_kill["status"] in (0, 3), f"exit status {graded_kill['status']}"
    cli_same_as_alone(graded_kill, bystander_alone)
    assert float(cli_points(graded_kill, "kills-the-grader")[f"{LESSON}/bn_inference"]) == 0.0


# ---- 8: one submission costs only itself (issue 21) -------------------------------------

BARRIER = hostile.barrier_class()


def bystander_pages(result, out):
    """The bystander's row of grades.csv and its feedback page, as `report.write_all` writes them."""
    from autograder.outputs import report
    report.write_all([result], [], out)
    _, rows = csv_rows((out / "grades.csv").read_bytes())
    return rows["bystander"], (out / "feedback" / "bystander" / f"{LESSON}.html").read_bytes()


@pytest.fixture(scope="module")
def graded_barrier(tmp_path_factory):
    """The barrier class graded with the scan off, with the grader made to fail while it runs
    one student's worker (supervision) and while it judges another's items."""
    import threading

    from autograder.grading import grade
    from autograder.worker import runner
    folder = tmp_path_factory.mktemp("barrier")
    write_entries(folder, BARRIER)
    same_submission_time(folder)
    grading, run, judge_item = threading.local(), runner.run, judge.judge

    def failing_run(cells, jobs, public_dir, workdir, *args, **kwargs):
        grading.student = Path(workdir).parent.name
        if grading.student == "supervision-raises":
            raise RuntimeError("planted: the supervisor failed")
        return run(cells, jobs, public_dir, workdir, *args, **kwargs)

    def failing_judge(grade_id, records, salt=None):
        if getattr(grading, "student", None) == "judge-raises":
            raise KeyError("planted: the judge failed")
        return judge_item(grade_id, records, salt)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grade.runner, "run", failing_run)
        patch.setattr(grade.judge, "judge", failing_judge)
        results, unknown = grade_apart(folder, timeout=300, options=Options(scan=False))
    return results, unknown


def test_no_submission_stops_the_class_and_the_bystander_is_byte_identical(graded_barrier, bystander_graded_alone,
                                                                            tmp_path):
    results, unknown = graded_barrier
    assert results is not None, unknown
    assert sorted(results) == sorted(e.name for e in BARRIER)
    assert bystander_pages(results["bystander"], tmp_path / "class") == \
        bystander_pages(bystander_graded_alone, tmp_path / "alone")


@pytest.mark.parametrize("entry", [e for e in BARRIER if e.name not in ("bystander", "stashes-hidden-inputs")],
                         ids=lambda e: e.name)
def test_what_stopped_the_class_costs_its_own_submission_only(graded_barrier, entry):
    results, unknown = graded_barrier
    assert results is not None, unknown
    assert lenient(results[entry.name], entry) == []
    if entry.variant.lose_all:  # one line says why, in the table and the feedback
        assert len(results[entry.name].incidents) == 1, results[entry.name].incidents


@pytest.mark.parametrize("name", hostile.GRADER_FAULTS)
def test_a_fault_of_the_grader_leaves_that_submission_not_graded(graded_barrier, name):
    result = graded_barrier[0][name]
    assert result.incidents == [result.incidents[0]] and "the grader failed while grading" in result.incidents[0]
    assert all(i.message.startswith("not graded: the grader failed") for i in result.items)
    assert "planted" in result.log  # the instructor has the traceback


def test_hidden_inputs_never_reach_a_later_visible_message(graded_barrier):
    """The submission stashes what batchnorm_forward saw on hidden cases and raises it in
    layernorm_forward's visible cases: hidden cases run after every visible one, apart."""
    from autograder import checks
    result = graded_barrier[0]["stashes-hidden-inputs"]
    users = [gid for gid, item in checks.items().items() if "batchnorm_forward" in item.functions]
    hidden = {repr(float(case.inputs["Z"].ravel()[0])) for gid in users for case in judge.cases(gid) if case.hidden}
    seen = [i.message for i in result.items if i.grade_id.startswith("ln_forward")]
    assert any("seen:" in m for m in seen), seen  # the attack ran: its visible error is quoted
    assert [m for m in seen if any(h in m for h in hidden)] == []
