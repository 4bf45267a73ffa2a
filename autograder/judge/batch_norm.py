"""Hidden cases of lesson 02: more shapes, one example, a constant unit, large values,
for layer and group norm a second call after a first (no state between calls), and group
norm's two ends (G = 1, layer norm; G = n, every unit alone); and the
implementations of the items' private mistakes (`MISTAKES`), derived from the reference by
changing its inputs (or, for eps outside the square root, written out)."""
from functools import partial

import numpy as np

from autograder.checks import case_seed
from autograder.checks.batch_norm import (
    EPS,
    batch_stats,
    case,
    constant_example,
    constant_unit,
    example_stats,
    examples_apart,
    gn_with_dZ,
    group_stats,
    grouped,
    groups_apart,
    with_dZ,
)
from autograder.judge import reference

LESSON = "02_batch_norm"


def _ref(name):
    return reference.load(LESSON)[name]


def _inference(Z, gamma, beta, running_mean, running_var, eps=EPS):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _ref("batchnorm_inference")(Z, gamma, beta, running_mean, running_var, eps=eps)


def _running(running_mean, running_var, Z, momentum):
    return _ref("update_running_stats")(running_mean, running_var, Z, momentum=momentum)


def _biased_running(running_mean, running_var, Z, momentum):
    # the unbiased variance of Z * sqrt((m-1)/m) is the biased variance of Z
    m = Z.shape[1]
    mean, _ = _running(running_mean, running_var, Z, momentum)
    _, var = _running(running_mean, running_var, Z * np.sqrt((m - 1) / m), momentum)
    return mean, var


# Backward mistakes shared by batch norm and layer norm: `norm` is "batchnorm" or "layernorm",
# whose reference caches are both (Z_norm, gamma, inv_std).

def _backward_parts(norm, Z, gamma, beta, dZ_tilde):
    """The reference's cache and gradients on a case."""
    _, cache = _ref(f"{norm}_forward")(Z, gamma, beta)
    return cache, _ref(f"{norm}_backward")(dZ_tilde, cache)


def _ignores_stats(norm, Z, gamma, beta, dZ_tilde):
    (_, _, inv_std), (_, dgamma, dbeta) = _backward_parts(norm, Z, gamma, beta, dZ_tilde)
    return gamma * inv_std * dZ_tilde, dgamma, dbeta


def _forgets_gamma(norm, Z, gamma, beta, dZ_tilde):
    (Z_norm, _, inv_std), (_, dgamma, dbeta) = _backward_parts(norm, Z, gamma, beta, dZ_tilde)
    dZ, _, _ = _ref(f"{norm}_backward")(dZ_tilde, (Z_norm, np.ones_like(gamma), inv_std))
    return dZ, dgamma, dbeta


