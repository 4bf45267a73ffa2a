"""Every number a lesson's text quotes (``<span data-measured="key">value</span>``, see
`lessonkit.measured`) is the one its experiments print (``key = value``), each master
executed once per session by the nbval run tests/integration/test_notebooks.py checks
(tests/support/nbval_run.py)."""
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lessonkit import measured

ROOT = Path(__file__).resolve().parents[3]

#: The quoted numbers behind issue 11's and issue 22's corrections, by lesson: a master must keep quoting them.
REQUIRED = {
    "01_normalizing_inputs": {"kappa_raw_over_centered"},  # the prediction: centering alone
    "02_batch_norm": {
        "bn_m4_train_acc_highest", "bn_m4_best_dev_acc_highest", "bn_m4_train_acc_batch_stats_highest",  # 1: small
        "plain_m4_best_above_bn_seeds", "largest_median_gap", "bn_gap_smaller_sizes",  # batches fail; the control
        "plain_lr03_blown_seeds", "bn_lr03_blown_seeds",  # lr = 0.3, over the seeds
        "plain_mean_moved", "bn_mean_moved",  # 2: the measured shift
        "identity_other_batch",  # 3: no identity in training mode
        "norm_version", "worst_element",  # 4: the norm version can exceed the worst element
        "plain_train_acc", "bn_train_acc",  # 11: both fit the training set
        "ln_alone_vs_batch", "ln_best_above_bn_m4_seeds", "ln_m4_best_dev_acc_lowest",  # layer norm, small batches
        "noisy_lr1_moved_per_step", "plain_lr01_moved_per_step", "noisy_lr1_dev_acc_lowest",  # injected noise
        "plain_lr1_dev_acc_highest",
        "gn_G1_vs_layernorm", "gn_m4_bn_below_both", "gn_drop_below_bn_drop",  # group norm, on every seed
    },
    "03_vanishing_gradients": {
        "clip_per_variable_cosine",  # 6: per-variable clipping turns the step
        "mean_square_L50", "mean_square_L50_over_draws",  # 7: 1 in expectation, below in a draw
        "tanh_large_ratio", "linear_large_dW1", "linear_small_dW1",  # 8: 1.4e3, 1e31, 1e-15
        "bound_c1_L10", "sigmoid_c1_L10", "sigmoid_c4_L20",  # gap: sigmoid's 1/4
        "sigmoid_c16_at_L20", "sigmoid_c32_at_L20", "sigmoid_explodes_from_c",  # 22: large weights explode
        "plain_small_L50", "residual_small_L50", "residual_he_L50", "plain_he_L50",  # gap: residual at depth 50
        "residual_he_mean_square_growth_per_block",  # 22: 2.8 per block, not 2
        "initial_loss_he_above", "initial_loss_scaled_close", "diag_vanishing_below_1e_3", "diag_exploding_above_1",
        "diag_lr3_broken",  # training diagnostics, on every seed
    },
    "04_initialization": {"relu_scale1_factor", "relu_scale001_factor", "tanh_scale001_factor", "tanh_scale1_std",  # 9
                          "leaky_plain_he_growth", "leaky_predicted_growth", "leaky_general_growth",  # gap: leaky He
                          "tanh_gain1_A30", "tanh_gain53_A30"},  # gap: tanh gain 5/3
    "05_putting_it_together": {
        "A_dev_at_003", "B_dev_at_003", "C_dev_at_003",  # 12 and the prediction: the low end, on every seed
        "bn_gap_a01", "bn_ratio_times_a_10",  # batch norm's scale invariance, measured
        "plain_dev_std_1e_3", "bn_worst_dev_small", "bn_dev_std_10", "bn_dev_std_10_output_he",  # the scale sweep
        "vector_error", "buggy_worst_init", "buggy_worst_trained", "kink_worst", "kink_worst_small_h",  # gradient check
    },
}


def _printed(nb):
    """key -> list of printed value strings, over every output of every code cell."""
    values = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                for key, value in measured.printed(output["text"]):
                    values.setdefault(key, []).append(value)
    return values


