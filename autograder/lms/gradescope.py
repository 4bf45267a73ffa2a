"""Gradescope: the autograder zip, and the grading of one submission inside Gradescope.

    python -m autograder gradescope [--lesson L] [--out build/gradescope]   (make gradescope)
    python -m autograder gradescope-run                                      (run_autograder calls it)

One zip per lesson, as Gradescope has one assignment per lesson: ``--lesson L`` writes
``<out>/autograder.zip``; without it, ``<out>/<lesson>/autograder.zip`` for every lesson.
The zip follows Gradescope's autograder specification: ``setup.sh`` and ``run_autograder``
(from ``gradescope/``) at its root, next to what they need: the grader (``autograder/``,
judge and reference loader included), that lesson's master (``solutions/<lesson>/``, where
the reference lives), ``lessonkit/``, ``pyproject.toml``, ``requirements.lock`` and the
settings, ``gradescope.json``. The course's ``nbgrader_config.py`` stays out: grading reads
nothing of it, and it may hold an exchange path, plugins or a database password. Gradescope
unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once, then ``run_autograder``
per submission, which reads the student's files from ``/autograder/submission`` and writes
``/autograder/results/results.json``.

A notebook is told to be another lesson's by its nbgrader ``grade_id`` s (the settings list
every lesson's): it is refused with that reason (score 0), and among several notebooks the
zip's lesson's is graded.
"""
import ast
import json
import os
import sys
import tempfile
import time
import traceback
import zipfile
from dataclasses import replace
from pathlib import Path

from autograder.outputs import atomic
from autograder.worker.cells import cell_source, nbgrader_meta
from autograder.worker.course import ROOT, master_path
from autograder.worker.wording import with_likely_mistake

DEFAULT_ROOT = "/autograder"
SETTINGS_FILE = "gradescope.json"
SCRIPTS = ROOT / "gradescope"
#: What the zip holds besides the two scripts and the lesson's master (paths relative to the course root).
COURSE_FILES = ["autograder", "lessonkit", "pyproject.toml", "requirements.lock"]
#: Gradescope's visibility values, from the most visible ("visible" shows at once) to the least.
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
#: How the student is told when something hidden until a visibility is shown.
WHEN_SHOWN = {"visible": "shown now", "after_due_date": "shown after the due date",
              "after_published": "shown once the grades are published", "hidden": "not shown"}
DEFAULT_SETTINGS = {
    "lesson": None,
    # lesson -> its grade_ids: how a notebook of another lesson is told (not secret: every notebook holds them)
    "lesson_ids": {},
    # Items passed, or failed on a visible case (the student's own notebook shows that failure too).
    "visible_cases": "visible",
    # Items failed on a hidden case: their message names the property, never the inputs.
    "hidden_cases": "after_due_date",
    # What run_autograder prints (the isolation level, the worker's log): for the instructor.
    "stdout_visibility": "hidden",
}
NOTEBOOK = "lesson.ipynb"
STUDENT = "submission"
CONTACT = "This is not a problem with your notebook: please contact your instructor."
IGNORED_DIRS = {".ipynb_checkpoints", "__MACOSX"}
#: Most lines said about the files of an upload that were not read.
MAX_NOTES = 10


# ---- building the zip ----------------------------------------------------------------

def build(out, lesson=None, visible_cases="visible", hidden_cases="after_due_date"):
    """Write one autograder zip per lesson; returns their paths.

    Parameters
    ----------
    out : str or Path, ``out/autograder.zip`` for `lesson`, ``out/<lesson>/autograder.zip`` for each
        lesson when `lesson` is None
    lesson : str or None
    visible_cases, hidden_cases : str, one of `VISIBILITIES` (see `DEFAULT_SETTINGS`)
    """
    from autograder.worker.course import lessons
    if lesson is not None and lesson not in lessons():
        raise SystemExit(f"error: {lesson!r} is not a lesson of this course (one of: {', '.join(lessons())})")
    for value in (visible_cases, hidden_cases):
        if value not in VISIBILITIES:
            raise SystemExit(f"error: visibility {value!r} is not one of {', '.join(VISIBILITIES)}")
    if lesson is None:
        return [build_one(Path(out) / each, each, visible_cases, hidden_cases) for each in lessons()]
    return [build_one(out, lesson, visible_cases, hidden_cases)]


