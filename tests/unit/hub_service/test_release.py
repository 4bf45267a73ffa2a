"""Feedback released under nbgrader's hash (autograder/hub_service/release.py) is what nbgrader's own
ExchangeFetchFeedback fetches for that submission and no other."""
import os
import pwd

from autograder.authoring.local_exchange import course_id, fetch_feedback, make_exchange, submit
from autograder.hub_service import inbound, release

LESSON = "02_batch_norm"


def test_nbgraders_fetch_feedback_finds_the_released_page_of_that_submission_only(tmp_path):
    exchange = make_exchange(tmp_path / "exchange")
    ada, ben = tmp_path / "ada", tmp_path / "ben"
    first = submit(exchange, ada, "ada", LESSON, b"{}")
    submit(exchange, ben, "ben", LESSON, b"{}")
    nobody = pwd.getpwnam("nobody")
    owner = (nobody.pw_uid, nobody.pw_gid)
    folder = release.feedback_folder(exchange, course_id(), owner)
    path = release.release(folder, inbound.secret(first), "<p>ada's page</p>", owner)
    assert (folder.stat().st_uid, folder.stat().st_mode & 0o777) == (nobody.pw_uid, 0o755)
    assert (path.stat().st_uid, path.stat().st_mode & 0o777) == (nobody.pw_uid, 0o644)
    assert list(fetch_feedback(exchange, ada, "ada", LESSON).values()) == ["<p>ada's page</p>"]
    assert fetch_feedback(exchange, ben, "ben", LESSON) == {}
    assert sorted(os.listdir(folder)) == [path.name]  # nothing half written left beside it
