"""The gradebook as the one source of a published grade (gradebook/published.py): what a
person set in nbgrader (manual scores, extra credit, comments) and the late penalty are what
the course publishes; the results as graded stay as they were."""
import shutil

import pytest
from nbgrader.api import Gradebook

from autograder.gradebook import nbgrader_cmd, published
from autograder.gradebook import record as gradebook
from autograder.gradebook.process import cell_order
from autograder.grading.grade import load_master
from autograder.grading.results import ItemResult, SubmissionResult
from autograder.outputs import report

LESSON = "02_batch_norm"


def result(student, points=None):
    """Every item of the master at `points` (default: full marks)."""
    return SubmissionResult(student, LESSON, [ItemResult(g, p if points is None else points, p, "said")
                                              for g, p in load_master(LESSON).items])


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    path = tmp_path_factory.mktemp("published") / "gradebook.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", nbgrader_cmd.with_venv_on_path()["PATH"])
        gradebook.record([result("template")], f"sqlite:///{path}")
    return path


@pytest.fixture
def db(registered, tmp_path):
    shutil.copy(registered, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


def test_manual_scores_extra_credit_and_comments_are_published(db):
    graded = [result("ann", points=0), result("bob")]
    gradebook.record(graded, db)
    with Gradebook(db) as gb:
        gb.find_grade("bn_inference", "lesson", LESSON, "ann").manual_score = 1.5
        gb.find_grade("bn_running_stats", "lesson", LESSON, "bob").extra_credit = 0.5
        gb.find_comment("batchnorm_inference", "lesson", LESSON, "ann").manual_comment = "  close: see me  "
        gb.find_comment("batchnorm_forward", "lesson", LESSON, "ann").manual_comment = "look at the axis"
        gb.find_comment("batchnorm_backward", "lesson", LESSON, "ann").manual_comment = "   "  # blank: nothing said
        gb.db.commit()
    views = published.read(db, [("ann", LESSON), ("bob", LESSON), ("cid", LESSON)])
    assert sorted(v["student"] for v in views) == ["ann", "bob"]  # cid was never recorded
    ann, bob = published.apply(graded, views, cell_order)
    points = {i.grade_id: (i.points, i.graded_points) for i in ann.items}
    assert points["bn_inference"] == (1.5, 0)
    assert {k: v for k, v in points.items() if k != "bn_inference"} == {g: (0, None) for g, _ in load_master(LESSON).items
                                                                         if g != "bn_inference"}
    assert ann.comments == [["batchnorm_forward", "look at the axis"], ["batchnorm_inference", "close: see me"]]
    assert bob.raw_score == graded[1].raw_score + 0.5 and bob.comments == []
    with Gradebook(db) as gb:  # the same numbers nbgrader's own export reads
        assert gb.find_submission(LESSON, "ann").score == ann.score
        assert gb.find_submission(LESSON, "bob").score == bob.score
    assert all(i.graded_points is None for r in graded for i in r.items) and graded[0].comments == []  # left as graded


def test_the_feedback_page_shows_the_persons_score_and_comment_escaped():
    graded = result("ann", points=0)
    view = {"student": "ann", "lesson": LESSON, "penalty": 0.0, "seconds_late": 0.0,
            "grades": {"bn_inference": [0.0, 2.0, None]}, "comments": [["batchnorm_inference", "<b>nice</b> & fixed"]]}
    page = report.feedback_page(published.apply([graded], [view])[0])
    assert "2 / 2<br><small>set by your grader; the autograder gave 0</small>" in page
    assert "Comments from your grader" in page and "&lt;b&gt;nice&lt;/b&gt; &amp; fixed" in page
    assert "Comments from your grader" not in report.feedback_page(graded)
