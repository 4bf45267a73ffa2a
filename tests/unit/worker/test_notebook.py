"""Reading and planning submissions that are files an attacker wrote (autograder/worker/notebook.py).

In the style of nbgrader's preprocessor tests: each test builds a small submission in
`tmp_path` from the released lesson 02 notebook, changes one thing, and checks what the
reader, the planner or the grader make of it.
"""
import copy
import json
import os
import threading
from pathlib import Path

import pytest

from autograder.authoring.catalogue import ROOT, Variant, build
from autograder.grading import grade
from autograder.grading.grade import discover, grade_class, grade_submission, load_master
from autograder.worker.cells import cell_source, nbgrader_meta
from autograder.worker.course import master_path
from autograder.worker.notebook import (
    MAX_JSON_DEPTH,
    MAX_NOTEBOOK_BYTES,
    find_notebook,
    json_depth,
    plan,
    read_regular_file,
    read_submission,
)

LESSON = "02_batch_norm"
RELEASED = json.loads((ROOT / "notebooks" / LESSON / "lesson.ipynb").read_text())
RIGHT_INFERENCE = ("def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):\n"
                   "    return gamma * (Z - running_mean) / np.sqrt(running_var + eps) + beta\n")


@pytest.fixture
def nb():
    """A fresh copy of the released notebook, as parsed JSON."""
    return copy.deepcopy(RELEASED)


@pytest.fixture
def master():
    return load_master(LESSON)


