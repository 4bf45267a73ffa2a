"""notebooks/ is exactly what `release` makes from solutions/, and nothing private leaks
into the student copies, the student bundle or the feedback."""
import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder import checks, judge
from autograder.worker.cells import cell_source, nbgrader_meta
from autograder.worker.course import lesson_module, lessons, master_path
from tests.support.answer_scan import code_of, fingerprints, shapes_in

ROOT = Path(__file__).resolve().parents[3]
MARKERS = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden_check", "autograder.hidden",
           "autograder.judge", "autograder.judge.reference", "HIDDEN_CASES"]


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


@pytest.fixture(scope="module")
def student_bundle(tmp_path_factory):
    """What `python -m autograder bundle` makes, made once for the tests that read it: the folder
    (build/student-bundle) with its zip (build/student-bundle.zip) beside it."""
    out = tmp_path_factory.mktemp("bundle") / "build" / "student-bundle"
    subprocess.run([sys.executable, "-m", "autograder", "bundle", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    return out


def python_patch_masked(data):
    """The kernel's ``language_info.version`` (bytes in and out) is the releasing Python's, e.g. 3.11.7 (the
    course runs on 3.11 to 3.13; `release` keeps a notebook that differs only there)."""
    return re.sub(rb'("version": ")3\.\d+\.\d+"', rb'\1x"', data)


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


def test_what_the_lessons_show_is_in_sync_with_the_masters(fresh_release):
    """The figures beside each released notebook are those of its master's folder (`make figures`, then
    `make release`): none missing, none stale, none left over."""
    def shown(folder):
        return {p.relative_to(folder): p.read_bytes() for p in folder.glob("*/**/*")
                if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts}
    made, committed = shown(fresh_release), shown(ROOT / "notebooks")
    assert made and sorted(made) == sorted(committed), "run `make release`"
    assert [p for p in made if made[p] != committed[p]] == [], "run `make release`"


def test_every_image_a_bundled_lesson_shows_is_in_the_bundle(student_bundle):
    images = [(nb, src) for nb in student_bundle.glob("notebooks/*/lesson.ipynb")
              for cell in json.loads(nb.read_text())["cells"] if cell["cell_type"] == "markdown"
              for src in re.findall(r'<img src="([^"]+)"', "".join(cell["source"]))]
    assert images and [(nb, src) for nb, src in images if not (nb.parent / src).is_file()] == []


def test_student_bundle_leaks_nothing(student_bundle):
    out = student_bundle
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {str(p.relative_to(out)) for p in files}
    assert "notebooks/02_batch_norm/lesson.ipynb" in names and "autograder/checks/batch_norm.py" in names
    assert not any(n.startswith(("solutions", "autograder/judge", "tests")) for n in names)
    assert not {"autograder/judge/reference.py", "autograder/hidden.py"} & names
    every_solution_line = [l for lesson in lessons() for l in solution_lines(lesson)]
    for path in files:
        if path.suffix in {".py", ".ipynb", ".md", ".toml"}:
            assert leaks(path.read_text(), every_solution_line) == [], f"{path.relative_to(out)} leaks"


def test_student_bundle_ships_the_locked_environment(student_bundle):
    import tomllib
    out = student_bundle
    assert (out / "requirements.lock").read_bytes() == (ROOT / "requirements.lock").read_bytes()
    assert "-c requirements.lock" in (out / "README.md").read_text()
    student, course = (tomllib.loads(p.read_text()) for p in (out / "pyproject.toml", ROOT / "pyproject.toml"))
    assert student["project"]["dependencies"] == course["project"]["dependencies"]
    assert student["project"]["requires-python"] == course["project"]["requires-python"]
    packages = student["tool"]["setuptools"]["packages"]
    assert "autograder.judge" not in packages and {"lessonkit", "autograder", "autograder.checks"} <= set(packages)
    assert all((out / p.replace(".", "/")).is_dir() for p in packages)
    # setuptools wants a list per package (a bare autograder.checks key is a nested table, which it refuses)
    data = student["tool"]["setuptools"]["package-data"]
    assert data == {k: v for k, v in course["tool"]["setuptools"]["package-data"].items() if k in packages}
    assert all(isinstance(v, list) for v in data.values()) and "autograder.checks" in data


def test_the_student_readme_lists_every_lesson_and_every_graded_function_from_the_masters(student_bundle):
    """The bundle's README is made from the masters at `bundle` time (it cannot drift): every lesson, and in its
    row every function a graded item runs (the checks' own list, not the README's source) and every prediction."""
    from autograder.authoring.release import student_readme
    readme = (student_bundle / "README.md").read_text()
    assert readme == student_readme() and "{{" not in readme
    rows = {lesson: [line for line in readme.splitlines() if line.startswith(f"| `{lesson}`")] for lesson in lessons()}
    assert all(len(found) == 1 for found in rows.values()), rows
    for grade_id, item in checks.items().items():
        row = rows[judge.lesson_of(grade_id)][0]
        # lesson 05's items run functions of earlier lessons too: those are named in its row as well
        assert all(f"`{name}`" in row for name in item.functions), (grade_id, item.functions, row)
    template = (ROOT / "autograder" / "authoring" / "STUDENT_README.md").read_text()
    named = {name for item in checks.items().values() for name in item.functions}
    assert not [name for name in named if name in template], "the template names graded functions: they can drift"


def test_the_readme_and_the_makefile_offer_the_pythons_pyproject_allows():
    from autograder.authoring.release import student_readme, supported_pythons
    assert supported_pythons() == ["3.11", "3.12", "3.13"]
    assert "with Python 3.11, 3.12 or 3.13" in student_readme()
    makefile = (ROOT / "Makefile").read_text()
    candidates = re.search(r"^PYTHON \?= \$\(shell for p in ([\w. ]+); do", makefile, re.M).group(1).split()
    assert candidates == [f"python{v}" for v in reversed(supported_pythons())] + ["python3"]


@pytest.mark.slow
def test_a_release_on_another_python_keeps_the_committed_notebooks(tmp_path):
    """Released notebooks record the releasing kernel's Python version (autograder/authoring/labform.py): a release on
    3.12 or 3.13 must leave a clone's notebooks as committed, and still rewrite one whose content changed."""
    from autograder.authoring import release
    lesson = lessons()[0]
    committed = (ROOT / "notebooks" / lesson / "lesson.ipynb").read_text()
    other_python = re.sub(r'("version": ")3\.\d+\.\d+"', r'\g<1>3.99.0"', committed)
    assert other_python != committed
    kept, changed = tmp_path / "kept" / lesson / "lesson.ipynb", tmp_path / "changed" / lesson / "lesson.ipynb"
    for path, text in ((kept, other_python), (changed, other_python.replace("Lesson 01", "Lesson 1", 1))):
        path.parent.mkdir(parents=True)
        path.write_text(text)
        assert release.release([lesson], into=path.parent.parent, force=True) == 0
    assert kept.read_text() == other_python
    assert python_patch_masked(changed.read_bytes()) == python_patch_masked(committed.encode())


# ---- the bundle installed as its README says, on every Python the course supports -------------------

BUNDLE_LESSON = "02_batch_norm"
WRONG_VARIANT = "divides-by-variance"  # its visible checks fail: Validate and selfcheck must say so
TOKEN = "bundle-test-token"


def interpreters():
    """version -> a Python of this machine that runs, for each version pyproject.toml allows (on PATH, or
    pyenv's, which installs versions it does not put on PATH)."""
    from autograder.authoring.release import supported_pythons
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = {}
    for version in supported_pythons():
        candidates = [shutil.which(f"python{version}"), *sorted(pyenv.glob(f"{version}.*/bin/python{version}"))[::-1]]
        for candidate in filter(None, candidates):
            ran = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True)
            if ran.returncode == 0 and ran.stdout.strip() == version:
                found[version] = str(candidate)
                break
    return found


def bundle_pythons():
    """The versions the bundle is installed with (each ~1.5 min): all but the one running these tests, whose
    `make venv` installs the same lock with the same pip command and on which the whole suite runs."""
    from autograder.authoring.release import supported_pythons
    own = "%d.%d" % sys.version_info[:2]
    return [pytest.param(v, marks=pytest.mark.skip(reason=f"Python {v} runs this suite, in the venv `make venv` "
                                                            "installs from the same lock"))
            if v == own else v for v in supported_pythons()]


def readme_setup(readme):
    """The commands of the README's set-up block: (install commands, the command that starts JupyterLab)."""
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip().split("    #")[0].strip() for line in section.splitlines() if line.startswith("    ")]
    lab = [c for c in commands if "-m autograder lab" in c]
    assert len(lab) == 1 and commands[-1] == lab[0], commands
    return commands[:-1], lab[0]


