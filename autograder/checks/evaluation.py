"""Deciding one collected case: `evaluate` turns a record (from `collecting.collect`, in the
kernel or the worker) into `Failure`s, judging from its own copy of the inputs whether the call
changed them, and names the known mistake whose output the student's matches (`match_mistake`)."""
import numpy as np

from autograder.checks.collecting import call_inputs, copy_inputs
from autograder.checks.feedback import describe_error
from autograder.checks.item import KNOWN, Failure
from autograder.worker import wire

IN_PLACE_HINT = ("in-place update of an argument (e.g. `+=`, slice assignment, or a mask assignment such as "
                 "`dZ[A <= 0] = 0` on an array you were given)")


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
