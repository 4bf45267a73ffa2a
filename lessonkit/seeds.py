"""`lessonkit.mlp.train` for several seeds at once: one Python loop, the seeds stacked in arrays.

A run that depends on its random draws (the initial weights, the order of the examples) is
quoted over several seeds. Training them one after the other costs the Python overhead of
every step once per seed; here every array gets a leading seed axis, so a step is one pass for
all the seeds, and the normalization functions you pass in are called once per layer:

* batch norm (a `BatchNorm` with running averages) normalizes each row over the examples, so
  the seeds' units are stacked as rows: ``Z`` of shape (seeds * n, m), ``gamma`` (seeds * n, 1);
  the running averages are per row too, so one call of your `update_running_stats` per step
  updates every layer, their rows one under the other: (layers * seeds * n, m);
* layer norm and group norm (passed as `mlp.layer_norm`) normalize each column over its units, so
  the seeds' examples are stacked as columns: ``Z`` of shape (n, seeds * m). Each seed has its own gamma and beta,
  which one call cannot take, so your function normalizes with gamma = 1 and beta = 0 and the
  scale and shift are applied here (your backward pass gives dZ; dgamma and dbeta are summed here).

Each seed's run is the run `mlp.train` makes with ``init(seed)`` and ``np.random.default_rng(seed + 1)``,
up to the last bits of the arithmetic.
"""
import numpy as np

from lessonkit import mlp


def _stack(dicts):
    return {k: np.stack([d[k] for d in dicts]) for k in dicts[0]}


def _layer_norm(bn):
    return bn is not None and bn.update_running_stats is None


def forward(P, A, bn=None, running=None):
    """Forward pass of stacked parameters (every array with a leading seed axis).

    Parameters
    ----------
    P : dict of ndarray, "W1" of shape (seeds, n_1, n_x), ...
    A : ndarray of shape (seeds, n_x, m)
    running : dict of ndarray, optional, (seeds, n, 1) running averages: inference mode

    Returns
    -------
    probs : ndarray of shape (seeds, n_L, m)
    caches : list, one entry per layer
    """
    def normalize(l, Z, cache):
        seeds, n, m = Z.shape
        g, b = P[f"gamma{l}"], P[f"beta{l}"]
        if _layer_norm(bn):  # the seeds' examples side by side, as columns
            flat = Z.transpose(1, 0, 2).reshape(n, seeds * m)
            Z_norm, cache["bn"] = bn.forward(flat, np.ones((n, 1)), np.zeros((n, 1)))
            cache["Z_norm"] = Z_norm.reshape(n, seeds, m).transpose(1, 0, 2)
            return g * cache["Z_norm"] + b
        if running is None:  # batch norm: the seeds' units one under the other, as rows
            Z, cache["bn"] = bn.forward(Z.reshape(seeds * n, m), g.reshape(-1, 1), b.reshape(-1, 1))
        else:
            Z = bn.inference(Z.reshape(seeds * n, m), g.reshape(-1, 1), b.reshape(-1, 1),
                             running[f"mean{l}"].reshape(-1, 1), running[f"var{l}"].reshape(-1, 1))
        return Z.reshape(seeds, n, m)
    return mlp.layers_forward(P, A, normalize)


def backward(P, probs, Y, caches, bn=None, scale=None):
    """Gradients of each seed's mean cross-entropy, stacked, same keys as `P`, times `scale` if given
    (one per seed, shape (seeds, 1, 1): see `mlp.layers_backward`)."""
    def normalize_backward(l, dZ, cache, grads):
        seeds, n, m = dZ.shape
        if _layer_norm(bn):
            grads[f"gamma{l}"] = np.einsum("snm,snm->sn", dZ, cache["Z_norm"])[..., None]
            grads[f"beta{l}"] = np.einsum("snm->sn", dZ)[..., None]
            dZ_hat = (P[f"gamma{l}"] * dZ).transpose(1, 0, 2).reshape(n, seeds * m)
            return bn.backward(dZ_hat, cache["bn"])[0].reshape(n, seeds, m).transpose(1, 0, 2)
        dZ, dgamma, dbeta = bn.backward(dZ.reshape(seeds * n, m), cache["bn"])
        grads[f"gamma{l}"], grads[f"beta{l}"] = dgamma.reshape(seeds, n, 1), dbeta.reshape(seeds, n, 1)
        return dZ.reshape(seeds, n, m)
    return mlp.layers_backward(P, probs, Y, caches, normalize_backward, scale)


def evaluate(P, running, X, y, bn=None):
    """Accuracy of every seed on (X, y), in inference mode: ndarray of shape (seeds,)."""
    seeds = next(iter(P.values())).shape[0]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return mlp.chunked_accuracy(X, y, lambda X_chunk: forward(
            P, np.broadcast_to(X_chunk, (seeds,) + X_chunk.shape), bn, running or None)[0])


