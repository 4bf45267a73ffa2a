"""Lesson 04, weight initialization: the graded items and their properties.

Conventions checked (see the lesson): W[l] has shape (n[l], n[l-1]) and b[l] is a zero
column (n[l], 1); the weights are standard normal draws times the method's standard
deviation: zeros 0, random `scale`, lecun sqrt(1/n[l-1]), he sqrt(2/n[l-1]),
glorot sqrt(2/(n[l-1] + n[l])). `init_std` also takes He's leaky-ReLU slope a
(`negative_slope`: sqrt(2/((1 + a^2) n[l-1]))) and a `mode`, "fan_out" putting n[l] in place
of n[l-1] for lecun and he.

Random weights are judged by their statistics, never against the reference's draws, so a
correct implementation that draws its numbers in another order keeps full marks. For a
layer of N weights the sample mean must lie within 6 standard errors (std / sqrt(N)) of 0,
the sample standard deviation within 6 relative standard errors (1 / sqrt(2 N)) of the
method's, and for N >= 1000 the sample kurtosis within 6 standard errors (sqrt(24 / N)) of
the normal's 3. A correct implementation fails one of these with probability about 2e-9 per
check; the cases use layers of 10^4 to 10^5 weights, so the bands are tight (about 2% on the
standard deviation) and every classic mistake falls far outside them.
"""
import numpy as np

from autograder.checks import Failure, Item, case_seed, expect_ndarray, prediction_item
from autograder.worker import wire

#: This lesson's graded items, in the master's order (`checks.items` reads them).
ITEMS = []

SIGMAS = 6.0

#: method -> (variance of each weight as a function of n_in = n[l-1] and n_out = n[l], formula)
VARIANCE = {
    "lecun": (lambda n_in, n_out: 1.0 / n_in, "sqrt(1 / n[l-1])"),
    "he": (lambda n_in, n_out: 2.0 / n_in, "sqrt(2 / n[l-1])"),
    "glorot": (lambda n_in, n_out: 2.0 / (n_in + n_out), "sqrt(2 / (n[l-1] + n[l]))"),
}


NAMES = {"lecun": "LeCun's", "he": "He's", "glorot": "Glorot's"}
METHODS = ("zeros", "random", *VARIANCE)
MODES = ("fan_in", "fan_out")


def fans(n_in, n_out, mode):
    """(the fan a fan-based method uses, the other one) for a mode."""
    return (n_in, n_out) if mode == "fan_in" else (n_out, n_in)


def formula_of(method, mode="fan_in", negative_slope=0.0):
    """How the course writes a method's standard deviation."""
    formula = VARIANCE[method][1]
    if method == "glorot":
        return formula
    if method == "he" and negative_slope:
        formula = f"sqrt(2 / ((1 + a**2) n[l-1])) with a = {negative_slope:g}"
    return formula.replace("n[l-1]", "n[l]") if mode == "fan_out" else formula


def wanted_std(method, n_in, n_out, scale, negative_slope=0.0, mode="fan_in"):
    """The standard deviation the course prescribes, and how to write it."""
    fixed = {"zeros": (0.0, "0"), "random": (float(scale), f"scale = {scale:g}")}
    if method in fixed:
        return fixed[method]
    variance, _ = VARIANCE[method]
    value = variance(*fans(n_in, n_out, mode)) / (1 + negative_slope ** 2 if method == "he" else 1)
    return float(np.sqrt(value)), formula_of(method, mode, negative_slope)


