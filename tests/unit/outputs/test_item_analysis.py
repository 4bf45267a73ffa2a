"""Item analysis (autograder/outputs/item_analysis.py) on classes whose answers are known."""
import math

import numpy as np
import pytest

from autograder.authoring.catalogue import catalogue
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
def graded_lesson(graded_class):
    """Every catalogue variant of lesson 04, graded (the sample class's lesson 04, one student per variant):
    (results by student, variants by name)."""
    results, _, _ = graded_class
    variants = {v.name: v for v in catalogue()[INIT]}
    by_student = {student: r for (student, lesson), r in results.items() if lesson == INIT}
    assert sorted(by_student) == sorted(variants)
    return by_student, variants


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


#: The sample class's flagged rows (make demo, issue 25): five items at one point, one hidden case at the right edge.
DEMO_FLAGGED = [("01_normalizing_inputs", "hessian_values", None, 28, 22, -0.16),
                ("01_normalizing_inputs", "conditioning_values", None, 28, 23, -0.08),
                ("03_vanishing_gradients", "deep_forward_values", None, 44, 37, 0.08),
                ("03_vanishing_gradients", "identity_net_output_test", None, 44, 37, 0.0),
                ("03_vanishing_gradients", "layer_gain_test", None, 44, 37, 0.0),
                ("03_vanishing_gradients", "initial_loss_test", None, 44, 39, 0.13),
                ("03_vanishing_gradients", "layer_diagnostics_test", None, 44, 37, 0.01),
                ("04_initialization", "symmetry_distinct_units", None, 33, 27, -0.04),
                ("04_initialization", "symmetry_distinct_units", "hidden case 1 (one unit)", 28, 27, -0.21),
                ("05_putting_it_together", "usable_lr_largest", None, 27, 22, -0.01),
                ("05_putting_it_together", "usable_lr_diverged", None, 27, 22, -0.01),
                ("05_putting_it_together", "scale_invariance", None, 27, 21, -0.08),
                ("05_putting_it_together", "gradcheck_errors", None, 27, 18, -0.19)]


def crowded_rows(extra):
    """The sample class's flagged rows, unflagged items around them, and `extra` more flagged items packed
    into one corner (a large class), with the longest names a cell id allows."""
    rng = np.random.default_rng(0)
    rows = [item_analysis.Row(*row, flags=["weak discrimination"]) for row in DEMO_FLAGGED]
    rows += [item_analysis.Row("02_batch_norm", f"item_{k}", None, 40, int(rng.integers(25, 40)),
                               float(rng.uniform(0.2, 0.9))) for k in range(30)]
    rows += [item_analysis.Row("05_putting_it_together", "W" * 60 + str(k), None, 30, int(rng.integers(27, 31)),
                               float(rng.uniform(-0.3, 0.1)),
                               flags=["fails 12 correct-looking submissions", "negative discrimination"])
             for k in range(extra)]
    return rows


@pytest.mark.parametrize("extra", [0, 40, 100])
def test_plot_labels_neither_overlap_nor_leave_the_figure(tmp_path, monkeypatch, extra):
    """Every piece of text on item_analysis.png (labels, key, legend, axes) is inside the figure and
    overlaps no other, and every flagged row is named on it (issue 25: five labels piled up, one cut at
    the right edge)."""
    from matplotlib.text import Text
    drawn = []
    monkeypatch.setattr(item_analysis.figure, "save", lambda fig, path: drawn.append(fig))
    rows = crowded_rows(extra)
    item_analysis.plot(rows, tmp_path / "item_analysis.png")
    fig = drawn.pop()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    undrawn = {id(label) for ax in fig.axes for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim()))
               for tick in axis.get_major_ticks() + axis.get_minor_ticks() if not lo <= tick.get_loc() <= hi
               for label in (tick.label1, tick.label2)}  # ticks matplotlib keeps beyond the axes' limits
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in undrawn]
    boxes = [(t.get_text(), Text.get_window_extent(t, renderer)) for t in texts]  # the text, without any leader line
    inside = fig.bbox
    for text, box in boxes:
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1, \
            f"{text!r} is cut at the figure's edge"
    for k, (text, box) in enumerate(boxes):
        for other, other_box in boxes[k + 1:]:
            overlap = min(box.x1, other_box.x1) - max(box.x0, other_box.x0), \
                min(box.y1, other_box.y1) - max(box.y0, other_box.y0)
            assert min(overlap) <= 0, f"{text!r} overlaps {other!r}"
    shown = "\n".join(text for text, _ in boxes)
    flagged = [row for row in rows if row.flags]
    for row in flagged[:item_analysis.KEY_LINES]:
        assert row.grade_id[:30] in shown, f"{row.grade_id} is not named on the plot"
    assert (f"and {len(flagged) - item_analysis.KEY_LINES} more flagged" in shown) == (
        len(flagged) > item_analysis.KEY_LINES)
