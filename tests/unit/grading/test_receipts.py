"""Grade receipts and regrade diffs (autograder/grading/receipt.py): a changed hidden case is named, with
exactly the students and items whose verdicts it changed."""
import json

import numpy as np
import pytest

from autograder import checks, cli, judge
from autograder.authoring.catalogue import build, catalogue
from autograder.grading import per_student, receipt
from autograder.grading.options import Options
from tests.support.floats import floats_mapped

INIT = "04_initialization"
STUDENTS = ["correct", "exact-comparison", "counts-hard-coded"]
ITEM = "symmetry_distinct_units"


@pytest.fixture()
def fresh_cases():
    judge.cases.cache_clear()
    judge.expected.cache_clear()
    yield
    judge.cases.cache_clear()
    judge.expected.cache_clear()


def write_class(folder):
    variants = {v.name: v for v in catalogue()[INIT]}
    for name in STUDENTS:
        (folder / name / INIT).mkdir(parents=True)
        (folder / name / INIT / "lesson.ipynb").write_bytes(build(INIT, variants[name]))
    return folder


def grade(tmp_path, out, diff=None):
    return cli.grade(tmp_path / "class", Options(out=tmp_path / out, workers=2, db="", quiet=True, diff=diff))


def verdicts(out):
    return {(r["student"], i["grade_id"]): (i["points"], i["failed_case"])
            for r in receipt.load(out).values() for i in r["items"]}


@pytest.mark.slow
def test_regrade_after_a_changed_hidden_case_names_exactly_what_it_changed(tmp_path, monkeypatch, fresh_cases, capsys):
    write_class(tmp_path / "class")
    assert grade(tmp_path, "before") in (0, 3)
    first = receipt.load(tmp_path / "before")
    assert sorted(first) == sorted((s, INIT) for s in STUDENTS)
    one = first["correct", INIT]
    assert set(one["hashes"]) == {"submission", "master", "judge", "grader", "environment"}
    assert one["isolation"] and all(i["passed"] for i in one["items"]) and ITEM in one["judge_cases"]

    # the instructor gets one hidden case's answer wrong: the near miss now "has" 2 distinct units
    module = judge.hidden_modules()[INIT]
    original = module.HIDDEN_CASES[ITEM]

    def changed():
        cases = original()
        label, inputs = cases[3]
        assert inputs["distinct"] == 3
        return cases[:3] + [(label, {**inputs, "distinct": 2})] + cases[4:]
    monkeypatch.setitem(module.HIDDEN_CASES, ITEM, changed)
    judge.cases.cache_clear()
    judge.expected.cache_clear()
    capsys.readouterr()
    assert grade(tmp_path, "after", diff=tmp_path / "before") in (0, 3)
    printed = capsys.readouterr().out

    before, after = verdicts(tmp_path / "before"), verdicts(tmp_path / "after")
    moved = {key for key in after if before[key] != after[key]}
    assert ("correct", ITEM) in moved and {gid for _, gid in moved} == {ITEM}

    changes = receipt.diff(first, receipt.load(tmp_path / "after"))
    named = {(c.student, gid) for c in changes for gid, _, _ in c.items}
    assert named == moved
    assert {c.student for c in changes} == set(STUDENTS)  # every receipt of the lesson: its judge changed
    for c in changes:
        assert c.reasons == [f"judge changed (cases of: {ITEM})"], c
    text = (tmp_path / "after" / "regrade_diff.md").read_text()
    assert f"## correct / {INIT}: judge changed (cases of: {ITEM})" in text
    p = next(i["max_points"] for i in one["items"] if i["grade_id"] == ITEM)
    assert f"correct/{INIT} {ITEM}: {p:g} / {p:g}: passed -> 0 / {p:g}: failed on hidden case 4 (" in printed


