"""Code the lessons share: data, a small numpy MLP, plotting and the lecture notes' figures.

In a notebook, ``%load_ext lessonkit`` adds the ``%%experiment`` cell magic: an
experiment cell runs when you run it, and is skipped while nbgrader validates or grades
(experiments carry no points, and skipping them keeps grading fast). It also shows every
figure accessibly (`show_figures_accessibly`).

An experiment that reaches an exercise not done yet prints one line instead, naming the function
(or lesson) to finish first; one that fails otherwise shows its error once. Either way it draws
no half-finished figure and lets Run All go on to the rest of the notebook. With
``LESSONKIT_STRICT=1`` in the environment (the tests of the masters) it raises instead.
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


def unfinished(exc, waiting):
    """What to finish before an experiment that raised `exc` can run, or None for any other error.

    Parameters
    ----------
    exc : BaseException
        What the experiment raised: a stub's NotImplementedError (the function named is the stub
        that raised it), `LessonNotReady` (an earlier lesson), or a NameError for a name that an
        experiment skipped earlier in this kernel would have defined.
    waiting : dict of str
        What the experiments skipped so far in this kernel wait for (keys, in order).

    Returns
    -------
    todo : str or None, e.g. ``"batchnorm_forward"``
    """
    from lessonkit.reuse import LessonNotReady

    if isinstance(exc, NotImplementedError) and exc.__traceback__ is not None:
        tb = exc.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        return tb.tb_frame.f_code.co_name
    if isinstance(exc, LessonNotReady):
        return exc.todo
    if isinstance(exc, NameError) and waiting:
        return ", ".join(waiting)
    return None


def skipped_line(exc, todo):
    """The one line a skipped experiment prints instead of a traceback (see `unfinished`)."""
    if isinstance(exc, NotImplementedError):
        return (f"(experiment skipped: it needs {todo}, which still raises NotImplementedError; "
                "finish that exercise first, then run this cell again)")
    if isinstance(exc, NameError):
        return (f"(experiment skipped: it uses {exc.name} from an experiment skipped above; "
                f"finish {todo} first, then Run All again)")
    return f"(experiment skipped: {exc}, then run this cell again)"


def show_figures_accessibly(ipython):
    """Every matplotlib figure the notebook shows: in the lessons' colour-blind-safe style, its
    lines told apart by marker as well as colour, as an image with alt text (`lessonkit.plots`)."""
    import functools

    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from lessonkit import plots

    # Load the backend now (pyplot loads it at the first figure): the inline one registers its
    # own PNG output for figures when it loads, and that output has no alt text.
    plt.switch_backend(matplotlib.get_backend())
    plots.use_style()
    formatters = ipython.display_formatter.formatters
    formatters["text/html"].for_type(Figure, functools.partial(plots.figure_html, strict=strict()))
    formatters["image/png"].pop(Figure, None)  # the same image once, in the <img> that has the alt text


def load_ipython_extension(ipython):
    from IPython.core.magic import register_cell_magic
    from IPython.display import clear_output

    show_figures_accessibly(ipython)
    waiting = {}  # what the experiments skipped so far in this kernel wait for (an ordered set)

    @register_cell_magic
    def experiment(line, cell):
        """Run the cell, unless the notebook is being validated or graded."""
        if grading():
            print("(experiment skipped while grading)")
            return
        before = _figures()
        # The inner run shows no error: this magic shows it once, after the run, or one line instead
        # when an unfinished exercise stopped it. It fires no post-execute hooks, so that the inline
        # backend draws the figures once, after this cell, and not those of a failure.
        hooks = ipython.events.callbacks["post_execute"]
        saved_hooks, saved_handler = hooks[:], (ipython.custom_exceptions, ipython.CustomTB)
        hooks.clear()
        ipython.set_custom_exc((Exception,), lambda *args, **kwargs: None)
        try:
            result = ipython.run_cell(cell, silent=True)
        finally:
            hooks[:] = saved_hooks
            ipython.custom_exceptions, ipython.CustomTB = saved_handler
        if result.success:
            return
        for number in _figures() - before:
            sys.modules["matplotlib.pyplot"].close(number)
        error = result.error_in_exec or result.error_before_exec
        todo = None if strict() else unfinished(error, waiting)
        if todo is None:
            if isinstance(error, Exception):  # the others (KeyboardInterrupt) IPython has shown already
                ipython.showtraceback((type(error), error, error.__traceback__))
            if strict():
                result.raise_error()
            print(NOTE)
            return
        if not isinstance(error, NameError):
            waiting[todo] = True
        clear_output()  # what ran before the unfinished function was reached means nothing yet
        print(skipped_line(error, todo))