def build_one(out, lesson, visible_cases, hidden_cases):
    """Write ``out/autograder.zip`` for `lesson` (checked by `build`); returns its path."""
    from autograder.grading.grade import load_master
    from autograder.worker.course import lessons
    ids = {each: sorted({gid for gid, _ in load_master(each).items} | set(load_master(each).defines))
           for each in lessons()}
    settings = {**DEFAULT_SETTINGS, "lesson": lesson, "lesson_ids": ids, "visible_cases": visible_cases,
                "hidden_cases": hidden_cases}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    archive = out / "autograder.zip"
    def write_zip(temp):
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as z:
            for name in ("setup.sh", "run_autograder"):
                _add(z, SCRIPTS / name, name, executable=True)
            for rel in [*COURSE_FILES, f"solutions/{lesson}"]:
                src = ROOT / rel
                for path in sorted(src.rglob("*")) if src.is_dir() else [src]:
                    if path.is_file() and not (set(path.relative_to(ROOT).parts) & {"__pycache__", *IGNORED_DIRS}) \
                            and path.suffix != ".pyc":
                        _add(z, path, path.relative_to(ROOT).as_posix())
            z.writestr(SETTINGS_FILE, json.dumps(settings, indent=1) + "\n")
    atomic.write_with(archive, write_zip)
    return archive


def _add(z, path, name, executable=False):
    info = zipfile.ZipInfo.from_file(path, name)
    if executable:  # Gradescope runs run_autograder directly: keep its execute bit
        info.external_attr = (0o100755 << 16)
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, path.read_bytes())


# ---- grading one submission ----------------------------------------------------------

def settings():
    """The zip's settings (`DEFAULT_SETTINGS` where the file is missing or leaves one out)."""
    path = ROOT / SETTINGS_FILE
    loaded = json.loads(path.read_text()) if path.exists() else {}
    return {**DEFAULT_SETTINGS, **loaded}


def submitted_notebooks(folder):
    """Every ``.ipynb`` in a submission, at any depth (uploads of a folder, GitHub submissions),
    without Jupyter's checkpoints, macOS zip debris and hidden files, each read as `grade`
    reads a notebook (`notebook.read_regular_file`). Nothing is read through a symbolic link:
    a repository's submission keeps its links, and one to the master would score in full.

    Returns
    -------
    notebooks : dict, path relative to `folder` (Path) -> bytes, in path order
    refused : list of str, what was not read and why
    """
    from autograder.worker.notebook import read_regular_file
    folder = Path(folder)
    notebooks, refused = {}, []
    if folder.is_symlink() or not folder.is_dir():
        return notebooks, refused
    todo = [folder]  # a stack, not recursion: an upload may nest folders thousands deep
    while todo:
        top = todo.pop()
        try:
            with os.scandir(top) as found:
                entries = sorted(found, key=lambda e: e.name)
        except OSError as exc:
            refused.append(f"{str(top.relative_to(folder))[:80]} could not be read ({exc.strerror})")
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.name in IGNORED_DIRS or entry.name.startswith("."):
                continue
            if entry.is_symlink():
                refused.append(f"{str(path.relative_to(folder))[:80]} is a symbolic link; it was not read (submit "
                               "the files themselves)")
            elif entry.is_dir(follow_symlinks=False):
                todo.append(path)
            elif entry.name.endswith(".ipynb"):
                data, problem = read_regular_file(path, below=folder)
                if problem:
                    refused.append(problem)
                else:
                    notebooks[path.relative_to(folder)] = data
    if len(refused) > MAX_NOTES:
        refused[MAX_NOTES:] = [f"... and {len(refused) - MAX_NOTES} more not read"]
    return dict(sorted(notebooks.items())), refused