def submit(folder, content, name="lesson.ipynb"):
    """Write `content` (a notebook dict, or bytes) as a submission in `folder`; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return path


def cell(nb, grade_id):
    return next(c for c in nb["cells"] if nbgrader_meta(c).get("grade_id") == grade_id)


def within(seconds, fn, *args):
    """fn(*args), or a test failure if it has not returned after `seconds` (a hang, not a slow run)."""
    out = []
    worker = threading.Thread(target=lambda: out.append(fn(*args)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert out, f"{fn.__name__} did not return within {seconds} s"
    return out[0]


# --- files that are not regular files ------------------------------------------------

def test_released_notebook_is_read(tmp_path, nb):
    cells, problem = read_submission(submit(tmp_path / LESSON, nb))
    assert problem is None and len(cells) == len(nb["cells"])


def test_notebook_linked_to_the_master_is_not_followed(tmp_path):
    folder = tmp_path / LESSON
    folder.mkdir()
    (folder / "lesson.ipynb").symlink_to(master_path(LESSON))
    path, problem = find_notebook(folder)
    assert path is None and "lesson.ipynb is a symbolic link" in problem
    cells, problem = read_submission(folder / "lesson.ipynb")  # even if asked directly: O_NOFOLLOW
    assert cells is None and "symbolic link" in problem


def test_renamed_notebook_linked_to_the_master_is_not_followed(tmp_path):
    folder = tmp_path / LESSON
    folder.mkdir()
    (folder / "mine.ipynb").symlink_to(master_path(LESSON))
    path, problem = find_notebook(folder)
    assert path is None and "mine.ipynb is a symbolic link" in problem


def test_lesson_folder_linked_to_the_masters_is_found_and_refused(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / LESSON).symlink_to(master_path(LESSON).parent)
    found, unknown = discover(tmp_path)
    assert found == [("alice", LESSON, tmp_path / "alice" / LESSON)] and unknown == []
    path, problem = find_notebook(found[0][2])
    assert path is None and "symbolic link" in problem


def test_student_folder_linked_elsewhere_is_not_graded(tmp_path, nb):
    submit(tmp_path / "alice" / LESSON, nb)
    (tmp_path / "mallory").symlink_to(tmp_path / "alice")
    found, unknown = discover(tmp_path)
    assert [s for s, _, _ in found] == ["alice"]
    assert len(unknown) == 1 and unknown[0].startswith("mallory:") and "symbolic link" in unknown[0]


def test_a_student_folder_named_in_bytes_that_are_not_utf8_is_named_and_not_graded(tmp_path, nb):
    submit(tmp_path / "alice" / LESSON, nb)
    submit(Path(os.fsdecode(bytes(tmp_path) + b"/st\xffu")) / LESSON, nb)
    found, unknown = discover(tmp_path)
    assert [s for s, _, _ in found] == ["alice"]
    assert unknown == ["st\\xffu: a folder name that is not UTF-8 text; not graded (rename the folder)"]


def test_a_student_folder_name_longer_than_nbgrader_stores_is_named_and_not_graded(tmp_path, nb):
    for name in ("a" * grade.STUDENT_ID_MAX, "b" * (grade.STUDENT_ID_MAX + 1)):
        submit(tmp_path / name / LESSON, nb)
    found, unknown = discover(tmp_path)
    assert [s for s, _, _ in found] == ["a" * grade.STUDENT_ID_MAX]
    assert len(unknown) == 1 and unknown[0].startswith("b" * 40 + "...: a folder name longer than 128 characters")


def test_link_to_dev_zero_is_refused_without_reading_it(tmp_path):
    folder = tmp_path / LESSON
    folder.mkdir()
    (folder / "lesson.ipynb").symlink_to("/dev/zero")
    assert "symbolic link" in find_notebook(folder)[1]
    cells, problem = within(10, read_submission, folder / "lesson.ipynb")
    assert cells is None and "symbolic link" in problem


def test_fifo_is_refused_without_blocking(tmp_path):
    folder = tmp_path / LESSON
    folder.mkdir()
    os.mkfifo(folder / "lesson.ipynb")
    path, problem = find_notebook(folder)
    assert path is None and "not a regular file" in problem
    cells, problem = within(10, read_submission, folder / "lesson.ipynb")  # no writer: a blocking open would hang
    assert cells is None and "not a regular file" in problem


def test_folder_named_like_the_notebook_is_refused(tmp_path):
    (tmp_path / LESSON / "lesson.ipynb").mkdir(parents=True)
    path, problem = find_notebook(tmp_path / LESSON)
    assert path is None and "is a folder" in problem


def test_linked_student_folder_is_refused(tmp_path):
    """<student>/ a link to a real student's folder elsewhere: refused though the lesson folder
    and the notebook under it are plain (issue 21)."""
    real = tmp_path / "elsewhere" / LESSON
    real.mkdir(parents=True)
    (real / "lesson.ipynb").write_text("{}")
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "student").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    path, problem = find_notebook(tmp_path / "class" / "student" / LESSON)
    assert path is None and "student folder student is a symbolic link" in problem


def test_reading_below_a_folder_refuses_a_link_on_the_way(tmp_path):
    """With `below`, every folder between it and the file is opened without following a link."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "lesson.ipynb").write_text("{}")
    (tmp_path / "upload").mkdir()
    (tmp_path / "upload" / "work").symlink_to(tmp_path / "real", target_is_directory=True)
    assert read_regular_file(tmp_path / "upload" / "work" / "lesson.ipynb")[0] == b"{}"  # without `below`
    data, problem = read_regular_file(tmp_path / "upload" / "work" / "lesson.ipynb", below=tmp_path / "upload")
    assert data is None and "work is a symbolic link" in problem
    assert read_regular_file(tmp_path / "real" / "lesson.ipynb", below=tmp_path) == (b"{}", None)


def test_size_bound_is_exact(tmp_path):
    path = tmp_path / "lesson.ipynb"
    path.write_bytes(b"x" * 100)
    assert read_regular_file(path, limit=100) == (b"x" * 100, None)
    data, problem = read_regular_file(path, limit=99)
    assert data is None and "larger than 99 bytes" in problem


def test_oversized_notebook_is_refused(tmp_path):
    path = tmp_path / "lesson.ipynb"
    with open(path, "wb") as f:  # sparse: the size is what counts, not what is in it
        f.truncate(MAX_NOTEBOOK_BYTES + 1)
    cells, problem = read_submission(path)
    assert cells is None and "larger than 20 MiB" in problem and "clear its outputs" in problem


# --- contents that are not what Jupyter writes ---------------------------------------

def test_deeply_nested_notebook_is_refused(tmp_path):
    depth = 100_000
    path = submit(tmp_path, b'{"cells": ' + b"[" * depth + b"]" * depth + b"}")
    cells, problem = read_submission(path)
    assert cells is None and f"nested more than {MAX_JSON_DEPTH} levels" in problem


