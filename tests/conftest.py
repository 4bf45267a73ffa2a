"""Shared fixtures: the lessons, and one graded sample class for every grader test."""
import hashlib
from pathlib import Path

import pytest

from autograder.course import lessons
from autograder.grade import grade_class
from tests.sample_class import write_class

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