def _layernorm(Z, gamma, beta, Z_first=None, eps=EPS):
    """The reference's Z_tilde (`Z_first`, the batch a stateful function would see first, is ignored)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _ref("layernorm_forward")(Z, gamma, beta, eps=eps)[0]


def _layernorm_unbiased(Z, gamma, beta, Z_first=None):
    # the biased variance of c Z is the unbiased variance of Z for c = sqrt(n / (n - 1)),
    # and normalizing c Z multiplies the centered values by c too
    c = np.sqrt(Z.shape[0] / (Z.shape[0] - 1))
    ones, zeros = np.ones_like(gamma), np.zeros_like(beta)
    return gamma * _layernorm(c * Z, ones, zeros) / c + beta


# These two change the denominator per example in a way no input of the reference can: written out.
def _layernorm_eps_outside(Z, gamma, beta, Z_first=None):
    mean, var = example_stats(Z)
    return gamma * (Z - mean) / (np.sqrt(var) + EPS) + beta


def _layernorm_by_variance(Z, gamma, beta, Z_first=None):
    mean, var = example_stats(Z)
    return gamma * (Z - mean) / (var + EPS) + beta


def _ln_batch_norm_axis(Z, gamma, beta, dZ_tilde):
    cache, (_, dgamma, dbeta) = _backward_parts("layernorm", Z, gamma, beta, dZ_tilde)
    dZ, _, _ = _ref("batchnorm_backward")(dZ_tilde, cache)  # batch norm's backward: sums over axis 1
    return dZ, dgamma, dbeta


# Group norm's mistakes. Each input of the reference's group norm that a mistake changes: written out
# where none can (batch statistics, eps outside the square root).

def _groupnorm(Z, gamma, beta, G, eps=EPS):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _ref("groupnorm_forward")(Z, gamma, beta, G, eps=eps)[0]


def _every_gth_unit(Z, gamma, beta, G, Z_first=None):
    # units j with the same j % G made consecutive, normalized as groups, and put back in place
    order = np.argsort(np.arange(Z.shape[0]) % G, kind="stable")
    out = np.empty_like(Z)
    out[order] = _groupnorm(Z[order], gamma[order], beta[order], G)
    return out


def _groupnorm_unbiased(Z, gamma, beta, G, Z_first=None):
    # as `_layernorm_unbiased`, with the k = n // G units of a group
    c = np.sqrt((Z.shape[0] // G) / (Z.shape[0] // G - 1))
    return gamma * _groupnorm(c * Z, np.ones_like(gamma), np.zeros_like(beta), G) / c + beta


def _groupnorm_batch_stats(Z, gamma, beta, G, Z_first=None):
    Zg = grouped(Z, G)
    mean, var = Zg.mean(axis=(1, 2), keepdims=True), Zg.var(axis=(1, 2), keepdims=True)
    return gamma * ((Zg - mean) / np.sqrt(var + EPS)).reshape(Z.shape) + beta


def _groupnorm_eps_outside(Z, gamma, beta, G, Z_first=None):
    mean, var = group_stats(Z, G)
    Zg = grouped(Z, G)
    return gamma * ((Zg - mean[:, None]) / (np.sqrt(var[:, None]) + EPS)).reshape(Z.shape) + beta


def _gn_parts(Z, gamma, beta, G, dZ_tilde):
    """The reference's Z_norm, the inverse standard deviation of each unit's group (n, m), and gradients."""
    _, cache = _ref("groupnorm_forward")(Z, gamma, beta, G)
    Z_norm, _, inv_std = cache
    inv_std_units = np.repeat(inv_std, Z.shape[0] // G, axis=1).reshape(Z.shape)
    return Z_norm, inv_std_units, _ref("groupnorm_backward")(dZ_tilde, cache)


def _gn_ignores_stats(Z, gamma, beta, G, dZ_tilde):
    _, inv_std, (_, dgamma, dbeta) = _gn_parts(Z, gamma, beta, G, dZ_tilde)
    return gamma * inv_std * dZ_tilde, dgamma, dbeta


def _gn_layer_norm_sums(Z, gamma, beta, G, dZ_tilde):
    Z_norm, inv_std, (_, dgamma, dbeta) = _gn_parts(Z, gamma, beta, G, dZ_tilde)
    dZ, _, _ = _ref("layernorm_backward")(dZ_tilde, (Z_norm, gamma, inv_std))  # sums over all n units
    return dZ, dgamma, dbeta


def _gn_forgets_gamma(Z, gamma, beta, G, dZ_tilde):
    _, cache = _ref("groupnorm_forward")(Z, gamma, beta, G)
    _, dgamma, dbeta = _ref("groupnorm_backward")(dZ_tilde, cache)
    dZ, _, _ = _ref("groupnorm_backward")(dZ_tilde, (cache[0], np.ones_like(gamma), cache[2]))
    return dZ, dgamma, dbeta


MISTAKES = {
    "bn_backward_gradient": {"ignores batch statistics": partial(_ignores_stats, "batchnorm"),
                             "forgets gamma": partial(_forgets_gamma, "batchnorm")},
    "bn_inference": {
        "batch statistics at test time": lambda Z, gamma, beta, running_mean, running_var:
            _inference(Z, gamma, beta, *batch_stats(Z)),
        "divide by variance": lambda Z, gamma, beta, running_mean, running_var:
            _inference(Z, gamma, beta, running_mean, (running_var + EPS) ** 2, eps=0.0),
        "no eps": lambda Z, gamma, beta, running_mean, running_var:
            _inference(Z, gamma, beta, running_mean, running_var, eps=0.0)},
    "bn_running_stats": {
        "biased running variance": _biased_running,
        "momentum reversed": lambda running_mean, running_var, Z, momentum:
            _running(running_mean, running_var, Z, 1 - momentum)},
    "ln_forward_normalizes": {
        "batch norm's axis": lambda Z, gamma, beta, Z_first=None: _ref("batchnorm_forward")(Z, gamma, beta)[0],
        "unbiased variance": _layernorm_unbiased,
        "eps outside the square root": _layernorm_eps_outside,
        "divide by variance": _layernorm_by_variance,
        "no eps": lambda Z, gamma, beta, Z_first=None: _layernorm(Z, gamma, beta, eps=0.0)},
    "ln_backward_gradient": {"ignores the statistics": partial(_ignores_stats, "layernorm"),
                             "batch norm's axis": _ln_batch_norm_axis,
                             "forgets gamma": partial(_forgets_gamma, "layernorm")},
    "gn_forward_normalizes": {
        "layer norm's statistics": lambda Z, gamma, beta, G, Z_first=None: _groupnorm(Z, gamma, beta, 1),
        "every G-th unit": _every_gth_unit,
        "G as the group size": lambda Z, gamma, beta, G, Z_first=None: _groupnorm(Z, gamma, beta, Z.shape[0] // G),
        "batch statistics": _groupnorm_batch_stats,
        "unbiased variance": _groupnorm_unbiased,
        "eps outside the square root": _groupnorm_eps_outside},
    "gn_backward_gradient": {"ignores the statistics": _gn_ignores_stats,
                             "layer norm's sums": _gn_layer_norm_sums,
                             "forgets gamma": _gn_forgets_gamma},
}


def running(seed, n, m, momentum, loc=0.0, scale=1.0):
    r = np.random.default_rng(case_seed(seed))
    return {"running_mean": r.normal(0, 1, (n, 1)), "running_var": r.uniform(0.5, 2, (n, 1)),
            "Z": loc + scale * r.standard_normal((n, m)), "momentum": momentum}


def inference(seed, n, m, loc=0.0, scale=1.0, zero_var_row=None):
    r = np.random.default_rng(case_seed(seed))
    d = case(seed, n, m, loc=loc, scale=scale)
    d.update(running_mean=loc + r.normal(0, 0.3, (n, 1)), running_var=scale**2 * r.uniform(0.5, 2, (n, 1)))
    if zero_var_row is not None:
        d["running_var"][zero_var_row] = 0.0
    return d


def forward():  # built on each call: per-student hidden cases draw from the student's seeds
    return [("shape (5, 1), one example", case(11, 5, 1)),
            ("shape (6, 32)", case(12, 6, 32)),
            ("shape (1, 10), a single unit", case(13, 1, 10)),
            ("shape (4, 9) with a constant unit", constant_unit(case(14, 4, 9), row=2)),
            ("shape (3, 16) with values near 1e4", case(15, 3, 16, loc=1e4, scale=1e2)),
            ("shape (7, 3), negative gamma", case(16, 7, 3, gamma=-1.5))]


def backward():
    return [("shape (3, 1), one example", with_dZ(21, 3, 1)),
            ("shape (5, 9)", with_dZ(22, 5, 9)),
            ("shape (4, 6) with a constant unit", constant_unit(with_dZ(23, 4, 6), row=1)),
            ("shape (2, 12) with values near 100", with_dZ(24, 2, 12, loc=100.0, scale=10.0)),
            ("shape (6, 2)", with_dZ(25, 6, 2))]


def after_another_batch(seed, n, m, m_first):
    """A case whose Z is given after a first batch of m_first examples (see `run_ln_forward`)."""
    inputs = examples_apart(seed, n, m)
    inputs["Z_first"] = 4.0 + 2.0 * np.random.default_rng(case_seed(seed + 300)).standard_normal((n, m_first))
    return inputs


def ln_forward():
    return [("shape (6, 1), one example", case(61, 6, 1)),
            ("shape (8, 32)", examples_apart(62, 8, 32)),
            ("shape (1, 5), a single unit", case(63, 1, 5)),
            ("shape (5, 6) with a constant example", constant_example(case(64, 5, 6), column=3)),
            ("shape (4, 9) with a small spread (std 0.01)", case(65, 4, 9, scale=0.01)),
            ("shape (16, 3) with values near 1e4", case(66, 16, 3, loc=1e4, scale=1e2)),
            ("shape (7, 3), negative gamma", case(67, 7, 3, gamma=-1.5)),
            ("shape (6, 5), called after a batch of shape (6, 8): nothing may carry over between calls",
             after_another_batch(68, 6, 5, 8))]


def ln_backward():
    return [("shape (5, 1), one example", with_dZ(71, 5, 1)),
            ("shape (7, 9)", with_dZ(72, 7, 9)),
            ("shape (1, 4), a single unit", with_dZ(73, 1, 4)),
            ("shape (6, 4) with a constant example", constant_example(with_dZ(74, 6, 4), column=1)),
            ("shape (12, 2) with values near 100", with_dZ(75, 12, 2, loc=100.0, scale=10.0))]


def constant_group(inputs, group=0, column=0, value=3.0):
    """One group of one example made constant (its variance 0)."""
    grouped(inputs["Z"], inputs["G"])[group, :, column] = value
    return inputs


def gn_after_another_batch(seed, n, m, G, m_first):
    inputs = groups_apart(seed, n, m, G)
    inputs["Z_first"] = 4.0 + 2.0 * np.random.default_rng(case_seed(seed + 300)).standard_normal((n, m_first))
    return inputs


def gn_forward():
    return [("shape (6, 1), G = 3, one example", groups_apart(91, 6, 1, 3)),
            ("shape (16, 32), G = 4", groups_apart(92, 16, 32, 4)),
            ("shape (5, 4), G = 1: layer norm", examples_apart(93, 5, 4) | {"G": 1}),
            ("shape (4, 6), G = 4: every unit alone", groups_apart(94, 4, 6, 4)),
            ("shape (9, 5), G = 3, one group of one example constant", constant_group(groups_apart(95, 9, 5, 3), 1, 2)),
            ("shape (8, 3), G = 2, a small spread (std 0.01)", groups_apart(96, 8, 3, 2, scale=0.01)),
            ("shape (12, 3), G = 6, values near 1e4", groups_apart(97, 12, 3, 6, loc=1e4, scale=1e2)),
            ("shape (6, 3), G = 2, negative gamma", groups_apart(98, 6, 3, 2, gamma=-1.5)),
            ("shape (8, 5), G = 2, called after a batch of shape (8, 7): nothing may carry over between calls",
             gn_after_another_batch(99, 8, 5, 2, 7))]


def gn_backward():
    return [("shape (6, 1), G = 2, one example", gn_with_dZ(101, 6, 1, 2)),
            ("shape (12, 7), G = 3", gn_with_dZ(102, 12, 7, 3)),
            ("shape (5, 3), G = 1: layer norm", gn_with_dZ(103, 5, 3, 1)),
            ("shape (8, 4), G = 4, one group of one example constant", constant_group(gn_with_dZ(104, 8, 4, 4), 2, 1)),
            ("shape (6, 2), G = 3, values near 100", gn_with_dZ(105, 6, 2, 3, loc=100.0, scale=10.0))]


HIDDEN_CASES = {
    "bn_forward_contract": lambda: forward()[:3],
    "bn_forward_normalizes": forward,
    "bn_backward_contract": lambda: backward()[:2],
    "bn_backward_gradient": backward,
    "bn_running_stats": lambda: [("shape (1, 2), momentum 0.9", running(31, 1, 2, 0.9)),
                                 ("shape (5, 16), momentum 0.99", running(32, 5, 16, 0.99)),
                                 ("shape (4, 5), momentum 0", running(33, 4, 5, 0.0)),
                                 ("shape (3, 7), momentum 1", running(34, 3, 7, 1.0)),
                                 ("shape (2, 50) with values near 1e3", running(35, 2, 50, 0.9, 1e3, 10.0))],
    "bn_inference": lambda: [("shape (5, 1), one example", inference(41, 5, 1)),
                             ("shape (3, 20)", inference(42, 3, 20)),
                             ("shape (4, 6), a unit with zero running variance", inference(43, 4, 6, zero_var_row=2)),
                             ("shape (2, 8) with values near 1e4", inference(44, 2, 8, 1e4, 50.0))],
    "ln_forward_contract": lambda: ln_forward()[:2] + ln_forward()[-1:],
    "ln_forward_normalizes": ln_forward,
    "ln_backward_contract": lambda: ln_backward()[:2],
    "ln_backward_gradient": ln_backward,
    "gn_forward_contract": lambda: gn_forward()[:2] + gn_forward()[-1:],
    "gn_forward_normalizes": gn_forward,
    "gn_backward_contract": lambda: gn_backward()[:2],
    "gn_backward_gradient": gn_backward,
    # A prediction has one question: the hidden case asks it again, so plain nbgrader scores it too.
    "prediction_injected_noise_test": lambda: [("the prediction, asked again", {})],
}
