"""The lesson 01 reference against independent oracles: plain-Python sums, the pairwise form
of the variance, second differences of the cost, the 2x2 eigenvalue formula, and gradient
descent itself (stable just below the predicted rate, divergent just above)."""
import math

import numpy as np
import pytest

from autograder.judge import reference
from lessonkit import least_squares as ls

EPS = 1e-8


@pytest.fixture(scope="module")
def ref():
    return reference.load("01_normalizing_inputs")


def data(seed, n, m, loc=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    return loc + scale * rng.standard_normal((n, m))


@pytest.mark.parametrize("n,m", [(1, 1), (4, 1), (1, 9), (3, 7), (6, 40)])
def test_statistics_match_plain_python_sums(ref, n, m):
    X = data(n * 10 + m, n, m, loc=5.0, scale=3.0)
    mu, var = ref["compute_mean_variance"](X)
    assert mu.shape == var.shape == (n, 1) and mu.dtype == var.dtype == np.float64
    for j in range(n):
        row = [float(x) for x in X[j]]
        mean = math.fsum(row) / m
        assert mu[j, 0] == pytest.approx(mean, rel=1e-13)
        assert var[j, 0] == pytest.approx(math.fsum((x - mean) ** 2 for x in row) / m, rel=1e-12, abs=1e-14)


def test_variance_is_half_the_mean_squared_pairwise_difference(ref):
    """Population variance = (1 / (2 m^2)) sum_i sum_k (x_i - x_k)^2, no mean needed."""
    X = data(1, 3, 11, loc=[[1e3], [0.0], [-2.0]], scale=[[10.0], [1.0], [1e-3]])
    _, var = ref["compute_mean_variance"](X)
    pairwise = ((X[:, :, None] - X[:, None, :]) ** 2).sum(axis=(1, 2)) / (2 * X.shape[1] ** 2)
    np.testing.assert_allclose(var.ravel(), pairwise, rtol=1e-10)


def test_normalized_training_set_has_mean_zero_and_unit_variance(ref):
    X = data(2, 5, 50, loc=[[1e4], [0.0], [3.0], [-7.0], [0.1]], scale=[[1e2], [1.0], [1e-2], [5.0], [1e-3]])
    X_norm = ref["normalize_inputs"](X, *ref["compute_mean_variance"](X))
    _, var = ref["compute_mean_variance"](X)
    np.testing.assert_allclose(X_norm.mean(axis=1), 0, atol=1e-9)
    np.testing.assert_allclose(X_norm.var(axis=1), (var / (var + EPS)).ravel(), rtol=1e-9)


def test_normalize_matches_a_loop_and_uses_the_given_statistics_and_eps(ref):
    X = data(3, 3, 4)
    mu, var = np.array([[1.0], [-2.0], [0.5]]), np.array([[4.0], [0.0], [0.25]])
    for eps in (EPS, 0.5):
        out = ref["normalize_inputs"](X, mu, var, eps)
        for j in range(3):
            for i in range(4):
                assert out[j, i] == pytest.approx((X[j, i] - mu[j, 0]) / math.sqrt(var[j, 0] + eps), rel=1e-13)


def test_constant_feature_maps_to_zero_and_stays_finite(ref):
    X = data(4, 3, 6)
    X[1] = 2.5
    X_norm = ref["normalize_inputs"](X, *ref["compute_mean_variance"](X))
    assert np.all(np.isfinite(X_norm)) and np.all(X_norm[1] == 0)


def test_graded_functions_leave_their_inputs_alone(ref):
    X, D, T = data(5, 3, 8), data(6, 3, 2), data(7, 3, 3)
    copies = [A.copy() for A in (X, D, T)]
    mu, var = ref["compute_mean_variance"](X)
    mu_c, var_c = mu.copy(), var.copy()
    ref["normalize_inputs"](X, mu, var)
    ref["normalize_splits"](X, D, T)
    ref["least_squares_hessian"](X)
    assert all(np.array_equal(a, c) for a, c in zip((X, D, T), copies))
    assert np.array_equal(mu, mu_c) and np.array_equal(var, var_c)


def test_splits_use_training_statistics_example_by_example(ref):
    """A dev example's normalized value depends on the training set and on itself only."""
    X_train, X_dev, X_test = data(8, 4, 30), data(9, 4, 7, loc=2.0, scale=3.0), data(10, 4, 1, loc=-1.0)
    train_n, dev_n, test_n = ref["normalize_splits"](X_train, X_dev, X_test)
    np.testing.assert_allclose(train_n.mean(axis=1), 0, atol=1e-12)
    for i in range(X_dev.shape[1]):
        _, alone, _ = ref["normalize_splits"](X_train, X_dev[:, i:i + 1], X_test)
        np.testing.assert_allclose(alone[:, 0], dev_n[:, i], rtol=1e-14)
    mean = X_train.sum(axis=1) / X_train.shape[1]
    sd = np.sqrt(((X_train - mean[:, None]) ** 2).sum(axis=1) / X_train.shape[1] + EPS)
    np.testing.assert_allclose(test_n[:, 0], (X_test[:, 0] - mean) / sd, rtol=1e-12)


def explicit_cost(theta, X, y):
    """J(w, b) one example at a time, theta = (w, b)."""
    w, b = theta[:-1], theta[-1]
    return sum((float(w @ X[:, i]) + b - y[i]) ** 2 for i in range(X.shape[1])) / (2 * X.shape[1])


@pytest.mark.parametrize("n,m", [(1, 4), (2, 6), (3, 1)])
def test_hessian_equals_second_differences_of_the_cost(ref, n, m):
    X, y = data(20 + n, n, m, loc=1.5), data(30 + m, 1, m)[0]
    H = ref["least_squares_hessian"](X)
    p, h = n + 1, 1e-2  # the cost is quadratic: second differences are exact up to rounding
    theta = np.random.default_rng(3).standard_normal(p)
    numeric = np.zeros((p, p))
    for j in range(p):
        for k in range(p):
            ej, ek = np.eye(p)[j] * h, np.eye(p)[k] * h
            numeric[j, k] = (explicit_cost(theta + ej + ek, X, y) - explicit_cost(theta + ej - ek, X, y)
                             - explicit_cost(theta - ej + ek, X, y) + explicit_cost(theta - ej - ek, X, y)) / (4 * h * h)
    np.testing.assert_allclose(H, numeric, rtol=1e-7, atol=1e-9)


def test_conditioning_of_a_2x2_matches_the_closed_form(ref):
    a, b, c = 5.0, 1.5, 0.8
    root = math.sqrt(((a - c) / 2) ** 2 + b ** 2)
    lam_max, lam_min = (a + c) / 2 + root, (a + c) / 2 - root
    kappa, rate = ref["conditioning"](np.array([[a, b], [b, c]]))
    assert type(kappa) is float and type(rate) is float
    assert kappa == pytest.approx(lam_max / lam_min, rel=1e-12)
    assert rate == pytest.approx(2 / lam_max, rel=1e-12)


def test_predicted_rate_separates_convergence_from_divergence(ref):
    """Gradient descent converges just below 2 / lambda_max and diverges just above it."""
    X = data(40, 3, 60, loc=[[10.0], [0.0], [-3.0]], scale=[[5.0], [0.2], [1.0]])
    y = data(41, 1, 60)[0]
    _, rate = ref["conditioning"](ref["least_squares_hessian"](X))
    A = ls.with_bias_row(X)
    below = ls.gradient_descent(A, y, 0.98 * rate, 3000)
    above = ls.gradient_descent(A, y, 1.02 * rate, 3000)
    assert not below.diverged and below.costs[-1] < below.costs[0]
    assert above.diverged


def test_normalization_lowers_the_condition_number_on_real_data(ref):
    from lessonkit.data import load_breast_cancer
    X, _, _ = load_breast_cancer()
    raw, _ = ref["conditioning"](ref["least_squares_hessian"](X))
    normalized, _ = ref["conditioning"](ref["least_squares_hessian"](ref["normalize_splits"](X, X, X)[0]))
    assert raw > 1e11 and normalized < 1e6 and raw / normalized > 1e6
