"""Which notebooks of a Gradescope upload are graded: the zip's lesson's, told by their grade_ids;
another lesson's alone is refused with the reason (the runs themselves: tests/integration/test_gradescope.py)."""
import json
from pathlib import Path

from autograder.authoring.catalogue import build, normalizing_inputs
from autograder.authoring.catalogue.batch_norm import LESSON, VARIANTS
from autograder.grading.grade import load_master
from autograder.lms.gradescope import choose_notebooks, lesson_of
from autograder.worker.course import lessons

OTHER = normalizing_inputs.LESSON


def lesson_ids():
    return {lesson: [gid for gid, _ in load_master(lesson).items] for lesson in lessons()}


def with_ids(*ids):
    """A notebook whose code cells carry these nbgrader grade_ids."""
    cells = [{"cell_type": "code", "source": "", "metadata": {"nbgrader": {"grade_id": gid}}, "outputs": [],
              "execution_count": None} for gid in ids]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def test_each_lessons_notebook_is_told_by_its_grade_ids():
    ids = lesson_ids()
    assert lesson_of(build(LESSON, VARIANTS[0]), ids) == LESSON
    assert lesson_of(build(OTHER, normalizing_inputs.VARIANTS[0]), ids) == OTHER
    assert lesson_of(b"{not json", ids) is None and lesson_of(with_ids("no-such-item"), ids) is None


def test_a_tie_goes_to_the_zips_lesson():
    ids = {"01_a": ["x", "y"], "02_b": ["y", "z"]}
    assert lesson_of(with_ids("y"), ids, prefer="02_b") == "02_b"
    assert lesson_of(with_ids("y"), ids, prefer="01_a") == "01_a"
    assert lesson_of(with_ids("x", "y"), ids, prefer="02_b") == "01_a"


def test_another_lessons_notebook_is_refused_and_ours_is_picked():
    ids, ours, theirs = lesson_ids(), build(LESSON, VARIANTS[0]), build(OTHER, normalizing_inputs.VARIANTS[0])
    chosen, notes = choose_notebooks({Path("lesson.ipynb"): theirs}, LESSON, ids)
    assert chosen == {} and len(notes) == 1
    assert f"grades lesson {LESSON}" in notes[0] and f"lesson.ipynb (a notebook of lesson {OTHER})" in notes[0]
    upload = {Path("lesson.ipynb"): theirs, Path("work/mine.ipynb"): ours, Path("scratch.ipynb"): b"{"}
    chosen, notes = choose_notebooks(upload, LESSON, ids)
    assert chosen == {Path("work/mine.ipynb"): ours}
    assert notes == [f"graded the notebook of lesson {LESSON}; ignored lesson.ipynb (a notebook of lesson {OTHER}), "
                     "scratch.ipynb (not a notebook of this lesson)"]
    # nothing of any lesson: handed to the grader, which says what is wrong with it
    assert choose_notebooks({Path("x.ipynb"): b"{"}, LESSON, ids) == ({Path("x.ipynb"): b"{"}, [])
