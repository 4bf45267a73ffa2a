"""Real data sets that ship with the course (see data/SOURCES.md), examples as columns."""
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"


def _load(name):
    with np.load(DATA / f"{name}.npz", allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def load_digits():
    """The UCI hand-written digits, 8x8 images.

    Returns
    -------
    X : ndarray of shape (64, 1797), float64 pixel intensities in [0, 16]
    y : ndarray of shape (1797,), int labels 0-9
    """
    d = _load("digits")
    return d["X"].T.astype(np.float64), d["y"].astype(np.int64)


def load_breast_cancer():
    """The Wisconsin diagnostic breast-cancer data (30 features of very different scales).

    Returns
    -------
    X : ndarray of shape (30, 569)
    y : ndarray of shape (569,), 1 = benign, 0 = malignant
    feature_names : list of str
    """
    d = _load("breast_cancer")
    return d["X"].T.copy(), d["y"].astype(np.int64), [str(s) for s in d["feature_names"]]


def load_wine():
    """The UCI wine recognition data (13 features, 3 classes).

    Returns
    -------
    X : ndarray of shape (13, 178)
    y : ndarray of shape (178,)
    feature_names : list of str
    """
    d = _load("wine")
    return d["X"].T.copy(), d["y"].astype(np.int64), [str(s) for s in d["feature_names"]]


def split(X, y, rng, fractions=(0.6, 0.2, 0.2)):
    """Shuffle the examples (columns) and split them into train, dev and test sets.

    Returns
    -------
    splits : tuple of (X_part, y_part) for train, dev, test
    """
    m = X.shape[1]
    order = rng.permutation(m)
    ends = np.cumsum(np.round(np.array(fractions) * m).astype(int))[:-1]
    return tuple((X[:, idx], y[idx]) for idx in np.split(order, ends))


def one_hot(y, classes):
    """Labels (m,) -> one-hot columns of shape (classes, m)."""
    Y = np.zeros((classes, y.size))
    Y[y, np.arange(y.size)] = 1.0
    return Y
