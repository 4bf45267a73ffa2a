"""Reading a notebook's cells as nbgrader marks them, without trusting their shape.

Shipped (lessonkit's `functions_from` reads the student's notebooks with it) and used by
every reader of notebooks in the grader: a cell is a dict from JSON, possibly malformed.
"""
import ast


def cell_source(cell):
    """A cell's source as one string ("" when it is malformed)."""
    src = cell.get("source", "")
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    return src if isinstance(src, str) else ""


def nbgrader_meta(cell):
    """A cell's nbgrader metadata ({} when it has none or it is malformed)."""
    meta = cell.get("metadata", {})
    meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return meta if isinstance(meta, dict) else {}


def is_answer(cell):
    """An answer cell: nbgrader's ``solution`` (students write in it)."""
    return bool(nbgrader_meta(cell).get("solution"))


def strip_magics(source):
    """`source` with IPython's magic and shell lines (``%...``, ``!...``) blanked, so that it
    parses as Python with its line numbers kept."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def defined_functions(source):
    """Names of the top-level functions a cell defines (empty if it does not parse)."""
    try:
        tree = ast.parse(strip_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # MemoryError: the parser's own stack
        return []
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
