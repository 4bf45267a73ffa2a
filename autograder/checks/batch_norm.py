"""Lesson 02, batch normalization: the graded items and their properties.

Conventions checked (see the lesson): examples are columns, Z is (n, m); gamma, beta and
the running statistics are (n, 1); training mode uses the biased (1/m) batch variance;
running averages keep `momentum` of the old value and store the unbiased batch variance.
Tolerances: relative 1e-6, absolute 1e-8 (1e-5 against numerical gradients).

Where a value can only be stated as the formula itself (the forward output, the running
averages, the test-time output), the properties compare with the reference's output on the
case (`ANSWER`), and the mistakes that are near copies of the answer are private (their
outputs are data: see `autograder.checks`).
"""
import numpy as np

from autograder.checks import ANSWER, Failure, Item, case_seed, expect_array, expect_close, expect_tuple, prediction_item
from lessonkit.gradcheck import centered_differences

#: This lesson's graded items, in the master's order (`checks.items` reads them).
ITEMS = []

EPS = 1e-5


def case(seed, n, m, loc=0.0, scale=1.0, gamma=None, beta=None):
    """A random batch: Z (n, m) and random gamma, beta (n, 1) unless given."""
    rng = np.random.default_rng(case_seed(seed))
    Z = loc + scale * rng.standard_normal((n, m))
    g = rng.uniform(0.5, 2.0, (n, 1)) if gamma is None else np.full((n, 1), float(gamma))
    b = rng.normal(0.0, 1.0, (n, 1)) if beta is None else np.full((n, 1), float(beta))
    return {"Z": Z, "gamma": g, "beta": b}


def batch_stats(Z):
    return Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)


def first(out):
    """The first element of a returned tuple (Z_tilde of `(Z_tilde, cache)`)."""
    return out[0] if type(out) is tuple and len(out) == 2 else out


# ---- batchnorm_forward ---------------------------------------------------------------

def run_forward(batchnorm_forward, Z, gamma, beta):
    return batchnorm_forward(Z, gamma, beta)


def single_sample_hint(axis):
    """What NaN means when the statistics are taken over a single value (one example for batch
    norm's axis 1, one unit for layer norm's axis 0): that value's variance is 0, and eps keeps
    sqrt(var + eps) above 0, so the division by zero is by m - 1 (the unbiased variance)."""
    m, what = ("m", "example") if axis == 1 else ("n", "unit")
    return (f"dividing by {m} - 1 = 0: the unbiased 1/({m}-1) variance (ddof=1) of a single {what} is 0/0; "
            f"normalization uses the biased 1/{m} variance, which is 0 here, and eps keeps sqrt(var + eps) above 0")


def expect_normalized(value, name, shape, Z, axis):
    """`expect_array`, where NaN on statistics over a single value of Z (along `axis`) is named
    for its cause (see `single_sample_hint`)."""
    try:
        return expect_array(value, name, shape)
    except Failure as failure:
        if failure.message.endswith("NaN or inf") and Z.shape[axis] == 1:
            failure.hint = single_sample_hint(axis)
        raise


def normalized_contract(function, axis=1):
    """The contract of a forward pass named `function` whose statistics run along `axis` of Z:
    (Z_tilde, cache), Z_tilde shaped like Z."""
    def contract(inputs, result):
        Z_tilde, _cache = expect_tuple(result, function, 2)
        expect_normalized(Z_tilde, "Z_tilde", inputs["Z"].shape, inputs["Z"], axis)
    return contract


forward_contract = normalized_contract("batchnorm_forward")


def forward_values(inputs, Z_tilde):
    Z, gamma, beta = inputs["Z"], inputs["gamma"], inputs["beta"]
    expect_normalized(Z_tilde, "Z_tilde", Z.shape, Z, axis=1)
    mu, var = batch_stats(Z)
    expect_close(Z_tilde.mean(axis=1, keepdims=True), beta,
                 "the mean of each unit (row) of Z_tilde should equal beta", row_name="unit")
    expect_close(Z_tilde.std(axis=1, keepdims=True), np.abs(gamma) * np.sqrt(var / (var + EPS)),
                 "the standard deviation of each unit of Z_tilde should equal "
                 "|gamma| * sqrt(var / (var + eps)), var being the biased (1/m) batch variance", row_name="unit")
    expect_close(Z_tilde, inputs[ANSWER], "Z_tilde should be gamma * (Z - mean) / sqrt(var + eps) + beta",
                 row_name="unit")


