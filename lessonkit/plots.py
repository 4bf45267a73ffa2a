"""Plotting helpers shared by the lessons. Steps and epochs are numbered from 1."""
import numpy as np
from matplotlib.ticker import MaxNLocator


def smooth(values, window=20):
    """Moving average of a 1-d sequence (shorter at the start), for noisy loss curves."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return values
    kernel = np.ones(min(window, values.size))
    return np.convolve(values, kernel, "full")[: values.size] / np.convolve(np.ones_like(values), kernel, "full")[: values.size]


def loss_curves(ax, histories, window=20, title="training loss", legend=True):
    """Plot smoothed per-step losses (steps 1, 2, ...), one line per labelled history; log-scale y."""
    for label, history in histories.items():
        ax.plot(np.arange(1, len(history["loss"]) + 1), smooth(history["loss"], window), label=label)
    ax.set(yscale="log", xlabel="gradient step", ylabel="mini-batch loss (smoothed)", title=title)
    if legend:
        ax.legend()


def by_epoch(ax, values, **style):
    """Plot one value per epoch (a list of floats) at epochs 1, 2, ...: the value after that many epochs."""
    ax.plot(np.arange(1, len(values) + 1), values, **style)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")


def legend_outside(fig, ax):
    """One legend for the figure (the entries of `ax`), right of the panels, where it hides no data.

    The figure needs ``layout="constrained"`` to make room for it.
    """
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right center")
