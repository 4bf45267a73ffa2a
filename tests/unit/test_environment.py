"""environment.yml, pyproject.toml and requirements.lock agree."""
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pins(lines):
    return {m.group(1).lower(): m.group(2) for m in (re.match(r"^\s*-?\s*\"?([A-Za-z0-9_.\-]+)(?:\[[\w,]+\])?==([^\s\",]+)", l)
                                                     for l in lines) if m}


def venv_requirements():
    """What `make venv` installs: pyproject.toml's dependencies, the extras and dependency groups the Makefile's
    EVERYTHING names (all but `mutation`, which never enters the lock, and `hub`, which `make hub` installs from the lock)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    everything = re.search(r"^EVERYTHING := -e '\.\[([\w,]+)\]'((?: --group \w+)+)$",
                           (ROOT / "Makefile").read_text(), re.M)
    extras, groups = everything.group(1).split(","), everything.group(2).split()[1::2]
    assert set(project["project"]["optional-dependencies"]) - set(extras) == {"mutation", "hub"}
    assert set(groups) == set(project["dependency-groups"])
    return [*project["project"]["dependencies"], *(d for e in extras for d in project["project"]["optional-dependencies"][e]),
            *(d for g in groups for d in project["dependency-groups"][g])]


def test_environment_yml_names_the_same_packages_and_versions():
    project = pins(venv_requirements())
    conda = pins((ROOT / "environment.yml").read_text().split("pip:", 1)[1].splitlines())
    assert project and conda == project


def test_lock_file_agrees_with_the_direct_pins():
    project = pins(venv_requirements())
    lock = pins((ROOT / "requirements.lock").read_text().splitlines())
    for name, version in project.items():
        if name != "setuptools":  # pip freeze leaves setuptools out
            assert lock.get(name) == version, f"{name}: pyproject {version}, lock {lock.get(name)}"


def test_the_hub_extra_is_locked_at_its_pin():
    """`make hub` installs the `hub` extra from the lock, which must pin JupyterHub at pyproject's version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    hub = pins(project["project"]["optional-dependencies"]["hub"])
    lock = pins((ROOT / "requirements.lock").read_text().splitlines())
    assert hub and {name: lock.get(name) for name in hub} == hub


def test_the_venv_holds_every_pinned_package_at_its_pin():
    """`make venv` installs the extras and the test group too (the tests below need them)."""
    from importlib.metadata import version
    assert {name: version(name) for name in pins(venv_requirements())} == pins(venv_requirements())


def test_the_startup_cost_package_is_not_locked():
    assert "rfc3987-syntax" not in (ROOT / "requirements.lock").read_text()


@pytest.mark.slow
def test_jupyterlab_has_nbgraders_validate_button():
    import subprocess
    import sys
    jupyter = [sys.executable, "-m", "jupyter"]
    server = subprocess.run(jupyter + ["server", "extension", "list"], capture_output=True, text=True)
    lab = subprocess.run(jupyter + ["labextension", "list"], capture_output=True, text=True)
    listing = server.stdout + server.stderr
    assert re.search(r"nbgrader\.server_extensions\.validate_assignment\S*\s+\S*enabled", listing)
    assert "@jupyter/nbgrader" in lab.stdout + lab.stderr


def test_student_mode_names_plugins_and_extensions_that_exist():
    """An upgrade that renames a plugin would silently bring an instructor tool back."""
    import json
    import sys
    student = ROOT / "autograder" / "student" / "lab_student"
    plugins = json.loads((student / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    share = Path(sys.prefix) / "share" / "jupyter"
    bundles = "".join(p.read_text(errors="replace") for folder in (share / "labextensions", share / "lab" / "static")
                      for p in folder.rglob("*.js"))
    for plugin in plugins:
        assert f'"{plugin}"' in bundles, f"no JupyterLab plugin {plugin} is installed"
    extensions = json.loads((student / "jupyter_server_config.d" / "student_mode.json").read_text())
    installed = json.loads((Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "nbgrader.json").read_text())
    off = extensions["ServerApp"]["jpserver_extensions"]
    assert off and set(off) <= set(installed["ServerApp"]["jpserver_extensions"]) and not any(off.values())
    assert "nbgrader.server_extensions.validate_assignment" not in off and "@jupyter/nbgrader:validate-assignment" not in plugins
