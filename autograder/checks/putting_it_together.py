"""Lesson 05, putting it together: the graded items and their properties.

Three exercises: `largest_usable_lr` (reading a sweep), `scale_invariance_gap` (batch norm's
scale invariance, measured) and `gradient_check` (a whole-network gradient check); each is
described above its items below.

`largest_usable_lr(rates, histories, target)` reads a learning-rate sweep. A run is usable
when it did not diverge (every recorded loss is finite) and its last dev accuracy reaches
`target`; the answer is the largest usable rate, or None when no rate is usable. The rates
are not necessarily sorted.

The properties compare with the reference's answer on the case (`ANSWER`) and explain a
wrong answer from the run of the rate returned; the known mistakes are all near copies of
the answer, so they are private (their outputs are data: see `autograder.checks`).
"""
import math

import numpy as np

from autograder.checks import ANSWER, Failure, Item, case_seed, prediction_item
from autograder.worker import wire
from lessonkit import mlp

#: This lesson's graded items, in the master's order (`checks.items` reads them).
ITEMS = []

NONE = "None"  # what the judge compares for a None answer (decoded None has no comparable type)


def project(answer):
    return NONE if answer is None else answer


def diverged_run(history):
    return not all(math.isfinite(x) for x in history["loss"])


def reaches(history, target):
    return len(history["dev_acc"]) > 0 and history["dev_acc"][-1] >= target


def run_usable(largest_usable_lr, rates, histories, target):
    return largest_usable_lr(rates, histories, target=target)


def answer_value(inputs, answer):
    """Messages name the student's answer and why it is wrong, never the case's rates or
    target (a hidden case's inputs stay hidden)."""
    rates, histories, target = inputs["rates"], inputs["histories"], inputs["target"]
    wanted = None if inputs[ANSWER] == NONE else inputs[ANSWER]
    if wanted is None:
        if answer is not None:
            got = repr(answer) if isinstance(answer, float) else wire.type_name(answer)
            raise Failure("no run is usable (none both stays finite and ends at dev accuracy >= target); "
                          f"the answer should be None, got {got}")
        return
    if isinstance(answer, wire.Opaque) or isinstance(answer, bool) or not isinstance(answer, float):
        raise Failure(f"largest_usable_lr should return one of the rates (a float) or None, got {wire.type_name(answer)}")
    if answer != wanted:
        run = histories[rates.index(answer)] if answer in rates else None
        if run is None:
            why = "which is not one of the rates"
        elif diverged_run(run):
            why = "whose run diverged (a loss became NaN or inf)"
        elif not reaches(run, target):
            why = "whose run does not end at the target"
        else:
            why = "but a larger rate is usable too"
        raise Failure("the answer should be the largest usable rate (finite loss throughout, last dev accuracy "
                      f">= target); got {answer}, {why}")


def mistakes(*names):
    """The known mistakes of `largest_usable_lr` that the cases of an item can show, by name."""
    return [mistake for mistake in [
        ("ignores divergence", "a run whose loss became NaN or inf diverged: it is not usable, even if the "
                               "epochs before looked good", None),
        ("strict comparison", "compared the last dev accuracy with `>`; a run that ends exactly at the target "
                              "reaches it: use `>=`", None),
        ("best accuracy", "returned the rate with the best accuracy; the question is the largest rate that "
                          "still works", None),
        ("best epoch", "judged a run by its best epoch; a usable run must end at the target (its last dev "
                       "accuracy)", None),
        ("assumes sorted", "took the last usable rate in the list; the rates are not necessarily sorted, take "
                           "the largest", None),
    ] if mistake[0] in names]


def history(losses, accuracies):
    return {"loss": [float(x) for x in losses], "dev_acc": [float(a) for a in accuracies]}


def sweep(label, rates, runs, target=0.85):
    return label, {"rates": [float(r) for r in rates], "histories": [history(*run) for run in runs],
                   "target": target}


def fine(*accuracies):
    """A run that stayed finite, with these dev accuracies per epoch."""
    return [2.3 - 0.3 * k for k in range(2 * len(accuracies))], list(accuracies)


def diverged(*accuracies):
    """A run whose loss blew up after these epochs (training stops at the first non-finite loss)."""
    return [2.3, 1.5, 0.9] * len(accuracies) + [40.0, float("inf")], list(accuracies)


def largest_cases():
    return [sweep("rates 0.01 to 1, sorted, none diverged",
                  [0.01, 0.1, 0.3, 1.0], [fine(0.5, 0.8), fine(0.8, 0.93), fine(0.85, 0.9), fine(0.3, 0.6)]),
            sweep("rates in no particular order",
                  [0.3, 0.03, 1.0, 0.1], [fine(0.9, 0.97), fine(0.7, 0.88), fine(0.2, 0.4), fine(0.85, 0.9)]),
            sweep("the largest rate ends exactly at the target (that counts: >=)",
                  [0.01, 0.1, 0.3], [fine(0.9, 0.95), fine(0.8, 0.9), fine(0.7, 0.85)]),
            sweep("target 0.7", [0.03, 0.3, 3.0], [fine(0.6, 0.75), fine(0.5, 0.72), fine(0.4, 0.65)], target=0.7)]


