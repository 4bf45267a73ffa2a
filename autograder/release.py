"""Making what students receive: the released notebooks (`release`, nbgrader's
generate_assignment on the masters) and the student bundle (`bundle`), each refusing to
replace a notebook that holds a student's work (`guard`, `workspace.refuse_to_replace`).
"""
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder import course, workspace
from autograder.course import ROOT, SOLUTIONS, STUDENT_FILES, copy_files
from autograder.labform import as_jupyterlab_saves
from autograder.nbgrader_cmd import generate


def release(lessons, into=None, force=False):
    """Regenerate the student copies of the given lessons (all by default) from solutions/.

    The copies depend on the masters alone: nbgrader runs against a throw-away gradebook
    (the grading gradebook is filled by `grade`). `into` writes them somewhere else than
    notebooks/ (the sync test compares the two). A copy that holds a student's work is not
    replaced unless `force`; nothing is written then.
    """
    from autograder.lint import master_problems
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
        for lesson in lessons:
            status, output = generate(lesson, fresh, Path(scratch) / "gradebook.db")
            if status:
                sys.exit(f"{output}\nrelease of {lesson} failed (nbgrader exit status {status})")
            as_jupyterlab_saves(fresh / lesson / "lesson.ipynb")
        made = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
        for rel in made:
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            (into / rel).write_bytes((fresh / rel).read_bytes())
        for lesson in lessons:
            print(f"released {os.path.relpath(into / lesson / 'lesson.ipynb')}")
    return 0


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
    (out / "README.md").write_text((ROOT / "autograder" / "STUDENT_README.md").read_text())
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
        "[tool.setuptools.package-data]", *(f"{k} = {json.dumps(v)}" for k, v in data.items()
                                            if k in packages), ""])


def guard(folder, target):
    """Stop when a notebook anywhere in `folder`, which `target` deletes, holds a student's work."""
    folder = os.path.relpath(folder)
    workspace.refuse_to_replace(
        [p for p in Path(folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts],
        f"`{target}` replaces {folder}/ as a whole. To keep the work, move it out of {folder}/ first; "
        f"to discard it, run `{target} FORCE=1`.")
    return 0
