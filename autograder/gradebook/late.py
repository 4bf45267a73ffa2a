"""Late submissions, penalized by nbgrader's own rule as the course's nbgrader_config.py sets it.

nbgrader's pieces, used unchanged: the due date of each lesson is the gradebook's
(``nbgrader db assignment add LESSON --duedate=...``), a student's extension is the
gradebook's too, the submission time is nbgrader's ``timestamp.txt``, and the penalty is
computed by the plugin ``c.AssignLatePenalties.plugin_class`` names (by default
``LateSubmissionPlugin``, whose ``c.LateSubmissionPlugin.penalty_method`` is "none" or
"zero"), kept between 0 and the score as ``nbgrader autograde`` keeps it.
"""
from nbgrader.preprocessors import AssignLatePenalties

from autograder.gradebook.nbgrader_cmd import course_config


def rule(root=None):
    """nbgrader's late-penalty preprocessor as the course configures it, plugin loaded.

    Returns
    -------
    rule : nbgrader.preprocessors.AssignLatePenalties
    """
    assigner = AssignLatePenalties(config=course_config(root))
    assigner.init_plugin()
    return assigner


def penalty(rule, student, submission, notebook):
    """The penalty ``nbgrader autograde`` would give one submitted notebook.

    Parameters
    ----------
    rule : AssignLatePenalties, from `rule`
    student : str
    submission : nbgrader.api.SubmittedAssignment, its timestamp, due date and extension
    notebook : nbgrader.api.SubmittedNotebook, its score (manual scores count, as in nbgrader)

    Returns
    -------
    penalty : float or None, None when on time or when the rule gives none
    """
    seconds = submission.total_seconds_late
    if seconds <= 0:
        return None
    points = rule.plugin_inst.late_submission_penalty(student, notebook.score, seconds)
    return None if points is None else rule._check_late_penalty(notebook, points)

