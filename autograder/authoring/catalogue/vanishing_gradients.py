"""Lesson 03 submissions with known verdicts.

deep_backward is judged on the activations of a correct forward pass (the judge computes
them with the reference), so a wrong deep_forward loses the forward items only.
"""
from autograder.authoring.catalogue import Variant, edited

LESSON = "03_vanishing_gradients"

FORWARD_LOOP = '''def deep_forward(X, weights, activation="linear"):
    """A while loop and if/elif, an explicit copy of each layer: different from the reference, still right."""
    A = np.array(X, dtype=float)
    activations = [A]
    l = 0
    while l < len(weights):
        Z = np.dot(weights[l], A)
        if activation == "tanh":
            A = (np.exp(Z) - np.exp(-Z)) / (np.exp(Z) + np.exp(-Z))
        elif activation == "relu":
            A = Z * (Z > 0)
        else:
            A = Z
        activations.append(A)
        l += 1
    return activations
'''

BACKWARD_RECOMPUTE = '''def deep_backward(dAL, weights, activations, activation="linear"):
    """Recomputes Z[l] from A[l-1], appends and reverses, einsum for the outer product."""
    grads = []
    dA = dAL.copy()
    for l in reversed(range(1, len(weights) + 1)):
        W, A_prev = weights[l - 1], activations[l - 1]
        Z = W @ A_prev
        if activation == "tanh":
            dZ = dA / np.cosh(Z) ** 2
        elif activation == "relu":
            dZ = np.where(Z > 0, dA, 0.0)
        else:
            dZ = dA
        grads.append(np.einsum("im,jm->ij", dZ, A_prev))
        dA = np.transpose(W).dot(dZ)
    grads.reverse()
    return grads
'''

IDENTITY_POWER = '''def identity_net_output(X, a, W_out, L):
    n = X.shape[0]
    return W_out @ np.linalg.matrix_power(a * np.eye(n), L - 1) @ X
'''

GAIN_TABLE = '''def layer_gain(activation, n_in, std):
    variance = std * std
    return {"linear": 1.0, "tanh": 1.0, "relu": 0.5}[activation] * n_in * variance
'''


def edit(grade_id, *changes):
    return edited(LESSON, grade_id, *changes)


def forward(*changes):
    return edit("deep_forward", *changes)


def backward(*changes):
    return edit("deep_backward", *changes)


FORWARD_NO_LAST_ACTIVATION = '''def deep_forward(X, weights, activation="linear"):
    g = {"linear": lambda Z: Z, "tanh": np.tanh, "relu": lambda Z: np.maximum(Z, 0.0)}[activation]
    activations = [X]
    for l, W in enumerate(weights):
        Z = W @ activations[-1]
        activations.append(Z if l == len(weights) - 1 else g(Z))  # a "linear output layer"
    return activations
'''

BACKWARD_NO_LAST_DERIVATIVE = '''def deep_backward(dAL, weights, activations, activation="linear"):
    derivative = {"linear": lambda A: np.ones_like(A), "tanh": lambda A: 1 - A ** 2,
                  "relu": lambda A: (A > 0) * 1.0}[activation]
    L = len(weights)
    grads = [None] * L
    dZ = dAL  # the output layer's derivative forgotten
    for l in range(L, 0, -1):
        grads[l - 1] = dZ @ activations[l - 1].T
        if l > 1:
            dZ = (weights[l - 1].T @ dZ) * derivative(activations[l - 1])
    return grads
'''

BACKWARD_RELU_MASK_IN_PLACE = '''def deep_backward(dAL, weights, activations, activation="linear"):
    L = len(weights)
    grads = [None] * L
    dA = dAL
    for l in range(L, 0, -1):
        dZ = dA
        if activation == "relu":
            dZ[activations[l] <= 0] = 0  # writes into dAL at the last layer
        elif activation == "tanh":
            dZ = dZ * (1 - activations[l] ** 2)
        grads[l - 1] = dZ @ activations[l - 1].T
        dA = weights[l - 1].T @ dZ
    return grads
'''