def diverged_cases():
    return [sweep("the largest rate reached 0.9 before its loss became inf",
                  [0.01, 0.1, 1.0], [fine(0.6, 0.86), fine(0.9, 0.92), diverged(0.9)]),
            sweep("the largest rate peaked at 0.9, then ended at 0.6",
                  [0.03, 0.3], [fine(0.8, 0.88), fine(0.9, 0.6)]),
            sweep("every run diverged or ended below the target", [0.01, 3.0], [fine(0.2, 0.3), diverged()],
                  target=0.5),
            sweep("the largest rate's loss became NaN (not inf) after two good epochs",
                  [0.05, 0.5], [fine(0.7, 0.87), ([2.1, 0.9, 0.6, float("nan")], [0.9, 0.92])])]


# Each item names the mistakes its cases can show: no run of usable_lr_largest diverges or peaks
# before its last epoch, and usable_lr_diverged's usable runs are never tied, exactly at the
# target or listed out of order.
ITEMS.append(Item(grade_id="usable_lr_largest", functions=["largest_usable_lr"], run=run_usable,
                  properties=answer_value, visible_cases=largest_cases,
                  mistakes=mistakes("strict comparison", "best accuracy", "assumes sorted"), project=project,
                  reference_answer=True))
ITEMS.append(Item(grade_id="usable_lr_diverged", functions=["largest_usable_lr"], run=run_usable,
                  properties=answer_value, visible_cases=diverged_cases,
                  mistakes=mistakes("ignores divergence", "best epoch"), project=project, reference_answer=True))


# ---- predict before you run ------------------------------------------------------------

ITEMS.append(prediction_item(
    "prediction_smallest_usable_test", "prediction_smallest_usable",
    "B's dev accuracy at lr = 0.03 against A's", choices=("lower", "same", "higher"),
    hint="lesson 01's rounder cost is about the largest stable rate; at a small rate what counts is how fast "
         "training starts, which depends on how large a signal reaches the output and how large a gradient "
         "reaches the first layers. Both start from the same weights of standard deviation 0.1: compare the "
         "root mean square of the raw and of the normalized inputs, and follow it through five ReLU layers "
         "(lesson 04)"))


# ---- scale_invariance_gap --------------------------------------------------------------
#
# `scale_invariance_gap(layer, W, U, a, G, h)` measures what batch norm's scale invariance
# says: (max |layer(a W U) - layer(W U)|, ||grad L(a W)|| / ||grad L(W)||) with
# L(V) = sum(G * layer(V U)) and centered differences of step h. The layers are named in a
# case and built here, where the student's function runs; none is batch norm itself (that is
# lesson 02's answer): "unit rows" divides each unit by its root mean square over the batch
# (scale invariant, like batch norm without eps), "unit columns" each example by its own.

def _unit_rows(Z):
    return Z / np.sqrt(np.mean(Z ** 2, axis=1, keepdims=True))


def _unit_columns(Z):
    return Z / np.sqrt(np.mean(Z ** 2, axis=0, keepdims=True))


#: layer name -> (function, whether it is scale invariant)
LAYERS = {"unit rows": (_unit_rows, True), "unit columns": (_unit_columns, True),
          "tanh": (np.tanh, False), "relu": (lambda Z: np.maximum(Z, 0.0), False)}


def run_scale(scale_invariance_gap, layer, W, U, a, G, h):
    return scale_invariance_gap(LAYERS[layer][0], W, U, a, G, h=h)


def _real(x):
    return isinstance(x, (float, np.floating)) and not isinstance(x, bool)


def project_pair(result):
    """A pair of real numbers as plain floats (what the judge compares); anything else as is."""
    if type(result) is tuple and len(result) == 2 and all(_real(x) for x in result):
        return tuple(float(x) for x in result)
    return result


