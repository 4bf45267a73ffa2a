"""Lesson 01, normalizing inputs: the graded items and their properties.

Conventions checked (see the lesson): examples are columns, X is (n_x, m); mu and var are
(n_x, 1) columns, var the population (1/m) variance; X_norm = (X - mu) / sqrt(var + eps)
with the mu and var passed in (the training statistics); the least-squares Hessian is over
theta = (w, b), the bias last. Tolerances: relative 1e-6, absolute 1e-8.

Contract items (types, shapes, dtype, inputs untouched) are separate from value items,
and value items call the student's functions on copies of the inputs, so one mistake
costs one item: a wrong shape costs the contract, a wrong value the values.
`normalize_splits` runs through the student's two helpers, so it is judged on the raw sets
against the training statistics: a helper mistake that changes its numbers costs it too.
"""
import numpy as np

from autograder.checks import Failure, Item, case_seed, expect_array, expect_close, expect_ndarray, expect_tuple, prediction_item
from autograder.worker import wire

#: This lesson's graded items, in the master's order (`checks.items` reads them).
ITEMS = []

EPS = 1e-8
SETS = ("train", "dev", "test")


def features(seed, n, m, loc=0.0, scale=1.0, constant_row=None, value=3.0):
    """A random X of shape (n, m), drawn from `case_seed(seed)`; `loc` and `scale` may be per-feature sequences."""
    rng = np.random.default_rng(case_seed(seed))
    loc = np.broadcast_to(np.asarray(loc, dtype=np.float64), (n,))[:, None]
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,))[:, None]
    X = loc + scale * rng.standard_normal((n, m))
    if constant_row is not None:
        X[constant_row] = value
    return X


def column_stats(X):
    """Mean and population variance of each row, written as sums (the checks' own oracle)."""
    m = X.shape[1]
    mean = X.sum(axis=1)[:, None] / m
    return mean, ((X - mean) ** 2).sum(axis=1)[:, None] / m


def standardized(X, mean, variance, eps):
    return (X - mean) * (variance + eps) ** -0.5


def expect_form(value, name, shape):
    """Type, shape and dtype only: NaN or inf values are the value items' business."""
    expect_array(np.nan_to_num(value) if type(value) is np.ndarray else value, name, shape)


def expect_finite(value, name, row_name="feature"):
    bad = ~np.isfinite(value)
    if np.any(bad):
        row = int(np.argwhere(bad)[0][0])
        raise Failure(f"{name} contains NaN or inf ({row_name} {row} first)")


def quietly(wrong):
    """A known-wrong implementation, without numpy's division warnings."""
    def run(**inputs):
        with np.errstate(all="ignore"):
            return wrong(**inputs)
    return run


# ---- compute_mean_variance -------------------------------------------------------------

def run_mean_variance(compute_mean_variance, X):
    return compute_mean_variance(X)


def run_mean_variance_on_copy(compute_mean_variance, X):
    mu, var = compute_mean_variance(X.copy())
    return mu, var


def as_column(value):
    """A vector-like array as an (n, 1) float64 column (values items forgive the shape)."""
    if type(value) is np.ndarray and value.ndim <= 2 and (value.ndim < 2 or 1 in value.shape):
        return value.reshape(-1, 1).astype(np.float64)
    return value


def project_mean_variance(result):
    if type(result) is tuple and len(result) == 2:
        return tuple(as_column(v) for v in result)
    return result


def mean_variance_contract(inputs, result):
    n = inputs["X"].shape[0]
    mu, var = expect_tuple(result, "compute_mean_variance", 2)
    expect_form(mu, "mu", (n, 1))
    expect_form(var, "var", (n, 1))


def expect_per_feature(value, name, n):
    """An array with one entry per feature (any vector shape); returned as an (n, 1) column."""
    expect_ndarray(value, name)
    column = as_column(value)
    if type(column) is not np.ndarray or column.shape != (n, 1):
        raise Failure(f"{name} should hold one value per feature (n_x = {n} rows of X), "
                      f"got an array of shape {value.shape}")
    expect_finite(column, name)
    return column


def mean_variance_values(inputs, result):
    X = inputs["X"]
    n, m = X.shape
    mu, var = (expect_per_feature(v, name, n) for v, name in zip(result, ("mu", "var")))
    mean, variance = column_stats(X)
    expect_close(mu, mean, "mu should be the mean of each feature (row of X) over the m examples")
    expect_close(var, variance, f"var should be the population variance of each feature, "
                 f"(1/m) sum_i (x_i - mu)^2 with m = {m}", atol=1e-10)


