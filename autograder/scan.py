"""Static integrity scan of the cells a student can edit, before anything runs.

A flagged cell is not executed: the items that need the functions it defines score 0,
with the reason in the feedback; every other item is graded as usual. The scan is a
first line of defence and a clear message; isolation (isolation.py) and judging outside
the student's process are what make the grade trustworthy.
"""
import ast

#: Modules an answer may import.
ALLOWED_MODULES = {"numpy", "math", "cmath", "functools", "itertools", "collections", "typing", "dataclasses",
                   "numbers", "operator", "statistics", "fractions", "decimal", "matplotlib", "lessonkit", "time",
                   "warnings", "random", "copy", "string", "re"}
FORBIDDEN_CALLS = {"exec", "eval", "compile", "__import__", "open", "breakpoint", "globals", "locals", "vars",
                   "setattr", "delattr", "exit", "quit", "input", "memoryview"}
FORBIDDEN_NAMES = {"__builtins__", "builtins", "get_ipython", "__loader__", "__spec__"}
ALLOWED_DUNDERS = {"__init__", "__name__", "__doc__", "__class__", "__len__", "__call__", "__repr__", "__str__"}
ALLOWED_MAGICS = {"%matplotlib", "%time", "%timeit", "%%time", "%%timeit"}


def scan(source):
    """Reasons this cell must not run (empty when it is fine).

    Parameters
    ----------
    source : str, the cell's code

    Returns
    -------
    reasons : list of str
    """
    reasons, lines = [], []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("!") or (stripped.startswith("%") and stripped.split()[0] not in ALLOWED_MAGICS):
            reasons.append(f"runs a shell command or IPython magic ({stripped.split()[0][:20]})")
            lines.append("")
        else:
            lines.append("" if stripped.startswith("%") else line)
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return reasons  # a syntax error is the student's own finding: it is reported when the cell runs
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or "."]
            for name in names:
                if node.__class__ is ast.ImportFrom and node.level:
                    reasons.append("uses a relative import")
                elif name.split(".")[0] not in ALLOWED_MODULES:
                    reasons.append(f"imports {name} (answers may import only numpy, math and the standard helpers)")
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            reasons.append(f"calls {node.func.id}()")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            reasons.append(f"uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__") and node.attr not in ALLOWED_DUNDERS:
            reasons.append(f"reaches into {node.attr}")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                root = _root_name(target)
                if isinstance(target, ast.Attribute) and root in modules | {"np", "numpy", "math", "plt", "lessonkit"}:
                    reasons.append(f"changes the module attribute {ast.unparse(target)}")
    return sorted(set(reasons))


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