def likely_mistake(method, n_in, n_out, scale, got, rtol, negative_slope=0.0, mode="fan_in"):
    """The misconception whose standard deviation equals `got` (within `rtol`), if any."""
    wanted, formula = wanted_std(method, n_in, n_out, scale, negative_slope, mode)
    candidates = [
        (wanted ** 2, "the variance instead of the standard deviation: the weights are multiplied by "
                      "sqrt(variance)"),
        (wanted / np.sqrt(3), "uniform draws on [-std, std], whose standard deviation is only std / sqrt(3); "
                              "draw from the standard normal (rng.standard_normal)"),
    ]
    if method in ("lecun", "he"):
        fan, other_fan = fans(n_in, n_out, mode)
        candidates.append((wanted * np.sqrt(fan / other_fan),
                           "fan-out instead of fan-in: the variance uses n[l-1], the number of inputs of "
                                    "each unit of layer l (W[l] has shape (n[l], n[l-1]))" if mode == "fan_in" else
                           "mode='fan_out' ignored: fan-out puts n[l] = n_out, the number of units of the layer, in "
                           "place of n[l-1]"))
    if method in VARIANCE:
        candidates += [(wanted_std(name, n_in, n_out, scale, 0.0, mode)[0],
                        f"that is {NAMES[name]} standard deviation {formula_of(name, mode)}; {NAMES[method]} is {formula}")
                       for name in VARIANCE if name != method]
    if method == "he" and negative_slope:
        a2 = 1 + negative_slope ** 2
        candidates += [
            (wanted * np.sqrt(a2), "negative_slope ignored: with leaky ReLU each layer keeps (1 + a**2) / 2 of the "
                                   "mean square, not 1/2, so the variance 2 / n is divided by 1 + a**2"),
            (wanted * np.sqrt(a2 / (1 + negative_slope)), "1 + a instead of 1 + a**2: the negative half's mean "
                                                          "square is multiplied by a**2 (a squared), not by a"),
            (wanted * a2, "the variance multiplied by 1 + a**2 instead of divided by it: leaky ReLU keeps more of "
                          "the signal than ReLU, so it needs smaller weights"),
        ]
    specific = {
        "glorot": [(np.sqrt(1.0 / (n_in + n_out)), "Glorot & Bengio's variance is 2 / (n[l-1] + n[l]): "
                    "the factor 2 is missing"),
                   (np.sqrt(6.0 / (n_in + n_out)), "sqrt(6 / (n[l-1] + n[l])) is the bound a of Glorot's "
                    "uniform version U(-a, a), not a standard deviation; the standard deviation is "
                    "a / sqrt(3) = sqrt(2 / (n[l-1] + n[l]))")],
        "random": [(0.01, "the `scale` argument is ignored (0.01 is only its default)"),
                   (1.0, "the `random` method multiplies the standard normal draws by `scale`")],
    }
    candidates += specific.get(method, [])
    for value, hint in candidates:
        if not np.isclose(value, wanted, rtol=rtol, atol=0) and np.isclose(got, value, rtol=rtol, atol=1e-300):
            return hint
    return None


# ---- init_std --------------------------------------------------------------------------

def as_float(value):
    """A returned number as a Python float (np.float64 is a float too)."""
    return float(value) if isinstance(value, float) else value


def unknown(method, mode):
    """What a call should raise ValueError for ("method" or "mode"), or None."""
    if method not in METHODS:
        return "method"
    return "mode" if method in VARIANCE and mode not in MODES else None


def run_init_std(init_std, method, n_in, n_out, scale, **keywords):
    """The std; for a method or mode the lesson does not define, what was raised (the lesson
    asks for a ValueError) as ``{"raised": type name, "ValueError": bool}``. `keywords`
    (negative_slope, mode) are passed only by the cases that have them."""
    if not unknown(method, keywords.get("mode", "fan_in")):
        return init_std(method, n_in, n_out, scale=scale, **keywords)
    try:
        value = init_std(method, n_in, n_out, scale=scale, **keywords)
    except Exception as exc:  # raising is the expected outcome here
        return {"raised": type(exc).__name__[:60], "ValueError": isinstance(exc, ValueError)}
    return value


