"""Plain-data encoding of what a student's function returned.

Everything that crosses from student code to the judge goes through `encode` (in the
student's process) and `decode` (in the judge's). Only JSON and raw numeric bytes cross:
never pickle, never a live object. An object of any other type is reduced to its type
name, so an object that "claims to equal everything" arrives as a label and fails the
type checks.
"""
import base64

import numpy as np

MAX_DEPTH = 6
MAX_ITEMS = 64
#: The largest array sent whole (lesson 04's weights, the largest of any case, are 1.6 MB); this
#: bounds what the grader keeps of a submission's results.
MAX_ARRAY_BYTES = 4 * 2**20


class Opaque:
    """Stand-in for a value of a type the wire does not carry.

    Parameters
    ----------
    type_name : str
        Qualified name of the original type, e.g. ``"builtins.set"``.
    """

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name}>"


def _type_name(obj):
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"[:120]


def type_name(value):
    """The type of a decoded value as feedback names it: ``"list"``, or an `Opaque` value's
    original type, e.g. ``"builtins.set"``."""
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def encode(obj, depth=0):
    """Encode a return value as JSON-ready data.

    Parameters
    ----------
    obj : object
        ndarray (numeric dtypes), numpy scalar, Python number, bool, str, None, or
        tuple/list/dict of those. Anything else is encoded by its type name only.

    Returns
    -------
    data : dict
    """
    if depth > MAX_DEPTH:
        return {"opaque": "nesting too deep"}
    t = type(obj)
    if t is np.ndarray:
        if obj.dtype.kind not in "biufc" or obj.nbytes > MAX_ARRAY_BYTES:
            return {"opaque": f"numpy.ndarray of dtype {obj.dtype} and {obj.nbytes} bytes"}
        raw = np.ascontiguousarray(obj).tobytes()
        return {"ndarray": obj.dtype.str, "shape": list(obj.shape),
                "data": base64.b64encode(raw).decode("ascii")}
    if isinstance(obj, np.generic) and t.__module__ == "numpy" and obj.dtype.kind in "biufc":
        return {"npscalar": obj.dtype.str, "data": base64.b64encode(obj.tobytes()).decode("ascii")}
    if t in (bool, int, float, str) or obj is None:
        if t is float and not np.isfinite(obj):
            return {"float": repr(obj)}
        if t is int and abs(obj) > 2**62:
            return {"opaque": "int too large"}
        if t is str:
            return {"str": obj[:2000]}
        return {"py": obj, "type": t.__name__}
    if t in (tuple, list):
        items = [encode(x, depth + 1) for x in obj[:MAX_ITEMS]]
        return {t.__name__: items, "len": len(obj)}
    if t is dict:
        keys = list(obj)[:MAX_ITEMS]
        if all(type(k) is str for k in keys):
            return {"dict": {k[:200]: encode(obj[k], depth + 1) for k in keys}, "len": len(obj)}
    return {"opaque": _type_name(obj)}


def decode(data, depth=0):
    """Rebuild a value from `encode`'s output; never executes anything.

    Unknown or malformed data decodes to an `Opaque` value.
    """
    try:
        if depth > MAX_DEPTH + 1 or not isinstance(data, dict):
            return Opaque("malformed data")
        if "ndarray" in data:
            dtype = np.dtype(data["ndarray"])
            if dtype.kind not in "biufc":
                return Opaque("malformed array")
            raw = base64.b64decode(data["data"], validate=True)
            return np.frombuffer(raw, dtype=dtype).reshape(data["shape"]).copy()
        if "npscalar" in data:
            dtype = np.dtype(data["npscalar"])
            if dtype.kind not in "biufc":
                return Opaque("malformed scalar")
            return np.frombuffer(base64.b64decode(data["data"], validate=True), dtype=dtype)[0]
        if "float" in data:
            return float(data["float"])
        if "str" in data:
            return str(data["str"])
        if "py" in data:
            value = data["py"]
            expected = {"bool": bool, "int": int, "float": float, "NoneType": type(None)}[data["type"]]
            if type(value) is int and expected is float:
                value = float(value)
            if type(value) is not expected:
                return Opaque("malformed number")
            return value
        if "tuple" in data:
            return tuple(decode(x, depth + 1) for x in data["tuple"])
        if "list" in data:
            return [decode(x, depth + 1) for x in data["list"]]
        if "dict" in data:
            return {str(k): decode(v, depth + 1) for k, v in data["dict"].items()}
        if "opaque" in data:
            return Opaque(str(data["opaque"])[:200])
    except (KeyError, ValueError, TypeError, OverflowError):
        pass
    return Opaque("malformed data")


def roundtrip(obj):
    """What the judge would see of `obj`: ``decode(encode(obj))``."""
    return decode(encode(obj))
