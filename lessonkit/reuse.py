"""Use your own functions from an earlier lesson's notebook.

The closing lesson trains networks with the functions you wrote in lessons 01, 02 and 04.
`functions_from` reads one of those notebooks and runs, in a fresh namespace, only what
defines them: its import cells, the answer cells you filled in, and any cell you added that
only imports or defines functions. Tests and experiments of that notebook do not run.
"""
import ast
import functools
import json
from pathlib import Path

from autograder.worker.cells import cell_source, defined_functions, is_answer, nbgrader_meta, strip_magics


class LessonNotReady(RuntimeError):
    """A function of an earlier lesson is missing, broken or not implemented yet.

    `todo` names what to finish first, e.g. ``"lesson 01_normalizing_inputs (../01_normalizing_inputs/lesson.ipynb)"``.
    """

    def __init__(self, message, todo):
        super().__init__(message)
        self.todo = todo


def functions_from(notebook, *names):
    """Your functions `names`, defined by the answer cells of another lesson notebook.

    Parameters
    ----------
    notebook : str or Path
        The lesson notebook, relative to the current folder (the folder of the notebook you
        are running), e.g. ``"../02_batch_norm/lesson.ipynb"``.
    *names : str
        The functions to return.

    Returns
    -------
    functions : tuple of callables, in the order of `names`
        A call that reaches a ``raise NotImplementedError()`` stub raises `LessonNotReady`
        naming the lesson to finish.

    Raises
    ------
    LessonNotReady
        When the notebook is missing or unreadable, one of its cells fails, or a requested
        function is not defined or still a stub.
    """
    path = Path(notebook)
    lesson = path.parent.name or str(path)
    todo = f"lesson {lesson} ({path})"
    finish = f"finish {todo} first"
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LessonNotReady(f"cannot read {path} ({type(exc).__name__}: {exc}); {finish}", todo) from None
    namespace = {"__name__": f"lesson_{lesson}"}
    stubs = set()
    for k, cell in enumerate(cells):
        source = cell_source(cell)
        if cell.get("cell_type") != "code" or not _defines_code(cell, source):
            continue
        try:
            exec(compile(strip_magics(source), f"{path}, cell {cell.get('id', k + 1)}", "exec"), namespace)
        except Exception as exc:
            raise LessonNotReady(f"a cell of {path} ({_cell_name(cell, k)}) failed: {type(exc).__name__}: "
                                 f"{exc}; {finish}", todo) from None
        if is_answer(cell) and "raise NotImplementedError()" in source:
            stubs.update(defined_functions(source))
    missing = [name for name in names if not callable(namespace.get(name))]
    if missing:
        raise LessonNotReady(f"{path} defines no function {', '.join(missing)}; {finish}", todo)
    unfinished = [name for name in names if name in stubs]
    if unfinished:
        verb = "raises" if len(unfinished) == 1 else "raise"
        raise LessonNotReady(f"{', '.join(unfinished)} in {path} still {verb} NotImplementedError; {finish}", todo)
    return tuple(_guarded(namespace[name], todo) for name in names)


def _guarded(function, todo):
    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except NotImplementedError:
            raise LessonNotReady(f"{function.__name__} uses a function that still raises NotImplementedError; "
                                 f"finish {todo} first", todo) from None
    return call


def _cell_name(cell, k):
    return f"cell {nbgrader_meta(cell).get('grade_id') or cell.get('id') or k + 1}"


def _defines_code(cell, source):
    """Answer cells, and cells that only import or define (no tests, no experiments)."""
    meta = nbgrader_meta(cell)
    if meta.get("grade"):
        return False
    if meta.get("solution"):
        return True
    try:
        tree = ast.parse(strip_magics(source))
    except SyntaxError:
        return False
    allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)
    return bool(tree.body) and all(isinstance(node, allowed) for node in tree.body)

