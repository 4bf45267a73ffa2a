"""Grade a class: a folder of submissions in, one result per student and lesson out.

Layout of the folder (nbgrader's ``submitted`` layout)::

    SUBMISSIONS/<student>/<lesson>/lesson.ipynb

For each submission: read it (never modifying it), plan the cells to run, run them
with the student's functions on every case in a separate process (`runner`), and judge
the plain-data results against the reference (`judge`). Students are graded in parallel.
"""
import contextlib
import functools
import logging
import os
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import checks, judge
from autograder.grading import per_student
from autograder.grading.options import Options
from autograder.grading.results import ItemResult, SubmissionResult
from autograder.grading.scan import scan as scan_cell
from autograder.grading.scratch import remove, scratch_folder
from autograder.worker import isolation, runner
from autograder.worker.course import lessons
from autograder.worker.notebook import Master, find_notebook, plan, read_submission, submission_time

log = logging.getLogger(__name__)
#: The longest student id nbgrader's gradebook holds (its ``student.id`` column).
STUDENT_ID_MAX = 128


@functools.lru_cache(maxsize=None)
def load_master(lesson):
    """A lesson's master, parsed once per grading run rather than once per submission."""
    return Master(lesson)


def discover(submissions):
    """(student, lesson, folder) for every submission folder; unknown folders are reported.

    Symbolic links are never followed: a linked student folder is reported with the
    unknown ones; a linked lesson folder is found, and `find_notebook` refuses it.

    Returns
    -------
    found : list of (str, str, Path)
    unknown : list of str
    """
    known, found, unknown = set(lessons()), [], []
    entries = sorted(p for p in Path(submissions).iterdir() if not p.name.startswith("."))
    for student_dir in entries:
        if student_dir.is_symlink():
            unknown.append(f"{student_dir.name}: a symbolic link, not a student's folder; not graded")
            continue
        if not student_dir.is_dir():
            continue
        problem = student_id_problem(student_dir.name)
        if problem:
            unknown.append(f"{problem}; not graded (rename the folder)")
            continue
        for lesson_dir in sorted(p for p in student_dir.iterdir() if (p.is_symlink() or p.is_dir())
                                 and not p.name.startswith(".")):
            if lesson_dir.name in known:
                found.append((student_dir.name, lesson_dir.name, lesson_dir))
            else:
                unknown.append(f"{student_dir.name}/{_printable_name(lesson_dir.name)}: not a lesson of this course")
    return found, unknown


def student_id_problem(name):
    """Why folder name `name` cannot be a gradebook's student id (a sentence that names it), or None."""
    if not _is_text(name):
        return f"{_printable_name(name)}: a folder name that is not UTF-8 text"
    if len(name) > STUDENT_ID_MAX:  # PostgreSQL would refuse the whole class's grades
        return (f"{name[:40]}...: a folder name longer than {STUDENT_ID_MAX} characters, "
                "nbgrader's limit for a student id")
    return None


