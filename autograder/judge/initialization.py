"""Hidden cases of lesson 04: every method, square and very unequal layers, one-unit layers,
deep stacks, a non-default scale; for count_distinct_units a tolerance given, near-misses
just above it, a single unit and wide layers; and the implementations of the items'
private mistakes (`MISTAKES`), the reference applied to something else."""
from autograder.checks.initialization import params_case, std_case, units
from autograder.judge import reference

LESSON = "04_initialization"


def _count(W, tol=1e-8):
    return reference.load(LESSON)["count_distinct_units"](W, tol=tol)


MISTAKES = {
    "symmetry_distinct_units": {
        "columns": lambda W, tol=1e-8: _count(W.T, tol),
        "copies": lambda W, tol=1e-8: W.shape[0] - _count(W, tol)},
}

HIDDEN_CASES = {
    "init_std_simple": lambda: [std_case("zeros", 1, 1), std_case("random", 784, 10, scale=1.0),
                                std_case("random", 3, 5, scale=0.01), std_case("random", 50, 50, scale=0.3),
                                std_case("uniform", 10, 10), std_case("", 3, 3)],
    "init_std_fan_in": lambda: [std_case("lecun", 1, 5), std_case("he", 784, 128), std_case("he", 3, 1000),
                                std_case("lecun", 1000, 2), std_case("he", 64, 64), std_case("lecun", 7, 7)],
    "init_std_glorot": lambda: [std_case("glorot", 784, 10), std_case("glorot", 1, 1),
                                std_case("glorot", 2, 1000), std_case("glorot", 64, 64)],
    "init_std_leaky_relu": lambda: [std_case("he", 784, 128, negative_slope=0.01), std_case("he", 3, 1000, negative_slope=0.3),
                                    std_case("he", 64, 64, negative_slope=1.0), std_case("he", 1, 5, negative_slope=0.25),
                                    std_case("he", 50, 20, negative_slope=0.1)],
    "init_std_fan_out": lambda: [std_case("he", 784, 10, mode="fan_out"), std_case("lecun", 3, 1000, mode="fan_out"),
                                 std_case("lecun", 1000, 2, mode="fan_in"), std_case("he", 1, 1, mode="fan_out"),
                                 std_case("lecun", 7, 7, mode="out"), std_case("he", 300, 100, mode="")],
    "init_params_shapes": lambda: [params_case("he", [1, 1], 11), params_case("lecun", [10, 1], 12),
                                   params_case("zeros", [2, 5, 5, 3], 13),
                                   params_case("random", [64, 32, 32, 32, 10], 14, scale=0.1),
                                   params_case("glorot", [784, 128, 10], 15)],
    "init_params_statistics": lambda: [params_case("zeros", [60, 40, 30], 21),
                                       params_case("random", [300, 200], 22, scale=0.01),
                                       params_case("lecun", [400, 300, 200], 23),
                                       params_case("he", [200, 600, 100], 24),
                                       params_case("glorot", [200, 600, 300], 25),
                                       params_case("glorot", [100, 1000], 26),
                                       params_case("he", [256] * 6, 27)],
    "init_params_uses_rng": lambda: [params_case("glorot", [10, 20, 5], 31),
                                     params_case("random", [4, 4], 32, scale=0.5)],
    "symmetry_distinct_units": lambda: [
        ("one unit", units(41, [0], 6)),
        ("8 distinct units", units(42, [0, 1, 2, 3, 4, 5, 6, 7], 3)),
        ("4 units, pairs equal within 1e-5 and tol = 1e-3",
         {**units(43, [0, 1, 0, 1], 5, jitter=1e-5), "tol": 1e-3}),
        ("3 units differing by 1e-6 in one weight, default tol", near_miss()),
        ("64 units of 2 kinds, 3 inputs each", units(44, [k % 2 for k in range(64)], 3)),
        ("3 units with 200 inputs, all alike up to 1e-10", units(45, [0, 0, 0], 200, jitter=1e-10)),
    ],
    # A prediction has one question: the hidden case asks it again, so plain nbgrader scores it too.
    "prediction_leaky_he_test": lambda: [("the prediction, asked again", {})],
}


def near_miss():
    """Rows equal except for one weight moved by 1e-6: far above the default tolerance."""
    case = units(46, [0, 0, 0], 4)
    case["W"][1, 2] += 1e-6
    case["W"][2, 3] -= 1e-6
    case["distinct"] = 3
    return case