def lesson_of(data, lesson_ids, prefer=None):
    """The lesson a notebook (bytes) is, by the grade_ids its cells carry: the lesson sharing the
    most of them (`lesson_ids`: lesson -> its grade_ids; `prefer` wins a tie), None when it
    shares none (or is unreadable)."""
    from autograder.worker.notebook import parse_notebook
    cells, _problem = parse_notebook(data)
    ids = {nbgrader_meta(c).get("grade_id") for c in cells or []} - {None}
    overlap = {lesson: len(ids & set(known)) for lesson, known in lesson_ids.items()}
    best = max(overlap, key=lambda lesson: (overlap[lesson], lesson == prefer), default=None)
    return best if best is not None and overlap[best] > 0 else None


def choose_notebooks(notebooks, lesson, lesson_ids):
    """The notebooks of an upload to grade as `lesson`: those of that lesson when any is, else
    those of no known lesson (the grader then says what is wrong with them).

    Returns
    -------
    chosen : dict, path -> bytes (empty: every notebook is another lesson's)
    notes : list of str, what was left out and why, for the student
    """
    told = {path: lesson_of(data, lesson_ids, prefer=lesson) for path, data in notebooks.items()}
    ours = {p: d for p, d in notebooks.items() if told[p] == lesson}
    chosen = ours or {p: d for p, d in notebooks.items() if told[p] is None}
    others = [f"{p.as_posix()} (a notebook of lesson {told[p]})" for p in notebooks if told[p] not in (lesson, None)]
    if not chosen:
        return {}, [f"this assignment grades lesson {lesson}, and your submission holds only another lesson's "
                    f"notebook: {', '.join(others)}. Submit lesson {lesson}'s notebook ({NOTEBOOK}) here"]
    if ours:
        others += [f"{p.as_posix()} (not a notebook of this lesson)" for p in notebooks if told[p] is None]
    return chosen, [f"graded the notebook of lesson {lesson}; ignored {', '.join(others)}"] if others else []


def item_titles(lesson):
    """grade_id -> the first line of its test cell's docstring in the master."""
    titles = {}
    for cell in json.loads(master_path(lesson).read_text())["cells"]:
        meta = nbgrader_meta(cell)
        if meta.get("grade"):
            try:
                doc = ast.get_docstring(ast.parse(cell_source(cell))) or ""
            except SyntaxError:
                doc = ""
            titles[meta["grade_id"]] = doc.strip().splitlines()[0] if doc.strip() else ""
    return titles


def grade_upload(submission, config):
    """Grade the notebook(s) of one Gradescope upload through the course's pipeline (`grade_class`).

    Returns
    -------
    result : SubmissionResult
    lesson : str, the zip's
    notes : list of str, what the student should know about the files they uploaded
    """
    from autograder.grading.grade import grade_class
    from autograder.grading.options import Options
    notebooks, notes = submitted_notebooks(submission)
    lesson = config["lesson"]
    chosen, told = choose_notebooks(notebooks, lesson, config["lesson_ids"])
    notes += told
    with tempfile.TemporaryDirectory(prefix="gradescope-class-") as tmp:
        folder = Path(tmp) / STUDENT / lesson
        folder.mkdir(parents=True)
        for path, data in chosen.items():
            name = path.name
            if (folder / name).exists():  # same name in two folders of the upload
                name = "-".join(path.parts)
            (folder / name).write_bytes(data)
        copied = sorted(p.name for p in folder.iterdir())
        if NOTEBOOK in copied and len(copied) > 1:
            others = ", ".join(c for c in copied if c != NOTEBOOK)
            notes.append(f"graded {NOTEBOOK}; ignored the other notebooks: {others}")
        # Gradescope's containers may refuse the namespaces: the student's code is then still graded,
        # in a separate process only, and run() prints that level for the instructor
        results, _unknown = grade_class(Path(tmp), Options(workers=1, allow_weak_isolation=True))
    if notebooks and not chosen:  # every item 0, for the reason in `notes` (not "no notebook found")
        return replace(results[0], problems=[]), lesson, notes
    return results[0], lesson, notes


def least_visible(*visibilities):
    """The least visible of Gradescope `visibilities` (`VISIBILITIES` order)."""
    return max(visibilities, key=VISIBILITIES.index)


