"""The sample class (`make sample-class`, the demo's class): laid out where and as nbgrader's
`collect` leaves a class, and never written over anything else."""
import subprocess
from contextlib import redirect_stderr
from io import StringIO

import pytest
from nbgrader.utils import parse_utc

from autograder import cli
from autograder.authoring.sample_class import HANDED_IN, MARKER, NotASampleClass, write_class
from autograder.gradebook.nbgrader_cmd import course_config
from autograder.worker.course import ROOT
from autograder.worker.notebook import submission_time


def test_each_submission_has_the_timestamp_nbgrader_collect_leaves(tmp_path):
    """The formgrader counts a submission as autograded only when the gradebook's time is its timestamp.txt's."""
    count = write_class(tmp_path / "class", HANDED_IN)
    folders = [f for f in (tmp_path / "class").glob("*/*") if f.is_dir()]
    assert count == len(folders) > 100
    for folder in folders:
        stamp = (folder / "timestamp.txt").read_text()
        assert parse_utc(stamp) == HANDED_IN
        assert submission_time(folder, next(folder.glob("*.ipynb"))) == (HANDED_IN, None)


@pytest.mark.parametrize("kept", ["ann/01_normalizing_inputs/lesson.ipynb", "ann/01_normalizing_inputs/link", "link"])
def test_it_never_replaces_other_submissions(tmp_path, kept):
    """`make sample-class` (and so `make demo`) on a course's collected class refuses, and loses nothing."""
    folder = tmp_path / "submitted"
    path = folder / kept
    path.parent.mkdir(parents=True)
    if path.name == "link":
        path.symlink_to(tmp_path, target_is_directory=True)
    else:
        path.write_text("ann's work")
    err = StringIO()
    with redirect_stderr(err):
        assert cli.main(["sample-class", str(folder)]) == cli.EXIT_USAGE
    assert "refusing to replace" in err.getvalue() and (path.is_symlink() or path.read_text() == "ann's work")
    (tmp_path / "alias").symlink_to(folder, target_is_directory=True)
    for given in (folder, tmp_path / "alias"):
        with pytest.raises(NotASampleClass, match="refusing to replace"):
            write_class(given)
    assert path.is_symlink() or path.read_text() == "ann's work"


@pytest.mark.slow
def test_it_replaces_an_earlier_sample_class_or_empty_folders(tmp_path):
    folder = tmp_path / "submitted"
    (folder / "ann" / "01_normalizing_inputs").mkdir(parents=True)
    write_class(folder)  # only empty folders left: nothing to lose
    assert (folder / MARKER).is_file() and not (folder / "ann").exists()
    (folder / "stale").mkdir()
    write_class(folder)  # an earlier sample class is replaced whole
    assert not (folder / "stale").exists()


def test_the_demo_grades_the_sample_class_in_nbgraders_submitted_folder():
    """Where the formgrader counts submissions (issue 25: 'Manage Assignments' showed 0 after make demo)."""
    submitted = course_config(ROOT).CourseDirectory.submitted_directory
    assert cli.parser().parse_args(["sample-class"]).folder == submitted
    demo = subprocess.run(["make", "-n", "-s", "-o", ".venv/.installed", "demo", "PY=python"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert f"sample-class {submitted}\n" in demo.stdout and f"grade {submitted} " in demo.stdout, demo.stdout
