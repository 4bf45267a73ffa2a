"""Lesson 03, vanishing and exploding gradients: the graded items and their properties.

Conventions checked (see the lesson): examples are columns; ``weights = [W1, ..., WL]``
with W[l] of shape (n[l], n[l-1]); no biases; ``deep_forward`` returns
``[A0 = X, A1, ..., AL]`` with A[l] = g(W[l] A[l-1]), g applied at every layer, the last
included; ``deep_backward`` returns ``[dW1, ..., dWL]`` in layer order for a loss whose
gradient with respect to AL is dAL. Layers are named 1..L in messages, as in the lesson.

``deep_backward`` is judged on its own: it receives the activations of a correct forward
pass, computed by the reference (`Item.reference_inputs`), so a wrong or hanging
``deep_forward`` costs only the forward items.

Tolerances: relative 1e-6, absolute 1e-8 against closed forms; against the correct
gradients, a relative error of 1e-5 per layer plus a floor set by the size of the loss.

The known-wrong backward passes, identity outputs and gains that name misconceptions are
near copies of the answers: their hints are declared here, with the items, and their
implementations (derived from the reference) stay with the judge; the visible checks know
them by their outputs on the visible cases (`checks.KNOWN_OUTPUTS`).
"""
import numpy as np

from autograder.checks import ANSWER, Failure, Item, case_seed, expect_close, expect_ndarray, prediction_item
from autograder.worker import wire

RTOL, ATOL = 1e-6, 1e-8
TRANSPOSED_W_HINT = "W[l] used transposed: Z[l] = W[l] A[l-1], with W[l] of shape (n[l], n[l-1])"
TRANSPOSED_DW_HINT = ("dW[l] transposed, the outer product in the wrong order: dW[l] = dZ[l] A[l-1]^T "
                      "has the shape of W[l], A[l-1] dZ[l]^T is its transpose")
REVERSED_HINT = ("gradients listed from the last layer to the first: you compute dW[L] first, but "
                 "grads[0] must be dW[1] (fill the list by index, or reverse it)")
DIVIDED_BY_M_HINT = ("dW[l] divided by m: dAL already is the gradient of the loss (any 1/m of the "
                     "loss is inside it), so dW[l] = dZ[l] A[l-1]^T with no extra 1/m")
UNTRANSPOSED_W_HINT = "W[l] not transposed when propagating the error: dA[l-1] = W[l]^T dZ[l]"
NO_DERIVATIVE_HINT = ("the activation derivative is missing: dZ[l] = dA[l] * g'(Z[l]), with g' from A[l] "
                      "(1 - A**2 for tanh, A > 0 for relu; note that A >= 0 holds everywhere for relu)")
NO_LAST_DERIVATIVE_HINT = ("the activation derivative is missing at the last layer: the activation is applied "
                           "at every layer, the last one included, so dZ[L] = dAL * g'(Z[L])")
#: Known-wrong backward passes (private: see the module docstring), most specific first.
STRUCTURE_MISTAKES = [("W not transposed", UNTRANSPOSED_W_HINT, None), ("dW transposed", TRANSPOSED_DW_HINT, None),
                      ("reversed", REVERSED_HINT, None), ("divided by m", DIVIDED_BY_M_HINT, None)]
DERIVATIVE_MISTAKES = [("no derivative", NO_DERIVATIVE_HINT, None),
                       ("no derivative at the last layer", NO_LAST_DERIVATIVE_HINT, None)]


def g(activation, Z):
    """The activations of the lesson (the properties need them)."""
    return {"tanh": np.tanh, "relu": lambda Z_: np.maximum(Z_, 0.0)}.get(activation, lambda Z_: Z_)(Z)


# ---- cases ---------------------------------------------------------------------------

def network(seed, widths, m, activation=None, scale=1.0, x_scale=1.0):
    """A random network, drawn from `case_seed(seed)`: X (n0, m) and W[l] (n[l], n[l-1]) with entries
    of std scale / sqrt(n[l-1]).

    `activation=None` leaves the argument out, so the function's default is used.
    """
    rng = np.random.default_rng(case_seed(seed))
    weights = [scale / np.sqrt(n_in) * rng.standard_normal((n_out, n_in))
               for n_in, n_out in zip(widths[:-1], widths[1:])]
    inputs = {"X": x_scale * rng.standard_normal((widths[0], m)), "weights": weights}
    if activation is not None:
        inputs["activation"] = activation
    return inputs


