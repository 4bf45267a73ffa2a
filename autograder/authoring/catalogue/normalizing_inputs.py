"""Lesson 01 submissions with known verdicts.

Each mistake costs the items it breaks and no others: a wrong shape costs the contract
item, a wrong value the value item. `normalize_splits` calls the student's two helpers and
is judged on its own numbers (the raw sets normalized with the training statistics), so a
helper mistake that changes those numbers costs it too; its feedback then says to fix the
helper first. A helper mistake that leaves them right (normalizing in place) does not.
"""
from autograder.authoring.catalogue import Variant

LESSON = "01_normalizing_inputs"

MEAN_VARIANCE_LOOPS = '''def compute_mean_variance(X):
    """Feature by feature, in plain Python sums: different from the reference, still right."""
    n, m = X.shape
    mu, var = np.zeros((n, 1)), np.zeros((n, 1))
    for j in range(n):
        mu[j, 0] = sum(X[j]) / m
        var[j, 0] = sum((x - mu[j, 0]) ** 2 for x in X[j]) / m
    return mu, var
'''

NORMALIZE_RECIPROCAL = '''def normalize_inputs(X, mu, var, eps=1e-8):
    inv_std = 1.0 / np.sqrt(var + eps)
    return np.multiply(np.subtract(X, mu), inv_std)
'''

SPLITS_BY_HAND = '''def normalize_splits(X_train, X_dev, X_test, eps=1e-8):
    """Without the helper functions: the statistics written out, then one loop over the sets."""
    center = X_train.mean(axis=1).reshape(-1, 1)
    scale = np.sqrt(X_train.var(axis=1).reshape(-1, 1) + eps)
    return tuple((A - center) / scale for A in (X_train, X_dev, X_test))
'''

HESSIAN_BLOCKS = '''def least_squares_hessian(X):
    """Block by block: second moments, feature means, and the 1 of d2J/db2."""
    n, m = X.shape
    H = np.empty((n + 1, n + 1))
    H[:n, :n] = sum(np.outer(X[:, i], X[:, i]) for i in range(m)) / m
    H[:n, n] = H[n, :n] = X.mean(axis=1)
    H[n, n] = 1.0
    return H
'''

CONDITIONING_SVD = '''def conditioning(H):
    """Singular values equal the eigenvalues of a symmetric positive-definite matrix."""
    s = np.linalg.svd(H, compute_uv=False)
    return np.linalg.cond(H), 2 / s.max()
'''


def mean_variance_with(var_line, stats_axis="axis=1"):
    return f'''def compute_mean_variance(X):
    mu = X.mean({stats_axis}, keepdims=True)
    {var_line}
    return mu, var
'''


def normalize_with(body):
    return f'''def normalize_inputs(X, mu, var, eps=1e-8):
    {body}
'''


def splits_with(body):
    return f'''def normalize_splits(X_train, X_dev, X_test, eps=1e-8):
    {body}
'''


def conditioning_with(rate):
    return f'''def conditioning(H):
    lam = np.linalg.eigvalsh(H)
    return float(lam[-1] / lam[0]), float({rate})
'''


