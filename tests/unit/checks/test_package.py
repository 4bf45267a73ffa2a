"""`autograder.checks` split into modules behind a thin `__init__`: the import path that released
notebooks, nbgrader's stored test cells and `autograder.hidden` use keeps every public name, the
sandbox's zygote still preloads every module, and `Item` takes its twelve parameters by keyword."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import checks
from autograder.worker import course, zygote

ROOT = Path(__file__).resolve().parents[3]
CHECKS = ROOT / "autograder" / "checks"
LESSON_MODULES = {course.lesson_module(lesson) for lesson in course.LESSONS}


def support_modules():
    """The checks' own modules (not the package, not one lesson's)."""
    return sorted(p.stem for p in CHECKS.glob("*.py") if p.stem != "__init__" and p.stem not in LESSON_MODULES)


def defined_names(path):
    """Public names a module defines at its top level (functions, classes, assignments)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for target in node.targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    return {name for name in names if not name.startswith("_")}


def test_the_init_is_thin_and_reexports_every_public_name_once():
    init = ast.parse((CHECKS / "__init__.py").read_text())
    assert not [n for n in init.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    defined = {module: defined_names(CHECKS / f"{module}.py") for module in support_modules()}
    public = [name for names in defined.values() for name in names]
    assert len(public) == len(set(public)), "a name defined in two of the checks' modules"
    assert sorted(checks.__all__) == sorted(public)
    for module, names in defined.items():
        for name in names:
            assert getattr(checks, name) is getattr(sys.modules[f"autograder.checks.{module}"], name), name


def test_what_notebooks_lessons_and_hidden_import_from_the_package_is_there():
    """Every ``from autograder.checks import ...`` in the course: masters, released notebooks, stored test cells'
    entry point and the modules themselves."""
    sources = [p.read_text() for p in [*ROOT.glob("autograder/**/*.py"), *ROOT.glob("tests/*.py")]]
    for notebook in [*ROOT.glob("solutions/*/lesson.ipynb"), *ROOT.glob("notebooks/*/lesson.ipynb")]:
        sources += ["".join(line for line in cell["source"] if not line.startswith(("%", "!")))  # IPython's magics
                    for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code"]
    wanted = set()
    for source in sources:
        wanted |= {alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)
                   and node.module == "autograder.checks" for alias in node.names}
    assert {"check", "CheckFailed", "Item", "Failure", "case_seed"} <= wanted
    modules = set(support_modules()) | LESSON_MODULES
    assert [name for name in wanted - modules if name not in checks.__all__] == []


def test_the_zygote_preloads_every_module_of_the_checks():
    """The worker's zygote imports `PRELOAD` and builds the items once, so no submission pays for them."""
    script = ("import importlib, sys\n"
              f"for name in {zygote.PRELOAD!r}:\n    importlib.import_module(name)\n"
              "sys.modules['autograder.checks'].items()\n"
              "print(sorted(m for m in sys.modules if m.startswith('autograder.checks.')))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = {name.rsplit(".", 1)[1] for name in ast.literal_eval(done.stdout.strip())}
    assert loaded == set(support_modules()) | LESSON_MODULES


def visible_item(**changes):
    arguments = dict(grade_id="x", functions=["f"], run=lambda f: f(), properties=lambda inputs, result: None,
                     visible_cases=lambda: [("a case", {})])
    return checks.Item(**{**arguments, **changes})


def test_an_item_takes_its_parameters_by_keyword_only():
    item = visible_item(compare=False, depends_on=["y"])
    assert (item.grade_id, item.functions, item.compare, item.depends_on) == ("x", ("f",), False, ("y",))
    with pytest.raises(TypeError):
        checks.Item("x", ["f"], lambda f: f(), lambda inputs, result: None, lambda: [])
    with pytest.raises(TypeError):  # one of the five without a default left out
        checks.Item(grade_id="x", functions=["f"], run=lambda f: f(), properties=lambda inputs, result: None)


def test_every_lesson_item_is_still_registered():
    """The keyword rewrite of the lesson modules lost no item and no setting: every item has its functions and cases."""
    registry = checks.items()
    assert set(registry) == {gid for lesson in course.LESSONS
                             for gid in (i.grade_id for i in __import__(
                                 f"autograder.checks.{course.lesson_module(lesson)}", fromlist=["ITEMS"]).ITEMS)}
    assert all(item.functions and item.visible_cases() for item in registry.values())