def forward_mistakes():
    def normalized(Z, divide):
        return (Z - Z.mean(axis=1, keepdims=True)) / divide
    return [
        ("divide by variance", "dividing by the variance instead of the standard deviation sqrt(var + eps)",
         lambda Z, gamma, beta: gamma * normalized(Z, Z.var(axis=1, keepdims=True) + EPS) + beta),
        ("unbiased variance", "using the unbiased 1/(m-1) variance; training mode uses the biased 1/m batch variance",
         lambda Z, gamma, beta: gamma * normalized(Z, np.sqrt(Z.var(axis=1, ddof=1, keepdims=True) + EPS)) + beta),
        ("wrong axis", "statistics over the wrong axis: average over the examples (axis=1), one mean per unit",
         lambda Z, gamma, beta: gamma * (Z - Z.mean(axis=0)) / np.sqrt(Z.var(axis=0) + EPS) + beta),
        ("gamma and beta swapped", "gamma and beta swapped: gamma scales, beta shifts",
         lambda Z, gamma, beta: beta * normalized(Z, np.sqrt(Z.var(axis=1, keepdims=True) + EPS)) + gamma),
        ("no eps", "eps left out of the square root (a constant unit then divides by zero)",
         lambda Z, gamma, beta: gamma * normalized(Z, np.sqrt(Z.var(axis=1, keepdims=True))) + beta),
    ]


def constant_unit(inputs, row=0, value=3.0):
    """The case with unit `row` of Z constant (its batch variance is 0)."""
    inputs["Z"][row] = value
    return inputs


def forward_cases():
    return [("Z of shape (3, 5), gamma = 1, beta = 0", case(1, 3, 5, gamma=1.0, beta=0.0)),
            ("Z of shape (4, 7) with mean 10 and std 3, random gamma and beta", case(2, 4, 7, loc=10.0, scale=3.0)),
            ("Z of shape (3, 6) whose unit 1 is constant (variance 0), gamma = -2",
             constant_unit(case(81, 3, 6, gamma=-2.0), row=1, value=-1.5)),
            ("a single example, Z of shape (2, 1)", case(82, 2, 1))]


ITEMS.append(Item(grade_id="bn_forward_contract", functions=["batchnorm_forward"], run=run_forward,
                  properties=forward_contract, visible_cases=forward_cases, compare=False))
ITEMS.append(Item(grade_id="bn_forward_normalizes", functions=["batchnorm_forward"],
                  run=lambda batchnorm_forward, **inputs: first(batchnorm_forward(**inputs)), properties=forward_values,
                  visible_cases=forward_cases, mistakes=forward_mistakes(), reference_answer=True))


# ---- batchnorm_backward --------------------------------------------------------------

# Shared with layer norm (below): a normalization's forward and backward pass, in that order.

def run_backward(forward, backward, Z, gamma, beta, dZ_tilde):
    _, cache = forward(Z, gamma, beta)
    return backward(dZ_tilde, cache)


def numerical_gradients(forward, Z, gamma, beta, dZ_tilde, h=1e-5):
    """Centered differences of L = sum(dZ_tilde * Z_tilde) through the given forward pass."""
    def loss(Z_, g_, b_):
        return float(np.sum(dZ_tilde * first(forward(Z_, g_, b_))))
    return tuple(centered_differences(loss, [Z, gamma, beta], h))


def run_backward_with_gradcheck(forward, backward, Z, gamma, beta, dZ_tilde):
    return {"grads": run_backward(forward, backward, Z, gamma, beta, dZ_tilde),
            "numerical": numerical_gradients(forward, Z, gamma, beta, dZ_tilde)}


