"""`lessonkit.mlp`'s network trained from several seeds at once, so that an experiment can
quote what holds on every seed for the price of about one run.

The S networks are stacked: weights (S, n_out, n_in), activations (S, n, m), each seed with
its own initialization and its own shuffles, drawn exactly as `mlp.train` draws them. The
normalization (your functions from lesson 02) sees all the seeds' pre-activations at once,
stacked as one (S * n, m) array, seed after seed: right as is for batch norm (each unit is
normalized on its own) and for group norm with S times the groups (a group is a block of
consecutive units, so no group spans two seeds).
"""
import numpy as np

from lessonkit import mlp


def _stack(dicts):
    return {k: np.stack([d[k] for d in dicts]) for k in dicts[0]}


def _rows(a):
    """(S, n, k) -> (S * n, k): the stacked layout the normalization sees."""
    return a.reshape(-1, a.shape[-1])


def forward(params, X, norm=None, running=None):
    """Forward pass of S stacked networks.

    Parameters
    ----------
    params : dict of stacked arrays, "W1" (S, n_1, n_x), ...
    X : ndarray of shape (S, n_x, m), or (n_x, m) shared by every seed
    norm : mlp.BatchNorm, optional, called on (S * n, m) arrays
    running : dict, optional, stacked running averages: inference mode for batch norm

    Returns
    -------
    probs : ndarray of shape (S, n_L, m)
    caches : list, one dict per layer, for `backward`
    """
    A, caches, L = X, [], mlp._depth(params)
    for l in range(1, L + 1):
        W = params[f"W{l}"]
        # one (S * n, n_x) product for inputs shared by every seed: numpy's broadcast matmul is slow
        Z = (_rows(W) @ A).reshape(*W.shape[:2], -1) if A.ndim == 2 else W @ A
        cache = {"A_prev": A}
        if f"gamma{l}" in params:
            S, n, m = Z.shape
            cache["Z_pre_bn"] = Z
            g, b = _rows(params[f"gamma{l}"]), _rows(params[f"beta{l}"])
            if running:
                Z = norm.inference(_rows(Z), g, b, _rows(running[f"mean{l}"]), _rows(running[f"var{l}"]))
            else:
                Z, cache["bn"] = norm.forward(_rows(Z), g, b)
            Z = Z.reshape(S, n, m)
        else:
            Z = Z + params[f"b{l}"]
        cache["Z"] = Z
        if l == L:
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            A = E / E.sum(axis=1, keepdims=True)
        else:
            A = np.maximum(Z, 0)
        caches.append(cache)
    return A, caches


def backward(params, probs, Y, caches, norm=None):
    """Gradients of each seed's mean cross-entropy, stacked like `params`."""
    grads, L = {}, mlp._depth(params)
    S, _, m = probs.shape
    dZ = (probs - Y) / m
    for l in range(L, 0, -1):
        cache = caches[l - 1]
        if l < L:
            dZ = dA * (cache["Z"] > 0)
            if f"gamma{l}" in params:
                n = dZ.shape[1]
                dZ, dgamma, dbeta = norm.backward(_rows(dZ), cache["bn"])
                dZ = dZ.reshape(S, n, m)
                grads[f"gamma{l}"], grads[f"beta{l}"] = dgamma.reshape(S, n, 1), dbeta.reshape(S, n, 1)
        if f"b{l}" in params:
            grads[f"b{l}"] = dZ.sum(axis=2, keepdims=True)
        grads[f"W{l}"] = dZ @ np.swapaxes(cache["A_prev"], 1, 2)
        dA = np.swapaxes(params[f"W{l}"], 1, 2) @ dZ
    return grads


def accuracy(params, running, X, y, norm=None):
    """Each seed's accuracy on (X, y) in inference mode: ndarray of shape (S,)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        probs, _ = forward(params, X, norm, running=running)
    return (probs.argmax(axis=1) == y).mean(axis=1)


def train(seeds, dims, X, y, lr, epochs, batch_size, norm=None, dev=None, momentum=0.9):
    """Train one network per seed, all at once, as `mlp.train(mlp.init_params(dims, rng(seed), ...),
    X, y, rng(seed + 1), ...)` would one by one.

    Parameters
    ----------
    seeds : list of int, S of them
    dims : list of int, [n_x, n_1, ..., n_L]
    X : ndarray of shape (n_x, m_train); y : ndarray of shape (m_train,)
    norm : mlp.BatchNorm, optional, the hidden layers' normalization on stacked (S * n, m) arrays
        (see the module's docstring); running averages are kept when it has `update_running_stats`
    dev : (X_dev, y_dev), optional

    Returns
    -------
    accuracies : dict of ndarray of shape (S,), "train_acc" and "dev_acc" after the last epoch
        (inference mode); NaN for a seed whose loss became NaN or infinite (it diverged)
    """
    per_seed = [mlp.init_params(dims, np.random.default_rng(s), batch_norm=norm is not None) for s in seeds]
    params, shufflers = _stack(per_seed), [np.random.default_rng(s + 1) for s in seeds]
    running = _stack([mlp.init_running(p) for p in per_seed]) if mlp._keeps_running(norm) else {}
    Y = np.eye(dims[-1])[:, y]
    S, m_all = len(seeds), X.shape[1]
    diverged = np.zeros(S, dtype=bool)
    for _ in range(epochs):
        orders = np.stack([r.permutation(m_all) for r in shufflers])
        for start in range(0, m_all, batch_size):
            idx = orders[:, start:start + batch_size]
            if idx.shape[1] < 2 and running:
                continue
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                probs, caches = forward(params, np.swapaxes(X.T[idx], 1, 2), norm)
                Yb = np.swapaxes(Y.T[idx], 1, 2)
                loss = -np.sum(Yb * np.log(probs + 1e-12), axis=(1, 2)) / idx.shape[1]
                diverged |= ~np.isfinite(loss)
                grads = backward(params, probs, Yb, caches, norm)
                params = {k: params[k] - lr * grads[k] for k in params}
                for l in mlp._bn_layers(per_seed[0]) if running else ():
                    mean, var = norm.update_running_stats(_rows(running[f"mean{l}"]), _rows(running[f"var{l}"]),
                                                          _rows(caches[l - 1]["Z_pre_bn"]), momentum=momentum)
                    running[f"mean{l}"], running[f"var{l}"] = mean.reshape(S, -1, 1), var.reshape(S, -1, 1)
    sets = {"train_acc": (X, y), **({"dev_acc": dev} if dev is not None else {})}
    return {name: np.where(diverged, np.nan, accuracy(params, running, *data, norm)) for name, data in sets.items()}
