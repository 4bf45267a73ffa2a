"""Gradient descent on a least-squares cost: the problem lesson 01's experiments study.

A linear model predicts ``y`` (m,) from the columns of ``X`` (n_x, m) with weights ``w``
and a bias ``b``; its cost is

    J(w, b) = 1/(2m) * sum_i (w . x_i + b - y_i)^2 .

The code below works on a *design matrix* ``A`` (p, m) whose rows are what each of the p
parameters multiplies: ``A = with_bias_row(X)`` for (w, b), or ``A = X`` alone when the
bias is held fixed. Then ``J(theta) = 1/(2m) * ||theta @ A - y||^2``, a quadratic bowl,
so gradient descent behaves exactly as its Hessian predicts.
"""
from dataclasses import dataclass

import numpy as np

#: a run counts as diverged once its cost exceeds this multiple of the starting cost
DIVERGED = 1e6


def with_bias_row(X):
    """Stack a row of ones under X (n_x, m): the design matrix of (w, b), shape (n_x + 1, m)."""
    return np.concatenate([X, np.ones((1, X.shape[1]))], axis=0)


def cost(theta, A, y):
    """J(theta) = 1/(2m) ||theta @ A - y||^2 for theta (p,), A (p, m), y (m,)."""
    residual = theta @ A - y
    return 0.5 * float(residual @ residual) / A.shape[1]


def best_fit(A, y):
    """The minimizer theta* (p,) and the smallest cost J(theta*), by a least-squares solve."""
    theta, *_ = np.linalg.lstsq(A.T, y, rcond=None)
    return theta, cost(theta, A, y)


@dataclass
class Run:
    """One gradient-descent run.

    Attributes
    ----------
    costs : ndarray of shape (k + 1,), the cost before each step (and after the last)
    theta : ndarray of shape (p,), the final parameters
    path : ndarray of shape (k + 1, p), the parameters, when recorded (else None)
    diverged : bool, True when the cost blew up (the run stops there)
    """
    costs: np.ndarray
    theta: np.ndarray
    path: np.ndarray | None
    diverged: bool

    def steps_to_reach(self, target):
        """Number of steps after which the cost first is <= target (None if never)."""
        below = np.flatnonzero(self.costs <= target)
        return int(below[0]) if below.size else None


def gradient_descent(A, y, lr, steps, theta0=None, record_path=False):
    """Plain (full-batch) gradient descent on J(theta) = 1/(2m) ||theta @ A - y||^2.

    Parameters
    ----------
    A : ndarray of shape (p, m)
        Design matrix (see the module docstring).
    y : ndarray of shape (m,)
    lr : float
        Learning rate.
    steps : int
    theta0 : ndarray of shape (p,), optional
        Starting point (default zeros).
    record_path : bool
        Keep every iterate (for drawing the path).

    Returns
    -------
    run : Run
    """
    m = A.shape[1]
    theta = np.zeros(A.shape[0]) if theta0 is None else np.array(theta0, dtype=np.float64)
    costs, path = [cost(theta, A, y)], [theta.copy()]
    limit = DIVERGED * max(costs[0], 1e-12)
    for _ in range(steps):
        theta = theta - lr * (A @ (theta @ A - y)) / m
        costs.append(cost(theta, A, y))
        if record_path:
            path.append(theta.copy())
        if not np.isfinite(costs[-1]) or costs[-1] > limit:
            return Run(np.array(costs), theta, np.array(path) if record_path else None, True)
    return Run(np.array(costs), theta, np.array(path) if record_path else None, False)


def rate_sweep(A, y, rates, steps):
    """Final cost after `steps` steps for each learning rate (inf where the run diverged).

    Returns
    -------
    final : ndarray of shape (len(rates),)
    """
    final = []
    for lr in rates:
        run = gradient_descent(A, y, lr, steps)
        final.append(np.inf if run.diverged or run.costs[-1] > run.costs[0] else run.costs[-1])
    return np.array(final)


def largest_converging(rates, final):
    """The largest rate of a sweep whose run did not diverge (None if none did)."""
    ok = [lr for lr, c in zip(rates, final) if np.isfinite(c)]
    return max(ok) if ok else None