def _quoted(nb):
    return [q for cell in nb.cells if cell.cell_type == "markdown" for q in measured.quoted(cell.source)]


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_quoted_number_is_the_printed_one(name, masters_under_nbval):
    nb = masters_under_nbval.executed(name)
    printed, quoted = _printed(nb), _quoted(nb)
    missing = REQUIRED[name] - {quote.key for quote in quoted}
    assert not missing, f"{name}: the text no longer quotes {sorted(missing)}"
    wrong = []
    for quote in quoted:
        values = printed.get(quote.key, [])
        if len(values) != 1:
            wrong.append(f"{quote.key}: printed {len(values)} times, expected once")
        elif not measured.holds(quote, float(values[0])):
            said = quote.stated if quote.low is None else f"{quote.stated!r} (in [{quote.low}, {quote.high}])"
            wrong.append(f"{quote.key}: the text says {said}, the cell printed {values[0]}")
    assert not wrong, f"{name}: " + "; ".join(wrong)


@pytest.mark.parametrize("stated,value,tol,ok", [
    ("0.36", 0.357, None, True), ("0.36", 0.354, None, False), ("1.4e3", 1.44e3, None, True),
    ("1.4e3", 1.46e3, None, False), ("8", 8.0, None, True), ("8", 9.0, None, False),
    ("1e31", 6.8e30, None, True), ("1e31", 2e31, None, False), ("0.9", 0.95, 0.1, True),
])
def test_agree_reads_the_stated_precision(stated, value, tol, ok):
    assert measured.agree(stated, value, tol) is ok


def test_show_prints_what_printed_parses(capsys):
    measured.show(small_gap=0.0123456, epoch=8)
    assert measured.printed(capsys.readouterr().out) == [("small_gap", "0.0123"), ("epoch", "8")]


def test_holds_reads_a_range_or_the_stated_precision():
    [within, rounded] = measured.quoted('<span data-measured="a" data-range="0:0.8">below 0.8</span> and '
                                        '<span data-measured="b" data-tol="0.05">0.9</span>')
    assert (within.key, within.stated, within.low, within.high) == ("a", "below 0.8", 0.0, 0.8)
    assert measured.holds(within, 0.79) and not measured.holds(within, 0.81)
    assert measured.holds(rounded, 0.86) and not measured.holds(rounded, 0.84)


# ---- the claims on other seeds and with correct implementations written differently ---------
#
# A master runs its experiments once, with its own seeds and the reference. The claims its text
# makes must also hold on seeds it did not try and for a student's correct code, whose last bits
# differ from the reference's as another BLAS kernel's do (and chaotic runs amplify them). Each
# test below repeats the experiment behind a claim by a direct call of lessonkit, on seeds the
# master does not use and with the catalogue's correct-but-different functions, and holds it to
# the range the master's text states: the numbers are never written twice.

OTHER_SEEDS = [6, 7, 8]  # the masters use 1 to 5


def quoted_range(lesson, key):
    """(low, high) of the master's ``data-range`` quote of `key`."""
    nb = nbformat.read(ROOT / "solutions" / lesson / "lesson.ipynb", as_version=4)
    [quote] = [q for q in _quoted(nb) if q.key == key]
    assert quote.low is not None, f"{lesson}: {key} is quoted without a range"
    return quote.low, quote.high


def defined(*sources):
    """The functions that some answer-cell sources define, numpy imported."""
    namespace = {"np": np}
    for source in sources:
        exec(source, namespace)
    return namespace


#: batchnorm_forward vectorized but written otherwise than the reference, with the dict cache of the
#: catalogue's graph-style backward passes (the catalogue's own FORWARD_LOOPS is too slow to train with).
FORWARD_OTHER = '''def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    m = Z.shape[1]
    centered = Z - Z.sum(axis=1, keepdims=True) / m
    std = np.sqrt((centered * centered).sum(axis=1, keepdims=True) / m + eps)
    Z_norm = centered / std
    return gamma * Z_norm + beta, {"Z_norm": Z_norm, "gamma": gamma, "std": std}


def layernorm_forward(Z, gamma, beta, eps=1e-5):
    n = Z.shape[0]
    centered = Z - Z.sum(axis=0, keepdims=True) / n
    std = np.sqrt((centered * centered).sum(axis=0, keepdims=True) / n + eps)
    Z_norm = centered / std
    return gamma * Z_norm + beta, {"Z_norm": Z_norm, "gamma": gamma, "std": std}
'''


