"""Centered differences: the numerical gradient a backward pass is checked against."""
import numpy as np


def centered_differences(loss, arrays, h=1e-6):
    """The gradient of a scalar function of several arrays, one entry at a time.

    Parameters
    ----------
    loss : callable
        ``loss(*arrays) -> float``; each call receives fresh copies of `arrays`, one entry
        of one of them moved by +h or -h.
    arrays : sequence of float ndarrays
    h : float, the step

    Returns
    -------
    grads : list of ndarrays, ``grads[k]`` shaped like ``arrays[k]``: entry by entry,
        ``(loss(x + h) - loss(x - h)) / (2 h)``
    """
    grads = []
    for k, x in enumerate(arrays):
        grad = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            plus, minus = [a.copy() for a in arrays], [a.copy() for a in arrays]
            plus[k][idx] += h
            minus[k][idx] -= h
            grad[idx] = (loss(*plus) - loss(*minus)) / (2 * h)
        grads.append(grad)
    return grads
