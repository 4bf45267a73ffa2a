"""Making what students receive: the released notebooks (`release`, nbgrader's
generate_assignment on the masters) and the student bundle (`bundle`: its README's lesson
table and Python versions made from the masters and pyproject.toml), each refusing to
replace a notebook that holds a student's work (`guard.guard`, `workspace.refuse_to_replace`).
"""
import ast
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder.authoring import workspace
from autograder.authoring.guard import guard
from autograder.authoring.labform import as_jupyterlab_saves
from autograder.gradebook.nbgrader_cmd import generate
from autograder.worker import course
from autograder.worker.cells import cell_source, defined_functions, is_answer, strip_magics
from autograder.worker.course import ROOT, SOLUTIONS, STUDENT_FILES, copy_files, master_path


def release(lessons, into=None, force=False):
    """Regenerate the student copies of the given lessons (all by default) from solutions/.

    The copies depend on the masters alone: nbgrader runs against a throw-away gradebook
    (the grading gradebook is filled by `grade`). `into` writes them somewhere else than
    notebooks/ (the sync test compares the two). A copy that holds a student's work is not
    replaced unless `force`; nothing is written then.
    """
    from autograder.authoring.lint import master_problems
    writes_release = into is None  # the real release also refreshes the visible checks' stored outputs
    into = Path(into) if into else ROOT / workspace.RELEASE
    lessons = lessons or course.lessons()
    problems = [p for lesson in lessons for p in master_problems(lesson)]
    if problems:
        sys.exit("release refused: test cells must hold only check(...) and hidden_check(...)\n  "
                 + "\n  ".join(problems))
    if not force:  # before generating: a refusal is quick and writes nothing
        workspace.refuse_to_replace(
            [into / p.relative_to(SOLUTIONS) for lesson in lessons for p in (SOLUTIONS / lesson).rglob("*.ipynb")],
            f"{os.path.relpath(into)}/ is regenerated from solutions/ by `make release`. To keep the work, move "
            f"each file out of it first, e.g. to {workspace.WORK}/<lesson>/lesson.ipynb, where students work "
            "(`make lab` opens it and never overwrites it); to discard the work, run `make release FORCE=1`.")
    if writes_release:
        from autograder.judge import write_known_outputs
        write_known_outputs()
        print("wrote autograder/checks/known_outputs.json")
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "release"
        failed = generate(lessons, fresh, Path(scratch) / "gradebook.db")
        if failed:
            sys.exit("\n".join(f"{output}\nrelease of {lesson} failed" for lesson, output in failed.items()))
        for lesson in lessons:
            as_jupyterlab_saves(fresh / lesson / "lesson.ipynb")
        made = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
        for rel in made:
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            if not same_but_the_python_version(into / rel, fresh / rel):
                (into / rel).write_bytes((fresh / rel).read_bytes())
        for lesson in lessons:
            print(f"released {os.path.relpath(into / lesson / 'lesson.ipynb')}")
    return 0


def same_but_the_python_version(kept, made):
    """Whether the notebook at `kept` is the one at `made` but for the Python version in its ``language_info``
    (`labform`): a release on another Python (3.11 to 3.13) then leaves the committed notebooks as they are."""
    def masked(path):
        data = json.loads(path.read_text())
        data.get("metadata", {}).get("language_info", {}).pop("version", None)
        return data
    try:
        return kept.suffix == ".ipynb" and kept.is_file() and masked(kept) == masked(made)
    except (OSError, ValueError):
        return False


def bundle(out, force=False):
    """Copy what students receive into `out` and zip it; nothing private goes in.

    `out` is replaced as a whole, so a notebook in it that holds work stops the bundle
    (unless `force`): the bundle's notebooks/ is where its student works.
    """
    out = Path(out)
    if not force:
        guard(out, "make bundle")
    shutil.rmtree(out, ignore_errors=True)
    copy_files(STUDENT_FILES, out)
    (out / "README.md").write_text(student_readme())
    (out / "pyproject.toml").write_text(student_pyproject())
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(out.parent))
    print(f"student bundle: {out}/ and {archive}")
    return 0