def prediction(function, value):
    """An answer cell whose prediction function returns `value` (Python source)."""
    return f"def {function}():\n    return {value}\n"


INITIAL_LOSS_UNIFORM = '''def expected_initial_loss(C):
    """Computed as the definition says: the cross-entropy of a uniform prediction, for class 0."""
    p = np.full(C, 1.0 / C)
    return float(-np.log(p[0]))
'''


def initial_loss(expression):
    return f"def expected_initial_loss(C):\n    return float({expression})\n"


DIAGNOSTICS_LOOPS = '''def layer_diagnostics(activations, grads, weights, lr):
    """Layer by layer into lists, norms written out, a dead unit found by its largest |a|."""
    out = {k: [] for k in ("act_mean", "act_std", "grad_std", "saturated", "dead", "update_ratio")}
    for A, dW, W in zip(activations[1:], grads, weights):
        n, m = A.shape
        mean = A.sum() / A.size
        out["act_mean"].append(mean)
        out["act_std"].append(np.sqrt(((A - mean) ** 2).sum() / A.size))
        out["grad_std"].append(np.sqrt(((dW - dW.mean()) ** 2).mean()))
        out["saturated"].append((np.abs(A) > 0.97).sum() / A.size)
        out["dead"].append(sum(1 for row in A if np.abs(row).max() == 0) / n)
        out["update_ratio"].append(lr * np.sqrt((dW ** 2).sum()) / np.sqrt((W ** 2).sum()))
    return {k: np.array(v, dtype=float) for k, v in out.items()}
'''


def diagnostics_with(old, new):
    """The reference's layer_diagnostics with one line changed."""
    return edit("layer_diagnostics", old, new)["layer_diagnostics"]