def with_dAL(inputs, seed):
    """Add a random output gradient dAL of shape (n[L], m), drawn from `case_seed(seed + 1000)`."""
    n_L, m = inputs["weights"][-1].shape[0], inputs["X"].shape[1]
    inputs["dAL"] = np.random.default_rng(case_seed(seed + 1000)).standard_normal((n_L, m))
    return inputs


def widths_of(inputs):
    return [inputs["X"].shape[0]] + [W.shape[0] for W in inputs["weights"]]


def activation_of(inputs):
    return inputs.get("activation", "linear")


def _kwargs(activation):
    return {} if activation is None else {"activation": activation}


# ---- running the student's code (in the student's process) -----------------------------

def run_forward(deep_forward, X, weights, activation=None):
    return deep_forward(X, weights, **_kwargs(activation))  # `collect` reports what it did to the inputs


def run_backward(deep_backward, X, weights, dAL, activations, activation=None):
    """The student's backward pass on the case's activations, those of a correct forward pass
    (`X` is the case's A[0]; the backward pass does not take it)."""
    return deep_backward(dAL, weights, activations, **_kwargs(activation))


# ---- shared property helpers -------------------------------------------------------------

def expect_sequence(value, name, what, strict):
    """A list (or, unless `strict`, a tuple) of values; returns it as a list."""
    if type(value) is list or (type(value) is tuple and not strict):
        return list(value)
    if type(value) is tuple:
        raise Failure(f"{name} should return a list {what}, got a tuple")
    raise Failure(f"{name} should return a list {what}, got {wire.type_name(value)}")


def expect_matrix(value, name, shape, transposed_hint=None, dtype=True):
    """An ndarray of exactly `shape` (and float64 unless dtype=False), finite."""
    shape = tuple(shape)
    expect_ndarray(value, name)
    if value.shape != shape:
        hint = transposed_hint if value.shape == shape[::-1] and shape[0] != shape[1] else None
        raise Failure(f"{name} should have shape {shape}, got {value.shape}", hint)
    if dtype and value.dtype != np.float64:
        raise Failure(f"{name} should have dtype float64, got {value.dtype}")
    if not np.all(np.isfinite(value)):
        raise Failure(f"{name} contains NaN or inf")
    return value


def _close(a, b):
    return a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=ATOL)


# ---- deep_forward ----------------------------------------------------------------------

def _forward_layers(inputs, result, strict):
    widths, m = widths_of(inputs), inputs["X"].shape[1]
    L = len(widths) - 1
    acts = expect_sequence(result, "deep_forward", "[A0 = X, A1, ..., AL]", strict)
    if len(acts) != L + 1:
        hint = "A0 = X left out: the list starts with the input X, then A1, ..., AL" if len(acts) == L else None
        raise Failure(f"deep_forward should return L + 1 = {L + 1} arrays [A0 = X, A1, ..., A{L}] for a "
                      f"network of L = {L} layers, got {len(acts)}", hint)
    for l, A in enumerate(acts):
        expect_matrix(A, f"A[{l}]", (widths[l], m),
                      "A[l] transposed: examples are columns, A[l] has shape (n[l], m)", dtype=strict)
    if not np.array_equal(acts[0], inputs["X"]):
        raise Failure("A[0] should be the input X (same values): the list starts with the input")
    return acts


def forward_contract(inputs, result):
    _forward_layers(inputs, result, strict=True)


