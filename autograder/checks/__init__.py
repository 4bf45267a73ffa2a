"""Checks that test cells call: one `Item` per graded test cell.

An item says how to call the student's functions on one case (`run`, executed where
the student's code lives) and which properties the plain-data result must have
(`properties`, executed anywhere: in the student's kernel for visible cases, in the judge
for hidden ones). Messages name the property that failed and, where a known mistake
produces exactly the student's output, the misconception.

Students call `check(grade_id, *functions)` from visible test cells.

Nothing the student's process reports is taken on trust: `collect` reports what the call
returned and what the inputs look like after it, and `evaluate` (in the judge for hidden
cases) decides from its own copy of the inputs whether they were changed.

No answer ships in code. Where a property can only be stated as "equals the formula", the
item reads the reference's output on the case (`ANSWER`); a known mistake that is a near
copy of the answer has no code here (its callable is None) and is recognized by its output
on the case (`KNOWN`). An input that the contract documents but only an answer can make
(the activations a backward pass takes) is computed by the reference too
(`Item.reference_inputs`), so an item never stands on another item's answer. For visible
cases all of these come from `known_outputs.json`, generated from the reference by the
judge at release; for hidden cases the judge computes them.
"""
import builtins
import contextlib
import contextvars
import functools
import hashlib
import importlib
import json
import re
import textwrap
from pathlib import Path

import numpy as np

from autograder.worker import course, wire

#: While the judge builds one student's hidden cases (`salted`), that student's salt; else None.
_SALT = contextvars.ContextVar("hidden_case_salt", default=None)


@contextlib.contextmanager
def salted(salt):
    """Within this block (in this thread), `case_seed` mixes `salt` into every case's seed."""
    token = _SALT.set(salt)
    try:
        yield
    finally:
        _SALT.reset(token)


def case_seed(seed):
    """int -> the seed a case builder draws from: `seed` itself, or, while the judge builds a student's
    per-student hidden cases (`salted`), a seed derived from it and the student's salt."""
    salt = _SALT.get()
    if salt is None:
        return seed
    return int.from_bytes(hashlib.sha256(f"{salt}|{seed}".encode()).digest()[:7], "big")


def varied(seed, fixed, draw):
    """A value that the course's cases fix by design but that can vary per student.

    Parameters
    ----------
    seed : int, the case's seed (mixed with the student's salt as in `case_seed`)
    fixed : the course's value, returned as is outside `salted` (so the course's cases never change)
    draw : callable, ``draw(rng) -> value`` for one student, with ``rng = np.random.default_rng(case_seed(seed))``;
        it must keep what the case is about (its label stays the same)
    """
    if _SALT.get() is None:
        return fixed
    return draw(np.random.default_rng(case_seed(seed)))

#: Entries of a case that only the properties read (never the student's functions, never
#: the worker): the reference's output on the case, and the private mistakes' outputs.
ANSWER, KNOWN = "answer", "known_outputs"
KNOWN_OUTPUTS = Path(__file__).with_name("known_outputs.json")

IN_PLACE_HINT = ("in-place update of an argument (e.g. `+=`, slice assignment, or a mask assignment such as "
                 "`dZ[A <= 0] = 0` on an array you were given)")

#: Filenames IPython gives the code of a notebook cell (a plain shell; ipykernel).
CELL_FILENAME = re.compile(r"<ipython-input-\d+-[0-9a-f]+>|.*[/\\]ipykernel_\d+[/\\]\d+\.py")
NAME = re.compile(r"[A-Za-z_]\w{0,59}")
#: Exception types a hidden case's feedback may name (a class the student defines could
#: carry hidden data in its name).
KNOWN_EXCEPTIONS = frozenset(
    [name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)]
    + ["LinAlgError", "AxisError"])


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
    """A graded test cell.

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

    def __init__(self, grade_id, functions, run, properties, visible_cases, mistakes=(),
                 project=lambda result: result, compare=True, depends_on=(), answers=(),
                 reference_answer=False, reference_inputs=()):
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


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) in (list, tuple):
        return type(value)(_copy(v) for v in value)
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    return value


def copy_inputs(inputs):
    """Fresh copies of a case's inputs (arrays, also inside lists, tuples and dicts)."""
    return {k: _copy(v) for k, v in inputs.items()}


def call_inputs(item, inputs):
    """The entries of a case the student's functions receive: all but the item's `answers`."""
    return {k: v for k, v in inputs.items() if k not in item.answers}


def worker_inputs(item, inputs):
    """A case as a job sends it to the worker: `call_inputs`, wire-encoded."""
    return {k: wire.encode(v) for k, v in call_inputs(item, inputs).items()}