@pytest.fixture(scope="module")
def installed_bundles(student_bundle, tmp_path_factory):
    """version -> (the unpacked bundle, installed by its README's commands, or None with why not): the bundle
    zip, unpacked into a folder per Python, the installs run side by side."""
    from autograder.authoring.release import supported_pythons
    base = tmp_path_factory.mktemp("bundle-install")
    found, wanted = interpreters(), [v for v in supported_pythons() if v != "%d.%d" % sys.version_info[:2]]
    runs = {}
    for version in wanted:
        if version not in found:
            continue
        home = base / f"py{version}"
        with zipfile.ZipFile(student_bundle.with_suffix(".zip")) as z:
            z.extractall(home)
        folder = home / "student-bundle"
        commands, _ = readme_setup((folder / "README.md").read_text())
        shims = home / "bin"  # the README says python3: this version is the machine's python3
        shims.mkdir()
        (shims / "python3").write_text(f'#!/bin/sh\nexec {found[version]} "$@"\n')
        (shims / "python3").chmod(0o755)
        env = student_environment(shims)
        log = open(home / "install.log", "w")
        script = "\n".join(commands + ['echo "installed in $SECONDS s"'])
        runs[version] = (folder, log, subprocess.Popen(["bash", "-e", "-x", "-c", script], cwd=folder, env=env,
                                                       stdout=log, stderr=subprocess.STDOUT))
    installed = {v: (None, f"no Python {v} on this machine (on PATH or in pyenv)") for v in wanted if v not in found}
    for version, (folder, log, proc) in runs.items():
        status = proc.wait(timeout=1800)
        log.close()
        text = Path(log.name).read_text()
        print(f"bundle install with Python {version}, side by side with {len(runs) - 1} other:",
              *re.findall(r"^installed in \d+ s$", text, re.M))
        installed[version] = (folder, None) if status == 0 else (None, f"install failed:\n{text[-3000:]}")
    return installed


