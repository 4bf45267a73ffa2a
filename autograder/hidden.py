"""The single entry point of every hidden test cell.

A master's test cell ends with::

    ### BEGIN HIDDEN TESTS
    from autograder.hidden import hidden_check
    hidden_check("bn_forward_normalizes", batchnorm_forward)
    ### END HIDDEN TESTS

Inside a trusted kernel (the master under `nbgrader validate`, or plain `nbgrader
autograde`) this judges in-process. The course's own `grade` command never executes
test cells: it collects the student's outputs in a sandbox and judges them outside it.
"""
from autograder.checks import CheckFailed
from autograder.judge import judge_functions
from autograder.worker.wording import with_likely_mistake


def hidden_check(grade_id, *functions):
    """Judge `functions` on the visible and hidden cases; raise `CheckFailed` on failure."""
    verdict = judge_functions(grade_id, functions)
    if not verdict.passed:
        raise CheckFailed(with_likely_mistake(verdict.message, verdict.hint, indent="  "))
