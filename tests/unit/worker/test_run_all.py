"""Run All shows a student everything that can run: a failing test cell or experiment does
not stop it, while nbgrader still scores the failing test cell 0.

JupyterLab's Run All sends every code cell to the kernel at once, each with
``stop_on_error`` false only when the cell is tagged ``raises-exception``
(``OutputArea.execute`` in @jupyterlab/outputarea); after an error in any other cell the
kernel aborts everything queued behind it.
`test_run_all_reaches_the_end_with_one_line_per_skipped_experiment` replays exactly that on
every untouched student copy."""
import json
import re
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from autograder.worker.cells import cell_source, defined_functions, is_answer

ROOT = Path(__file__).resolve().parents[3]
TAG = "raises-exception"


def cells(folder, lesson):
    return json.loads((ROOT / folder / lesson / "lesson.ipynb").read_text())["cells"]


def tagged(cell):
    return TAG in cell["metadata"].get("tags", [])


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_exactly_the_test_cells_are_tagged_raises_exception(folder, lesson):
    for cell in cells(folder, lesson):
        meta = cell["metadata"].get("nbgrader", {})
        assert tagged(cell) == bool(meta.get("grade")), (
            f"{folder}/{lesson} cell {meta.get('grade_id')}: only test cells may (and all must) carry {TAG}")


def run_all_like_jupyterlab(lesson, cwd):
    """Queue every code cell of the released lesson at once, as JupyterLab does.

    Returns
    -------
    status : dict, cell id -> reply status ("ok", "error", "aborted")
    outputs : dict, cell id -> list of (output type, text) as the notebook keeps them
        (a clear_output empties the cell's list; displays and errors keep their type only)
    """
    km, kc = start_new_kernel(cwd=str(cwd))
    try:
        sent = {}
        for cell in cells("notebooks", lesson):
            if cell["cell_type"] == "code":
                sent[kc.execute("".join(cell["source"]), stop_on_error=not tagged(cell))] = cell["id"]
        status, outputs, idle = {}, {cell_id: [] for cell_id in sent.values()}, set()
        while len(status) < len(sent):
            reply = kc.get_shell_msg(timeout=300)
            if reply["parent_header"].get("msg_id") in sent:
                status[sent[reply["parent_header"]["msg_id"]]] = reply["content"]["status"]
        while len(idle) < len(sent):
            msg = kc.get_iopub_msg(timeout=60)
            cell_id, kind = sent.get(msg["parent_header"].get("msg_id")), msg["msg_type"]
            if cell_id is None:
                continue
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                idle.add(cell_id)
            elif kind == "clear_output":
                outputs[cell_id] = []
            elif kind == "stream":
                outputs[cell_id].append(("stream", msg["content"]["text"]))
            elif kind in ("display_data", "execute_result", "error"):
                outputs[cell_id].append((kind, msg["content"].get("ename", "")))
        return status, outputs
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.mark.slow
def test_run_all_reaches_the_end_with_one_line_per_skipped_experiment(lesson):
    """Run All on an untouched lesson fails every test cell, runs everything else, and each
    experiment that needs an unfinished exercise prints one line naming it (no traceback)."""
    status, outputs = run_all_like_jupyterlab(lesson, ROOT / "notebooks" / lesson)
    code = [c for c in cells("notebooks", lesson) if c["cell_type"] == "code"]
    tests = [c["id"] for c in code if c["metadata"]["nbgrader"].get("grade")]
    assert [status[t] for t in tests] == ["error"] * len(tests), "an untouched copy must fail every test cell"
    assert "aborted" not in status.values(), f"Run All stopped part-way: {status}"
    others = {c["id"]: status[c["id"]] for c in code if c["id"] not in tests}
    assert set(others.values()) == {"ok"}, f"answer cells and experiments must not fail the cell: {others}"
    stubs = {name for c in code if is_answer(c) for name in defined_functions(cell_source(c))}
    skipped, wrong = 0, []
    for c in code:
        if not cell_source(c).startswith("%%experiment"):
            continue
        shown = outputs[c["id"]]
        errors = [ename for kind, ename in shown if kind == "error"]
        text = "".join(t for kind, t in shown if kind == "stream")
        if errors:
            wrong.append(f"{c['id']}: shows an error ({', '.join(errors)}) instead of one line")
        elif "experiment skipped" in text:
            skipped += 1
            named = set(re.findall(r"\w+", text)) & stubs or re.search(r"finish lesson \d\d_\w+", text)
            if len(shown) != 1 or text.count("\n") != 1 or not named:
                wrong.append(f"{c['id']}: a skipped experiment must print one line naming what to finish, got {shown}")
    assert wrong == []
    assert skipped, f"no experiment of the untouched {lesson} was skipped: the test proves nothing"


@pytest.mark.slow
def test_a_failing_experiment_shows_its_error_once_and_no_figure(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    import lessonkit
    monkeypatch.delenv("LESSONKIT_STRICT", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport matplotlib.pyplot as plt\n%load_ext lessonkit"),
                nbformat.v4.new_code_cell("%%experiment\nfig, ax = plt.subplots()\nax.plot([1, 2])\n1 / 0"),
                nbformat.v4.new_code_cell("%%experiment\nfig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()")]
    NotebookClient(nb, resources={"metadata": {"path": str(tmp_path)}}).execute()  # raises if a cell fails
    failed, fine = nb.cells[1].outputs, nb.cells[2].outputs
    assert [o["ename"] for o in failed if o["output_type"] == "error"] == ["ZeroDivisionError"]
    assert not any(is_figure(o) for o in failed), "the failed experiment drew its empty figure"
    assert any(lessonkit.NOTE in o.get("text", "") for o in failed)
    assert sum(is_figure(o) for o in fine) == 1, "a working experiment draws its figure once"


def is_figure(output):
    """Whether a notebook output is a figure (lessonkit shows figures as an <img> with alt text)."""
    data = output.get("data", {})
    return "image/png" in data or data.get("text/html", "").startswith("<img")
