"""Static integrity scan of the cells a student can edit, before anything runs.

A flagged cell is not executed: the items that need the functions it defines score 0,
with the reason in the feedback; every other item is graded as usual. The scan is a
first line of defence and a clear message; isolation (isolation.py) and judging outside
the student's process are what make the grade trustworthy.

The scan reads what the worker's IPython shell would execute: the cell goes through
IPython's own input transformation first, so a magic or a shell escape becomes a
``get_ipython()`` call in the tree. Only the exact calls the transformation emits for
the allowed magics pass, and the code those magics run is scanned like a cell. This
relies on the worker shell having automagic off (sandbox.py), so that a one-line cell
such as ``sx(id)`` stays Python and is not run as the magic ``%sx``.
"""
import ast
import re

from IPython.core import magic_arguments
from IPython.core.inputtransformer2 import TransformerManager
from IPython.core.magics.execution import ExecutionMagics

from autograder.worker.cells import parse

#: Modules an answer may import.
ALLOWED_MODULES = {"numpy", "math", "cmath", "functools", "itertools", "collections", "typing", "dataclasses",
                   "numbers", "operator", "statistics", "fractions", "decimal", "matplotlib", "lessonkit", "time",
                   "warnings", "random", "copy", "string", "re"}
FORBIDDEN_CALLS = {"exec", "eval", "compile", "__import__", "open", "breakpoint", "globals", "locals", "vars",
                   "setattr", "delattr", "exit", "quit", "input", "memoryview"}
FORBIDDEN_NAMES = {"__builtins__", "builtins", "get_ipython", "__loader__", "__spec__"}
ALLOWED_DUNDERS = {"__init__", "__name__", "__doc__", "__class__", "__len__", "__call__", "__repr__", "__str__"}
ALLOWED_MAGICS = {"%matplotlib", "%time", "%timeit", "%%time", "%%timeit"}
#: `%matplotlib` arguments allowed (another backend name is a module matplotlib would import).
MATPLOTLIB_BACKENDS = {"", "inline", "agg", "notebook", "widget"}
#: Attribute names that lead to a module answers may not import (e.g. ``warnings.sys``, ``random._os``).
MODULE_ATTRIBUTES = {"os", "sys", "subprocess", "builtins", "socket", "shutil", "importlib", "ctypes", "posix",
                     "pty", "signal", "multiprocessing", "threading", "pathlib", "io", "marshal", "pickle",
                     "ctypeslib"}
#: Reflection helpers and the positions of their attribute-name arguments (None: all of them);
#: ``string.Formatter().get_field("0.attr", args, kwargs)`` returns the attribute itself.
REFLECTION = {"getattr": [1], "hasattr": [1], "attrgetter": None, "methodcaller": [0], "get_field": [0]}
#: Loaders whose pickles run code the scan never reads, and the position of `allow_pickle`.
PICKLE_LOADERS = {"load": 2, "read_array": 1}
MAX_CHARS = 200_000
#: How deep magic code may sit inside magic code (``%time %time f()`` is depth 2).
MAX_DEPTH = 3
#: IPython's own option string for ``%timeit`` (ExecutionMagics.timeit); options it
#: does not know make the magic fail, and values are checked below, so a drift is caught.
TIMEIT_OPTIONS = "n:r:tcp:qov:"

_TRANSFORMER = TransformerManager()
_MAGICS = ExecutionMagics(shell=None)  # only its argument parsers are used
_DUNDER = re.compile(r"__\w+__")


def scan(source):
    """Reasons this cell must not run (empty when it is fine).

    Parameters
    ----------
    source : str, the cell's code as the student wrote it (IPython syntax)

    Returns
    -------
    reasons : list of str, sorted and unique; each reads after "it ", e.g. "imports os"
    """
    return sorted(set(_scan(source, set(), 0, "")))


def _scan(source, modules, depth, where):
    """Reasons for `source`; `modules` are names bound to modules by an enclosing cell,
    `where` prefixes a parse failure of magic code ("has %time code that ")."""
    if len(source) > MAX_CHARS:
        return [f"{where}is too long to check ({len(source)} characters; the limit is {MAX_CHARS})"]
    tree, problem = _parse(source)
    if problem:
        return [where + problem]
    try:
        return _Checker(tree, modules, depth).reasons
    except (RecursionError, MemoryError):
        return [f"{where}is nested too deeply to check"]


