"""Figures the grader draws (summary.png, item_analysis.png): matplotlib's Figure on the Agg
canvas, without pyplot's GUI machinery, written whole through `atomic`.

matplotlib is the slowest import of a grading run, so `prepare` starts it in the background
while the grader mostly waits for its workers.
"""
import io
import threading

from autograder import atomic


def prepare():
    """Start importing matplotlib in the background; returns the thread."""
    thread = threading.Thread(target=_modules, name="import matplotlib", daemon=True)
    thread.start()
    return thread


def _modules():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    return FigureCanvasAgg, Figure


def new(figsize):
    """A matplotlib Figure of `figsize` inches on the Agg canvas."""
    FigureCanvasAgg, Figure = _modules()
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def save(fig, path):
    """Write `fig` to `path` as a PNG (replaced whole, never half-written)."""
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100, metadata={"Software": None})
    atomic.write(path, png.getvalue())
