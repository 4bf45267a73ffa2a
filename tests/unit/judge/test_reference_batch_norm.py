"""The lesson 02 reference against independent oracles: explicit loops, centered
differences, and the running-statistics convention written out by hand (PyTorch's)."""
import numpy as np
import pytest

from autograder.judge import reference
from lessonkit.gradcheck import centered_differences

EPS = 1e-5


@pytest.fixture(scope="module")
def ref():
    return reference.load("02_batch_norm")


def loop_forward(Z, gamma, beta, eps=EPS):
    """Batch norm one unit and one example at a time, in plain Python floats."""
    n, m = Z.shape
    out = np.empty((n, m))
    for j in range(n):
        mean = sum(Z[j]) / m
        var = sum((z - mean) ** 2 for z in Z[j]) / m
        for i in range(m):
            out[j, i] = gamma[j, 0] * (Z[j, i] - mean) / (var + eps) ** 0.5 + beta[j, 0]
    return out


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("n,m", [(1, 1), (3, 1), (4, 7), (6, 32)])
def test_forward_matches_a_loop_oracle(ref, n, m):
    rng = np.random.default_rng(n * 100 + m)
    Z, gamma, beta = 5 + 3 * rng.standard_normal((n, m)), rng.uniform(0.5, 2, (n, 1)), rng.standard_normal((n, 1))
    Z_tilde, _ = ref["batchnorm_forward"](Z, gamma, beta)
    assert Z_tilde.shape == (n, m) and Z_tilde.dtype == np.float64
    np.testing.assert_allclose(Z_tilde, loop_forward(Z, gamma, beta), rtol=1e-12, atol=1e-12)


def test_forward_leaves_its_inputs_alone(ref):
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((3, 5)), rng.standard_normal((3, 1)), rng.standard_normal((3, 1))]
    copies = [a.copy() for a in args]
    ref["batchnorm_forward"](*args)
    assert all(np.array_equal(a, c) for a, c in zip(args, copies))


def test_identity_is_recovered_with_gamma_std_and_beta_mean(ref):
    Z = 7 + 3 * np.random.default_rng(1).standard_normal((5, 10))
    gamma, beta = np.sqrt(Z.var(axis=1, keepdims=True) + EPS), Z.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(ref["batchnorm_forward"](Z, gamma, beta)[0], Z, rtol=1e-12)


@pytest.mark.parametrize("n,m", [(2, 3), (4, 8), (3, 1)])
def test_backward_passes_a_centered_difference_gradient_check(ref, n, m):
    rng = np.random.default_rng(7 * n + m)
    Z, gamma, beta = 2 + rng.standard_normal((n, m)), rng.uniform(0.5, 2, (n, 1)), rng.standard_normal((n, 1))
    dZ_tilde = rng.standard_normal((n, m))
    dZ, dgamma, dbeta = ref["batchnorm_backward"](dZ_tilde, ref["batchnorm_forward"](Z, gamma, beta)[1])

    def loss(Z_, g_, b_):
        return np.sum(dZ_tilde * loop_forward(Z_, g_, b_))

    for analytic, numeric, k in zip((dZ, dgamma, dbeta), centered_differences(loss, [Z, gamma, beta]), range(3)):
        if m == 1 and k == 0:  # one example: Z_tilde = beta, the gradient is exactly zero
            assert np.abs(analytic).max() < 1e-12
        else:
            assert relative_error(analytic, numeric) < 1e-7


def test_running_stats_follow_the_pytorch_convention(ref):
    """PyTorch: running = (1 - momentum_torch) * running + momentum_torch * batch, with the
    unbiased batch variance; our momentum is 1 - momentum_torch."""
    rng = np.random.default_rng(3)
    n, m, momentum_torch = 4, 6, 0.1
    mean, var = np.zeros((n, 1)), np.ones((n, 1))
    expected_mean, expected_var = mean.copy(), var.copy()
    for _ in range(5):
        Z = 3 + 2 * rng.standard_normal((n, m))
        mean, var = ref["update_running_stats"](mean, var, Z, momentum=1 - momentum_torch)
        for j in range(n):
            batch_mean = sum(Z[j]) / m
            unbiased = sum((z - batch_mean) ** 2 for z in Z[j]) / (m - 1)
            expected_mean[j] = (1 - momentum_torch) * expected_mean[j] + momentum_torch * batch_mean
            expected_var[j] = (1 - momentum_torch) * expected_var[j] + momentum_torch * unbiased
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(var, expected_var, rtol=1e-12)