def unknown_option(call, value, what="method"):
    """Fail unless init_std raised a ValueError (`value` as `run_init_std` reports it)."""
    if isinstance(value, dict) and value.get("ValueError") is True:
        return
    if isinstance(value, dict):
        raise Failure(f"{call} should raise ValueError for an unknown {what}, raised {value.get('raised')}",
                      f"a lookup that fails raises KeyError (or another error); check the {what} and "
                      "raise ValueError(...) yourself")
    got = repr(value) if isinstance(value, float) else wire.type_name(value)
    raise Failure(f"{call} should raise ValueError for an unknown {what}, returned {got}",
                  f"an unknown {what} must not fall through to a default: a typo in its name would "
                  "go unnoticed; raise ValueError")


def std_value(inputs, value):
    method, n_in, n_out, scale = (inputs[k] for k in ("method", "n_in", "n_out", "scale"))
    slope, mode = inputs.get("negative_slope", 0.0), inputs.get("mode", "fan_in")
    call = f"init_std({method!r}, n_in={n_in}, n_out={n_out}, scale={scale:g}" + "".join(
        f", {k}={inputs[k]!r}" for k in ("negative_slope", "mode") if k in inputs) + ")"
    if unknown(method, mode):
        return unknown_option(call, value, unknown(method, mode))
    if isinstance(value, wire.Opaque) or not isinstance(value, float):
        got = wire.type_name(value)
        numeric = isinstance(value, (int, np.ndarray, np.generic))
        hint = "return float(...) of the standard deviation" if numeric else None
        raise Failure(f"{call} should return a float, got {got}", hint)
    wanted, formula = wanted_std(method, n_in, n_out, scale, slope, mode)
    if not np.isclose(value, wanted, rtol=1e-9, atol=1e-300):
        raise Failure(f"{call} should be {formula} = {wanted:.6g}; got {value:.6g}",
                      likely_mistake(method, n_in, n_out, scale, value, 1e-6, slope, mode))


def std_case(method, n_in, n_out, scale=0.01, **keywords):
    """A case of init_std; `keywords` (negative_slope, mode) are passed to it when given."""
    label = f"{method!r}, n_in = {n_in}, n_out = {n_out}" + (f", scale = {scale:g}" if method == "random" else "")
    label += "".join(f", {k} = {v!r}" for k, v in keywords.items())
    what = unknown(method, keywords.get("mode", "fan_in"))
    if what:
        label += f" (an unknown {what}: should raise ValueError)"
    return label, {"method": method, "n_in": n_in, "n_out": n_out, "scale": scale, **keywords}


ITEMS.append(Item(grade_id="init_std_simple", functions=["init_std"], run=run_init_std, properties=std_value,
                  visible_cases=lambda: [std_case("zeros", 400, 300), std_case("random", 400, 300, scale=0.05),
                                         std_case("Xavier", 400, 300)], project=as_float))
ITEMS.append(Item(grade_id="init_std_fan_in", functions=["init_std"], run=run_init_std, properties=std_value,
                  visible_cases=lambda: [std_case("lecun", 400, 300), std_case("he", 400, 300),
                                         std_case("lecun", 1, 8)],
                  project=as_float))
ITEMS.append(Item(grade_id="init_std_glorot", functions=["init_std"], run=run_init_std, properties=std_value,
                  visible_cases=lambda: [std_case("glorot", 400, 300), std_case("glorot", 10, 90),
                                         std_case("glorot", 1, 2)],
                  project=as_float))
ITEMS.append(Item(grade_id="init_std_leaky_relu", functions=["init_std"], run=run_init_std, properties=std_value,
                  visible_cases=lambda: [std_case("he", 400, 300, negative_slope=0.2),
                                         std_case("he", 100, 50, negative_slope=0.5),
                                         std_case("he", 256, 256, negative_slope=0.0),
                                         std_case("he", 1, 3, negative_slope=0.4)],
                  project=as_float))
ITEMS.append(Item(grade_id="init_std_fan_out", functions=["init_std"], run=run_init_std, properties=std_value,
                  visible_cases=lambda: [std_case("he", 400, 300, mode="fan_out"),
                                         std_case("lecun", 100, 900, mode="fan_out"),
                                         std_case("he", 400, 300, mode="fan_in"), std_case("he", 50, 50, mode="fan_avg")],
                  project=as_float))


