"""The grader ranks the catalogue correctly, item by item, and loses nothing."""
import pytest

from autograder import judge
from autograder.authoring.catalogue import catalogue, verdict_problems
from tests.support.files import digest

CASES = [(lesson, v) for lesson, variants in catalogue().items() for v in variants]


@pytest.mark.parametrize("lesson_name,variant", CASES, ids=[f"{l}-{v.name}" for l, v in CASES])
def test_variant_scores_as_a_fair_instructor_would(graded_class, lesson_name, variant):
    results, _, _ = graded_class
    assert verdict_problems(results[(variant.name, lesson_name)], variant) == []


def test_failed_items_say_what_failed(graded_class):
    """A failed item names the case it failed on and what does not hold there, or, when the
    notebook could not be graded at all, the problem that stopped it."""
    results, _, _ = graded_class
    for result in results.values():
        for item in result.items:
            if item.points == item.max_points:
                continue
            where = f"{result.student}/{item.grade_id}"
            first = item.message.split("\n")[0]
            if first.startswith("not graded: "):
                assert result.problems and first == f"not graded: {result.problems[-1]}", where
                continue
            label = next((case.label for case in judge.cases(item.grade_id) if first.startswith(f"{case.label}: ")),
                         None)
            assert label is not None, f"{where}: the message names none of the item's cases: {first!r}"
            what = first[len(label) + 2:]
            assert len(what.split()) >= 3, f"{where}: the message does not say what failed: {first!r}"


def test_submitted_files_are_never_modified(graded_class):
    _, before, folder = graded_class
    assert digest(folder) == before


def test_every_lesson_has_a_catalogue_with_correct_and_untouched(lesson):
    names = {v.name for v in catalogue().get(lesson, [])}
    assert {"correct", "correct-different", "untouched"} <= names, f"{lesson}: catalogue incomplete"
