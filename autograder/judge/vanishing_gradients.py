"""Hidden cases of lesson 03: deeper and wider networks, non-square layers (a transposed
weight fails), width-1 layers, one layer, one example, saturating and large values.

The backward items' activations are made here, by the reference's forward pass on each
case (`REFERENCE_INPUTS`), so deep_backward is judged on its own. This module also holds
the implementations of the items' private mistakes (`MISTAKES`; their hints are declared
with the items). They are derived from the reference by changing
its inputs or outputs (never a second copy of it), and they stay here, out of the student
bundle, because each of them is one small change away from the answer.

Per-student hidden cases draw their networks, output gradients and identity-network inputs
from the student's seeds (`checks.case_seed`); the gains' cases are their labels' values,
fixed for everyone.
"""
import numpy as np

from autograder.checks import case_seed
from autograder.checks.vanishing_gradients import SATURATION, diagnosed_network, network, with_dAL
from autograder.judge import reference

LESSON = "03_vanishing_gradients"


def _ref(name):
    return reference.load(LESSON)[name]


def _activations(inputs):
    """The activations [A0, ..., AL] a correct deep_forward makes of a case's X and weights."""
    forward = _ref("deep_forward")
    if "activation" in inputs:
        return {"activations": forward(inputs["X"], inputs["weights"], inputs["activation"])}
    return {"activations": forward(inputs["X"], inputs["weights"])}


REFERENCE_INPUTS = {grade_id: _activations
                    for grade_id in ("deep_backward_contract", "deep_backward_linear", "deep_backward_activations")}


def _backward(dAL, weights, acts, activation):
    return _ref("deep_backward")(dAL, weights, acts, activation)


def _no_derivative(X, weights, dAL, activations, activation="linear"):
    return _backward(dAL, weights, activations, "linear")


def _no_last_derivative(X, weights, dAL, activations, activation="linear"):
    # The backward pass reads A[L] only for g'(Z[L]); an A[L] where g' is 1 removes it.
    last = np.zeros_like(activations[-1]) if activation == "tanh" else np.ones_like(activations[-1])
    return _backward(dAL, weights, list(activations[:-1]) + [last], activation)


def _untransposed_W(X, weights, dAL, activations, activation="linear"):
    # The reference propagates with W[l]^T; handing it W[l]^T makes it propagate with W[l].
    return _backward(dAL, [W.T for W in weights], activations, activation)


def _reference_grads(X, weights, dAL, activations, activation="linear"):
    return _backward(dAL, weights, activations, activation)


def _transposed_dW(**inputs):
    return [G.T for G in _reference_grads(**inputs)]


def _reversed(**inputs):
    return _reference_grads(**inputs)[::-1]


def _divided_by_m(**inputs):
    return [G / inputs["X"].shape[1] for G in _reference_grads(**inputs)]


def _identity(X, a, W_out, L):
    return _ref("identity_net_output")(X, a, W_out, L)


def _gain(activation, n_in, std):
    return float(_ref("layer_gain")(activation, n_in, std))


def _initial_loss(C):
    return float(_ref("expected_initial_loss")(C))


def _diagnostics(activations, grads, weights, lr):
    return _ref("layer_diagnostics")(activations, grads, weights, lr)


def _changed(key, value, activations, grads, weights, lr):
    """The reference's diagnostics with one entry replaced by `value`."""
    return {**_diagnostics(activations, grads, weights, lr), key: value}


STRUCTURE_MISTAKES = {"W not transposed": _untransposed_W, "dW transposed": _transposed_dW,
                      "reversed": _reversed, "divided by m": _divided_by_m}
