"""The judge trusts no decision of the worker and its feedback leaks nothing hidden.

Records are built with `checks.collect` in this process (as the worker would) and then
doctored where a test plays a worker that lies.
"""
import subprocess
import sys

import numpy as np
import pytest

from autograder import checks, judge
from autograder.authoring.catalogue import Variant, build
from autograder.grading import grade
from autograder.judge import reference
from autograder.worker import runner, wire
from autograder.worker.course import ROOT

CELL = "<ipython-input-7-0123456789ab>"  # the filename IPython gives a notebook cell


def cell_functions(source, **namespace):
    """Functions defined the way a notebook defines them: in a cell, with numpy as np."""
    namespace = {"np": np, **namespace}
    exec(compile(source, CELL, "exec"), namespace)
    return namespace


def reference_functions(grade_id):
    item = checks.items()[grade_id]
    ref = reference.load(judge.lesson_of(grade_id))
    return [ref[name] for name in item.functions]


def records_for(grade_id, functions, hidden_only=True):
    """Records of every case: the student's on hidden cases (or all), the reference's elsewhere."""
    item = checks.items()[grade_id]
    ref = reference_functions(grade_id)
    return [checks.collect(item, functions if case.hidden or not hidden_only else ref, case.inputs)
            for case in judge.cases(grade_id)]


# ---- 1. mutation is decided by the judge ------------------------------------------------

IN_PLACE_NORMALIZE = '''
def normalize_inputs(X, mu, var, eps=1e-8):
    X -= mu
    X /= np.sqrt(var + eps)
    return X
'''


@pytest.fixture(scope="module")
def in_place_records():
    item = checks.items()["normalize_inputs_contract"]
    fn = cell_functions(IN_PLACE_NORMALIZE)["normalize_inputs"]
    return [checks.collect(item, [fn], case.inputs) for case in judge.cases("normalize_inputs_contract")]


def test_in_place_code_fails_even_when_the_worker_says_nothing_changed(in_place_records):
    lying = [{**r, "mutated": []} for r in in_place_records]
    verdict = judge.judge("normalize_inputs_contract", lying)
    assert not verdict.passed
    assert "modified its input X in place" in verdict.message and "in-place" in verdict.hint


def test_a_record_without_the_inputs_after_the_call_fails(in_place_records):
    silent = [{"result": r["result"], "mutated": []} for r in in_place_records]
    verdict = judge.judge("normalize_inputs_contract", silent)
    assert not verdict.passed and "inputs" in verdict.message


def test_the_judge_compares_with_its_own_inputs_not_with_what_the_worker_was_given(in_place_records):
    """A worker may be handed other inputs than the judge holds: it is the judge's copy that counts."""
    item = checks.items()["normalize_inputs_contract"]
    inputs = judge.cases("normalize_inputs_contract")[-1].inputs
    shifted = dict(inputs, X=inputs["X"] + 1.0)
    record = checks.collect(item, reference_functions("normalize_inputs_contract"), shifted)
    failures = checks.evaluate(item, inputs, record, hidden=True)
    assert failures and "modified its input X" in failures[0].message


def test_an_entry_of_a_list_input_changed_in_place_is_named():
    fns = cell_functions('''
def deep_forward(X, weights, activation="linear"):
    weights[1] *= 2.0
    activations = [X]
    for W in weights:
        activations.append(W @ activations[-1])
    return activations
''')
    verdict = judge.judge("deep_forward_contract", records_for("deep_forward_contract", [fns["deep_forward"]],
                                                                hidden_only=False))
    assert not verdict.passed and "modified its input weights[1] in place" in verdict.message


# ---- 4. errors: where, and never the text of a hidden case ------------------------------

LEAKY_MEAN_VARIANCE = '''
def helper(X):
    raise ValueError("SECRET " + repr(X))

def compute_mean_variance(X):
    return helper(X)
'''


