"""lessonkit.plots: a value recorded after epoch k is drawn at x = k (issue 11, point 5)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lessonkit.plots import by_epoch, loss_curves  # noqa: E402


def test_by_epoch_draws_the_value_after_epoch_k_at_k():
    fig, ax = plt.subplots()
    by_epoch(ax, [0.5, 0.7, 0.9])
    x, y = ax.lines[0].get_data()
    plt.close(fig)
    assert list(x) == [1, 2, 3] and list(y) == [0.5, 0.7, 0.9] and ax.get_xlabel() == "epoch"


def test_loss_curves_number_steps_from_one():
    fig, ax = plt.subplots()
    loss_curves(ax, {"run": {"loss": [3.0, 2.0, 1.0]}}, window=1)
    x, y = ax.lines[0].get_data()
    plt.close(fig)
    assert list(x) == [1, 2, 3] and np.allclose(y, [3.0, 2.0, 1.0])
