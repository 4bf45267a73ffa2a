"""Running one case where the student's code lives (the student's kernel, or the sandboxed
worker): `collect` calls the item on fresh copies of the inputs and reports plain data, the
inputs as the call left them included; nothing in it is taken on trust by `evaluation`."""
import re

import numpy as np

from autograder.worker import wire

#: Filenames IPython gives the code of a notebook cell (a plain shell; ipykernel).
CELL_FILENAME = re.compile(r"<ipython-input-\d+-[0-9a-f]+>|.*[/\\]ipykernel_\d+[/\\]\d+\.py")


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
