"""The wire: what crosses from a student's process to the judge, as plain data only.

Each test encodes a value as the worker would, passes it through JSON as the pipe does, and
decodes it as the judge would, in the style of nbgrader's preprocessor tests: one small
input, one expected output.
"""
import base64
import json
import pickle

import numpy as np
import pytest

from autograder.worker import wire
from autograder.worker.wire import MAX_ARRAY_BYTES, MAX_DEPTH, MAX_ITEMS, Opaque, decode, encode


def through_the_pipe(value):
    return decode(json.loads(json.dumps(encode(value))))


@pytest.mark.parametrize("value", [
    0, -3, 2**62, 1.5, -0.0, True, False, None, "", "text with unicode: \u00e9\u2192",
    (1, 2.0), [1, [2, (3,)]], {"a": 1, "b": [1.0, None]}, (), [],
], ids=repr)
def test_plain_values_come_back_equal_and_of_the_same_type(value):
    back = through_the_pipe(value)
    assert back == value and type(back) is type(value)
    for a, b in zip(back.values() if isinstance(back, dict) else back if isinstance(back, (list, tuple)) else [],
                    value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else []):
        assert type(a) is type(b)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=repr)
def test_non_finite_floats_come_back(value):
    back = through_the_pipe(value)
    assert type(back) is float and (np.isnan(back) if np.isnan(value) else back == value)


@pytest.mark.parametrize("array", [
    np.arange(6, dtype=np.float64).reshape(2, 3), np.array([[1, 2]], dtype=np.int32), np.zeros((0, 4)),
    np.array([1 + 2j]), np.array([True, False]), np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    np.arange(12.0).reshape(3, 4)[:, ::2], np.float32([np.nan, np.inf]),
], ids=["float64", "int32", "empty", "complex", "bool", "fortran-order", "strided", "float32-nan"])
def test_arrays_keep_dtype_shape_and_values(array):
    back = through_the_pipe(array)
    assert type(back) is np.ndarray and back.dtype == array.dtype and back.shape == array.shape
    assert np.array_equal(back, array, equal_nan=array.dtype.kind in "fc")
    assert back.flags.writeable  # a copy, not a view of the decoded bytes


def test_numpy_scalars_keep_their_type():
    for value in (np.float64(0.25), np.int64(-7), np.float32(1.5), np.bool_(True)):
        back = through_the_pipe(value)
        assert type(back) is type(value) and back == value


class ClaimsToEqualEverything:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value,name", [
    ({1, 2}, "builtins.set"),
    (ClaimsToEqualEverything(), "ClaimsToEqualEverything"),
    (np.array(["a"]), "numpy.ndarray of dtype <U1"),
    (np.array([object()]), "numpy.ndarray of dtype object"),
    (np.ma.masked_array([1.0]), "MaskedArray"),
    (2**63, "int too large"),
    ({1: "a"}, "builtins.dict"),
    (lambda: 0, "function"),
])
def test_other_types_arrive_as_their_name_only(value, name):
    back = through_the_pipe(value)
    assert isinstance(back, Opaque) and name in back.type_name
    assert wire.type_name(back) == back.type_name


def test_type_name_of_a_plain_value_is_its_type():
    assert wire.type_name([1]) == "list" and wire.type_name(np.zeros(1)) == "ndarray"


def test_nesting_deeper_than_the_limit_is_cut():
    value = 1.0
    for _ in range(MAX_DEPTH + 3):
        value = [value]
    back, depth = through_the_pipe(value), 0
    while isinstance(back, list):
        back, depth = back[0], depth + 1
    assert isinstance(back, Opaque) and back.type_name == "nesting too deep" and depth == MAX_DEPTH + 1


def test_long_sequences_and_dicts_are_cut_at_the_item_limit():
    data = encode(list(range(MAX_ITEMS + 10)))
    assert data["len"] == MAX_ITEMS + 10 and len(decode(data)) == MAX_ITEMS
    keys = {f"k{i}": i for i in range(MAX_ITEMS + 1)}
    assert len(through_the_pipe(keys)) == MAX_ITEMS


def test_strings_are_cut():
    assert through_the_pipe("x" * 5000) == "x" * 2000


def test_an_array_over_the_size_limit_is_not_sent():
    big = np.zeros(MAX_ARRAY_BYTES // 8 + 1)
    data = encode(big)
    assert "data" not in data and isinstance(decode(data), Opaque)


@pytest.mark.parametrize("data", [
    None, [], "text", {}, {"unknown": 1},
    {"ndarray": "|O", "shape": [1], "data": ""},  # an object dtype would unpickle
    {"ndarray": "<f8", "shape": [3], "data": "AAAA"},  # too few bytes for the shape
    {"ndarray": "<f8", "shape": [1], "data": "not base64!"},
    {"ndarray": "not a dtype", "shape": [1], "data": ""},
    {"npscalar": "|O", "data": ""},
    {"py": "1", "type": "int"}, {"py": 1, "type": "set"}, {"py": [1], "type": "float"},
    {"tuple": 5}, {"float": "one"},
])
def test_malformed_data_decodes_to_opaque_and_never_raises(data):
    assert isinstance(decode(data), Opaque)


def test_decoding_never_unpickles():
    """A pickled object sent as the bytes of an object array comes back as a label, not an object."""
    payload = pickle.dumps(ClaimsToEqualEverything())
    for data in ({"ndarray": "|O", "shape": [1], "data": base64.b64encode(payload).decode()},
                 {"npscalar": "|O", "data": base64.b64encode(payload).decode()}):
        assert isinstance(decode(data), Opaque)


def test_roundtrip_is_what_the_judge_sees():
    value = (np.arange(3.0), {1, 2})
    back = wire.roundtrip(value)
    assert np.array_equal(back[0], value[0]) and isinstance(back[1], Opaque)