MISTAKES = {
    "deep_backward_linear": STRUCTURE_MISTAKES,
    "deep_backward_activations": {"no derivative": _no_derivative,
                                  "no derivative at the last layer": _no_last_derivative, **STRUCTURE_MISTAKES},
    "identity_net_output_test": {
        "the notes' a^L": lambda X, a, W_out, L: _identity(X, a, W_out, L + 1),
        "a^(L-2)": lambda X, a, W_out, L: _identity(X, a, W_out, L - 1),
        "a (L-1)": lambda X, a, W_out, L: (L - 1) * _identity(X, a, W_out, 2)},
    "layer_gain_test": {
        "std not squared": lambda activation, n_in, std: _gain(activation, n_in, float(np.sqrt(std))),
        "gain of the rms": lambda activation, n_in, std: float(np.sqrt(_gain(activation, n_in, std))),
        "no ReLU half": lambda activation, n_in, std: _gain("linear", n_in, std),
        "ReLU doubled": lambda activation, n_in, std: _gain(activation, n_in, std) * (4 if activation == "relu" else 1),
        "tanh halved": lambda activation, n_in, std: _gain("relu" if activation == "tanh" else activation, n_in, std)},
    "initial_loss_test": {"log base 10": lambda C: _initial_loss(C) / float(np.log(10)),
                          "log base 2": lambda C: _initial_loss(C) / float(np.log(2)),
                          "probability": lambda C: float(np.exp(-_initial_loss(C))),
                          "sign": lambda C: -_initial_loss(C)},
    "layer_diagnostics_test": {
        # layer l's statistics from activations[l-1]: the list shifted by one
        "input activations": lambda activations, grads, weights, lr:
            _diagnostics(activations[:1] + activations[:-1], grads, weights, lr),
        "ratio inverted": lambda activations, grads, weights, lr: _changed(
            "update_ratio", 1 / _diagnostics(activations, grads, weights, lr)["update_ratio"], activations, grads,
            weights, lr),
        "ratio without lr": lambda activations, grads, weights, lr: _changed(
            "update_ratio", _diagnostics(activations, grads, weights, 1.0)["update_ratio"], activations, grads,
            weights, lr),
        # every entry its own unit (one column): a unit is dead when its single entry is 0
        "dead entries": lambda activations, grads, weights, lr: _changed(
            "dead", _diagnostics([A.reshape(-1, 1) for A in activations], grads, weights, lr)["dead"], activations,
            grads, weights, lr),
        "saturation flag": lambda activations, grads, weights, lr: _changed(
            "saturated", np.array([float(np.abs(A).mean() > SATURATION) for A in activations[1:]]), activations,
            grads, weights, lr),
        "weights' std": lambda activations, grads, weights, lr: _changed(
            "grad_std", _diagnostics(activations, weights, weights, lr)["grad_std"], activations, grads, weights, lr)},
}


def forward_cases():
    return [("widths 5-8-8-8-3, m = 6, tanh", network(101, [5, 8, 8, 8, 3], 6, "tanh")),
            ("widths 1-4-1 (width-1 layers), m = 3, relu", network(102, [1, 4, 1], 3, "relu")),
            ("one layer 6-2, one example, default activation", network(103, [6, 2], 1)),
            ("20 layers of 10 units, m = 4, tanh", network(104, [10] * 21, 4, "tanh")),
            ("widths 4-7-7-7-7-7-7-2, m = 5, relu, inputs near 1e3",
             network(105, [4, 7, 7, 7, 7, 7, 7, 2], 5, "relu", scale=np.sqrt(2), x_scale=1e3)),
            ("widths 3-5-4, m = 8, linear given explicitly", network(106, [3, 5, 4], 8, "linear")),
            ("widths 8-3-6-2-7, m = 2, tanh, large weights (saturated units)",
             network(107, [8, 3, 6, 2, 7], 2, "tanh", scale=3.0))]


def backward_linear_cases():
    return [("widths 5-8-3-4, m = 6", with_dAL(network(111, [5, 8, 3, 4], 6, "linear"), 111)),
            ("one layer 6-2, one example, default activation", with_dAL(network(112, [6, 2], 1), 112)),
            ("15 layers of 10 units, m = 3", with_dAL(network(113, [10] * 16, 3, "linear"), 113)),
            ("widths 2-7-1-3 (a width-1 layer), m = 4, inputs near 1e3",
             with_dAL(network(114, [2, 7, 1, 3], 4, "linear", x_scale=1e3), 114)),
            ("widths 6-3-9, m = 7, small weights", with_dAL(network(115, [6, 3, 9], 7, scale=0.3), 115))]