@pytest.fixture(scope="module")
def digits():
    """The digits split and normalized as lessons 02 and 05 do: (X_train, y_train, X_dev, y_dev)."""
    from lessonkit import data
    X, y = data.load_digits()
    (X_train, y_train), (X_dev, y_dev), _ = data.split(X, y, np.random.default_rng(0))
    return X_train, y_train, X_dev, y_dev


@pytest.mark.slow
def test_batch_norm_claims_hold_on_other_seeds_with_other_correct_functions(digits):
    from autograder.authoring.catalogue import batch_norm as catalogue
    from lessonkit import mlp, seeds
    f = defined(FORWARD_OTHER, catalogue.BACKWARD_GRAPH, catalogue.LN_BACKWARD_GRAPH, catalogue.RUNNING_EXPLICIT,
                catalogue.INFERENCE_SCALE_SHIFT)
    bn = mlp.BatchNorm(f["batchnorm_forward"], f["batchnorm_backward"], f["update_running_stats"],
                       f["batchnorm_inference"])
    ln = mlp.layer_norm(f["layernorm_forward"], f["layernorm_backward"])
    X_train, y_train, X_dev, y_dev = digits
    mu, sd = X_train.mean(axis=1, keepdims=True), np.sqrt(X_train.var(axis=1, keepdims=True) + 1e-8)
    X_train, X_dev = (X_train - mu) / sd, (X_dev - mu) / sd
    dims = [64] + [64] * 8 + [10]
    lesson = "02_batch_norm"

    def runs(norm, lr, epochs, batch_size):
        def init(seed):
            return mlp.init_params(dims, np.random.default_rng(seed), batch_norm=norm is not None)
        return [h for _, _, h in seeds.train(init, OTHER_SEEDS, X_train, y_train, lr=lr, epochs=epochs,
                                             batch_size=batch_size, bn=norm, dev=(X_dev, y_dev))]

    def best(histories):
        return np.array([max(h["dev_acc"], default=0.0) for h in histories])

    def final(histories, epochs, key="dev_acc"):
        return np.array([h[key][-1] if len(h["dev_acc"]) == epochs else 0.0 for h in histories])

    small = {name: runs(norm, 0.1, 8, 4) for name, norm in (("plain", None), ("bn", bn), ("ln", ln))}
    low, high = quoted_range(lesson, "bn_m4_train_acc_highest")
    assert low <= final(small["bn"], 8, "train_acc").max() <= high, "with m = 4 batch norm fails to fit"
    low, high = quoted_range(lesson, "bn_m4_best_dev_acc_highest")
    assert low <= best(small["bn"]).max() <= high
    assert np.all(best(small["ln"]) > best(small["bn"])), "layer norm's best epoch is above batch norm's on every seed"
    low, high = quoted_range(lesson, "ln_m4_best_dev_acc_lowest")
    assert low <= best(small["ln"]).min() <= high
    assert np.sum(best(small["plain"]) > best(small["bn"])) >= 2, "the control fits first on most seeds"

    noisy_bn = bn._replace(forward=lambda Z, g, b: _noisy(f["batchnorm_forward"], Z, g, b),
                           backward=lambda dZ, cache: f["batchnorm_backward"](cache[1] * dZ, cache[0]))
    low, high = quoted_range(lesson, "noisy_lr1_dev_acc_lowest")
    assert low <= final(runs(noisy_bn, 1.0, 5, 32), 5).min() <= high, "the prediction's answer: it trains"
    low, high = quoted_range(lesson, "plain_lr1_dev_acc_highest")
    assert low <= final(runs(None, 1.0, 5, 32), 5).max() <= high
    assert all(len(h["dev_acc"]) == 10 for h in runs(bn, 0.3, 10, 32)), "batch norm does not blow up at lr = 0.3"


