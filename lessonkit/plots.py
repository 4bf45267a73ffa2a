"""Plotting helpers shared by the lessons, and what makes every lesson plot accessible: one
colour-blind-safe style, lines told apart by marker as well as colour, and alt text.
Steps and epochs are numbered from 1."""
import html

import matplotlib
import numpy as np
from cycler import cycler
from matplotlib.lines import Line2D
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


def legend_outside(fig, ax, where="right center", **style):
    """One legend for the figure (the entries of `ax`), outside the panels (`where`: "right center",
    "lower center", ...), where it hides no data; `style`: more arguments of ``fig.legend``.

    The figure needs ``layout="constrained"`` to make room for it.
    """
    fig.legend(*ax.get_legend_handles_labels(), loc=f"outside {where}", **style)


# ---- accessibility: a colour-blind-safe palette, lines told apart without colour, alt text ----

#: Okabe and Ito's colour-blind-safe palette, as colours C0 to C7 in the roles of matplotlib's
#: (C0 blue, C1 orange, C2 green, C3 red: vermillion, C7 grey); their yellow, too faint on white, left out.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#7F7F7F")
#: Markers that tell lines apart where their colours alone would.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
#: The style every lesson plot uses: the palette as colours C0, C1, ...
STYLE = {"axes.prop_cycle": cycler(color=PALETTE), "image.cmap": "viridis"}
#: Most markers drawn on one line (more points: every k-th gets one).
MARKERS_PER_LINE = 12


def use_style():
    """Make `STYLE` matplotlib's defaults (the lessonkit extension does it when it loads)."""
    matplotlib.rcParams.update(STYLE)


def _labelled_lines(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def distinguish(fig):
    """Give a marker to every labelled line of a panel that shares its marker and line style
    with a line of another colour (so no two are told apart by colour alone), and show the
    same markers in the legends. A label keeps one marker in every panel of the figure.

    Returns
    -------
    fig : the same figure
    """
    clashing, kept = [], set()
    for ax in fig.axes:
        lines = _labelled_lines(ax)
        looks = [(line.get_marker(), line.get_linestyle()) for line in lines]
        for line, look in zip(lines, looks):
            if any(other == look and o.get_color() != line.get_color() for o, other in zip(lines, looks)):
                clashing.append(line)
            else:
                kept.add(line.get_marker())
    free = [m for m in MARKERS if m not in kept]
    markers = {}
    for line in clashing:
        marker = markers.setdefault(line.get_label(), free[len(markers) % len(free)])
        line.set_marker(marker)
        line.set_markevery(max(1, len(line.get_xdata()) // MARKERS_PER_LINE))
    for legend in [ax.get_legend() for ax in fig.axes] + list(fig.legends):
        for handle, text in zip(legend.legend_handles, legend.texts) if legend else ():
            if text.get_text() in markers and isinstance(handle, Line2D):
                handle.set_marker(markers[text.get_text()])
    return fig


def describe(fig, strict=False):
    """Alt text for a figure: what each panel shows, from its titles, axis labels and legend.

    A panel with data but no title and no axis label is described as "untitled"; with
    `strict` (checking the masters) it raises ValueError instead.
    """
    parts = [fig.get_suptitle()]
    panels = [ax for ax in fig.axes if ax.has_data()]
    for k, ax in enumerate(panels):
        title, x, y = ax.get_title() or ax.get_title("left"), ax.get_xlabel(), ax.get_ylabel()
        if strict and not (title or x or y):
            raise ValueError(f"panel {k + 1} of a figure has no title and no axis label: give it one, so that its "
                             "alt text can say what it shows")
        text = (f"panel {k + 1} of {len(panels)}: " if len(panels) > 1 else "plot: ") + (title or "untitled")
        if y or x:
            text += f"; {y or 'values'} against {x or 'position'}"
        legend = ax.get_legend()
        labels = [line.get_label() for line in _labelled_lines(ax)] + [t.get_text() for t in (legend.texts if legend else ())]
        if labels:
            text += "; lines: " + ", ".join(dict.fromkeys(labels))
        parts.append(text)
    parts += ["legend: " + ", ".join(t.get_text() for t in legend.texts) for legend in fig.legends]
    return ". ".join(_plain(p) for p in parts if p) + "."


def _plain(text):
    """Mathtext ($a^{L-1}$) as a screen reader can read it."""
    return text.replace("$", "").replace("\\", "").replace("{", "").replace("}", "")


def figure_html(fig, strict=False):
    """The figure, `distinguish`ed, as an ``<img>`` with its `describe` alt text (JupyterLab
    gives a plain PNG output no alt text)."""
    from IPython.core.pylabtools import print_figure

    distinguish(fig)
    alt = html.escape(describe(fig, strict), quote=True)
    return f'<img src="data:image/png;base64,{print_figure(fig, "png", base64=True)}" alt="{alt}"/>'
