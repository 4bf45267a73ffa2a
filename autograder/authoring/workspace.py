"""Where a student works, and the guard that keeps every target from overwriting that work.

In the course tree, ``notebooks/`` is the generated release and students work in ``work/``
(git-ignored): ``make lab`` copies each released lesson there once and never replaces a copy
that holds work. In the student bundle, its own ``notebooks/`` is the student's.

A notebook "holds work" when it differs from a released copy in what a student writes:
an answer cell whose source no longer matches the checksum nbgrader stored in it at release
(nbgrader's own test for "changed"), a cell the student added, or a file that no longer
parses. Outputs, and edits to locked cells, are not work.
"""
import os
import shutil
from pathlib import Path

RELEASE = "notebooks"
WORK = "work"


def holds_work(path):
    """Why the notebook at `path` holds a student's work.

    Returns
    -------
    reason : str or None
        e.g. "answer cell normalize_inputs changed"; None for a released copy, only run.
    """
    import nbformat
    from nbgrader.utils import compute_checksum, is_solution

    try:
        nb = nbformat.reads(Path(path).read_text(encoding="utf-8"), as_version=4)
    except Exception as exc:  # unreadable is not "empty": someone wrote this file
        return f"it does not parse as a notebook ({type(exc).__name__})"
    changed, added = [], 0
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta or "grade_id" not in meta:
            added += bool(cell.get("source", "").strip())
        elif is_solution(cell) and meta.get("checksum") != compute_checksum(cell):
            changed.append(meta["grade_id"])
    if changed:
        return "answer cell" + "s" * (len(changed) > 1) + " " + ", ".join(changed) + " changed"
    if added:
        return f"{added} cell{'s' * (added > 1)} added"
    return None


def refuse_to_replace(paths, how_to_keep):
    """Stop (SystemExit) when any existing file in `paths` holds work; name each one (`refusal`)."""
    refused = refusal(paths, how_to_keep)
    if refused:
        raise SystemExit(refused)


def refusal(paths, how_to_keep):
    """The message naming each existing file in `paths` that holds work, or None when none does.

    Parameters
    ----------
    paths : iterable of Path, notebooks a target is about to replace or delete
    how_to_keep : str, what the student or instructor can do instead (one sentence)
    """
    found = [(p, holds_work(p)) for p in paths if Path(p).is_file()]
    found = [f"  {os.path.relpath(p)}: {why}" for p, why in found if why]
    if not found:
        return None
    return "refusing to overwrite notebooks that hold a student's work:\n" + "\n".join(found) + f"\n{how_to_keep}"


def make_workspace(release=RELEASE, work=WORK):
    """Copy every released lesson into `work` where it is missing or still untouched, and the files it shows
    (its figures) where they are missing or differ.

    A notebook that holds work is left as it is, whatever the release says.

    Returns
    -------
    list of str, one line per lesson: what was done
    """
    release, work = Path(release), Path(work)
    done = []
    figures = [p for p in release.glob("*/**/*")
             if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts]
    for src in sorted(figures):
        dst = work / src.relative_to(release)  # what a lesson shows (its figures): the course's, not work
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            done.append(f"{'updated' if dst.exists() else 'created'} {os.path.relpath(dst)}")
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    for src in sorted(release.glob("*/lesson.ipynb")):
        dst = work / src.relative_to(release)
        shown = os.path.relpath(dst)
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            done.append(f"created {shown}")
        elif holds_work(dst):
            done.append(f"kept    {shown} (your work)")
        elif dst.read_bytes() != src.read_bytes():
            shutil.copy2(src, dst)
            done.append(f"updated {shown} (it held no work; now the current release)")
    return done