def forward_values(inputs, result):
    acts = _forward_layers(inputs, result, strict=False)
    activation, weights = activation_of(inputs), inputs["weights"]
    L = len(weights)
    for l in range(1, L + 1):
        W, A_prev, A = weights[l - 1], acts[l - 1], acts[l]
        Z = W @ A_prev
        if _close(A, g(activation, Z)):
            continue
        where = f"layer {l}" + (" (the last)" if l == L else "")
        formula = f"W[{l}] A[{l - 1}]" if activation == "linear" else f"{activation}(W[{l}] A[{l - 1}])"
        if activation != "linear" and _close(A, Z):
            hint = ("the activation is not applied at the last layer; here g is applied at every layer, "
                    "the last one included") if l == L else "the activation argument is ignored or not applied"
            raise Failure(f"{where}: A[{l}] equals W[{l}] A[{l - 1}] without the {activation}; "
                          f"it should be {formula}", hint)
        if W.shape[0] == W.shape[1] and _close(A, g(activation, W.T @ A_prev)):
            raise Failure(f"{where}: A[{l}] should be {formula}", TRANSPOSED_W_HINT)
        other = next((name for name in ("linear", "tanh", "relu")
                      if name != activation and _close(A, g(name, Z))), None)
        if other is not None:
            raise Failure(f"{where}: A[{l}] should be {formula}, got {other}(W[{l}] A[{l - 1}])",
                          f"the activation {other!r} instead of the one asked for, {activation!r}")
        expect_close(A, g(activation, Z), f"{where}: A[{l}] should be {formula}", RTOL, ATOL, row_name="unit")


def forward_cases():
    return [("widths 3-3-3 (square layers), m = 4, default activation (linear)", network(1, [3, 3, 3], 4)),
            ("widths 4-6-3-2, m = 5, tanh", network(2, [4, 6, 3, 2], 5, "tanh")),
            ("widths 5-3-4, m = 3, relu", network(3, [5, 3, 4], 3, "relu"))]


def _as_list(result):
    return list(result) if type(result) in (list, tuple) else result


FORWARD_CONTRACT = Item(grade_id="deep_forward_contract", functions=["deep_forward"], run=run_forward,
                        properties=forward_contract, visible_cases=forward_cases, compare=False)
FORWARD_VALUES = Item(grade_id="deep_forward_values", functions=["deep_forward"], run=run_forward,
                      properties=forward_values, visible_cases=forward_cases, project=_as_list)


# ---- deep_backward ---------------------------------------------------------------------

def _grads(inputs, result, strict):
    shapes = [W.shape for W in inputs["weights"]]
    L = len(shapes)
    grads = expect_sequence(result, "deep_backward", "[dW1, ..., dWL]", strict)
    if len(grads) != L:
        hint = "one gradient per weight matrix: A0 = X has none" if len(grads) == L + 1 else None
        raise Failure(f"deep_backward should return L = {L} gradients [dW1, ..., dW{L}], got {len(grads)}", hint)
    got = [getattr(G, "shape", None) for G in grads]
    if got != shapes and got == shapes[::-1]:
        raise Failure(f"grads[0] should be dW[1], of shape {shapes[0]}, got shape {got[0]}: the list "
                      "goes from the last layer to the first", REVERSED_HINT)
    for l, (G, shape) in enumerate(zip(grads, shapes), 1):
        expect_matrix(G, f"dW[{l}] (grads[{l - 1}])", shape, TRANSPOSED_DW_HINT, dtype=strict)
    return grads


def backward_contract(inputs, result):
    _grads(inputs, result, strict=True)


def _relative_error(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300))


