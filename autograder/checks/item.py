"""`Item`: one graded test cell (how to call the student's functions on a case, which
properties the result must have, which known mistakes to name); `items`: every lesson's items.

A case's `ANSWER` and `KNOWN` entries are read by the properties only: for visible cases they
come from `known_outputs.json` (generated from the reference by the judge at release), for
hidden ones the judge computes them."""
import functools
import importlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from autograder.worker import course, wire

#: Entries of a case that only the properties read (never the student's functions, never
#: the worker): the reference's output on the case, and the private mistakes' outputs.
ANSWER, KNOWN = "answer", "known_outputs"
KNOWN_OUTPUTS = Path(__file__).with_name("known_outputs.json")


class CheckFailed(AssertionError):
    """A failed check; shown in a notebook as its message alone, without a traceback."""

    def _render_traceback_(self):
        return [f"\x1b[31mCheck failed\x1b[0m  {line}" if i == 0 else line
                for i, line in enumerate(str(self).split("\n"))]


class Failure(Exception):
    """One property that does not hold; raised inside property checks."""

    def __init__(self, message, hint=None):
        super().__init__(message)
        self.message, self.hint = message, hint


class Item:
    """A graded test cell (every parameter by keyword).

    Parameters
    ----------
    grade_id : str
        The nbgrader ``grade_id`` of the test cell.
    functions : tuple of str
        Names of the student functions the item needs, in call order.
    run : callable
        ``run(*functions, **inputs) -> result``: calls the student's functions.
    properties : callable
        ``properties(inputs, result) -> None``; raises `Failure`.
    visible_cases : callable
        ``visible_cases() -> list of (label, inputs)``.
    mistakes : list of (name, hint, callable or None)
        Known-wrong implementations taking the case's inputs; used only to name a
        misconception once a property has failed. None: the implementation is private (a
        near copy of the answer, kept by the judge); its output on each case is the
        case's ``KNOWN[name]``.
    project : callable, optional
        The part of a result that `mistakes` reproduce and the judge compares with the
        reference (default: all of it).
    compare : bool
        Whether hidden cases are compared with the reference; False for items that only
        check a contract (types, shapes), so a wrong value costs only the value items.
    depends_on : tuple of str
        Items whose functions this one calls through (e.g. backward through forward): when
        one of them fails too, the feedback says to fix that one first.
    answers : tuple of str
        Entries of a case that hold its expected answer: the properties read them, the
        student's functions never receive them and they are never sent to the worker.
        `ANSWER` and `KNOWN` always are.
    reference_answer : bool
        Whether the properties read ``inputs[ANSWER]``, the reference's projected output.
    reference_inputs : tuple of str
        Inputs of a case that the reference computes from its other entries (the judge's
        ``REFERENCE_INPUTS[grade_id]``); the student's functions receive them like any input.
    """

    def __init__(self, *, grade_id: str, functions: Sequence[str], run: Callable[..., Any],
                 properties: Callable[[dict, Any], None], visible_cases: Callable[[], list[tuple[str, dict]]],
                 mistakes: Iterable[tuple[str, str, Callable[..., Any] | None]] = (),
                 project: Callable[[Any], Any] = lambda result: result, compare: bool = True,
                 depends_on: Sequence[str] = (), answers: Sequence[str] = (), reference_answer: bool = False,
                 reference_inputs: Sequence[str] = ()) -> None:
        self.grade_id, self.functions, self.run = grade_id, tuple(functions), run
        self.properties, self.raw_visible_cases, self.mistakes = properties, visible_cases, list(mistakes)
        self.project, self.compare, self.depends_on = project, compare, tuple(depends_on)
        self.answers = tuple(answers) + (ANSWER, KNOWN)
        self.reference_answer, self.reference_inputs = reference_answer, tuple(reference_inputs)

    @property
    def private_mistakes(self):
        """Names of the mistakes recognized by their outputs alone."""
        return [name for name, _, wrong in self.mistakes if wrong is None]

    @property
    def needs_known_outputs(self):
        return self.reference_answer or bool(self.private_mistakes) or bool(self.reference_inputs)

    def visible_cases(self):
        """The visible cases, with their `ANSWER` and `KNOWN` entries from `known_outputs.json`.

        Returns
        -------
        cases : list of (label, inputs)
        """
        cases = self.raw_visible_cases()
        if not self.needs_known_outputs:
            return cases
        stored = known_outputs().get(self.grade_id)
        if stored is None or len(stored) != len(cases) or [c["label"] for c in stored] != [l for l, _ in cases]:
            raise RuntimeError(f"{KNOWN_OUTPUTS.name} does not match the visible cases of {self.grade_id}: "
                               "run `make release`")
        return [(label, {**inputs, **decode_known(entry)}) for (label, inputs), entry in zip(cases, stored)]


@functools.lru_cache(maxsize=None)
def known_outputs():
    """grade_id -> [{"label", "answer"?, "known"?: {name: encoded}, "inputs"?: {name: encoded}}, ...]
    for the visible cases."""
    return json.loads(KNOWN_OUTPUTS.read_text()) if KNOWN_OUTPUTS.exists() else {}


def decode_known(entry):
    """The `ANSWER`, `KNOWN` and reference-computed input entries of one stored visible case."""
    extra = {KNOWN: {name: wire.decode(v) for name, v in entry.get("known", {}).items()},
             **{name: wire.decode(v) for name, v in entry.get("inputs", {}).items()}}
    if "answer" in entry:
        extra[ANSWER] = wire.decode(entry["answer"])
    return extra


#: grade_id -> Item, filled once by `items`.
REGISTRY = {}


def items():
    """grade_id -> `Item` of every lesson in `course.LESSONS`, from each lesson module's
    ``ITEMS``; built on the first call.

    Returns
    -------
    registry : dict
    """
    if not REGISTRY:
        for lesson in course.LESSONS:
            module = importlib.import_module(f"{__package__}.{course.lesson_module(lesson)}")
            REGISTRY.update((item.grade_id, item) for item in module.ITEMS)
    return REGISTRY