VARIANTS = [
    Variant("correct"),
    Variant("correct-different", answers={"deep_forward": FORWARD_LOOP, "deep_backward": BACKWARD_RECOMPUTE,
                                          "identity_net_output": IDENTITY_POWER, "layer_gain": GAIN_TABLE,
                                          "expected_initial_loss": INITIAL_LOSS_UNIFORM,
                                          "layer_diagnostics": DIAGNOSTICS_LOOPS}),
    Variant("initial-loss-log10", answers={"expected_initial_loss": initial_loss("np.log10(C)")},
            lose={"initial_loss_test": "base-10 logarithm"}),
    Variant("initial-loss-log2", answers={"expected_initial_loss": initial_loss("np.log2(C)")},
            lose={"initial_loss_test": "base-2 logarithm"}),
    Variant("initial-loss-probability", answers={"expected_initial_loss": initial_loss("1 / C")},
            lose={"initial_loss_test": "the probability 1/C"}),
    Variant("initial-loss-sign", answers={"expected_initial_loss": initial_loss("np.log(1 / C)")},
            lose={"initial_loss_test": "the sign is off"}),
    Variant("diagnostics-input-activations", answers={"layer_diagnostics": diagnostics_with(
        "layers = activations[1:]", "layers = activations[:-1]")},
            lose={"layer_diagnostics_test": "layer l's input"}),
    Variant("diagnostics-ratio-inverted", answers={"layer_diagnostics": diagnostics_with(
        "lr * np.linalg.norm(dW) / np.linalg.norm(W)", "np.linalg.norm(W) / (lr * np.linalg.norm(dW))")},
            lose={"layer_diagnostics_test": "the ratio is inverted"}),
    Variant("diagnostics-ratio-without-lr", answers={"layer_diagnostics": diagnostics_with(
        "lr * np.linalg.norm(dW) / np.linalg.norm(W)", "np.linalg.norm(dW) / np.linalg.norm(W)")},
            lose={"layer_diagnostics_test": "needs the learning rate"}),
    Variant("diagnostics-dead-entries", answers={"layer_diagnostics": diagnostics_with(
        "np.mean(np.all(A == 0, axis=1))", "np.mean(A == 0)")},
            lose={"layer_diagnostics_test": "counts the zero entries"}),
    Variant("diagnostics-saturation-flag", answers={"layer_diagnostics": diagnostics_with(
        "np.mean(np.abs(A) > 0.97)", "float(np.abs(A).mean() > 0.97)")},
            lose={"layer_diagnostics_test": "one flag per layer"}),
    Variant("diagnostics-weights-std", answers={"layer_diagnostics": diagnostics_with(
        "dW.std() for dW in grads", "W.std() for W in weights")},
            lose={"layer_diagnostics_test": "instead of its gradient"}),
    Variant("forward-no-last-activation", answers={"deep_forward": FORWARD_NO_LAST_ACTIVATION},
            lose={"deep_forward_values": "the activation is not applied at the last layer"}),
    Variant("forward-ignores-activation", answers=forward('[activation]', '["linear"]'),
            lose={"deep_forward_values": "activation argument is ignored"}),
    Variant("forward-without-A0", answers=forward("activations = [X.copy()]\n    for W in weights:\n"
                                                  "        activations.append(g(W @ activations[-1]))",
                                                  "activations, A = [], X\n    for W in weights:\n"
                                                  "        A = g(W @ A)\n        activations.append(A)"),
            lose={"deep_forward_contract": "A0 = X left out", "deep_forward_values": "A0 = X left out"}),
    Variant("forward-transposed-W", answers=forward("W @ activations[-1]", "W.T @ activations[-1]"),
            lose={"deep_forward_contract": None, "deep_forward_values": "W[l] used transposed"}),
    Variant("backward-no-derivative", answers=backward('"tanh": lambda A: 1.0 - A ** 2', '"tanh": np.ones_like',
                                                        "(A > 0)", "(A >= 0)"),
            lose={"deep_backward_activations": "dZ[l] = dA[l] * g'(Z[l])"}),
    Variant("backward-no-last-derivative", answers={"deep_backward": BACKWARD_NO_LAST_DERIVATIVE},
            lose={"deep_backward_activations": "missing at the last layer"}),
    Variant("backward-W-not-transposed", answers=backward("weights[l - 1].T @ dZ", "weights[l - 1] @ dZ"),
            lose={"deep_backward_contract": None, "deep_backward_linear": "W[l] not transposed",
                  "deep_backward_activations": "W[l] not transposed"}),
    Variant("backward-outer-product-order", answers=backward("dZ @ activations[l - 1].T", "activations[l - 1] @ dZ.T"),
            lose={"deep_backward_contract": "outer product in the wrong order",
                  "deep_backward_linear": "outer product in the wrong order",
                  "deep_backward_activations": "outer product in the wrong order"}),
    Variant("backward-reversed-order", answers=backward("grads[l - 1] = dZ", "grads[L - l] = dZ"),
            lose={"deep_backward_contract": "grads[0] must be dW[1]", "deep_backward_linear": "grads[0] must be dW[1]",
                  "deep_backward_activations": "grads[0] must be dW[1]"}),
    Variant("backward-divides-by-m", answers=backward("grads[l - 1] = dZ @ activations[l - 1].T",
                                                      "grads[l - 1] = dZ @ activations[l - 1].T / dZ.shape[1]"),
            lose={"deep_backward_linear": "no extra 1/m", "deep_backward_activations": "no extra 1/m"}),
    Variant("backward-relu-mask-in-place", answers={"deep_backward": BACKWARD_RELU_MASK_IN_PLACE},
            lose={"deep_backward_contract": "in-place", "deep_backward_activations": "in-place"}),
    Variant("identity-seed-power", answers=edit("identity_net_output", "a ** (L - 1)", "a ** L"),
            lose={"identity_net_output_test": "the notes' a^L"}),
    Variant("gain-relu-not-halved", answers=edit("layer_gain", "gain = gain / 2", "gain = gain * 2"),
            lose={"layer_gain_test": "He's initialization that doubles"}),
    Variant("gain-std-not-squared", answers=edit("layer_gain", "std ** 2", "std"),
            lose={"layer_gain_test": "std**2"}),
    Variant("syntax-error", answers={"layer_gain": "def layer_gain(activation, n_in, std)\n    return n_in * std ** 2\n"},
            lose={"layer_gain_test": None}),
    Variant("correct-prediction-written-differently", answers={
        "prediction_sigmoid_gradient": prediction("prediction_sigmoid_gradient", '" Shrinks"'),
        "prediction_residual_gradient": prediction("prediction_residual_gradient", '"STAYS"')}),
    Variant("sigmoid-prediction-stays", answers={"prediction_sigmoid_gradient": prediction(
        "prediction_sigmoid_gradient", '"stays"')}, lose={"prediction_sigmoid_gradient_test": "reaches 1/4 only at z = 0"}),
    Variant("sigmoid-prediction-grows", answers={"prediction_sigmoid_gradient": prediction(
        "prediction_sigmoid_gradient", '"grows"')}, lose={"prediction_sigmoid_gradient_test": "reaches 1/4 only at z = 0"}),
    Variant("residual-prediction-shrinks", answers={"prediction_residual_gradient": prediction(
        "prediction_residual_gradient", '"shrinks"')}, lose={"prediction_residual_gradient_test": "I + W^T D"}),
    Variant("residual-prediction-not-a-choice", answers={"prediction_residual_gradient": prediction(
        "prediction_residual_gradient", '"near 1"')}, lose={"prediction_residual_gradient_test": None}),
    Variant("forward-tanh-and-relu-swapped", answers=forward('"tanh": np.tanh, "relu": lambda Z: np.maximum(Z, 0.0)',
                                                             '"tanh": lambda Z: np.maximum(Z, 0.0), "relu": np.tanh'),
            lose={"deep_forward_values": "instead of the one asked for"}),
    Variant("forward-activations-transposed", answers=forward("return activations",
                                                              "return [activations[0]] + [A.T for A in activations[1:]]"),
            lose={"deep_forward_contract": "A[l] transposed", "deep_forward_values": "A[l] transposed"}),
    Variant("backward-a-gradient-for-X", answers=backward("return grads", "return [np.zeros((1, 1))] + grads"),
            lose={item: "one gradient per weight matrix" for item in ("deep_backward_contract", "deep_backward_linear",
                                                                      "deep_backward_activations")}),
    Variant("identity-output-transposed", answers=edit("identity_net_output", "(W_out @ X)", "(W_out @ X).T"),
            lose={"identity_net_output_test": "Y transposed"}),
    Variant("identity-one-factor-too-few", answers=edit("identity_net_output", "a ** (L - 1)", "a ** (L - 2)"),
            lose={"identity_net_output_test": "one factor a too few"}),
    Variant("identity-adds-the-factors", answers=edit("identity_net_output", "a ** (L - 1)", "a * (L - 1)"),
            lose={"identity_net_output_test": "depth multiplies"}),
    Variant("identity-scale-without-sign", answers=edit("identity_net_output", "a ** (L - 1)", "abs(a) ** (L - 1)"),
            lose={"identity_net_output_test": None}),
    Variant("identity-one-layer-scaled", answers=edit("identity_net_output", "a ** (L - 1)", "(a ** (L - 1) if L > 1 else a)"),
            lose={"identity_net_output_test": None}),
    Variant("gain-of-the-rms", answers=edit("layer_gain", "gain = n_in * std ** 2", "gain = np.sqrt(n_in) * std"),
            lose={"layer_gain_test": "factor of the root mean square"}),
    Variant("gain-relu-kept-whole", answers=edit("layer_gain", "gain = gain / 2", "gain = gain"),
            lose={"layer_gain_test": "divide by 2 for relu"}),
    Variant("gain-tanh-halved", answers=edit("layer_gain", 'if activation == "relu":', 'if activation in ("relu", "tanh"):'),
            lose={"layer_gain_test": "only ReLU halves"}),
    Variant("untouched", untouched=True, lose_all=True),
]

