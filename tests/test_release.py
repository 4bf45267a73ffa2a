"""notebooks/ is exactly what `release` makes from solutions/, and nothing private leaks
into the student copies, the student bundle or the feedback."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grade import lessons

ROOT = Path(__file__).resolve().parent.parent
MARKERS = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden_check", "autograder.hidden",
           "autograder.judge", "autograder.reference", "HIDDEN_CASES"]


def solution_lines(lesson):
    """The lines between the solution markers of a master (the reference code)."""
    nb = json.loads((ROOT / "solutions" / lesson / "lesson.ipynb").read_text())
    lines = []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", src, re.S):
            lines += [l.strip() for l in block.splitlines() if len(l.strip()) > 20 and not l.strip().startswith("#")]
    return lines


def leaks(text, lesson_lines):
    found = [m for m in MARKERS if m in text]
    return found + [l for l in lesson_lines if l in text]


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    subprocess.run([sys.executable, "-m", "autograder", "release", "--into", str(out / "notebooks")],
                   cwd=ROOT, check=True, capture_output=True)
    return out / "notebooks"


def python_patch_masked(data):
    """The kernel's ``language_info.version`` (bytes in and out) is the releasing Python's, e.g. 3.11.7."""
    return re.sub(rb'("version": "\d+\.\d+)\.\d+"', rb'\1.x"', data)


def test_notebooks_are_in_sync_with_the_masters(lesson, fresh_release):
    committed = python_patch_masked((ROOT / "notebooks" / lesson / "lesson.ipynb").read_bytes())
    assert python_patch_masked((fresh_release / lesson / "lesson.ipynb").read_bytes()) == committed, (
        f"notebooks/{lesson} differs from what `make release` makes of solutions/{lesson}: run `make release`")


def test_no_lesson_folder_without_a_master():
    assert sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir()) == lessons()


def test_student_copies_leak_nothing(lesson):
    text = (ROOT / "notebooks" / lesson / "lesson.ipynb").read_text()
    assert leaks(text, solution_lines(lesson)) == []


def test_committed_notebooks_have_no_outputs():
    for path in list((ROOT / "solutions").rglob("*.ipynb")) + list((ROOT / "notebooks").rglob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        assert not any(c.get("outputs") for c in cells), f"{path} has stored outputs"


def test_student_bundle_leaks_nothing(tmp_path):
    out = tmp_path / "bundle"
    subprocess.run([sys.executable, "-m", "autograder", "bundle", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {str(p.relative_to(out)) for p in files}
    assert "notebooks/02_batch_norm/lesson.ipynb" in names and "autograder/checks/batch_norm.py" in names
    assert not any(n.startswith(("solutions", "autograder/judge", "tests")) for n in names)
    assert not {"autograder/reference.py", "autograder/hidden.py"} & names
    every_solution_line = [l for lesson in lessons() for l in solution_lines(lesson)]
    for path in files:
        if path.suffix in {".py", ".ipynb", ".md", ".toml"}:
            assert leaks(path.read_text(), every_solution_line) == [], f"{path.relative_to(out)} leaks"


def test_feedback_shows_no_hidden_tests_or_reference(graded_class, tmp_path):
    from autograder import report
    results, _, _ = graded_class
    report.write_all(list(results.values()), [], tmp_path)
    every_solution_line = [l for lesson in lessons() for l in solution_lines(lesson)]
    for page in (tmp_path / "feedback").rglob("*.html"):
        text = page.read_text()
        assert leaks(text, every_solution_line) == [], page
        assert "[[" not in text and "array(" not in text, f"{page}: looks like an array dump"
