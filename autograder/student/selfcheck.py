"""A student's check of a whole notebook before submitting:
``python -m autograder selfcheck notebooks/02_batch_norm/lesson.ipynb`` (``make selfcheck NB=...``).

It runs the notebook's code the way the grader does (in a separate process, experiments
skipped) and checks every item on its visible cases; hidden cases are for grading only.
"""
import tempfile
from pathlib import Path

from autograder import checks
from autograder.worker import notebook, runner

NO_RESULT = {"error": "no result"}


def selfcheck(path: str | Path) -> int:
    """Run a notebook's visible checks the way the grader runs the code; print a verdict per item.

    Returns 0 when every item keeps its points on the visible cases, 1 otherwise (or when the
    notebook cannot be read)."""
    cells, problem = notebook.read_submission(path)
    if cells is None:
        print(f"{path}: {problem}")
        return 1
    to_run, items = notebook.plan_self(cells)
    items = [(gid, pts) for gid, pts in items if gid in checks.items()]
    jobs = [{"key": f"{gid}#{k}", "grade_id": gid, "inputs": checks.worker_inputs(checks.items()[gid], inputs)}
            for gid, _ in items for k, (_, inputs) in enumerate(checks.items()[gid].visible_cases())]
    with tempfile.TemporaryDirectory() as scratch:
        public = runner.prepare_public(Path(scratch) / "public")
        outcome = runner.run(to_run, jobs, public, Path(scratch) / "work")
    cell_errors, records, incidents = outcome.cell_errors, outcome.records, outcome.incidents
    found = {gid: checks.first_failure(checks.items()[gid], lambda k, _, gid=gid: records.get(f"{gid}#{k}", NO_RESULT))
             for gid, _ in items}
    failed = {gid for gid, failure in found.items() if failure}
    for gid, pts in items:
        if found[gid]:
            print(f"\u2717 {gid} (0/{pts:g}): {checks.report([found[gid]], checks.dependency_note(gid, failed))}")
        else:
            print(f"\u2713 {gid} ({pts:g}/{pts:g})")
    total = sum(pts for _, pts in items)
    earned = sum(pts for gid, pts in items if gid not in failed)
    for cell, error in cell_errors.items():
        print(f"note: cell {cell} raised {error}")
    for incident in incidents:
        print(f"note: {incident}")
    print(f"visible checks: {earned:g} / {total:g} points. Hidden tests check more cases when graded.")
    return 0 if earned == total else 1
