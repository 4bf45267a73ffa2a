"""The lesson 03 reference against independent oracles: per-example loops in plain Python
floats, centered differences, closed forms of linear networks, and Monte Carlo estimates
of the per-layer gain."""
import math
from functools import reduce

import numpy as np
import pytest

from autograder.judge import reference

SCALAR_G = {"linear": lambda z: z, "tanh": math.tanh, "relu": lambda z: max(z, 0.0)}


@pytest.fixture(scope="module")
def ref():
    return reference.load("03_vanishing_gradients")


def random_network(seed, widths, m, scale=1.0):
    rng = np.random.default_rng(seed)
    weights = [scale / np.sqrt(a) * rng.standard_normal((b, a)) for a, b in zip(widths[:-1], widths[1:])]
    return rng.standard_normal((widths[0], m)), weights


def loop_output(X, weights, activation):
    """The network's output, one example and one unit at a time."""
    n_out, m = weights[-1].shape[0], X.shape[1]
    out = np.empty((n_out, m))
    for i in range(m):
        a = [float(v) for v in X[:, i]]
        for W in weights:
            a = [SCALAR_G[activation](sum(W[r, c] * a[c] for c in range(len(a)))) for r in range(W.shape[0])]
        out[:, i] = a
    return out


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("activation", ["linear", "tanh", "relu"])
@pytest.mark.parametrize("widths,m", [([3, 3], 1), ([4, 6, 3, 2], 5), ([2, 1, 5, 3], 4)])
def test_forward_matches_a_loop_oracle_at_every_layer(ref, activation, widths, m):
    X, weights = random_network(len(widths) * 10 + m, widths, m)
    acts = ref["deep_forward"](X, weights, activation)
    assert type(acts) is list and len(acts) == len(weights) + 1
    np.testing.assert_array_equal(acts[0], X)
    for l in range(1, len(weights) + 1):
        assert acts[l].shape == (widths[l], m) and acts[l].dtype == np.float64
        np.testing.assert_allclose(acts[l], loop_output(X, weights[:l], activation), rtol=1e-12, atol=1e-14)


def test_forward_defaults_to_linear_and_a_linear_network_is_the_matrix_product(ref):
    X, weights = random_network(1, [5, 4, 6, 3], 7)
    out = ref["deep_forward"](X, weights)[-1]
    np.testing.assert_allclose(out, np.linalg.multi_dot(weights[::-1] + [X]), rtol=1e-12)


def test_forward_and_backward_leave_their_inputs_alone(ref):
    X, weights = random_network(2, [3, 4, 2], 5)
    dAL = np.random.default_rng(3).standard_normal((2, 5))
    copies = [X.copy(), dAL.copy()] + [W.copy() for W in weights]
    acts = ref["deep_forward"](X, weights, "relu")
    act_copies = [A.copy() for A in acts]
    ref["deep_backward"](dAL, weights, acts, "relu")
    assert all(np.array_equal(a, b) for a, b in zip([X, dAL] + weights, copies))
    assert all(np.array_equal(a, b) for a, b in zip(acts, act_copies))


@pytest.mark.parametrize("activation", ["linear", "tanh", "relu"])
@pytest.mark.parametrize("widths,m", [([4, 6, 3, 2], 5), ([3, 5], 1), ([2, 7, 1, 4, 3], 3)])
def test_backward_passes_a_centered_difference_check_through_the_loop_oracle(ref, activation, widths, m):
    X, weights = random_network(7 * len(widths) + m, widths, m, scale=1.5)
    dAL = np.random.default_rng(m).standard_normal((widths[-1], m))
    grads = ref["deep_backward"](dAL, weights, ref["deep_forward"](X, weights, activation), activation)
    assert type(grads) is list and [G.shape for G in grads] == [W.shape for W in weights]
    h = 1e-6
    # Written out, not lessonkit.gradcheck: the oracle stays independent of the code the checks use.
    for k, W in enumerate(weights):
        numeric = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            plus, minus = [w.copy() for w in weights], [w.copy() for w in weights]
            plus[k][idx] += h
            minus[k][idx] -= h
            numeric[idx] = np.sum(dAL * (loop_output(X, plus, activation) - loop_output(X, minus, activation))) / (2 * h)
        if np.linalg.norm(numeric) < 1e-10:  # a layer cut off by dead ReLUs
            assert np.linalg.norm(grads[k]) < 1e-10
        else:
            assert relative_error(grads[k], numeric) < 1e-7