def gradients_contract(function, axis=1):
    """The contract of a backward pass named `function` (statistics along `axis` of Z): (dZ, dgamma, dbeta)
    shaped (n, m), (n, 1), (n, 1)."""
    def contract(inputs, result):
        Z = inputs["Z"]
        n, m = Z.shape
        dZ, dgamma, dbeta = expect_tuple(result, function, 3)
        expect_normalized(dZ, "dZ", (n, m), Z, axis)
        expect_normalized(dgamma, "dgamma", (n, 1), Z, axis)
        expect_normalized(dbeta, "dbeta", (n, 1), Z, axis)
    return contract


def gradients_agree(inputs, result, contract, forward, dbeta_message, expect_zero_sums):
    """dbeta, dgamma and dZ against centered differences of the student's own `forward` pass (so
    a forward mistake is not charged again); `expect_zero_sums(dZ)` checks, before dZ itself,
    that the subtracted mean shows in dZ."""
    contract(inputs, result["grads"])
    dZ, dgamma, dbeta = result["grads"]
    Z = inputs["Z"]
    n = Z.shape[0]
    num_dZ = expect_array(result["numerical"][0], "numerical gradient", Z.shape)
    num_dgamma = expect_array(result["numerical"][1], "numerical gradient", (n, 1))
    num_dbeta = expect_array(result["numerical"][2], "numerical gradient", (n, 1))
    expect_close(dbeta, num_dbeta, dbeta_message, rtol=1e-5, atol=1e-6, row_name="unit")
    expect_close(dgamma, num_dgamma, "dgamma should be the sum over the examples of dZ_tilde * Z_norm "
                 f"(Z_norm as your {forward} computes it)", rtol=1e-5, atol=1e-6, row_name="unit")
    expect_zero_sums(dZ)
    expect_close(dZ, num_dZ, f"dZ disagrees with a centered-difference gradient of your {forward}",
                 rtol=1e-5, atol=1e-6, row_name="unit")


backward_contract = gradients_contract("batchnorm_backward")


def backward_values(inputs, result):
    gradients_agree(inputs, result, backward_contract, "batchnorm_forward",
                    "dbeta should be the sum of dZ_tilde over the examples",
                    lambda dZ: expect_close(dZ.sum(axis=1, keepdims=True), np.zeros((dZ.shape[0], 1)),
                                            "each unit of dZ should sum to zero over the batch (the mean was "
                                            "subtracted)", atol=1e-7, row_name="unit"))


def backward_mistakes():
    return [("ignores batch statistics",
             "the backward pass treats the batch mean and variance as constants; they depend on Z too, "
             "so dZ needs the terms through mean and variance", None),
            ("forgets gamma", "dZ is missing the factor gamma: the gradient reaching Z_norm is gamma * dZ_tilde",
             None)]


def with_dZ(seed, n, m, **kw):
    inputs = case(seed, n, m, **kw)
    inputs["dZ_tilde"] = np.random.default_rng(case_seed(seed + 100)).standard_normal((n, m))
    return inputs


def backward_cases():
    return [("Z of shape (3, 4), random gamma and beta", with_dZ(3, 3, 4)),
            ("Z of shape (2, 6) with mean 5 and std 2", with_dZ(4, 2, 6, loc=5.0, scale=2.0)),
            ("Z of shape (3, 5) whose unit 2 is constant (variance 0)", constant_unit(with_dZ(83, 3, 5), row=2)),
            ("a single example, Z of shape (2, 1)", with_dZ(84, 2, 1))]


ITEMS.append(Item(grade_id="bn_backward_contract", functions=["batchnorm_forward", "batchnorm_backward"],
                  run=run_backward, properties=backward_contract, visible_cases=backward_cases, compare=False))


