"""The lesson 04 reference against independent oracles: the published formulas written
another way, the variance argument of section 2 simulated, a brute-force grouping of rows;
and the statistical checks tried on many seeds, so that a correct implementation drawing in
any order keeps full marks while the classic mistakes do not."""
import math

import numpy as np
import pytest

from autograder.checks import Failure, items
from autograder.checks import initialization as checks
from autograder.judge import initialization as hidden
from autograder.judge import reference


@pytest.fixture(scope="module")
def ref():
    return reference.load("04_initialization")


#: (method, n_in, n_out) -> variance, as the papers write it
PAPERS = {
    "lecun": lambda n_in, n_out: 1 / n_in,  # LeCun et al. 1998: Var(w) = 1 / fan_in
    "he": lambda n_in, n_out: 2 / n_in,  # He et al. 2015, eq. (10): n_l Var(w_l) / 2 = 1
    "glorot": lambda n_in, n_out: 1 / ((n_in + n_out) / 2),  # Glorot & Bengio 2010, eq. (12): 2 / (n_j + n_j+1)
}


@pytest.mark.parametrize("method", sorted(PAPERS))
@pytest.mark.parametrize("n_in,n_out", [(1, 1), (3, 7), (400, 300), (784, 10), (10, 784)])
def test_init_std_is_the_square_root_of_the_published_variance(ref, method, n_in, n_out):
    std = ref["init_std"](method, n_in, n_out)
    assert type(std) is float
    assert math.isclose(std ** 2, PAPERS[method](n_in, n_out), rel_tol=1e-12)


@pytest.mark.parametrize("a", [0.0, 0.01, 0.2, 0.5, 1.0])
@pytest.mark.parametrize("n_in,n_out", [(1, 1), (400, 300), (10, 784)])
def test_init_std_leaky_is_he_eq_15_and_pytorch_gain(ref, a, n_in, n_out):
    # He et al. 2015, eq. (15): (1 + a^2) n Var(w) / 2 = 1; PyTorch: gain sqrt(2 / (1 + a^2)) / sqrt(fan)
    std = ref["init_std"]("he", n_in, n_out, negative_slope=a)
    assert type(std) is float and math.isclose((1 + a * a) * n_in * std ** 2 / 2, 1.0, rel_tol=1e-12)
    fan_out = ref["init_std"]("he", n_in, n_out, negative_slope=a, mode="fan_out")
    assert math.isclose(fan_out, math.sqrt(2 / (1 + a * a)) / math.sqrt(n_out), rel_tol=1e-12)


@pytest.mark.parametrize("method", ["lecun", "he"])
def test_fan_out_swaps_the_fans_and_glorot_ignores_the_mode(ref, method):
    assert ref["init_std"](method, 30, 70, mode="fan_out") == ref["init_std"](method, 70, 30)
    assert ref["init_std"]("glorot", 30, 70, mode="fan_out") == ref["init_std"]("glorot", 30, 70)
    with pytest.raises(ValueError):
        ref["init_std"](method, 30, 70, mode="fan_avg")


def test_the_general_formula_keeps_the_variance_of_a_leaky_relu_stack(ref):
    # the variance argument of section 2, simulated: 20 leaky layers, a = 0.5
    rng, a, n = np.random.default_rng(0), 0.5, 400
    A = rng.standard_normal((n, 500))
    for _ in range(20):
        Z = ref["init_std"]("he", n, n, negative_slope=a) * rng.standard_normal((n, n)) @ A
        A = np.where(Z > 0, Z, a * Z)
    assert 0.8 < np.mean(A ** 2) < 1.25  # kept at the input's 1; plain He would give 1.25^20, about 87


def test_init_std_zeros_and_random(ref):
    assert ref["init_std"]("zeros", 5, 3) == 0.0 and type(ref["init_std"]("zeros", 5, 3)) is float
    assert ref["init_std"]("random", 5, 3) == 0.01
    assert ref["init_std"]("random", 5, 3, scale=0.7) == 0.7


def test_init_std_rejects_an_unknown_method(ref):
    with pytest.raises(ValueError):
        ref["init_std"]("xavier_uniform", 3, 3)


@pytest.mark.parametrize("dims", [[1, 1], [5, 4, 3, 1], [64, 32, 32, 10]])
@pytest.mark.parametrize("method", ["zeros", "random", "lecun", "glorot", "he"])
def test_parameters_have_the_course_shapes_and_zero_biases(ref, dims, method):
    params = ref["initialize_parameters"](dims, method, np.random.default_rng(0))
    assert sorted(params) == sorted(f"{p}{l}" for l in range(1, len(dims)) for p in "Wb")
    for l in range(1, len(dims)):
        W, b = params[f"W{l}"], params[f"b{l}"]
        assert W.shape == (dims[l], dims[l - 1]) and W.dtype == np.float64
        assert b.shape == (dims[l], 1) and b.dtype == np.float64 and not b.any()


def test_same_seed_same_network_other_seed_other_network(ref):
    def make(seed):
        return ref["initialize_parameters"]([8, 6, 4], "he", np.random.default_rng(seed))
    a, b, c = make(3), make(3), make(4)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W1"], c["W1"])


def test_global_random_state_is_neither_used_nor_changed(ref):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    ref["initialize_parameters"]([20, 10], "glorot", np.random.default_rng(0))
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("method", ["random", "lecun", "glorot", "he"])
def test_weights_are_normal_with_the_method_std(ref, method):
    """A Kolmogorov-Smirnov distance to N(0, std^2), computed with math.erf (no checks code)."""
    n_in, n_out = 300, 500
    W = ref["initialize_parameters"]([n_in, n_out], method, np.random.default_rng(7), scale=0.2)["W1"]
    std = 0.2 if method == "random" else math.sqrt(PAPERS[method](n_in, n_out))
    x = np.sort(W.ravel())
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x / (std * math.sqrt(2))))
    n = x.size
    ks = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    assert ks < 1.95 / math.sqrt(n)  # the 0.1% critical value


