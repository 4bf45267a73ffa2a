"""Hidden cases of lesson 05: for largest_usable_lr, a single rate, every run usable, NaN as
well as inf, a run that diverged in its first epoch, accuracies exactly at the target,
unsorted rates; for scale_invariance_gap, the other scale-invariant layer, a < 1, a
positively homogeneous layer (ReLU: ratio 1); for gradient_check, deeper networks, another
bug, a parameter with zero gradient, a larger step, a ReLU input within h of its kink. And
the implementations of the items' private mistakes (`MISTAKES`), each the reference asked a
slightly different question.

The sweeps are values fixed by design, not random draws; per-student hidden cases move each
one for the student (`per_student`) in ways that keep what it is about, so every known mistake
fails exactly the cases it fails in the course's sweeps. No case trains anything."""
import math

import numpy as np

from autograder.checks import varied
from autograder.checks.putting_it_together import (
    GRADIENTS,
    LAYERS,
    _loss_fn,
    diverged,
    fine,
    network_case,
    project,
    project_errors,
    project_pair,
    scale_case,
    sweep,
)
from autograder.judge import reference

LESSON = "05_putting_it_together"


def _largest(rates, histories, target):
    return reference.load(LESSON)["largest_usable_lr"](rates, histories, target=target)


def _usable_alone(rates, histories, target):
    """The rates whose run is usable, in list order (the reference asked about each run alone)."""
    return [(r, h) for r, h in zip(rates, histories) if _largest([r], [h], target) is not None]


def _with(histories, **field):
    return [{**h, **{k: f(h) for k, f in field.items()}} for h in histories]


def _best_accuracy(rates, histories, target):
    ok = _usable_alone(rates, histories, target)
    return max(ok, key=lambda pair: (pair[1]["dev_acc"][-1], pair[0]))[0] if ok else None


def _last_in_list(rates, histories, target):
    ok = _usable_alone(rates, histories, target)
    return ok[-1][0] if ok else None


MISTAKE_ANSWERS = {
    "ignores divergence": lambda rates, histories, target:
        _largest(rates, _with(histories, loss=lambda h: [0.0]), target),
    "strict comparison": lambda rates, histories, target: _largest(rates, histories, math.nextafter(target, 2.0)),
    "best accuracy": _best_accuracy,
    "best epoch": lambda rates, histories, target:
        _largest(rates, _with(histories, dev_acc=lambda h: [max(h["dev_acc"])] if h["dev_acc"] else []), target),
    "assumes sorted": _last_in_list,
}

def _projected(wrong):
    """`wrong` (one of MISTAKE_ANSWERS) as the judge calls a mistake: on keyword inputs, its answer projected."""
    return lambda **inputs: project(wrong(**inputs))


MISTAKES = {grade_id: {name: _projected(wrong)
                       for name, wrong in MISTAKE_ANSWERS.items()}
            for grade_id in ("usable_lr_largest", "usable_lr_diverged")}

NAN_RUN = ([2.3, 1.1, float("nan")], [0.95])


def per_student(seed, case, keep_target=False):
    """A sweep ``(label, inputs)`` as the course has it, or, for one student's hidden cases
    (`checks.varied`), the same sweep moved: its rates times one factor (their order kept), its
    losses times another (finite or not as before), its target moved (unless `keep_target`: the
    label names it) and every dev accuracy with it, by a map that keeps their order and their
    side of the target (an accuracy exactly at the target stays exactly at it)."""
    label, inputs = case
    return label, varied(seed, inputs, lambda rng: _moved(inputs, rng, keep_target))


def _moved(inputs, rng, keep_target):
    rate_factor, loss_factor = 10 ** rng.uniform(-1, 1), rng.uniform(0.5, 2)
    old = inputs["target"]
    new = old if keep_target else float(rng.uniform(0.55, 0.95))

    def accuracy(a):
        if a == old:
            return new
        return a * new / old if a < old else new + (a - old) * (1 - new) / (1 - old)
    return {"rates": [float(r * rate_factor) for r in inputs["rates"]],
            "histories": [{"loss": [float(x * loss_factor) for x in h["loss"]],
                           "dev_acc": [float(accuracy(a)) for a in h["dev_acc"]]} for h in inputs["histories"]],
            "target": new}


HIDDEN_CASES = {
    "usable_lr_largest": lambda: [
        per_student(501, sweep("a single usable rate", [0.1], [fine(0.7, 0.9)])),
        per_student(502, sweep("every run usable, unsorted", [3.0, 0.01, 1.0],
                               [fine(0.9, 0.91), fine(0.88, 0.9), fine(0.9, 0.95)])),
        per_student(503, sweep("the last dev accuracy exactly at the target", [0.05, 0.5],
                               [fine(0.9, 0.95), fine(0.7, 0.85)])),
        per_student(504, sweep("target 0.5", [0.2, 2.0, 0.02], [fine(0.6, 0.7), fine(0.4, 0.55), fine(0.3, 0.45)],
                               target=0.5), keep_target=True),
    ],
    "usable_lr_diverged": lambda: [
        per_student(511, sweep("the loss became NaN after a good epoch", [0.01, 0.3], [fine(0.8, 0.9), NAN_RUN])),
        per_student(512, sweep("diverged in the first epoch", [0.1, 10.0], [fine(0.9, 0.92), diverged()])),
        per_student(513, sweep("several diverged, unsorted", [1.0, 0.03, 3.0, 0.3],
                               [diverged(0.9, 0.95), fine(0.86, 0.9), diverged(), fine(0.9, 0.93)])),
        per_student(514, sweep("nothing reaches the target", [0.001, 0.01], [fine(0.1, 0.2), fine(0.3, 0.5)],
                               target=0.9)),
        per_student(515, sweep("ended below the target after a better epoch", [0.1, 1.0],
                               [fine(0.7, 0.86), fine(0.95, 0.5)])),
    ],
}


