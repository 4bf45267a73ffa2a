"""Checks that test cells call: one `Item` per graded test cell.

An item says how to call the student's functions on one case (`run`, executed where
the student's code lives) and which properties the plain-data result must have
(`properties`, executed anywhere: in the student's kernel for visible cases, in the judge
for hidden ones). Messages name the property that failed and, where a known mistake
produces exactly the student's output, the misconception.

Students call `check(grade_id, *functions)` from visible test cells.
"""
import importlib

import numpy as np

from autograder import wire

REGISTRY = {}


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
    mistakes : list of (name, hint, callable)
        Known-wrong implementations taking the case's inputs; used only to name a
        misconception once a property has failed.
    project : callable, optional
        The part of a result that `mistakes` reproduce and the judge compares with the
        reference (default: all of it).
    compare : bool
        Whether hidden cases are compared with the reference; False for items that only
        check a contract (types, shapes), so a wrong value costs only the value items.
    depends_on : tuple of str
        Items whose functions this one calls through (e.g. backward through forward): when
        one of them fails too, the feedback says to fix that one first.
    """

    def __init__(self, grade_id, functions, run, properties, visible_cases, mistakes=(),
                 project=lambda result: result, compare=True, depends_on=()):
        self.grade_id, self.functions, self.run = grade_id, tuple(functions), run
        self.properties, self.visible_cases, self.mistakes = properties, visible_cases, list(mistakes)
        self.project, self.compare, self.depends_on = project, compare, tuple(depends_on)
        REGISTRY[grade_id] = self


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) in (list, tuple):
        return type(value)(_copy(v) for v in value)
    return value


def copy_inputs(inputs):
    """Fresh copies of a case's inputs (arrays, also inside lists and tuples)."""
    return {k: _copy(v) for k, v in inputs.items()}


def collect(item, functions, inputs):
    """Run one case where the student's code lives; return plain data.

    Returns
    -------
    record : dict
        ``{"result": encoded return value}`` or ``{"error": "TypeError: ..."}``, plus
        ``"mutated"``: names of array inputs the call changed.
    """
    given = copy_inputs(inputs)
    try:
        record = {"result": wire.encode(item.run(*functions, **given))}
    except Exception as exc:  # the student's exception is the finding, not a crash
        record = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    record["mutated"] = [k for k, v in inputs.items() if not _same(given[k], v)]
    return record


def _same(after, before):
    """True when an input came back unchanged (arrays compared exactly, lists item by item)."""
    if isinstance(before, np.ndarray):
        return (type(after) is np.ndarray and after.shape == before.shape
                and after.dtype == before.dtype and np.array_equal(after, before, equal_nan=True))
    if type(before) in (list, tuple):
        return type(after) is type(before) and len(after) == len(before) and all(map(_same, after, before))
    return True


def evaluate(item, inputs, record, expected=None, compare=None):
    """Check one collected case; return a list of `Failure` (empty when all hold).

    `expected` and `compare(result, expected)` are given by the judge for hidden cases.
    """
    if "error" in record:
        error = str(record["error"])
        if error.startswith("NotImplementedError"):
            return [Failure("not implemented yet: the function still raises NotImplementedError")]
        return [Failure(f"raised {error}")]
    if record.get("mutated"):
        names = ", ".join(record["mutated"])
        return [Failure(f"modified its input {names} in place; graded functions must return "
                        "new arrays and leave their arguments untouched",
                        hint="in-place update (e.g. `+=` or slice assignment on an argument)")]
    result = wire.decode(record.get("result"))
    try:
        item.properties(inputs, result)
        if expected is not None:
            compare(result, expected)
    except Failure as failure:
        if failure.hint is None:
            failure.hint = match_mistake(item, inputs, result)
        return [failure]
    return []


def match_mistake(item, inputs, result):
    """Name the known mistake whose output equals `result`, if any."""
    for name, hint, wrong in item.mistakes:
        try:
            if same_structure(item.project(result), wire.roundtrip(wrong(**copy_inputs(inputs)))):
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
        return bool(np.isclose(a, b, rtol, atol))
    return a == b if isinstance(a, (int, str, bool)) else False


def report(failures_by_case):
    """Format failures as the message a student reads."""
    lines = []
    for label, failures in failures_by_case:
        for f in failures:
            lines.append(f"{label}: {f.message}")
            if f.hint:
                lines.append(f"  Likely mistake: {f.hint}.")
    return "\n".join(lines)


def check(grade_id, *functions):
    """Run a graded item's visible checks on the student's functions.

    Raises `CheckFailed` naming the first property that fails; prints a line on success.
    """
    load_items()
    item = REGISTRY[grade_id]
    if len(functions) != len(item.functions):
        raise TypeError(f"check({grade_id!r}) takes the functions {', '.join(item.functions)}")
    cases = item.visible_cases()
    for label, inputs in cases:
        failures = evaluate(item, inputs, collect(item, functions, inputs))
        if failures:
            raise CheckFailed(report([(label, failures[:1])]))
    print(f"\u2713 {grade_id}: all properties hold on {len(cases)} visible case(s). "
          "Hidden tests check more cases when your notebook is graded.")


def load_items():
    """Import every lesson's check module in this package (each registers its items)."""
    import pkgutil
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


# ---- helpers shared by the lessons' property checks -------------------------------

def expect_array(value, name, shape, dtype=np.float64):
    """Fail unless `value` is an ndarray of exactly `shape` and `dtype`."""
    if isinstance(value, wire.Opaque):
        raise Failure(f"{name} should be a numpy.ndarray, got {value.type_name}")
    if type(value) is not np.ndarray:
        raise Failure(f"{name} should be a numpy.ndarray, got {type(value).__name__}")
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
        got = value.type_name if isinstance(value, wire.Opaque) else type(value).__name__
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