def test_a_hidden_case_never_quotes_the_exception_message():
    fn = cell_functions(LEAKY_MEAN_VARIANCE)["compute_mean_variance"]
    verdict = judge.judge("mean_variance_values", records_for("mean_variance_values", [fn]))
    assert not verdict.passed and verdict.message.startswith("hidden case 1")
    assert "SECRET" not in verdict.message and "array" not in verdict.message
    assert "raised ValueError in helper, line 3 of your cell" in verdict.message


def test_a_visible_case_quotes_the_message_and_says_where():
    fn = cell_functions(LEAKY_MEAN_VARIANCE)["compute_mean_variance"]
    item = checks.items()["mean_variance_values"]
    label, inputs = item.visible_cases()[0]
    message = checks.evaluate(item, inputs, checks.collect(item, [fn], inputs))[0].message
    assert message.startswith("raised ValueError in helper, line 3 of your cell: SECRET array(")


@pytest.mark.parametrize("error", [
    "ValueError: SECRET 0.123",  # a worker's own string
    {"type": "SECRET_0_123", "message": "x"},  # a class named after the data
    {"type": "ValueError", "function": "f", "line": 3, "message": "SECRET 0.123"},
])
def test_text_a_worker_sends_about_a_hidden_error_is_not_quoted(error):
    records = records_for("mean_variance_values", reference_functions("mean_variance_values"))
    first_hidden = next(k for k, case in enumerate(judge.cases("mean_variance_values")) if case.hidden)
    records[first_hidden] = {"error": error}
    verdict = judge.judge("mean_variance_values", records)
    assert not verdict.passed and "SECRET" not in verdict.message


# ---- 2. expected answers stay with the judge ----------------------------------------------

def test_no_job_sent_to_the_worker_holds_an_expected_answer(tmp_path, monkeypatch):
    lesson = "04_initialization"
    folder = tmp_path / "submissions" / "student" / lesson
    folder.mkdir(parents=True)
    (folder / "lesson.ipynb").write_bytes(build(lesson, Variant("correct")))
    sent = []

    def run(cells, jobs, *args, **kwargs):
        sent.extend(jobs)
        return runner.Outcome()
    monkeypatch.setattr(runner, "run", run)
    grade.grade_submission("student", lesson, folder, tmp_path / "public", tmp_path / "work")
    counted = [job for job in sent if job["grade_id"] == "symmetry_distinct_units"]
    assert len(counted) == len(judge.cases("symmetry_distinct_units"))
    assert all(set(job["inputs"]) <= {"W", "tol"} for job in counted)


def test_the_judge_still_knows_the_answer():
    fn = cell_functions("def count_distinct_units(W, tol=1e-8):\n    return W.shape[0]\n")["count_distinct_units"]
    verdict = judge.judge("symmetry_distinct_units", records_for("symmetry_distinct_units", [fn]))
    assert not verdict.passed and "distinct" in verdict.message
    assert judge.judge("symmetry_distinct_units", records_for("symmetry_distinct_units",
                                                              reference_functions("symmetry_distinct_units"))).passed


# ---- 3. normalize_splits is judged on its own numbers -------------------------------------

IDENTITY_HELPERS = '''
def compute_mean_variance(X):
    return np.zeros((X.shape[0], 1)), np.ones((X.shape[0], 1))

def normalize_inputs(X, mu, var, eps=1e-8):
    return X.copy()
'''
DELEGATING_SPLITS = '''
def normalize_splits(X_train, X_dev, X_test, eps=1e-8):
    mu, var = compute_mean_variance(X_train)
    return tuple(normalize_inputs(A, mu, var, eps) for A in (X_train, X_dev, X_test))
'''


def splits_verdict(source):
    ns = cell_functions(source)
    fns = [ns[name] for name in checks.items()["normalize_splits_train_stats"].functions]
    return judge.judge("normalize_splits_train_stats", records_for("normalize_splits_train_stats", fns))


