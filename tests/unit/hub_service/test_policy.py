"""What a student sees and how often (autograder/hub_service/policy.py): the course's
grading_on_submit.toml with its defaults, the hourly limit, and a withheld page that says nothing a
hidden case decided."""
from datetime import datetime

import pytest

from autograder.grading.results import ItemResult, SubmissionResult
from autograder.hub_service import policy
from autograder.judge import HIDDEN_LABEL
from autograder.worker.course import ROOT


def test_without_a_file_hidden_details_are_withheld_and_six_an_hour_are_graded(tmp_path):
    rules, problems = policy.load(tmp_path)
    assert problems == [] and rules("02_batch_norm") == policy.LessonPolicy("visible", "withheld", 6, None)
    assert rules("02_batch_norm").withholds(datetime(2100, 1, 1))


def test_a_lesson_overrides_the_defaults_and_its_due_date_ends_the_withholding(tmp_path):
    (tmp_path / policy.FILE).write_text('[defaults]\nper_hour = 3\n[lessons.02_batch_norm]\nfeedback = "visible"\n'
                                        'due = "2027-01-15 23:59:00 UTC"\n[lessons.03_x]\nfeedback = "at_once"\n')
    rules, problems = policy.load(tmp_path)
    assert problems == []
    lesson = rules("02_batch_norm")
    assert (lesson.per_hour, lesson.due) == (3, datetime(2027, 1, 15, 23, 59))
    assert lesson.withholds(datetime(2027, 1, 15)) and not lesson.withholds(datetime(2027, 1, 16))
    assert rules("03_x").feedback == "at_once" and not rules("03_x").withholds(datetime(2000, 1, 1))


def test_the_courses_own_file_parses_without_a_problem():
    assert policy.load(ROOT)[1] == []


@pytest.mark.parametrize("text, said", [
    ("[defaults\n", "does not parse"),
    ('[defaults]\nfeedback = "never"\n', "is not a setting"),
    ("[defaults]\nper_hour = 0\n", "is not a setting"),
    ('[lessons.02_batch_norm]\ndue = "next week"\n', "is not a date"),
])
def test_a_setting_that_is_wrong_is_named_and_the_defaults_apply(tmp_path, text, said):
    (tmp_path / policy.FILE).write_text(text)
    rules, problems = policy.load(tmp_path)
    assert len(problems) == 1 and said in problems[0]
    assert rules("02_batch_norm").withholds(datetime(2100, 1, 1))


def test_the_limit_lets_per_hour_through_then_waits_for_the_oldest_to_leave_the_hour():
    now = 10_000.0
    assert policy.next_slot([], 2, now) == now
    assert policy.next_slot([now - 4000, now - 100], 2, now) == now  # the first is over an hour old
    assert policy.next_slot([now - 3000, now - 100], 2, now) == now - 3000 + policy.HOUR
    assert policy.next_slot([now - 3000, now - 2000, now - 100], 2, now) == now - 2000 + policy.HOUR


def result():
    return SubmissionResult("ada", "02_batch_norm", items=[
        ItemResult("a", 2.0, 2.0, "correct: every case"),
        ItemResult("b", 0.0, 3.0, "visible case 1: Z_norm has the wrong mean", hint="normalized over the batch axis"),
        ItemResult("c", 0.0, 5.0, f"{HIDDEN_LABEL}2 (m = 1): the output is not finite", hint="SECRET-HINT",
                   failed_case=f"{HIDDEN_LABEL}2 (m = 1)"),
    ], incidents=["case c#7: timed out"])


def test_the_withheld_page_shows_visible_failures_and_nothing_a_hidden_case_decided():
    page = policy.withheld_page(result(), policy.LessonPolicy(due=datetime(2027, 1, 15, 23, 59)))
    assert "Z_norm has the wrong mean" in page
    assert "Likely mistake: normalized over the batch axis." in page  # a visible case's: Validate shows it too
    assert HIDDEN_LABEL not in page and "SECRET-HINT" not in page and "not finite" not in page
    assert "timed out" not in page  # a case's incident may be a hidden case's
    assert "2 / 10" not in page and "shown after the due date (2027-01-15 23:59 UTC)" in page
    shown = policy.withheld_page(result(), policy.LessonPolicy(total="shown"))
    assert "Score: 2 / 10 points" in shown and "SECRET-HINT" not in shown
