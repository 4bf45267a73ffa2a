"""Reading nbgrader's inbound without trusting it (autograder/hub_service/inbound.py): names that parse
as nbgrader's collect parses them, the owner who must be the student named, folders nbgrader is still
writing, and a collection that follows no link, keeps within bounds and never modifies the submission."""
import os
import pwd
import time
from datetime import datetime, timedelta, timezone

import pytest
from nbgrader.utils import parse_utc

from autograder.authoring.local_exchange import make_exchange, submit
from autograder.hub_service import inbound

LESSON = "02_batch_norm"
NOBODY = pwd.getpwnam("nobody")
NAME = "ada+02_batch_norm+2026-12-06 20:04:10.927383 UTC+p99didQMXA4d"


def test_a_name_nbgrader_submit_wrote_parses_to_its_student_lesson_and_utc_time(tmp_path):
    exchange = make_exchange(tmp_path / "exchange")
    folder = submit(exchange, tmp_path / "home", "ada", LESSON, b"{}")
    parsed = inbound.parse(folder.parent, folder.name)
    assert (parsed.student, parsed.lesson, parsed.path) == ("ada", LESSON, folder)
    assert abs((datetime.utcnow() - parsed.timestamp).total_seconds()) < 60
    assert inbound.parse("x", NAME).timestamp == datetime(2026, 12, 6, 20, 4, 10, 927383)


@pytest.mark.parametrize("name, reason", [
    ("ada+02_batch_norm+2026-12-06 20:04:10 UTC", "not a submission's name"),
    ("+02_batch_norm+2026-12-06 20:04:10 UTC+r", "not a submission's name"),
    ("ada+99_nothing+2026-12-06 20:04:10 UTC+r", "not a lesson of this course"),
    ("ada+02_batch_norm+yesterday-ish+r", "does not parse"),
    ("x" * 129 + "+02_batch_norm+2026-12-06 20:04:10 UTC+r", "nbgrader's limit for a student id"),
    ("ad\udcffa+02_batch_norm+2026-12-06 20:04:10 UTC+r", "not UTF-8"),
    (".hidden+02_batch_norm+2026-12-06 20:04:10 UTC+r", "starting with a dot"),
])
def test_a_name_that_does_not_parse_is_rejected_with_its_reason(name, reason):
    with pytest.raises(inbound.Rejected, match=reason):
        inbound.parse("x", name)


def test_a_student_id_holding_a_plus_parses_from_the_right_as_nbgrader_collect_does():
    assert inbound.parse("x", "a+b+02_batch_norm+2026-12-06 20:04:10 UTC+r").student == "a+b"


def test_a_folder_owned_by_another_user_than_the_student_it_names_is_rejected(tmp_path):
    """Any student may write into inbound: one who names another student's id is caught by the owner."""
    folder = tmp_path / NAME.replace("ada", "root")
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    submission = inbound.parse(tmp_path, folder.name)
    assert inbound.check(submission)  # root's own folder, named root
    os.chown(folder, NOBODY.pw_uid, NOBODY.pw_gid)
    with pytest.raises(inbound.Rejected, match="names student root but is owned by nobody"):
        inbound.check(submission)
    assert inbound.check(submission, check_owner=False)


def test_a_symbolic_link_in_inbound_is_rejected_unfollowed(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / NAME).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(inbound.Rejected, match="symbolic link"):
        inbound.check(inbound.parse(tmp_path, NAME), check_owner=False)


def test_a_folder_nbgrader_is_still_writing_waits_until_it_is_0777_or_has_settled(tmp_path):
    folder = tmp_path / NAME
    folder.mkdir()
    os.chmod(folder, 0o755)
    submission = inbound.parse(tmp_path, NAME)
    assert not inbound.check(submission, check_owner=False)
    assert inbound.check(submission, check_owner=False, now=time.time() + inbound.SETTLE_SECONDS + 1)
    os.chmod(folder, 0o777)
    assert inbound.check(submission, check_owner=False)


def renamed(folder, when):
    """`folder` renamed to state `when` (naive UTC), as a student writing straight into inbound can."""
    student, lesson, _, rest = folder.name.rsplit("+", 3)
    return folder.rename(folder.parent / f"{student}+{lesson}+{when:%Y-%m-%d %H:%M:%S.%f} UTC+{rest}")


@pytest.mark.parametrize("shift", [timedelta(hours=-3), timedelta(days=2)])
def test_a_name_that_states_another_time_than_the_exchange_received_it_gets_the_received_time(tmp_path, shift):
    exchange = make_exchange(tmp_path / "exchange")
    honest = inbound.parse(*split(submit(exchange, tmp_path / "home", "ada", LESSON, b"{}")))
    assert inbound.dated(honest) == honest and inbound.dating_note(honest) is None
    forged = renamed(honest.path, honest.timestamp + shift)
    dated = inbound.dated(inbound.parse(*split(forged)))
    assert dated.named == honest.timestamp + shift
    assert abs(dated.timestamp - honest.timestamp) < timedelta(seconds=30)
    assert "the exchange received it at" in inbound.dating_note(dated)