def test_backward_of_a_linear_network_is_the_closed_form(ref):
    """dW[l] = (W[L] ... W[l+1])^T dAL (W[l-1] ... W[1] X)^T."""
    X, weights = random_network(4, [3, 5, 2, 4, 6], 8)
    dAL = np.random.default_rng(5).standard_normal((6, 8))
    grads = ref["deep_backward"](dAL, weights, ref["deep_forward"](X, weights))
    L = len(weights)
    for l in range(1, L + 1):
        above = reduce(lambda P, W: W @ P, weights[l:], np.eye(weights[l - 1].shape[0]))  # W[L] ... W[l+1]
        below = reduce(lambda A, W: W @ A, weights[:l - 1], X)  # W[l-1] ... W[1] X
        np.testing.assert_allclose(grads[l - 1], above.T @ dAL @ below.T, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("a", [0.5, 1.5])
def test_the_seed_network_gives_every_hidden_layer_the_same_gradient(ref, a):
    L, x, W_out = 9, np.ones((2, 1)), np.array([[0.5, 0.5]])
    weights = [a * np.eye(2)] * (L - 1) + [W_out]
    acts = ref["deep_forward"](x, weights)
    assert acts[-1].item() == pytest.approx(a ** (L - 1), rel=1e-12)
    grads = ref["deep_backward"](np.ones((1, 1)), weights, acts)
    for G in grads[:-1]:
        np.testing.assert_allclose(G, a ** (L - 2) * W_out.T @ x.T, rtol=1e-12)
    np.testing.assert_allclose(grads[-1], a ** (L - 1) * x.T, rtol=1e-12)


@pytest.mark.parametrize("a,L", [(1.5, 1), (1.5, 10), (0.5, 10), (-1.2, 7), (1.1, 80)])
def test_identity_net_output_equals_the_network_built_layer_by_layer(ref, a, L):
    rng = np.random.default_rng(L)
    X, W_out = rng.standard_normal((3, 4)), rng.standard_normal((2, 3))
    built = W_out @ np.linalg.matrix_power(a * np.eye(3), L - 1) @ X
    Y = ref["identity_net_output"](X, a, W_out, L)
    assert Y.shape == (2, 4) and Y.dtype == np.float64
    np.testing.assert_allclose(Y, built, rtol=1e-10)


def measured_gain(activation, n_in, std, rng, small=False, trials=400):
    """Mean square of g(W a) over mean square of a, averaged over random W (and inputs)."""
    ratios = []
    for _ in range(trials):
        a = rng.standard_normal((n_in, 1)) * (1e-3 if small else 1.0)
        if activation == "relu":
            a = np.abs(a)  # a ReLU layer's input is itself non-negative
        z = std * rng.standard_normal((50, n_in)) @ a
        ratios.append(np.mean(SCALAR_OUT[activation](z) ** 2) / np.mean(a ** 2))
    return float(np.mean(ratios))


SCALAR_OUT = {"linear": lambda z: z, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}


@pytest.mark.parametrize("activation,n_in,std", [("linear", 40, 0.3), ("relu", 40, 0.3), ("relu", 10, 1.0),
                                                 ("linear", 100, 0.05)])
def test_layer_gain_matches_a_monte_carlo_estimate(ref, activation, n_in, std):
    gain = ref["layer_gain"](activation, n_in, std)
    assert isinstance(gain, float)
    assert gain == pytest.approx(measured_gain(activation, n_in, std, np.random.default_rng(n_in)), rel=0.05)


def test_tanh_gain_is_the_small_activation_gain_and_an_upper_bound(ref):
    rng = np.random.default_rng(11)
    gain = ref["layer_gain"]("tanh", 30, 0.4)
    assert gain == pytest.approx(measured_gain("tanh", 30, 0.4, rng, small=True), rel=0.05)
    assert measured_gain("tanh", 30, 0.4, rng) < gain


# ---- training diagnostics -----------------------------------------------------------------

@pytest.mark.parametrize("C", [1, 2, 10, 1000])
def test_expected_initial_loss_is_the_cross_entropy_of_equal_scores(ref, C):
    """A network whose output scores are all equal: softmax gives 1/C, the loss of any true class."""
    scores = np.zeros(C)
    probs = np.exp(scores) / np.exp(scores).sum()
    assert ref["expected_initial_loss"](C) == pytest.approx(-math.log(probs[C // 2]), rel=1e-12, abs=1e-15)


def loop_diagnostics(activations, grads, weights, lr):
    """The diagnostics of each layer in plain Python floats, entry by entry."""
    out = {k: [] for k in ("act_mean", "act_std", "grad_std", "saturated", "dead", "update_ratio")}
    for A, dW, W in zip(activations[1:], grads, weights):
        a, d, w = A.ravel().tolist(), dW.ravel().tolist(), W.ravel().tolist()
        mean = sum(a) / len(a)
        d_mean = sum(d) / len(d)
        out["act_mean"].append(mean)
        out["act_std"].append(math.sqrt(sum((x - mean) ** 2 for x in a) / len(a)))
        out["grad_std"].append(math.sqrt(sum((x - d_mean) ** 2 for x in d) / len(d)))
        out["saturated"].append(sum(abs(x) > 0.97 for x in a) / len(a))
        out["dead"].append(sum(all(x == 0 for x in row) for row in A.tolist()) / A.shape[0])
        out["update_ratio"].append(lr * math.sqrt(sum(x * x for x in d)) / math.sqrt(sum(x * x for x in w)))
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("activation,scale,lr", [("tanh", 1.0, 0.1), ("tanh", 4.0, 0.3), ("relu", np.sqrt(2), 0.01),
                                                  ("relu", 0.5, 2.0)])
def test_layer_diagnostics_match_a_loop_oracle_on_a_real_forward_and_backward_pass(ref, activation, scale, lr):
    X, weights = random_network(31, [6, 9, 9, 9, 4], 12, scale)
    acts = ref["deep_forward"](X, weights, activation)
    grads = ref["deep_backward"](np.random.default_rng(32).standard_normal((4, 12)), weights, acts, activation)
    got, wanted = ref["layer_diagnostics"](acts, grads, weights, lr), loop_diagnostics(acts, grads, weights, lr)
    assert set(got) == set(wanted)
    for key in wanted:
        assert got[key].shape == (4,) and got[key].dtype == np.float64
        np.testing.assert_allclose(got[key], wanted[key], rtol=1e-10, atol=1e-14, err_msg=key)


def test_layer_diagnostics_see_saturation_and_dead_units_where_they_are():
    """Built cases with known answers: a tanh layer with 3 of 8 entries saturated, a ReLU layer with
    1 of 3 units zero on every example (and zeros elsewhere that are not dead units)."""
    ref = reference.load("03_vanishing_gradients")
    A1 = np.array([[0.99, -0.98, 0.5, 0.0], [0.2, 0.97, -1.0, 0.1]])  # |a| > 0.97: 0.99, -0.98, -1.0
    A2 = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 2.0, 0.0], [0.0, 3.0, 0.0, 0.0]])
    W1, W2 = np.full((2, 5), 2.0), np.full((3, 2), -1.0)
    dW1, dW2 = np.full((2, 5), 1e-3), np.full((3, 2), 0.5)
    d = ref["layer_diagnostics"]([np.ones((5, 4)), A1, A2], [dW1, dW2], [W1, W2], 0.1)
    np.testing.assert_allclose(d["saturated"], [3 / 8, 3 / 12])
    np.testing.assert_allclose(d["dead"], [0.0, 1 / 3])
    np.testing.assert_allclose(d["update_ratio"], [0.1 * 1e-3 / 2.0, 0.1 * 0.5 / 1.0])  # equal entries: ratio of entries
    np.testing.assert_allclose(d["grad_std"], [0.0, 0.0], atol=1e-18)
