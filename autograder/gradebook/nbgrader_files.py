"""nbgrader's files for a graded class, where its tools look for them.

    <submitted>/<student>/<lesson>/timestamp.txt     read: when the submission was handed in
    <autograded>/<student>/<lesson>/lesson.ipynb     the submission as graded (formgrader, generate_feedback)
    <feedback>/<student>/<lesson>/lesson.html        the course's feedback page (release_feedback)

Both output folders also hold ``timestamp.txt`` and ``submission_secret.txt``, which
``nbgrader release_feedback`` needs: the secret is the one ``nbgrader submit`` wrote beside
the submission (so the student's ``fetch_feedback`` finds the page), or a new one.
``nbgrader generate_feedback --force`` rebuilds the pages from the autograded notebooks and
the gradebook instead; those notebooks come from the release, so they hold no hidden test.
"""
import hashlib
import json
import secrets
from pathlib import Path

from autograder.outputs import atomic
from autograder.worker.cells import nbgrader_meta
from autograder.worker.course import ROOT
from autograder.worker.notebook import Master, find_notebook, plan, read_small, read_submission
from autograder.worker.wording import with_likely_mistake

#: Format of the ``timestamp.txt`` files nbgrader writes (``ExchangeSubmit.timestamp_format``).
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"
def write(results, submissions, autograded, feedback, notebook="lesson"):
    """Write the autograded notebook and the feedback folder of every result.

    A file whose content would not change is left alone. The feedback page is the course's
    page of the published result (manual scores, comments, late penalty included), written
    only when what it shows changed since this module last wrote it (its digest is kept in
    the autograded folder, `SHOWN`): a page ``nbgrader generate_feedback`` made since then is
    kept while nothing it shows has changed, and replaced with one that shows the change
    when something has.

    Parameters
    ----------
    results : list of results.SubmissionResult, as the gradebook publishes them
    submissions : Path, ``<student>/<lesson>/`` folders as graded
    autograded, feedback : Path, nbgrader's folders for this gradebook (`nbgrader_cmd.folders_for`)

    Returns
    -------
    notes : list of str
    """
    from autograder.outputs import report  # matplotlib: only when writing, never for reading a timestamp
    masters, notes = {}, []
    for r in results:
        folder = Path(submissions) / r.student / r.lesson
        master = masters.setdefault(r.lesson, Master(r.lesson))
        graded, fed = (Path(base) / r.student / r.lesson for base in (autograded, feedback))
        secret, problem = read_small(folder / "submission_secret.txt")
        if problem:
            notes.append(f"{r.student}/{r.lesson}: submission_secret.txt ignored ({problem}); a new one is used")
        secret = secret or read_small(graded / "submission_secret.txt")[0] or secrets.token_hex(64)
        nb = autograded_notebook(r, folder, master)
        _write_if_changed(graded / f"{notebook}.ipynb", json.dumps(nb, indent=1) + "\n")
        page = report.feedback_page(r)
        shown = hashlib.sha256(page.encode("utf-8", "backslashreplace")).hexdigest()
        if read_small(graded / SHOWN)[0] != shown or not (fed / f"{notebook}.html").is_file():
            atomic.write(fed / f"{notebook}.html", page)
            atomic.write(graded / SHOWN, shown)
        for dest in (graded, fed):
            _write_if_changed(dest / "submission_secret.txt", secret)
            if r.timestamp is not None:
                _write_if_changed(dest / "timestamp.txt", r.timestamp.strftime(TIMESTAMP_FORMAT))
    return notes


#: Digest of the feedback page this module last wrote for a submission, kept beside its autograded notebook.
SHOWN = ".feedback-shown.sha256"


def _write_if_changed(path, text):
    """`atomic.write(path, text)` unless `path` already holds exactly `text` (then it is left as it was)."""
    data = text.encode("utf-8", "backslashreplace")
    try:
        if not path.is_symlink() and path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    atomic.write(path, data)


def autograded_notebook(result, folder, master):
    """The submission as graded, in nbgrader's autograded form.

    The released notebook (locked cells and test cells as students saw them, no hidden
    tests) with the student's answer cells, and the untagged cells written before each,
    as `notebook.plan` matched them; each test cell's output is the grader's verdict.

    Returns
    -------
    nb : dict, an nbformat 4 notebook
    """
    nb = json.loads((ROOT / "notebooks" / result.lesson / "lesson.ipynb").read_text())
    path, _ = find_notebook(folder)
    cells = read_submission(path)[0] if path is not None else None
    answers, before, pending = {}, {}, []
    for cell in plan(master, cells)[0] if cells is not None else []:
        if cell["origin"] != "student":
            continue
        if cell["id"] in master.defines:
            answers[cell["id"]], before[cell["id"]], pending = cell["source"], pending, []
        else:
            pending.append(cell)
    items = {i.grade_id: i for i in result.items}
    out = []
    for cell in nb["cells"]:
        meta, gid = nbgrader_meta(cell), nbgrader_meta(cell).get("grade_id")
        if meta.get("solution") and gid in answers:
            out += [_code_cell(c["id"], c["source"]) for c in before[gid]]
            cell["source"] = answers[gid]
        if cell["cell_type"] == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
        if meta.get("grade") and gid in items:
            item = items[gid]
            lost = item.hint and item.points < item.max_points
            verdict = with_likely_mistake(item.message, item.hint if lost else None)
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": verdict + "\n"}]
            meta["points"] = item.max_points
        out.append(cell)
    nb["cells"] = out
    return nb


def _code_cell(cell_id, source):
    return {"cell_type": "code", "id": cell_id, "metadata": {}, "source": source, "outputs": [],
            "execution_count": None}
