"""Reading masters and submissions, and planning what to execute.

A submission is matched to its master cell by cell, by nbgrader ``grade_id``. Locked
cells (instructions, setup, experiments, tests) always come from the master; answer
cells come from the student. Test cells are never executed in the student's process:
the judge decides them. Every deviation (corrupt file, deleted or retyped cells,
duplicate ids) is recorded as a plain-language problem, never a crash.
"""
import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"


def master_path(lesson):
    """Path of a lesson's master notebook, e.g. ``solutions/02_batch_norm/lesson.ipynb``."""
    path = SOLUTIONS / lesson / "lesson.ipynb"
    if not path.exists():
        raise FileNotFoundError(f"no master notebook for lesson {lesson!r} at {path} "
                                "(masters exist only in the instructor's course tree)")
    return path


def cell_source(cell):
    """A cell's source as one string ("" when it is malformed)."""
    src = cell.get("source", "")
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    return src if isinstance(src, str) else ""


class Master:
    """The structure of one lesson's master notebook.

    Attributes
    ----------
    lesson : str
    cells : list of dict, the code cells in order
    items : list of (grade_id, points), the test cells in order
    defines : dict, answer-cell grade_id -> names of the functions it defines
    """

    def __init__(self, lesson):
        self.lesson = lesson
        nb = json.loads(master_path(lesson).read_text())
        self.cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        self.items, self.defines = [], {}
        for cell in self.cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade"):
                self.items.append((meta["grade_id"], float(meta.get("points", 0))))
            elif meta.get("solution"):
                self.defines[meta["grade_id"]] = defined_functions(cell_source(cell))

    def cell_defining(self, function):
        return next((gid for gid, names in self.defines.items() if function in names), None)


def nbgrader_meta(cell):
    meta = cell.get("metadata", {})
    meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return meta if isinstance(meta, dict) else {}


def defined_functions(source):
    """Names of the top-level functions a cell defines (empty if it does not parse)."""
    try:
        tree = ast.parse(_strip_magics(source))
    except SyntaxError:
        return []
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def _strip_magics(source):
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def find_notebook(folder, name="lesson.ipynb"):
    """The submitted notebook in `folder`; a single renamed notebook is accepted.

    Returns
    -------
    path : Path or None
    problem : str or None
    """
    folder = Path(folder)
    if (folder / name).is_file():
        return folder / name, None
    candidates = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if len(candidates) == 1:
        return candidates[0], f"notebook was renamed to {candidates[0].name}; graded it as {name}"
    if not candidates:
        return None, f"no notebook found (expected {name})"
    return None, f"{len(candidates)} notebooks and none called {name}: " + ", ".join(p.name for p in candidates)


def read_submission(path):
    """Parse a submitted notebook without trusting it.

    Returns
    -------
    cells : list of dict or None (None when the file is unusable)
    problem : str or None
    """
    try:
        nb = json.loads(Path(path).read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"notebook is not valid JSON ({type(exc).__name__}: {str(exc)[:120]})"
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        return None, "notebook has no list of cells"
    return cells, None


def plan(master, cells):
    """Decide which code to run for a submission, in the master's order.

    Returns
    -------
    to_run : list of dict, ``{"id", "source", "origin"}`` with origin "master" or "student"
    problems : list of str
    """
    problems, by_id = [], {}
    ids = [c.get("id") for c in cells if isinstance(c.get("id"), str)]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        problems.append("duplicate cell ids (the notebook was edited outside Jupyter?): " + ", ".join(repeated[:5]))
    for cell in cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if not isinstance(gid, str):
            continue
        if gid in by_id:
            problems.append(f"cell id {gid!r} appears more than once; graded the first")
            continue
        by_id[gid] = cell
    free = _free_cells_before(cells, master)
    to_run, missing_tests = [], []
    for cell in master.cells:
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if meta.get("grade"):
            if gid not in by_id:
                missing_tests.append(gid)
            continue
        if not meta.get("solution"):
            to_run.append({"id": gid, "source": cell_source(cell), "origin": "master"})
            continue
        for k, extra in enumerate(free.get(gid, [])):
            to_run.append({"id": f"{gid}-scratch{k + 1}", "source": extra, "origin": "student"})
        student = by_id.get(gid)
        if student is not None and student.get("cell_type") == "code":
            to_run.append({"id": gid, "source": cell_source(student), "origin": "student"})
            continue
        recovered = _recover(cells, master.defines[gid])
        what = "deleted" if student is None else f"changed to a {student.get('cell_type')} cell"
        if recovered is not None:
            problems.append(f"answer cell {gid!r} was {what}; graded the untagged cell that defines "
                            + ", ".join(master.defines[gid]))
            to_run.append({"id": gid, "source": recovered, "origin": "student"})
        else:
            problems.append(f"answer cell {gid!r} was {what} and no other cell defines "
                            + ", ".join(master.defines[gid]))
    if missing_tests:
        problems.append("test cells deleted or retagged (restored from the master): " + ", ".join(missing_tests))
    return to_run, problems


def plan_self(cells):
    """A student's own plan (no master at hand): every code cell but the test cells.

    Returns
    -------
    to_run : list of dict, ``{"id", "source"}``
    items : list of (grade_id, points), the notebook's test cells
    """
    to_run, items = [], []
    for k, cell in enumerate(cells):
        meta = nbgrader_meta(cell)
        if cell.get("cell_type") != "code":
            continue
        if meta.get("grade"):
            items.append((str(meta.get("grade_id")), float(meta.get("points", 0))))
        else:
            to_run.append({"id": str(meta.get("grade_id", f"cell{k + 1}")), "source": cell_source(cell)})
    return to_run, items


def _free_cells_before(cells, master):
    """Student-added code cells, attached to the next answer cell (they may define helpers)."""
    free, pending = {}, []
    for cell in cells:
        meta = nbgrader_meta(cell)
        if cell.get("cell_type") != "code":
            continue
        if not meta:
            pending.append(cell_source(cell))
        elif meta.get("solution") and meta.get("grade_id") in master.defines:
            free[meta["grade_id"]], pending = pending, []
    return free


def _recover(cells, names):
    for cell in cells:
        if cell.get("cell_type") == "code" and not nbgrader_meta(cell):
            source = cell_source(cell)
            if set(names) <= set(defined_functions(source)):
                return source
    return None