# ---- scale_invariance_gap -------------------------------------------------------------


def _numerical(loss, V, h, one_sided=False):
    """Centered (or one-sided) differences of loss at V, one entry at a time, on fresh copies."""
    grad, base = np.zeros_like(V), loss(V)
    for idx in np.ndindex(V.shape):
        plus, minus = V.copy(), V.copy()
        plus[idx] += h
        minus[idx] -= h
        grad[idx] = (loss(plus) - base) / h if one_sided else (loss(plus) - loss(minus)) / (2 * h)
    return grad


def _scale(layer, W, U, a, G, h, gap=lambda D: np.max(np.abs(D)), chain_rule=False, inverted=False,
           one_sided=False):
    """The reference question with one thing changed (each mistake below changes one)."""
    f = LAYERS[layer][0]

    def loss(V):
        return float(np.sum(G * f(V @ U)))
    g_W = _numerical(loss, W, h, one_sided)
    g_aW = _numerical(lambda V: loss(a * V), W, h, one_sided) if chain_rule else _numerical(loss, a * W, h, one_sided)
    ratio = np.linalg.norm(g_aW) / np.linalg.norm(g_W)
    return project_pair((float(gap(f((a * W) @ U) - f(W @ U))), float(1 / ratio if inverted else ratio)))


MISTAKES["scale_invariance"] = {
    "chain rule": lambda **c: _scale(**c, chain_rule=True),
    "inverted ratio": lambda **c: _scale(**c, inverted=True),
    "one-sided": lambda **c: _scale(**c, one_sided=True),
    "mean gap": lambda **c: _scale(**c, gap=lambda D: np.mean(np.abs(D))),
    "signed gap": lambda **c: _scale(**c, gap=np.max),
}

# A prediction has one question: the hidden case asks it again, so plain nbgrader scores it too.
HIDDEN_CASES["prediction_smallest_usable_test"] = lambda: [("the prediction, asked again", {})]

HIDDEN_CASES["scale_invariance"] = lambda: [
    ("unit columns, a = 0.2", scale_case(31, "unit columns", 0.2, n=4, k=3, m=5)),
    ("unit rows, a = 0.3", scale_case(32, "unit rows", 0.3, n=2, k=5, m=8)),
    ("relu, a = 3", scale_case(33, "relu", 3.0)),
    ("tanh, a = 4", scale_case(34, "tanh", 4.0, n=2, k=2, m=3)),
]


# ---- gradient_check -------------------------------------------------------------------

def _gradient_check(gradients, params, X, y, h, one_sided=False, restore=True, error="norm"):
    """The reference question with one thing changed: the differences, the restoring, the error."""
    loss_fn, analytic = _loss_fn(X, y), GRADIENTS[gradients][0](params, X, y)
    point = {k: v.copy() for k, v in params.items()}
    errors = {}
    for name in params:
        grad = np.zeros_like(params[name])
        for idx in np.ndindex(grad.shape):
            base = loss_fn(point) if one_sided else None
            point[name][idx] += h
            plus = loss_fn(point)
            if one_sided:
                grad[idx] = (plus - base) / h
                point[name][idx] -= h
                continue
            point[name][idx] -= 2 * h
            minus = loss_fn(point)
            if restore:
                point[name][idx] += h
            grad[idx] = (plus - minus) / (2 * h)
        a, b = analytic[name], grad
        diff = np.linalg.norm(a - b)
        if error == "worst":
            errors[name] = float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-12)))
        elif error == "sum":
            errors[name] = float(diff / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))
        elif error == "absolute":
            errors[name] = float(diff)
        elif error == "no floor":
            with np.errstate(invalid="ignore"):
                errors[name] = float(np.float64(diff) / max(np.linalg.norm(a), np.linalg.norm(b)))
        else:
            errors[name] = float(diff / max(np.linalg.norm(a), np.linalg.norm(b), 1e-12))
    return project_errors(errors)


MISTAKES["gradcheck_errors"] = {
    "one-sided": lambda **c: _gradient_check(**c, one_sided=True),
    "not restored": lambda **c: _gradient_check(**c, restore=False),
    "worst element": lambda **c: _gradient_check(**c, error="worst"),
    "sum of norms": lambda **c: _gradient_check(**c, error="sum"),
    "absolute error": lambda **c: _gradient_check(**c, error="absolute"),
    "no floor": lambda **c: _gradient_check(**c, error="no floor"),
}


def _kink_case():
    """A ReLU network whose first hidden unit sits 3e-6 above its kink on the first example:
    the check's steps of 1e-5 cross it, and the relative errors of W1 and b1 are large although
    the gradients are right."""
    case = network_case(45, [3, 4, 3], 5, h=1e-5)
    params, X = case["params"], case["X"]
    params["b1"][0, 0] = 3e-6 - params["W1"][0] @ X[:, 0]
    return {**case, "kink": True}


HIDDEN_CASES["gradcheck_errors"] = lambda: [
    ("a ReLU network [5, 6, 4, 3], right gradients", network_case(41, [5, 6, 4, 3], 7)),
    ("db1 summed over the batch, not averaged", network_case(42, [4, 6, 3], 9, gradients="db1 summed, not averaged")),
    ("a parameter the loss does not use (both gradients 0)",
     network_case(43, [3, 2], 4, extra={"unused": np.ones((2, 2))})),
    ("step h = 1e-3", network_case(44, [4, 4, 2], 6, h=1e-3)),
    ("a ReLU input within h of its kink", _kink_case()),
    ("db1 summed over a batch of 3", network_case(46, [2, 3, 2], 3, gradients="db1 summed, not averaged")),
]