def _is_text(name):
    """False for a file name that is not valid UTF-8 (Python keeps its bytes as lone surrogates)."""
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _printable_name(name):
    """A file name as text, any byte that is not UTF-8 written as ``\\xNN``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


class WeakIsolation(Exception):
    """The kernel refuses the namespaces and weaker isolation was not accepted; nothing was graded."""


def grade_submission(student, lesson, folder, public_dir, scratch, options=Options(), zygote=None, salts=None):
    """Grade one student's notebook for one lesson (see `Options`); never raises.

    Whatever fails while grading it (reading, running, supervising, judging) costs this
    submission only: it is "not graded", with one incident saying so, and the grader's
    traceback in its log. `zygote` (a `runner.Zygote`) forks the workers; None starts each
    as a new process. `salts` (grade id -> salt, from `per_student.salts`) replaces those of
    `options.secret`: a cluster worker gets the student's salts, never the secret.
    """
    master = load_master(lesson)
    try:
        return _grade_submission(master, student, lesson, folder, public_dir, scratch, options, zygote, salts)
    except Exception as exc:  # noqa: BLE001 - the fault barrier: one submission must cost only itself
        return grading_failed(master, SubmissionResult(student, lesson), exc)


def grading_failed(master, result, exc):
    """`result`, not graded because grading it raised `exc` (one incident; the traceback in its log)."""
    log.warning("%s/%s: grading failed", result.student, result.lesson, exc_info=exc)
    result.log = "".join(traceback.format_exception(exc, limit=-10))[-4000:]
    result.incidents.append(f"the grader failed while grading this submission ({type(exc).__name__}); "
                            "your instructor has the details")
    return not_graded(master, result, result.incidents[-1])


def _grade_submission(master, student, lesson, folder, public_dir, scratch, options, zygote, salts):
    result = SubmissionResult(student, lesson)
    try:
        to_run, flagged = _read_and_plan(master, folder, result, options.scan)
    except Exception as exc:  # noqa: BLE001 - one hostile notebook must not stop the class
        log.warning("%s/%s: reading the notebook failed", student, lesson, exc_info=True)
        result.log = traceback.format_exc(limit=-10)
        said = " ".join(str(exc).split())[:160]  # on one line: the instructor reads it in the summary
        result.problems.append(f"the grader could not read this notebook ({type(exc).__name__}{': ' * bool(said)}"
                               f"{said}); your instructor has the details")
        to_run = None
    if to_run is None:
        return not_graded(master, result)
    to_run = [c for c in to_run if c["id"] not in flagged]
    salts = salts or per_student.salts(options.secret, student, master)
    jobs = [{**job, "hidden": case.hidden} for gid, _ in master.items
            for job, case in zip(judge.jobs(gid, salts[gid]), judge.cases(gid, salts[gid]))]
    workdir = Path(scratch) / "work" / student / lesson
    outcome = runner.run(to_run, jobs, public_dir, workdir, options.limits,
                         jail=Path(scratch) / "jail" if options.isolate else None, zygote=zygote)
    cell_errors, records = {**outcome.cell_errors, **flagged}, outcome.records
    result.incidents, result.isolation, result.log = outcome.incidents, outcome.isolation, outcome.log
    for gid, pts in master.items:
        item_records = [records.get(f"{gid}#{k}", {"error": "no result"})
                        for k in range(len(judge.cases(gid, salts[gid])))]
        verdict = judge.judge(gid, item_records, salts[gid])
        message = verdict.message if not verdict.passed else "correct: " + verdict.message
        if not verdict.passed:
            message += _cause(master, gid, cell_errors)
        result.items.append(ItemResult(gid, pts if verdict.passed else 0.0, pts, message, verdict.hint,
                                       None if verdict.passed else verdict.case))
    failed = {i.grade_id for i in result.items if i.points < i.max_points}
    for item in result.items:
        note = checks.dependency_note(item.grade_id, failed) if item.grade_id in failed else ""
        if note:
            item.message += f"\n  {note}"
    return result


def not_graded(master, result, reason=None):
    """`result` with every item of `master` at zero, for `reason` (default: the last of its problems)."""
    reason = reason or result.problems[-1]
    result.items = [ItemResult(gid, 0.0, pts, f"not graded: {reason}") for gid, pts in master.items]
    return result


def _read_and_plan(master, folder, result, scan=True):
    """Read, plan and scan one submission, adding what is wrong to `result.problems`.

    Returns
    -------
    to_run : list of dict (see `notebook.plan`), or None when there is no usable notebook
    flagged : dict, cell id -> why it is not run
    """
    path, problem = find_notebook(folder)
    result.timestamp, when_problem = submission_time(folder, path)
    if when_problem:
        result.problems.append(when_problem)
    if problem:
        result.problems.append(problem)
    if path is None:
        return None, {}
    cells, problem = read_submission(path)
    if problem:
        result.problems.append(problem)
    if cells is None:
        return None, {}
    to_run, problems = plan(master, cells)
    result.problems += problems
    flagged = {}
    for cell in to_run:
        reasons = scan_cell(cell["source"]) if scan and cell["origin"] == "student" else []
        if reasons and all(r.startswith("does not parse") for r in reasons):
            flagged[cell["id"]] = "SyntaxError: it " + "; ".join(reasons)  # the student's own finding
        elif reasons:
            flagged[cell["id"]] = "not run by the grader: it " + "; it ".join(reasons)
            result.problems.append(f"cell {cell['id']} {flagged[cell['id']]}")
    return to_run, flagged


def _cause(master, grade_id, cell_errors):
    """Why an item's functions may be missing or broken: the error of the cell defining them."""
    notes = []
    for name in checks.items()[grade_id].functions:
        cell = master.cell_defining(name)
        if cell in cell_errors:
            error = cell_errors[cell]
            if error.startswith("NotImplementedError"):
                notes.append(f"{name} is not implemented yet (its cell still raises NotImplementedError)")
            else:
                notes.append(f"the cell defining {name} failed: {error}")
    return "".join(f"\n  Note: {n}." for n in notes)


