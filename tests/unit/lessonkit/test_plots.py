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


# ---- accessibility (WCAG 2.1 AA): alt text, lines told apart without colour ----------------

import json  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from lessonkit import figures, plots  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
MARKDOWN_IMAGE = re.compile(r"!\[(?P<md>[^\]]*)\]\((?P<md_src>[^)\s]+)[^)]*\)|<img\b(?P<attrs>[^>]*)>", re.I)


def markdown_images(folder):
    """(notebook, cell id, source, alt or None) of every image in the markdown cells of `folder`'s lessons."""
    for path in sorted((ROOT / folder).glob("*/lesson.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for m in MARKDOWN_IMAGE.finditer("".join(cell["source"])):
                if m["attrs"] is None:
                    yield path.parent.name, cell.get("id"), m["md_src"], m["md"]
                else:
                    alt = re.search(r'\balt\s*=\s*"([^"]*)"', m["attrs"])
                    src = re.search(r'\bsrc\s*=\s*"([^"]*)"', m["attrs"])
                    yield path.parent.name, cell.get("id"), src and src[1], alt and alt[1]


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_every_markdown_image_has_alt_text_that_says_what_it_shows(folder):
    images = list(markdown_images(folder))
    assert images, "no image found: the pattern is wrong"
    short = [(lesson, cell, src, alt) for lesson, cell, src, alt in images
             if not alt or len(alt.split()) < 12 or Path(src or "").stem in alt]
    assert short == [], "an image needs alt text of a sentence or more that says what it shows (not its file name)"


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_every_markdown_image_is_a_file_inside_its_lesson_folder(folder):
    """A lesson goes where nbgrader, `make work` or the bundle put its folder (on the hub, a student's home):
    what it shows must go with it."""
    outside = []
    for lesson, cell, src, _ in markdown_images(folder):
        lesson_folder = (ROOT / folder / lesson).resolve()
        path = (lesson_folder / (src or "")).resolve()
        if not path.is_relative_to(lesson_folder) or not path.is_file():
            outside.append((lesson, cell, src))
    assert outside == []


def test_the_figures_drawn_by_code_are_the_ones_the_lessons_show():
    shown = {(lesson, Path(src).name) for lesson, _, src, _ in markdown_images("solutions")}
    assert shown == set(figures.DRAWINGS)
    assert figures.lessons_folder() == ROOT / "solutions"


def test_the_alt_text_pattern_finds_a_missing_alt():
    found = MARKDOWN_IMAGE.findall('![](figures/x.png) <img src="figures/y.png" style="width: 100%;"/>')
    assert len(found) == 2 and found[0][0] == "" and "alt" not in found[1][2]


def two_lines_told_apart_by_colour_alone(legend_on_figure=False):
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        ax.plot([1, 2, 3], [1, 2, 3], label="with batch norm")
        ax.plot([1, 2, 3], [3, 2, 1], label="without batch norm")
        ax.set(title="dev accuracy", xlabel="epoch", ylabel="accuracy")
    if legend_on_figure:
        fig.legend(*axes[0].get_legend_handles_labels())
    else:
        axes[0].legend()
    return fig


@pytest.mark.parametrize("legend_on_figure", [False, True])
def test_lines_told_apart_by_colour_alone_get_markers_in_the_plot_and_the_legend(legend_on_figure):
    fig = plots.distinguish(two_lines_told_apart_by_colour_alone(legend_on_figure))
    legend = fig.legends[0] if legend_on_figure else fig.axes[0].get_legend()
    for ax in fig.axes:
        looks = [(line.get_marker(), line.get_linestyle()) for line in ax.get_lines()]
        assert len(set(looks)) == 2 and all(marker not in ("None", "", None) for marker, _ in looks), looks
    assert [h.get_marker() for h in legend.legend_handles] == [line.get_marker() for line in fig.axes[0].get_lines()]
    assert [line.get_marker() for line in fig.axes[0].get_lines()] == [line.get_marker() for line in fig.axes[1].get_lines()]
    plt.close(fig)


def test_lines_already_told_apart_keep_their_style():
    fig, ax = plt.subplots()
    ax.plot([1, 2], "o-", color="C0", label="a")
    ax.plot([2, 1], "s--", color="C1", label="b")
    plots.distinguish(fig)
    assert [(line.get_marker(), line.get_linestyle()) for line in ax.get_lines()] == [("o", "-"), ("s", "--")]
    plt.close(fig)


def test_the_palette_is_the_colour_cycle_and_colour_blind_safe():
    plots.use_style()
    assert tuple(plt.rcParams["axes.prop_cycle"].by_key()["color"]) == plots.PALETTE
    okabe_ito = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"}
    assert set(plots.PALETTE) - okabe_ito == {"#7F7F7F"}  # grey, which no colour vision confuses with a hue


def test_alt_text_says_what_each_panel_shows():
    fig = two_lines_told_apart_by_colour_alone()
    fig.suptitle("Batch norm on the digits")
    alt = plots.describe(fig)
    plt.close(fig)
    assert alt.startswith("Batch norm on the digits. panel 1 of 2: dev accuracy; accuracy against epoch; "
                          "lines: with batch norm, without batch norm."), alt


def test_a_panel_without_title_or_labels_fails_the_masters():
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    assert plots.describe(fig) == "plot: untitled."  # a student's own plot is still shown
    with pytest.raises(ValueError, match="no title and no axis label"):
        plots.describe(fig, strict=True)  # the masters run with LESSONKIT_STRICT=1
    plt.close(fig)


@pytest.mark.slow
def test_a_notebook_shows_each_figure_once_as_an_image_with_alt_text(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\n%load_ext lessonkit"),
                nbformat.v4.new_code_cell("%%experiment\nfig, ax = plt.subplots()\nax.plot([1, 2], label='a')\n"
                                          "ax.set(title='loss', xlabel='step', ylabel='cost')"),
                nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([1, 2])\nax.set_title('shown mid-cell')\n"
                                          "plt.show()\nprint('after')")]
    NotebookClient(nb, resources={"metadata": {"path": str(tmp_path)}}).execute()
    for cell, alt in ((nb.cells[1], "plot: loss; cost against step; lines: a."), (nb.cells[2], "plot: shown mid-cell.")):
        images = [o for o in cell.outputs if o["output_type"] == "display_data"]
        assert len(images) == 1 and "image/png" not in images[0]["data"], cell.outputs
        html = images[0]["data"]["text/html"]
        assert html.startswith('<img src="data:image/png;base64,') and html.endswith(f' alt="{alt}"/>'), html[-200:]


@pytest.mark.slow
def test_an_unlabelled_figure_of_a_master_shows_an_error_that_fails_nbval(tmp_path, monkeypatch):
    """With LESSONKIT_STRICT=1 (the masters' nbval run) a figure whose alt text could not say what
    it shows puts an error output in its cell, which nbval counts as the cell failing."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("LESSONKIT_STRICT", "1")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\n%load_ext lessonkit"),
                nbformat.v4.new_code_cell("%%experiment\nfig, ax = plt.subplots()\nax.plot([1, 2])")]
    NotebookClient(nb, resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for o in nb.cells[1].outputs if o["output_type"] == "error"]
    assert [(o["ename"], "no title and no axis label" in o["evalue"]) for o in errors] == [("ValueError", True)]
