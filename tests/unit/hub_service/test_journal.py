"""The service's journal (autograder/hub_service/journal.py): on disk before `add` returns, read back
whole after a restart, a line cut short by a crash ignored, root's alone."""
import json

from autograder.hub_service.journal import Journal


def test_every_step_is_read_back_by_a_new_journal_in_order(tmp_path):
    journal = Journal(tmp_path / "j")
    journal.add("s1", "collected")
    journal.add("s1", "graded", student="ada", lesson="02_batch_norm", result={"items": []})
    journal.add("s2", "rejected", reason="a symbolic link")
    again = Journal(tmp_path / "j")
    assert [e["step"] for e in again.entries["s1"]] == ["collected", "graded"]
    assert again.step("s1") == "graded" and again.step("s2") == "rejected" and again.step("s3") is None
    assert again.entry("s1", "graded")["result"] == {"items": []}


def test_a_line_cut_short_by_a_crash_is_ignored_and_the_next_starts_clean(tmp_path):
    journal = Journal(tmp_path / "j")
    journal.add("s1", "collected")
    journal.close()
    with open(journal.path, "ab") as file:
        file.write(b'{"name": "s1", "step": "gra')
    again = Journal(tmp_path / "j")
    assert again.step("s1") == "collected"
    again.add("s1", "done")
    assert Journal(tmp_path / "j").step("s1") == "done"
    assert json.loads(journal.path.read_bytes().splitlines()[-1])["step"] == "done"


def test_only_root_reads_the_journal(tmp_path):
    journal = Journal(tmp_path / "j")
    journal.add("s1", "collected")
    assert journal.folder.stat().st_mode & 0o777 == 0o700 and journal.path.stat().st_mode & 0o777 == 0o600


def test_graded_times_count_one_student_and_lesson_since_a_time(tmp_path):
    journal = Journal(tmp_path / "j")
    first = journal.add("s1", "graded", student="ada", lesson="L")["at"]
    journal.add("s2", "graded", student="ben", lesson="L")
    journal.add("s3", "graded", student="ada", lesson="M")
    second = journal.add("s4", "graded", student="ada", lesson="L")["at"]
    assert journal.graded_at(("ada", "L"), 0) == [first, second]
    assert journal.graded_at(("ada", "L"), second) == [second]