def collect(item, functions, inputs):
    """Run one case where the student's code lives; return plain data.

    Returns
    -------
    record : dict
        ``{"result": encoded return value}`` or ``{"error": error_record(exc)}``, plus
        ``"inputs_after"``: ``{name: encoded value}`` of the inputs as the call left them
        (the judge compares them with its own copy).
    """
    given = copy_inputs(call_inputs(item, inputs))
    try:
        record = {"result": wire.encode(item.run(*functions, **given))}
    except Exception as exc:  # the student's exception is the finding, not a crash
        record = {"error": error_record(exc)}
    record["inputs_after"] = {k: wire.encode(v) for k, v in given.items()}
    return record


def error_record(exc):
    """An exception as plain data: its type, its message and, when it was raised in a
    notebook cell, the innermost such function and its line (counted within the cell).

    Returns
    -------
    error : dict
        ``{"type": str, "message": str}`` and, if found, ``"function": str, "line": int``.
    """
    try:
        message = str(exc)[:300]
    except Exception:  # a student's exception class may not even print
        message = "(the exception could not be printed)"
    error = {"type": type(exc).__name__[:60], "message": message}
    tb, where = exc.__traceback__, None
    while tb is not None:
        if CELL_FILENAME.fullmatch(tb.tb_frame.f_code.co_filename):
            where = tb
        tb = tb.tb_next
    if where is not None:
        error["function"], error["line"] = where.tb_frame.f_code.co_name, where.tb_lineno
    return error


def describe_error(error, hidden):
    """What a student reads about an error on a case, e.g. ``"raised IndexError in deep_forward,
    line 7 of your cell: ..."``. For a hidden case the message is left out, and so is any
    text that could carry the case's inputs (the type when it is not a known one)."""
    if isinstance(error, dict):
        kind = str(error.get("type"))
        if hidden and kind not in KNOWN_EXCEPTIONS:
            kind = "an exception of a class your code defines"
        elif not NAME.fullmatch(kind):
            kind = "an exception"
        function, line = error.get("function"), error.get("line")
        if isinstance(function, str) and NAME.fullmatch(function) and type(line) is int and line > 0:
            kind += f" in {function}, line {line} of your cell"
        message = error.get("message")
        return f"raised {kind}" + (f": {str(message)[:300]}" if message and not hidden else "")
    # A string comes from the supervisor (a timeout, a crash) or names a missing function.
    error = str(error)
    if not hidden:
        return f"raised {error[:400]}"
    head = error.split(":", 1)[0]
    if head in KNOWN_EXCEPTIONS:
        return f"raised {head}"
    return "did not return a result on this case (see the notes about your submission)"


def _is_not_implemented(error):
    kind = error.get("type") if isinstance(error, dict) else str(error).split(":", 1)[0]
    return kind == "NotImplementedError"


def modified(name, before, after):
    """Where an input came back changed, or None: arrays compared exactly (type, shape,
    dtype, values; NaN equals NaN), lists and tuples entry by entry (named ``name[k]``),
    dicts key by key (named ``name['key']``); other values are not compared.

    Parameters
    ----------
    name : str
    before, after : object
        The input as given and as the call left it.

    Returns
    -------
    where : str or None, e.g. ``"weights[1]"`` or ``"weights (the list itself)"``
    """
    if isinstance(before, np.ndarray):
        same = (type(after) is np.ndarray and after.shape == before.shape and after.dtype == before.dtype
                and np.array_equal(after, before, equal_nan=True))
        return None if same else name
    if type(before) in (list, tuple):
        if type(after) is not type(before) or len(after) != len(before):
            return f"{name} (the list itself)"
        for k, (b, a) in enumerate(zip(before, after)):
            where = modified(f"{name}[{k}]", b, a)
            if where:
                return where
    if type(before) is dict:
        if type(after) is not dict or after.keys() != before.keys():
            return f"{name} (the dict itself)"
        for key, b in before.items():
            where = modified(f"{name}[{key!r}]", b, after[key])
            if where:
                return where
    return None


def in_place(where):
    """The failure of a call that changed its argument(s) `where` (see `modified`)."""
    return Failure(f"modified its input {where} in place; graded functions must return new arrays and leave "
                   "their arguments untouched", hint=IN_PLACE_HINT)


def changed_inputs(item, inputs, after):
    """The inputs a call changed, judged against `inputs` (the judge's own copy of the case).

    Parameters
    ----------
    after : object
        A record's ``"inputs_after"``: ``{name: encoded value}``.

    Returns
    -------
    names : list of str, or None when `after` does not describe every input
    """
    sent = call_inputs(item, inputs)
    if type(after) is not dict or set(after) != set(sent):
        return None
    names = (modified(k, wire.roundtrip(v), wire.decode(after[k])) for k, v in sent.items())
    return [n for n in names if n]


