"""Shared fixtures: the lessons, and one graded sample class for every grader test."""
import hashlib
import os
from pathlib import Path

import pytest

from autograder.worker.course import lessons
from autograder.grading.grade import grade_class
from autograder.authoring.sample_class import write_class

ROOT = Path(__file__).resolve().parent.parent


def pytest_generate_tests(metafunc):
    if "lesson" in metafunc.fixturenames:
        metafunc.parametrize("lesson", lessons())


def digest(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """The sample class, graded once: (results by (student, lesson), digests before, folder)."""
    folder = tmp_path_factory.mktemp("sample_class")
    write_class(folder)
    before = digest(folder)
    results, unknown = grade_class(folder)
    assert unknown == []
    return {(r.student, r.lesson): r for r in results}, before, folder


@pytest.fixture()
def deep_chain():
    """Builds chains of folders deeper than any path may be long, and removes them after the
    test with `scratch.remove` (which never recurses): pytest's own cleanup of old basetemps
    recurses and would raise RecursionError on a later run.

    The builder: deep_chain(top, depth=3000, name="dd") makes top/name/name/... with a file
    at the bottom and every bit taken off the deepest folder (as a worker may leave it).
    """
    from autograder.grading import scratch
    built = []

    def build(top, depth=3000, name="dd"):
        built.append(Path(top) / name)
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        os.close(os.open("bottom.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
        os.fchmod(fd, 0)
        os.close(fd)
    yield build
    for chain in built:
        if os.path.lexists(chain):
            assert scratch.remove(chain), chain
