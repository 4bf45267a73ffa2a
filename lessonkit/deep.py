"""Deep plain networks for lesson 03 (vanishing and exploding gradients).

A network here is a list of weight matrices ``[W1, ..., WL]``, ``W[l]`` of shape
``(n[l], n[l-1])``, no biases, one activation for every layer. The forward and backward
passes are the functions you pass in (your `deep_forward` and `deep_backward`), so every
experiment runs on your code. The loss is the squared error
``J = 1/(2m) ||AL - Y||^2``, whose gradient with respect to ``AL`` is ``(AL - Y) / m``.
"""
import numpy as np


def gaussian_weights(widths, stds, rng):
    """Independent normal weights, layer by layer.

    Parameters
    ----------
    widths : list of int, [n0, n1, ..., nL]
    stds : float or sequence of L floats
        Standard deviation of the entries of each W[l].
    rng : np.random.Generator

    Returns
    -------
    weights : list of L ndarrays, W[l] of shape (n[l], n[l-1])
    """
    stds = np.broadcast_to(np.asarray(stds, dtype=float), (len(widths) - 1,))
    return [std * rng.standard_normal((n_out, n_in))
            for std, n_in, n_out in zip(stds, widths[:-1], widths[1:])]


def orthogonal(n, rng):
    """A random n x n orthogonal matrix (uniformly distributed: QR of a Gaussian, signs fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def rms(A):
    """Root mean square of the entries of A (0-d float)."""
    return float(np.sqrt(np.mean(np.square(A))))


def layer_rms(arrays):
    """RMS of every array of a list, as an ndarray of shape (len(arrays),)."""
    return np.array([rms(A) for A in arrays])


def frobenius_norms(grads):
    """||dW[l]||_F for every layer, as an ndarray of shape (L,)."""
    return np.array([float(np.linalg.norm(G)) for G in grads])


def squared_error_gradient(AL, Y):
    """dAL of J = 1/(2m) ||AL - Y||^2, and J itself."""
    m = Y.shape[1]
    return (AL - Y) / m, float(0.5 * np.sum((AL - Y) ** 2) / m)


def backprop_error_rms(deep_forward, deep_backward, X, Y, weights, activation, examples=16):
    """RMS of the back-propagated error dZ[l] at every layer, read off the weight gradients.

    `deep_backward` returns only dW[l]. For a single example, dW[l] = dz[l] a[l-1]^T is an
    outer product, so ||dz[l]|| = ||dW[l]||_F / ||a[l-1]||: run one example at a time.

    Returns
    -------
    error_rms : ndarray of shape (L,)
        sqrt of the mean over the examples of ||dz[l]||^2 / n[l], for the loss of one
        example, 1/2 ||a[L] - y||^2.
    """
    total = np.zeros(len(weights))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for i in range(examples):
            x, y = X[:, i:i + 1], Y[:, i:i + 1]
            acts = deep_forward(x, weights, activation)
            dAL, _ = squared_error_gradient(acts[-1], y)
            grads = deep_backward(dAL, weights, acts, activation)
            inputs = np.array([np.linalg.norm(a) for a in acts[:-1]])
            total += (frobenius_norms(grads) / np.where(inputs > 0, inputs, np.nan)) ** 2
    widths = np.array([W.shape[0] for W in weights])
    return np.sqrt(total / examples / widths)


def train(deep_forward, deep_backward, weights, X, Y, activation, lr, steps, rng,
          batch_size=64, clip=None):
    """Mini-batch gradient descent on the squared error; stops early if the loss is not finite.

    Parameters
    ----------
    clip : callable, optional
        ``clip(grads) -> grads``, applied to every gradient before the step.

    Returns
    -------
    weights : list of ndarrays (new arrays; the given ones are untouched)
    history : dict with "loss" and "grad_norm" (global norm before clipping), one per step
    """
    weights = [W.copy() for W in weights]
    history = {"loss": [], "grad_norm": []}
    m = X.shape[1]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for _ in range(steps):
            idx = rng.choice(m, batch_size, replace=False)
            acts = deep_forward(X[:, idx], weights, activation)
            dAL, loss = squared_error_gradient(acts[-1], Y[:, idx])
            grads = deep_backward(dAL, weights, acts, activation)
            history["loss"].append(loss)
            history["grad_norm"].append(float(np.sqrt(sum(np.sum(G ** 2) for G in grads))))
            if not np.isfinite(loss):
                break
            if clip is not None:
                grads = clip(grads)
            weights = [W - lr * G for W, G in zip(weights, grads)]
    return weights, history


def accuracy(deep_forward, weights, X, y, activation):
    """Fraction of examples whose largest output unit is the label (nan if outputs are not finite)."""
    with np.errstate(over="ignore", invalid="ignore"):
        AL = deep_forward(X, weights, activation)[-1]
    return float(np.mean(AL.argmax(axis=0) == y)) if np.all(np.isfinite(AL)) else float("nan")