def evaluate(item, inputs, record, against=None, hidden=False):
    """Check one collected case; return a list of `Failure` (empty when all hold).

    `inputs` is the caller's own copy of the case (the judge's, for graded cases);
    `against(result)`, given by the judge for the cases it compares with the reference,
    raises `Failure` where the result differs from the reference's (None: no comparison);
    `hidden` keeps the text of the student's exceptions out of the message.
    """
    if "error" in record:
        if _is_not_implemented(record["error"]):
            return [Failure("not implemented yet: the function still raises NotImplementedError")]
        return [Failure(describe_error(record["error"], hidden))]
    changed = changed_inputs(item, inputs, record.get("inputs_after"))
    if changed is None:
        return [Failure("the grader did not receive the inputs as the call left them, so it cannot tell "
                        "whether the function changed them")]
    if changed:
        return [in_place(", ".join(changed))]
    result = wire.decode(record.get("result"))
    try:
        item.properties(inputs, result)
        if against is not None:
            against(result)
    except Failure as failure:
        if failure.hint is None:
            failure.hint = match_mistake(item, inputs, result)
        return [failure]
    return []


def match_mistake(item, inputs, result):
    """Name the known mistake whose output equals `result`, if any (a private mistake by its
    output on the case, `inputs[KNOWN][name]`)."""
    known = inputs.get(KNOWN, {})
    for name, hint, wrong in item.mistakes:
        try:
            if wrong is None:
                if name not in known:
                    continue
                theirs = known[name]
            else:
                theirs = wire.roundtrip(wrong(**copy_inputs(call_inputs(item, inputs))))
            if same_structure(item.project(result), theirs):
                return hint
        except Exception:
            continue
    return None