_NOISE = np.random.default_rng(7)


def _noisy(forward, Z, gamma, beta, shift=1.0, scale=1.5):
    """Lesson 02's injected noise after `forward`: cache (forward's cache, factor)."""
    Z_tilde, cache = forward(Z, gamma, beta)
    factor = scale ** _NOISE.uniform(-1, 1, (Z.shape[0], 1))
    return factor * Z_tilde + _NOISE.uniform(-shift, shift, (Z.shape[0], 1)), (cache, factor)


@pytest.mark.slow
def test_putting_it_together_prediction_holds_on_other_seeds_and_draw_orders(digits):
    """B against A at lr = 0.03, with the catalogue's initialize_parameters that draws in another order."""
    from autograder.authoring.catalogue import initialization as catalogue
    from lessonkit import mlp
    from lessonkit.reuse import functions_from
    [init_std] = functions_from(ROOT / "solutions" / "04_initialization" / "lesson.ipynb", "init_std")
    namespace = {"np": np, "init_std": init_std}
    exec(catalogue.PARAMS_OTHER_ORDER, namespace)
    X_train, y_train, X_dev, y_dev = digits
    mu, var = X_train.mean(axis=1, keepdims=True), X_train.var(axis=1, keepdims=True)
    normalized = [(A - mu) / np.sqrt(var + 1e-8) for A in (X_train, X_dev)]
    dims = [64] + [64] * 5 + [10]
    lesson = "05_putting_it_together"
    for setup, (X_tr, X_dv) in (("A", (X_train, X_dev)), ("B", normalized)):
        low, high = quoted_range(lesson, f"{setup}_dev_at_003")
        for seed in OTHER_SEEDS:
            params = namespace["initialize_parameters"](dims, "random", np.random.default_rng(seed), scale=0.1)
            _, _, history = mlp.train(params, X_tr, y_train, np.random.default_rng(seed + 1), lr=0.03, epochs=5,
                                      batch_size=32, dev=(X_dv, y_dev))
            assert low <= history["dev_acc"][-1] <= high, (setup, seed, history["dev_acc"])


def test_vanishing_gradients_predictions_hold_for_other_draws():
    """20 sigmoid layers at 4 x orthogonal shrink the gradient, at 16 x it grows; the residual network's stays."""
    from lessonkit import data
    from lessonkit.deep import gaussian_weights, orthogonal
    from lessonkit.gradcheck import centered_differences
    digits_, _ = data.load_digits()
    X = digits_[:, :256]
    x = ((X - X.mean(axis=1, keepdims=True)) / np.sqrt(X.var(axis=1, keepdims=True) + 1e-8))[:, :1]

    def input_gradient_norm(forward, direction):
        (da0,) = centered_differences(lambda x: float(np.sum(direction * forward(x))), [x], h=1e-4)
        return np.linalg.norm(da0)

    def sigmoid_network(x, weights):
        for W in weights:
            x = 1 / (1 + np.exp(-(W @ x)))
        return x

    def residual_network(x, weights):
        for W in weights:
            x = x + np.maximum(W @ x, 0)
        return x

    for seed in OTHER_SEEDS:
        rng = np.random.default_rng(seed)
        Q = [orthogonal(64, rng) for _ in range(20)]
        direction = rng.standard_normal((64, 1))
        direction /= np.linalg.norm(direction)
        assert input_gradient_norm(lambda x, Q=Q: sigmoid_network(x, [4 * W for W in Q]), direction) < 0.1
        assert input_gradient_norm(lambda x, Q=Q: sigmoid_network(x, [16 * W for W in Q]), direction) > 1
        weights = gaussian_weights([64] * 51, 0.1 * np.sqrt(2 / 64), rng)
        assert 0.1 < input_gradient_norm(lambda x, weights=weights: residual_network(x, weights), direction) < 10