def deep_relu_std_ratio(ref, method, depth=20, width=400, seed=0):
    rng = np.random.default_rng(seed)
    params = ref["initialize_parameters"]([width] * (depth + 1), method, rng)
    A = rng.standard_normal((width, 300))
    stds = []
    for l in range(1, depth + 1):
        Z = params[f"W{l}"] @ A
        stds.append(Z.std())
        A = np.maximum(Z, 0)
    return stds[-1] / stds[0]


def test_he_keeps_the_relu_signal_and_lecun_loses_sqrt2_per_layer(ref):
    """Section 2's argument: ReLU halves E[a^2], so 1/n loses 2^(-1/2) per layer and 2/n none."""
    depth = 20
    assert 0.7 < deep_relu_std_ratio(ref, "he", depth) < 1.4
    measured = np.log2(deep_relu_std_ratio(ref, "lecun", depth))
    assert abs(measured - (-(depth - 1) / 2)) < 0.6


def brute_force_count(W, tol):
    """Connected groups of rows within tol of each other (union-find over all pairs)."""
    parent = list(range(W.shape[0]))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i
    for i in range(W.shape[0]):
        for j in range(i):
            if max(abs(a - b) for a, b in zip(W[i], W[j])) <= tol:
                parent[root(i)] = root(j)
    return len({root(i) for i in range(W.shape[0])})


@pytest.mark.parametrize("seed", range(8))
def test_count_distinct_units_matches_a_brute_force_grouping(ref, seed):
    rng = np.random.default_rng(seed)
    kinds = rng.integers(1, 6)
    pattern = rng.integers(0, kinds, rng.integers(1, 12))
    W = rng.standard_normal((kinds, 5))[pattern] + 1e-11 * rng.standard_normal((pattern.size, 5))
    count = ref["count_distinct_units"](W)
    assert type(count) is int and count == brute_force_count(W, 1e-8) == len(set(pattern))


def test_count_distinct_units_tolerance_is_an_absolute_max_difference(ref):
    W = np.array([[1.0, 2.0], [1.0, 2.0 + 5e-4], [1.0, 2.0 + 5e-2]])
    assert ref["count_distinct_units"](W, tol=1e-3) == 2
    assert ref["count_distinct_units"](W, tol=1e-5) == 3
    assert ref["count_distinct_units"](W, tol=0.1) == 1


def test_every_case_states_its_count_correctly(ref):
    for _, inputs in checks.count_cases() + hidden.HIDDEN_CASES["symmetry_distinct_units"]():
        tol = inputs.get("tol", 1e-8)
        assert brute_force_count(inputs["W"], tol) == inputs["distinct"]


# ---- the statistical checks: no false alarms, every mistake caught --------------------------

def statistics_cases():
    return items()["init_params_statistics"].visible_cases() + hidden.HIDDEN_CASES["init_params_statistics"]()


def passes(inputs, params):
    try:
        checks.statistics(inputs, params)
    except Failure as failure:
        return failure
    return None


def transposed_draws(layer_dims, method, rng, scale, std):
    """Another correct order: all layers drawn first, each transposed, then scaled."""
    raw = [rng.standard_normal((layer_dims[l - 1], layer_dims[l])).T for l in range(1, len(layer_dims))]
    return {k: v for l, Z in enumerate(raw, 1) for k, v in
            ((f"W{l}", std(method, layer_dims[l - 1], layer_dims[l], scale) * Z), (f"b{l}", np.zeros((layer_dims[l], 1))))}


@pytest.mark.parametrize("seed", range(12))
def test_correct_implementations_pass_the_statistics_whatever_the_seed(ref, seed):
    for _, inputs in statistics_cases():
        dims, method, scale = inputs["layer_dims"], inputs["method"], inputs["scale"]
        rng = np.random.default_rng(1000 + seed)
        assert passes(inputs, ref["initialize_parameters"](dims, method, rng, scale=scale)) is None
        other = transposed_draws(dims, method, np.random.default_rng(2000 + seed), scale, ref["init_std"])
        assert passes(inputs, other) is None


@pytest.mark.parametrize("mistake,fragment", [
    (lambda rng, std, shape: std * rng.random(shape), "uniform draws on [0, 1)"),
    (lambda rng, std, shape: rng.uniform(-std * 3 ** 0.5, std * 3 ** 0.5, shape), "kurtosis 1.8"),
    (lambda rng, std, shape: std ** 2 * rng.standard_normal(shape), "variance instead"),
    (lambda rng, std, shape: std * rng.uniform(-1, 1, shape), "std / sqrt(3)"),
])
def test_classic_mistakes_fail_the_statistics_with_their_hint(ref, mistake, fragment):
    inputs = dict(checks.params_case("he", [500, 300, 200], 0)[1])
    rng = np.random.default_rng(0)
    params = {}
    for l in (1, 2):
        n_in, n_out = inputs["layer_dims"][l - 1], inputs["layer_dims"][l]
        params[f"W{l}"] = mistake(rng, ref["init_std"]("he", n_in, n_out), (n_out, n_in))
        params[f"b{l}"] = np.zeros((n_out, 1))
    failure = passes(inputs, params)
    assert failure is not None and fragment in (failure.hint or "")