def test_running_averages_converge_to_the_population_statistics(ref):
    rng = np.random.default_rng(4)
    mean, var = np.zeros((2, 1)), np.ones((2, 1))
    for _ in range(3000):
        Z = np.array([[10.0], [-2.0]]) + np.array([[3.0], [0.5]]) * rng.standard_normal((2, 4))
        mean, var = ref["update_running_stats"](mean, var, Z, momentum=0.99)
    np.testing.assert_allclose(mean.ravel(), [10, -2], atol=0.3)
    np.testing.assert_allclose(var.ravel(), [9, 0.25], rtol=0.15)  # biased would give 3/4 of these


def test_inference_with_batch_statistics_as_running_stats_equals_training_mode(ref):
    rng = np.random.default_rng(5)
    Z, gamma, beta = rng.standard_normal((3, 9)), rng.uniform(0.5, 2, (3, 1)), rng.standard_normal((3, 1))
    out = ref["batchnorm_inference"](Z, gamma, beta, Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True))
    np.testing.assert_allclose(out, loop_forward(Z, gamma, beta), rtol=1e-12)


# ---- layer norm ---------------------------------------------------------------------------

def loop_layernorm(Z, gamma, beta, eps=EPS):
    """Layer norm one example (column) and one unit at a time, in plain Python floats."""
    n, m = Z.shape
    out = np.empty((n, m))
    for i in range(m):
        mean = sum(Z[:, i]) / n
        var = sum((z - mean) ** 2 for z in Z[:, i]) / n
        for j in range(n):
            out[j, i] = gamma[j, 0] * (Z[j, i] - mean) / (var + eps) ** 0.5 + beta[j, 0]
    return out


@pytest.mark.parametrize("n,m", [(1, 1), (1, 4), (6, 1), (4, 7), (32, 6)])
def test_layernorm_forward_matches_a_loop_oracle(ref, n, m):
    rng = np.random.default_rng(n * 100 + m + 1)
    Z = rng.normal(0, 5, (1, m)) + rng.uniform(0.5, 3, (1, m)) * rng.standard_normal((n, m))
    gamma, beta = rng.uniform(0.5, 2, (n, 1)), rng.standard_normal((n, 1))
    Z_tilde, _ = ref["layernorm_forward"](Z, gamma, beta)
    assert Z_tilde.shape == (n, m) and Z_tilde.dtype == np.float64
    np.testing.assert_allclose(Z_tilde, loop_layernorm(Z, gamma, beta), rtol=1e-12, atol=1e-12)


def test_layernorm_is_batch_norm_of_the_transpose(ref):
    """With gamma = 1 and beta = 0, normalizing the examples over their units is normalizing the units of Z.T."""
    Z = 3 + 2 * np.random.default_rng(8).standard_normal((5, 9))
    ln, _ = ref["layernorm_forward"](Z, np.ones((5, 1)), np.zeros((5, 1)))
    bn, _ = ref["batchnorm_forward"](Z.T, np.ones((9, 1)), np.zeros((9, 1)))
    np.testing.assert_allclose(ln, bn.T, rtol=1e-12, atol=1e-12)


def test_layernorm_of_an_example_ignores_the_rest_of_the_batch_and_earlier_calls(ref):
    rng = np.random.default_rng(9)
    Z, gamma, beta = rng.standard_normal((6, 10)), rng.uniform(0.5, 2, (6, 1)), rng.standard_normal((6, 1))
    whole = ref["layernorm_forward"](Z, gamma, beta)[0]
    ref["layernorm_forward"](100 + 50 * rng.standard_normal((6, 3)), gamma, beta)  # another batch in between
    for i in range(10):
        np.testing.assert_allclose(ref["layernorm_forward"](Z[:, i:i + 1], gamma, beta)[0], whole[:, i:i + 1],
                                   rtol=1e-12, atol=1e-12)


def test_layernorm_forward_leaves_its_inputs_alone(ref):
    rng = np.random.default_rng(10)
    args = [rng.standard_normal((4, 5)), rng.standard_normal((4, 1)), rng.standard_normal((4, 1))]
    copies = [a.copy() for a in args]
    ref["layernorm_forward"](*args)
    assert all(np.array_equal(a, c) for a, c in zip(args, copies))


@pytest.mark.parametrize("n,m", [(3, 2), (8, 4), (5, 1), (1, 3)])
def test_layernorm_backward_passes_a_centered_difference_gradient_check(ref, n, m):
    rng = np.random.default_rng(11 * n + m)
    Z, gamma, beta = 2 + rng.standard_normal((n, m)), rng.uniform(0.5, 2, (n, 1)), rng.standard_normal((n, 1))
    dZ_tilde = rng.standard_normal((n, m))
    dZ, dgamma, dbeta = ref["layernorm_backward"](dZ_tilde, ref["layernorm_forward"](Z, gamma, beta)[1])

    def loss(Z_, g_, b_):
        return np.sum(dZ_tilde * loop_layernorm(Z_, g_, b_))

    numeric = centered_differences(loss, [Z, gamma, beta])
    for k, (analytic, num) in enumerate(zip((dZ, dgamma, dbeta), numeric)):
        if n == 1 and k < 2:  # one unit: Z_tilde = beta, these gradients are exactly zero
            assert np.abs(analytic).max() < 1e-12
        else:
            assert relative_error(analytic, num) < 1e-7


