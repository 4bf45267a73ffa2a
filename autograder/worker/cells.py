"""Reading a notebook's cells as nbgrader marks them, without trusting their shape.

Shipped (lessonkit's `functions_from` reads the student's notebooks with it) and used by
every reader of notebooks in the grader: a cell is a dict from JSON, possibly malformed.
"""
import ast
import threading

#: Held while Python source becomes a tree (`parse`), and by whatever imports modules that
#: parse at import time (matplotlib's rcsetup, `inspect`'s signatures) while the grader's
#: threads may parse. CPython 3.11 counts the depth of the tree it builds in state that every
#: thread shares (python/cpython#106905): two trees built at once, with a thread switch between
#: (a garbage collection that runs a finalizer), end in a spurious "SystemError: AST
#: constructor recursion depth mismatch", which cost a student a whole notebook.
PARSING = threading.RLock()


def parse(source):
    """``ast.parse(source)``, one thread at a time (see `PARSING`): the grader's one parser."""
    with PARSING:
        return ast.parse(source)


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
        tree = parse(strip_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # MemoryError: the parser's own stack
        return []
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
