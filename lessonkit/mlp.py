"""A small fully connected ReLU network in numpy, trained with mini-batch gradient descent.

Hidden layer l: Z[l] = W[l] A[l-1] + b[l], optionally batch- or layer-normalized (then
b[l] is dropped and beta takes its role; with batch norm the mean subtraction cancels it
exactly), then A[l] = relu(...). The output layer
is softmax with cross-entropy. The normalization is done by the functions you pass in (your
own from lesson 02), so the experiments run on your code.
"""
from collections import namedtuple

import numpy as np

#: The four batch-norm functions of lesson 02, in the signatures of the course spec.
BatchNorm = namedtuple("BatchNorm", "forward backward update_running_stats inference")


def layer_norm(forward, backward):
    """Layer norm (lesson 02) in `BatchNorm`'s slots, to pass as `bn`.

    Parameters
    ----------
    forward : callable, ``forward(Z, gamma, beta) -> (Z_tilde, cache)``, Z of shape (n, m)
    backward : callable, ``backward(dZ_tilde, cache) -> (dZ, dgamma, dbeta)``

    Returns
    -------
    bn : BatchNorm without running averages (`update_running_stats` and `inference` None): each
        example is normalized over its own units, the same computation at training and test time,
        so `train` keeps no running averages and `evaluate` calls `forward`.
    """
    return BatchNorm(forward, backward, None, None)


def _keeps_running(bn):
    return bn is not None and bn.update_running_stats is not None


def init_params(layer_dims, rng, batch_norm=False, weight_std=None):
    """He-initialized parameters (or a fixed `weight_std`); zero biases; gamma 1, beta 0.

    Parameters
    ----------
    layer_dims : list of int, [n_x, n_1, ..., n_L]
    rng : np.random.Generator
    batch_norm : bool
        Hidden layers get gamma, beta (n_l, 1) and no bias (for batch or layer norm).

    Returns
    -------
    params : dict of "W1", "b1"/"gamma1", "beta1", ..., "WL", "bL"
    """
    params = {}
    L = len(layer_dims) - 1
    for l in range(1, L + 1):
        n_in, n_out = layer_dims[l - 1], layer_dims[l]
        std = np.sqrt(2.0 / n_in) if weight_std is None else weight_std
        params[f"W{l}"] = std * rng.standard_normal((n_out, n_in))
        if batch_norm and l < L:
            params[f"gamma{l}"] = np.ones((n_out, 1))
            params[f"beta{l}"] = np.zeros((n_out, 1))
        else:
            params[f"b{l}"] = np.zeros((n_out, 1))
    return params


def init_running(params):
    """Running mean 0 and running variance 1 for every batch-normalized layer."""
    return {f"{k}{l}": (np.zeros_like if k == "mean" else np.ones_like)(params[f"gamma{l}"])
            for l in _bn_layers(params) for k in ("mean", "var")}


def _bn_layers(params):
    return sorted(int(k[5:]) for k in params if k.startswith("gamma"))


def _depth(params):
    return sum(1 for k in params if k.startswith("W"))


def softmax(Z):
    """Softmax over the units (axis -2: the rows of (n, m), or of each seed's (seeds, n, m))."""
    E = np.exp(Z - Z.max(axis=-2, keepdims=True))
    return E / E.sum(axis=-2, keepdims=True)


def forward(params, X, bn=None, running=None, record=False):
    """Forward pass. Batch-normalized layers use batch statistics unless `running` is given.

    Returns
    -------
    probs : ndarray of shape (n_L, m)
    caches : list, one entry per layer, for `backward`
    """
    def normalize(l, Z, cache):
        g, b = params[f"gamma{l}"], params[f"beta{l}"]
        if running is None:
            Z, cache["bn"] = bn.forward(Z, g, b)
            return Z
        return bn.inference(Z, g, b, running[f"mean{l}"], running[f"var{l}"])
    return layers_forward(params, X, normalize)


def layers_forward(params, X, normalize):
    """The layer loop of `forward`; `normalize(l, Z, cache) -> Z_tilde` does layer l's normalization.

    Also runs stacked parameters (`lessonkit.seeds`: every array with a leading seed axis).
    """
    A, caches, L = X, [], _depth(params)
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A
        cache = {"A_prev": A}
        if f"gamma{l}" in params:
            cache["Z_pre_bn"] = Z
            Z = normalize(l, Z, cache)
        else:
            Z = Z + params[f"b{l}"]
        cache["Z"] = Z
        A = softmax(Z) if l == L else np.maximum(Z, 0)
        caches.append(cache)
    return A, caches


def backward(params, probs, Y, caches, bn=None):
    """Gradients of the mean cross-entropy, same keys as `params`."""
    def normalize_backward(l, dZ, cache, grads):
        dZ, grads[f"gamma{l}"], grads[f"beta{l}"] = bn.backward(dZ, cache["bn"])
        return dZ
    return layers_backward(params, probs, Y, caches, normalize_backward)


