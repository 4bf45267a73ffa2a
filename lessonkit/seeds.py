"""`lessonkit.mlp`'s network trained from several seeds at once, so that an experiment can
quote what holds on every seed for the price of about one run.

The S networks are stacked: weights (S, n_out, n_in), activations (S, n, m), each seed with
its own initialization and its own shuffles, drawn exactly as `mlp.train` draws them, and
`mlp.forward` and `mlp.backward` run on the stack. The normalization (your functions from
lesson 02) sees all the seeds' pre-activations at once, as one (S * n, m) array, seed after
seed: right as is for batch norm (each unit is normalized on its own) and for group norm with
S times the groups (a group is a block of consecutive units, so no group spans two seeds).
"""
import numpy as np

from lessonkit import mlp


def _stack(dicts):
    return {k: np.stack([d[k] for d in dicts]) for k in dicts[0]}


def accuracy(params, running, X, y, norm=None):
    """Each seed's accuracy on (X, y) (X of shape (n_x, m)) in inference mode: ndarray of shape (S,)."""
    S = params["W1"].shape[0]
    stacked = np.ascontiguousarray(np.broadcast_to(X, (S, *X.shape)))  # a contiguous stack keeps matmul on BLAS
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        probs, _ = mlp.forward(params, stacked, norm, running=running or None)
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
                probs, caches = mlp.forward(params, np.swapaxes(X.T[idx], 1, 2), norm)
                Yb = np.swapaxes(Y.T[idx], 1, 2)
                loss = -np.sum(Yb * np.log(probs + 1e-12), axis=(1, 2)) / idx.shape[1]
                diverged |= ~np.isfinite(loss)
                grads = mlp.backward(params, probs, Yb, caches, norm)
                params = {k: params[k] - lr * grads[k] for k in params}
                for l in mlp._bn_layers(per_seed[0]) if running else ():
                    mean, var = norm.update_running_stats(*(mlp._rows(a) for a in (
                        running[f"mean{l}"], running[f"var{l}"], caches[l - 1]["Z_pre_bn"])), momentum=momentum)
                    running[f"mean{l}"], running[f"var{l}"] = mean.reshape(S, -1, 1), var.reshape(S, -1, 1)
    sets = {"train_acc": (X, y), **({"dev_acc": dev} if dev is not None else {})}
    return {name: np.where(diverged, np.nan, accuracy(params, running, *data, norm)) for name, data in sets.items()}