def backward_activation_cases():
    return [("widths 5-8-3-4, m = 6, tanh", with_dAL(network(121, [5, 8, 3, 4], 6, "tanh"), 121)),
            ("widths 5-8-3-4, m = 6, relu", with_dAL(network(122, [5, 8, 3, 4], 6, "relu", scale=np.sqrt(2)), 122)),
            ("one layer 6-2, one example, tanh", with_dAL(network(123, [6, 2], 1, "tanh"), 123)),
            ("one layer 4-3, m = 5, relu", with_dAL(network(124, [4, 3], 5, "relu"), 124)),
            ("widths 8-3-6-2-7, m = 4, tanh, large weights (saturated units)",
             with_dAL(network(125, [8, 3, 6, 2, 7], 4, "tanh", scale=3.0), 125)),
            ("15 layers of 10 units, m = 3, relu", with_dAL(network(126, [10] * 16, 3, "relu", scale=np.sqrt(2)), 126)),
            ("widths 4-7-7-2, m = 5, relu, inputs near 100",
             with_dAL(network(127, [4, 7, 7, 2], 5, "relu", scale=np.sqrt(2), x_scale=100.0), 127))]


def identity_cases():
    rng = np.random.default_rng(case_seed(131))

    def case(n, m, n_out, a, L):
        return {"X": rng.standard_normal((n, m)), "a": a, "W_out": rng.standard_normal((n_out, n)), "L": L}
    return [("L = 1: the network is W_out alone", case(3, 4, 2, 1.5, 1)),
            ("a = 1, L = 7", case(2, 3, 2, 1.0, 7)),
            ("a = 0.9, L = 60, one example", case(4, 1, 3, 0.9, 60)),
            ("a = 1.1, L = 200", case(5, 6, 1, 1.1, 200)),
            ("a = -1.2, L = 6 (negative scale)", case(2, 2, 4, -1.2, 6)),
            ("a = 2, L = 30, W_out of shape (1, 4)", case(4, 3, 1, 2.0, 30))]


def gain_cases():
    def case(activation, n_in, std):
        return {"activation": activation, "n_in": n_in, "std": std}
    return [("relu, n_in = 1, std = 1", case("relu", 1, 1.0)),
            ("linear, n_in = 300, std = 0.01", case("linear", 300, 0.01)),
            ("tanh, n_in = 7, std = 3", case("tanh", 7, 3.0)),
            ("relu, n_in = 1000, std = sqrt(2 / 1000)", case("relu", 1000, float(np.sqrt(2 / 1000)))),
            ("linear, n_in = 64, std = 1 / 8", case("linear", 64, 0.125))]


def diagnostics_cases():
    return [("a ReLU network of widths (6, 10, 10, 10, 4), three dead units per layer, m = 8",
             diagnosed_network(151, (6, 10, 10, 10, 4), 8, "relu", 1.0, dead_units=3)),
            ("a tanh network of 12 layers of 8 units, weights 10 / sqrt(fan-in) (saturated), lr = 0.3",
             diagnosed_network(152, (8,) * 13, 7, "tanh", 10.0, lr=0.3)),
            ("one example, a ReLU network of widths (3, 5, 2), lr = 0.01",
             diagnosed_network(153, (3, 5, 2), 1, "relu", 1.0, lr=0.01)),
            ("one layer (4, 3), tanh, small weights, lr = 1e-3", diagnosed_network(154, (4, 3), 6, "tanh", 0.1, lr=1e-3)),
            ("width-1 layers (2, 1, 3, 1), ReLU, lr = 2", diagnosed_network(155, (2, 1, 3, 1), 9, "relu", 1.0, lr=2.0)),
            ("a ReLU network of widths (5, 7, 7, 3), every unit of each layer dead, m = 4",
             diagnosed_network(156, (5, 7, 7, 3), 4, "relu", 1.0, dead_units=7))]


HIDDEN_CASES = {
    "deep_forward_contract": lambda: forward_cases()[:4],
    "deep_forward_values": forward_cases,
    "deep_backward_contract": lambda: backward_linear_cases()[:2] + backward_activation_cases()[:2],
    "deep_backward_linear": backward_linear_cases,
    "deep_backward_activations": backward_activation_cases,
    "identity_net_output_test": identity_cases,
    "layer_gain_test": gain_cases,
    "initial_loss_test": lambda: [(f"C = {C}", {"C": C}) for C in (1, 3, 100, 1000, 100000)],
    "layer_diagnostics_test": diagnostics_cases,
    # A prediction has one question: the hidden case asks it again, so plain nbgrader scores it too.
    "prediction_sigmoid_gradient_test": lambda: [("the prediction, asked again", {})],
    "prediction_residual_gradient_test": lambda: [("the prediction, asked again", {})],
}
