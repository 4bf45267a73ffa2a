"""The service's poll (autograder/hub_service/service.py) without grading: what it rejects, supersedes, hands
to grading and makes wait, each said once; nbgrader's ExchangeSubmit called in this process as root."""
import io
import os

import pytest

from autograder.authoring.local_exchange import course_id, make_course, make_exchange, submit
from autograder.hub_service import inbound, policy, release
from autograder.hub_service.service import Service

LESSON = "02_batch_norm"


@pytest.fixture
def service(tmp_path):
    exchange, course = make_exchange(tmp_path / "exchange"), make_course(tmp_path / "course")
    (course / policy.FILE).write_text("[defaults]\nper_hour = 2\n")
    log = io.StringIO()
    return Service(exchange, course_id(), course, tmp_path / "state", out=log), exchange, log


def test_an_inbound_that_cannot_be_listed_is_said_once(tmp_path):
    course = make_course(tmp_path / "course")
    log = io.StringIO()
    service = Service(tmp_path / "no-exchange", course_id(), course, tmp_path / "state", out=log)
    for _ in range(3):
        service.poll(lambda *args: pytest.fail("nothing to grade"))
    assert log.getvalue().count("cannot list") == 1


def test_a_spoofed_and_a_malformed_folder_are_rejected_once_and_never_graded(service, tmp_path):
    service, exchange, log = service
    spoofed = submit(exchange, tmp_path / "home", "ada", LESSON, b"{}", owner="daemon")
    (exchange / course_id() / "inbound" / "no plus signs").mkdir()
    for _ in range(2):
        service.poll(lambda *args: pytest.fail("a rejected folder was handed to grading"))
    assert service.journal.step(spoofed.name) == service.journal.step("no plus signs") == "rejected"
    assert log.getvalue().count("skipped inbound folder") == 2


def test_of_two_pending_submissions_of_a_student_the_latest_is_graded_and_the_other_superseded(service, tmp_path):
    service, exchange, log = service
    first = submit(exchange, tmp_path / "home", "root", LESSON, b"{}")
    second = submit(exchange, tmp_path / "home", "root", LESSON, b"{}")
    handed = []
    service.poll(lambda function, submission: handed.append(submission.name))
    assert handed == [second.name] and service.journal.step(first.name) == "superseded"
    service.poll(lambda function, submission: handed.append(submission.name))
    assert handed == [second.name]  # in grading: not handed again


def test_a_submission_named_in_the_future_does_not_stay_the_latest(service, tmp_path):
    service, exchange, log = service
    first = submit(exchange, tmp_path / "home", "root", LESSON, b"{}")
    student, lesson, _, rest = first.name.rsplit("+", 3)
    first = first.rename(first.parent / f"{student}+{lesson}+2099-01-01 00:00:00.000000 UTC+{rest}")
    second = submit(exchange, tmp_path / "home", "root", LESSON, b"{}")
    handed = []
    service.poll(lambda function, submission: handed.append(submission))
    assert [s.name for s in handed] == [second.name] and service.journal.step(first.name) == "superseded"


def test_after_a_restart_the_latest_withheld_page_is_the_latest_received_not_the_latest_named(tmp_path):
    exchange, course = make_exchange(tmp_path / "exchange"), make_course(tmp_path / "course")
    forged = submit(exchange, tmp_path / "home", "root", LESSON, b"{}")
    student, lesson, _, rest = forged.name.rsplit("+", 3)
    forged = forged.rename(forged.parent / f"{student}+{lesson}+2099-01-01 00:00:00.000000 UTC+{rest}")
    honest = submit(exchange, tmp_path / "home", "root", LESSON, b"{}")
    first = Service(exchange, course_id(), course, tmp_path / "state", out=io.StringIO())
    for folder in (forged, honest):  # both graded, their pages withheld until the due date
        first.journal.add(folder.name, "done", score="24 / 24", seconds=0.1, withheld=True)
    restarted = Service(exchange, course_id(), course, tmp_path / "state", out=io.StringIO())
    assert restarted.withheld[("root", LESSON)].name == honest.name


def test_over_the_hourly_limit_a_submission_waits_and_its_feedback_says_when(service, tmp_path):
    service, exchange, log = service
    for k in range(2):
        service.journal.add(f"earlier{k}", "graded", student="root", lesson=LESSON)
    folder = submit(exchange, tmp_path / "home", "root", LESSON, b"{}")
    for _ in range(2):
        service.poll(lambda *args: pytest.fail("graded over the limit"))
    assert service.journal.step(folder.name) == "waiting"
    page = exchange / course_id() / "feedback" / release.feedback_name(inbound.secret(folder))
    assert "is graded at" in page.read_text() and log.getvalue().count("over 2 graded submissions an hour") == 1
    assert os.stat(page).st_mode & 0o777 == 0o644
