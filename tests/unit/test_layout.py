"""The grader's layers run one way: no module imports one that imports it back, even inside a
function (a package reading its own lesson modules is not an arrow back up)."""
import ast
from pathlib import Path

from autograder.worker.course import ROOT


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path, known):
    """The autograder modules `path` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found |= {n for n in names if n in known}
    return found


def import_graph():
    paths = sorted((ROOT / "autograder").rglob("*.py"))
    known = {module_name(p) for p in paths}
    graph = {module_name(p): imports(p, known) - {module_name(p)} for p in paths}
    for name, targets in graph.items():  # a package may read its own submodules (its lesson plugins)
        graph[name] = {t for t in targets if not t.startswith(name + ".")}
    return graph


def cycles(graph):
    found, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"
    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_import_graph_has_no_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