def grade_class(submissions, options: Options = Options(), *, keep_scratch=False, reuse=None, on_result=None,
                remote=None):
    """Grade every submission in a folder, each in a confined worker (see isolation.py), as
    `options` say (options.py: `workers`, `isolate`, `scan`, `submission_seconds`, `secret`,
    `allow_weak_isolation`; the others are the command's).

    `reuse(student, lesson, folder)` may return an earlier result to keep instead of grading
    (see store.py). `on_result(result, done, total)` is called, one call at a time, by the
    thread that graded a submission as soon as it is graded (`total` counts the submissions
    graded in this run); never for a submission whose worker was stopped by an interruption.
    `remote(todo, options)` grades the submissions elsewhere instead of a local pool (e.g. on a
    Dask cluster, `cluster.grade_on_cluster`: this module never imports it).
    Whatever fails while one submission is graded costs it alone (`grade_submission` never
    raises). Where the kernel refuses the namespaces, raises `WeakIsolation` before anything
    is graded unless `options.allow_weak_isolation` (a cluster's workers are not checked here).

    Returns
    -------
    results : list of SubmissionResult, sorted by student then lesson
    unknown : list of str, folders that are not submissions of a known lesson
    """
    if options.isolate and remote is None and not options.allow_weak_isolation and (missing := isolation.unavailable()):
        raise WeakIsolation(missing)  # before anything is graded (the session checks again: a fork, negligible)
    found, unknown = discover(submissions)
    kept = {(s, l): reuse(s, l, f) for s, l, f in found} if reuse else {}
    todo = [(s, l, f) for s, l, f in found if kept.get((s, l)) is None]
    if remote is not None:
        graded = dict(zip([(s, l) for s, l, _ in todo], remote(todo, options=options)))
        for k, result in enumerate(graded.values()):
            if on_result:
                on_result(result, k + 1, len(todo))
        return [kept[s, l] if (s, l) not in graded else graded[s, l] for s, l, _ in found], unknown
    done, lock, stopping = [0], threading.Lock(), threading.Event()

    def grade_one(student, lesson, folder):
        result = session.grade(student, lesson, folder)
        with lock:
            if on_result and not stopping.is_set():  # stopping kills workers: their results are not kept
                done[0] += 1
                on_result(result, done[0], len(todo))
        return result

    with GradingSession(options, keep_scratch=keep_scratch) as session:
        session.warm({lesson for _, lesson, _ in todo})
        pool = ThreadPoolExecutor(max_workers=options.workers)
        try:
            futures = {(s, l): pool.submit(grade_one, s, l, f) for s, l, f in todo}
            results = [kept[s, l] if (s, l) not in futures else futures[s, l].result() for s, l, _ in found]
        except BaseException:  # interrupted: no worker may outlive the scratch folder
            stopping.set()
            runner.stop_all()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return results, unknown


class GradingSession:
    """A grader kept warm between submissions: one scratch folder, one public copy of the grader and
    one zygote for every submission it grades (a run of `grade_class`, a service grading each
    submission as it arrives, a cluster's worker). Use as a context manager; on exit every worker
    and the scratch folder are gone.

    Parameters
    ----------
    options : Options, as `grade_class` takes them
    keep_scratch : bool, keep the scratch folder (for debugging)
    """

    def __init__(self, options: Options = Options(), keep_scratch=False):
        self.options, self.keep_scratch = options, keep_scratch
        self._stack = None

    def __enter__(self):
        """Start: raises `WeakIsolation` where the kernel refuses the namespaces, unless allowed."""
        options = self.options
        if options.isolate and not options.allow_weak_isolation and (missing := isolation.unavailable()):
            raise WeakIsolation(missing)
        with contextlib.ExitStack() as stack:
            self.scratch = stack.enter_context(scratch_folder(self.keep_scratch))
            (self.scratch / "jail").mkdir()
            self.public_dir = runner.prepare_public(self.scratch / "public")
            # started before the reference results (`warm`), so that its imports overlap with them
            self.zygote = stack.enter_context(runner.Zygote(self.public_dir, self.scratch / "zygote"))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc):
        self._stack.close()

    def warm(self, lessons):
        """Compute the reference results of `lessons` (iterable of str) now, not at their first submission.
        With per-student cases (`options.secret`) there are none to share."""
        if self.options.secret is None:
            for lesson in lessons:
                for gid, _ in load_master(lesson).items:
                    judge.expected(gid)

    def grade(self, student, lesson, folder, salts=None):
        """`grade_submission` of one submission (a SubmissionResult; never raises), in this session. Its
        working folder is removed after (unless the scratch is kept), so that a later submission of the same
        student never sees what this one left. `student` must be a name `discover` accepts (a folder name)."""
        try:
            return grade_submission(student, lesson, folder, self.public_dir, self.scratch, self.options, self.zygote,
                                    salts)
        finally:
            if not self.keep_scratch:
                remove(self.scratch / "work" / student / lesson)