def student_environment(shims):
    """A student's shell: the machine's PATH with `shims` first, nothing of this course's venv or Jupyter set-up."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV", "LESSONKIT", "PYTEST")) and k != "PATH"}
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not p.startswith(str(ROOT))]
    return {**env, "PATH": os.pathsep.join([str(shims), *path])}


def validate_in_lab(folder, lab_command, notebooks):
    """Start JupyterLab as the README says, open each notebook (relative path) and press Validate on it (the
    request nbgrader's button sends); the validator's answers."""
    from tests.support.network import free_port
    port = free_port()
    argv = lab_command.split() + ["--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}"]
    env = {**student_environment(folder.parent / "bin"), "JUPYTER_RUNTIME_DIR": str(folder.parent / "runtime"),
           "HOME": str(folder.parent)}
    log = open(folder.parent / "lab.log", "w")
    proc = subprocess.Popen(argv, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url, headers = f"http://127.0.0.1:{port}", {"Authorization": f"token {TOKEN}"}
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"JupyterLab exited:\n{Path(log.name).read_text()}"
            try:
                urllib.request.urlopen(urllib.request.Request(f"{url}/api/status", headers=headers), timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, f"JupyterLab did not answer:\n{Path(log.name).read_text()}"
                time.sleep(0.5)
        answers = {}
        for notebook in notebooks:
            opened = json.load(urllib.request.urlopen(urllib.request.Request(
                f"{url}/api/contents/{notebook}?content=1", headers=headers), timeout=30))
            assert opened["type"] == "notebook" and opened["content"]["cells"]
            request = urllib.request.Request(f"{url}/assignments/validate", method="POST", headers=headers,
                                             data=urllib.parse.urlencode({"path": notebook}).encode())
            answers[notebook] = json.load(urllib.request.urlopen(request, timeout=600))
        return answers
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.mark.parametrize("version", bundle_pythons())
def test_the_bundle_installs_from_its_readme_and_its_lessons_validate(installed_bundles, version):
    """Unzipped, installed in a fresh venv with the README's commands, JupyterLab started with its command: a
    correct lesson validates, a wrong one does not, and `selfcheck` (the README's command) agrees, item by item,
    with the course's own."""
    from autograder.authoring.catalogue import build, catalogue
    from autograder.student import selfcheck
    folder, why_not = installed_bundles[version]
    if folder is None:
        if why_not.startswith("no Python"):
            pytest.skip(why_not)
        pytest.fail(why_not)
    readme = (folder / "README.md").read_text()
    variants = {v.name: v for v in catalogue()[BUNDLE_LESSON]}
    lesson = folder / "notebooks" / BUNDLE_LESSON
    (lesson / "lesson.ipynb").write_bytes(build(BUNDLE_LESSON, variants["correct"]))
    (lesson / "mistaken.ipynb").write_bytes(build(BUNDLE_LESSON, variants[WRONG_VARIANT]))
    correct, wrong = (f"notebooks/{BUNDLE_LESSON}/{name}" for name in ("lesson.ipynb", "mistaken.ipynb"))

    answers = validate_in_lab(folder, readme_setup(readme)[1], [correct, wrong])
    assert answers[correct] == {"success": True, "value": {}}, answers[correct]
    assert answers[wrong]["success"] and set(answers[wrong]["value"]) == {"failed"}, answers[wrong]
    failed_cells = answers[wrong]["value"]["failed"]
    assert "Likely mistake: dividing by the variance" in json.dumps(failed_cells)

    command = re.search(r"`(\.venv/bin/python -m autograder selfcheck) \S+`", readme).group(1).split()
    env = student_environment(folder.parent / "bin")
    for notebook, full_marks in ((correct, True), (wrong, False)):
        ran = subprocess.run(command + [notebook], cwd=folder, env=env, capture_output=True, text=True, timeout=600)
        assert ran.returncode == (0 if full_marks else 1), ran.stdout + ran.stderr
        ours = io.StringIO()
        with contextlib.redirect_stdout(ours):
            selfcheck.selfcheck(folder / notebook)  # the course's own selfcheck, on the same notebook
        verdicts = sorted(re.findall(r"^([✓✗] \S+ \([^)]*\))", ran.stdout, re.M))
        assert verdicts == sorted(re.findall(r"^([✓✗] \S+ \([^)]*\))", ours.getvalue(), re.M)) and verdicts, (
            ran.stdout, ours.getvalue())
        failing = sorted(re.findall(r"^✗ (\S+)", ran.stdout, re.M))
        assert bool(failing) != full_marks
        if not full_marks:  # Validate fails exactly the test cells of the items selfcheck fails
            assert sorted(re.search(r'check\("(\w+)"', c["source"]).group(1) for c in failed_cells) == failing
    assert f"Python {version}" in subprocess.run([str(folder / ".venv" / "bin" / "python"), "--version"],
                                                 capture_output=True, text=True).stdout


def test_feedback_shows_no_hidden_tests_or_reference(graded_class, tmp_path):
    from autograder.outputs import report
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


@pytest.mark.slow
def test_student_bundle_holds_no_copy_of_the_reference(student_bundle):
    out = student_bundle
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
    """Encoded known outputs with every float array and float x replaced by `move(x)`."""
    from autograder.worker import wire
    from tests.support.floats import floats_mapped
    if isinstance(data, dict) and ("ndarray" in data or data.get("type") == "float"):
        return wire.encode(floats_mapped(wire.decode(data), move))
    if isinstance(data, dict):
        return {k: moved_floats(v, move) for k, v in data.items()}
    if isinstance(data, list):
        return [moved_floats(v, move) for v in data]
    return data


@pytest.fixture()
def stored_known_outputs(tmp_path, monkeypatch):
    """Write a known_outputs.json of one's own in a scratch copy that the checks and the judge read."""
    path = tmp_path / "known_outputs.json"
    monkeypatch.setattr(checks, "KNOWN_OUTPUTS", path)  # the judge reads the package's name,
    monkeypatch.setattr(checks.item, "KNOWN_OUTPUTS", path)  # the checks' Item the module's own

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
    from autograder.judge import reference
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
        # each value as far as the tolerance lets it be; exact zeros (a ReLU's) and inf or nan (a mistake's
        # division by zero) no kernel moves
        moved = moved_floats(fresh, lambda x, sign=sign: np.where(np.isfinite(x) & (x != 0),
                                                       x + sign * (tol["rtol"] * np.abs(x) + tol["atol"]), x))
        # lesson 05's answers are one of the case's rates, picked, not computed: no kernel moves them, and `kept`
        # keeps what is stored only when it is within the tolerance, so they stay exact
        for picked in ("usable_lr_largest", "usable_lr_diverged"):
            moved[picked] = fresh[picked]
        stored_known_outputs(moved)
        assert visible_verdicts(fresh) == exact, sign
