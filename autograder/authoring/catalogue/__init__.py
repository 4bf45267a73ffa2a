"""Catalogue of submissions with known verdicts: correct ones written differently, classic
mistakes and broken notebooks. The tests grade every variant and check its score item by
item; the sample class of `make demo` is built from the same catalogue.

A variant starts from the student copy in notebooks/ with the reference answers filled in,
then replaces some answer cells (`answers`, by grade_id) and optionally transforms the
notebook (`transform`). `lose` maps each item it must lose to a fragment of the hint the
feedback must give (None: the item must score 0, whatever the hint). Every other item must
keep full marks.

A mistake shows in the notebook's visible checks with the same message as in the feedback
(tests/unit/checks/test_visible.py), except for a variant marked `hidden_only`: its mistake cannot show
on the visible cases (answers hard-coded for them), so it passes every visible check and
loses its items only when graded.
"""
import json
import re
from dataclasses import dataclass, field

from autograder.worker.cells import cell_source, is_answer, nbgrader_meta
from autograder.worker.course import LESSONS, ROOT, lesson_module


@dataclass
class Variant:
    name: str
    answers: dict = field(default_factory=dict)
    lose: dict = field(default_factory=dict)
    transform: object = None
    filename: str = "lesson.ipynb"
    lose_all: bool = False
    problem: str | None = None  # fragment of the problem the report must name
    untouched: bool = False  # the student copy exactly as released
    hidden_only: bool = False  # the mistake cannot show on the visible cases


def reference_answers(lesson):
    """Answer-cell sources of the master, without the solution markers."""
    nb = json.loads((ROOT / "solutions" / lesson / "lesson.ipynb").read_text())
    answers = {}
    for cell in nb["cells"]:
        if is_answer(cell):
            answers[nbgrader_meta(cell)["grade_id"]] = re.sub(r"\n?[ \t]*### (BEGIN|END) SOLUTION", "", cell_source(cell))
    return answers


def edited(lesson, grade_id, *changes):
    """{grade_id: the master's answer with exact edits (old, new, old, new, ...)}, each checked to apply."""
    source = reference_answers(lesson)[grade_id]
    for old, new in zip(changes[::2], changes[1::2]):
        assert old in source, f"{lesson}/{grade_id}: {old!r} not in the reference answer"
        source = source.replace(old, new)
    return {grade_id: source}


def build(lesson, variant):
    """The bytes of the notebook a student with this variant would submit."""
    release = ROOT / "notebooks" / lesson / "lesson.ipynb"
    if variant.untouched:
        return release.read_bytes()
    nb = json.loads(release.read_text())
    answers = {**reference_answers(lesson), **variant.answers}
    for cell in nb["cells"]:
        gid = nbgrader_meta(cell).get("grade_id")
        if is_answer(cell) and gid in answers:
            cell["source"] = answers[gid].splitlines(keepends=True)
    if variant.transform is not None:
        nb = variant.transform(nb)
    return nb if isinstance(nb, bytes) else (json.dumps(nb, indent=1) + "\n").encode()


def catalogue():
    """{lesson: [Variant, ...]} for every lesson of the course (``autograder/authoring/catalogue/<name>.py``)."""
    import importlib
    return {lesson: importlib.import_module(f"{__name__}.{lesson_module(lesson)}").VARIANTS for lesson in LESSONS}


def verdict_problems(result, variant):
    """What is wrong with a graded result, measured against the variant's known verdict."""
    wrong = []
    for item in result.items:
        lost = variant.lose_all or item.grade_id in variant.lose
        if lost and item.points != 0:
            wrong.append(f"{item.grade_id} should score 0: {item.message}")
        if not lost and item.points != item.max_points:
            wrong.append(f"{item.grade_id} should keep full marks: {item.message}")
        hint = variant.lose.get(item.grade_id)
        if hint and not (item.hint and hint in item.hint):
            wrong.append(f"{item.grade_id}: expected a hint about {hint!r}, got {item.hint!r}")
    missing = set(variant.lose) - {i.grade_id for i in result.items}
    if missing:
        wrong.append(f"the catalogue names items the lesson lacks: {sorted(missing)}")
    notes = " ".join(result.problems + result.incidents)
    if variant.problem and variant.problem not in notes:
        wrong.append(f"the report should name {variant.problem!r}; it says {notes!r}")
    if not variant.problem and not variant.lose_all and notes:
        wrong.append(f"unexpected problems reported: {notes}")
    return wrong