def backward_values(inputs, result):
    """Every dW[l] against the correct one (`ANSWER`, the reference's on the same activations;
    it agrees with centered differences of the loss, see tests/unit/judge/test_reference_vanishing_gradients.py)."""
    grads = _grads(inputs, result, strict=False)
    correct, acts, dAL = inputs[ANSWER], inputs["activations"], inputs["dAL"]
    floor = 1e-7 * (1.0 + float(np.sum(np.abs(dAL * acts[-1]))))
    L = len(grads)
    wrong = [l for l in range(1, L + 1)
             if np.linalg.norm(grads[l - 1] - correct[l - 1])
             > 1e-5 * max(np.linalg.norm(grads[l - 1]), np.linalg.norm(correct[l - 1])) + floor]
    if not wrong:
        return
    top = wrong[-1]  # back-propagation goes down: the highest wrong layer is where it starts
    m = inputs["X"].shape[1]
    G, N = grads[top - 1], correct[top - 1]
    hint = None
    if G.shape[0] == G.shape[1] and _close(G, N.T) and not _close(G, N):
        hint = TRANSPOSED_DW_HINT
    elif L > 1 and all(_close(a, b) for a, b in zip(grads, correct[::-1])):
        hint = REVERSED_HINT
    elif m > 1 and all(_close(m * a, b) for a, b in zip(grads, correct)):
        hint = DIVIDED_BY_M_HINT
    where = f"layer {top}" + (" (the last)" if top == L else "")
    others = f" ({len(wrong) - 1} more layer(s) below it are wrong too)" if len(wrong) > 1 else ""
    advice = ""
    if activation_of(inputs) != "linear" and hint is None:
        advice = ("; check the activation derivative g'(Z[l]) (from A[l]: 1 - A**2 for tanh, A > 0 for relu), "
                  "applied at every layer, the last one included")
    raise Failure(f"{where}: dW[{top}] is not the gradient of the loss (relative error "
                  f"{_relative_error(G, N):.1e} against the correct dW[{top}]){others}{advice}", hint)


def backward_contract_cases():
    return [("widths 3-3-3 (square layers), m = 4, default activation (linear)", with_dAL(network(4, [3, 3, 3], 4), 4)),
            ("widths 4-5-3-2, m = 3, relu", with_dAL(network(5, [4, 5, 3, 2], 3, "relu"), 5))]


def backward_linear_cases():
    return [("widths 3-3-3 (square layers), m = 4, default activation (linear)", with_dAL(network(4, [3, 3, 3], 4), 4)),
            ("widths 4-6-2-5, m = 3, linear", with_dAL(network(6, [4, 6, 2, 5], 3, "linear"), 6))]


def backward_activation_cases():
    return [("widths 3-3-3 (square layers), m = 4, tanh", with_dAL(network(9, [3, 3, 3], 4, "tanh"), 9)),
            ("widths 3-4-2, m = 5, tanh", with_dAL(network(7, [3, 4, 2], 5, "tanh"), 7)),
            ("widths 4-5-3, m = 4, relu", with_dAL(network(8, [4, 5, 3], 4, "relu"), 8))]


ACTIVATIONS = ("activations",)  # [A0, ..., AL] of the reference's deep_forward on the case
BACKWARD_CONTRACT = Item(grade_id="deep_backward_contract", functions=["deep_backward"], run=run_backward,
                         properties=backward_contract, visible_cases=backward_contract_cases, compare=False,
                         project=_as_list, reference_inputs=ACTIVATIONS)
BACKWARD_LINEAR = Item(grade_id="deep_backward_linear", functions=["deep_backward"], run=run_backward,
                       properties=backward_values, visible_cases=backward_linear_cases, mistakes=STRUCTURE_MISTAKES,
                       project=_as_list, reference_answer=True, reference_inputs=ACTIVATIONS)
BACKWARD_ACTIVATIONS = Item(grade_id="deep_backward_activations", functions=["deep_backward"], run=run_backward,
                            properties=backward_values, visible_cases=backward_activation_cases,
                            mistakes=DERIVATIVE_MISTAKES + STRUCTURE_MISTAKES, project=_as_list, reference_answer=True,
                            reference_inputs=ACTIVATIONS)


# ---- identity_net_output ---------------------------------------------------------------

def run_identity(identity_net_output, X, a, W_out, L):
    return identity_net_output(X, a, W_out, L)


def identity_values(inputs, Y):
    X, a, W_out, L = inputs["X"], inputs["a"], inputs["W_out"], inputs["L"]
    expect_matrix(Y, "Y", (W_out.shape[0], X.shape[1]), "Y transposed: examples are columns, Y is (n_out, m)")
    expect_close(Y, inputs[ANSWER],
                 f"Y should be W_out (a I)^(L-1) X = a^(L-1) W_out X (here a = {a}, L = {L})",
                 RTOL, ATOL, row_name="output unit")


