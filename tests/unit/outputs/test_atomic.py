"""Outputs written together (outputs/atomic.py): all of a block's files land, or none does and
no folder it made is left behind."""
import pytest

from autograder.outputs import atomic


def test_a_failed_block_leaves_no_file_and_no_folder_it_made(tmp_path):
    (tmp_path / "feedback" / "ann").mkdir(parents=True)
    (tmp_path / "feedback" / "ann" / "page.html").write_text("old")
    with pytest.raises(RuntimeError), atomic.together():
        atomic.write(tmp_path / "feedback" / "ann" / "page.html", "new")
        atomic.write(tmp_path / "feedback" / "dan" / "deep" / "page.html", "new")  # folders made for it
        atomic.write(tmp_path / "receipts" / "dan" / "r.json", "{}")
        raise RuntimeError("the disk filled up")
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "feedback", "feedback/ann", "feedback/ann/page.html"]
    assert (tmp_path / "feedback" / "ann" / "page.html").read_text() == "old"


def test_a_block_lands_whole_and_keeps_what_someone_else_put_in_its_folders(tmp_path):
    with atomic.together():
        assert atomic.staging()
        atomic.write(tmp_path / "a" / "b.txt", "b")
        (tmp_path / "a" / "mine.txt").write_text("the instructor's")
        with atomic.together():  # nested: the outer block decides
            atomic.write(tmp_path / "a" / "c.txt", "c")
        assert not (tmp_path / "a" / "c.txt").exists() and not (tmp_path / "a" / "b.txt").exists()
    assert not atomic.staging()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b.txt", "c.txt", "mine.txt"]


def test_a_failed_block_keeps_a_made_folder_someone_else_wrote_into(tmp_path):
    with pytest.raises(RuntimeError), atomic.together():
        atomic.write(tmp_path / "new" / "x.txt", "x")
        (tmp_path / "new" / "mine.txt").write_text("the instructor's")
        raise RuntimeError
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["mine.txt"]