def results_json(result, lesson, notes, config):
    """Gradescope's results.json (as a dict) for one graded submission.

    One test per item: name ``grade_id: docstring line``, score, max_score, status, the
    feedback text as output, and a visibility: `config["hidden_cases"]` for an item that
    failed on a hidden case, `config["visible_cases"]` otherwise. The top-level score is shown
    as the least visible of the two settings, whatever this submission's verdicts (a score shown
    sooner to some students would tell them they failed no hidden case), and the top-level
    output, which students see at once, says nothing that depends on a hidden case: the
    score only when that visibility is "visible", what the student should know about the
    files they uploaded, and when items failed on hidden cases are shown (for every submission).
    """
    from autograder.judge import names_hidden_case
    titles = item_titles(lesson)
    tests = []
    for number, item in enumerate(result.items, 1):
        failed = item.points < item.max_points
        output = with_likely_mistake(item.message, item.hint if failed else None)
        title = titles.get(item.grade_id)
        tests.append({
            "name": f"{item.grade_id}: {title}" if title else item.grade_id,
            "number": str(number),
            "score": item.points,
            "max_score": item.max_points,
            "status": "failed" if failed else "passed",
            "output": output,
            "visibility": config["hidden_cases"] if failed and names_hidden_case(item.message) else config["visible_cases"],
        })
    shown = least_visible(config["visible_cases"], config["hidden_cases"])
    if shown == "visible":
        output = f"Lesson {lesson}: {result.score:g} / {result.max_score:g} points."
    else:
        output = f"Lesson {lesson}: your score is {WHEN_SHOWN[shown]}."
    # a case's incident ("case <grade_id>#<k>: timed out") may be a hidden case's: its item's test says it
    about = notes + result.problems + [line for line in result.incidents if not line.startswith("case ")]
    if about:
        output += "\n\nAbout your submission:\n" + "\n".join(f"- {line}" for line in about)
    if config["hidden_cases"] != config["visible_cases"]:
        output += (f"\n\nEvery item is also graded on hidden cases (other shapes and edge cases); an item that "
                   f"fails one is {WHEN_SHOWN[config['hidden_cases']]}.")
    return {"score": result.score, "output": output, "visibility": shown,
            "stdout_visibility": config["stdout_visibility"], "tests": tests}


def failure_json(message, config=DEFAULT_SETTINGS):
    """A results.json that scores 0 and says why (no item could be graded)."""
    return {"score": 0.0, "output": message, "visibility": "visible",
            "stdout_visibility": config["stdout_visibility"], "tests": []}


def run(root=None):
    """What ``run_autograder`` does: grade ``<root>/submission``, write ``<root>/results/results.json``.

    Never raises and always writes the file: on an unexpected error it scores 0 and asks the
    student to contact the instructor (the traceback goes to stdout, which only the
    instructor sees by default).
    """
    root = Path(root or os.environ.get("GRADESCOPE_ROOT") or DEFAULT_ROOT)
    started = time.monotonic()
    config = DEFAULT_SETTINGS
    try:
        config = settings()
        shown = {k: v for k, v in config.items() if k != "lesson_ids"}
        print(f"grading with the course at {ROOT}; settings: {json.dumps(shown)}", flush=True)
        result, lesson, notes = grade_upload(root / "submission", config)
        results = results_json(result, lesson, notes, config)
        weak = (" (weaker than namespaces, accepted: Gradescope's runner grades with allow_weak_isolation)"
                if result.isolation and not result.isolation.startswith("namespaces") else "")
        print(f"isolation: {result.isolation or 'none reported'}{weak}\n{result.log}", flush=True)
    except BaseException:  # KeyboardInterrupt and SystemExit too: a results.json is always written
        traceback.print_exc(file=sys.stdout)
        results = failure_json(f"The autograder failed while grading this submission. {CONTACT}", config)
    results["execution_time"] = round(time.monotonic() - started)
    out = root / "results" / "results.json"
    atomic.write(out, json.dumps(results, indent=1) + "\n")
    print(f"score {results['score']:g}; wrote {out}", flush=True)
    return 0
