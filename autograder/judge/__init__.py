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
from dataclasses import dataclass

import numpy as np

from autograder import checks
from autograder.checks import Failure, expect_array, expect_close
from autograder.judge import refcache, reference
from autograder.worker import course, wire

HIDDEN_LABEL = "hidden case "


@functools.lru_cache(maxsize=None)
def hidden_modules():
    """Lesson folder -> its module of hidden cases, ``autograder.judge.<name>``, for every
    lesson of `course.LESSONS`."""
    return {lesson: importlib.import_module(f"{__name__}.{course.lesson_module(lesson)}") for lesson in course.LESSONS}


@dataclass
class Verdict:
    """The outcome of one item: passed or not, and what the student reads."""
    grade_id: str
    passed: bool
    message: str = ""
    hint: str | None = None
    case: str | None = None  # label of the case that failed (see `cases`), None when passed or not judged


@dataclass
class Case:
    """One case of an item.

    Attributes
    ----------
    label : str, what feedback calls it (a hidden case's label never shows its inputs)
    inputs : dict, the decoded inputs, with the `checks.ANSWER`/`checks.KNOWN` entries the item reads
    hidden : bool, whether it is one of the judge's hidden cases (else a visible one)
    """
    label: str
    inputs: dict
    hidden: bool = False


def _per_salt_cache(function):
    """Cache `function(grade_id, salt=None)` once per (grade_id, salt), however it is called."""
    cached = functools.lru_cache(maxsize=4096)(function)

    @functools.wraps(function)
    def call(grade_id, salt=None):
        return cached(grade_id, salt)
    call.cache_clear = cached.cache_clear
    return call


def lesson_of(grade_id):
    for lesson, module in hidden_modules().items():
        if grade_id in module.HIDDEN_CASES:
            return lesson
    raise KeyError(f"no lesson grades an item called {grade_id!r}")


@_per_salt_cache
def cases(grade_id, salt=None):
    """All cases of an item: the visible ones, then the hidden ones (both with their
    `checks.ANSWER` and `checks.KNOWN` entries where the item reads them).

    `salt` (see `per_student.salt`) builds one student's hidden cases: their builders draw from
    seeds mixed with it (`checks.case_seed`); None builds the course's fixed ones.

    Returns
    -------
    cases : list of Case
    """
    item = checks.items()[grade_id]
    with checks.salted(salt):
        hidden = hidden_modules()[lesson_of(grade_id)].HIDDEN_CASES[grade_id]()
    return [Case(label, inputs) for label, inputs in item.visible_cases()] + [
        Case(f"{HIDDEN_LABEL}{k + 1} ({label})", {**inputs, **known(grade_id, inputs)}, hidden=True)
        for k, (label, inputs) in enumerate(hidden)]


def private_mistakes(grade_id):
    """name -> implementation of each private mistake of an item (see `checks.Item.mistakes`)."""
    item = checks.items()[grade_id]
    implementations = getattr(hidden_modules()[lesson_of(grade_id)], "MISTAKES", {}).get(grade_id, {})
    missing = set(item.private_mistakes) - set(implementations)
    if missing:
        raise KeyError(f"{grade_id}: no implementation of the private mistake(s) {sorted(missing)}")
    return {name: implementations[name] for name in item.private_mistakes}


def reference_inputs(grade_id, inputs):
    """The inputs of a case that the reference computes (see `checks.Item.reference_inputs`).

    Returns
    -------
    extra : dict, name -> decoded value (what the student's functions would receive)
    """
    item = checks.items()[grade_id]
    if not item.reference_inputs:
        return {}
    made = hidden_modules()[lesson_of(grade_id)].REFERENCE_INPUTS[grade_id](checks.copy_inputs(inputs))
    return {name: wire.roundtrip(made[name]) for name in item.reference_inputs}