ITEMS.append(Item(grade_id="bn_backward_gradient", functions=["batchnorm_forward", "batchnorm_backward"],
                  run=run_backward_with_gradcheck, properties=backward_values, visible_cases=backward_cases,
                  mistakes=backward_mistakes(),
                  project=lambda result: result.get("grads") if isinstance(result, dict) else result,
                  depends_on=["bn_forward_normalizes"]))


# ---- update_running_stats ------------------------------------------------------------

def run_running(update_running_stats, running_mean, running_var, Z, momentum):
    return update_running_stats(running_mean, running_var, Z, momentum=momentum)


def running_values(inputs, result):
    n = inputs["Z"].shape[0]
    new_mean, new_var = expect_tuple(result, "update_running_stats", 2)
    expect_array(new_mean, "running_mean", (n, 1))
    expect_array(new_var, "running_var", (n, 1))
    mom, m = inputs["momentum"], inputs["Z"].shape[1]
    wanted_mean, wanted_var = inputs[ANSWER]
    expect_close(new_mean, wanted_mean, f"running_mean should keep momentum = {mom} of the old value and add "
                 f"(1 - momentum) of the batch mean", row_name="unit")
    expect_close(new_var, wanted_var, f"running_var should keep momentum = {mom} of the old value and add "
                 f"(1 - momentum) of the unbiased batch variance m/(m-1) * var (m = {m})", row_name="unit")


def running_mistakes():
    return [("biased running variance", "storing the biased (1/m) batch variance; the running variance "
             "estimates the population variance, so it stores the unbiased m/(m-1) * var", None),
            ("momentum reversed", "momentum weighted on the new batch; here momentum is the weight of "
             "the old value (PyTorch's momentum is 1 - ours)", None)]


def running_cases():
    def inputs(n, m, momentum, seed):
        r = np.random.default_rng(seed)
        return {"running_mean": r.normal(0, 1, (n, 1)), "running_var": r.uniform(0.5, 2, (n, 1)),
                "Z": 3 + 2 * r.standard_normal((n, m)), "momentum": momentum}
    return [("Z of shape (3, 8), momentum 0.9", inputs(3, 8, 0.9, 6)),
            ("Z of shape (2, 4), momentum 0.5", inputs(2, 4, 0.5, 7)),
            ("Z of shape (2, 2) (two examples), momentum 0: the batch alone", inputs(2, 2, 0.0, 86)),
            ("Z of shape (3, 3), momentum 1: the old values alone", inputs(3, 3, 1.0, 87))]


ITEMS.append(Item(grade_id="bn_running_stats", functions=["update_running_stats"], run=run_running,
                  properties=running_values, visible_cases=running_cases, mistakes=running_mistakes(),
                  reference_answer=True))


# ---- batchnorm_inference -------------------------------------------------------------

def run_inference(batchnorm_inference, Z, gamma, beta, running_mean, running_var):
    return batchnorm_inference(Z, gamma, beta, running_mean, running_var)


def inference_values(inputs, Z_tilde):
    expect_array(Z_tilde, "Z_tilde", inputs["Z"].shape)
    expect_close(Z_tilde, inputs[ANSWER], "at test time Z_tilde should be "
                 "gamma * (Z - running_mean) / sqrt(running_var + eps) + beta", row_name="unit")


def inference_mistakes():
    return [("batch statistics at test time", "normalizing with the statistics of the test batch; at test "
             "time use the running averages (a single example has no meaningful batch variance)", None),
            ("divide by variance", "dividing by running_var + eps instead of its square root", None),
            ("no eps", "eps left out of the square root (a unit with zero running variance divides by zero)", None)]


def large(inputs, loc, scale):
    """An inference case moved to values near `loc`, of spread `scale` (the running statistics with them)."""
    return {**inputs, "Z": loc + scale * inputs["Z"], "running_mean": loc + scale * inputs["running_mean"],
            "running_var": scale ** 2 * inputs["running_var"]}


