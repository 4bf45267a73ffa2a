"""The figures the lessons show, drawn by code. ``python -m lessonkit.figures`` writes
them all into ``figures/`` (``make figures``).
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

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


def draw_covariate_shift():
    """Covariate shift: the input distribution moves, the rule to learn does not."""
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))

    def label(x):
        return (x[0] ** 2 + x[1] ** 2 < 4).astype(int)

    train = rng.normal([-1.2, 0.0], 0.6, (300, 2)).T
    test = rng.normal([1.6, 0.8], 0.6, (300, 2)).T
    t = np.linspace(0, 2 * np.pi, 200)
    for ax, data, title in ((axes[0], train, "training inputs"), (axes[1], test, "later inputs (shifted)")):
        y = label(data)
        ax.scatter(*data[:, y == 1], s=10, c="tab:blue", label="class 1 (inside the circle)")
        ax.scatter(*data[:, y == 0], s=10, c="tab:orange", label="class 0")
        ax.plot(2 * np.cos(t), 2 * np.sin(t), "k--", lw=1, label="the true rule (unchanged)")
        ax.set(xlim=(-3.5, 3.8), ylim=(-3, 3), title=title, aspect="equal")
    axes[0].legend(loc="lower left", fontsize=8)
    axes[1].text(-3.3, -2.7, "a model fit to the left cloud\nhas never seen this region", fontsize=9)

    z = np.linspace(-6, 8, 400)
    for step, (mu, sd) in enumerate([(0, 1), (1.5, 1.6), (3.0, 0.8), (4.5, 2.0)]):
        c = plt.cm.viridis(step / 3)
        axes[2].plot(z, np.exp(-(z - mu) ** 2 / (2 * sd ** 2)) / sd, color=c, label=f"training step {step * 500}")
    axes[2].set(title="what layer 2 receives: $A^{[1]}$ of one unit\nas $W^{[1]}$ trains (schematic)",
                xlabel="value", yticks=[])
    axes[2].legend(fontsize=8)
    fig.suptitle("Covariate shift: a layer must keep re-adapting when the distribution of its inputs moves; "
                 "batch norm pins each unit's mean to $\\beta$ and its standard deviation to $|\\gamma|$", fontsize=11)
    fig.tight_layout()
    return fig


def draw_normalization():
    """Cost contours of a 2-feature least-squares problem before and after normalizing the inputs."""
    from lessonkit.least_squares import normalization_figure
    return normalization_figure(lambda X: (X - X.mean(axis=1)[:, None]) / X.std(axis=1)[:, None])


#: file name -> drawing function
DRAWINGS = {"bn.png": draw_bn, "covariate_shift.png": draw_covariate_shift,
            "normalization.png": draw_normalization}


def main(out=FIGURES):
    out = Path(out)
    out.mkdir(exist_ok=True)
    for name, draw in DRAWINGS.items():
        fig = draw()
        fig.savefig(out / name, dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main(*sys.argv[1:])