def test_diff_names_a_changed_submission_and_nothing_else(tmp_path):
    first = {("ann", INIT): {"student": "ann", "lesson": INIT, "hashes": dict.fromkeys(receipt.REASONS, "h"),
                             "judge_cases": {}, "environment": {"lock": "l", "python": "3.12.1", "numpy": "2"},
                             "options": {}, "isolation": "namespaces",
                             "items": [{"grade_id": "a", "points": 1.0, "max_points": 1.0, "passed": True,
                                        "failed_case": None}]}}
    second = {key: json.loads(json.dumps(value)) for key, value in first.items()}
    assert receipt.diff(first, second) == []
    second["ann", INIT]["hashes"]["submission"] = "other"
    second["ann", INIT]["environment"]["python"] = "3.12.2"
    second["ann", INIT]["hashes"]["environment"] = "other"
    second["ann", INIT]["items"][0].update(points=0.0, passed=False, failed_case="shape (2, 3)")
    (change,) = receipt.diff(first, second)
    assert change.reasons == ["submission changed", "environment changed (python 3.12.1 -> 3.12.2)"]
    assert change.items == [("a", "1 / 1: passed", "0 / 1: failed on shape (2, 3)")]
    del second["ann", INIT]
    assert [c.reasons for c in receipt.diff(first, second)] == [["not graded in this run"]]


def test_a_receipt_of_the_older_format_compares_all_but_the_judge():
    old = {"format": 1, "student": "ann", "lesson": INIT, "hashes": dict.fromkeys(receipt.REASONS, "h"),
           "judge_cases": {ITEM: "a hash of float bytes"}, "environment": {"lock": "l"}, "options": {},
           "isolation": "namespaces", "items": []}
    new = {**old, "format": receipt.FORMAT, "judge_cases": {ITEM: receipt.case_fingerprint(ITEM)},
           "hashes": {**old["hashes"], "judge": "other", "master": "other"}}
    (change,) = receipt.diff({("ann", INIT): old}, {("ann", INIT): new})
    assert change.reasons == [f"receipt format changed (1 -> {receipt.FORMAT}): judge not compared", "master changed"]


def largest(x):
    return np.max(np.abs(x[np.isfinite(x)]), initial=0)


def nudged(value, rng):
    """`value` with every float moved as another BLAS kernel might move it: a few units in the last place, and
    1e-12 of its array's largest entry (what an ill-conditioned QR or product can amplify rounding to)."""
    def move(x):
        moved = x * (1 + rng.integers(-8, 9, x.shape) * np.finfo(float).eps) + 1e-12 * largest(x) * rng.standard_normal(x.shape)
        return np.where(np.isfinite(x), moved, x)
    return floats_mapped(value, move)


def moved_once(value):
    """`value` with its first float entry moved by 1e-6 of the array's largest entry (a change a case builder
    could make: far smaller than any the checks see, far larger than rounding)."""
    done = []

    def move(x):
        if not done and x.size:
            done.append(True)
            x.flat[0] += 1e-6 * max(largest(x), 1e-300)
        return x
    return floats_mapped(value, move)


@pytest.mark.parametrize("salted", [False, True])
@pytest.mark.slow
def test_case_fingerprints_ignore_the_last_bits_and_see_every_real_change(monkeypatch, salted):
    """`grade --diff` after moving the course to a machine with other BLAS kernels must not report "judge
    changed": the fingerprints hold under three seeds' worth of last-bit noise on every float of every case,
    and still tell a case moved by 1e-6 in one entry, or a student's own cases, from the course's."""
    real = judge.cases
    salt = (lambda gid: per_student.salt(b"s3cret", "ann", gid)) if salted else (lambda gid: None)
    items = sorted(checks.items())
    before = {gid: receipt.case_fingerprint(gid, salt(gid)) for gid in items}
    for seed in (1, 2, 3):
        rng = np.random.default_rng(seed)
        monkeypatch.setattr(judge, "cases", lambda gid, s=None, rng=rng: [
            judge.Case(c.label, nudged(c.inputs, rng), c.hidden) for c in real(gid, s)])
        after = {gid: receipt.case_fingerprint(gid, salt(gid)) for gid in items}
        assert [gid for gid in items if not receipt.same_cases(before[gid], after[gid])] == [], seed
        assert any(after[gid] != before[gid] for gid in items), "nothing was nudged"

    def one_moved(gid, s=None):
        cases = real(gid, s)
        last = cases[-1]
        return cases[:-1] + [judge.Case(last.label, moved_once(last.inputs), last.hidden)]
    monkeypatch.setattr(judge, "cases", one_moved)
    with_floats = [gid for gid in items if any(before[gid]["values"])]
    assert len(with_floats) > 30
    moved = [gid for gid in with_floats if not receipt.same_cases(before[gid], receipt.case_fingerprint(gid, salt(gid)))]
    assert moved == with_floats
    if salted:
        course = {gid: receipt.case_fingerprint(gid) for gid in items}
        assert sum(not receipt.same_cases(before[gid], course[gid]) for gid in items) > 20