# ---- the lecture notes' figure: cost contours before and after normalization ----------------

#: the two breast-cancer features of the contour figure: similar meaning, different scales
CONTOUR_FEATURES = ("mean texture", "mean perimeter")


def two_feature_problem():
    """Two features of the Wisconsin breast-cancer data and the diagnosis (1 = benign).

    Returns
    -------
    X : ndarray of shape (2, 569), y : ndarray of shape (569,), names : tuple of str
    """
    from lessonkit import data
    X, y, names = data.load_breast_cancer()
    rows = [names.index(name) for name in CONTOUR_FEATURES]
    return X[rows], y.astype(np.float64), CONTOUR_FEATURES


def contour_panel(ax, X, y, steps=40, rate_fraction=0.9, title="", names=("$x_1$", "$x_2$")):
    """Contours of J(w1, w2) with the bias at its best value, and a gradient-descent path.

    The path starts at w = 0 with the learning rate `rate_fraction` * 2 / lambda_max,
    lambda_max being the largest curvature of J(w1, w2) (so every run is stable).

    Returns
    -------
    run : Run, with its path
    J_star : float, the smallest cost
    """
    theta_star, _ = best_fit(with_bias_row(X), y)
    w_star, b_star = theta_star[:2], theta_star[2]
    target = y - b_star  # the bias held at its best value: J over (w1, w2) only
    lam_max = np.linalg.eigvalsh(X @ X.T / X.shape[1])[-1]
    run = gradient_descent(X, target, rate_fraction * 2 / lam_max, steps, record_path=True)
    reach = 1.25 * np.abs(run.path - w_star).max()
    g1, g2 = np.meshgrid(np.linspace(w_star[0] - reach, w_star[0] + reach, 241),
                         np.linspace(w_star[1] - reach, w_star[1] + reach, 241))
    W = np.stack([g1.ravel(), g2.ravel()])
    J = 0.5 * np.mean((W.T @ X - target) ** 2, axis=1).reshape(g1.shape)
    J_star = cost(w_star, X, target)
    levels = J_star + (J.max() - J_star) * np.linspace(0, 1, 14)[1:] ** 2
    ax.contour(g1, g2, J, levels=levels, cmap="viridis", linewidths=1)
    ax.plot(run.path[:, 0], run.path[:, 1], "o-", color="C3", ms=3, lw=1.2,
            label=f"gradient descent, {steps} steps")
    ax.plot(*w_star, "k*", ms=12, label="minimum")
    ax.set(aspect="equal", xlabel=f"$w_1$ (weight of {names[0]})", ylabel=f"$w_2$ (weight of {names[1]})",
           title=title)
    ax.legend(loc="upper right", fontsize=8)
    return run, J_star


def normalization_figure(normalize, steps=40, rate_fraction=0.5):
    """The lecture notes' figure: elongated cost before normalization, round after.

    Parameters
    ----------
    normalize : callable
        ``normalize(X) -> X_norm`` for X of shape (n_x, m) (in the lesson: your functions).

    steps : int
        Gradient-descent steps drawn in each panel.
    rate_fraction : float
        Each panel's learning rate, as a fraction of its largest stable rate 2 / lambda_max.

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt
    X, y, names = two_feature_problem()
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.4))
    panels = [(axes[0], X, "raw features: a long, narrow valley"),
              (axes[1], normalize(X), "normalized features: an almost round bowl")]
    for ax, A, title in panels:
        run, J_star = contour_panel(ax, A, y, steps, rate_fraction, title, names)
        ax.text(0.02, 0.02, f"cost after {steps} steps: {run.costs[-1]:.4f}\n(minimum {J_star:.4f})",
                transform=ax.transAxes, fontsize=9, va="bottom",
                bbox=dict(boxstyle="round", fc="white", ec="0.7"))
    fig.suptitle(f"Least-squares cost of predicting the diagnosis from {names[0]} and {names[1]} "
                 "(bias at its best value)", fontsize=11)
    fig.tight_layout()
    return fig
