"""The grader ranks the catalogue correctly, item by item, and loses nothing."""
import pytest

from tests.catalogue import catalogue, verdict_problems
from tests.conftest import digest

CASES = [(lesson, v) for lesson, variants in catalogue().items() for v in variants]


@pytest.mark.parametrize("lesson_name,variant", CASES, ids=[f"{l}-{v.name}" for l, v in CASES])
def test_variant_scores_as_a_fair_instructor_would(graded_class, lesson_name, variant):
    results, _, _ = graded_class
    assert verdict_problems(results[(variant.name, lesson_name)], variant) == []


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
