"""Shared fixtures (the lessons, one graded sample class for every grader test) and the markers
given by folder."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# the helpers in support/ hold asserts (support/confinement.py holds whole tests): rewrite them as pytest does a test's
pytest.register_assert_rewrite("tests.support")

from autograder.authoring.sample_class import write_class  # noqa: E402
from autograder.grading.grade import grade_class  # noqa: E402
from autograder.worker.course import lessons  # noqa: E402
from tests.support.files import digest  # noqa: E402
from tests.support.nbval_run import finish_masters, start_masters, stop_masters  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


#: Markers every test below a folder gets (pyproject.toml says what each means)
FOLDER_MARKERS = {"system": "system", "integration": "slow"}
#: Fixtures that take over ~5 s to set up (once per session or module): every test taking one is slow,
#: or `make test-fast` would pay the setup for the first test that is not
SLOW_FIXTURES = {
    "graded_class",  # below: grades the sample class end to end
    "registered", "graded_course",  # unit/gradebook/test_gradebook.py: nbgrader registers the lessons, grades a class
    "fresh_release",  # unit/authoring/test_release.py: releases every lesson with nbgrader
    "installed_bundles",  # unit/authoring/test_release.py: installs the student bundle on each Python
    "masters_under_nbval",  # below: runs every master top to bottom
}


#: `make test` runs two pytest sessions side by side (`--part`): "grading" (these folders, and every test taking
#: one of these session fixtures, which each session would otherwise make again) keeps both cores busy; "rest"
#: (tests/system/ and the other unit tests) mostly waits on servers, browsers and single-threaded code
GRADING_FOLDERS = {("integration",), ("unit", "grading")}
GRADING_FIXTURES = {"graded_class", "masters_under_nbval"}


def pytest_addoption(parser):
    parser.addoption("--part", choices=["grading", "rest"],
                     help="only one of the two parts `make test` runs side by side (see GRADING_FIXTURES)")


def in_grading_part(item):
    parts = Path(item.path).relative_to(ROOT / "tests").parts
    return (any(parts[:len(folder)] == folder for folder in GRADING_FOLDERS)
            or bool(GRADING_FIXTURES & set(getattr(item, "fixturenames", ()))))


def pytest_collection_modifyitems(config, items):
    """Mark by folder (tests/system/ -> system, tests/integration/ -> slow) and slow every test that
    takes one of SLOW_FIXTURES; a test slow on its own says so with @pytest.mark.slow. With `--part`, keep
    that part's tests."""
    for item in items:
        folder = Path(item.path).relative_to(ROOT / "tests").parts[0]
        if folder in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[folder])
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker("slow")
    part = config.getoption("part")
    if part:
        kept, dropped = [], []
        for item in items:
            (kept if in_grading_part(item) == (part == "grading") else dropped).append(item)
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


#: The masters' nbval run (`masters_under_nbval`), started once the selected tests are known
NBVAL_RUN = pytest.StashKey()


def pytest_collection_finish(session):
    """Start the masters' nbval run in the background when a selected test needs it: its ~1 min (one kernel)
    then overlaps the tests that run before the first that waits for it (tests/integration/ runs first)."""
    if not session.config.option.collectonly and any(
            "masters_under_nbval" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[NBVAL_RUN] = start_masters(Path(tempfile.mkdtemp(prefix="masters-under-nbval-")))


def pytest_sessionfinish(session):
    started = session.config.stash.get(NBVAL_RUN, None)
    if started is not None:
        stop_masters(started)
        shutil.rmtree(started[1], ignore_errors=True)


def pytest_generate_tests(metafunc):
    if "lesson" in metafunc.fixturenames:
        metafunc.parametrize("lesson", lessons())


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """The sample class, graded once: (results by (student, lesson), digests before, folder)."""
    folder = tmp_path_factory.mktemp("sample_class")
    write_class(folder)
    before = digest(folder)
    results, unknown = grade_class(folder)
    assert unknown == []
    return {(r.student, r.lesson): r for r in results}, before, folder


@pytest.fixture(scope="session")
def masters_under_nbval(request):
    """Every master run top to bottom under nbval once (tests/support/nbval_run.py): the contract's nbval
    run and the executed masters whose printed numbers the lesson-number tests read."""
    if NBVAL_RUN not in request.config.stash:
        request.config.stash[NBVAL_RUN] = start_masters(Path(tempfile.mkdtemp(prefix="masters-under-nbval-")))
    return finish_masters(request.config.stash[NBVAL_RUN])


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
