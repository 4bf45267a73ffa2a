"""The judge: decides each graded item from plain data, against the reference.

It never runs student code and trusts nothing the worker decided. Given the records that
`checks.collect` produced where the student's code ran (on the visible cases and on this
module's hidden cases), it checks against its own copy of each case that the inputs came
back unchanged, checks the item's properties and compares each hidden case with the
reference's output on the same inputs. Expected answers stay here (see `Item.answers`),
and feedback on a hidden case never quotes text the student's code produced on it.

The known mistakes that are near copies of the answer live here too (each lesson module's
`MISTAKES`, read explicitly, never patched into an item): the judge runs them on its
hidden cases, and `write_known_outputs` stores their outputs, and the reference's, on the
visible cases for the student's checks (`checks.KNOWN_OUTPUTS`, regenerated at release).
"""
import functools
import importlib
import json

import numpy as np

from autograder import checks, reference, wire
from autograder.checks import Failure, expect_array, expect_close

HIDDEN_LABEL = "hidden case "


@functools.lru_cache(maxsize=None)
def hidden_modules():
    """Lesson folder -> its module of hidden cases (each `autograder.judge.<name>` sets LESSON)."""
    import pkgutil
    modules = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]
    return {module.LESSON: module for module in modules}


class Verdict:
    """The outcome of one item: passed or not, and what the student reads."""

    def __init__(self, grade_id, passed, message="", hint=None, case=None):
        self.grade_id, self.passed, self.message, self.hint = grade_id, passed, message, hint
        self.case = case  # label of the case that failed (see `cases`), None when passed or not judged

    def as_dict(self):
        return {"grade_id": self.grade_id, "passed": self.passed, "message": self.message, "hint": self.hint,
                "case": self.case}


def lesson_of(grade_id):
    for lesson, module in hidden_modules().items():
        if grade_id in module.HIDDEN_CASES:
            return lesson
    raise KeyError(f"no lesson grades an item called {grade_id!r}")


@functools.lru_cache(maxsize=4096)
def cases(grade_id, salt=None):
    """All cases of an item: the visible ones, then the hidden ones (both with their
    `checks.ANSWER` and `checks.KNOWN` entries where the item reads them).

    `salt` (see `per_student.salt`) builds one student's hidden cases: their builders draw from
    seeds mixed with it (`checks.case_seed`); None builds the course's fixed ones.

    Returns
    -------
    cases : list of (label, inputs)
    """
    checks.load_items()
    item = checks.REGISTRY[grade_id]
    with checks.salted(salt):
        hidden = hidden_modules()[lesson_of(grade_id)].HIDDEN_CASES[grade_id]()
    return item.visible_cases() + [(f"{HIDDEN_LABEL}{k + 1} ({label})", {**inputs, **known(grade_id, inputs)})
                                   for k, (label, inputs) in enumerate(hidden)]


def private_mistakes(grade_id):
    """name -> implementation of each private mistake of an item (see `checks.Item.mistakes`)."""
    item = checks.REGISTRY[grade_id]
    implementations = getattr(hidden_modules()[lesson_of(grade_id)], "MISTAKES", {}).get(grade_id, {})
    missing = set(item.private_mistakes) - set(implementations)
    if missing:
        raise KeyError(f"{grade_id}: no implementation of the private mistake(s) {sorted(missing)}")
    return {name: implementations[name] for name in item.private_mistakes}


def known(grade_id, inputs):
    """The `checks.ANSWER` and `checks.KNOWN` entries of one case, computed here.

    Returns
    -------
    extra : dict, decoded values (what the judge would see of them)
    """
    item = checks.REGISTRY[grade_id]
    if not item.needs_known_outputs:
        return {}
    call = checks.call_inputs(item, inputs)
    outputs = {}
    for name, wrong in private_mistakes(grade_id).items():
        try:
            with np.errstate(all="ignore"):
                outputs[name] = wire.roundtrip(wrong(**checks.copy_inputs(call)))
        except Exception:  # this mistake cannot happen on this case (e.g. shapes that do not fit)
            continue
    extra = {checks.KNOWN: outputs}
    if item.reference_answer:
        ref = reference.load(lesson_of(grade_id))
        record = checks.collect(item, [ref[name] for name in item.functions], call)
        if "result" not in record:
            raise RuntimeError(f"{grade_id}: the reference failed on a case: {record['error']}")
        extra[checks.ANSWER] = item.project(wire.decode(record["result"]))
    return extra


