"""Grade a class: a folder of submissions in, one result per student and lesson out.

Layout of the folder (nbgrader's ``submitted`` layout)::

    SUBMISSIONS/<student>/<lesson>/lesson.ipynb

For each submission: read it (never modifying it), plan the cells to run, run them
with the student's functions on every case in a separate process (`runner`), and judge
the plain-data results against the reference (`judge`). Students are graded in parallel.
"""
import functools
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograder import checks, judge, runner, wire
from autograder.scan import scan as scan_cell
from autograder.notebook import SOLUTIONS, Master, find_notebook, plan, read_submission


@dataclass
class ItemResult:
    grade_id: str
    points: float
    max_points: float
    message: str = ""
    hint: str | None = None


@dataclass
class SubmissionResult:
    student: str
    lesson: str
    items: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    incidents: list = field(default_factory=list)
    log: str = ""
    isolation: str | None = None

    @property
    def score(self):
        return sum(i.points for i in self.items)

    @property
    def max_score(self):
        return sum(i.max_points for i in self.items)


@functools.lru_cache(maxsize=None)
def load_master(lesson):
    """A lesson's master, parsed once per grading run rather than once per submission."""
    return Master(lesson)


def lessons():
    """Lesson folders that have a master notebook, e.g. ``["02_batch_norm"]``."""
    return sorted(p.parent.name for p in SOLUTIONS.glob("*/lesson.ipynb"))


def discover(submissions):
    """(student, lesson, folder) for every submission folder; unknown folders are reported.

    Returns
    -------
    found : list of (str, str, Path)
    unknown : list of str
    """
    known, found, unknown = set(lessons()), [], []
    for student_dir in sorted(p for p in Path(submissions).iterdir() if p.is_dir() and not p.name.startswith(".")):
        for lesson_dir in sorted(p for p in student_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if lesson_dir.name in known:
                found.append((student_dir.name, lesson_dir.name, lesson_dir))
            else:
                unknown.append(f"{student_dir.name}/{lesson_dir.name}: not a lesson of this course")
    return found, unknown


def grade_submission(student, lesson, folder, public_dir, scratch, limits=None, private=(), scan=True):
    """Grade one student's notebook for one lesson; never raises for a bad submission.

    `private` lists folders (besides the course's own) to hide from the student's code.
    `scan=False` skips the static scan: a test-only switch, so the adversarial tests prove
    the sandbox itself rather than the scan in front of it.
    """
    master = load_master(lesson)
    result = SubmissionResult(student, lesson)
    path, problem = find_notebook(folder)
    if problem:
        result.problems.append(problem)
    cells = None
    if path is not None:
        cells, problem = read_submission(path)
        if problem:
            result.problems.append(problem)
    if cells is None:
        reason = result.problems[-1]
        result.items = [ItemResult(gid, 0.0, pts, f"not graded: {reason}") for gid, pts in master.items]
        return result
    to_run, problems = plan(master, cells)
    result.problems += problems
    flagged = {}
    for cell in to_run:
        reasons = scan_cell(cell["source"]) if scan and cell["origin"] == "student" else []
        if reasons:
            flagged[cell["id"]] = "not run by the grader: it " + "; it ".join(reasons)
            result.problems.append(f"cell {cell['id']} {flagged[cell['id']]}")
    to_run = [c for c in to_run if c["id"] not in flagged]
    jobs = [{"key": f"{gid}#{k}", "grade_id": gid, "inputs": {n: wire.encode(v) for n, v in inputs.items()}}
            for gid, _ in master.items for k, (_, inputs) in enumerate(judge.cases(gid))]
    workdir = Path(scratch) / student / lesson
    cell_errors, records, incidents, result.isolation = runner.run(to_run, jobs, public_dir, workdir, limits,
                                                                   private=private)
    cell_errors.update(flagged)
    result.incidents = incidents
    result.log = _tail(workdir / "output.log")
    for gid, pts in master.items:
        item_records = [records.get(f"{gid}#{k}", {"error": "no result"}) for k in range(len(judge.cases(gid)))]
        verdict = judge.judge(gid, item_records)
        message = verdict.message if not verdict.passed else "correct: " + verdict.message
        if not verdict.passed:
            message += _cause(master, gid, cell_errors)
        result.items.append(ItemResult(gid, pts if verdict.passed else 0.0, pts, message, verdict.hint))
    failed = {i.grade_id for i in result.items if i.points < i.max_points}
    for item in result.items:
        first = [d for d in checks.REGISTRY[item.grade_id].depends_on if d in failed]
        if item.grade_id in failed and first:
            item.message += (f"\n  Note: this item runs through functions that {', '.join(first)} found wrong; "
                             "fix that first, this one may then pass as it is.")
    return result


def _cause(master, grade_id, cell_errors):
    """Why an item's functions may be missing or broken: the error of the cell defining them."""
    notes = []
    for name in checks.REGISTRY[grade_id].functions:
        cell = master.cell_defining(name)
        if cell in cell_errors:
            error = cell_errors[cell]
            if error.startswith("NotImplementedError"):
                notes.append(f"{name} is not implemented yet (its cell still raises NotImplementedError)")
            else:
                notes.append(f"the cell defining {name} failed: {error}")
    return "".join(f"\n  Note: {n}." for n in notes)


def _tail(path, limit=4000):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


def grade_class(submissions, workers=2, limits=None, keep_scratch=False, private=(), isolate=True, scan=True):
    """Grade every submission in a folder (hidden, with `private`, from the student's code).

    `isolate=False` skips the namespaces (still a separate process): for measuring their cost.
    `scan=False` skips the static scan: for testing the sandbox alone, never for grading.

    Returns
    -------
    results : list of SubmissionResult, sorted by student then lesson
    unknown : list of str, folders that are not submissions of a known lesson
    """
    checks.load_items()
    found, unknown = discover(submissions)
    for lesson in {lesson for _, lesson, _ in found}:  # reference results once, before the threads
        for gid, _ in load_master(lesson).items:
            judge.expected(gid)
    scratch = Path(tempfile.mkdtemp(prefix="course-grading-"))
    workdirs = [scratch / "work" / student / lesson for student, lesson, _ in found]
    for workdir in workdirs:  # all exist before any worker starts, so each can hide the others
        workdir.mkdir(parents=True)
    private = [Path(submissions).resolve(), *private, *workdirs] if isolate else None
    try:
        public_dir = runner.prepare_public(scratch / "public")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(grade_submission, s, l, f, public_dir, scratch / "work", limits, private, scan)
                       for s, l, f in found]
            results = [f.result() for f in futures]
    finally:
        if not keep_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return results, unknown
