"""notebooks/ is exactly what `release` makes from solutions/, and nothing private leaks
into the student copies, the student bundle or the feedback."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import checks, judge
from autograder.course import lesson_module, lessons
from autograder.course import master_path
from autograder.cells import cell_source, nbgrader_meta
from tests.answer_scan import code_of, fingerprints, shapes_in

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


def test_the_lesson_list_names_every_master_and_its_modules():
    assert sorted(p.parent.name for p in (ROOT / "solutions").glob("*/lesson.ipynb")) == lessons()
    for lesson in lessons():
        for package in ("checks", "judge"):
            assert (ROOT / "autograder" / package / f"{lesson_module(lesson)}.py").is_file()


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


def test_student_bundle_installs_the_locked_environment(tmp_path):
    import tomllib
    out = tmp_path / "bundle"
    subprocess.run([sys.executable, "-m", "autograder", "bundle", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    assert (out / "requirements.lock").read_bytes() == (ROOT / "requirements.lock").read_bytes()
    assert "-c requirements.lock" in (out / "README.md").read_text()
    student, course = (tomllib.loads(p.read_text()) for p in (out / "pyproject.toml", ROOT / "pyproject.toml"))
    assert student["project"]["dependencies"] == course["project"]["dependencies"]
    packages = student["tool"]["setuptools"]["packages"]
    assert "autograder.judge" not in packages and {"lessonkit", "autograder", "autograder.checks"} <= set(packages)
    assert all((out / p.replace(".", "/")).is_dir() for p in packages)


def test_feedback_shows_no_hidden_tests_or_reference(graded_class, tmp_path):
    from autograder import report
    results, _, _ = graded_class
    report.write_all(list(results.values()), [], tmp_path)
    every_solution_line = [l for lesson in lessons() for l in solution_lines(lesson)]
    for page in (tmp_path / "feedback").rglob("*.html"):
        text = page.read_text()
        assert leaks(text, every_solution_line) == [], page
        assert "[[" not in text and "array(" not in text, f"{page}: looks like an array dump"


# ---- no copy of the reference in what students receive ------------------------------------

#: Solution statements that only restate the contract every lesson states in its instructions
#: (the layer sizes of W[l], zero biases): shared code and shape checks may say the same.
CONTRACT = ["fan_in, units = layer_dims[l - 1], layer_dims[l]", 'params[f"b{l}"] = np.zeros((units, 1))']

#: Two public checks as they were before the answers moved out: a scan that passes them is broken.
OLD_INFERENCE_VALUES = '''def inference_values(inputs, Z_tilde):
    Z = inputs["Z"]
    wanted = inputs["gamma"] * (Z - inputs["running_mean"]) / np.sqrt(inputs["running_var"] + EPS) + inputs["beta"]
'''
OLD_ROWS = '''def rows(W, tol):
    kept = []
    for row in W:
        if all(np.abs(row - k).max() > tol for k in kept):
            kept.append(row)
    return len(kept)
'''


def reference_fingerprints():
    """{normalized statement: (lesson, source)} of every master's solution cells, contract excepted."""
    allowed = {d for line in CONTRACT for d in fingerprints(line)}
    found = {}
    for lesson in lessons():
        for cell in json.loads(master_path(lesson).read_text())["cells"]:
            if nbgrader_meta(cell).get("solution"):
                found.update({d: (lesson, src) for d, src in fingerprints(cell_source(cell)).items()
                              if d not in allowed})
    return found


def copies_of_the_reference(code, known=None):
    known = reference_fingerprints() if known is None else known
    return sorted(known[d] for d in shapes_in(code) & known.keys())


def test_the_scan_finds_the_answers_the_checks_used_to_compute():
    assert {lesson for lesson, _ in copies_of_the_reference(OLD_INFERENCE_VALUES)} == {"02_batch_norm"}
    assert {lesson for lesson, _ in copies_of_the_reference(OLD_ROWS)} == {"04_initialization"}


