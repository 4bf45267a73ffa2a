"""The grader's layers, held: no import cycle, no arrow from a shipped folder to a private one, and
output modules that need only results. No module imports one that imports it back, even inside a
function (a package reading its own lesson modules is not an arrow back up)."""
import ast

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


def layer_violations(graph, sources, allowed):
    """Arrows (source, target) from a module under one of `sources` (package prefixes) to an
    autograder module that no prefix in `allowed` covers."""
    def under(name, prefixes):
        return any(name == p or name.startswith(p + ".") for p in prefixes)
    return sorted((src, dst) for src, targets in graph.items() if under(src, sources)
                  for dst in targets if dst.startswith("autograder") and not under(dst, allowed))


#: What an output module may import of the package: the results it shows, the outputs' own
#: helpers, the course's facts and the verdicts' wording (plain data that imports nothing of the grader).
OUTPUTS_MAY_IMPORT = ("autograder.grading.results", "autograder.outputs", "autograder.worker.course",
                      "autograder.worker.wording")


def test_output_modules_import_only_results_and_their_own_helpers():
    assert layer_violations(import_graph(), ["autograder.outputs"], OUTPUTS_MAY_IMPORT) == []


def test_shipped_folders_never_import_a_private_one():
    """What students receive (and every sandbox runs) cannot reach the judge, the pipeline or the LMS code."""
    import autograder
    shipped = [f"autograder.{folder}" for folder in autograder.SHIPPED]
    assert layer_violations(import_graph(), shipped, ["autograder", *shipped]) == []


def test_lessonkit_imports_only_shipped_folders():
    import autograder
    shipped = [f"autograder.{folder}" for folder in autograder.SHIPPED]
    graph = {}
    for path in sorted((ROOT / "lessonkit").rglob("*.py")):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[f"lessonkit.{path.stem}"] = {n for n in found if n.startswith("autograder")}
    assert layer_violations(graph, ["lessonkit"], shipped) == []


def test_the_layer_rule_finds_a_planted_arrow():
    graph = {"autograder.outputs.report": {"autograder.grading.grade", "autograder.grading.results"},
             "autograder.worker.runner": {"autograder.judge.reference", "autograder.worker.course"}}
    assert layer_violations(graph, ["autograder.outputs"], OUTPUTS_MAY_IMPORT) == \
        [("autograder.outputs.report", "autograder.grading.grade")]
    assert layer_violations(graph, ["autograder.worker"], ["autograder.worker"]) == \
        [("autograder.worker.runner", "autograder.judge.reference")]


def test_importing_the_outputs_loads_neither_ipython_nor_the_runner():
    """Writing a report or a Canvas file needs only results: not the notebook reader, IPython or the runner."""
    import subprocess
    import sys
    code = ("import sys, autograder.outputs.report, autograder.outputs.item_analysis, autograder.lms.canvas\n"
            "print(sorted(m for m in ('IPython', 'nbformat', 'autograder.worker.runner', 'autograder.grading.grade',"
            " 'autograder.worker.notebook') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


RENAMERS = {("os", "replace"), ("os", "rename"), ("tempfile", "mkstemp")}


def renames(source):
    """Calls in `source` of what a write-then-rename is made of (`os.replace`, `tempfile.mkstemp`, ...)."""
    return sorted(f"{n.func.value.id}.{n.func.attr}" for n in ast.walk(ast.parse(source))
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                  and isinstance(n.func.value, ast.Name) and (n.func.value.id, n.func.attr) in RENAMERS)


def test_private_code_writes_a_whole_file_through_outputs_atomic_only():
    """One write-then-rename helper (shipped code may not import it, so it is left out)."""
    import autograder
    shipped = tuple(f"autograder.{folder}." for folder in autograder.SHIPPED)
    found = {module_name(p): renames(p.read_text()) for p in sorted((ROOT / "autograder").rglob("*.py"))
             if not module_name(p).startswith(shipped)}
    assert {m: calls for m, calls in found.items() if calls} == {"autograder.outputs.atomic": ["os.replace", "tempfile.mkstemp"]}


def test_the_rename_finder_sees_a_hand_made_one():
    planted = "fd, tmp = tempfile.mkstemp(dir=d)\nos.replace(tmp, path)\nname.replace('a', 'b')\n"
    assert renames(planted) == ["os.replace", "tempfile.mkstemp"]