def same_structure(a, b, rtol=1e-6, atol=1e-9):
    """True when two decoded results have the same types, shapes and values."""
    if type(a) is not type(b):
        return False
    if a is None:
        return True
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same_structure(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_structure(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype.kind in "fc" and np.allclose(a, b, rtol, atol, equal_nan=True)
    if isinstance(a, (float, np.floating)):
        return bool(np.isclose(a, b, rtol, atol, equal_nan=True))  # NaN equals NaN, as in arrays
    return a == b if isinstance(a, (int, str, bool)) else False


#: Messages are wrapped to fit nbgrader's Validate dialog and a notebook's output area.
MESSAGE_COLUMNS = 90


def report(failures_by_case, note=""):
    """Format failures (and a `dependency_note`) as the message a student reads, wrapped at `MESSAGE_COLUMNS`."""
    lines = []
    for label, failures in failures_by_case:
        for f in failures:
            lines += _wrap(f"{label}: {f.message}", "")
            if f.hint:
                lines += _wrap(f"  Likely mistake: {f.hint}.", "    ")
    if note:
        lines += _wrap(f"  {note}", "    ")
    return "\n".join(lines)


def _wrap(text, indent):
    return [wrapped for line in text.split("\n")
            for wrapped in textwrap.wrap(line, MESSAGE_COLUMNS, subsequent_indent=indent or "  ",
                                         break_long_words=False, break_on_hyphens=False) or [""]]


def dependency_note(grade_id, failed):
    """The note a failed item's message ends with when items it `depends_on` failed too ("" if none did).

    The one wording of it, for the notebook's test cells, `selfcheck` and the graded feedback.

    Parameters
    ----------
    grade_id : str, the failed item
    failed : set of str, the items found wrong (in the same kernel, run or grading)
    """
    first = [d for d in items()[grade_id].depends_on if d in failed]
    if not first:
        return ""
    return (f"Note: this item runs through functions that {', '.join(first)} found wrong; "
            "fix that first, this one may then pass as it is.")


def first_failure(item, record_of):
    """(label, failures) of the first visible case of `item` that fails, or None.

    `record_of(k, inputs)` gives case k's record: `collect` in the student's kernel, the worker's
    record in `selfcheck`.
    """
    for k, (label, inputs) in enumerate(item.visible_cases()):
        failures = evaluate(item, inputs, record_of(k, inputs))
        if failures:
            return label, failures
    return None


def _collector(item, functions):
    return lambda k, inputs: collect(item, functions, inputs)


def failed_dependencies(item, functions):
    """The items `item` depends on that fail on their own visible cases with these `functions`
    (the same functions by name: a backward item's forward pass is the forward item's function)."""
    given = dict(zip(item.functions, functions))
    failed = set()
    for grade_id in item.depends_on:
        dependency = items()[grade_id]
        if set(dependency.functions) <= set(given) and first_failure(
                dependency, _collector(dependency, [given[name] for name in dependency.functions])):
            failed.add(grade_id)
    return failed


def check(grade_id, *functions):
    """Run a graded item's visible checks on the student's functions.

    Raises `CheckFailed` naming the first property that fails (and, when an item it depends on
    fails with the same functions, saying to fix that one first); prints a line on success.
    """
    item = items()[grade_id]
    if len(functions) != len(item.functions):
        raise TypeError(f"check({grade_id!r}) takes the functions {', '.join(item.functions)}")
    failure = first_failure(item, _collector(item, functions))
    if failure:
        label, failures = failure
        raise CheckFailed(report([(label, failures[:1])], dependency_note(grade_id, failed_dependencies(item, functions))))
    print(f"\u2713 {grade_id}: all properties hold on {len(item.visible_cases())} visible case(s). "
          "Hidden tests check more cases when your notebook is graded.")


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
            module = importlib.import_module(f"{__name__}.{course.lesson_module(lesson)}")
            REGISTRY.update((item.grade_id, item) for item in module.ITEMS)
    return REGISTRY


# ---- helpers shared by the lessons' property checks -------------------------------

def expect_ndarray(value, name):
    """Fail unless `value` is a numpy.ndarray (exactly: not a subclass, not an `Opaque` value)."""
    if type(value) is not np.ndarray:
        raise Failure(f"{name} should be a numpy.ndarray, got {wire.type_name(value)}")
    return value


def expect_array(value, name, shape, dtype=np.float64):
    """Fail unless `value` is an ndarray of exactly `shape` and `dtype`."""
    expect_ndarray(value, name)
    if value.shape != tuple(shape):
        hint = None
        if value.shape == tuple(shape)[::-1] and len(shape) == 2:
            hint = "the array is transposed (examples are columns: shape (n_features, m))"
        elif len(shape) == 2 and shape[1] == 1 and value.shape in ((shape[0],), (1, shape[0])):
            hint = "reduced over the wrong axis or without keepdims=True; statistics are (n, 1) columns"
        raise Failure(f"{name} should have shape {tuple(shape)}, got {value.shape}", hint)
    if value.dtype != dtype:
        raise Failure(f"{name} should have dtype {np.dtype(dtype)}, got {value.dtype}")
    if not np.all(np.isfinite(value)):
        raise Failure(f"{name} contains NaN or inf", "a division by zero: add eps inside the square root")
    return value


def expect_tuple(value, name, length):
    if type(value) is not tuple or len(value) != length:
        got = wire.type_name(value)
        raise Failure(f"{name} should return a tuple of {length} values, got {got}"
                      + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    return value


def expect_close(actual, wanted, what, rtol=1e-6, atol=1e-8, row_name="feature"):
    """Fail with the worst entry when two same-shaped arrays differ."""
    err = np.abs(actual - wanted)
    bad = ~(err <= atol + rtol * np.abs(wanted))  # NaN counts as wrong
    if np.any(bad):
        i = np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -1)), err.shape)
        where = f"{row_name} {i[0]}" + (f", column {i[1]}" if err.ndim == 2 and err.shape[1] > 1 else "")
        raise Failure(f"{what}: {where} is off by {err[i]:.3g} ({int(bad.sum())} of {bad.size} entries wrong)")


# ---- "predict before you run" questions --------------------------------------------

#: The choices of a prediction about how a quantity changes with depth.
TRENDS = ("grows", "shrinks", "stays")


def _ask(predict):
    return predict()


def prediction_item(grade_id, function, question, choices=TRENDS, hint=None):
    """A graded prediction: `function()` returns one of `choices`, judged against the
    reference's choice (`ANSWER`, from `known_outputs.json`; never written in this code).

    Parameters
    ----------
    grade_id, function : str
        The test cell's grade_id and the answer cell's function (no arguments).
    question : str
        What is predicted, as the message names it ("the gradient norm at the first layer").
    choices : tuple of str
    hint : str, optional
        The misconception behind a wrong prediction, the same whichever wrong choice was
        made (a hint per choice would tell the right one by what it leaves out).

    Returns
    -------
    item : Item
    """
    def properties(inputs, value):
        listed = ", ".join(repr(c) for c in choices)
        if type(value) is not str or value.strip().lower() not in choices:
            got = repr(value) if isinstance(value, str) else wire.type_name(value)
            raise Failure(f"{function}() should return one of {listed} (a str), got {got}")
        if value.strip().lower() != inputs[ANSWER]:
            raise Failure(f"the prediction {value.strip().lower()!r} for {question} is not what the experiment "
                          "below measures: run it and find the number that decides", hint)
    return Item(grade_id, [function], _ask, properties, lambda: [("your prediction", {})],
                project=lambda value: value.strip().lower() if isinstance(value, str) else value,
                reference_answer=True)