def test_a_name_within_the_slack_of_a_slow_copy_keeps_its_time(tmp_path):
    folder = tmp_path / NAME
    folder.mkdir()
    submission = inbound.parse(tmp_path, NAME)
    ctime = submission.timestamp.replace(tzinfo=timezone.utc).timestamp() + 100  # copied for 100 s
    assert inbound.dated(submission, ctime) == submission


def test_the_collected_timestamp_is_the_one_the_service_dated_whatever_the_students_file_says(tmp_path):
    exchange = make_exchange(tmp_path / "exchange")
    folder = submit(exchange, tmp_path / "home", "ada", LESSON, b"{}")
    (folder / "timestamp.txt").write_text("2000-01-01 00:00:00.000000 UTC")
    forged = inbound.dated(inbound.parse(*split(renamed(folder, datetime(2000, 1, 1)))))
    copy, _ = inbound.collect(forged, tmp_path / "submitted", (os.getuid(), os.getgid()))
    assert parse_utc((copy / "timestamp.txt").read_text()) == forged.timestamp > datetime(2026, 1, 1)


def split(folder):
    return folder.parent, folder.name


def snapshot(folder):
    return {p.relative_to(folder): (p.lstat().st_mode, p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in sorted(folder.rglob("*"))}


def test_collecting_copies_regular_files_only_follows_no_link_and_modifies_nothing(tmp_path):
    exchange = make_exchange(tmp_path / "exchange")
    folder = submit(exchange, tmp_path / "home", "ada", LESSON, b'{"cells": []}')
    secret = tmp_path / "secret.txt"
    secret.write_text("another student's work")
    (folder / "stolen.txt").symlink_to(secret)
    before = snapshot(folder)
    owner = (NOBODY.pw_uid, NOBODY.pw_gid)
    copy, skipped = inbound.collect(inbound.parse(folder.parent, folder.name), tmp_path / "submitted", owner)
    assert copy == tmp_path / "submitted" / "ada" / LESSON
    assert sorted(p.name for p in copy.iterdir()) == ["lesson.ipynb", "submission_secret.txt", "timestamp.txt"]
    assert skipped == ["stolen.txt: not a regular file (a link or a special file); not collected"]
    assert (copy / "lesson.ipynb").read_bytes() == b'{"cells": []}'
    assert {p.stat().st_uid for p in [copy, copy.parent, *copy.iterdir()]} == {NOBODY.pw_uid}
    assert snapshot(folder) == before


def test_the_latest_submission_is_collected_and_an_older_one_never_replaces_it(tmp_path):
    exchange = make_exchange(tmp_path / "exchange")
    first = submit(exchange, tmp_path / "home", "ada", LESSON, b'{"first": 1}')
    time.sleep(0.01)
    second = submit(exchange, tmp_path / "home", "ada", LESSON, b'{"second": 2}')
    owner = (os.getuid(), os.getgid())
    parsed = [inbound.parse(f.parent, f.name) for f in (first, second)]
    assert inbound.collect(parsed[1], tmp_path / "submitted", owner)[0] is not None
    assert inbound.collect(parsed[0], tmp_path / "submitted", owner) == (None, [])
    assert (tmp_path / "submitted" / "ada" / LESSON / "lesson.ipynb").read_bytes() == b'{"second": 2}'
    assert first.is_dir() and second.is_dir()  # the exchange keeps every submission


@pytest.mark.parametrize("make, reason", [
    (lambda f: [(f / f"n{k}.txt").write_text("x") for k in range(inbound.MAX_FILES + 1)], "more than"),
    (lambda f: (f / "a" / "b" / "c" / "d" / "e").mkdir(parents=True), "nested more than"),
    (lambda f: os.truncate(f / "lesson.ipynb", inbound.MAX_BYTES + 1), "more than"),
])
def test_a_submission_past_the_bounds_is_rejected_and_leaves_nothing_half_collected(tmp_path, make, reason):
    exchange = make_exchange(tmp_path / "exchange")
    folder = submit(exchange, tmp_path / "home", "ada", LESSON, b"{}")
    make(folder)
    with pytest.raises(inbound.Rejected, match=reason):
        inbound.collect(inbound.parse(folder.parent, folder.name), tmp_path / "submitted", (0, 0))
    assert list((tmp_path / "submitted" / "ada").iterdir()) == []


def test_what_a_collection_killed_midway_left_is_removed_and_nothing_else(tmp_path):
    student = tmp_path / "submitted" / "ada"
    for name in (".02_batch_norm.collecting-12-34", ".02_batch_norm.old-56", "02_batch_norm", ".ipynb_checkpoints"):
        (student / name).mkdir(parents=True)
    removed = inbound.remove_leftovers(tmp_path / "submitted")
    assert sorted(p.name for p in removed) == [".02_batch_norm.collecting-12-34", ".02_batch_norm.old-56"]
    assert sorted(p.name for p in student.iterdir()) == [".ipynb_checkpoints", "02_batch_norm"]
