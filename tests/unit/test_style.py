"""The code passes the linter as configured in pyproject.toml ([tool.ruff])."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def ruff():
    found = Path(sys.executable).with_name("ruff")
    return str(found) if found.exists() else shutil.which("ruff")


def test_ruff_check_is_clean():
    if ruff() is None:
        pytest.fail("ruff is not installed (it is in pyproject.toml's test group: make venv)")
    ran = subprocess.run([ruff(), "check", "--output-format", "concise", "."], cwd=ROOT, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_ruff_finds_a_planted_error(tmp_path):
    """The configuration is read and its rules fire (an undefined name, an unsorted import block)."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "bad.py").write_text("import sys\nimport os\n\nprint(undefined_name, os, sys)\n")
    ran = subprocess.run([ruff(), "check", "--output-format", "concise", "."], cwd=tmp_path, capture_output=True, text=True)
    assert ran.returncode == 1 and "F821" in ran.stdout and "I001" in ran.stdout, ran.stdout
