"""Lesson 05: the reference of largest_usable_lr against a brute-force reading of a sweep, and
lessonkit.reuse, which lets the closing lesson run the student's own functions of lessons
01, 02 and 04."""
import json
import math

import numpy as np
import pytest

from autograder.checks import items
from autograder.judge import putting_it_together as hidden
from autograder.judge import reference
from autograder.worker.course import ROOT
from lessonkit.reuse import LessonNotReady, functions_from


@pytest.fixture(scope="module")
def ref():
    return reference.load("05_putting_it_together")


def oracle(rates, histories, target):
    """Try the rates from the largest down; the first whose run is usable wins."""
    for rate in sorted(rates, reverse=True):
        history = histories[rates.index(rate)]
        if any(math.isnan(x) or math.isinf(x) for x in history["loss"]):
            continue
        if history["dev_acc"] and history["dev_acc"][-1] >= target:
            return rate
    return None


def all_cases():
    cases = []
    for gid in ("usable_lr_largest", "usable_lr_diverged"):
        cases += items()[gid].raw_visible_cases() + hidden.HIDDEN_CASES[gid]()
    return cases


def test_every_case_agrees_with_the_oracle(ref):
    for label, inputs in all_cases():
        assert ref["largest_usable_lr"](**inputs) == oracle(**inputs), label


@pytest.mark.parametrize("seed", range(30))
def test_random_sweeps_agree_with_the_oracle(ref, seed):
    rng = np.random.default_rng(seed)
    rates = list(rng.permutation([0.001, 0.01, 0.1, 1.0, 10.0])[: rng.integers(1, 6)])
    histories = []
    for _ in rates:
        accuracies = list(rng.uniform(0, 1, rng.integers(0, 4)))
        losses = list(rng.uniform(0.1, 3, 5)) + ([rng.choice([np.inf, np.nan])] if rng.random() < 0.3 else [])
        histories.append({"loss": losses, "dev_acc": accuracies})
    target = float(rng.uniform(0.3, 0.8))
    assert ref["largest_usable_lr"](rates, histories, target) == oracle(rates, histories, target)


def test_the_answer_is_one_of_the_rates_or_none(ref):
    rates = [0.3, 0.1]
    histories = [{"loss": [1.0], "dev_acc": [0.9]}, {"loss": [1.0], "dev_acc": [0.9]}]
    assert ref["largest_usable_lr"](rates, histories, 0.85) is rates[0]
    assert ref["largest_usable_lr"](rates, histories, 0.95) is None


# ---- lessonkit.reuse --------------------------------------------------------------------

MASTERS = ROOT / "solutions"


@pytest.mark.parametrize("lesson_name,names", [
    ("02_batch_norm", ["batchnorm_forward", "batchnorm_backward", "update_running_stats", "batchnorm_inference"]),
    ("04_initialization", ["init_std", "initialize_parameters", "count_distinct_units"]),
])
def test_functions_from_a_master_are_its_answers(lesson_name, names):
    mine = functions_from(MASTERS / lesson_name / "lesson.ipynb", *names)
    ref = reference.load(lesson_name)
    assert [f.__name__ for f in mine] == names
    if lesson_name == "04_initialization":
        a = mine[1]([6, 4, 2], "he", np.random.default_rng(0))
        b = ref["initialize_parameters"]([6, 4, 2], "he", np.random.default_rng(0))
        assert all(np.array_equal(a[k], b[k]) for k in b)
    else:
        Z = np.random.default_rng(1).standard_normal((3, 5))
        g, b = np.ones((3, 1)), np.zeros((3, 1))
        np.testing.assert_array_equal(mine[0](Z, g, b)[0], ref["batchnorm_forward"](Z, g, b)[0])


def edited(tmp_path, lesson, replace):
    """A copy of a master whose answer cells `replace` maps to new sources (in folder `lesson`)."""
    nb = json.loads((MASTERS / lesson / "lesson.ipynb").read_text())
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in replace:
            cell["source"] = replace[gid]
    path = tmp_path / lesson / "lesson.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(nb))
    return path


STUB = "def {0}(*args, **kwargs):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"


def test_an_unfinished_function_names_the_lesson_to_finish(tmp_path):
    path = edited(tmp_path, "04_initialization", {"initialize_parameters": STUB.format("initialize_parameters")})
    with pytest.raises(LessonNotReady, match="initialize_parameters .* still raises NotImplementedError; "
                                             "finish lesson 04_initialization"):
        functions_from(path, "initialize_parameters")


def test_an_unfinished_helper_fails_at_call_time_naming_the_lesson(tmp_path):
    path = edited(tmp_path, "04_initialization", {"init_std": STUB.format("init_std")})
    [initialize_parameters] = functions_from(path, "initialize_parameters")
    with pytest.raises(LessonNotReady, match="finish lesson 04_initialization"):
        initialize_parameters([3, 2], "he", np.random.default_rng(0))


def test_a_broken_answer_cell_and_a_missing_notebook_name_the_lesson(tmp_path):
    path = edited(tmp_path, "04_initialization", {"count_distinct_units": "def count_distinct_units(W:\n"})
    with pytest.raises(LessonNotReady, match="count_distinct_units.*SyntaxError.*finish lesson 04_initialization"):
        functions_from(path, "initialize_parameters")
    with pytest.raises(LessonNotReady, match="cannot read.*finish lesson 01_normalizing_inputs"):
        functions_from(tmp_path / "01_normalizing_inputs" / "lesson.ipynb", "normalize_inputs")
    with pytest.raises(LessonNotReady, match="defines no function missing"):
        functions_from(MASTERS / "04_initialization" / "lesson.ipynb", "missing")


