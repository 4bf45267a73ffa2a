"""Masters stay the only place a lesson is written: a test cell holding anything the grader
would not judge (an extra hidden assert) is refused before release."""
import pytest

from autograder.authoring.lint import master_problems, problems_in_test_cell

GOOD = '''"""Running averages keep `momentum` of the old value."""
check("bn_running_stats", update_running_stats)
### BEGIN HIDDEN TESTS
from autograder.hidden import hidden_check
hidden_check("bn_running_stats", update_running_stats)
### END HIDDEN TESTS
'''


def test_every_master_follows_the_rule(lesson):
    assert master_problems(lesson) == []


def test_the_course_pattern_passes():
    assert problems_in_test_cell(GOOD, "bn_running_stats", ("update_running_stats",)) == []


@pytest.mark.parametrize("source,fragment", [
    (GOOD.replace("### END", "assert update_running_stats(1, 1, 1)[0] != 1e-5\n### END"), "neither check"),
    (GOOD.replace('check("bn_running_stats", update', 'check("bn_inference", update', 1), "should read check("),
    (GOOD.replace('hidden_check("bn_running_stats", update_running_stats)\n', ""), "hidden_check(...) exactly once"),
    (GOOD + 'check("bn_running_stats", update_running_stats)\n', "check(...) exactly once"),
    (GOOD.replace("check(", "check((", 1), "does not parse"),
], ids=["extra-hidden-assert", "other-grade-id", "no-hidden-check", "two-checks", "syntax-error"])
def test_a_cell_the_grader_would_misread_is_refused(source, fragment):
    problems = problems_in_test_cell(source, "bn_running_stats", ("update_running_stats",))
    assert any(fragment in p for p in problems), problems


def test_release_refuses_a_master_with_an_extra_assert(monkeypatch, capsys):
    from autograder.authoring import lint, release
    monkeypatch.setattr(lint, "master_problems", lambda lesson: [f"{lesson}/bn_inference: line 7 extra assert"])
    with pytest.raises(SystemExit) as stop:
        release.release(["02_batch_norm"], into="/nonexistent")
    assert "release refused" in str(stop.value) and "extra assert" in str(stop.value)