def identity_mistakes():
    return [("the notes' a^L", "the notes' a^L: only the L - 1 hidden layers are a I, the last layer is "
             "W_out, so Y = a^(L-1) W_out X", None),
            ("a^(L-2)", "one factor a too few: there are L - 1 layers a I before W_out", None),
            ("a (L-1)", "a (L - 1): depth multiplies the per-layer factors, it does not add them", None)]


def identity_cases():
    return [("the notes' network: 2 units, x = (1, 1), a = 1.5, W_out = [0.5 0.5], L = 10",
             {"X": np.ones((2, 1)), "a": 1.5, "W_out": np.array([[0.5, 0.5]]), "L": 10}),
            ("X of shape (3, 5), a = 0.5, W_out of shape (2, 3), L = 4",
             {"X": np.random.default_rng(9).standard_normal((3, 5)), "a": 0.5,
              "W_out": np.random.default_rng(10).standard_normal((2, 3)), "L": 4}),
            ("a negative scale, a = -0.8, L = 4", {"X": np.random.default_rng(11).standard_normal((2, 3)), "a": -0.8,
                                                   "W_out": np.random.default_rng(12).standard_normal((3, 2)), "L": 4}),
            ("L = 1: no hidden layer, Y = W_out X (a = 2)",
             {"X": np.random.default_rng(13).standard_normal((2, 2)), "a": 2.0,
              "W_out": np.random.default_rng(14).standard_normal((1, 2)), "L": 1})]


IDENTITY = Item(grade_id="identity_net_output_test", functions=["identity_net_output"], run=run_identity,
                properties=identity_values, visible_cases=identity_cases, mistakes=identity_mistakes(),
                reference_answer=True)


# ---- layer_gain ------------------------------------------------------------------------

def run_gain(layer_gain, activation, n_in, std):
    return layer_gain(activation, n_in, std)


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def gain_values(inputs, gain):
    activation, n_in, std = inputs["activation"], inputs["n_in"], inputs["std"]
    call = f"layer_gain({activation!r}, {n_in}, {std:g})"
    if not _is_number(gain):
        raise Failure(f"{call} should return a float, got {wire.type_name(gain)}")
    if not np.isfinite(gain):
        raise Failure(f"{call} returned {gain}")
    wanted = inputs[ANSWER]
    formula = "n_in * std**2 / 2" if activation == "relu" else "n_in * std**2"
    if not np.isclose(float(gain), wanted, rtol=RTOL, atol=0):
        raise Failure(f"{call} should be {formula} = {wanted:.6g}, got {float(gain):.6g}")


def gain_mistakes():
    return [("std not squared", "the gain multiplies mean squares, so it involves the variance std**2 "
             "of a weight, not std", None),
            ("gain of the rms", "that is the factor of the root mean square, sqrt(n_in) * std; the gain of the "
             "mean square is its square", None),
            ("no ReLU half", "ReLU zeroes the negative half of its symmetric input, which halves the mean "
             "square: divide by 2 for relu", None),
            ("ReLU doubled", "ReLU halves the mean square (it is He's initialization that doubles the variance "
             "to compensate)", None),
            ("tanh halved", "only ReLU halves the mean square; tanh(z) is about z for small z, so its "
             "small-activation gain is the linear one", None)]


def gain_cases():
    return [("linear, n_in = 200, std = 0.1", {"activation": "linear", "n_in": 200, "std": 0.1}),
            ("relu, n_in = 100, std = 0.3", {"activation": "relu", "n_in": 100, "std": 0.3}),
            ("tanh, n_in = 50, std = 0.2", {"activation": "tanh", "n_in": 50, "std": 0.2})]


def _as_float(result):
    return float(result) if _is_number(result) else result


GAIN = Item(grade_id="layer_gain_test", functions=["layer_gain"], run=run_gain, properties=gain_values,
            visible_cases=gain_cases, mistakes=gain_mistakes(), project=_as_float, reference_answer=True)


