"""Lesson 04 submissions with known verdicts."""
from autograder.authoring.catalogue import Variant, edited

LESSON = "04_initialization"

STD_BRANCHES = '''import math

def init_std(method, n_in, n_out, scale=0.01, negative_slope=0, mode="fan_in"):
    """Branch by branch, with math.sqrt: different from the reference, still right."""
    if method == "random":
        return scale * 1.0
    elif method == "zeros":
        return 0.0
    if mode == "fan_in":
        fan = n_in
    elif mode == "fan_out":
        fan = n_out
    else:
        raise ValueError(mode)
    if method == "he":
        return np.sqrt(2 / fan) / math.hypot(1, negative_slope)  # a numpy float64 is a float too
    elif method == "lecun":
        return 1 / math.sqrt(fan)
    elif method == "glorot":
        return math.sqrt(2.0 / (n_out + n_in))
    raise ValueError(method)
'''

PARAMS_OTHER_ORDER = '''def initialize_parameters(layer_dims, method, rng, scale=0.01):
    """Draws every layer first, each one transposed, then scales: another order of draws."""
    L = len(layer_dims) - 1
    raw = [rng.standard_normal((layer_dims[l - 1], layer_dims[l])).T for l in range(1, L + 1)]
    params = {}
    for l, Z in enumerate(raw, start=1):
        params["W" + str(l)] = Z * init_std(method, layer_dims[l - 1], layer_dims[l], scale)
        params["b" + str(l)] = np.zeros((layer_dims[l], 1), dtype=float)
    return params
'''

COUNT_PAIRWISE = '''def count_distinct_units(W, tol=1e-8):
    """All pairwise row distances at once; a unit is new unless it matches an earlier row."""
    close = np.abs(W[:, None, :] - W[None, :, :]).max(axis=2) <= tol
    return int(sum(1 for i in range(W.shape[0]) if not close[i, :i].any()))
'''


def params_with(draw, bias="np.zeros((n_out, 1))"):
    return f'''def initialize_parameters(layer_dims, method, rng, scale=0.01):
    params = {{}}
    for l in range(1, len(layer_dims)):
        n_in, n_out = layer_dims[l - 1], layer_dims[l]
        std = init_std(method, n_in, n_out, scale)
        params["W%d" % l] = {draw}
        params["b%d" % l] = {bias}
    return params
'''


def std_with(lecun, he, glorot, fan='n_in if mode == "fan_in" else n_out'):
    """init_std with these formulas (in `fan`, the slope `a`, n_in and n_out)."""
    return f'''def init_std(method, n_in, n_out, scale=0.01, negative_slope=0.0, mode="fan_in"):
    if method == "zeros":
        return 0.0
    if method == "random":
        return float(scale)
    if method not in ("lecun", "he", "glorot"):
        raise ValueError(method)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan, a = {fan}, negative_slope
    formulas = {{"lecun": {lecun}, "he": {he}, "glorot": {glorot}}}
    return float(formulas[method])
'''


LECUN, HE, GLOROT = "np.sqrt(1 / fan)", "np.sqrt(2 / ((1 + a ** 2) * fan))", "np.sqrt(2 / (n_in + n_out))"


def count_with(body):
    return f'''def count_distinct_units(W, tol=1e-8):
    {body}
'''


