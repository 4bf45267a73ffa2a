"""Wherever a verdict is shown, an item that fails while an item it runs through
(`Item.depends_on`) fails too says to fix that one first: the notebook's test cell
(`check`, which Validate shows), `selfcheck` and the graded feedback, all in the words of
`checks.dependency_note`. Proven on the catalogue's wrong-but-plausible submissions.
"""
import contextlib
import io

import pytest

from autograder import checks
from autograder.authoring.catalogue import build, catalogue
from autograder.student import selfcheck
from tests.support.student_kernel import student_namespace

NOTE = "runs through functions that"


def variant(lesson, name):
    return next(v for v in catalogue()[lesson] if v.name == name)


def dependents_with_failed_dependencies(v):
    """{item it loses: the items it depends on that it loses too} of a catalogue variant."""
    return {gid: [d for d in checks.items()[gid].depends_on if d in v.lose]
            for gid in v.lose if any(d in v.lose for d in checks.items()[gid].depends_on)}


#: Every catalogue mistake that costs an item through another item it depends on.
THROUGH = [(lesson, v) for lesson, variants in catalogue().items() for v in variants
           if not (v.untouched or v.lose_all or v.problem or v.hidden_only) and dependents_with_failed_dependencies(v)]
#: Mistakes in the dependent item's own function alone: no note.
ALONE = [("02_batch_norm", "layernorm-backward-batch-norm-axis", "ln_backward_gradient"),
         ("02_batch_norm", "backward-ignores-batch-stats", "bn_backward_gradient"),
         ("01_normalizing_inputs", "own-stats-per-split", "normalize_splits_train_stats")]


def notebook_message(lesson, v, grade_id):
    """What the test cell `check(grade_id, ...)` shows in the student's kernel ("" if it passes)."""
    namespace = student_namespace(lesson, v)
    functions = [namespace[name] for name in checks.items()[grade_id].functions]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            checks.check(grade_id, *functions)
    except checks.CheckFailed as failed:
        return str(failed)
    return ""


def test_the_catalogue_has_mistakes_that_reach_an_item_through_another():
    names = {(lesson, v.name) for lesson, v in THROUGH}
    assert {("02_batch_norm", "layernorm-batch-norm-axis"), ("02_batch_norm", "wrong-axis"),
            ("01_normalizing_inputs", "sample-variance")} <= names, names


@pytest.mark.parametrize("lesson_name,v", THROUGH, ids=[f"{l}-{v.name}" for l, v in THROUGH])
def test_the_notebook_and_the_feedback_say_to_fix_the_dependency_first(graded_class, lesson_name, v):
    results, _, _ = graded_class
    graded = {item.grade_id: item for item in results[(v.name, lesson_name)].items}
    for grade_id, first in dependents_with_failed_dependencies(v).items():
        shown = " ".join(notebook_message(lesson_name, v, grade_id).split())
        assert shown, f"{grade_id} passes in the notebook"
        note = checks.dependency_note(grade_id, set(first))
        assert note and note in shown, f"{grade_id}: the notebook does not say to fix {first} first: {shown}"
        assert note in graded[grade_id].message, f"{grade_id}: the feedback lacks the note: {graded[grade_id].message}"


@pytest.mark.parametrize("lesson_name,name,grade_id", ALONE)
def test_a_mistake_of_the_item_alone_gets_no_note(graded_class, lesson_name, name, grade_id):
    results, _, _ = graded_class
    graded = {item.grade_id: item for item in results[(name, lesson_name)].items}
    shown = notebook_message(lesson_name, variant(lesson_name, name), grade_id)
    assert shown and NOTE not in shown, shown
    assert graded[grade_id].points == 0 and NOTE not in graded[grade_id].message, graded[grade_id].message


@pytest.mark.parametrize("lesson_name,name,dependent,first", [
    ("02_batch_norm", "layernorm-batch-norm-axis", "ln_backward_gradient", "ln_forward_normalizes"),
    ("01_normalizing_inputs", "sample-variance", "normalize_splits_train_stats", "mean_variance_values"),
    ("02_batch_norm", "layernorm-backward-batch-norm-axis", "ln_backward_gradient", None)])
@pytest.mark.slow
def test_selfcheck_says_to_fix_the_dependency_first(tmp_path, capsys, lesson_name, name, dependent, first):
    path = tmp_path / "lesson.ipynb"
    path.write_bytes(build(lesson_name, variant(lesson_name, name)))
    assert selfcheck.selfcheck(path) == 1
    lines = capsys.readouterr().out.split("\u2717 ")
    verdict = " ".join(next(line for line in lines if line.startswith(f"{dependent} ")).split())
    if first is None:
        assert NOTE not in verdict, verdict
    else:
        assert checks.dependency_note(dependent, {first}) in verdict, verdict