def test_nesting_just_within_the_bound_is_read(tmp_path, nb):
    nb["metadata"]["deep"] = json.loads("[" * (MAX_JSON_DEPTH - 2) + "]" * (MAX_JSON_DEPTH - 2))
    cells, problem = read_submission(submit(tmp_path, nb))
    assert problem is None and cells is not None
    nb["metadata"]["deep"] = [nb["metadata"]["deep"]]
    cells, problem = read_submission(submit(tmp_path, nb))
    assert cells is None and "nested" in problem


@pytest.mark.parametrize("text,depth", [
    ('{"a": [1, {"b": []}]}', 4),
    ('{"a": "[[[[{{{{", "b": ["\\"]]]"]}', 2),  # brackets and escaped quotes inside strings
    ("[]" * 1000, 1),
    ('"unterminated [[[[', 0),
    ("", 0),
])
def test_json_depth(text, depth):
    assert json_depth(text) == depth


def test_json_depth_is_linear_on_hostile_strings():
    # Every quote here starts a string that never ends: retrying the match from each one
    # would be quadratic (hours at this size).
    assert json_depth('"' + '\\"' * 2_000_000) == 0


@pytest.mark.parametrize("grade_id", [["batchnorm_inference"], {"id": "batchnorm_inference"}, 7, None])
def test_unhashable_or_non_string_grade_id_is_a_deleted_answer(master, nb, grade_id):
    cell(nb, "batchnorm_inference")["metadata"]["nbgrader"]["grade_id"] = grade_id
    to_run, problems = plan(master, nb["cells"])
    assert "batchnorm_inference" not in {c["id"] for c in to_run}
    assert any("answer cell 'batchnorm_inference' was deleted" in p for p in problems)


def test_malformed_cells_are_ignored_not_fatal(master, nb):
    # A cell whose nbgrader metadata is unusable is an untagged cell of the student's:
    # it may stand in for the answer cell it replaced.
    forward, backward = cell(nb, "batchnorm_forward"), cell(nb, "batchnorm_backward")
    forward["metadata"] = ["not", "a", "dict"]
    backward["metadata"]["nbgrader"] = "solution"
    cell(nb, "update_running_stats")["source"] = {"not": "text"}
    cell(nb, "batchnorm_inference")["cell_type"] = ["code"]
    nb["cells"].append({"id": ["x"], "cell_type": "code", "metadata": {}, "source": 42})
    to_run, problems = plan(master, nb["cells"])
    by_id = {c["id"]: c["source"] for c in to_run}
    assert by_id["update_running_stats"] == ""
    assert by_id["batchnorm_forward"] == cell_source(forward) and by_id["batchnorm_backward"] == cell_source(backward)
    assert "batchnorm_inference" not in by_id
    answers = ("batchnorm_forward", "batchnorm_backward", "batchnorm_inference")
    assert [p.split(" was ")[0] for p in problems] == [f"answer cell {g!r}" for g in answers]


# --- plan --------------------------------------------------------------------------

def test_released_notebook_plans_cleanly(master, nb):
    to_run, problems = plan(master, nb["cells"])
    assert problems == []
    expected = [c["metadata"]["nbgrader"]["grade_id"] for c in master.cells if not c["metadata"]["nbgrader"]["grade"]]
    assert [c["id"] for c in to_run] == expected
    assert {c["origin"] for c in to_run if c["id"] in master.defines} == {"student"}


def test_deleted_answer_cell_is_recovered_from_an_untagged_cell(master, nb):
    nb["cells"].remove(cell(nb, "batchnorm_inference"))
    nb["cells"].append({"cell_type": "code", "id": "mine", "metadata": {}, "source": RIGHT_INFERENCE})
    to_run, problems = plan(master, nb["cells"])
    assert [c["source"] for c in to_run if c["id"] == "batchnorm_inference"] == [RIGHT_INFERENCE]
    assert problems == ["answer cell 'batchnorm_inference' was deleted; graded the untagged cell that defines "
                        "batchnorm_inference"]


def test_deleted_answer_cell_without_a_replacement_is_reported(master, nb):
    nb["cells"].remove(cell(nb, "batchnorm_inference"))
    to_run, problems = plan(master, nb["cells"])
    assert "batchnorm_inference" not in {c["id"] for c in to_run}
    assert problems == ["answer cell 'batchnorm_inference' was deleted and no other cell defines batchnorm_inference"]


