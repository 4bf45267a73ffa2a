"""Grade receipts, and what changed between two gradings of a class.

Each graded submission gets ``OUT/receipts/<student>/<lesson>.json``: the hashes of what
decided its grade, each on its own so a later regrade can say which one moved,

- ``submission``: the lesson folder as graded (`store.submission_digest`);
- ``master``: the lesson's master notebook (its reference solution);
- ``judge``: the lesson's own check and judge modules and every case the judge used
  (``cases`` keeps one `case_fingerprint` per item, so a changed hidden case names its item;
  the expected answers follow from the cases, the master and these modules);
- ``grader``: the rest of the code that decides verdicts (`store.VERDICT_CODE`);
- ``environment``: ``requirements.lock`` with the Python and NumPy versions that ran;

with the isolation level the student's code ran under, the grading options and the
per-item verdicts. ``grade --diff PREVIOUS`` compares the receipts of this run with those
of PREVIOUS (an earlier output folder, or its receipts folder) and writes ``regrade_diff.md``:
per student and item, what changed and why.
"""
import hashlib
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import checks, judge
from autograder.grading import per_student
from autograder.grading.options import Options
from autograder.grading.store import VERDICT_CODE, digest_files, lesson_modules
from autograder.outputs import atomic
from autograder.outputs.report import md_text
from autograder.worker import wire
from autograder.worker.course import ROOT, SOLUTIONS

FORMAT = 2  # 2: ``judge_cases`` holds `case_fingerprint`s (1: exact hashes of float bytes)
LOCK = "requirements.lock"
#: Component -> the sentence a regrade diff gives when its hash changed.
REASONS = {"submission": "submission changed", "master": "master changed", "judge": "judge changed",
           "grader": "grader code changed", "environment": "environment changed"}


#: Two fingerprints of an item's cases whose values differ by less than this are the same cases:
#: far above what BLAS kernels change (the last bits, about 1e-15 of an array's norm) and far
#: below any change a case builder makes on purpose.
CASE_TOLERANCE = 1e-9
_PROJECTIONS = 4  # random directions each float array is measured along


def case_fingerprint(grade_id, salt=None):
    """What identifies an item's cases on any machine; with a `salt`, one student's cases (per_student.py).

    The inputs the case builders make are split into what is exact (labels, types, shapes,
    integers, text, where a float is not finite), hashed, and the finite floats, which a
    BLAS kernel may change in the last bits (``np.linalg.qr``, ``@``): each array is measured
    by its norm and along fixed random directions, and compared with `CASE_TOLERANCE`
    (`same_cases`). Answers computed from the cases (the reference's, the known mistakes')
    are left out: the master, and the lesson's modules that compute them, have hashes of their own.

    Returns
    -------
    fingerprint : {"exact": sha256 hex, "values": list of 2 * _PROJECTIONS floats}
    """
    item = checks.items()[grade_id]
    derived = {checks.ANSWER, checks.KNOWN, *item.reference_inputs}
    exact, floats = [], []
    for case in judge.cases(grade_id, salt):
        made = {k: v for k, v in case.inputs.items() if k not in derived}
        exact.append([case.label, case.hidden, _skeleton(made, floats)])
    values = np.zeros(2 * _PROJECTIONS)
    for k, x in enumerate(floats):
        norm = float(np.sqrt(np.sum(x * x)))
        if norm == 0:
            continue  # an all-zero array is in the exact part
        rng = np.random.default_rng([k, x.size])
        values[:_PROJECTIONS] += np.sum(rng.standard_normal((_PROJECTIONS, x.size)) * x, axis=1) / norm
        values[_PROJECTIONS:] += np.log(norm) * rng.standard_normal(_PROJECTIONS)
    return {"exact": _hash(exact), "values": [float(v) for v in values]}


