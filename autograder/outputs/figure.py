"""Figures the grader draws (summary.png, item_analysis.png): matplotlib's Figure on the Agg
canvas, without pyplot's GUI machinery, written whole through `atomic`.

matplotlib is the slowest import of a grading run: `grade` imports `MODULES` in the
background while it mostly waits for its workers.
"""
import io

from autograder.outputs import atomic

#: The matplotlib modules a figure needs.
MODULES = ("matplotlib.figure", "matplotlib.backends.backend_agg")


def new(figsize):
    """A matplotlib Figure of `figsize` inches on the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def save(fig, path):
    """Write `fig` to `path` as a PNG (replaced whole, never half-written)."""
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100, metadata={"Software": None})
    atomic.write(path, png.getvalue())