def inference_cases():
    def inputs(seed, n, m, zero_var_row=None):
        r = np.random.default_rng(seed)
        d = case(seed, n, m, loc=2.0, scale=1.5)
        d.update(running_mean=r.normal(2, 0.3, (n, 1)), running_var=r.uniform(1.5, 3, (n, 1)))
        if zero_var_row is not None:
            d["running_var"][zero_var_row] = 0.0
        return d
    return [("a single example, Z of shape (3, 1)", inputs(8, 3, 1)),
            ("Z of shape (4, 6)", inputs(9, 4, 6)),
            ("Z of shape (2, 5) with values near 3e4 (spread 20)", large(inputs(88, 2, 5), 3e4, 20.0)),
            ("Z of shape (3, 5), unit 0 with zero running variance", inputs(85, 3, 5, zero_var_row=0))]


ITEMS.append(Item(grade_id="bn_inference", functions=["batchnorm_inference"], run=run_inference,
                  properties=inference_values, visible_cases=inference_cases, mistakes=inference_mistakes(),
                  reference_answer=True))


# ---- layernorm_forward ---------------------------------------------------------------
# Layer norm: each example (column) normalized over its own units (axis 0); gamma, beta are
# (n, 1) as in batch norm; no running averages, the same computation at training and test time.

def example_stats(Z):
    """Mean and biased variance of each example over its units: two (1, m) rows."""
    return Z.mean(axis=0, keepdims=True), Z.var(axis=0, keepdims=True)


def run_ln_forward(layernorm_forward, Z, gamma, beta, Z_first=None):
    """layernorm_forward(Z, gamma, beta); with `Z_first`, called on that batch first: a function
    that carries anything from one call to the next (running averages) shows it on Z."""
    if Z_first is not None:
        layernorm_forward(Z_first, gamma, beta)
    return layernorm_forward(Z, gamma, beta)


ln_forward_contract = normalized_contract("layernorm_forward", axis=0)


def ln_forward_values(inputs, Z_tilde):
    Z, gamma, beta = inputs["Z"], inputs["gamma"], inputs["beta"]
    expect_normalized(Z_tilde, "Z_tilde", Z.shape, Z, axis=0)
    _, var = example_stats(Z)
    Z_norm = (Z_tilde - beta) / gamma  # the cases' gamma has no zero
    # (1, m) rows as (m, 1) columns, so that a failure names the example
    expect_close(Z_norm.mean(axis=0, keepdims=True).T, np.zeros((Z.shape[1], 1)),
                 "(Z_tilde - beta) / gamma should have mean 0 over the units of each example (column)",
                 row_name="example")
    expect_close(Z_norm.std(axis=0, keepdims=True).T, np.sqrt(var / (var + EPS)).T,
                 "(Z_tilde - beta) / gamma should have standard deviation sqrt(var / (var + eps)) over the units "
                 "of each example, var being that example's biased (1/n) variance over its n units",
                 row_name="example")
    expect_close(Z_tilde, inputs[ANSWER], "Z_tilde should be gamma * (Z - mean) / sqrt(var + eps) + beta, "
                 "with the mean and variance of each example over its units", row_name="unit")


def ln_forward_mistakes():
    return [("batch norm's axis", "statistics over the wrong axis: batch norm's, each unit over the examples "
             "(axis=1); layer norm normalizes each example over its own units (axis=0)", None),
            ("unbiased variance", "using the unbiased 1/(n-1) variance; layer norm uses the biased 1/n "
             "variance over the n units of each example", None),
            ("eps outside the square root", "eps added to the standard deviation, sqrt(var) + eps; it goes "
             "inside the square root, sqrt(var + eps)", None),
            ("divide by variance", "dividing by the variance instead of the standard deviation sqrt(var + eps)",
             None),
            ("no eps", "eps left out of the square root (a constant example then divides by zero)", None)]


def examples_apart(seed, n, m):
    """A batch whose examples (columns) each have their own mean (around 0, spread 5) and spread
    (0.5 to 3), and random gamma, beta (n, 1): normalizing over the wrong axis shows."""
    inputs = case(seed, n, m)
    rng = np.random.default_rng(case_seed(seed + 200))
    inputs["Z"] = 5 * rng.standard_normal((1, m)) + rng.uniform(0.5, 3.0, (1, m)) * inputs["Z"]
    return inputs


