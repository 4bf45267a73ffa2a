"""The figures the lessons show, drawn by code. ``python -m autograder figures`` writes
them all into ``figures/`` (``make figures``).
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from lessonkit import plots  # noqa: E402

FIGURES = Path(__file__).resolve().parent.parent / "figures"


def _box(ax, x, y, w, h, text, color):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                fc=color, ec="0.25", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _arrow(ax, x0, x1, y):
    ax.add_patch(FancyArrowPatch((x0, y), (x1, y), arrowstyle="-|>", mutation_scale=14, lw=1.2, color="0.25"))


def draw_bn():
    """Where batch norm sits in a network with 3 hidden layers."""
    fig, ax = plt.subplots(figsize=(18, 4.2))
    ax.set_xlim(-0.7, 18.9)
    ax.set_ylim(-1.9, 1.6)
    ax.axis("off")
    x = 0.0
    _box(ax, x, 0, 0.9, 0.8, "$X = A^{[0]}$\n$(n_x, m)$", "#e8e8e8")
    for l in (1, 2, 3):
        steps = [(f"$Z^{{[{l}]}} = W^{{[{l}]}} A^{{[{l-1}]}}$\n(no $b^{{[{l}]}}$)", "#dbe9f6"),
                 (f"BN: $\\gamma^{{[{l}]}}, \\beta^{{[{l}]}}$\n$\\tilde Z^{{[{l}]}}$", "#fde2c8"),
                 (f"$A^{{[{l}]}} = g(\\tilde Z^{{[{l}]}})$", "#dff0d8")]
        for text, color in steps:
            _arrow(ax, x + (0.5 if x == 0 else 0.72), x + 1.03, 0)
            x += 1.75
            _box(ax, x, 0, 1.45, 0.8, text, color)
        ax.annotate("", xy=(x - 3.5 - 0.72, -0.75), xytext=(x + 0.72, -0.75),
                    arrowprops=dict(arrowstyle="-", color="0.5"))
        ax.text(x - 1.75, -0.95, f"hidden layer {l}", ha="center", va="top", fontsize=10, color="0.3")
    _arrow(ax, x + 0.72, x + 1.03, 0)
    x += 1.75
    _box(ax, x, 0, 1.45, 0.8, "$\\hat y = \\sigma(W^{[4]} A^{[3]}$\n$+ b^{[4]})$", "#e8e8e8")
    ax.text(8.6, 1.25, "Batch norm normalizes each hidden unit's $Z$ over the mini-batch, then scales "
            "by $\\gamma$ and shifts by $\\beta$ (both of shape $(n^{[l]}, 1)$)", ha="center", fontsize=11)
    ax.text(8.6, -1.55, "parameters: $W^{[l]}, \\gamma^{[l]}, \\beta^{[l]}$ for the hidden layers "
            "(the bias $b^{[l]}$ is cancelled by the mean subtraction)", ha="center", fontsize=10.5)
    return fig


def draw_normalization():
    """Cost contours of a 2-feature least-squares problem before and after normalizing the inputs."""
    from lessonkit.least_squares import normalization_figure
    return normalization_figure(lambda X: (X - X.mean(axis=1)[:, None]) / X.std(axis=1)[:, None])


#: file name -> drawing function
DRAWINGS = {"bn.png": draw_bn, "normalization.png": draw_normalization}


def main(out: str | Path = FIGURES) -> None:
    """Draw every figure of `DRAWINGS` into the folder `out`."""
    out = Path(out)
    out.mkdir(exist_ok=True)
    plots.use_style()
    for name, draw in DRAWINGS.items():
        fig = plots.distinguish(draw())
        fig.savefig(out / name, dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        print(f"wrote {out / name}")