def mean_variance_mistakes():
    def over_examples(X):
        return X.mean(axis=0).reshape(-1, 1), X.var(axis=0).reshape(-1, 1)

    def sample(X):
        return X.mean(axis=1)[:, None], X.var(axis=1, ddof=1)[:, None]

    def uncentered(X):
        return X.mean(axis=1)[:, None], (X ** 2).mean(axis=1)[:, None]

    def standard_deviation(X):
        return X.mean(axis=1)[:, None], X.std(axis=1)[:, None]

    return [
        ("wrong axis", "statistics over the wrong axis: average over the examples (axis=1, the columns), "
         "one mean and one variance per feature", quietly(over_examples)),
        ("sample variance", "the sample variance 1/(m-1); normalization uses the population variance "
         "1/m (np.var's default, ddof=0)", quietly(sample)),
        ("uncentered", "the mean of the squares without subtracting the mean: (1/m) sum x^2 is the "
         "variance only once X is centered", quietly(uncentered)),
        ("standard deviation", "returned the standard deviation as var; var is its square", quietly(standard_deviation)),
    ]


def mean_variance_cases():
    return [("X of shape (3, 5)", {"X": features(1, 3, 5, loc=2.0)}),
            ("X of shape (2, 8), features of scales 1000 and 0.01", {"X": features(2, 2, 8, [500.0, 0.1], [1e3, 1e-2])}),
            ("X of shape (2, 12) with values near 5e4 (spread 30)", {"X": features(13, 2, 12, 5e4, 30.0)})]


ITEMS.append(Item(grade_id="mean_variance_contract", functions=["compute_mean_variance"], run=run_mean_variance,
                  properties=mean_variance_contract, visible_cases=mean_variance_cases,
                  mistakes=mean_variance_mistakes()[:1], project=project_mean_variance, compare=False))
ITEMS.append(Item(grade_id="mean_variance_values", functions=["compute_mean_variance"], run=run_mean_variance_on_copy,
                  properties=mean_variance_values, visible_cases=mean_variance_cases, mistakes=mean_variance_mistakes(),
                  project=project_mean_variance))


# ---- normalize_inputs ------------------------------------------------------------------

def run_normalize(normalize_inputs, X, mu, var, eps):
    return normalize_inputs(X, mu, var, eps=eps)


def run_normalize_on_copy(normalize_inputs, X, mu, var, eps):
    return normalize_inputs(X.copy(), mu.copy(), var.copy(), eps=eps)


def normalize_contract(inputs, result):
    expect_form(result, "X_norm", inputs["X"].shape)


def normalize_values(inputs, X_norm):
    X, mu, var, eps = inputs["X"], inputs["mu"], inputs["var"], inputs["eps"]
    expect_form(X_norm, "X_norm", X.shape)
    expect_finite(X_norm, "X_norm")
    expect_close(X_norm, standardized(X, mu, var, eps),
                 f"X_norm should be (X - mu) / sqrt(var + eps) with the mu, var and eps = {eps:g} passed in")


def normalize_mistakes():
    def by_variance(X, mu, var, eps):
        return (X - mu) / (var + eps)

    def no_eps(X, mu, var, eps):
        return (X - mu) / np.sqrt(var)

    def eps_outside(X, mu, var, eps):
        return (X - mu) / (np.sqrt(var) + eps)

    def own_statistics(X, mu, var, eps):
        mean, variance = column_stats(X)
        return standardized(X, mean, variance, eps)

    def default_eps(X, mu, var, eps):
        return standardized(X, mu, var, EPS)

    # "eps ignored" before "no eps": with eps = 1e-8 and var > 0 the two are indistinguishable
    return [
        ("divide by variance", "dividing by the variance instead of the standard deviation sqrt(var + eps) "
         "(as in common notes: `X /= variance`)", quietly(by_variance)),
        ("eps ignored", "the eps argument is ignored: use the eps passed in, not a constant", quietly(default_eps)),
        ("no eps", "eps left out of the square root: a feature with zero variance divides by zero",
         quietly(no_eps)),
        ("eps outside", "eps added outside the square root; divide by sqrt(var + eps)", quietly(eps_outside)),
        ("own statistics", "normalizing X with its own mean and variance instead of the mu and var passed in "
         "(the training statistics)", quietly(own_statistics)),
    ]


