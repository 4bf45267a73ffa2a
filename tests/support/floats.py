"""Moving every float of decoded data, as another machine's BLAS might move it."""
import numpy as np


def floats_mapped(value, move):
    """`value` (decoded data) with every float array and float x replaced by `move(x as a float64 array)`."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" or isinstance(value, float):
        moved = move(np.array(value, dtype=float))
        return float(moved) if isinstance(value, float) else moved.astype(value.dtype)
    if isinstance(value, dict):
        return {k: floats_mapped(v, move) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(floats_mapped(v, move) for v in value)
    return value