def _skeleton(value, floats):
    """`value` as exact JSON data, each float array or float replaced by its shape and dtype (its
    finite entries appended to `floats`, as float64)."""
    if isinstance(value, (float, np.floating, np.complexfloating)) or (
            isinstance(value, np.ndarray) and value.dtype.kind in "fc"):
        array = np.asarray(value)
        real = array.view(array.real.dtype) if array.dtype.kind == "c" else array
        finite = np.isfinite(real)
        floats.append(np.where(finite, real, 0).astype(np.float64).ravel())
        return {"float": str(array.dtype), "shape": list(array.shape),
                "not finite": [[int(i), repr(float(real.flat[i]))] for i in np.flatnonzero(~finite)]}
    if isinstance(value, np.ndarray):
        return {"array": str(value.dtype), "shape": list(value.shape), "values": value.tolist()}
    if isinstance(value, dict):
        return {"dict": [[str(k), _skeleton(v, floats)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [_skeleton(v, floats) for v in value]}
    if isinstance(value, np.generic):
        return {type(value).__name__: value.item()}
    if value is None or isinstance(value, (bool, int, str)):
        return {type(value).__name__: value}
    return {"other": wire.type_name(wire.roundtrip(value))}


def same_cases(a, b):
    """Whether two `case_fingerprint`s are of the same cases (False for anything else, e.g. an
    older receipt's hash)."""
    return (isinstance(a, dict) and isinstance(b, dict) and a.get("exact") == b.get("exact")
            and len(a.get("values", ())) == len(b.get("values", ())) == 2 * _PROJECTIONS
            and bool(np.allclose(a["values"], b["values"], rtol=0, atol=CASE_TOLERANCE)))


def environment():
    """What ran the grader: the lock file's hash and the interpreter's and NumPy's versions."""
    return {"lock": digest_files([LOCK]), "python": platform.python_version(), "numpy": np.__version__}


def _hash(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


class Receipts:
    """Hashes shared by a run's receipts, computed once (a lesson's cases are the same for every student)."""

    def __init__(self, options: Options = Options()):
        lesson_files = {f for files in lesson_modules().values() for f in files}
        self.grader = digest_files([p for p in VERDICT_CODE if p != LOCK], ROOT, leave_out=lesson_files)
        self.environment = environment()
        self.options, self.secret = options.fingerprint(), options.secret
        self._lessons = {}

    def lesson(self, lesson, grade_ids, student):
        key = lesson if self.secret is None else (lesson, student)  # per-student cases: per student
        if key not in self._lessons:
            cases = {gid: case_fingerprint(gid, per_student.salt(self.secret, student, gid))
                     for gid in grade_ids if gid in checks.items()}
            modules = digest_files(lesson_modules().get(lesson, []), ROOT)
            self._lessons[key] = {"master": digest_files([str(SOLUTIONS.relative_to(ROOT) / lesson / "lesson.ipynb")]),
                                  "judge": _hash([modules, {gid: c["exact"] for gid, c in cases.items()}]),
                                  "cases": cases}
        return self._lessons[key]

    def receipt(self, result, submission):
        """The receipt of one graded `result`; `submission` is the hash of its folder as graded."""
        lesson = self.lesson(result.lesson, [i.grade_id for i in result.items], result.student)
        return {"format": FORMAT, "student": result.student, "lesson": result.lesson,
                "hashes": {"submission": submission, "master": lesson["master"], "judge": lesson["judge"],
                           "grader": self.grader, "environment": _hash(self.environment)},
                "judge_cases": lesson["cases"], "environment": self.environment, "options": self.options,
                "isolation": result.isolation, "raw_score": result.raw_score, "max_score": result.max_score,
                "items": [{"grade_id": i.grade_id, "points": i.points, "max_points": i.max_points,
                           "passed": i.points == i.max_points, "failed_case": i.failed_case,
                           "message": i.message} for i in result.items]}


def folder(out):
    return Path(out) / "receipts"


def write_all(receipts, out):
    """Write each receipt to OUT/receipts/<student>/<lesson>.json, together (see `atomic.together`), then
    (unless inside an outer `together` block, whose owner calls it once all has landed) `remove_stale`."""
    nested = atomic.staging()
    with atomic.together():
        for r in receipts:
            atomic.write(folder(out) / r["student"] / f"{r['lesson']}.json", json.dumps(r, indent=1, sort_keys=True))
    if not nested:
        remove_stale(receipts, out)


def remove_stale(receipts, out):
    """Remove the receipts of submissions no longer in the class (the graded results are what they describe)."""
    current = {(r["student"], r["lesson"]) for r in receipts}
    for path in sorted(folder(out).glob("*/*.json")):
        if (path.parent.name, path.stem) not in current and not path.is_symlink():
            path.unlink()


def load(previous):
    """(student, lesson) -> receipt, from an output folder or a receipts folder; {} when there are none."""
    previous = Path(previous)
    root = folder(previous) if folder(previous).is_dir() else previous
    found = {}
    for path in sorted(root.glob("*/*.json")):
        try:
            data = json.loads(path.read_bytes())
            found[data["student"], data["lesson"]] = data
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


@dataclass
class Change:
    """What changed for one submission between two gradings."""
    student: str
    lesson: str
    reasons: list = field(default_factory=list)  # e.g. ["judge changed (hidden cases of: item_a)"]
    items: list = field(default_factory=list)  # (grade_id, before, after), each "1 / 2: <verdict>"


def _verdict(item):
    if item is None:
        return "not graded"
    shown = f"{item['points']:g} / {item['max_points']:g}"
    return shown + (": passed" if item["passed"] else f": failed on {item.get('failed_case') or 'the item as a whole'}")


def _reasons(old, new):
    reasons, comparable = [], old.get("format") == new.get("format")
    if not comparable:  # the judge's hashes are not comparable across formats; the others are
        reasons.append(f"receipt format changed ({old.get('format')} -> {new.get('format')}): judge not compared")
    cases = [g for g in new["judge_cases"] if not same_cases(old.get("judge_cases", {}).get(g), new["judge_cases"][g])]
    for key, sentence in REASONS.items():
        if key == "judge" and not comparable:
            continue
        if old["hashes"].get(key) != new["hashes"].get(key) or (key == "judge" and cases):
            if key == "judge":
                sentence += f" (cases of: {', '.join(cases)})" if cases else " (its code)"
            elif key == "environment":
                moved = [f"{k} {old['environment'].get(k)} -> {v}" for k, v in new["environment"].items()
                         if k != "lock" and old["environment"].get(k) != v]
                if old["environment"].get("lock") != new["environment"]["lock"]:
                    moved.append("requirements.lock")
                sentence += f" ({'; '.join(moved)})" if moved else ""
            reasons.append(sentence)
    if old.get("options") != new.get("options"):
        reasons.append("grading options changed")
    if old.get("isolation") != new.get("isolation"):
        reasons.append(f"isolation changed ({old.get('isolation')} -> {new.get('isolation')})")
    return reasons


def diff(before, after):
    """What changed per submission between two sets of receipts (see `load`).

    Returns
    -------
    changes : list of Change, by student then lesson; a submission with no changed hash and no
        changed item is left out
    """
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            changes.append(Change(*key, ["graded for the first time" if old is None else "not graded in this run"]))
            continue
        items_old = {i["grade_id"]: i for i in old["items"]}
        items_new = {i["grade_id"]: i for i in new["items"]}
        moved = [(g, _verdict(items_old.get(g)), _verdict(items_new.get(g)))
                 for g in list(items_new) + [g for g in items_old if g not in items_new]
                 if _verdict(items_old.get(g)) != _verdict(items_new.get(g))]
        reasons = _reasons(old, new)
        if moved and not reasons:
            reasons = ["nothing recorded changed: the grading is not reproducible (a timeout or a crash?)"]
        if reasons:
            changes.append(Change(*key, reasons, moved))
    return changes


def markdown(changes, previous):
    """regrade_diff.md: one section per submission that changed."""
    lines = ["# What changed since the previous grading", "", f"Compared with {md_text(previous)}.", ""]
    same = [c for c in changes if not c.items]
    for c in changes:
        if c.items:
            lines += [f"## {md_text(c.student)} / {md_text(c.lesson)}: {md_text('; '.join(c.reasons))}", ""]
            lines += [f"- {md_text(g)}: {md_text(old)} -> {md_text(new)}" for g, old, new in c.items] + [""]
    if same:
        lines += ["## Same verdicts", ""]
        lines += [f"- {md_text(c.student)} / {md_text(c.lesson)}: {md_text('; '.join(c.reasons))}" for c in same]
    if not changes:
        lines.append("Nothing changed.")
    return "\n".join(lines) + "\n"