def known(grade_id, inputs):
    """The entries of one case computed here: `checks.ANSWER`, `checks.KNOWN` and the
    reference-computed inputs.

    Returns
    -------
    extra : dict, decoded values (what the judge would see of them)
    """
    item = checks.items()[grade_id]
    if not item.needs_known_outputs:
        return {}
    extra = reference_inputs(grade_id, inputs)
    call = checks.call_inputs(item, {**inputs, **extra})
    outputs = {}
    for name, wrong in private_mistakes(grade_id).items():
        try:
            with np.errstate(all="ignore"):
                outputs[name] = wire.roundtrip(wrong(**checks.copy_inputs(call)))
        except Exception:  # this mistake cannot happen on this case (e.g. shapes that do not fit)
            continue
    extra[checks.KNOWN] = outputs
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
    data = {}
    for grade_id, item in sorted(checks.items().items()):
        if not item.needs_known_outputs:
            continue
        entries = []
        for label, inputs in item.raw_visible_cases():
            extra = known(grade_id, inputs)
            entry = {"label": label, "known": {k: wire.encode(v) for k, v in extra[checks.KNOWN].items()}}
            if item.reference_inputs:
                entry["inputs"] = {k: wire.encode(extra[k]) for k in item.reference_inputs}
            if checks.ANSWER in extra:
                entry["answer"] = wire.encode(extra[checks.ANSWER])
            entries.append(entry)
        data[grade_id] = entries
    return data


#: A stored known output is kept while what the reference and the mistakes compute now is this close to it:
#: another machine's BLAS kernels move the last bits (gradient checks' tiny errors by up to ~3e-8 of
#: themselves), so regenerating there leaves the committed file as it is; ten times tighter than the
#: tightest comparison the checks make with these values (rtol 1e-6, atol 1e-9), so they decide the same.
KNOWN_OUTPUTS_TOLERANCE = {"rtol": 1e-7, "atol": 1e-12}


def known_outputs_text():
    """`checks.KNOWN_OUTPUTS` as it should be: `known_outputs_data`, with each value that the stored file
    holds within `KNOWN_OUTPUTS_TOLERANCE` kept as stored (see `kept`)."""
    stored = json.loads(checks.KNOWN_OUTPUTS.read_text()) if checks.KNOWN_OUTPUTS.exists() else {}
    return json.dumps(kept(stored, known_outputs_data()), indent=1, sort_keys=True) + "\n"


def kept(stored, fresh):
    """`fresh` (encoded data), where `stored` holds the same value within `KNOWN_OUTPUTS_TOLERANCE` taken from
    `stored`; anything else (another structure, type, shape or exact value) from `fresh`."""
    if isinstance(fresh, dict) and not fresh.keys().isdisjoint({"ndarray", "npscalar", "py"}):
        return stored if isinstance(stored, dict) and _close(wire.decode(stored), wire.decode(fresh)) else fresh
    if isinstance(fresh, dict) and isinstance(stored, dict):
        return {key: kept(stored.get(key), value) for key, value in fresh.items()}
    if isinstance(fresh, list) and isinstance(stored, list) and len(stored) == len(fresh):
        return [kept(a, b) for a, b in zip(stored, fresh)]
    return fresh


def _close(a, b):
    if type(a) is not type(b) or np.shape(a) != np.shape(b) or getattr(a, "dtype", None) != getattr(b, "dtype", None):
        return False
    if isinstance(a, (float, np.floating, np.ndarray)) and np.asarray(a).dtype.kind in "fc":
        return bool(np.allclose(a, b, equal_nan=True, **KNOWN_OUTPUTS_TOLERANCE))
    return bool(np.array_equal(a, b))


def write_known_outputs():
    """Regenerate `checks.KNOWN_OUTPUTS` from the reference and the private mistakes (values within
    `KNOWN_OUTPUTS_TOLERANCE` of the stored ones stay as stored, so the file changes only when they do)."""
    checks.KNOWN_OUTPUTS.write_text(known_outputs_text())
    checks.known_outputs.cache_clear()
    cases.cache_clear()
    expected.cache_clear()