def ln_forward_cases():
    return [("Z of shape (5, 3), gamma = 1, beta = 0", case(51, 5, 3, gamma=1.0, beta=0.0)),
            ("Z of shape (4, 6), each example with its own mean and spread, random gamma and beta",
             examples_apart(52, 4, 6)),
            ("Z of shape (3, 4), gamma = -0.5", case(56, 3, 4, gamma=-0.5))]


ITEMS.append(Item(grade_id="ln_forward_contract", functions=["layernorm_forward"], run=run_ln_forward,
                  properties=ln_forward_contract, visible_cases=ln_forward_cases, compare=False))
ITEMS.append(Item(grade_id="ln_forward_normalizes", functions=["layernorm_forward"],
                  run=lambda layernorm_forward, **inputs: first(run_ln_forward(layernorm_forward, **inputs)),
                  properties=ln_forward_values, visible_cases=ln_forward_cases, mistakes=ln_forward_mistakes(),
                  reference_answer=True))


# ---- layernorm_backward --------------------------------------------------------------

ln_backward_contract = gradients_contract("layernorm_backward", axis=0)


def ln_backward_values(inputs, result):
    gradients_agree(inputs, result, ln_backward_contract, "layernorm_forward",
                    "dbeta should be the sum of dZ_tilde over the examples (beta is one per unit)",
                    lambda dZ: expect_close(dZ.sum(axis=0, keepdims=True).T, np.zeros((dZ.shape[1], 1)),
                                            "each example (column) of dZ should sum to zero over the units "
                                            "(its mean was subtracted)", atol=1e-7, row_name="example"))

def ln_backward_mistakes():
    return [("ignores the statistics",
             "the backward pass treats each example's mean and variance as constants; they depend on Z too, "
             "so dZ needs the terms through them (sums over the units, axis=0)", None),
            ("batch norm's axis", "dZ sums over the examples (axis=1, batch norm's backward); layer norm's mean "
             "and variance are over the units of each example, so its sums run over axis 0, divided by n", None),
            ("forgets gamma", "dZ is missing the factor gamma: the gradient reaching Z_norm is gamma * dZ_tilde",
             None)]


def ln_backward_cases():
    return [("Z of shape (4, 3), random gamma and beta", with_dZ(53, 4, 3)),
            ("Z of shape (6, 2) with mean 5 and std 2", with_dZ(54, 6, 2, loc=5.0, scale=2.0)),
            ("Z of shape (5, 4) with a small spread (std 0.01)", with_dZ(55, 5, 4, scale=0.01))]


def constant_example(inputs, column=0, value=3.0):
    """The case with example `column` of Z constant (its variance over the units is 0)."""
    inputs["Z"][:, column] = value
    return inputs


def ln_gradient_cases():
    """The backward's cases, and one whose statistics only eps keeps finite: the hidden cases compare with
    the reference's gradients, so a forward pass without eps costs this item there too."""
    return ln_backward_cases() + [("Z of shape (3, 3) whose example 2 is constant (variance 0)",
                                   constant_example(with_dZ(57, 3, 3), column=2, value=-2.0))]


ITEMS.append(Item(grade_id="ln_backward_contract", functions=["layernorm_forward", "layernorm_backward"],
                  run=run_backward, properties=ln_backward_contract, visible_cases=ln_backward_cases, compare=False))
ITEMS.append(Item(grade_id="ln_backward_gradient", functions=["layernorm_forward", "layernorm_backward"],
                  run=run_backward_with_gradcheck, properties=ln_backward_values, visible_cases=ln_gradient_cases,
                  mistakes=ln_backward_mistakes(),
                  project=lambda result: result.get("grads") if isinstance(result, dict) else result,
                  depends_on=["ln_forward_normalizes"]))