def known_outputs_data():
    """What `checks.KNOWN_OUTPUTS` holds: for every item that needs it, per visible case, its
    label, the reference's projected output and the private mistakes' outputs (encoded)."""
    checks.load_items()
    data = {}
    for grade_id, item in sorted(checks.REGISTRY.items()):
        if not item.needs_known_outputs:
            continue
        entries = []
        for label, inputs in item.raw_visible_cases():
            extra = known(grade_id, inputs)
            entry = {"label": label, "known": {k: wire.encode(v) for k, v in extra[checks.KNOWN].items()}}
            if checks.ANSWER in extra:
                entry["answer"] = wire.encode(extra[checks.ANSWER])
            entries.append(entry)
        data[grade_id] = entries
    return data


def known_outputs_text():
    return json.dumps(known_outputs_data(), indent=1, sort_keys=True) + "\n"


def write_known_outputs():
    """Regenerate `checks.KNOWN_OUTPUTS` from the reference and the private mistakes."""
    checks.KNOWN_OUTPUTS.write_text(known_outputs_text())
    checks.known_outputs.cache_clear()
    cases.cache_clear()
    expected.cache_clear()


def is_hidden(label):
    """Whether a label of `cases` names a hidden case."""
    return label.startswith(HIDDEN_LABEL)


def jobs(grade_id, salt=None):
    """What the worker receives of an item's cases, in `cases` order: inputs, never answers.

    Returns
    -------
    jobs : list of {"key": "<grade_id>#<k>", "grade_id": str, "inputs": encoded inputs}
    """
    all_cases = cases(grade_id, salt)
    item = checks.REGISTRY[grade_id]
    return [{"key": f"{grade_id}#{k}", "grade_id": grade_id, "inputs": checks.worker_inputs(item, inputs)}
            for k, (_, inputs) in enumerate(all_cases)]


def compare(result, expected, path="output"):
    """Fail where a decoded student result differs from the reference's."""
    if isinstance(expected, (tuple, list)):
        if type(result) is not type(expected) or len(result) != len(expected):
            raise Failure(f"{path} should be a {type(expected).__name__} of {len(expected)} values")
        for k, (a, b) in enumerate(zip(result, expected)):
            compare(a, b, f"{path}[{k}]")
    elif isinstance(expected, dict):
        if type(result) is not dict or result.keys() != expected.keys():
            raise Failure(f"{path} should be a dict with keys {sorted(expected)}")
        for key in expected:
            compare(result[key], expected[key], f"{path}[{key!r}]")
    elif isinstance(expected, np.ndarray):
        expect_array(result, path, expected.shape, expected.dtype)
        expect_close(result, expected, f"{path} differs from the reference solution on this case")
    elif not checks.same_structure(result, expected):
        raise Failure(f"{path} differs from the reference solution on this case")


@functools.lru_cache(maxsize=4096)
def expected(grade_id, salt=None):
    """The reference's decoded results on every case of an item (None for visible cases): computed
    once per item, or once per student and item with a `salt` (see `cases`)."""
    item = checks.REGISTRY[grade_id]
    ref = reference.load(lesson_of(grade_id))
    ref_functions = [ref[name] for name in item.functions]
    return [wire.decode(checks.collect(item, ref_functions, inputs)["result"])
            if item.compare and is_hidden(label) else None
            for label, inputs in cases(grade_id, salt)]


def judge(grade_id, records, salt=None):
    """Decide one item from the records of all its cases (same order as `cases`).

    Never raises for anything a submission returned: an unexpected error while judging
    fails the item with a message that says so.
    """
    try:
        return _judge(grade_id, records, salt)
    except Exception as exc:  # a bug in a check must cost the item, not the class
        return Verdict(grade_id, False, f"the grader could not judge this item ({type(exc).__name__}); "
                       "your instructor has the details")


def _judge(grade_id, records, salt=None):
    checks.load_items()
    item = checks.REGISTRY[grade_id]
    all_cases = cases(grade_id, salt)
    if len(records) != len(all_cases):
        return Verdict(grade_id, False, "the grader did not receive a result for every case")
    for (label, inputs), record, wanted in zip(all_cases, records, expected(grade_id, salt)):
        failures = checks.evaluate(item, inputs, record, wanted,
                                   lambda r, e: compare(item.project(r), item.project(e)), hidden=is_hidden(label))
        if failures:
            f = failures[0]
            return Verdict(grade_id, False, f"{label}: {f.message}", f.hint, case=label)
    return Verdict(grade_id, True, f"all properties hold on {len(all_cases)} cases")


def judge_functions(grade_id, functions):
    """Collect and judge in this process (used by `hidden` inside a trusted kernel)."""
    checks.load_items()
    item = checks.REGISTRY[grade_id]
    return judge(grade_id, [checks.collect(item, functions, inputs) for _, inputs in cases(grade_id)])
