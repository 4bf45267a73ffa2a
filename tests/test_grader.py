"""The grader ranks the catalogue correctly, item by item, and loses nothing."""
import pytest

from tests.catalogue import catalogue
from tests.conftest import digest

CASES = [(lesson, v) for lesson, variants in catalogue().items() for v in variants]


@pytest.mark.parametrize("lesson_name,variant", CASES, ids=[f"{l}-{v.name}" for l, v in CASES])
def test_variant_scores_as_a_fair_instructor_would(graded_class, lesson_name, variant):
    results, _, _ = graded_class
    result = results[(variant.name, lesson_name)]
    for item in result.items:
        lost = variant.lose_all or item.grade_id in variant.lose
        if lost:
            assert item.points == 0, f"{item.grade_id} should score 0: {item.message}"
        else:
            assert item.points == item.max_points, f"{item.grade_id} should keep full marks: {item.message}"
        hint = variant.lose.get(item.grade_id)
        if hint:
            assert item.hint and hint in item.hint, f"{item.grade_id}: expected a hint about {hint!r}, got {item.hint!r}"
    assert set(variant.lose) <= {i.grade_id for i in result.items}, "catalogue names an item the lesson lacks"
    notes = " ".join(result.problems + result.incidents)
    if variant.problem:
        assert variant.problem in notes, f"the report should name {variant.problem!r}; it says {notes!r}"
    elif not variant.lose_all:
        assert notes == "", f"unexpected problems reported: {notes}"


def test_failed_items_say_what_failed(graded_class):
    results, _, _ = graded_class
    for result in results.values():
        for item in result.items:
            if item.points < item.max_points:
                assert len(item.message) > 20, f"{result.student}/{item.grade_id}: feedback too vague"


def test_submitted_files_are_never_modified(graded_class):
    _, before, folder = graded_class
    assert digest(folder) == before


def test_every_lesson_has_a_catalogue_with_correct_and_untouched(lesson):
    names = {v.name for v in catalogue().get(lesson, [])}
    assert {"correct", "correct-different", "untouched"} <= names, f"{lesson}: catalogue incomplete"