@pytest.mark.slow
def test_initialization_prediction_holds_for_other_draws(digits):
    """Leaky ReLU (a = 0.5) with plain He weights: the activations grow more than 10 times in 30 layers."""
    X_train = digits[0]
    A0 = ((X_train - X_train.mean(axis=1, keepdims=True)) / np.sqrt(X_train.var(axis=1, keepdims=True) + 1e-8))[:, :200]
    for seed in OTHER_SEEDS:
        rng, A, stds = np.random.default_rng(seed), A0, []
        for n_in in [64] + [256] * 29:
            Z = np.sqrt(2 / n_in) * rng.standard_normal((256, n_in)) @ A
            A = np.where(Z > 0, Z, 0.5 * Z)
            stds.append(A.std())
        assert stds[-1] / stds[0] > 10


@pytest.mark.parametrize("norm", [None, "batch", "layer", "group"])
def test_seeds_train_is_mlp_train_for_every_seed(norm, digits):
    """lessonkit.seeds trains each seed as lessonkit.mlp would, at its own learning rate, and a seed that
    diverges stops alone; its one training accuracy is mlp's after the last finished epoch; on_step sees every update."""
    from lessonkit import mlp, seeds
    from lessonkit.reuse import functions_from
    master = ROOT / "solutions" / "02_batch_norm" / "lesson.ipynb"
    f = dict(zip(["bf", "bb", "run", "inf", "lf", "lb", "gf", "gb"], functions_from(
        master, "batchnorm_forward", "batchnorm_backward", "update_running_stats", "batchnorm_inference",
        "layernorm_forward", "layernorm_backward", "groupnorm_forward", "groupnorm_backward")))
    bn = {None: None, "batch": mlp.BatchNorm(f["bf"], f["bb"], f["run"], f["inf"]),
          "layer": mlp.layer_norm(f["lf"], f["lb"]),  # group norm is passed as layer norm is (lesson 02's sweep)
          "group": mlp.layer_norm(lambda Z, gamma, beta: f["gf"](Z, gamma, beta, 4), f["gb"])}[norm]
    X_train, y_train, X_dev, y_dev = digits
    X, y = (X_train[:, :300] - 8) / 6, y_train[:300]
    dims = [64, 32, 32, 10]

    def init(seed):
        params = mlp.init_params(dims, np.random.default_rng(seed), batch_norm=bn is not None)
        if seed == 3:  # this seed's loss is not finite from its first step
            params["W3"][0, 0] = np.inf
        return params

    rates = [0.5, 0.5, 0.5, 0.2]  # seed 1 twice: a learning-rate sweep
    watched = []
    together = seeds.train(init, [1, 2, 3, 1], X, y, lr=rates, epochs=2, batch_size=16, bn=bn,
                           dev=((X_dev - 8) / 6, y_dev), on_step=lambda P, running: watched.append((P, running)))
    # on_step sees every update, the seeds' parameters and running averages stacked: the last are what train returns
    assert len(watched) == len(together[0][2]["loss"])
    for k, v in together[0][0].items():
        np.testing.assert_array_equal(watched[-1][0][k][0], v)
    for k, v in together[0][1].items():
        np.testing.assert_array_equal(watched[-1][1][k][0], v)
    for seed, lr, (params, running, history) in zip([1, 2, 3, 1], rates, together):
        alone = mlp.train(init(seed), X, y, np.random.default_rng(seed + 1), lr=lr, epochs=2, batch_size=16, bn=bn,
                          dev=((X_dev - 8) / 6, y_dev))
        assert len(history["loss"]) == len(alone[2]["loss"])
        np.testing.assert_allclose(history["loss"], alone[2]["loss"], rtol=1e-9)
        np.testing.assert_allclose(history["dev_acc"], alone[2]["dev_acc"], atol=1e-12)
        np.testing.assert_allclose(history["train_acc"], alone[2]["train_acc"][-1:], atol=1e-12)
        for k in params:
            np.testing.assert_allclose(params[k], alone[0][k], rtol=1e-8, atol=1e-12)
        for k in running:
            np.testing.assert_allclose(running[k], alone[1][k], rtol=1e-8, atol=1e-12)
    assert not np.isfinite(together[2][2]["loss"][-1]) and len(together[2][2]["dev_acc"]) < 2
    assert len(together[0][2]["dev_acc"]) == 2
