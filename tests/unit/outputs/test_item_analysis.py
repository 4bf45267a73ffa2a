"""Item analysis (autograder/outputs/item_analysis.py) on classes whose answers are known."""
import math

import pytest

from autograder.authoring.catalogue import build, catalogue
from autograder.grading.grade import grade_class
from autograder.grading.results import ItemResult, SubmissionResult
from autograder.outputs import item_analysis, report

INIT = "04_initialization"
VISIBLE = "shape (2, 3)"  # a visible case label: the judge names visible cases by what they are


def synthetic_class():
    """20 students of one lesson; student k passes exactly the items whose rule holds for k."""
    rules = {"all": lambda k: True, "none": lambda k: False, "base": lambda k: k >= 5,
             "mid": lambda k: k >= 10, "strong": lambda k: k >= 15, "weak_only": lambda k: k < 5}
    results = []
    for k in range(20):
        items = []
        for gid, rule in rules.items():
            if rule(k):
                items.append(ItemResult(gid, 1.0, 1.0, "correct"))
            elif gid == "mid":  # half of its failures on hidden case 2, the others on a visible case
                items.append(ItemResult(gid, 0.0, 1.0, "x", failed_case="hidden case 2 (big)" if k % 2 else VISIBLE))
            elif gid == "none":
                items.append(ItemResult(gid, 0.0, 1.0, "x", failed_case="hidden case 1 (edge)"))
            else:
                items.append(ItemResult(gid, 0.0, 1.0, "x", failed_case=VISIBLE))
        results.append(SubmissionResult(f"s{k:02d}", "L", items))
    return results, rules


def textbook_point_biserial(passed, scores):
    """r_pb = (M1 - M0) / s_n * sqrt(p q): the textbook formula, independent of the module's."""
    ones = [s for p, s in zip(passed, scores) if p]
    zeros = [s for p, s in zip(passed, scores) if not p]
    mean = sum(scores) / len(scores)
    s_n = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
    p = len(ones) / len(scores)
    return (sum(ones) / len(ones) - sum(zeros) / len(zeros)) / s_n * math.sqrt(p * (1 - p))


def test_shares_discrimination_and_flags_on_a_class_with_known_answers(tmp_path):
    results, rules = synthetic_class()
    rows = {(r.grade_id, r.case): r for r in item_analysis.analyse(results)}
    totals = [sum(rule(k) for rule in rules.values()) for k in range(20)]
    for gid, rule in rules.items():
        row = rows[gid, None]
        passed = [rule(k) for k in range(20)]
        assert (row.reached, row.passed) == (20, sum(passed)), gid
        if 0 < sum(passed) < 20:
            rest = [t - p for t, p in zip(totals, passed)]
            assert row.discrimination == pytest.approx(textbook_point_biserial(passed, rest)), gid
    assert rows["all", None].flags == ["everybody passes"] and rows["all", None].discrimination is None
    assert rows["none", None].flags == ["nobody passes"]
    assert rows["strong", None].discrimination > 0.5 and not rows["strong", None].flags
    assert rows["weak_only", None].discrimination < 0 and rows["weak_only", None].flags == ["negative discrimination"]
    # hidden case 2 of "mid": reached by the 10 who pass and the 5 who fail on it, not by those failing earlier
    case = rows["mid", "hidden case 2 (big)"]
    assert (case.reached, case.passed) == (15, 10)
    assert not any("correct-looking" in f for f in case.flags)  # each of them fails "base" or more on visible cases
    edge = rows["none", "hidden case 1 (edge)"]
    assert (edge.reached, edge.passed) == (20, 0)
    # passing every visible case: only students failing nothing but hidden cases (none of the 20: weak_only or
    # base fails them on a visible case)
    assert not any("correct-looking" in f for f in edge.flags)


def test_a_hidden_case_failing_correct_looking_work_is_flagged():
    results, _ = synthetic_class()
    lookalike = SubmissionResult("z", "L", [ItemResult(i.grade_id, i.max_points, i.max_points, "correct")
                                            for i in results[0].items])
    lookalike.items[1] = ItemResult("none", 0.0, 1.0, "x", failed_case="hidden case 1 (edge)")
    rows = {(r.grade_id, r.case): r for r in item_analysis.analyse(results + [lookalike])}
    assert rows["none", "hidden case 1 (edge)"].flags == ["fails 1 correct-looking submission"]
    lookalike.problems.append("a cell was deleted")  # not correct-looking any more
    rows = {(r.grade_id, r.case): r for r in item_analysis.analyse(results + [lookalike])}
    assert rows["none", "hidden case 1 (edge)"].flags == []


def test_summary_has_the_section_and_the_plot(tmp_path):
    results, _ = synthetic_class()
    text = report.summary(results, [], tmp_path)
    assert "## Item analysis" in text and "| L | all |  | 20 / 20 (100%) | n/a | everybody passes |" in text
    assert (tmp_path / "item_analysis.png").read_bytes()[:4] == b"\x89PNG"


@pytest.fixture(scope="module")
def graded_lesson(tmp_path_factory):
    """Every catalogue variant of lesson 04, graded: (results by student, variants by name)."""
    folder = tmp_path_factory.mktemp("init_class")
    variants = {v.name: v for v in catalogue()[INIT]}
    for v in variants.values():
        (folder / v.name / INIT).mkdir(parents=True)
        (folder / v.name / INIT / v.filename).write_bytes(build(INIT, v))
    results, _ = grade_class(folder)
    return {r.student: r for r in results}, variants


def test_catalogue_class_shares_are_the_known_ones(graded_lesson):
    results, variants = graded_lesson
    rows = [r for r in item_analysis.analyse(list(results.values())) if r.case is None]
    assert rows
    for row in rows:
        keep = [n for n, v in variants.items() if not v.lose_all and row.grade_id not in v.lose]
        assert (row.reached, row.passed) == (len(variants), len(keep)), row.grade_id


def test_catalogue_hard_coded_answers_fail_a_hidden_case_flagged_correct_looking(graded_lesson):
    results, variants = graded_lesson
    hard_coded = [n for n, v in variants.items() if v.hidden_only]
    assert hard_coded
    rows = item_analysis.analyse(list(results.values()))
    for name in hard_coded:
        lost = [i for i in results[name].items if i.points < i.max_points]
        assert lost and all(item_analysis.hidden_index(i.failed_case) for i in lost)
        for item in lost:
            row = next(r for r in rows if r.grade_id == item.grade_id and r.case == item.failed_case)
            assert any("correct-looking" in f for f in row.flags), row
    # a mistake that shows on a visible case never counts as correct-looking
    shown = [n for n, v in variants.items() if v.lose and not v.hidden_only]
    assert shown and not any(item_analysis.correct_looking(results[n]) for n in shown)