VARIANTS = [
    Variant("correct"),
    Variant("correct-different", answers={"init_std": STD_BRANCHES, "initialize_parameters": PARAMS_OTHER_ORDER,
                                          "count_distinct_units": COUNT_PAIRWISE}),
    Variant("uniform-rand", answers={"initialize_parameters": params_with("std * rng.random((n_out, n_in))")},
            lose={"init_params_statistics": "uniform draws on [0, 1)"}),
    Variant("uniform-symmetric",
            answers={"initialize_parameters": params_with("rng.uniform(-np.sqrt(3) * std, np.sqrt(3) * std, (n_out, n_in))")},
            lose={"init_params_statistics": "kurtosis 1.8"}),
    Variant("W-transposed", answers={"initialize_parameters": params_with("std * rng.standard_normal((n_in, n_out))")},
            lose={"init_params_shapes": "W transposed"}),
    Variant("fan-out", answers={"init_std": std_with(LECUN, HE, GLOROT, fan='n_out if mode == "fan_in" else n_in')},
            lose={"init_std_fan_in": "fan-out instead of fan-in", "init_params_statistics": "fan-out instead of fan-in",
                  "init_std_leaky_relu": "fan-out instead of fan-in", "init_std_fan_out": "mode='fan_out' ignored"}),
    Variant("variance-not-std", answers={"init_std": std_with("1 / fan", "2 / ((1 + a ** 2) * fan)", "2 / (n_in + n_out)")},
            lose={item: "the weights are multiplied by sqrt(variance)" for item in (
                "init_std_fan_in", "init_std_glorot", "init_params_statistics", "init_std_leaky_relu",
                "init_std_fan_out")}),
    Variant("he-without-2", answers={"init_std": std_with(LECUN, "np.sqrt(1 / fan)", GLOROT)},
            lose={"init_std_fan_in": "that is LeCun's standard deviation", "init_params_statistics": "LeCun's",
                  "init_std_leaky_relu": "that is LeCun's standard deviation",
                  "init_std_fan_out": "that is LeCun's standard deviation"}),
    Variant("glorot-uniform-bound", answers={"init_std": std_with(LECUN, HE, "np.sqrt(6 / (n_in + n_out))")},
            lose={"init_std_glorot": "bound a of Glorot's uniform version", "init_params_statistics": "bound"}),
    Variant("leaky-slope-ignored", answers={"init_std": std_with(LECUN, "np.sqrt(2 / fan)", GLOROT)},
            lose={"init_std_leaky_relu": "negative_slope ignored"}),
    Variant("leaky-1-plus-a", answers={"init_std": std_with(LECUN, "np.sqrt(2 / ((1 + a) * fan))", GLOROT)},
            lose={"init_std_leaky_relu": "1 + a instead of 1 + a**2"}),
    Variant("leaky-multiplied", answers={"init_std": std_with(LECUN, "np.sqrt(2 * (1 + a ** 2) / fan)", GLOROT)},
            lose={"init_std_leaky_relu": "multiplied by 1 + a**2 instead of divided"}),
    Variant("mode-ignored", answers={"init_std": std_with(LECUN, HE, GLOROT, fan="n_in")},
            lose={"init_std_fan_out": "mode='fan_out' ignored"}),
    Variant("unknown-mode-falls-through", answers={"init_std": std_with(
        LECUN, HE, GLOROT, fan='n_out if mode == "fan_out" else n_in').replace(
        '    if mode not in ("fan_in", "fan_out"):\n        raise ValueError(mode)\n', "")},
            lose={"init_std_fan_out": "unknown mode must not fall through"}),
    Variant("without-the-new-keywords", answers={"init_std": '''def init_std(method, n_in, n_out, scale=0.01):
    """The exercise before negative_slope and mode: right for every earlier item."""
    if method not in ("zeros", "random", "lecun", "he", "glorot"):
        raise ValueError(method)
    return {"zeros": 0.0, "random": float(scale), "lecun": float(np.sqrt(1 / n_in)), "he": float(np.sqrt(2 / n_in)),
            "glorot": float(np.sqrt(2 / (n_in + n_out)))}[method]
'''}, lose={"init_std_leaky_relu": None, "init_std_fan_out": None}),
    Variant("prediction-leaky-stays", answers={"prediction_leaky_he": 'def prediction_leaky_he():\n    return "stays"\n'},
            lose={"prediction_leaky_he_test": "what 30 layers make of it"}),
    Variant("random-biases", answers={"initialize_parameters": params_with(
        "std * rng.standard_normal((n_out, n_in))", bias="std * rng.standard_normal((n_out, 1))")},
            lose={"init_params_statistics": "random biases are not needed"}),
    Variant("global-random", answers={"initialize_parameters": params_with("std * np.random.randn(n_out, n_in)")},
            lose={"init_params_uses_rng": "global random state"}),
    Variant("counts-columns", answers={"count_distinct_units": count_with(
        "return len({tuple(np.round(column / tol)) for column in W.T})")},
            lose={"symmetry_distinct_units": "counted distinct columns"}),
    Variant("exact-comparison", answers={"count_distinct_units": count_with(
        "return len(np.unique(W, axis=0))")},
            lose={"symmetry_distinct_units": "compared exactly"}),
    Variant("unknown-method-keyerror", answers={"init_std": std_with(LECUN, HE, GLOROT).replace(
        '    if method not in ("lecun", "he", "glorot"):\n        raise ValueError(method)\n', "")},
            lose={"init_std_simple": "raise ValueError(...) yourself"}),
    Variant("unknown-method-falls-through", answers={"init_std": '''def init_std(method, n_in, n_out, scale=0.01, negative_slope=0.0, mode="fan_in"):
    if method == "zeros":
        return 0.0
    if method == "random":
        return float(scale)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    fan = n_in if mode == "fan_in" else n_out
    if method == "he":
        return float(np.sqrt(2 / ((1 + negative_slope ** 2) * fan)))
    if method == "glorot":
        return float(np.sqrt(2 / (n_in + n_out)))
    return float(np.sqrt(1 / fan))
'''}, lose={"init_std_simple": "must not fall through"}),
    Variant("counts-hard-coded", hidden_only=True, answers={"count_distinct_units": count_with(
        "return {6: 3, 5: 1, 3: 2}[W.shape[0]]  # the answers of the visible cases")},
            lose={"symmetry_distinct_units": None}),
    Variant("counts-copies", answers={"count_distinct_units": count_with(
        "kept = []\n    for row in W:\n        if all(np.max(np.abs(row - k)) > tol for k in kept):\n"
        "            kept.append(row)\n    return W.shape[0] - len(kept)")},
            lose={"symmetry_distinct_units": "counted the copies"}),
    Variant("uniform-plus-minus-std", answers={"initialize_parameters": params_with("rng.uniform(-std, std, (n_out, n_in))")},
            lose={"init_params_statistics": "only std / sqrt(3)"}),
    Variant("std-as-array", answers=edited(LESSON, "init_std", "return float(np.sqrt(gain / fan))",
                                           "return np.sqrt(np.array([gain / fan]))"),
            lose={item: "return float(...)" for item in ("init_std_fan_in", "init_std_glorot", "init_std_leaky_relu",
                                                         "init_std_fan_out")}),
    Variant("layers-numbered-from-0", answers={"initialize_parameters": params_with(
        "std * rng.standard_normal((n_out, n_in))").replace('"W%d" % l', '"W%d" % (l - 1)').replace(
        '"b%d" % l', '"b%d" % (l - 1)')},
            lose={item: "layers are numbered from 1" for item in ("init_params_shapes", "init_params_statistics",
                                                                  "init_params_uses_rng")}),
    Variant("bias-as-a-vector", answers={"initialize_parameters": params_with(
        "std * rng.standard_normal((n_out, n_in))", bias="np.zeros(n_out)")},
            lose={"init_params_shapes": "b[l] is a column"}),
    Variant("units-drawn-in-pairs", answers={"initialize_parameters": params_with(
        "np.repeat(std * rng.standard_normal((n_out // 2 + 1, n_in)), 2, axis=0)[:n_out]")},
            lose={"init_params_statistics": "the same random draw reused"}),
    Variant("seed-fixed-inside", answers={"initialize_parameters": params_with(
        "std * np.random.default_rng(0).standard_normal((n_out, n_in))")},
            lose={"init_params_uses_rng": "fixed inside the function"}),
    Variant("std-floor-division-for-one-input", answers=edited(
        LESSON, "init_std", "return float(np.sqrt(gain / fan))",
        "return float(np.sqrt(gain // fan if fan == 1 else gain / fan))"),
            lose={"init_std_leaky_relu": None}),
    Variant("count-ignores-tol", answers={"count_distinct_units": count_with(
        "kept = []\n    for row in W:\n        if all(np.max(np.abs(row - k)) > 1e-8 for k in kept):\n"
        "            kept.append(row)\n    return len(kept)")},
            lose={"symmetry_distinct_units": None}),
    Variant("untouched", untouched=True, lose_all=True),
]
