"""Helpers shared by the lessons' property checks: each raises a `Failure` naming what is wrong
(type, shape, dtype, non-finite values, the worst entry off)."""
import numpy as np

from autograder.checks.item import Failure
from autograder.worker import wire


def expect_ndarray(value, name):
    """Fail unless `value` is a numpy.ndarray (exactly: not a subclass, not an `Opaque` value)."""
    if type(value) is not np.ndarray:
        raise Failure(f"{name} should be a numpy.ndarray, got {wire.type_name(value)}")
    return value


def expect_array(value, name, shape, dtype=np.float64):
    """Fail unless `value` is an ndarray of exactly `shape` and `dtype`."""
    expect_ndarray(value, name)
    if value.shape != tuple(shape):
        hint = None
        if value.shape == tuple(shape)[::-1] and len(shape) == 2:
            hint = "the array is transposed (examples are columns: shape (n_features, m))"
        elif len(shape) == 2 and shape[1] == 1 and value.shape in ((shape[0],), (1, shape[0])):
            hint = "reduced over the wrong axis or without keepdims=True; statistics are (n, 1) columns"
        raise Failure(f"{name} should have shape {tuple(shape)}, got {value.shape}", hint)
    if value.dtype != dtype:
        raise Failure(f"{name} should have dtype {np.dtype(dtype)}, got {value.dtype}")
    if not np.all(np.isfinite(value)):
        raise Failure(f"{name} contains NaN or inf", "a division by zero: add eps inside the square root")
    return value


def expect_tuple(value, name, length):
    if type(value) is not tuple or len(value) != length:
        got = wire.type_name(value)
        raise Failure(f"{name} should return a tuple of {length} values, got {got}"
                      + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    return value


def expect_close(actual, wanted, what, rtol=1e-6, atol=1e-8, row_name="feature"):
    """Fail with the worst entry when two same-shaped arrays differ."""
    err = np.abs(actual - wanted)
    bad = ~(err <= atol + rtol * np.abs(wanted))  # NaN counts as wrong
    if np.any(bad):
        i = np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -1)), err.shape)
        where = f"{row_name} {i[0]}" + (f", column {i[1]}" if err.ndim == 2 and err.shape[1] > 1 else "")
        raise Failure(f"{what}: {where} is off by {err[i]:.3g} ({int(bad.sum())} of {bad.size} entries wrong)")