# ---- group norm ---------------------------------------------------------------------------

def loop_groupnorm(Z, gamma, beta, G, eps=EPS):
    """Group norm one example, one group and one unit at a time, in plain Python floats; group g is
    the units g * k, ..., (g + 1) * k - 1 with k = n // G (Wu & He's grouping of channels)."""
    n, m = Z.shape
    k = n // G
    out = np.empty((n, m))
    for i in range(m):
        for g in range(G):
            units = range(g * k, (g + 1) * k)
            mean = sum(Z[j, i] for j in units) / k
            var = sum((Z[j, i] - mean) ** 2 for j in units) / k
            for j in units:
                out[j, i] = gamma[j, 0] * (Z[j, i] - mean) / (var + eps) ** 0.5 + beta[j, 0]
    return out


def grouped_batch(rng, n, m, G):
    """Z (n, m) with its own mean and spread per group and example; random gamma, beta."""
    shift, spread = rng.normal(0, 5, (G, 1, m)), rng.uniform(0.5, 3, (G, 1, m))
    Z = (shift + spread * rng.standard_normal((G, n // G, m))).reshape(n, m)
    return Z, rng.uniform(0.5, 2, (n, 1)), rng.standard_normal((n, 1))


@pytest.mark.parametrize("n,m,G", [(1, 3, 1), (6, 1, 3), (8, 5, 2), (8, 5, 4), (12, 4, 6), (32, 3, 8)])
def test_groupnorm_forward_matches_a_loop_oracle(ref, n, m, G):
    Z, gamma, beta = grouped_batch(np.random.default_rng(n * 100 + m * 10 + G), n, m, G)
    Z_tilde, _ = ref["groupnorm_forward"](Z, gamma, beta, G)
    assert Z_tilde.shape == (n, m) and Z_tilde.dtype == np.float64
    np.testing.assert_allclose(Z_tilde, loop_groupnorm(Z, gamma, beta, G), rtol=1e-12, atol=1e-12)


def test_groupnorm_ends_are_layer_norm_and_instance_norm(ref):
    """G = 1 is layer norm; G = n normalizes each unit alone: one number, so Z_tilde = beta."""
    Z, gamma, beta = grouped_batch(np.random.default_rng(12), 6, 7, 1)
    np.testing.assert_allclose(ref["groupnorm_forward"](Z, gamma, beta, 1)[0], loop_layernorm(Z, gamma, beta),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ref["groupnorm_forward"](Z, gamma, beta, 6)[0], np.broadcast_to(beta, Z.shape),
                               rtol=0, atol=1e-12)


def test_groupnorm_is_layer_norm_of_each_group_alone(ref):
    Z, gamma, beta = grouped_batch(np.random.default_rng(13), 12, 5, 3)
    whole = ref["groupnorm_forward"](Z, gamma, beta, 3)[0]
    for g in range(3):
        rows = slice(4 * g, 4 * g + 4)
        np.testing.assert_allclose(whole[rows], loop_layernorm(Z[rows], gamma[rows], beta[rows]), rtol=1e-12, atol=1e-12)


def test_groupnorm_forward_leaves_its_inputs_alone_and_keeps_nothing_between_calls(ref):
    rng = np.random.default_rng(14)
    args = list(grouped_batch(rng, 8, 6, 2))
    copies = [a.copy() for a in args]
    first = ref["groupnorm_forward"](*args, 2)[0]
    ref["groupnorm_forward"](100 + 50 * rng.standard_normal((8, 3)), args[1], args[2], 4)
    assert all(np.array_equal(a, c) for a, c in zip(args, copies))
    np.testing.assert_array_equal(ref["groupnorm_forward"](*args, 2)[0], first)


@pytest.mark.parametrize("n,m,G", [(6, 3, 2), (8, 2, 4), (5, 4, 1), (9, 1, 3)])
def test_groupnorm_backward_passes_a_centered_difference_gradient_check(ref, n, m, G):
    rng = np.random.default_rng(15 * n + m + G)
    Z, gamma, beta = grouped_batch(rng, n, m, G)
    dZ_tilde = rng.standard_normal((n, m))
    dZ, dgamma, dbeta = ref["groupnorm_backward"](dZ_tilde, ref["groupnorm_forward"](Z, gamma, beta, G)[1])

    def loss(Z_, g_, b_):
        return np.sum(dZ_tilde * loop_groupnorm(Z_, g_, b_, G))

    for analytic, num in zip((dZ, dgamma, dbeta), centered_differences(loss, [Z, gamma, beta])):
        assert relative_error(analytic, num) < 1e-7