def _parse(source):
    """(tree, None) or (None, reason) for IPython source."""
    try:
        code = _TRANSFORMER.transform_cell(source)
    except Exception as e:  # the transformation tokenizes; pathological input must not escape
        return None, f"cannot be read as IPython input ({type(e).__name__})"
    try:
        return parse(code), None
    except SyntaxError as e:
        if "too many nested" in str(e.msg):
            return None, f"is nested too deeply to parse ({e.msg})"
        return None, f"does not parse (line {e.lineno}: {e.msg})" if e.lineno else f"does not parse ({e.msg})"
    except (RecursionError, MemoryError):
        return None, "is nested too deeply to parse"
    except ValueError as e:  # e.g. a null byte
        return None, f"does not parse ({e})"


class _Checker:
    """Walks one parsed cell and collects `reasons` (list of str)."""

    def __init__(self, tree, modules, depth):
        self.depth, self.reasons = depth, []
        self.parents = {id(c): n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
        self.modules = set(modules)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self.modules.update((a.asname or a.name).split(".")[0] for a in node.names)
        self.explained = set()  # ids of nodes that belong to an IPython call already judged
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self._ipython_call(node)
        for node in ast.walk(tree):
            if id(node) not in self.explained:
                self._node(node)

    def _ipython_call(self, node):
        """Judge ``get_ipython().METHOD('const', ...)``, the shape IPython's transformation emits."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
                and isinstance(func.value.func, ast.Name) and func.value.func.id == "get_ipython"
                and not func.value.args and not func.value.keywords and not node.keywords
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)):
            return
        args = [a.value for a in node.args]
        method = func.attr
        if method in ("system", "getoutput") and len(args) == 1:
            self.reasons.append(f"runs a shell command (!{args[0][:30]})")
        elif method in ("run_line_magic", "run_cell_magic") and len(args) == (2 if method == "run_line_magic" else 3):
            self.reasons += self._magic(("%" if method == "run_line_magic" else "%%") + args[0], *args[1:])
        else:
            return  # any other use of get_ipython is reported as such
        self.explained.update([id(func.value.func)] + [id(a) for a in node.args])

    def _magic(self, magic, line, body=None):
        if magic not in ALLOWED_MAGICS:
            return [f"runs the IPython magic {magic[:30]} (only %matplotlib, %time and %timeit are allowed)"]
        if magic == "%matplotlib":
            backend = line.strip()
            return [] if backend in MATPLOTLIB_BACKENDS else [f"runs %matplotlib {backend[:30]} (only inline is needed)"]
        if self.depth + 1 > MAX_DEPTH:
            return [f"nests {magic} more than {MAX_DEPTH} deep"]
        codes, problem = _magic_code(magic.lstrip("%"), line)
        if problem:
            return [f"runs {magic} with {problem}"]
        reasons = []
        for code in codes + ([body] if body is not None else []):
            reasons += _scan(code, self.modules, self.depth + 1, f"has {magic} code that ")
        return reasons

    def _node(self, node):
        reasons = self.reasons
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or "."]
            for name in names:
                if node.__class__ is ast.ImportFrom and node.level:
                    reasons.append("uses a relative import")
                elif name.split(".")[0] not in ALLOWED_MODULES:
                    reasons.append(f"imports {name} (answers may import only numpy, math and the standard helpers)")
            reasons += _imported_modules(node)
            for alias in node.names:
                if alias.name in REFLECTION and alias.asname not in (None, alias.name):
                    reasons.append(f"imports {alias.name} under another name")
                if alias.asname in FORBIDDEN_NAMES:
                    reasons.append(f"uses {alias.asname}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            reasons.append(f"calls {node.func.id}()")
        elif isinstance(node, ast.Call) and _loads_pickles(node):
            reasons.append("loads a pickle (allow_pickle), which runs code the grader never checked")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type" and (
                len(node.args) > 1 or any(isinstance(a, ast.Starred) for a in node.args) or node.keywords):
            reasons.append("calls type() with three arguments (builds a class from a dictionary)")
        elif isinstance(node, ast.Name):
            self._name(node)
        elif isinstance(node, ast.Attribute):
            self._attribute(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for dunder in set(_DUNDER.findall(node.value)) - ALLOWED_DUNDERS - {"__main__"}:
                reasons.append(f"names {dunder} in a string")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.arg, ast.ExceptHandler,
                               ast.Global, ast.Nonlocal, ast.MatchAs, ast.MatchStar)):
            bound = getattr(node, "names", None) or [getattr(node, "name", None) or getattr(node, "arg", None)]
            reasons += [f"uses {name}" for name in bound if name in FORBIDDEN_NAMES]
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                root = _root_name(target)
                if isinstance(target, ast.Attribute) and root in self.modules | {"np", "numpy", "math", "plt", "lessonkit"}:
                    reasons.append(f"changes the module attribute {ast.unparse(target)}")
        if isinstance(node, (ast.arg, ast.FunctionDef, ast.AsyncFunctionDef, ast.AnnAssign)):
            self._annotation(getattr(node, "annotation", None) or getattr(node, "returns", None))

    def _name(self, node):
        if node.id in FORBIDDEN_NAMES:
            self.reasons.append(f"uses {node.id}")
        elif node.id in FORBIDDEN_CALLS - {"input", "exit", "quit"}:  # those three are also honest variable names
            if not self._is_called(node):
                self.reasons.append(f"uses {node.id}")  # an alias, e.g. `run = eval`
        elif _DUNDER.fullmatch(node.id) and node.id not in ALLOWED_DUNDERS:
            self.reasons.append(f"uses {node.id}")
        elif node.id in REFLECTION:
            self._reflection(node, node.id)

    def _attribute(self, node):
        if node.attr.startswith("__") and node.attr not in ALLOWED_DUNDERS:
            self.reasons.append(f"reaches into {node.attr}")
        elif node.attr.lstrip("_") in MODULE_ATTRIBUTES:
            self.reasons.append(f"reaches the module {node.attr.lstrip('_')} through {ast.unparse(node)[:40]}")
        elif node.attr in REFLECTION:
            self._reflection(node, node.attr)

    def _reflection(self, node, name):
        """getattr(obj, 'public') and the like pass; a computed or private name does not."""
        call = self.parents.get(id(node))
        if self._is_called(node) and not call.keywords:
            positions = REFLECTION[name] if REFLECTION[name] is not None else range(len(call.args))
            names = [call.args[k] if k < len(call.args) else None for k in positions]
            if names and all(isinstance(a, ast.Constant) and isinstance(a.value, str)
                             and not any(p.startswith("_") for p in a.value.split(".")) for a in names):
                return
        self.reasons.append(f"uses {name}() with a computed or private attribute name "
                            "(only a plain public name written as a string is allowed)")

    def _is_called(self, node):
        parent = self.parents.get(id(node))
        return isinstance(parent, ast.Call) and parent.func is node

    def _annotation(self, annotation):
        """A string annotation is code that typing.get_type_hints evaluates: scan it as code."""
        if annotation is None:
            return
        for node in ast.walk(annotation):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                tree, problem = _parse(node.value)
                if tree is not None and self.depth < MAX_DEPTH:  # text that does not parse cannot be evaluated
                    self.reasons += _Checker(tree, self.modules, self.depth + 1).reasons


def _magic_code(name, line):
    """(codes, None) or (None, problem): the code strings `%name line` runs, parsed as the magic parses them.

    For %time the line is the statement; for %timeit the statement after the options
    (in cell mode: the setup code, the cell being the statement).
    """
    try:
        if name == "time":
            _, extra = magic_arguments.parse_argstring(_MAGICS.time, line, partial=True)
            return [" ".join(extra)], None
        opts, stmt = _MAGICS.parse_options(line, TIMEIT_OPTIONS, posix=False, strict=False, preserve_non_opts=True)
    except Exception:  # noqa: BLE001 -- IPython raises UsageError and getopt errors
        return None, "options the grader does not understand"
    # numbers, and for -v the name of a variable; anything else means the option parsing drifted
    if any(v and not (v.isidentifier() and not v.startswith("_") if k == "v" else v.isdigit()) for k, v in opts.items()):
        return None, "option values the grader does not understand"
    return [stmt], None


def _imported_modules(node):
    """Reasons an import reaches a refused module or name through an allowed one, as an
    attribute would (``from dataclasses import sys``, ``import numpy.os``, ``from functools
    import __builtins__``): every dotted part after the first and every imported name is
    judged as the attribute of the same name would be."""
    if isinstance(node, ast.Import):
        reached = [(part, a.name) for a in node.names for part in a.name.split(".")[1:]]
    else:
        source = "." * node.level + (node.module + "." if node.module else "")
        reached = [(part, source + a.name) for a in node.names
                   for part in (node.module or "").split(".")[1:] + [a.name]]
    reasons = []
    for part, whole in reached:
        if part.lstrip("_") in MODULE_ATTRIBUTES:
            reasons.append(f"reaches the module {part.lstrip('_')} through the import of {whole[:60]}")
        elif part in FORBIDDEN_NAMES or (_DUNDER.fullmatch(part) and part not in ALLOWED_DUNDERS):
            reasons.append(f"imports {part}")
    return reasons


def _loads_pickles(call):
    """True for a call that passes `allow_pickle` other than a literal False (np.load and the like)."""
    if any(k.arg == "allow_pickle" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
           for k in call.keywords):
        return True
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    position = PICKLE_LOADERS.get(name)
    return position is not None and len(call.args) > position and not (
        isinstance(call.args[position], ast.Constant) and call.args[position].value is False)


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
