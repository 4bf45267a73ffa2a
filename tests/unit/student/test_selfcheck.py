"""`make selfcheck` (``python -m autograder selfcheck NOTEBOOK``), run as a student runs it, in a
subprocess: a correct notebook passes every item and exits 0; a real mistake from the catalogue
is named with its likely mistake and exits non-zero; an unfilled notebook fails every item
without a traceback; a file that is not a notebook and a path that is not there get one line
naming them. The notebook checked is never modified."""
import json
import re
import subprocess
import sys

import pytest

from autograder.authoring.catalogue import build, catalogue
from autograder.worker.cells import nbgrader_meta
from autograder.worker.course import ROOT

#: One line per item: "✓ grade_id (earned/points)" or "✗ grade_id (0/points): message"
VERDICT = re.compile(r"^([\u2713\u2717]) (\S+) \(([\d.]+)/([\d.]+)\)", re.M)


def variant(lesson, name):
    return next(v for v in catalogue()[lesson] if v.name == name)


def selfcheck(path):
    """(exit status, stdout and stderr) of `python -m autograder selfcheck path` run from the course root."""
    done = subprocess.run([sys.executable, "-m", "autograder", "selfcheck", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def checked(tmp_path, lesson, variant):
    """Selfcheck of the catalogue variant's notebook: (status, output, {grade_id: (mark, earned, points)}),
    after proving the notebook's bytes were left alone."""
    path = tmp_path / lesson / "lesson.ipynb"
    path.parent.mkdir()
    path.write_bytes(build(lesson, variant))
    before = path.read_bytes()
    status, output = selfcheck(path)
    assert path.read_bytes() == before, "selfcheck modified the notebook it checked"
    assert "Traceback" not in output, output
    verdicts = {gid: (mark, float(earned), float(points)) for mark, gid, earned, points in VERDICT.findall(output)}
    return status, output, verdicts


def graded_items(lesson):
    """{grade_id: points} of the released notebook's graded test cells, read from its nbgrader metadata."""
    cells = json.loads((ROOT / "notebooks" / lesson / "lesson.ipynb").read_text())["cells"]
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in cells
            if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}


def test_a_correct_notebook_passes_every_item_and_exits_0(tmp_path):
    lesson = "02_batch_norm"
    status, output, verdicts = checked(tmp_path, lesson, variant(lesson, "correct"))
    items = graded_items(lesson)
    assert verdicts == {gid: ("\u2713", points, points) for gid, points in items.items()}, output
    assert f"visible checks: {sum(items.values()):g} / {sum(items.values()):g} points" in output, output
    assert status == 0, output


@pytest.mark.parametrize("lesson_name,name", [("01_normalizing_inputs", "scales-by-variance"),
                                              ("02_batch_norm", "gamma-beta-swapped")])
def test_a_mistake_is_named_with_its_likely_cause_and_fails(tmp_path, lesson_name, name):
    """A real mistaken implementation: exactly the items the grader takes away fail, each hint of the
    catalogue is printed as the likely mistake, every other item keeps its points, the exit is non-zero."""
    v = variant(lesson_name, name)
    status, output, verdicts = checked(tmp_path, lesson_name, v)
    items = graded_items(lesson_name)
    assert set(verdicts) == set(items), output
    assert {gid for gid, (mark, _, _) in verdicts.items() if mark == "\u2717"} == set(v.lose), output
    assert all(verdicts[gid] == ("\u2713", pts, pts) for gid, pts in items.items() if gid not in v.lose), output
    assert all(verdicts[gid][1] == 0 for gid in v.lose), output
    flat = " ".join(output.split())  # messages are wrapped at a column
    for gid, hint in v.lose.items():
        if hint:
            block = flat.split(f"\u2717 {gid} ")[1].split(" \u2713 ")[0].split(" \u2717 ")[0]
            assert "Likely mistake:" in block and hint in block, (gid, hint, block)
    lost = sum(items[gid] for gid in v.lose)
    assert f"visible checks: {sum(items.values()) - lost:g} / {sum(items.values()):g} points" in output, output
    assert status != 0, output


def test_an_unfilled_notebook_fails_every_item_without_a_traceback(tmp_path):
    lesson = "01_normalizing_inputs"
    untouched = next(v for v in catalogue()[lesson] if v.untouched)
    status, output, verdicts = checked(tmp_path, lesson, untouched)
    items = graded_items(lesson)
    assert verdicts == {gid: ("\u2717", 0.0, points) for gid, points in items.items()}, output
    assert "not implemented yet" in output, output
    assert f"visible checks: 0 / {sum(items.values()):g} points" in output, output
    assert status != 0, output


def test_a_file_that_is_not_json_gets_one_line_naming_it(tmp_path):
    path = tmp_path / "lesson.ipynb"
    path.write_bytes(b'{"cells": [ this is not json')
    status, output = selfcheck(path)
    assert path.read_bytes() == b'{"cells": [ this is not json'
    assert status != 0, output
    assert output.strip().splitlines() == [output.strip()], output
    assert str(path) in output and "not valid JSON" in output, output
    assert "Traceback" not in output and not VERDICT.search(output), output


@pytest.mark.parametrize("where", ["missing file", "missing folder", "a folder"])
def test_a_path_that_is_no_notebook_gets_one_line_naming_it(tmp_path, where):
    path = {"missing file": tmp_path / "lesson.ipynb", "missing folder": tmp_path / "nowhere" / "lesson.ipynb",
            "a folder": tmp_path}[where]
    status, output = selfcheck(path)
    assert status != 0, output
    assert output.strip().splitlines() == [output.strip()], output
    assert str(path) in output, output
    assert "Traceback" not in output and not VERDICT.search(output), output


def test_the_current_folder_given_as_the_notebook_is_named():
    """`selfcheck .` names the folder it refused (a path without a name of its own)."""
    status, output = selfcheck(".")
    assert status != 0 and ". is a folder" in output, output