def layers_backward(params, probs, Y, caches, normalize_backward, scale=None):
    """The layer loop of `backward`; `normalize_backward(l, dZ, cache, grads) -> dZ` goes back through
    layer l's normalization and puts its gamma and beta gradients in `grads`. Also runs stacked parameters.

    `scale` (a number, or one per seed of shape (seeds, 1, 1)) multiplies every gradient: the backward
    pass is linear in the output's dZ, so scaling that one array gives the steps ``lr * grad`` at once.
    """
    grads, L, m = {}, _depth(params), Y.shape[-1]
    dZ = (probs - Y) / m if scale is None else (probs - Y) * (scale / m)
    dA = None  # the gradient the layer above passes down
    for l in range(L, 0, -1):
        cache = caches[l - 1]
        if l < L:
            dZ = dA * (cache["Z"] > 0)
            if f"gamma{l}" in params:
                dZ = normalize_backward(l, dZ, cache, grads)
        if f"b{l}" in params:
            grads[f"b{l}"] = dZ.sum(axis=-1, keepdims=True)
        grads[f"W{l}"] = dZ @ cache["A_prev"].swapaxes(-1, -2)
        if l > 1:  # the input's gradient is never used
            dA = params[f"W{l}"].swapaxes(-1, -2) @ dZ
    return grads


def cross_entropy(probs, Y):
    return float(-np.sum(Y * np.log(probs + 1e-12)) / Y.shape[1])


def accuracy(probs, y):
    return float(np.mean(probs.argmax(axis=0) == y))


def train(params, X, y, rng, lr, epochs, batch_size, bn=None, dev=None, momentum=0.9, on_step=None):
    """Mini-batch gradient descent; returns the trained state and a history.

    Parameters
    ----------
    X : ndarray of shape (n_x, m); y : ndarray of shape (m,)
    bn : BatchNorm, optional, the normalization of the hidden layers (see `layer_norm` for layer norm)
    dev : (X_dev, y_dev), optional, evaluated after each epoch (with running averages
        when the network is batch-normalized)
    on_step : callable, optional
        Called as ``on_step(params, running)`` after every update, to record what training does.

    Returns
    -------
    params : dict, trained parameters (the input dict is not modified)
    running : dict, running averages (empty without batch norm, and with layer norm)
    history : dict of lists, "loss" per step, "train_acc" and "dev_acc" per epoch
    """
    params = {k: v.copy() for k, v in params.items()}
    running = init_running(params) if _keeps_running(bn) else {}
    Y = np.eye(params[f"W{_depth(params)}"].shape[0])[:, y]
    history = {"loss": [], "train_acc": [], "dev_acc": []}
    m = X.shape[1]
    for _ in range(epochs):
        order = rng.permutation(m)
        for start in range(0, m, batch_size):
            idx = order[start:start + batch_size]
            if idx.size < 2 and running:
                continue
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence is a result here
                probs, caches = forward(params, X[:, idx], bn)
                loss = cross_entropy(probs, Y[:, idx])
                history["loss"].append(loss)
                if not np.isfinite(loss):
                    return params, running, history
                grads = backward(params, probs, Y[:, idx], caches, bn)
                params = {k: params[k] - lr * grads[k] for k in params}
                for l in _bn_layers(params) if running else ():
                    running[f"mean{l}"], running[f"var{l}"] = bn.update_running_stats(
                        running[f"mean{l}"], running[f"var{l}"], caches[l - 1]["Z_pre_bn"], momentum=momentum)
            if on_step is not None:
                on_step(params, running)
        history["train_acc"].append(evaluate(params, running, X, y, bn))
        if dev is not None:
            history["dev_acc"].append(evaluate(params, running, *dev, bn))
    return params, running, history


def evaluate(params, running, X, y, bn=None):
    """Accuracy in inference mode (running averages for batch-normalized layers)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return float(chunked_accuracy(X, y, lambda X_chunk: forward(params, X_chunk, bn, running or None)[0]))


#: Examples per forward pass in `chunked_accuracy`. OpenBLAS computes a (64, 64) @ (64, 128) product on
#: one thread and larger ones on every core, which on a busy 2-core machine costs more than it saves
#: (a whole training set at once made lesson 02's evaluations several times slower).
EVAL_CHUNK = 128


def chunked_accuracy(X, y, predict):
    """Accuracy of `predict` on (X, y), `EVAL_CHUNK` examples at a time.

    Parameters
    ----------
    X : ndarray of shape (n_x, m); y : ndarray of shape (m,)
    predict : callable, ``predict(X_chunk) -> probs`` of shape (..., n_L, chunk), examples independent

    Returns
    -------
    accuracy : ndarray of shape (...), e.g. () for one network, (seeds,) for stacked ones
    """
    hits = [predict(X[:, start:start + EVAL_CHUNK]).argmax(axis=-2) == y[start:start + EVAL_CHUNK]
            for start in range(0, X.shape[1], EVAL_CHUNK)]
    return np.concatenate(hits, axis=-1).mean(axis=-1)