# ---- groupnorm_forward ---------------------------------------------------------------
# Group norm: the n units split into G groups of n // G consecutive units (Z.reshape(G, n // G, m)),
# each example normalized over the units of each group; gamma, beta (n, 1); no running averages.
# G = 1 is layer norm; G = n, in these networks, normalizes every unit alone (Z_tilde = beta).

def grouped(A, G):
    """(n, m) -> (G, n // G, m): group g's units in [g]."""
    return A.reshape(G, A.shape[0] // G, A.shape[1])


def group_stats(Z, G):
    """Mean and biased variance of each group of each example: two (G, m) arrays."""
    Zg = grouped(Z, G)
    return Zg.mean(axis=1), Zg.var(axis=1)


def run_gn_forward(groupnorm_forward, Z, gamma, beta, G, Z_first=None):
    """groupnorm_forward(Z, gamma, beta, G); with `Z_first`, called on that batch first (see `run_ln_forward`)."""
    if Z_first is not None:
        groupnorm_forward(Z_first, gamma, beta, G)
    return groupnorm_forward(Z, gamma, beta, G)


gn_forward_contract = normalized_contract("groupnorm_forward")


def gn_forward_values(inputs, Z_tilde):
    Z, gamma, beta, G = inputs["Z"], inputs["gamma"], inputs["beta"], inputs["G"]
    expect_array(Z_tilde, "Z_tilde", Z.shape)
    _, var = group_stats(Z, G)
    Z_norm = (Z_tilde - beta) / gamma  # the cases' gamma has no zero
    expect_close(grouped(Z_norm, G).mean(axis=1), np.zeros(var.shape),
                 f"(Z_tilde - beta) / gamma should have mean 0 over the units of each group (G = {G} groups of "
                 f"{Z.shape[0] // G} consecutive units) of each example", row_name="group")
    expect_close(grouped(Z_norm, G).std(axis=1), np.sqrt(var / (var + EPS)),
                 "(Z_tilde - beta) / gamma should have standard deviation sqrt(var / (var + eps)) over the units of "
                 "each group of each example, var being that group's biased variance", row_name="group")
    expect_close(Z_tilde, inputs[ANSWER], "Z_tilde should be gamma * (Z - mean) / sqrt(var + eps) + beta, with the "
                 "mean and variance of each example over the units of each group", row_name="unit")


def gn_forward_mistakes():
    return [("layer norm's statistics", "statistics over all the units of each example, as in layer norm (G = 1); "
             "group norm takes them over each group of n // G units separately", None),
            ("every G-th unit", "groups made of every G-th unit (as Z.reshape(n // G, G, m) with statistics over "
             "axis 0 gives); a group is n // G consecutive units: Z.reshape(G, n // G, m), statistics over axis 1",
             None),
            ("G as the group size", "G taken as the number of units in a group; G is the number of groups, each "
             "of n // G units", None),
            ("batch statistics", "statistics over the examples of the batch too; group norm normalizes each "
             "example on its own, over the units of one group", None),
            ("unbiased variance", "using the unbiased 1/(k-1) variance; group norm uses the biased 1/k variance "
             "over the k = n // G units of a group", None),
            ("eps outside the square root", "eps added to the standard deviation, sqrt(var) + eps; it goes "
             "inside the square root, sqrt(var + eps)", None)]


def groups_apart(seed, n, m, G, **kw):
    """A batch (n, m) in which each group of each example has its own mean (spread 5) and spread
    (0.5 to 3), and random gamma, beta (n, 1) unless given: any other grouping shows."""
    inputs = case(seed, n, m, **kw)
    rng = np.random.default_rng(case_seed(seed + 400))
    shift, spread = 5 * rng.standard_normal((G, 1, m)), rng.uniform(0.5, 3.0, (G, 1, m))
    inputs["Z"] = (shift + spread * grouped(inputs["Z"], G)).reshape(n, m)
    inputs["G"] = G
    return inputs


def gn_forward_cases():
    return [("Z of shape (6, 4), G = 2, gamma = 1, beta = 0", groups_apart(81, 6, 4, 2, gamma=1.0, beta=0.0)),
            ("Z of shape (8, 5), G = 4, each group of each example with its own mean and spread, random gamma "
             "and beta", groups_apart(82, 8, 5, 4))]


ITEMS.append(Item(grade_id="gn_forward_contract", functions=["groupnorm_forward"], run=run_gn_forward,
                  properties=gn_forward_contract, visible_cases=gn_forward_cases, compare=False))
ITEMS.append(Item(grade_id="gn_forward_normalizes", functions=["groupnorm_forward"],
                  run=lambda groupnorm_forward, **inputs: first(run_gn_forward(groupnorm_forward, **inputs)),
                  properties=gn_forward_values, visible_cases=gn_forward_cases, mistakes=gn_forward_mistakes(),
                  reference_answer=True))


# ---- groupnorm_backward --------------------------------------------------------------

def run_gn_backward(forward, backward, Z, gamma, beta, G, dZ_tilde):
    return run_backward(lambda Z_, g_, b_: forward(Z_, g_, b_, G), backward, Z, gamma, beta, dZ_tilde)


def run_gn_backward_with_gradcheck(forward, backward, Z, gamma, beta, G, dZ_tilde):
    return run_backward_with_gradcheck(lambda Z_, g_, b_: forward(Z_, g_, b_, G), backward, Z, gamma, beta, dZ_tilde)


gn_backward_contract = gradients_contract("groupnorm_backward")


def gn_backward_values(inputs, result):
    G = inputs["G"]
    gradients_agree(inputs, result, gn_backward_contract, "groupnorm_forward",
                    "dbeta should be the sum of dZ_tilde over the examples (beta is one per unit)",
                    lambda dZ: expect_close(grouped(dZ, G).sum(axis=1), np.zeros((G, dZ.shape[1])),
                                            "each group of each example (column) of dZ should sum to zero over "
                                            "its units (the group's mean was subtracted)", atol=1e-7,
                                            row_name="group"))


def gn_backward_mistakes():
    return [("ignores the statistics",
             "the backward pass treats each group's mean and variance as constants; they depend on Z too, so "
             "dZ needs the terms through them (sums over the units of each group)", None),
            ("layer norm's sums", "dZ sums over all the units of each example (layer norm's backward); a group's "
             "mean and variance depend on its own n // G units only, so the sums run over each group, divided "
             "by n // G", None),
            ("forgets gamma", "dZ is missing the factor gamma: the gradient reaching Z_norm is gamma * dZ_tilde",
             None)]


def gn_with_dZ(seed, n, m, G, **kw):
    inputs = groups_apart(seed, n, m, G, **kw)
    inputs["dZ_tilde"] = np.random.default_rng(case_seed(seed + 100)).standard_normal((n, m))
    return inputs


def gn_backward_cases():
    return [("Z of shape (6, 3), G = 2, random gamma and beta", gn_with_dZ(83, 6, 3, 2)),
            ("Z of shape (8, 2), G = 4", gn_with_dZ(84, 8, 2, 4))]


ITEMS.append(Item(grade_id="gn_backward_contract", functions=["groupnorm_forward", "groupnorm_backward"],
                  run=run_gn_backward, properties=gn_backward_contract, visible_cases=gn_backward_cases, compare=False))
ITEMS.append(Item(grade_id="gn_backward_gradient", functions=["groupnorm_forward", "groupnorm_backward"],
                  run=run_gn_backward_with_gradcheck, properties=gn_backward_values, visible_cases=gn_backward_cases,
                  mistakes=gn_backward_mistakes(),
                  project=lambda result: result.get("grads") if isinstance(result, dict) else result,
                  depends_on=["gn_forward_normalizes"]))


# ---- predict before you run ------------------------------------------------------------

ITEMS.append(prediction_item(
    "prediction_injected_noise_test", "prediction_injected_noise",
    "batch norm with injected noise at lr = 1.0", choices=("trains", "fails"),
    hint="the noise puts back more shift than the plain network has, so if removing the shift were what "
         "batch norm does, the noisy network would fail like the plain one; whether it does is the test"))