def test_student_bundle_holds_no_copy_of_the_reference(tmp_path):
    out = tmp_path / "bundle"
    subprocess.run([sys.executable, "-m", "autograder", "bundle", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    known = reference_fingerprints()
    found = {str(path.relative_to(out)): copies
             for path in sorted(out.rglob("*")) if path.suffix in {".py", ".ipynb"}
             for copies in [[c for code in code_of(path) for c in copies_of_the_reference(code, known)]] if copies}
    assert found == {}


def test_known_outputs_are_in_sync_with_the_reference():
    """Byte for byte what `make release` would write here, whatever BLAS kernels this machine selects: the
    committed file was written on another (its last bits differ from this machine's), and `release` keeps
    values within `judge.KNOWN_OUTPUTS_TOLERANCE`, so a fresh clone's `git status` stays clean."""
    assert checks.KNOWN_OUTPUTS.read_text() == judge.known_outputs_text(), (
        "autograder/checks/known_outputs.json differs from what the reference and the private mistakes "
        "give on the visible cases: run `make release`")


def moved_floats(data, move):
    """Encoded known outputs with every float array and float replaced by `move(x)`."""
    from autograder import wire
    if isinstance(data, dict) and ("ndarray" in data or data.get("type") == "float"):
        value = wire.decode(data)
        if np.asarray(value).dtype.kind == "f":
            moved = move(np.asarray(value, dtype=float))
            return wire.encode(float(moved) if isinstance(value, float) else moved.astype(value.dtype))
        return data
    if isinstance(data, dict):
        return {k: moved_floats(v, move) for k, v in data.items()}
    if isinstance(data, list):
        return [moved_floats(v, move) for v in data]
    return data


@pytest.fixture()
def stored_known_outputs(tmp_path, monkeypatch):
    """Write a known_outputs.json of one's own in a scratch copy that the checks and the judge read."""
    path = tmp_path / "known_outputs.json"
    monkeypatch.setattr(checks, "KNOWN_OUTPUTS", path)

    def store(data):
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        checks.known_outputs.cache_clear()
        judge.cases.cache_clear()
        return path
    yield store
    checks.known_outputs.cache_clear()
    judge.cases.cache_clear()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_release_keeps_known_outputs_that_moved_in_the_last_bits_and_rewrites_real_changes(stored_known_outputs, seed):
    rng = np.random.default_rng(seed)
    fresh = judge.known_outputs_data()
    tol = judge.KNOWN_OUTPUTS_TOLERANCE
    # what another kernel does, and more: up to a third of the tolerance, on every float
    nudged = moved_floats(fresh, lambda x: x * (1 + tol["rtol"] / 3 * rng.uniform(-1, 1, x.shape)))
    assert nudged != fresh
    stored_known_outputs(nudged)
    assert judge.known_outputs_text() == checks.KNOWN_OUTPUTS.read_text()
    # a real change (1e-6 of a value, what the checks can see) in one of them is written
    grade_id = sorted(fresh)[seed]
    changed = json.loads(json.dumps(nudged))
    changed[grade_id] = moved_floats(changed[grade_id], lambda x: x * (1 + 1e-6) + 1e-6)
    stored_known_outputs(changed)
    rewritten = json.loads(judge.known_outputs_text())
    assert rewritten[grade_id] == fresh[grade_id]
    assert {k: v for k, v in rewritten.items() if k != grade_id} == {k: v for k, v in nudged.items() if k != grade_id}


def visible_verdicts(fresh):
    """grade_id, label -> the verdicts the visible checks give, reading checks.KNOWN_OUTPUTS: the reference's
    failures (none), and which private mistake they name for an output equal to each private mistake's
    (`fresh`: the outputs as computed here, what a student's code with that mistake returns)."""
    from autograder import reference
    verdicts = {}
    for grade_id, item in sorted(checks.items().items()):
        if not item.needs_known_outputs:
            continue
        ref = reference.load(judge.lesson_of(grade_id))
        functions = [ref[name] for name in item.functions]
        for (label, inputs), entry in zip(item.visible_cases(), fresh[grade_id]):
            theirs = checks.decode_known(entry)[checks.KNOWN]
            named = {mine: [name for name, stored in inputs[checks.KNOWN].items()
                            if checks.same_structure(output, stored)] for mine, output in theirs.items()}
            failures = checks.evaluate(item, inputs, checks.collect(item, functions, inputs))
            verdicts[grade_id, label] = [(str(f), f.hint) for f in failures], named
    return verdicts


def test_the_visible_checks_decide_the_same_on_known_outputs_anywhere_within_the_tolerance(stored_known_outputs):
    """`release` keeps a stored value within `judge.KNOWN_OUTPUTS_TOLERANCE` of the fresh one: the visible checks
    must then give the reference and every private mistake the same verdict and hint as on the exact values."""
    fresh = judge.known_outputs_data()
    stored_known_outputs(fresh)
    exact = visible_verdicts(fresh)
    assert all(failures == [] for failures, _ in exact.values())
    assert sum(len(named) for _, named in exact.values()) > 20
    assert all(mine in names for _, named in exact.values() for mine, names in named.items())
    tol = judge.KNOWN_OUTPUTS_TOLERANCE
    for sign in (1, -1):
        # each value as far as the tolerance lets it be; exact zeros (a ReLU's) no kernel moves
        moved = moved_floats(fresh, lambda x: x + sign * (tol["rtol"] * np.abs(x) + tol["atol"]) * (x != 0))
        # lesson 05's answers are one of the case's rates, picked, not computed: no kernel moves them, and `kept`
        # keeps what is stored only when it is within the tolerance, so they stay exact
        for picked in ("usable_lr_largest", "usable_lr_diverged"):
            moved[picked] = fresh[picked]
        stored_known_outputs(moved)
        assert visible_verdicts(fresh) == exact, sign
