"""Reading masters and submissions, and planning what to execute.

A submission is matched to its master cell by cell, by nbgrader ``grade_id``. Locked
cells (instructions, setup, experiments, tests) always come from the master; answer
cells come from the student. Test cells are never executed in the student's process:
the judge decides them. Every deviation (corrupt file, deleted or retyped cells,
duplicate ids) is recorded as a plain-language problem, never a crash.

Submissions are untrusted files: they are read as regular files only (never through a
symbolic link, never from a pipe or device), up to a size bound, and parsed only when
their nesting is shallow enough for the JSON decoder's recursion.
"""
import errno
import itertools
import json
import os
import re
import stat
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from autograder.worker.cells import PARSING, cell_source, defined_functions, nbgrader_meta
from autograder.worker.course import master_path

#: Largest notebook read, in bytes; a released notebook is ~50 kB, outputs included.
MAX_NOTEBOOK_BYTES = 20 * 2**20
#: Deepest nesting of JSON arrays and objects parsed; a notebook needs about 8.
MAX_JSON_DEPTH = 64


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


def find_notebook(folder, name="lesson.ipynb"):
    """The submitted notebook in `folder`; a single renamed notebook is accepted.

    Symbolic links are never followed, neither the folder nor the notebook.

    Returns
    -------
    path : Path or None
    problem : str or None
    """
    folder = Path(folder)
    if folder.is_symlink():
        return None, f"the lesson folder {folder.name} is a symbolic link; submit the folder itself"
    if folder.parent.is_symlink():  # nbgrader's layout: <student>/<lesson>/
        return None, f"the student folder {folder.parent.name} is a symbolic link; submit the folder itself"
    path = folder / name
    if os.path.lexists(path):
        problem = not_a_regular_file(name, path.lstat().st_mode)
        return (None, problem) if problem else (path, None)
    candidates = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if len(candidates) == 1:
        problem = not_a_regular_file(candidates[0].name, candidates[0].lstat().st_mode)
        if problem:
            return None, problem
        return candidates[0], f"notebook was renamed to {candidates[0].name}; graded it as {name}"
    if not candidates:
        return None, f"no notebook found (expected {name})"
    listed = ", ".join(p.name for p in candidates[:5]) + (", ..." if len(candidates) > 5 else "")
    return None, f"{len(candidates)} notebooks and none called {name}: {listed}"


def not_a_regular_file(name, mode):
    """Why a file of this `st_mode` is not accepted as a notebook (None when it is a regular file)."""
    if stat.S_ISREG(mode):
        return None
    advice = "submit the notebook file itself" if str(name).endswith(".ipynb") else "it was not read"
    if stat.S_ISLNK(mode):
        return f"{name} is a symbolic link; {advice}"
    if stat.S_ISDIR(mode):
        return f"{name} is a folder; {advice}"
    return f"{name} is not a regular file (a pipe or a device); {advice}"


def read_regular_file(path, limit=MAX_NOTEBOOK_BYTES, below=None):
    """The bytes of `path` if it is a regular file of at most `limit` bytes.

    Opened without following a symbolic link and without blocking (a FIFO opens at once
    and is then refused); the type and size are those of the open descriptor, and at most
    `limit` + 1 bytes are read, whatever the file claims. With `below` (a trusted folder
    holding `path`), every folder between the two is opened without following a link too.
    The one reader of submitted files (`grade`, the cluster, Gradescope's runner).

    Returns
    -------
    data : bytes or None
    problem : str or None
    """
    name = Path(path).name or str(path)  # "." and "/" have no name of their own
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags) if below is None else _open_below(below, path, flags)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return None, not_a_regular_file(exc.filename or name, stat.S_IFLNK)
        return None, f"{name} could not be opened ({exc.strerror})"
    bound = f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit} bytes"
    too_big = f"{name} is larger than {bound}" + ("; clear its outputs (Edit > Clear Outputs of All Cells), save "
                                                  "and submit again" if name.endswith(".ipynb") else "")
    try:
        info = os.fstat(fd)
        if problem := not_a_regular_file(name, info.st_mode):
            return None, problem
        if info.st_size > limit:
            return None, too_big
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 2**20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        return None, f"{name} could not be read ({exc.strerror})"
    finally:
        os.close(fd)
    return (None, too_big) if size > limit else (b"".join(chunks), None)


def _open_below(folder, path, flags):
    """os.open(`path`, `flags`) one component at a time from `folder`, never through a link
    (an OSError names the component that is a link or not a folder)."""
    parts = Path(path).relative_to(folder).parts
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for k, part in enumerate(parts[:-1]):
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, "/".join(parts[:k + 1])) from None
            os.close(fd)
            fd = inner
        return os.open(parts[-1], flags, dir_fd=fd)
    finally:
        os.close(fd)