def names_hidden_case(message):
    """Whether a verdict's message is about a hidden case (it starts with that case's label)."""
    return message.startswith(HIDDEN_LABEL)


def jobs(grade_id, salt=None):
    """What the worker receives of an item's cases, in `cases` order: inputs, never answers.

    Returns
    -------
    jobs : list of {"key": "<grade_id>#<k>", "grade_id": str, "inputs": encoded inputs}
    """
    item = checks.items()[grade_id]
    return [{"key": f"{grade_id}#{k}", "grade_id": grade_id, "inputs": checks.worker_inputs(item, case.inputs)}
            for k, case in enumerate(cases(grade_id, salt))]


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


@_per_salt_cache
def expected(grade_id, salt=None):
    """The reference's decoded results on the cases of an item compared with it: its hidden
    cases, unless the item only checks a contract (`checks.Item.compare`).

    Returns
    -------
    results : dict, index in `cases` -> decoded result (which may be None: a right answer too);
        computed once per item (cached on disk), or once per student and item with a `salt`
    """
    found = lesson_expected(lesson_of(grade_id))[grade_id] if salt is None else _reference_results(grade_id, salt)
    return {int(k): wire.decode(e) for k, e in found.items()}


@functools.lru_cache(maxsize=None)
def lesson_expected(lesson):
    """The reference's encoded results on every item of a lesson, from `refcache` when they are
    there for the current sources, else computed (and stored).

    Returns
    -------
    results : dict, grade id -> {str(index in `cases`): `wire`-encoded result}
    """
    grade_ids = sorted(hidden_modules()[lesson].HIDDEN_CASES)
    digest = refcache.key(lesson)
    stored = refcache.load(lesson, digest)
    if isinstance(stored, dict) and sorted(stored) == grade_ids and all(
            isinstance(stored[gid], dict) and set(stored[gid]) == _compared(gid)
            and all(isinstance(e, dict) for e in stored[gid].values()) for gid in grade_ids):
        return stored
    results = {gid: _reference_results(gid) for gid in grade_ids}
    refcache.store(lesson, digest, results)
    return results


def _compared(grade_id):
    """Indexes (as text) of the cases of an item that are compared with the reference."""
    if not checks.items()[grade_id].compare:
        return set()
    return {str(k) for k, case in enumerate(cases(grade_id)) if case.hidden}


def _reference_results(grade_id, salt=None):
    item = checks.items()[grade_id]
    if not item.compare:
        return {}
    ref = reference.load(lesson_of(grade_id))
    ref_functions = [ref[name] for name in item.functions]
    return {str(k): checks.collect(item, ref_functions, case.inputs)["result"]
            for k, case in enumerate(cases(grade_id, salt)) if case.hidden}


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
    item = checks.items()[grade_id]
    all_cases, reference_results = cases(grade_id, salt), expected(grade_id, salt)
    if len(records) != len(all_cases):
        return Verdict(grade_id, False, "the grader did not receive a result for every case")
    for k, (case, record) in enumerate(zip(all_cases, records)):
        against = functools.partial(_against_reference, item, reference_results[k]) if k in reference_results else None
        failures = checks.evaluate(item, case.inputs, record, against, hidden=case.hidden)
        if failures:
            f = failures[0]
            return Verdict(grade_id, False, f"{case.label}: {f.message}", f.hint, case=case.label)
    return Verdict(grade_id, True, f"all properties hold on {len(all_cases)} cases")


def _against_reference(item, wanted, result):
    compare(item.project(result), item.project(wanted))


def judge_functions(grade_id, functions):
    """Collect and judge in this process (used by `hidden` inside a trusted kernel)."""
    item = checks.items()[grade_id]
    return judge(grade_id, [checks.collect(item, functions, case.inputs) for case in cases(grade_id)])
