"""Every number a lesson's text quotes (``<span data-measured="key">value</span>``, see
`lessonkit.measured`) is the one its experiments print (``key = value``), each master
executed once per session."""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lessonkit import measured

ROOT = Path(__file__).resolve().parent.parent

#: The quoted numbers behind issue 11's corrections, by lesson: a master must keep quoting them.
REQUIRED = {
    "01_normalizing_inputs": {"kappa_raw_over_centered"},  # the prediction: centering alone
    "02_batch_norm": {
        "bn_m4_train_acc", "bn_m4_dev_acc", "bn_m4_train_acc_batch_stats", "plain_m16_gap", "plain_m64_gap",
        "plain_m256_gap", "plain_m4_diverged_in_epoch",  # 1: small batches fail to fit; the control
        "plain_mean_moved", "bn_mean_moved",  # 2: the measured shift
        "identity_other_batch",  # 3: no identity in training mode
        "norm_version", "worst_element",  # 4: the norm version can exceed the worst element
        "plain_train_acc", "bn_train_acc",  # 11: both fit the training set
        "ln_alone_vs_batch", "ln_m4_best_dev_acc", "ln_m4_train_acc", "ln_m4_dev_acc",  # layer norm, small batches
        "noisy_lr1_moved_per_step", "plain_lr01_moved_per_step", "noisy_lr1_dev_acc", "plain_lr1_dev_acc",  # injected noise
        "gn_G1_vs_layernorm", "gn_m4_bn_below_both", "gn_drop_below_bn_drop",  # group norm, on every seed
    },
    "03_vanishing_gradients": {
        "clip_per_variable_cosine",  # 6: per-variable clipping turns the step
        "mean_square_L50", "mean_square_L50_over_draws",  # 7: 1 in expectation, below in a draw
        "tanh_large_ratio", "linear_large_dW1", "linear_small_dW1",  # 8: 1.4e3, 1e31, 1e-15
        "bound_c1_L10", "sigmoid_c1_L10", "sigmoid_c4_L20",  # gap: sigmoid's 1/4
        "plain_small_L50", "residual_small_L50", "residual_he_L50", "plain_he_L50",  # gap: residual at depth 50
        "initial_loss_he_above", "initial_loss_scaled_close", "diag_vanishing_below_1e_3", "diag_exploding_above_1",
        "diag_lr3_broken",  # training diagnostics, on every seed
    },
    "04_initialization": {"relu_scale1_factor", "relu_scale001_factor", "tanh_scale001_factor", "tanh_scale1_std",  # 9
                          "leaky_plain_he_growth", "leaky_predicted_growth", "leaky_general_growth",  # gap: leaky He
                          "tanh_gain1_A30", "tanh_gain53_A30"},  # gap: tanh gain 5/3
    "05_putting_it_together": {
        "smallest_usable_B", "smallest_usable_C",  # 12: He widens the low end
        "smallest_usable_A",  # the prediction: normalizing alone narrows the low end
        "bn_gap_a01", "bn_ratio_times_a_10",  # batch norm's scale invariance, measured
        "plain_dev_std_1e_3", "bn_worst_dev_small", "bn_dev_std_10", "bn_dev_std_10_output_he",  # the scale sweep
        "vector_error", "buggy_worst_init", "buggy_worst_trained", "kink_worst", "kink_worst_small_h",  # gradient check
    },
}


@pytest.fixture(scope="session")
def executed():
    """lesson -> its master executed top to bottom (strict: a failing experiment fails), on demand."""
    done = {}

    def run(lesson):
        if lesson not in done:
            path = ROOT / "solutions" / lesson / "lesson.ipynb"
            nb = nbformat.read(path, as_version=4)
            saved = os.environ.get("LESSONKIT_STRICT")
            os.environ["LESSONKIT_STRICT"] = "1"
            try:
                NotebookClient(nb, timeout=600, kernel_name="python3",
                               resources={"metadata": {"path": str(path.parent)}}).execute()
            finally:
                if saved is None:
                    del os.environ["LESSONKIT_STRICT"]
                else:
                    os.environ["LESSONKIT_STRICT"] = saved
            done[lesson] = nb
        return done[lesson]
    return run


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
def test_every_quoted_number_is_the_printed_one(name, executed):
    nb = executed(name)
    printed, quoted = _printed(nb), _quoted(nb)
    missing = REQUIRED[name] - {key for key, _, _ in quoted}
    assert not missing, f"{name}: the text no longer quotes {sorted(missing)}"
    wrong = []
    for key, tol, stated in quoted:
        values = printed.get(key, [])
        if len(values) != 1:
            wrong.append(f"{key}: printed {len(values)} times, expected once")
        elif not measured.agree(stated, float(values[0]), tol):
            wrong.append(f"{key}: the text says {stated}, the cell printed {values[0]}")
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
