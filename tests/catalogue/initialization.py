"""Lesson 04 submissions with known verdicts."""
from tests.catalogue import Variant

LESSON = "04_initialization"

STD_BRANCHES = '''import math

def init_std(method, n_in, n_out, scale=0.01):
    """Branch by branch, with math.sqrt: different from the reference, still right."""
    if method == "he":
        return np.sqrt(2 / n_in)  # a numpy float64 is a float too
    elif method == "lecun":
        return 1 / math.sqrt(n_in)
    elif method == "glorot":
        return math.sqrt(2.0 / (n_out + n_in))
    elif method == "random":
        return scale * 1.0
    elif method == "zeros":
        return 0.0
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


def std_with(lecun, he, glorot):
    return f'''def init_std(method, n_in, n_out, scale=0.01):
    if method == "zeros":
        return 0.0
    if method == "random":
        return float(scale)
    if method not in ("lecun", "he", "glorot"):
        raise ValueError(method)
    formulas = {{"lecun": {lecun}, "he": {he}, "glorot": {glorot}}}
    return float(formulas[method])
'''


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
    Variant("fan-out", answers={"init_std": std_with("np.sqrt(1 / n_out)", "np.sqrt(2 / n_out)",
                                                     "np.sqrt(2 / (n_in + n_out))")},
            lose={"init_std_fan_in": "fan-out instead of fan-in", "init_params_statistics": "fan-out instead of fan-in"}),
    Variant("variance-not-std", answers={"init_std": std_with("1 / n_in", "2 / n_in", "2 / (n_in + n_out)")},
            lose={"init_std_fan_in": "variance instead of the standard deviation",
                  "init_std_glorot": "variance instead of the standard deviation",
                  "init_params_statistics": "variance instead of the standard deviation"}),
    Variant("he-without-2", answers={"init_std": std_with("np.sqrt(1 / n_in)", "np.sqrt(1 / n_in)",
                                                          "np.sqrt(2 / (n_in + n_out))")},
            lose={"init_std_fan_in": "that is LeCun's standard deviation", "init_params_statistics": "LeCun's"}),
    Variant("glorot-uniform-bound", answers={"init_std": std_with("np.sqrt(1 / n_in)", "np.sqrt(2 / n_in)",
                                                                  "np.sqrt(6 / (n_in + n_out))")},
            lose={"init_std_glorot": "bound a of Glorot's uniform version", "init_params_statistics": "bound"}),
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
    Variant("unknown-method-keyerror", answers={"init_std": std_with("np.sqrt(1 / n_in)", "np.sqrt(2 / n_in)",
                                                                      "np.sqrt(2 / (n_in + n_out))").replace(
        '    if method not in ("lecun", "he", "glorot"):\n        raise ValueError(method)\n', "")},
            lose={"init_std_simple": "raise ValueError(...) yourself"}),
    Variant("unknown-method-falls-through", answers={"init_std": '''def init_std(method, n_in, n_out, scale=0.01):
    if method == "zeros":
        return 0.0
    if method == "random":
        return float(scale)
    if method == "he":
        return float(np.sqrt(2 / n_in))
    if method == "glorot":
        return float(np.sqrt(2 / (n_in + n_out)))
    return float(np.sqrt(1 / n_in))
'''}, lose={"init_std_simple": "must not fall through"}),
    Variant("counts-hard-coded", hidden_only=True, answers={"count_distinct_units": count_with(
        "return {6: 3, 5: 1}[W.shape[0]]  # the answers of the visible cases")},
            lose={"symmetry_distinct_units": None}),
    Variant("untouched", untouched=True, lose_all=True),
]