def normalize_case(seed, n, m_train, m, eps=EPS, shift=0.5, constant_row=None, value=3.0, loc=0.0, scale=1.0,
                   at=None):
    """X from a shifted distribution, normalized with the statistics of a training set.

    With `constant_row`, that feature is constant (`value`) in the training set (variance 0);
    in X it equals `at` (default: the same constant).
    """
    train = features(seed, n, m_train, loc, scale, constant_row, value)
    X = features(seed + 1000, n, m, np.asarray(loc) + shift * np.asarray(scale), scale, constant_row,
                 value if at is None else at)
    mu, var = column_stats(train)
    if constant_row is not None:
        mu[constant_row], var[constant_row] = value, 0.0
    return {"X": X, "mu": mu, "var": var, "eps": eps}


def normalize_cases():
    return [("X of shape (3, 6), normalized with the statistics of a training set", normalize_case(3, 3, 20, 6)),
            ("X of shape (4, 5) whose feature 1 was constant in training (var = 0)",
             normalize_case(4, 4, 10, 5, constant_row=1)),
            ("X of shape (3, 4), eps = 0.25 (large enough to matter)", normalize_case(11, 3, 15, 4, eps=0.25))]


ITEMS.append(Item(grade_id="normalize_inputs_contract", functions=["normalize_inputs"], run=run_normalize,
                  properties=normalize_contract, visible_cases=normalize_cases, compare=False))
ITEMS.append(Item(grade_id="normalize_inputs_values", functions=["normalize_inputs"], run=run_normalize_on_copy,
                  properties=normalize_values, visible_cases=normalize_cases, mistakes=normalize_mistakes()))


# ---- normalize_splits ------------------------------------------------------------------

def run_splits(compute_mean_variance, normalize_inputs, normalize_splits, X_train, X_dev, X_test, eps):
    """normalize_splits on copies of the raw sets.

    The two helpers are not called here: normalize_splits calls them by name, and they are
    judged by their own items on inputs the checks provide. Its output is judged against
    the statistics of the raw training set, so a helper whose mistake changes its numbers
    costs this item too (the feedback then says to fix that helper first).
    """
    return normalize_splits(X_train.copy(), X_dev.copy(), X_test.copy(), eps=eps)


def splits_values(inputs, out):
    sets = [inputs[f"X_{s}"] for s in SETS]
    out = expect_tuple(out, "normalize_splits", 3)
    for s, A, A_norm in zip(SETS, sets, out):
        expect_form(A_norm, f"X_{s}_n", A.shape)
    mean, variance = column_stats(inputs["X_train"])
    for s, A, A_norm in zip(SETS, sets, out):
        expect_finite(A_norm, f"X_{s}_n")
        expect_close(A_norm, standardized(A, mean, variance, inputs["eps"]),
                     f"X_{s}_n should be X_{s} normalized with the mean and variance of the training set "
                     f"(X_{s} - mu_train) / sqrt(var_train + eps)")


def splits_mistakes():
    def own_statistics(X_train, X_dev, X_test, eps):
        return tuple(standardized(A, *column_stats(A), eps) for A in (X_train, X_dev, X_test))

    def pooled(X_train, X_dev, X_test, eps):
        stats = column_stats(np.concatenate([X_train, X_dev, X_test], axis=1))
        return tuple(standardized(A, *stats, eps) for A in (X_train, X_dev, X_test))

    def default_eps(X_train, X_dev, X_test, eps):
        stats = column_stats(X_train)
        return tuple(standardized(A, *stats, EPS) for A in (X_train, X_dev, X_test))

    return [
        ("own statistics", "normalizing each set with its own statistics; dev and test must reuse the "
         "training mean and variance (a model's input must not depend on which other examples share its set)",
         quietly(own_statistics)),
        ("pooled statistics", "statistics of train, dev and test pooled together: the dev and test sets "
         "leak into the preprocessing; compute mu and var on the training set only", quietly(pooled)),
        ("eps ignored", "the eps argument is not passed on to normalize_inputs", quietly(default_eps)),
    ]