# ---- initialize_parameters -------------------------------------------------------------

def run_initialize(initialize_parameters, layer_dims, method, seed, scale):
    return initialize_parameters(layer_dims, method, np.random.default_rng(seed), scale=scale)


def expect_params(params, layer_dims):
    """Fail unless `params` is a dict with exactly the keys W1, b1, ..., WL, bL."""
    if isinstance(params, wire.Opaque) or type(params) is not dict:
        got = wire.type_name(params)
        raise Failure(f"initialize_parameters should return a dict {{'W1': ..., 'b1': ..., ...}}, got {got}")
    L = len(layer_dims) - 1
    wanted = [f"{p}{l}" for l in range(1, L + 1) for p in "Wb"]
    missing = [k for k in wanted if k not in params]
    extra = sorted(k for k in params if k not in wanted)
    if missing or extra:
        hint = None
        if "W0" in params or "b0" in params:
            hint = "layers are numbered from 1: W1 connects the inputs (layer 0) to layer 1"
        raise Failure(f"for layer_dims = {layer_dims} the keys should be {', '.join(wanted)}"
                      + (f"; missing {', '.join(missing)}" if missing else "")
                      + (f"; unexpected {', '.join(extra)}" if extra else ""), hint)
    return params


def expect_float_array(value, name, size):
    """Fail unless `value` is a finite float64 ndarray of `size` entries (any shape)."""
    expect_ndarray(value, name)
    if value.dtype != np.float64:
        raise Failure(f"{name} should have dtype float64, got {value.dtype}")
    if value.size != size:
        raise Failure(f"{name} should have {size} entries, got shape {value.shape}")
    if not np.all(np.isfinite(value)):
        raise Failure(f"{name} contains NaN or inf")
    return value


def shapes(inputs, params):
    dims = inputs["layer_dims"]
    expect_params(params, dims)
    for l in range(1, len(dims)):
        n_in, n_out = dims[l - 1], dims[l]
        W, b = params[f"W{l}"], params[f"b{l}"]
        expect_float_array(W, f"W{l}", n_out * n_in)
        expect_float_array(b, f"b{l}", n_out)
        if W.shape != (n_out, n_in):
            hint = ("W transposed: W[l] has shape (n[l], n[l-1]), one row per unit of layer l, so that "
                    "Z[l] = W[l] A[l-1] works with examples as columns") if W.shape == (n_in, n_out) else None
            raise Failure(f"W{l} should have shape (n[{l}], n[{l - 1}]) = {(n_out, n_in)}, got {W.shape}", hint)
        if b.shape != (n_out, 1):
            hint = "b[l] is a column of shape (n[l], 1), one bias per unit" if b.ndim != 2 or b.shape[1] != 1 else None
            raise Failure(f"b{l} should have shape (n[{l}], 1) = {(n_out, 1)}, got {b.shape}", hint)


def kurtosis(x):
    centered = x - x.mean()
    return float(np.mean(centered ** 4) / np.mean(centered ** 2) ** 2)