def train(init, seeds, X, y, lr, epochs, batch_size, bn=None, dev=None, momentum=0.9, on_step=None):
    """`mlp.train` for every seed of `seeds`, in one loop.

    Parameters
    ----------
    init : callable, ``init(seed) -> params`` (a dict as `mlp.init_params` returns)
    seeds : list of int; seed s shuffles with ``np.random.default_rng(s + 1)``
    X : ndarray of shape (n_x, m); y : ndarray of shape (m,)
    lr : float, or a sequence of floats, one per seed (a seed may repeat: a learning-rate sweep)
    bn, dev, momentum : as in `mlp.train`
    on_step : callable, optional
        Called as ``on_step(P, running)`` after every update, with the stacked parameters and running
        averages (every array with a leading seed axis), to record what training does.

    Returns
    -------
    runs : list of (params, running, history), one per seed, as `mlp.train` returns them, except that
        ``history["train_acc"]`` holds one value, the accuracy on (X, y) after the last finished
        epoch (empty if none finished): evaluating the whole training set after every epoch would
        cost about as much as training on it. A run whose loss stops being finite keeps the
        parameters and history of that moment.
    """
    P = _stack([init(s) for s in seeds])
    S = len(seeds)
    lr = np.broadcast_to(np.asarray(lr, dtype=float), (S,)).reshape(S, 1, 1)
    running = _Running(mlp.init_running(init(seeds[0])) if bn is not None and not _layer_norm(bn) else {}, S)
    rngs = [np.random.default_rng(s + 1) for s in seeds]
    Y = np.eye(P[f"W{mlp._depth(P)}"].shape[1])[:, y]
    histories = [{"loss": [], "train_acc": [], "dev_acc": []} for _ in seeds]
    step_losses, steps_alive = [], [None] * S  # every step's losses (S,); each diverged seed's number of steps
    alive, final = np.ones(S, dtype=bool), [None] * S
    epoch_end = [None] * S  # each seed's (stacked params, running) after its last finished epoch
    m = X.shape[1]
    for _ in range(epochs):
        orders = np.stack([rng.permutation(m) for rng in rngs])
        for start in range(0, m, batch_size):
            idx = orders[:, start:start + batch_size]
            if idx.shape[1] < 2 and running.layers:
                continue
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                Yb = Y[:, idx].transpose(1, 0, 2)
                probs, caches = forward(P, X[:, idx].transpose(1, 0, 2), bn)
                losses = -np.sum(Yb * np.log(probs + 1e-12), axis=(1, 2)) / idx.shape[1]
                step_losses.append(losses)
                for s in np.flatnonzero(alive & ~np.isfinite(losses)):
                    alive[s], steps_alive[s] = False, len(step_losses)
                    final[s] = ({k: v[s].copy() for k, v in P.items()},
                                {k: v[s].copy() for k, v in running.stacked().items()})
                if not alive.any():
                    break
                steps = backward(P, probs, Yb, caches, bn, scale=lr)  # lr * gradient, for every seed
                P = {k: P[k] - steps[k] for k in P}
                running = running.update(bn, caches, momentum)
            if on_step is not None:
                on_step(P, running.stacked())
        if not alive.any():
            break
        state = (P, running.stacked())
        for s in np.flatnonzero(alive):
            epoch_end[s] = state
        if dev is not None:
            accs = evaluate(*state, *dev, bn)
            for s in np.flatnonzero(alive):
                histories[s]["dev_acc"].append(float(accs[s]))
    for state in {id(state): state for state in epoch_end if state is not None}.values():
        accs = evaluate(*state, X, y, bn)  # once per distinct epoch end: once unless a seed diverged
        for s in (s for s in range(S) if epoch_end[s] is state):
            histories[s]["train_acc"].append(float(accs[s]))
    losses = np.array(step_losses).reshape(len(step_losses), S)
    for s in range(S):
        histories[s]["loss"] = losses[:steps_alive[s], s].tolist()
    running = running.stacked()
    for s in np.flatnonzero(alive):
        final[s] = ({k: v[s] for k, v in P.items()}, {k: v[s] for k, v in running.items()})
    return [(params, run_avgs, history) for (params, run_avgs), history in zip(final, histories)]


class _Running:
    """The running averages of every batch-normalized layer of every seed, kept as one column: the seeds'
    units one under the other (as `forward` stacks them), then the next layer's. Every row is one unit's
    own average, so one call of `update_running_stats` per step updates all the layers at once."""

    def __init__(self, first, seeds, mean=None, var=None):
        """first: `mlp.init_running` of one seed's parameters ({} for none); seeds: how many seeds."""
        self.first, self.seeds = first, seeds
        self.layers = sorted(int(k[4:]) for k in first if k.startswith("mean"))
        if mean is None and self.layers:
            mean, var = (np.concatenate([np.tile(first[f"{k}{l}"], (seeds, 1)) for l in self.layers])
                         for k in ("mean", "var"))
        self.mean, self.var = mean, var

    def update(self, bn, caches, momentum):
        """New `_Running` after one step whose layers' inputs are in `caches` (`forward`'s)."""
        if not self.layers:
            return self
        Z = np.concatenate([caches[l - 1]["Z_pre_bn"].reshape(-1, caches[l - 1]["Z_pre_bn"].shape[-1])
                            for l in self.layers])
        mean, var = bn.update_running_stats(self.mean, self.var, Z, momentum=momentum)
        return _Running(self.first, self.seeds, mean, var)

    def stacked(self):
        """{"mean1": (seeds, n_1, 1), "var1": ..., ...}, views of the column."""
        out, start = {}, 0
        for l in self.layers:
            n = self.first[f"mean{l}"].shape[0]
            rows = slice(start, start + self.seeds * n)
            out[f"mean{l}"], out[f"var{l}"] = (a[rows].reshape(self.seeds, n, 1) for a in (self.mean, self.var))
            start += self.seeds * n
        return out