def splits_case(seed, n, sizes, eps=EPS, loc=0.0, scale=1.0, constant_row=None):
    """Train, dev and test sets of the given sizes; dev and test come from shifted distributions."""
    loc, scale = np.asarray(loc, dtype=np.float64), np.asarray(scale, dtype=np.float64)
    inputs = {}
    for k, (s, m) in enumerate(zip(SETS, sizes)):
        inputs[f"X_{s}"] = features(seed + k, n, m, loc + 0.3 * k * scale, (1 + 0.5 * k) * scale, constant_row)
    inputs["eps"] = eps
    return inputs


def splits_cases():
    return [("train (3, 12), dev (3, 4), test (3, 5)", splits_case(5, 3, (12, 4, 5))),
            ("train (2, 9), dev (2, 3), test (2, 1), features of scales 100 and 0.1",
             splits_case(6, 2, (9, 3, 1), loc=[50.0, 0.0], scale=[100.0, 0.1])),
            ("train (3, 8), dev (3, 3), test (3, 2), eps = 0.5 (large enough to matter)",
             splits_case(12, 3, (8, 3, 2), eps=0.5))]


ITEMS.append(Item(grade_id="normalize_splits_train_stats",
                  functions=["compute_mean_variance", "normalize_inputs", "normalize_splits"], run=run_splits,
                  properties=splits_values, visible_cases=splits_cases, mistakes=splits_mistakes(),
                  depends_on=["mean_variance_contract", "mean_variance_values", "normalize_inputs_contract",
                              "normalize_inputs_values"]))


# ---- least_squares_hessian -------------------------------------------------------------

def run_hessian(least_squares_hessian, X):
    return least_squares_hessian(X)


def hessian_values(inputs, H):
    X = inputs["X"]
    n, m = X.shape
    if type(H) is np.ndarray and H.shape == (n, n):
        raise Failure(f"H should have shape {(n + 1, n + 1)} (n_x + 1 parameters: w and b), got {H.shape}",
                      "the bias is a parameter too: stack a row of ones under X before multiplying")
    if type(H) is np.ndarray and H.shape == (m, m) and m != n + 1:
        raise Failure(f"H should have shape {(n + 1, n + 1)}, got {H.shape}",
                      "multiplied X^T X (examples by examples); examples are columns, so the Hessian is "
                      "X X^T / m over the parameters")
    expect_array(H, "H", (n + 1, n + 1))
    expect_close(H, H.T, "H should be symmetric (d2J/dtheta_j dtheta_k = d2J/dtheta_k dtheta_j)", row_name="row")
    second_moments = np.einsum("im,jm->ij", X, X) / m
    expect_close(H[:n, :n], second_moments, "the block of second derivatives in w, H[:n_x, :n_x], should be "
                 "X X^T / m", row_name="row")
    expect_close(H[:n, n:], X.mean(axis=1, keepdims=True), "the last column, d2J/dw_j db, should hold the mean "
                 "of each feature", row_name="row")
    expect_close(H[n:, n:], np.ones((1, 1)), "the bottom-right entry, d2J/db2, should be 1", row_name="row")


def hessian_mistakes():
    def not_averaged(X):
        A = np.concatenate([X, np.ones((1, X.shape[1]))])
        return A @ A.T

    def bias_first(X):
        A = np.concatenate([np.ones((1, X.shape[1])), X])
        return A @ A.T / X.shape[1]

    return [("not averaged", "forgot to divide by m: the cost is an average over the examples",
             not_averaged),
            ("bias first", "the bias row is placed first; the parameters are ordered theta = (w, b), "
             "the bias last", bias_first)]


def hessian_cases():
    return [("X of shape (2, 6)", {"X": features(7, 2, 6)}),
            ("X of shape (2, 1), one example", {"X": features(14, 2, 1, loc=[1.0, -3.0])}),
            ("X of shape (3, 10), features of means 5, -2, 100", {"X": features(8, 3, 10, [5.0, -2.0, 100.0],
                                                                                  [1.0, 0.5, 20.0])})]


ITEMS.append(Item(grade_id="hessian_values", functions=["least_squares_hessian"], run=run_hessian,
                  properties=hessian_values, visible_cases=hessian_cases, mistakes=hessian_mistakes()))


# ---- conditioning ----------------------------------------------------------------------

def run_conditioning(conditioning, H):
    return conditioning(H)


