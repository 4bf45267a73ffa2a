"""Students install only what students need: the bundle's pyproject.toml names no test, cluster or
database package, not even through a dependency's dependencies; the grader's own imports are all
installed by the core dependencies (Gradescope's image installs only those); a missing extra is
a clear error, never a traceback."""
import ast
import importlib.util
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder.authoring.release import pins_excluding, supported_pythons

ROOT = Path(__file__).resolve().parents[2]
COURSE = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: The instructor's tools, named here as well as read from pyproject.toml's extras and groups, so that a
#: package moved back into `dependencies` is still caught.
INSTRUCTOR_ONLY = {"pytest", "nbval", "playwright", "cmarkgfm", "dask", "distributed", "psycopg2", "psycopg2-binary",
                   "cosmic-ray", "coverage"}


def instructor_only():
    """Distribution names (canonical) of every extra, every dependency group and `INSTRUCTOR_ONLY`."""
    extras = [d for group in COURSE["project"]["optional-dependencies"].values() for d in group]
    groups = [d for group in COURSE.get("dependency-groups", {}).values() for d in group]
    return {canonicalize_name(Requirement(d).name) for d in extras + groups} | set(map(canonicalize_name, INSTRUCTOR_ONLY))


def removed_by_make_venv():
    """Packages `make venv` uninstalls after installing (their metadata is gone from this venv)."""
    found = re.findall(r"pip uninstall .*-y ([\w\-. ]+)$", (ROOT / "Makefile").read_text(), re.M)
    return {canonicalize_name(name) for names in found for name in names.split()}


def closure(requirements):
    """Canonical names of the distributions `pip install` of `requirements` brings, with their dependencies'
    dependencies, read from this venv's metadata (installed from the same lock the bundle installs with);
    a package `make venv` removes counts, its own dependencies unread."""
    found, todo = set(), [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if (name, tuple(sorted(req.extras))) in found:
            continue
        found.add((name, tuple(sorted(req.extras))))
        if name in removed_by_make_venv():
            continue
        try:
            needs = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{req.name} is required (by the bundle's dependencies) but not installed in this venv")
        for need in map(Requirement, needs):
            if need.marker is None or any(need.marker.evaluate({**default_environment(), "extra": e})
                                          for e in ("", *req.extras)):
                todo.append(need)
    return {name for name, _ in found}


def bundle_dependencies():
    from autograder.authoring.release import student_pyproject
    return tomllib.loads(student_pyproject())["project"]["dependencies"]


def test_the_bundle_names_no_test_cluster_or_database_package():
    named = {canonicalize_name(Requirement(d).name) for d in bundle_dependencies()}
    assert {"numpy", "matplotlib", "jupyterlab", "nbgrader"} <= named
    assert named & instructor_only() == set()


def test_nothing_the_bundle_installs_brings_one_in():
    """Through a dependency's dependencies too (nbgrader's own test tools are an extra of nbgrader's)."""
    assert closure(bundle_dependencies()) & instructor_only() == set()


def test_the_course_dependencies_are_the_bundles():
    """One list: what students install is what the grader's core (and Gradescope's image) installs."""
    assert bundle_dependencies() == COURSE["project"]["dependencies"]


def imports_of(path):
    """Top-level names of the modules `path` imports (absolute imports only)."""
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    return {name.split(".")[0] for name in names}


#: module file -> the extra whose packages it may import (imported inside the function that needs them)
EXTRA_USERS = {"autograder/grading/cluster.py": "cluster", "autograder/authoring/mutation.py": "mutation"}


def test_every_package_the_course_imports_is_a_core_dependency_or_its_files_extra():
    """What autograder/ and lessonkit/ import is installed by `pip install -e .` alone (the bundle, Gradescope),
    except the cluster module's Dask and the mutation tool's cosmic-ray, which are their extras'."""
    distributions = metadata.packages_distributions()
    core = closure(COURSE["project"]["dependencies"])
    missing = {}
    for path in sorted([*(ROOT / "autograder").rglob("*.py"), *(ROOT / "lessonkit").rglob("*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        extra = COURSE["project"]["optional-dependencies"].get(EXTRA_USERS.get(rel), [])
        # an extra `make venv` leaves out (mutation) is matched by its requirement names
        installed = [d for d in extra if importlib.util.find_spec(Requirement(d).name.replace("-", "_").split("[")[0])]
        allowed = core | closure(installed) | {canonicalize_name(Requirement(d).name) for d in extra}
        for module in imports_of(path) - set(sys.stdlib_module_names) - {"autograder", "lessonkit", "__future__"}:
            owners = {canonicalize_name(d) for d in distributions.get(module, [])} or {canonicalize_name(module)}
            if not owners & allowed:
                missing.setdefault(rel, []).append(f"{module} ({', '.join(sorted(owners)) or 'not installed'})")
    assert missing == {}


def test_gradescope_installs_the_core_dependencies_only():
    setup = (ROOT / "gradescope" / "setup.sh").read_text()
    installs = [line for line in setup.splitlines() if re.search(r"pip install", line) and not line.lstrip().startswith("#")]
    assert installs and all("--group" not in line and not re.search(r"\.\[|\[\w+\]", line) for line in installs), installs
    assert any(line.rstrip().endswith('-e "$SOURCE"') for line in installs)


def test_cluster_without_dask_is_a_clear_error(monkeypatch):
    from autograder.grading.cluster import ClusterError, grade_on_cluster
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the cluster extra were not installed
    with pytest.raises(ClusterError, match=r"needs Dask .*pip install -c requirements.lock -e '\.\[cluster\]'"):
        grade_on_cluster([], "tcp://127.0.0.1:1")


def test_postgresql_without_its_driver_is_a_clear_error(monkeypatch):
    from autograder.gradebook import record as gradebook
    url = "postgresql://grader:hunter2@127.0.0.1:1/course"
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # as if the postgresql extra were not installed
    with pytest.raises(ModuleNotFoundError) as raised:
        gradebook.record([], url)
    sentence = gradebook.failure(raised.value, url)
    assert "psycopg2" in sentence and "'.[postgresql]'" in sentence and "hunter2" not in sentence, sentence


@pytest.mark.parametrize("version", [f"{minor}.0" for minor in supported_pythons()])
def test_every_locked_pin_installs_on_the_first_release_of_each_allowed_python(version):
    """`pip install -c requirements.lock` is the bundle's install (STUDENT_README.md): a pin that needs a later patch
    release (soupsieve 4.1.3 needs 3.11.5) stops it on Debian 12's Python 3.11.2. `make lock` pins below it."""
    assert pins_excluding(version) == {}
