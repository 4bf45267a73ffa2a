"""The masters run top to bottom under nbval once per session, with what each cell printed kept: the run
the course's contract asks for (tests/integration/test_notebooks.py) and the executed masters whose
printed numbers tests/unit/lessonkit/test_lesson_numbers.py reads, so no master runs twice.

`start_masters` starts that pytest run in the background with this module as a plugin
(``-p tests.support.nbval_run``), as soon as tests/conftest.py knows a selected test needs it:
its hooks below copy the outputs nbval received into each cell and write the notebooks, and the
cells that failed, to the file named by $NBVAL_RUN_OUT.
"""
import json
import os
import subprocess
import sys
from dataclasses import dataclass

import nbformat
import pytest

from autograder.worker.course import ROOT, lessons

OUT_VARIABLE = "NBVAL_RUN_OUT"


@dataclass
class MastersRun:
    """One nbval run of every master: its pytest process, and per lesson the notebook with the outputs
    nbval received (`notebooks`) and nbval's reports of the cells that failed (`failed`)."""
    done: subprocess.CompletedProcess
    notebooks: dict
    failed: dict

    def executed(self, lesson):
        """The master of `lesson` as nbval executed it; fails the test, with nbval's reasons, when a cell failed."""
        if lesson not in self.notebooks:
            pytest.fail(f"nbval did not run {lesson}:\n{self.done.stdout[-4000:]}{self.done.stderr[-2000:]}")
        if self.failed.get(lesson):
            pytest.fail(f"{lesson} fails under nbval:\n" + "\n".join(self.failed[lesson])[-4000:])
        return self.notebooks[lesson]


def start_masters(into):
    """Start every master's nbval run (LESSONKIT_STRICT=1: a failing experiment fails its cell) in the
    background, writing into the folder `into`; the handle `finish_masters` waits for."""
    masters = [f"solutions/{lesson}/lesson.ipynb" for lesson in lessons()]
    with open(into / "stdout.txt", "w") as out, open(into / "stderr.txt", "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", __name__,
                                 "--nbval-lax", "--nbval-cell-timeout=300", *masters], cwd=ROOT, stdout=out,
                                stderr=err, start_new_session=True,
                                env=dict(os.environ, LESSONKIT_STRICT="1", **{OUT_VARIABLE: str(into / "run.json")}))
    return proc, into


def finish_masters(started):
    """Wait for the run `start_masters` started; a `MastersRun`."""
    proc, into = started
    proc.wait()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, (into / "stdout.txt").read_text(),
                                       (into / "stderr.txt").read_text())
    ran = json.loads((into / "run.json").read_text()) if (into / "run.json").exists() else {}
    by_lesson = {path.split("/")[1]: run for path, run in ran.items()}
    return MastersRun(done, {lesson: nbformat.from_dict(run["notebook"]) for lesson, run in by_lesson.items()},
                      {lesson: run["failed"] for lesson, run in by_lesson.items()})


def stop_masters(started):
    """End the run `start_masters` started if it still runs (the session ended before waiting for it)."""
    from tests.support.lab import stop
    proc, _ = started
    if proc.poll() is None:
        stop(proc)  # its process group (start_new_session): the pytest run and what it started there


# ---- the plugin, inside the nbval run ---------------------------------------------------------------

_failed = {}


def _notebook_path(nodeid):
    return nodeid.split("::")[0]


def _cells(items):
    from nbval.plugin import IPyNbCell
    return [item for item in items if isinstance(item, IPyNbCell)]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield
    if _cells([item]) and hasattr(item, "test_outputs"):  # its outputs as nbval received them, an error's included
        item.cell.outputs = list(item.test_outputs)


def pytest_runtest_logreport(report):
    if report.failed:
        _failed.setdefault(_notebook_path(report.nodeid), []).append(f"{report.nodeid}: {report.longreprtext}")


def pytest_sessionfinish(session):
    notebooks = {_notebook_path(item.nodeid): item.parent.nb for item in _cells(session.items)}
    ran = {path: {"notebook": nb, "failed": _failed.get(path, [])} for path, nb in notebooks.items()}
    with open(os.environ[OUT_VARIABLE], "w") as f:
        json.dump(ran, f)
