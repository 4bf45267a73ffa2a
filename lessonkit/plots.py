"""Plotting helpers shared by the lessons."""
import numpy as np


def smooth(values, window=20):
    """Moving average of a 1-d sequence (shorter at the start), for noisy loss curves."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return values
    kernel = np.ones(min(window, values.size))
    return np.convolve(values, kernel, "full")[: values.size] / np.convolve(np.ones_like(values), kernel, "full")[: values.size]


def loss_curves(ax, histories, window=20, title="training loss"):
    """Plot smoothed per-step losses, one line per labelled history; log-scale y."""
    for label, history in histories.items():
        ax.plot(smooth(history["loss"], window), label=label)
    ax.set(yscale="log", xlabel="gradient step", ylabel="mini-batch loss (smoothed)", title=title)
    ax.legend()