def test_tests_and_experiments_of_the_other_notebook_do_not_run(tmp_path):
    nb = json.loads((MASTERS / "04_initialization" / "lesson.ipynb").read_text())
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") or cell["source"][:1] == ["%%experiment\n"]:
            cell["source"] = ["raise SystemExit('this cell must not run')\n"]
    helper = {"cell_type": "code", "id": "mine", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["import math\n", "def helper():\n", "    return math.pi\n"]}
    nb["cells"].insert(3, helper)
    path = tmp_path / "04_initialization" / "lesson.ipynb"
    path.parent.mkdir()
    path.write_text(json.dumps(nb))
    init_std, = functions_from(path, "init_std")
    assert init_std("he", 8, 3) == 0.5
    assert functions_from(path, "helper")[0]() == math.pi  # a student's own helper cell is kept


def test_lesson_05_loads_lessons_that_have_a_master():
    text = (MASTERS / "05_putting_it_together" / "lesson.ipynb").read_text()
    for lesson in ("01_normalizing_inputs", "02_batch_norm", "04_initialization"):
        assert f"../{lesson}/lesson.ipynb" in text and (MASTERS / lesson / "lesson.ipynb").exists()


# ---- scale_invariance_gap and gradient_check ---------------------------------------------

from autograder.checks import putting_it_together as lesson05  # noqa: E402


def scale_cases():
    return items()["scale_invariance"].raw_visible_cases() + hidden.HIDDEN_CASES["scale_invariance"]()


def tanh_gradient(V, U, G):
    """The analytic gradient of L(V) = sum(G * tanh(V U)): (G * (1 - tanh(V U)^2)) U^T."""
    return (G * (1 - np.tanh(V @ U) ** 2)) @ U.T


@pytest.mark.parametrize("k", range(7))
def test_scale_invariance_gap_agrees_with_the_analysis(ref, k):
    label, case = scale_cases()[k]
    layer, W, U, a, G = case["layer"], case["W"], case["U"], case["a"], case["G"]
    gap, ratio = ref["scale_invariance_gap"](lesson05.LAYERS[layer][0], W, U, a, G, h=case["h"])
    if lesson05.LAYERS[layer][1]:  # scale invariant: gap 0 up to rounding, gradient at a W = gradient at W / a
        assert gap < 1e-12 and ratio == pytest.approx(1 / a, rel=1e-6), label
    elif layer == "relu":  # positively homogeneous: relu(a Z) = a relu(Z), slopes unchanged
        assert gap == pytest.approx(abs(a - 1) * np.max(np.maximum(W @ U, 0)), rel=1e-12)
        assert ratio == pytest.approx(1.0, rel=1e-6)
    else:
        assert gap == pytest.approx(np.max(np.abs(np.tanh(a * W @ U) - np.tanh(W @ U))), rel=1e-12)
        wanted = np.linalg.norm(tanh_gradient(a * W, U, G)) / np.linalg.norm(tanh_gradient(W, U, G))
        assert ratio == pytest.approx(wanted, rel=1e-7), label


def gradcheck_cases():
    return items()["gradcheck_errors"].raw_visible_cases() + hidden.HIDDEN_CASES["gradcheck_errors"]()


def test_the_parametrized_oracles_cover_every_case():
    assert len(scale_cases()) == 7 and len(gradcheck_cases()) == 10


@pytest.mark.parametrize("k", range(10))
def test_gradient_check_agrees_with_the_analytic_error(ref, k):
    """The oracle: the true gradient is lessonkit.mlp's backward pass (0 for an unused parameter), so the
    relative error of a buggy gradient is known without differences; a right one's is rounding."""
    label, case = gradcheck_cases()[k]
    params, X, y, h = case["params"], case["X"], case["y"], case["h"]
    grads, right = lesson05.GRADIENTS[case["gradients"]]
    before = {key: value.copy() for key, value in params.items()}
    errors = ref["gradient_check"](lesson05._loss_fn(X, y), lambda p: grads(p, X, y), params, h=h)
    assert all(np.array_equal(params[key], before[key]) for key in params), "params modified"
    assert sorted(errors) == sorted(params) and all(type(e) is float for e in errors.values())
    true = lesson05.GRADIENTS["right"][0](params, X, y)
    given = grads(params, X, y)
    for name in params:
        a, b = given[name], true[name]
        wanted = np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-12)
        if case.get("kink"):
            continue
        if wanted == 0:
            assert errors[name] < (1e-6 if h > 1e-4 else 1e-8), (label, name)
        else:
            assert errors[name] == pytest.approx(wanted, rel=1e-5), (label, name)
    if case.get("kink"):  # right gradients, yet the step crosses the kink; a step below the distance does not
        assert max(errors.values()) > 1e-3
        small = ref["gradient_check"](lesson05._loss_fn(X, y), lambda p: grads(p, X, y), params, h=1e-7)
        assert max(small.values()) < 1e-6


def test_db1_summed_has_the_relative_error_of_a_factor_m(ref):
    label, case = hidden.HIDDEN_CASES["gradcheck_errors"]()[1]
    assert case["gradients"] == "db1 summed, not averaged", label
    m = case["X"].shape[1]
    grads = lesson05.GRADIENTS[case["gradients"]][0]
    errors = ref["gradient_check"](lesson05._loss_fn(case["X"], case["y"]), lambda p: grads(p, case["X"], case["y"]),
                                   case["params"], h=case["h"])
    assert errors["b1"] == pytest.approx((m - 1) / m, rel=1e-6)  # ||m g - g|| / ||m g||