def layer_statistics(W, name, method, n_in, n_out, scale):
    """Fail unless the weights of one layer look like N(0, wanted_std^2) draws, unit by unit distinct."""
    wanted, formula = wanted_std(method, n_in, n_out, scale)
    if wanted == 0.0:
        if np.any(W != 0):
            raise Failure(f"{name} should be all zeros for method 'zeros'; {int(np.sum(W != 0))} of {W.size} "
                          "entries are not")
        return
    N = W.size
    mean, std = float(W.mean()), float(W.std())
    if abs(mean) > SIGMAS * wanted / np.sqrt(N):
        hint = None
        if W.min() >= 0:
            hint = ("uniform draws on [0, 1) (rng.random, np.random.rand, as in common notes): every weight "
                    "is positive and the mean is half the scale; draw from the standard normal (rng.standard_normal)")
        raise Failure(f"the mean of {name} should be 0 (within {SIGMAS * wanted / np.sqrt(N):.2g} for {N} "
                      f"draws of standard deviation {wanted:.4g}); got {mean:.4g}", hint)
    band = SIGMAS / np.sqrt(2 * N)
    if abs(std / wanted - 1) > band:
        raise Failure(f"the standard deviation of {name} should be {formula} = {wanted:.4g} for n[l-1] = {n_in}, "
                      f"n[l] = {n_out} (within {100 * band:.1f}% for {N} draws); got {std:.4g}",
                      likely_mistake(method, n_in, n_out, scale, std, rtol=2 * band))
    if N >= 1000:
        k = kurtosis(W)
        if abs(k - 3) > SIGMAS * np.sqrt(24 / N):
            hint = ("uniform draws: a uniform distribution has kurtosis 1.8; draw from the standard normal "
                    "(rng.standard_normal)") if abs(k - 1.8) < SIGMAS * np.sqrt(24 / N) else None
            raise Failure(f"the weights of {name} should be normally distributed (kurtosis 3, within "
                          f"{SIGMAS * np.sqrt(24 / N):.2f} for {N} draws); their kurtosis is {k:.2f}", hint)
    if W.ndim == 2 and np.unique(W, axis=0).shape[0] < W.shape[0]:
        raise Failure(f"{name} has identical rows: those units start as copies of each other and stay so",
                      "the same random draw reused for several units; draw every weight independently")


def statistics(inputs, params):
    dims, method, scale = inputs["layer_dims"], inputs["method"], inputs["scale"]
    expect_params(params, dims)
    for l in range(1, len(dims)):
        n_in, n_out = dims[l - 1], dims[l]
        W = expect_float_array(params[f"W{l}"], f"W{l}", n_out * n_in)
        b = expect_float_array(params[f"b{l}"], f"b{l}", n_out)
        if np.any(b != 0):
            raise Failure(f"b{l} should start at zero; {int(np.sum(b != 0))} of {n_out} entries are not",
                          "random biases are not needed: random weights already break the symmetry")
        layer_statistics(W, f"W{l}", method, n_in, n_out, scale)


def params_case(method, layer_dims, seed, scale=0.01):
    label = f"method {method!r}, layer_dims = {layer_dims}" + (f", scale = {scale:g}" if method == "random" else "")
    return label, {"layer_dims": list(layer_dims), "method": method, "seed": case_seed(seed), "scale": scale}


ITEMS.append(Item(grade_id="init_params_shapes", functions=["initialize_parameters"], run=run_initialize,
                  properties=shapes,
                  visible_cases=lambda: [params_case("he", [5, 4, 3, 1], 0), params_case("glorot", [3, 2], 1)],
                  compare=False))
ITEMS.append(Item(grade_id="init_params_statistics", functions=["initialize_parameters"], run=run_initialize,
                  properties=statistics,
                  visible_cases=lambda: [params_case("he", [500, 300, 200], 2),
                                         params_case("random", [400, 300], 3, scale=0.05),
                                         params_case("glorot", [200, 500], 4), params_case("lecun", [300, 200], 6),
                                         params_case("zeros", [20, 10], 7)],
                  compare=False))


def run_three_times(initialize_parameters, layer_dims, method, seed, scale):
    """Twice with generators seeded alike, once with another seed."""
    def draw(s):
        return initialize_parameters(layer_dims, method, np.random.default_rng(s), scale=scale)
    return draw(seed), draw(seed), draw(seed + 1)