def scale_values(inputs, result):
    if not (type(result) is tuple and len(result) == 2 and all(_real(x) for x in result)):
        raise Failure("scale_invariance_gap should return a tuple of two floats (gap, ratio), got "
                      f"{wire.type_name(result)}" + (f" of length {len(result)}" if isinstance(result, tuple) else ""))
    gap, ratio = (float(x) for x in result)
    want_gap, want_ratio = inputs[ANSWER]
    a, invariant = inputs["a"], LAYERS[inputs["layer"]][1]
    if not (math.isfinite(gap) and math.isfinite(ratio)):
        raise Failure(f"the gap and the ratio should be finite numbers, got ({gap}, {ratio})")
    if invariant and gap > 1e-9:
        raise Failure(f"this layer is scale invariant (layer(a W U) = layer(W U)), so the gap should be about 0 "
                      f"(rounding), got {gap:.3g}: compare layer((a * W) @ U) with layer(W @ U), entry by entry")
    if not math.isclose(gap, want_gap, rel_tol=1e-6, abs_tol=1e-9):
        raise Failure(f"the gap should be the largest |layer(a W U) - layer(W U)| over all entries, got {gap:.6g}")
    if invariant and not math.isclose(ratio * a, 1.0, rel_tol=1e-3):
        raise Failure(f"this layer is scale invariant, so the gradient at a W should be the gradient at W divided "
                      f"by a: the ratio should be about 1/a = {1 / a:.4g}, got {ratio:.4g}")
    if not math.isclose(ratio, want_ratio, rel_tol=1e-6):
        raise Failure("the ratio should be ||grad L(a W)|| / ||grad L(W)||, each gradient by centered differences "
                      f"of L(V) = sum(G * layer(V @ U)), got {ratio:.6g}")


def scale_mistakes():
    return [
        ("chain rule", "differentiated W -> L(a W), whose gradient is a times the gradient at a W (the chain "
                       "rule brings the factor a back); the claim is about the gradient at the scaled weights a W, "
                       "the gradient descent uses once the weights have grown: differentiate L at a W", None),
        ("inverted ratio", "the ratio is inverted: gradient norm at a W over gradient norm at W", None),
        ("one-sided", "one-sided differences (L(V + h) - L(V)) / h; use centered differences "
                      "(L(V + h) - L(V - h)) / 2h (lessonkit.gradcheck.centered_differences)", None),
        ("mean gap", "averaged |layer(a W U) - layer(W U)|; the gap is the largest entry (max)", None),
        ("signed gap", "took the max of the signed difference; the gap is the max of its absolute value", None),
    ]


def scale_case(seed, layer, a, n=3, k=4, m=6, h=1e-5):
    rng = np.random.default_rng(case_seed(seed))
    return {"layer": layer, "W": rng.standard_normal((n, k)), "U": rng.standard_normal((k, m)), "a": float(a),
            "G": rng.standard_normal((n, m)), "h": h}


def scale_cases():
    return [("a scale-invariant layer ('unit rows': each unit divided by its root mean square over the batch), "
             "a = 10", scale_case(11, "unit rows", 10.0)),
            ("a = 0.5 with tanh, which is not scale invariant", scale_case(12, "tanh", 0.5)),
            ("a = 0.5 with relu, which is not scale invariant either", scale_case(13, "relu", 0.5))]


ITEMS.append(Item(grade_id="scale_invariance", functions=["scale_invariance_gap"], run=run_scale,
                  properties=scale_values, visible_cases=scale_cases, mistakes=scale_mistakes(), project=project_pair,
                  reference_answer=True))


# ---- gradient_check --------------------------------------------------------------------
#
# `gradient_check(loss_fn, grads_fn, params, h)` returns, per parameter, the relative error
# ||g_num - g|| / max(||g_num||, ||g||, 1e-12) of the analytic gradient g = grads_fn(params)[name]
# against centered differences of loss_fn. The losses are the mean cross-entropy of small
# `lessonkit.mlp` networks on a case's data (X, y); a case names the network's gradients
# (`GRADIENTS`): right, or with a classic bug. The relative errors are compared with the
# reference's within 1e-3 relative, 1e-8 absolute (rounding differs between correct loops).

def _loss_fn(X, y):
    def loss_fn(params):
        probs, _ = mlp.forward(params, X)
        return mlp.cross_entropy(probs, np.eye(probs.shape[0])[:, y])
    return loss_fn


def _right(params, X, y):
    probs, caches = mlp.forward(params, X)
    grads = mlp.backward(params, probs, np.eye(probs.shape[0])[:, y], caches)
    return {**{k: np.zeros_like(v) for k, v in params.items()}, **grads}  # parameters the loss does not use: 0


def _bias_summed(params, X, y):
    """db1 summed over the batch where the loss averages: m times too large."""
    grads = _right(params, X, y)
    return {**grads, "b1": grads["b1"] * X.shape[1]}


def _no_relu_mask(params, X, y):
    """dW1 and db1 back through the ReLU as if it were the identity (the mask forgotten)."""
    probs, caches = mlp.forward(params, X)
    grads = _right(params, X, y)
    dZ1 = params["W2"].T @ ((probs - np.eye(probs.shape[0])[:, y]) / X.shape[1])
    return {**grads, "W1": dZ1 @ X.T, "b1": dZ1.sum(axis=1, keepdims=True)}


