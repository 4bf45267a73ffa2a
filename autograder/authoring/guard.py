"""The guard of every target that deletes or replaces a folder as a whole (`make clean`,
`make bundle`): it stops, naming each thing the deletion would lose that nothing can make
again, unless the target runs with FORCE=1.

What counts: a notebook holding a student's work (`workspace.holds_work`), what a person set
in nbgrader's gradebook (`gradebook.by_hand`; a gradebook that cannot be read counts too, as
it cannot be checked), and submissions in nbgrader's submitted folder other than the sample
class (which `python -m autograder sample-class` marks with `SAMPLE_CLASS_MARKER` at its top).
"""
import os
from pathlib import Path

from autograder.authoring import workspace
from autograder.gradebook.by_hand import Unreadable, set_by_hand

#: The file at the top of a submitted folder that holds the generated sample class, made again by `make demo`.
SAMPLE_CLASS_MARKER = ".sample_class"
#: How many of a kind a refusal names before "and N more".
SHOWN = 5


def guard(folder, target, gradebook=None, submitted=None):
    """Stop (SystemExit, exit status 1) when `target`, about to delete `folder`, `gradebook` and
    `submitted` (each optional), would lose what nothing can make again; one line per reason.
    Returns 0 otherwise."""
    reasons = []
    if folder is not None:
        folder = os.path.relpath(folder)
        reasons.append(workspace.refusal(
            [p for p in Path(folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts],
            f"`{target}` replaces {folder}/ as a whole. To keep the work, move it out of {folder}/ first; "
            f"to discard it, run `{target} FORCE=1`."))
    if gradebook is not None and Path(gradebook).exists():
        reasons.extend(gradebook_refusals(gradebook, target))
    if submitted is not None:
        reasons.append(submitted_refusal(submitted, target))
    reasons = [r for r in reasons if r]
    if reasons:
        raise SystemExit("\n".join(reasons))
    return 0


def gradebook_refusals(gradebook, target):
    """One line per kind of thing a person set in the gradebook at `gradebook` (none: an empty list)."""
    shown = os.path.relpath(gradebook)
    try:
        found = set_by_hand(gradebook)
    except Unreadable as exc:
        return [f"{target} refused: the gradebook {shown} cannot be checked for grades set by hand: {exc}. "
                f"Move it out of the way to keep it; `{target} FORCE=1` deletes it unchecked."]
    return [f"{target} refused: the gradebook {shown} holds what a person set, which it would delete: {kind} "
            f"({len(labels)}): {_named(labels)}. `{target} FORCE=1` deletes them anyway." for kind, labels in found.items()]


def submitted_refusal(submitted, target):
    """The line saying what `submitted` holds besides the sample class, or None when it holds nothing else."""
    submitted = Path(submitted)
    if not submitted.exists() or (submitted / SAMPLE_CLASS_MARKER).is_file():
        return None
    held = sorted({"/".join(Path(top, name).relative_to(submitted).parts[:2])
                   for top, dirs, files in os.walk(submitted)
                   for name in files + [d for d in dirs if os.path.islink(os.path.join(top, d))]})
    if not held:
        return None
    shown = os.path.relpath(submitted)
    return (f"{target} refused: {shown}/ holds submissions ({len(held)}) that are not the sample class (no "
            f"{SAMPLE_CLASS_MARKER} at its top), which it would delete: {_named(held)}. "
            f"`{target} FORCE=1` deletes them anyway.")


def _named(labels):
    more = len(labels) - SHOWN
    return ", ".join(labels[:SHOWN]) + (f" and {more} more" if more > 0 else "")