# A JSON string, or an unterminated one up to the end: every match attempt succeeds, so
# stripping strings is linear whatever the text.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text):
    """Deepest nesting of arrays and objects in JSON `text` (str), found in linear time.

    Exact for valid JSON; for invalid JSON it is never below the depth the decoder
    reaches before it stops at the error.
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def read_submission(path, below=None):
    """Read (`read_regular_file`) and parse (`parse_notebook`) a submitted notebook.

    Returns
    -------
    cells : list of dict or None (None when the file is unusable)
    problem : str or None
    """
    data, problem = read_regular_file(path, below=below)
    return (None, problem) if problem else parse_notebook(data)


def parse_notebook(data):
    """Parse a submitted notebook's bytes without trusting them.

    Returns
    -------
    cells : list of dict or None (None when the notebook is unusable)
    problem : str or None
    """
    too_deep = f"notebook is nested more than {MAX_JSON_DEPTH} levels deep; it was not written by Jupyter"
    try:
        text = data.decode("utf-8")
        if json_depth(text) > MAX_JSON_DEPTH:
            return None, too_deep
        nb = json.loads(text)
    except RecursionError:  # the pre-check should make this unreachable
        return None, too_deep
    except (UnicodeDecodeError, ValueError) as exc:
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
    counts = Counter(c.get("id") for c in cells if isinstance(c.get("id"), str))
    repeated = sorted(i for i, n in counts.items() if n > 1)
    if repeated:
        problems.append("duplicate cell ids (the notebook was edited outside Jupyter?): "
                        + ", ".join(_quoted_short(i) for i in repeated[:5]) + (", ..." if len(repeated) > 5 else ""))
    known = {nbgrader_meta(c).get("grade_id") for c in master.cells}
    for cell in cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if not isinstance(gid, str):
            continue
        if gid in by_id:
            if gid in known:  # a repeated tag the master lacks changes nothing graded
                problems.append(f"cell id {gid!r} appears more than once; graded the first")
            continue
        by_id[gid] = cell
    free = _free_cells_before(cells, master)
    untagged = None  # (source, defined function names) of each untagged code cell, when first needed
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
        if untagged is None:
            untagged = [(s, set(defined_functions(s))) for s in map(cell_source, _untagged(cells))]
        recovered = next((s for s, names in untagged if set(master.defines[gid]) <= names), None)
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


def _quoted_short(text, width=40):
    """`text` quoted on one line, cut to about `width` characters."""
    return repr(text if len(text) <= width else text[:width] + "...")


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
            items.append((str(meta.get("grade_id")), _points(meta)))
        else:
            to_run.append({"id": str(meta.get("grade_id", f"cell{k + 1}")), "source": cell_source(cell)})
    return to_run, items


def _points(meta):
    """A test cell's points as a float (0 when they are not a number)."""
    points = meta.get("points", 0)
    return float(points) if isinstance(points, (int, float)) and not isinstance(points, bool) else 0.0


def _free_cells_before(cells, master):
    """Student-added code cells, attached to the next answer cell (they may define helpers)."""
    free, pending = {}, []
    for cell in cells:
        meta = nbgrader_meta(cell)
        if cell.get("cell_type") != "code":
            continue
        if not meta:
            pending.append(cell_source(cell))
        elif meta.get("solution") and isinstance(meta.get("grade_id"), str) and meta["grade_id"] in master.defines:
            free[meta["grade_id"]], pending = pending, []
    return free


def _untagged(cells):
    """The code cells without nbgrader metadata (the student's own), in order."""
    return [c for c in cells if c.get("cell_type") == "code" and not nbgrader_meta(c)]


#: Largest ``timestamp.txt`` or ``submission_secret.txt`` read from a submission.
MAX_BYTES = 1024


def read_small(path):
    """Text of a small regular file, read by `read_regular_file` (no link, no pipe).

    Returns
    -------
    text : str or None, None when the file is absent or unusable
    problem : str or None, why an existing file is unusable
    """
    if not os.path.lexists(path):
        return None, None
    data, problem = read_regular_file(path, MAX_BYTES)
    if problem:
        return None, problem
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, f"{Path(path).name} is not UTF-8 text"


def submission_time(folder, notebook):
    """When a submission was handed in: nbgrader's ``timestamp.txt`` beside the notebook,
    else the notebook's (or, with no notebook, the folder's) modification time.

    Returns
    -------
    when : datetime, naive UTC (nbgrader's convention)
    problem : str or None, a ``timestamp.txt`` that could not be used (the file time is used instead)
    """
    text, problem = read_small(Path(folder) / "timestamp.txt")
    if text is not None:
        with PARSING:  # importing nbgrader parses Python (`inspect`), maybe while other threads do
            from nbgrader.utils import parse_utc  # here: importing nbgrader costs a second or more
        try:
            return parse_utc(text.strip()), None
        except (ValueError, OverflowError, TypeError, LookupError):
            problem = f"timestamp.txt holds no time nbgrader can read ({text.strip()[:40]!r})"
    mtime = Path(notebook if notebook is not None else folder).stat().st_mtime
    when = datetime.fromtimestamp(mtime, timezone.utc).replace(tzinfo=None)
    if problem:
        problem += f"; the file time {when:%Y-%m-%d %H:%M} UTC is recorded as the submission time"
    return when, problem