#: gradients name -> (grads(params, X, y), whether they are right)
GRADIENTS = {"right": (_right, True), "db1 summed, not averaged": (_bias_summed, False),
             "ReLU mask forgotten in dW1, db1": (_no_relu_mask, False)}


def run_gradient_check(gradient_check, gradients, params, X, y, h):
    grads = GRADIENTS[gradients][0]
    return gradient_check(_loss_fn(X, y), lambda p: grads(p, X, y), params, h=h)


def project_errors(result):
    """A dict of real numbers as plain floats (what the judge compares); anything else as is."""
    if type(result) is dict and all(_real(v) for v in result.values()):
        return {k: float(v) for k, v in result.items()}
    return result


def gradient_check_values(inputs, result):
    names = sorted(inputs["params"])
    if type(result) is not dict or sorted(result) != names:
        got = sorted(result) if type(result) is dict else wire.type_name(result)
        raise Failure(f"gradient_check should return a dict with one relative error per parameter, keys {names}; "
                      f"got {got}")
    for name in names:
        if not _real(result[name]) or not float(result[name]) >= 0:
            raise Failure(f"the relative error of {name} should be a non-negative float, got {result[name]!r}")
    errors, wanted = {k: float(v) for k, v in result.items()}, inputs[ANSWER]
    if GRADIENTS[inputs["gradients"]][1] and not inputs.get("kink"):
        worst = max(names, key=errors.get)
        if errors[worst] > 1e-6:
            raise Failure(f"the gradients of this case are right, so every relative error should be tiny (below "
                          f"1e-6); got {errors[worst]:.3g} for {worst}")
    for name in names:
        if not math.isclose(errors[name], wanted[name], rel_tol=1e-3, abs_tol=1e-8):
            raise Failure(f"the relative error of {name} should be ||g_num - g|| / max(||g_num||, ||g||, 1e-12), "
                          "g_num by centered differences (L(p + h) - L(p - h)) / 2h one entry at a time, g from "
                          f"grads_fn; got {errors[name]:.3g}")


def gradient_check_mistakes():
    return [
        ("one-sided", "one-sided differences (L(p + h) - L(p)) / h, whose error is O(h); use centered differences "
                      "(L(p + h) - L(p - h)) / 2h, error O(h^2) (lessonkit.gradcheck.centered_differences)", None),
        ("not restored", "an entry moved by +h and -h was not put back before the next one, so later entries are "
                         "differentiated at a drifted point; restore it (or perturb fresh copies, as "
                         "lessonkit.gradcheck.centered_differences does)", None),
        ("worst element", "the element-wise relative error at the worst element; the course's relative error "
                          "compares norms: ||g_num - g|| / max(||g_num||, ||g||, 1e-12)", None),
        ("sum of norms", "divided by ||g_num|| + ||g||; the course's relative error divides by the larger norm, "
                         "max(||g_num||, ||g||, 1e-12)", None),
        ("absolute error", "returned ||g_num - g|| alone; divide by max(||g_num||, ||g||, 1e-12) to make it "
                           "relative", None),
        ("no floor", "divided by max(||g_num||, ||g||) without the floor 1e-12: a parameter the loss does not use "
                     "has both gradients 0, and 0 / 0 is nan; with the floor its relative error is 0", None),
    ]


def network_case(seed, dims, m, gradients="right", h=1e-5, extra=None):
    """params of a ReLU network `dims` (mlp.init_params, He) with random biases, and a batch."""
    rng = np.random.default_rng(case_seed(seed))
    params = mlp.init_params(dims, rng)
    for key in params:
        if key.startswith("b"):
            params[key] = 0.1 * rng.standard_normal(params[key].shape)
    params.update(extra or {})
    return {"gradients": gradients, "params": params, "X": rng.standard_normal((dims[0], m)),
            "y": rng.integers(0, dims[-1], m), "h": h}


def gradient_check_cases():
    return [("softmax regression (W1 of shape (3, 4), b1), right gradients", network_case(21, [4, 3], 6)),
            ("a ReLU network [4, 5, 3] whose dW1 and db1 forget the ReLU's mask",
             network_case(22, [4, 5, 3], 8, gradients="ReLU mask forgotten in dW1, db1")),
            ("softmax regression with a parameter 'spare' the loss does not use (both its gradients are 0)",
             network_case(23, [3, 2], 5, extra={"spare": np.full((1, 3), 0.5)})),
            ("a ReLU network [3, 4, 2], right gradients, step h = 5e-4", network_case(24, [3, 4, 2], 6, h=5e-4))]


ITEMS.append(Item(grade_id="gradcheck_errors", functions=["gradient_check"], run=run_gradient_check,
                  properties=gradient_check_values, visible_cases=gradient_check_cases,
                  mistakes=gradient_check_mistakes(), project=project_errors, compare=False, answers=("kink",),
                  reference_answer=True))
