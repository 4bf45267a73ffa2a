"""The figures the lessons show, drawn by code. ``python -m autograder figures`` (``make figures``) writes
each into its lesson's folder, ``solutions/<lesson>/figures/`` (``make release`` copies them into
``notebooks/``); in the student bundle, which has no ``solutions/``, into ``notebooks/<lesson>/figures/``.

A lesson shows ``figures/<name>.png``, inside its own folder, so that wherever the folder goes (a student's
``work/``, the bundle, a home on the hub that nbgrader fetched it into) its figures go with it.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from lessonkit import plots  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


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


#: (lesson, file name) -> drawing function
DRAWINGS = {("01_normalizing_inputs", "normalization.png"): draw_normalization,
            ("02_batch_norm", "bn.png"): draw_bn}


def lessons_folder():
    """Where the lessons' folders are: ``solutions/`` in the course tree, ``notebooks/`` in the bundle."""
    return ROOT / "solutions" if (ROOT / "solutions").is_dir() else ROOT / "notebooks"


def main(out: str | Path | None = None) -> None:
    """Draw every figure of `DRAWINGS` into ``<out>/<lesson>/figures/`` (`out`: `lessons_folder()` by default)."""
    out = Path(out) if out else lessons_folder()
    plots.use_style()
    for (lesson, name), draw in DRAWINGS.items():
        folder = out / lesson / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        fig = plots.distinguish(draw())
        fig.savefig(folder / name, dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        print(f"wrote {folder / name}")
