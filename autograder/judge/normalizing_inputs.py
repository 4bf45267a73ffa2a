"""Hidden cases of lesson 01: several shapes and scales, one example, a single feature,
constant and nearly constant features, large values, a non-default eps.

The cases are built on each call: per-student hidden cases draw from the student's seeds
(`checks.case_seed`), and the Hessians that the course fixes (a 1 x 1 one, a diagonal one)
get their own values per student (`checks.varied`)."""
import numpy as np

from autograder.checks import varied
from autograder.checks.normalizing_inputs import features, hessian_of, normalize_case, spd, splits_case

LESSON = "01_normalizing_inputs"

wide_scales = [1e-3, 1.0, 1e3, 0.1, 10.0, 1e2]


def mean_variance():
    return [("shape (5, 1), one example", {"X": features(11, 5, 1, loc=3.0)}),
            ("shape (1, 10), a single feature", {"X": features(12, 1, 10, loc=-2.0, scale=0.5)}),
            ("shape (4, 9) with a constant feature", {"X": features(13, 4, 9, constant_row=2)}),
            ("shape (3, 16) with values near 1e4", {"X": features(14, 3, 16, loc=1e4, scale=1e2)}),
            ("shape (6, 40), scales from 1e-3 to 1e3", {"X": features(15, 6, 40, loc=0.5, scale=wide_scales)}),
            ("shape (7, 3), more features than examples", {"X": features(16, 7, 3)}),
            ("shape (2, 2)", {"X": features(17, 2, 2, loc=[1.0, -1.0])})]


def normalize():
    return [("shape (4, 1), one example", normalize_case(21, 4, 12, 1)),
            ("shape (1, 7), a single feature", normalize_case(22, 1, 15, 7, loc=5.0, scale=2.0)),
            ("shape (3, 5), constant training feature, other values at test time",
             normalize_case(23, 3, 10, 5, constant_row=0, value=2.0, at=2.5)),
            ("shape (3, 6), nearly constant training feature (var = 1e-10)",
             dict(normalize_case(24, 3, 10, 6), var=np.array([[1.0], [1e-10], [4.0]]))),
            ("shape (5, 8), eps = 0.5", normalize_case(25, 5, 20, 8, eps=0.5)),
            ("shape (3, 10) with values near 1e4", normalize_case(26, 3, 30, 10, loc=1e4, scale=1e2)),
            ("shape (6, 30), scales from 1e-3 to 1e3", normalize_case(27, 6, 50, 30, loc=0.0, scale=wide_scales))]


def splits():
    return [("train (4, 20), dev (4, 1), test (4, 1): one example each", splits_case(31, 4, (20, 1, 1))),
            ("train (1, 8), dev (1, 5), test (1, 3): a single feature", splits_case(32, 1, (8, 5, 3))),
            ("train (3, 10) with a constant feature", splits_case(33, 3, (10, 4, 6), constant_row=1)),
            ("train (2, 15), eps = 0.1", splits_case(34, 2, (15, 6, 6), eps=0.1)),
            ("train (3, 25) with values near 1e4", splits_case(35, 3, (25, 7, 9), loc=1e4, scale=1e2)),
            ("train (6, 40), scales from 1e-3 to 1e3", splits_case(36, 6, (40, 10, 12), scale=wide_scales))]


def hessian():
    return [("shape (1, 5), a single feature", {"X": features(41, 1, 5, loc=3.0)}),
            ("shape (3, 1), one example", {"X": features(42, 3, 1)}),
            ("shape (4, 20) with a constant feature", {"X": features(43, 4, 20, constant_row=3)}),
            ("shape (2, 30) with values near 1e4", {"X": features(44, 2, 30, loc=1e4, scale=1e2)}),
            ("shape (6, 50), scales from 1e-3 to 1e3", {"X": features(45, 6, 50, loc=1.0, scale=wide_scales)})]


def conditioning():
    return [("H of shape (1, 1)",
             {"H": varied(50, np.array([[4.0]]), lambda r: np.full((1, 1), 10 ** r.uniform(-2, 2)))}),
            ("H = 3 I of shape (4, 4)", {"H": 3.0 * np.eye(4)}),
            ("a diagonal H", {"H": np.diag(varied(54, [5.0, 0.2, 1.0], lambda r: 10 ** r.uniform(-1, 1, 3)))}),
            ("H of shape (5, 5) with condition number 1e6", {"H": spd(51, [1e-3, 0.1, 1.0, 10.0, 1e3])}),
            ("H of shape (2, 2) with eigenvalues near 1e5", {"H": spd(52, [2e5, 1e5])}),
            ("H of a least-squares cost on 3 features",
             {"H": hessian_of(features(53, 3, 40, [2.0, 0.0, 10.0], [1.0, 0.1, 5.0]))})]


HIDDEN_CASES = {
    "mean_variance_contract": lambda: mean_variance()[:3],
    "mean_variance_values": mean_variance,
    "normalize_inputs_contract": lambda: normalize()[:3],
    "normalize_inputs_values": normalize,
    "normalize_splits_train_stats": splits,
    "hessian_values": hessian,
    "conditioning_values": conditioning,
    # A prediction has one question: the hidden case asks it again, so plain nbgrader scores it too.
    "prediction_centering_test": lambda: [("the prediction, asked again", {})],
}