VARIANTS = [
    Variant("correct"),
    Variant("correct-different", answers={"compute_mean_variance": MEAN_VARIANCE_LOOPS,
                                          "normalize_inputs": NORMALIZE_RECIPROCAL,
                                          "normalize_splits": SPLITS_BY_HAND,
                                          "least_squares_hessian": HESSIAN_BLOCKS,
                                          "conditioning": CONDITIONING_SVD}),
    Variant("sample-variance",
            answers={"compute_mean_variance": mean_variance_with("var = X.var(axis=1, ddof=1, keepdims=True)")},
            lose={"mean_variance_values": "sample variance", "normalize_splits_train_stats": None}),
    Variant("uncentered-variance",
            answers={"compute_mean_variance": mean_variance_with("var = np.mean(X ** 2, axis=1, keepdims=True)")},
            lose={"mean_variance_values": "without subtracting the mean", "normalize_splits_train_stats": None}),
    Variant("stats-over-examples",
            answers={"compute_mean_variance": mean_variance_with("var = X.var(axis=0, keepdims=True)", "axis=0")},
            lose={"mean_variance_contract": "wrong axis", "mean_variance_values": "wrong axis",
                  "normalize_splits_train_stats": None}),  # its dev set cannot broadcast (1, m_train) statistics
    Variant("stats-without-keepdims",
            answers={"compute_mean_variance": '''def compute_mean_variance(X):
    mu = X.mean(axis=1)
    var = X.var(axis=1)
    return mu, var
'''}, lose={"mean_variance_contract": "keepdims", "normalize_splits_train_stats": None}),
    Variant("scales-by-variance", answers={"normalize_inputs": normalize_with("return (X - mu) / (var + eps)")},
            lose={"normalize_inputs_values": "dividing by the variance", "normalize_splits_train_stats": None}),
    Variant("no-eps", answers={"normalize_inputs": normalize_with("return (X - mu) / np.sqrt(var)")},
            lose={"normalize_inputs_values": "eps left out", "normalize_splits_train_stats": None}),
    Variant("eps-outside-sqrt", answers={"normalize_inputs": normalize_with("return (X - mu) / (np.sqrt(var) + eps)")},
            lose={"normalize_inputs_values": "eps added outside", "normalize_splits_train_stats": None}),
    Variant("ignores-given-stats", answers={"normalize_inputs": normalize_with(
        "return (X - X.mean(axis=1, keepdims=True)) / np.sqrt(X.var(axis=1, keepdims=True) + eps)")},
            lose={"normalize_inputs_values": "instead of the mu and var passed in",
                  "normalize_splits_train_stats": None}),
    Variant("normalizes-in-place", answers={"normalize_inputs": normalize_with(
        "X -= mu\n    X /= np.sqrt(var + eps)\n    return X")},
            lose={"normalize_inputs_contract": "in-place"}),
    Variant("own-stats-per-split", answers={"normalize_splits": splits_with(
        "return tuple(normalize_inputs(A, *compute_mean_variance(A), eps) for A in (X_train, X_dev, X_test))")},
            lose={"normalize_splits_train_stats": "its own statistics"}),
    Variant("pooled-stats", answers={"normalize_splits": splits_with(
        "mu, var = compute_mean_variance(np.hstack([X_train, X_dev, X_test]))\n"
        "    return tuple(normalize_inputs(A, mu, var, eps) for A in (X_train, X_dev, X_test))")},
            lose={"normalize_splits_train_stats": "pooled"}),
    Variant("splits-drop-eps", answers={"normalize_splits": splits_with(
        "mu, var = compute_mean_variance(X_train)\n"
        "    return tuple(normalize_inputs(A, mu, var) for A in (X_train, X_dev, X_test))")},
            lose={"normalize_splits_train_stats": "not passed on"}),
    Variant("hessian-without-bias", answers={"least_squares_hessian": '''def least_squares_hessian(X):
    return X @ X.T / X.shape[1]
'''}, lose={"hessian_values": "row of ones"}),
    Variant("hessian-not-averaged", answers={"least_squares_hessian": '''def least_squares_hessian(X):
    X_tilde = np.vstack([X, np.ones((1, X.shape[1]))])
    return X_tilde @ X_tilde.T
'''}, lose={"hessian_values": "divide by m"}),
    Variant("rate-one-over-lambda", answers={"conditioning": conditioning_with("1 / lam[-1]")},
            lose={"conditioning_values": "empties the steepest direction"}),
    Variant("prediction-centering-shrinks", answers={"prediction_centering": 'def prediction_centering():\n    return "shrinks"\n'},
            lose={"prediction_centering_test": "squared spreads"}),
    Variant("std-as-variance", answers={"compute_mean_variance": mean_variance_with("var = X.std(axis=1, keepdims=True)")},
            lose={"mean_variance_values": "standard deviation as var", "normalize_splits_train_stats": None}),
    Variant("eps-ignored", answers={"normalize_inputs": normalize_with("return (X - mu) / np.sqrt(var + 1e-8)")},
            lose={"normalize_inputs_values": "the eps argument is ignored", "normalize_splits_train_stats": None}),
    Variant("hessian-bias-first", answers={"least_squares_hessian": '''def least_squares_hessian(X):
    X_tilde = np.vstack([np.ones((1, X.shape[1])), X])
    return X_tilde @ X_tilde.T / X.shape[1]
'''}, lose={"hessian_values": "the bias row is placed first"}),
    Variant("rate-from-smallest-eigenvalue", answers={"conditioning": conditioning_with("2 / lam[0]")},
            lose={"conditioning_values": "not by the smallest"}),
    Variant("condition-number-inverted", answers={"conditioning": '''def conditioning(H):
    lam = np.linalg.eigvalsh(H)
    return float(lam[0] / lam[-1]), float(2 / lam[-1])
'''}, lose={"conditioning_values": "not its inverse"}),
    Variant("condition-number-square-root", answers={"conditioning": '''def conditioning(H):
    lam = np.linalg.eigvalsh(H)
    return float(np.sqrt(lam[-1] / lam[0])), float(2 / lam[-1])
'''}, lose={"conditioning_values": "condition number of the data matrix"}),
    Variant("float32-statistics", answers={"compute_mean_variance": '''def compute_mean_variance(X):
    X = X.astype(np.float32)
    return X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
'''}, lose={"mean_variance_contract": None, "mean_variance_values": None, "normalize_splits_train_stats": None}),
    Variant("hessian-examples-by-examples", answers={"least_squares_hessian": '''def least_squares_hessian(X):
    return X.T @ X / X.shape[1]
'''}, lose={"hessian_values": "multiplied X^T X (examples by examples)"}),
    Variant("hessian-squeezed", answers={"least_squares_hessian": '''def least_squares_hessian(X):
    X = np.atleast_2d(X.squeeze())
    X_tilde = np.vstack([X, np.ones((1, X.shape[1]))])
    return X_tilde @ X_tilde.T / X.shape[1]
'''}, lose={"hessian_values": None}),
    Variant("untouched", untouched=True, lose_all=True),
]