SIGMOID_PREDICTION = prediction_item(
    "prediction_sigmoid_gradient_test", "prediction_sigmoid_gradient",
    "the gradient through 20 sigmoid layers with weights 4 times orthogonal",
    hint="sigmoid'(z) reaches 1/4 only at z = 0, so the bound (4 x 1/4)^20 = 1 is met only if every unit of "
         "every layer sits at z = 0: work out where weights 4 times an orthogonal matrix put z, what sigmoid' is "
         "there (sigmoid'(2) is about 0.10), and what 20 such factors multiply to")
RESIDUAL_PREDICTION = prediction_item(
    "prediction_residual_gradient_test", "prediction_residual_gradient",
    "the residual network's gradient at the first layer, from depth 1 to 50",
    hint="a residual block's backward factor is I + W^T D, where a plain layer's is W^T D: work out which "
         "matrix each factor is close to when the branch's weights are small, and what a product of 50 of them "
         "does to a vector")

# ---- diagnosing a network while it trains ------------------------------------------------
# expected_initial_loss(C): the cross-entropy of a network that gives every one of C classes 1/C.
# layer_diagnostics(activations, grads, weights, lr): per layer l = 1..L, the statistics practitioners
# watch (Karpathy's makemore part 3, CS231n): A[l]'s mean and std, dW[l]'s std, the share of A[l]'s
# entries with |a| > 0.97 (saturated tanh), the share of A[l]'s units that are 0 on every example
# (dead ReLU) and the update-to-parameter ratio lr ||dW[l]|| / ||W[l]|| (Frobenius norms).

SATURATION = 0.97
DIAGNOSTICS = ("act_mean", "act_std", "grad_std", "saturated", "dead", "update_ratio")
DIAGNOSTIC_RULES = {
    "act_mean": "the mean of all entries of A[l] = activations[l] (layer l's output, not its input activations[l-1])",
    "act_std": "the standard deviation of all entries of A[l] = activations[l]",
    "grad_std": "the standard deviation of all entries of dW[l] = grads[l-1]",
    "saturated": f"the share of the entries of A[l] with |a| > {SATURATION} (a number between 0 and 1)",
    "dead": "the share of the units (rows) of A[l] that are 0 on every example of the batch",
    "update_ratio": "lr * ||dW[l]|| / ||W[l]||, Frobenius norms: the size of the step relative to the weights",
}


def run_initial_loss(expected_initial_loss, C):
    return expected_initial_loss(C)


def initial_loss_values(inputs, value):
    C = inputs["C"]
    if not _is_number(value):
        raise Failure(f"expected_initial_loss({C}) should return a float, got {wire.type_name(value)}")
    if not np.isclose(float(value), inputs[ANSWER], rtol=RTOL, atol=ATOL):
        raise Failure(f"expected_initial_loss({C}) should be the cross-entropy of a prediction that gives each of "
                      f"the {C} classes probability 1/{C}, {inputs[ANSWER]:.6g}; got {float(value):.6g}")


def initial_loss_mistakes():
    return [("log base 10", "a base-10 logarithm; cross-entropy uses the natural logarithm (np.log), "
             "so log(10) = 2.303 for 10 classes", None),
            ("log base 2", "a base-2 logarithm (bits); cross-entropy here uses the natural logarithm (np.log)", None),
            ("probability", "that is the probability 1/C given to the right class; the loss is -log of it", None),
            ("sign", "the sign is off: the loss is -log(1/C) = log C, positive for C > 1", None)]


def initial_loss_cases():
    return [("C = 10 (the digits)", {"C": 10}), ("C = 2", {"C": 2})]


INITIAL_LOSS = Item(grade_id="initial_loss_test", functions=["expected_initial_loss"], run=run_initial_loss,
                    properties=initial_loss_values, visible_cases=initial_loss_cases, mistakes=initial_loss_mistakes(),
                    project=_as_float, reference_answer=True)


def run_diagnostics(layer_diagnostics, activations, grads, weights, lr):
    return layer_diagnostics(activations, grads, weights, lr)