def student_pyproject():
    """The bundle's pyproject.toml: the course's project and pins, with only the shipped packages."""
    import tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project, setuptools = config["project"], config["tool"]["setuptools"]
    def ships(package):
        folder = package.replace(".", "/")
        return any(f == folder or f.startswith(folder + "/") for f in STUDENT_FILES)
    packages = [p for p in setuptools["packages"] if ships(p)]
    data = setuptools.get("package-data", {})
    return "\n".join([
        "# What the student bundle installs: `pip install -c requirements.lock -e .` (the course's exact versions).",
        '[build-system]', 'requires = ["setuptools>=64"]', 'build-backend = "setuptools.build_meta"', "",
        "[project]", *(f"{key} = {json.dumps(project[key])}" for key in ("name", "version", "description",
                                                                         "requires-python")),
        "dependencies = [", *(f"    {json.dumps(d)}," for d in project["dependencies"]), "]", "",
        "[tool.setuptools]", f"packages = {json.dumps(packages)}", "",
        # keys quoted: a bare autograder.checks would be a nested table, which setuptools refuses
        "[tool.setuptools.package-data]", *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in data.items()
                                            if k in packages), ""])


def supported_pythons():
    """The Python versions pyproject.toml's ``requires-python`` (``>=3.A,<3.B``) allows: ["3.A", ..., "3.B-1"]."""
    found = re.search(r'^requires-python = ">=3\.(\d+),<3\.(\d+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    if not found:
        raise ValueError('pyproject.toml: requires-python should read ">=3.A,<3.B" (the Makefile reads it too)')
    low, high = map(int, found.groups())
    return [f"3.{minor}" for minor in range(low, high)]


def pins_excluding(version):
    """The pins of requirements.lock whose Requires-Python (as this venv's installed copies declare it)
    excludes Python `version` (str such as "3.11.0"): {pin line: Requires-Python}."""
    from importlib import metadata

    from packaging.specifiers import SpecifierSet
    excluding = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        try:
            needs = metadata.metadata(line.split("==")[0]).get("Requires-Python")
        except metadata.PackageNotFoundError:
            needs = None
        if needs and version not in SpecifierSet(needs):
            excluding[line] = needs
    return excluding


def lesson_contents(lesson):
    """What a student does in a lesson, from its master's answer cells.

    Returns
    -------
    title : str, the master's first heading without its "Lesson NN —"
    implement : list of str, the functions the answer cells define, in order (predictions aside)
    predict : list of str, the ``prediction_*`` functions (a graded prediction before an experiment)
    reused : dict, lesson -> the functions of the student's own earlier lessons it runs (``functions_from``)
    """
    cells = json.loads(master_path(lesson).read_text())["cells"]
    heading = next(cell_source(c) for c in cells if c["cell_type"] == "markdown").splitlines()[0]
    title = re.sub(r"^#+\s*(Lesson \S+\s*[—-]\s*)?", "", heading).strip()
    implement, predict, reused = [], [], {}
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = cell_source(cell)
        if is_answer(cell):
            for name in defined_functions(source):
                (predict if name.startswith("prediction_") else implement).append(name)
        for node in ast.walk(ast.parse(strip_magics(source))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "functions_from" and node.args:
                strings = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                found = re.search(r"(\d\d_\w+)/", strings[0]) if strings else None
                if found:
                    reused.setdefault(found.group(1), []).extend(strings[1:])
    return title, implement, predict, reused


def student_readme():
    """The bundle's README.md: autograder/authoring/STUDENT_README.md with its ``{{lessons}}`` (a table from the masters,
    `lesson_contents`) and ``{{pythons}}`` (`supported_pythons`) filled in."""
    rows = ["| lesson | you implement | you predict |", "|---|---|---|"]
    for lesson in course.lessons():
        title, implement, predict, reused = lesson_contents(lesson)
        did = ", ".join(f"`{name}`" for name in implement)
        if reused:
            did += "; its experiments run your own " + "; ".join(
                f"{', '.join(f'`{n}`' for n in names)} from `{earlier}`" for earlier, names in reused.items())
        rows.append(f"| `{lesson}`: {title} | {did} | {', '.join(f'`{name}`' for name in predict) or '-'} |")
    pythons = supported_pythons()
    template = (ROOT / "autograder" / "authoring" / "STUDENT_README.md").read_text()
    return (template.replace("{{lessons}}", "\n".join(rows))
            .replace("{{pythons}}", " or ".join([", ".join(pythons[:-1]), pythons[-1]] if len(pythons) > 1 else pythons)))