def real_number(value):
    return isinstance(value, (float, np.floating)) and np.dtype(type(value)) == np.float64


def project_conditioning(result):
    if type(result) is tuple and len(result) == 2 and all(real_number(v) for v in result):
        return tuple(float(v) for v in result)
    return result


def conditioning_values(inputs, result):
    kappa, lr = expect_tuple(result, "conditioning", 2)
    for value, name in ((kappa, "condition_number"), (lr, "max_learning_rate")):
        if not real_number(value):
            got = wire.type_name(value)
            raise Failure(f"{name} should be a float (Python float or numpy.float64), got {got}")
        if not np.isfinite(value):
            raise Failure(f"{name} should be finite, got {value}")
    eigenvalues = np.linalg.eigvalsh(inputs["H"])
    lam_min, lam_max = eigenvalues[0], eigenvalues[-1]
    if not np.isclose(kappa, lam_max / lam_min, rtol=1e-6, atol=0):
        raise Failure(f"condition_number should be lambda_max / lambda_min (largest over smallest eigenvalue "
                      f"of H); yours is {kappa / (lam_max / lam_min):.4g} times that")
    if not np.isclose(lr, 2 / lam_max, rtol=1e-6, atol=0):
        raise Failure(f"max_learning_rate should be 2 / lambda_max, the largest rate at which gradient descent "
                      f"on this quadratic does not diverge; yours is {lr / (2 / lam_max):.4g} times that")


def conditioning_mistakes():
    def spectrum(H):
        lam = np.linalg.eigvalsh(H)
        return lam[0], lam[-1]

    def one_over(H):
        lo, hi = spectrum(H)
        return float(hi / lo), float(1 / hi)

    def smallest(H):
        lo, hi = spectrum(H)
        return float(hi / lo), float(2 / lo)

    def inverted(H):
        lo, hi = spectrum(H)
        return float(lo / hi), float(2 / hi)

    def square_root(H):
        lo, hi = spectrum(H)
        return float(np.sqrt(hi / lo)), float(2 / hi)

    return [("one over lambda", "1 / lambda_max is the rate that empties the steepest direction in one step; "
             "gradient descent stays stable up to 2 / lambda_max", one_over),
            ("smallest eigenvalue", "the largest stable rate is set by the largest eigenvalue (the steepest "
             "direction), 2 / lambda_max, not by the smallest", smallest),
            ("inverted", "the condition number is lambda_max / lambda_min (at least 1), not its inverse", inverted),
            ("square root", "sqrt(lambda_max / lambda_min) is the condition number of the data matrix; the cost's "
             "is that of its Hessian, lambda_max / lambda_min", square_root)]


def spd(seed, eigenvalues):
    """A symmetric matrix with the given eigenvalues, in a random orthonormal basis (drawn from `case_seed(seed)`)."""
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    Q, _ = np.linalg.qr(np.random.default_rng(case_seed(seed)).standard_normal((eigenvalues.size,) * 2))
    H = (Q * eigenvalues) @ Q.T
    return (H + H.T) / 2


def hessian_of(X):
    """The least-squares Hessian over (w, b), assembled block by block (the checks' own oracle)."""
    m = X.shape[1]
    mean = X.sum(axis=1, keepdims=True) / m
    return np.block([[np.einsum("im,jm->ij", X, X) / m, mean], [mean.T, np.ones((1, 1))]])


def conditioning_cases():
    return [("H of shape (3, 3) with eigenvalues 0.5, 2 and 10", {"H": spd(9, [0.5, 2.0, 10.0])}),
            ("H of a least-squares cost on 2 features of scales 1 and 10",
             {"H": hessian_of(features(10, 2, 30, [1.0, -3.0], [1.0, 10.0]))})]


ITEMS.append(Item(grade_id="conditioning_values", functions=["conditioning"], run=run_conditioning,
                  properties=conditioning_values, visible_cases=conditioning_cases, mistakes=conditioning_mistakes(),
                  project=project_conditioning))


# ---- predict before you run ------------------------------------------------------------

ITEMS.append(prediction_item(
    "prediction_centering_test", "prediction_centering",
    "the condition number after centering only",
    hint="centering takes the means out of H (its last row and column, and the mu^2 in each diagonal entry), "
         "but the diagonal still holds the squared spreads of the features, more than 10^10 apart; weigh the "
         "means of the widest features against their spreads"))