def uses_rng(inputs, result):
    if type(result) is not tuple or len(result) != 3:
        raise Failure("initialize_parameters did not return a dict of parameters")
    first, again, other = (expect_params(p, inputs["layer_dims"]) for p in result)
    keys = [k for k in first if k.startswith("W")]

    def same(a, b):
        return all(type(a[k]) is np.ndarray and type(b[k]) is np.ndarray and a[k].shape == b[k].shape
                   and np.array_equal(a[k], b[k]) for k in keys)
    if not same(first, again):
        raise Failure("two generators with the same seed gave different weights: the weights must come from "
                      "the `rng` argument alone",
                      "drawing from NumPy's global random state (np.random.randn, np.random.rand, ...) "
                      "instead of the `rng` argument")
    if same(first, other):
        raise Failure("generators with different seeds gave the same weights: the `rng` argument is not used",
                      "a generator or seed fixed inside the function (np.random.default_rng(0), np.random.seed) "
                      "instead of the `rng` argument")


ITEMS.append(Item(grade_id="init_params_uses_rng", functions=["initialize_parameters"], run=run_three_times,
                  properties=uses_rng, visible_cases=lambda: [params_case("he", [6, 4, 3], 5)], compare=False))


# ---- count_distinct_units --------------------------------------------------------------

def run_count(count_distinct_units, W, tol=None):
    return count_distinct_units(W) if tol is None else count_distinct_units(W, tol=tol)


def as_int(value):
    return int(value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value


def count_value(inputs, value):
    """`inputs["distinct"]` is the case's answer, held by the caller (see `Item.answers`)."""
    W = inputs["W"]
    if isinstance(value, wire.Opaque) or isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        got = wire.type_name(value)
        raise Failure(f"count_distinct_units should return an int, got {got}")
    wanted = inputs["distinct"]
    if value != wanted:
        units = "unit" if wanted == 1 else "units"
        raise Failure(f"W of shape {W.shape} (one row per unit) has {wanted} distinct {units}; got {value}")


def count_mistakes():
    """Counting columns or copies is the answer applied to something else: those two are
    private (see `autograder.checks`); the exact comparison is not a way to get the answer."""
    def exact(W, tol=1e-8):
        return int(np.unique(W, axis=0).shape[0])
    return [("columns", "counted distinct columns; a unit of layer l is a row of W[l] (its incoming weights)", None),
            ("exact comparison", "rows compared exactly; units that started alike can differ in the last bits, so "
                                 "compare with the tolerance tol (largest absolute difference)", exact),
            ("copies", "counted the copies (rows equal to an earlier row) instead of the distinct units", None)]


def units(seed, pattern, n_in, jitter=0.0, spread=1.0):
    """A weight matrix whose rows repeat `pattern` (row k is prototype pattern[k]), plus a tiny jitter."""
    rng = np.random.default_rng(case_seed(seed))
    prototypes = spread * rng.standard_normal((max(pattern) + 1, n_in))
    W = prototypes[list(pattern)] + jitter * rng.uniform(-1, 1, (len(pattern), n_in))
    return {"W": W, "distinct": len(set(pattern))}


def count_cases():
    return [("6 units, 3 different (rows 0, 1, 3 alike; 2, 4 alike)", units(1, [0, 0, 1, 0, 1, 2], 4)),
            ("5 units, all copies of one another up to 1e-12 (as after training from a symmetric start)",
             units(2, [0, 0, 0, 0, 0], 12, jitter=1e-12)),
            ("3 units, rows 0 and 2 equal within 1e-4, tol = 1e-2 given", {**units(3, [0, 1, 0], 4, jitter=1e-4),
                                                                          "tol": 1e-2})]


ITEMS.append(Item(grade_id="symmetry_distinct_units", functions=["count_distinct_units"], run=run_count,
                  properties=count_value, visible_cases=count_cases, mistakes=count_mistakes(), project=as_int,
                  answers=["distinct"]))


# ---- predict before you run ------------------------------------------------------------

ITEMS.append(prediction_item(
    "prediction_leaky_he_test", "prediction_leaky_he",
    "the activations of a leaky-ReLU network (a = 0.5) with plain He weights",
    hint="He's 2 / n assumes each layer keeps half of the mean square (ReLU); a leaky ReLU of slope a keeps "
         "(1 + a**2) / 2 of it: work out the factor per layer this gives with He's weights at a = 0.5, and what "
         "30 layers make of it"))
