"""Finding copies of the reference in code: each statement of the masters' solution cells,
normalized so that names, literals and formatting do not hide a copy.

Normalization: ``np.f(x, ...)`` is read as ``x.f(...)`` (a reduction written either way is
the same computation), then every name, literal and ``name[literal]`` becomes ``_``;
attribute names, operators, call structure and keyword names stay. A solution statement
(or the value it assigns or returns) counts when its normalized tree has at least
`MIN_NODES` nodes, so ``x = []`` or ``return y`` match nothing.
"""
import ast
import copy
import json
import re

MIN_NODES = 10
NUMPY = {"np", "numpy"}


class _Normalize(ast.NodeTransformer):
    def visit_Call(self, node):
        f = node.func
        if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in NUMPY
                and node.args and not isinstance(node.args[0], ast.Starred)):
            node = ast.Call(func=ast.Attribute(value=node.args[0], attr=f.attr, ctx=ast.Load()),
                            args=node.args[1:], keywords=node.keywords)
        self.generic_visit(node)
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and isinstance(node.slice, (ast.Constant, ast.Name)):
            return ast.Name(id="_", ctx=ast.Load())
        return node

    def visit_Name(self, node):
        return ast.Name(id="_", ctx=ast.Load())

    def visit_Constant(self, node):
        return ast.Name(id="_", ctx=ast.Load())

    def visit_arg(self, node):
        return ast.arg(arg="_")


def normalized(node):
    """(dump, size) of a statement or expression after normalization."""
    tree = _Normalize().visit(copy.deepcopy(node))
    size = sum(1 for n in ast.walk(tree) if not isinstance(n, ast.expr_context))
    return ast.dump(tree, annotate_fields=False), size


def _units(tree):
    """Every statement of a tree, and the value of each assignment, return and expression statement."""
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, ast.FunctionDef):
            yield node
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.Return, ast.Expr)) and node.value is not None:
                yield node.value


def fingerprints(source):
    """{dump: source text} of the solution statements of a cell big enough to count."""
    found = {}
    for unit in _units(ast.parse(source)):
        dump, size = normalized(unit)
        if size >= MIN_NODES:
            found[dump] = ast.unparse(unit)
    return found


def shapes_in(source):
    """Normalized dumps of every statement and expression of some code (none if it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {normalized(node)[0] for node in ast.walk(tree) if isinstance(node, (ast.stmt, ast.expr))}


def code_of(path):
    """The Python code of a .py file or of a notebook's code cells (magics dropped)."""
    text = path.read_text()
    if path.suffix != ".ipynb":
        return [text]
    cells = [c for c in json.loads(text)["cells"] if c["cell_type"] == "code"]
    return [re.sub(r"(?m)^\s*[%!].*$", "", "".join(c["source"])) for c in cells]