def test_identity_helpers_do_not_make_normalize_splits_pass_its_hidden_cases():
    verdict = splits_verdict(IDENTITY_HELPERS + DELEGATING_SPLITS)
    assert not verdict.passed and verdict.message.startswith("hidden case")


def test_normalize_splits_that_is_right_passes_whatever_unused_helpers_do():
    by_hand = '''
def normalize_splits(X_train, X_dev, X_test, eps=1e-8):
    mu, var = X_train.mean(axis=1, keepdims=True), X_train.var(axis=1, keepdims=True)
    return tuple((A - mu) / np.sqrt(var + eps) for A in (X_train, X_dev, X_test))
'''
    assert splits_verdict(IDENTITY_HELPERS + by_hand).passed


# ---- 5. judge-built messages do not echo hidden inputs ------------------------------------

def random_values(inputs):
    """Printed forms of the random numbers of a case's arrays (what an echo would show)."""
    values = []
    for value in inputs.values():
        arrays = value if type(value) in (list, tuple) else [value]
        for A in arrays:
            if isinstance(A, np.ndarray) and A.dtype.kind == "f":
                values += [f for x in A.ravel()[:50] if len(repr(float(x))) > 8  # drawn, not chosen
                           for f in (repr(float(x)), f"{x:.4g}") if len(f) >= 5]
    return values


@pytest.mark.parametrize("grade_id", sorted(gid for m in judge.hidden_modules().values() for gid in m.HIDDEN_CASES))
def test_hidden_labels_and_failure_messages_do_not_echo_array_inputs(grade_id):
    item = checks.items()[grade_id]
    for case in judge.cases(grade_id):
        if not case.hidden:
            continue
        inputs = case.inputs
        shown = random_values(inputs)
        assert not [v for v in shown if v in case.label]
        result = wire.decode(checks.collect(item, reference_functions(grade_id), inputs)["result"])
        wrong = wire.roundtrip(_skewed(result))
        for failure in checks.evaluate(item, inputs, {"result": wire.encode(wrong),
                                                      "inputs_after": checks.worker_inputs(item, inputs)}):
            assert not [v for v in shown if v in failure.message], failure.message


def _skewed(value):
    """A wrong answer shaped like the right one."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value * 1.5 + 0.25
    if isinstance(value, (list, tuple)):
        return type(value)(_skewed(v) for v in value)
    if isinstance(value, dict):
        return {k: _skewed(v) for k, v in value.items()}
    if isinstance(value, float):
        return value * 1.5 + 0.25
    return value


def test_lesson_05_messages_do_not_list_the_hidden_rates():
    item = checks.items()["usable_lr_diverged"]
    for inputs in (case.inputs for case in judge.cases("usable_lr_diverged")):
        failure = checks.evaluate(item, inputs, checks.collect(item, [lambda rates, histories, target: 777.0],
                                                               inputs), hidden=True)[0]
        assert "777.0" in failure.message
        assert not [r for r in inputs["rates"] if repr(r) in failure.message], failure.message


def test_a_hidden_case_whose_right_answer_is_none_is_compared_with_the_reference(monkeypatch):
    """`None` is a right answer, not "nothing to compare": every hidden case is compared."""
    grade_id = "usable_lr_diverged"
    all_cases, wanted = judge.cases(grade_id), judge.expected(grade_id)
    assert sorted(wanted) == [k for k, case in enumerate(all_cases) if case.hidden]
    none_answer = [k for k, result in wanted.items() if result is None]
    assert none_answer, "the lesson's hidden cases should include one with no usable rate"
    compared = []
    real = judge.compare
    monkeypatch.setattr(judge, "compare", lambda result, expected: compared.append(expected) or real(result, expected))
    verdict = judge.judge(grade_id, records_for(grade_id, reference_functions(grade_id)))
    assert verdict.passed, verdict.message
    assert len(compared) == len(wanted) and compared.count(checks.items()[grade_id].project(None)) == len(none_answer)


@pytest.mark.parametrize("grade_id", ["deep_backward_contract", "deep_backward_linear", "deep_backward_activations"])
def test_deep_backward_stands_on_the_activations_of_the_reference_forward_pass(grade_id):
    """Every case, visible or hidden, sends the reference's [A0, ..., AL] to the worker, and
    the item needs no deep_forward of the student's."""
    ref = reference.load("03_vanishing_gradients")
    assert checks.items()[grade_id].functions == ("deep_backward",)
    for case, job in zip(judge.cases(grade_id), judge.jobs(grade_id)):
        options = {"activation": case.inputs["activation"]} if "activation" in case.inputs else {}
        correct = ref["deep_forward"](case.inputs["X"], case.inputs["weights"], **options)
        sent = wire.decode(job["inputs"]["activations"])
        assert len(sent) == len(correct) and all(np.array_equal(a, b) for a, b in zip(sent, correct)), case.label
    assert judge.judge_functions(grade_id, [ref["deep_backward"]]).passed


