"""The reference results kept on disk (autograder/judge/refcache.py): reused while their sources
are byte-for-byte the same, recomputed otherwise, never trusted when unreadable."""
import json

import numpy as np
import pytest

from autograder import judge
from autograder.judge import refcache, reference
from autograder.worker.course import master_path

LESSON = "04_initialization"


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """An empty cache folder, a master the test may change, and a count of reference runs."""
    monkeypatch.setattr(refcache, "CACHE", tmp_path / "cache")
    master = tmp_path / "lesson.ipynb"
    master.write_bytes(master_path(LESSON).read_bytes())
    monkeypatch.setattr(refcache, "master_path", lambda lesson: master)
    runs = []
    load = reference.load.__wrapped__

    def counted(lesson):
        runs.append(lesson)
        return load(lesson)
    monkeypatch.setattr(reference, "load", counted)
    return master, runs


def computed():
    """The lesson's results, bypassing the in-process cache (as a new grading run would)."""
    return judge.lesson_expected.__wrapped__(LESSON)


def same(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_results_are_stored_then_reused(cache):
    _, runs = cache
    first = computed()
    assert runs and (refcache.CACHE / f"{LESSON}.json").exists()
    assert any(e is not None for results in first.values() for e in results)  # something is compared
    runs.clear()
    assert same(computed(), first)
    assert runs == []


def test_one_changed_master_byte_recomputes(cache):
    master, runs = cache
    first = computed()
    master.write_bytes(master.read_bytes().replace(b"# ", b"#  ", 1))  # one byte more in a heading
    runs.clear()
    again = computed()
    assert runs, "the results of another master were reused"
    assert same(again, first)
    assert json.loads((refcache.CACHE / f"{LESSON}.json").read_text())["key"] == refcache.key(LESSON)


@pytest.mark.parametrize("damage", ["not json {", "[]", "truncated", "missing case"])
def test_an_unreadable_cache_file_is_ignored_and_rewritten(cache, damage):
    _, runs = cache
    first = computed()
    path = refcache.CACHE / f"{LESSON}.json"
    stored = json.loads(path.read_text())
    if damage == "truncated":
        path.write_text(path.read_text()[: len(path.read_text()) // 2])
    elif damage == "missing case":
        gid = next(g for g, found in stored["results"].items() if found)
        stored["results"][gid].pop(next(iter(stored["results"][gid])))
        path.write_text(json.dumps(stored))
    else:
        path.write_text(damage)
    runs.clear()
    assert same(computed(), first)
    assert runs, "a damaged file was trusted"
    assert same(json.loads(path.read_text())["results"], first)


def test_cached_results_decode_to_the_references_own(cache):
    computed()
    for gid, results in computed().items():
        fresh = judge._reference_results(gid)
        for stored, direct in zip(results, fresh):
            assert (stored is None) == (direct is None)
            if stored is not None:
                a, b = judge.wire.decode(stored), judge.wire.decode(direct)
                assert type(a) is type(b)
                if isinstance(a, np.ndarray):
                    assert a.dtype == b.dtype and np.array_equal(a, b)