def diagnostics_values(inputs, result):
    L = len(inputs["weights"])
    if type(result) is not dict or set(result) != set(DIAGNOSTICS):
        got = sorted(result) if type(result) is dict else wire.type_name(result)
        raise Failure(f"layer_diagnostics should return a dict with the keys {', '.join(DIAGNOSTICS)}; got {got}")
    for key in DIAGNOSTICS:
        value = expect_ndarray(result[key], f"{key!r}")
        if value.shape != (L,) or value.dtype != np.float64:
            raise Failure(f"{key!r} should be a float64 array of shape ({L},), one value per layer 1..{L}; got "
                          f"{value.dtype} of shape {value.shape}")
    for key in DIAGNOSTICS:
        wanted = inputs[ANSWER][key]
        bad = ~np.isclose(result[key], wanted, rtol=RTOL, atol=ATOL)
        if np.any(bad):
            l = int(np.argmax(bad))
            raise Failure(f"{key!r} at layer {l + 1} should be {DIAGNOSTIC_RULES[key]}: {wanted[l]:.6g}, "
                          f"got {result[key][l]:.6g}")


def diagnostics_mistakes():
    return [("input activations", "the statistics of activations[l-1], layer l's input; layer l's output is "
             "A[l] = activations[l] (skip A0 = X)", None),
            ("ratio inverted", "the ratio is inverted: the update-to-parameter ratio is lr * ||dW|| / ||W|| "
             "(about 1e-3 is healthy), not ||W|| / (lr * ||dW||)", None),
            ("ratio without lr", "the step is lr * dW, so the ratio needs the learning rate: "
             "lr * ||dW|| / ||W||", None),
            ("dead entries", "that counts the zero entries of A[l] (about half of them in a healthy ReLU layer); "
             "a dead unit is a row of A[l] that is 0 on every example", None),
            ("saturation flag", "one flag per layer (is the mean |a| above 0.97?); the share counts the entries "
             "of A[l] with |a| > 0.97", None),
            ("weights' std", "the standard deviation of W[l] instead of its gradient dW[l] = grads[l-1]", None)]


def diagnosed_network(seed, widths, m, activation, scale, dead_units=0, lr=0.1):
    """A case for layer_diagnostics: random weights (scale / sqrt(fan-in) times Gaussian), activations
    drawn like a forward pass's (elementwise, not a product of the weights: the function only reads
    them), `dead_units` units of each layer zero on every example, and gradients of assorted sizes."""
    rng = np.random.default_rng(case_seed(seed))
    weights = [scale / np.sqrt(n_in) * rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(widths, widths[1:])]
    g = np.tanh if activation == "tanh" else (lambda Z: np.maximum(Z, 0.0))
    activations = [rng.standard_normal((widths[0], m))]
    for n in widths[1:]:
        A = g(scale * rng.standard_normal((n, m)) + 0.3 * rng.standard_normal((n, 1)))
        A[:dead_units] = 0.0
        activations.append(A)
    grads = [10.0 ** rng.uniform(-4, 0) * rng.standard_normal(W.shape) for W in weights]
    return {"activations": activations, "grads": grads, "weights": weights, "lr": lr}


def diagnostics_cases():
    return [("a tanh network of widths (4, 6, 6, 3), weights 3 / sqrt(fan-in), m = 5",
             diagnosed_network(141, (4, 6, 6, 3), 5, "tanh", 3.0)),
            ("a ReLU network of widths (5, 8, 4), one dead unit per layer, m = 6, lr = 0.05",
             diagnosed_network(142, (5, 8, 4), 6, "relu", 1.0, dead_units=1, lr=0.05))]


DIAGNOSTICS_ITEM = Item(grade_id="layer_diagnostics_test", functions=["layer_diagnostics"], run=run_diagnostics,
                        properties=diagnostics_values, visible_cases=diagnostics_cases, mistakes=diagnostics_mistakes(),
                        reference_answer=True)

#: This lesson's graded items, in the master's order (`checks.items` reads them).
ITEMS = [FORWARD_CONTRACT, FORWARD_VALUES, BACKWARD_CONTRACT, BACKWARD_LINEAR, BACKWARD_ACTIVATIONS, IDENTITY, GAIN,
         SIGMOID_PREDICTION, RESIDUAL_PREDICTION, INITIAL_LOSS, DIAGNOSTICS_ITEM]