def test_duplicate_ids_are_reported_and_the_first_is_graded(master, nb):
    first = cell(nb, "batchnorm_inference")
    second = copy.deepcopy(first)
    second["source"] = ["def batchnorm_inference(*args):\n", "    return None\n"]
    nb["cells"].insert(nb["cells"].index(first) + 1, second)
    to_run, problems = plan(master, nb["cells"])
    assert [c["source"] for c in to_run if c["id"] == "batchnorm_inference"] == ["".join(first["source"])]
    assert problems == ["duplicate cell ids (the notebook was edited outside Jupyter?): 'batchnorm_inference'",
                        "cell id 'batchnorm_inference' appears more than once; graded the first"]


def test_deleted_test_cells_are_reported_and_never_run(master, nb):
    nb["cells"] = [c for c in nb["cells"] if c["metadata"]["nbgrader"].get("grade_id") not in {"bn_inference",
                                                                                               "bn_running_stats"}]
    to_run, problems = plan(master, nb["cells"])
    assert problems == ["test cells deleted or retagged (restored from the master): bn_running_stats, bn_inference"]
    assert {gid for gid, _ in master.items}.isdisjoint(c["id"] for c in to_run)


@pytest.mark.slow
def test_plan_of_150_000_cells_finishes_and_reports_briefly(master, nb):
    # Quadratic duplicate counting took hours here; the test relies on it finishing at all.
    n = 150_000
    nb["cells"] += [{"cell_type": "markdown", "id": f"c{k % (n // 2)}",
                     "metadata": {"nbgrader": {"grade_id": f"junk{k % 2}"}}, "source": ""} for k in range(n)]
    to_run, problems = plan(master, nb["cells"])
    assert len(to_run) == len(plan(master, RELEASED["cells"])[0])
    assert problems == ["duplicate cell ids (the notebook was edited outside Jupyter?): "
                        "'c0', 'c1', 'c10', 'c100', 'c1000', ..."]


# --- one hostile submission is that submission's problem, not the class's ----------------

def test_an_error_while_reading_is_the_submissions_problem(tmp_path, monkeypatch, nb):
    submit(tmp_path / LESSON, nb)

    def explode(master, cells):
        raise RecursionError("maximum recursion depth exceeded")
    monkeypatch.setattr(grade, "plan", explode)
    result = grade_submission("alice", LESSON, tmp_path / LESSON, tmp_path / "public", tmp_path / "scratch")
    reason = ("the grader could not read this notebook (RecursionError: maximum recursion depth exceeded); "
              "your instructor has the details")
    assert result.problems == [reason]
    assert "RecursionError" in result.log
    assert [(i.grade_id, i.points, i.message) for i in result.items] == [
        (gid, 0.0, f"not graded: {reason}") for gid, _ in load_master(LESSON).items]


@pytest.mark.slow
def test_class_with_hostile_submissions_grades_the_others(tmp_path, nb):
    submit(tmp_path / "carol" / LESSON, build(LESSON, Variant("correct")))
    deep = cell(nb, "batchnorm_inference")  # a deep expression: ast.parse recurses out
    deep["source"] = "x = a" + ".b" * 100_000 + "\n" + RIGHT_INFERENCE
    submit(tmp_path / "dave" / LESSON, nb)
    submit(tmp_path / "erin" / LESSON, b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    (tmp_path / "mallory").mkdir()
    (tmp_path / "mallory" / LESSON).symlink_to(master_path(LESSON).parent)
    (tmp_path / "trudy").symlink_to(tmp_path / "carol")

    results, unknown = grade_class(tmp_path)
    by_student = {r.student: r for r in results}
    assert sorted(by_student) == ["carol", "dave", "erin", "mallory"]
    assert [u.split(":")[0] for u in unknown] == ["trudy"]
    carol = by_student["carol"]
    assert carol.problems == [] and carol.score == carol.max_score > 0
    dave = by_student["dave"]  # scored 0 on what the hostile cell defines, however the scan copes with it
    assert dave.problems and next(i for i in dave.items if i.grade_id == "bn_inference").points == 0
    for student, fragment in [("erin", "nested more than"), ("mallory", "symbolic link")]:
        result = by_student[student]
        assert result.score == 0 and fragment in result.problems[-1], (student, result.problems)
