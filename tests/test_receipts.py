"""Grade receipts and regrade diffs (autograder/receipt.py): a changed hidden case is named, with
exactly the students and items whose verdicts it changed."""
import json

import pytest

from autograder import cli, judge, receipt
from tests.catalogue import build, catalogue

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
    return cli.grade(tmp_path / "class", tmp_path / out, 2, "", quiet=True, diff=diff)


def verdicts(out):
    return {(r["student"], i["grade_id"]): (i["points"], i["failed_case"])
            for r in receipt.load(out).values() for i in r["items"]}


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
