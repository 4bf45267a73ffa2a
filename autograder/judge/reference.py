"""The reference implementation: the solution cells of the master notebooks.

There is exactly one copy of each reference function, in `solutions/NN_name/lesson.ipynb`.
This module executes those cells (with the master's import cells) in a fresh namespace,
in the grader's own process; it is never copied next to student code.
"""
import functools
import json

from autograder.worker.cells import cell_source, is_answer, nbgrader_meta, strip_magics
from autograder.worker.course import master_path


@functools.lru_cache(maxsize=None)
def load(lesson):
    """Execute a master's import and solution cells; return the names they define.

    Returns
    -------
    namespace : dict
        Maps each function name to the reference function.
    """
    cells = json.loads(master_path(lesson).read_text())["cells"]
    namespace = {"__name__": f"reference_{lesson}"}
    for cell in cells:
        src = cell_source(cell)
        if cell["cell_type"] != "code" or nbgrader_meta(cell).get("grade"):
            continue
        if _is_import_cell(src):
            src = _without_plotting(src)
        if is_answer(cell) or _is_import_cell(src):
            exec(compile(strip_magics(src), f"{lesson}:{cell.get('id')}", "exec"), namespace)
    return namespace


def _without_plotting(src):
    """An import cell without its matplotlib imports: no reference function plots, and pyplot
    is half a second of every grading run."""
    return "\n".join(l for l in src.splitlines() if not l.startswith(("import matplotlib", "from matplotlib")))


def _is_import_cell(src):
    lines = [l for l in src.splitlines() if l.strip() and not l.lstrip().startswith(("#", "%"))]
    return bool(lines) and all(l.startswith(("import ", "from ")) for l in lines)
