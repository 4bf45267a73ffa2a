"""Code the lessons share: data, a small numpy MLP, plotting and the lecture notes' figures.

In a notebook, ``%load_ext lessonkit`` adds the ``%%experiment`` cell magic: an
experiment cell runs when you run it, and is skipped while nbgrader validates or grades
(experiments carry no points, and skipping them keeps grading fast).

An experiment that fails (often because an exercise it uses is not done yet) shows its error
once, draws no half-finished figure, and lets Run All go on to the rest of the notebook.
With ``LESSONKIT_STRICT=1`` in the environment (the tests of the masters) it raises instead.
"""
import os
import sys

NOTE = "(this experiment stopped at the error above; the rest of the notebook still runs)"


def grading():
    """True while nbgrader (or the course grader) executes the notebook."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def strict():
    """True when a failing experiment must fail its cell (checking the masters)."""
    return os.environ.get("LESSONKIT_STRICT") == "1"


def _figures():
    """Numbers of the open matplotlib figures (none if pyplot was never imported)."""
    plt = sys.modules.get("matplotlib.pyplot")
    return set(plt.get_fignums()) if plt else set()


def load_ipython_extension(ipython):
    from IPython.core.magic import register_cell_magic

    @register_cell_magic
    def experiment(line, cell):
        """Run the cell, unless the notebook is being validated or graded."""
        if grading():
            print("(experiment skipped while grading)")
            return
        before = _figures()
        # The inner run shows its own error; it fires no post-execute hooks, so that the
        # inline backend draws the figures once, after this cell, and not those of a failure.
        hooks = ipython.events.callbacks["post_execute"]
        saved = hooks[:]
        hooks.clear()
        try:
            result = ipython.run_cell(cell, silent=True)
        finally:
            hooks[:] = saved
        if result.success:
            return
        for number in _figures() - before:
            sys.modules["matplotlib.pyplot"].close(number)
        if strict():
            result.raise_error()
        print(NOTE)