# ---- 6. state kept between calls -----------------------------------------------------------

def test_a_layernorm_that_keeps_running_averages_fails_the_case_that_calls_it_twice():
    """Even when every case ran in a fresh process: a stateful forward is right on its first call, so
    only the hidden case that normalizes a first batch before Z can show it."""
    from autograder.authoring.catalogue.batch_norm import LN_RUNNING
    item = checks.items()["ln_forward_normalizes"]
    failed = []
    for case in judge.cases("ln_forward_normalizes"):
        fresh = cell_functions(LN_RUNNING)["layernorm_forward"]
        if checks.evaluate(item, case.inputs, checks.collect(item, [fresh], case.inputs), hidden=case.hidden):
            failed.append(case.label)
    assert len(failed) == 1 and "called after a batch" in failed[0], failed


GN_RUNNING = '''_last = {}


def groupnorm_forward(Z, gamma, beta, G, eps=1e-5):
    """Blends each group's statistics with those of the previous call (a running average kept by mistake)."""
    n, m = Z.shape
    Z_groups = Z.reshape(G, n // G, m)
    mu, var = Z_groups.mean(axis=1, keepdims=True), Z_groups.var(axis=1, keepdims=True)
    if _last:
        mu, var = 0.9 * _last["mean"] + 0.1 * mu, 0.9 * _last["var"] + 0.1 * var
    _last["mean"], _last["var"] = mu.mean(), var.mean()
    inv_std = 1.0 / np.sqrt(var + eps)
    return gamma * ((Z_groups - mu) * inv_std).reshape(n, m) + beta, (None, gamma, inv_std)
'''


def test_a_groupnorm_that_keeps_state_fails_the_case_that_calls_it_twice():
    """As for layer norm: only the hidden case that normalizes a first batch before Z shows it."""
    item = checks.items()["gn_forward_normalizes"]
    failed = []
    for case in judge.cases("gn_forward_normalizes"):
        fresh = cell_functions(GN_RUNNING)["groupnorm_forward"]
        if checks.evaluate(item, case.inputs, checks.collect(item, [fresh], case.inputs), hidden=case.hidden):
            failed.append(case.label)
    assert len(failed) == 1 and "called after a batch" in failed[0], failed


def test_the_reference_loads_without_pyplot():
    """The masters' import cells import pyplot for their plots; the grader's copy of the reference
    skips it (half a second of every grading run) and still defines every function the judge calls."""
    code = ("import sys\nfrom autograder import checks\nfrom autograder.judge import reference\nfrom autograder.worker.course import lessons\n"
            "loaded = {l: reference.load(l) for l in lessons()}\n"
            "missing = [f for item in checks.items().values() for f in item.functions\n"
            "           if not any(f in ns for ns in loaded.values())]\n"
            "print(sorted(m for m in sys.modules if m.startswith('matplotlib.pyplot')), missing)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[] []"
