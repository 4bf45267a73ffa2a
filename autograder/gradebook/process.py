"""The gradebook step (`gradebook.record`) in a process of its own, started when grading starts.

nbgrader and SQLAlchemy cost 0.9 s of CPU to import, more than grading one notebook. The
helper imports them at a lower priority while the class is graded (so the feedback pages
are not delayed by it), then waits on its standard input for the results: one JSON request,
``{"db_url", "root", "results"}``. It answers on its standard output with
``{"published": [view, ...], "notes", "shown"}`` (a view per recorded submission, see
`published`) or ``{"error": sentence, "shown"}``. A run that ends without results stops the helper before it
was sent any: the gradebook is never opened. The helper dies with the grader (PDEATHSIG),
and the grader stops it (SIGTERM, then SIGKILL) when interrupted; either way
`gradebook.record`'s one transaction is committed whole or not at all.
"""
import functools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from autograder.gradebook import published
from autograder.worker.course import ROOT as CODE_ROOT

#: The helper's niceness: the CPU it wants while a class is graded goes to the grading first.
NICENESS = 10
#: Seconds a stopped helper gets to roll back and clean up before it is killed.
STOP_SECONDS = 10


@functools.lru_cache
def cell_order(lesson):
    """The names of the lesson's nbgrader cells, in the order of its released notebook."""
    from autograder.worker.cells import nbgrader_meta
    cells = json.loads((CODE_ROOT / "notebooks" / lesson / "lesson.ipynb").read_text())["cells"]
    return [nbgrader_meta(c).get("grade_id") for c in cells if nbgrader_meta(c).get("grade_id")]


class GradebookError(Exception):
    """The gradebook could not be written; the message says which and what to do."""


class GradebookProcess:
    """The grader's side of the helper. Use as a context manager; on exit the helper is gone.

    Parameters
    ----------
    db_url : str, SQLAlchemy URL of nbgrader's gradebook
    root : Path or None, the course root whose ``nbgrader_config.py`` applies (default:
        `nbgrader_cmd.ROOT`)
    """

    def __init__(self, db_url, root=None):
        from autograder.gradebook import nbgrader_cmd
        self.db_url, self.root = db_url, Path(root or nbgrader_cmd.ROOT)
        self.shown = None
        boot = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
                "from autograder.gradebook.process import serve; serve()")
        # -I, then the grader's own sys.path: the helper imports exactly what the grader would
        path = [str(CODE_ROOT)] + [p for p in sys.path if p != str(CODE_ROOT)]
        self.proc = subprocess.Popen([sys.executable, "-I", "-c", boot, json.dumps(path), str(os.getpid())],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def record(self, results):
        """`gradebook.record(results, db_url)` in the helper, then the grades it publishes (`published`).

        Returns
        -------
        published : list of SubmissionResult, those now in the gradebook, with the gradebook's
            scores, late penalties and comments (new objects: `results` stay as graded)
        notes : list of str

        Raises
        ------
        GradebookError, with the sentence to print; KeyboardInterrupt or `scratch.Interrupted`
        (the helper is stopped first, so nothing is written after the grader says it stopped)
        """
        from autograder.grading.results import to_plain
        request = json.dumps({"db_url": self.db_url, "root": str(self.root),
                              "results": [to_plain(r) for r in results]}).encode()
        try:
            out, err = self.proc.communicate(request)
        except BaseException:  # Ctrl-C, SIGTERM: the transaction is rolled back, nothing is committed after
            self._stop()
            raise
        try:
            reply = json.loads(out)
        except ValueError:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {self.proc.returncode}"]
            raise GradebookError(f"the gradebook step ended without an answer ({tail[0][:300]}): the gradebook "
                                 "holds all of this run's grades or none of them; run again") from None
        self.shown = reply.get("shown")
        if "error" in reply:
            raise GradebookError(reply["error"])
        return published.apply(results, reply["published"], cell_order), reply["notes"]

    def close(self):
        """End the helper. One still running was never sent results (`record` waits for its
        answer), so it has not opened the gradebook: stopping it loses nothing."""
        if self.proc.poll() is None:
            self._stop()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if not stream.closed:
                stream.close()

    def _stop(self):
        """SIGTERM: the helper rolls back, removes its scratch files and its nbgrader command,
        and exits; SIGKILL if it has not within STOP_SECONDS. Returns once it is reaped."""
        self.proc.terminate()
        try:
            self.proc.wait(STOP_SECONDS)
        except BaseException:  # too slow, or a second Ctrl-C or SIGTERM: no more waiting politely
            self.proc.kill()
            self.proc.wait()


def serve():
    """The helper: ``argv`` is [code root, the grader's pid]; see the module docstring."""
    grader = int(sys.argv[2])
    # Ctrl-C reaches the whole terminal's process group: the grader decides, and SIGTERMs this
    # process if need be. (A handler, not SIG_IGN, which nbgrader's own commands would inherit.)
    # A grader started with SIGINT ignored (in the background, under nohup) ignores Ctrl-C: then
    # so do this process and nbgrader's commands, or a Ctrl-C would kill those alone and the run
    # would go on without its lesson registered in the gradebook.
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, lambda signum, frame: None)
    signal.signal(signal.SIGTERM, _terminated)
    _die_with(grader)
    os.nice(NICENESS)
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever nbgrader prints goes to the standard error, never into the reply
    from autograder.gradebook import record  # noqa: F401 - nbgrader and SQLAlchemy: what this process exists to import early
    from autograder.grading.results import from_plain
    request = sys.stdin.buffer.read()
    if not request:
        return
    request = json.loads(request)
    reply = record_and_read([from_plain(r) for r in request["results"]], request["db_url"], request["root"])
    replies.write(json.dumps(reply))
    replies.close()


def record_and_read(results, db_url, root):
    """The gradebook step where nbgrader is imported (this helper, or a service that keeps it imported):
    `record.record` of `results` (SubmissionResult), then `published.read` of what it recorded.

    Returns
    -------
    reply : dict, ``{"published": [view, ...], "notes": [str], "shown"}`` or ``{"error": sentence, "shown"}``
    """
    from autograder.gradebook import record as gradebook
    try:
        if db_url.startswith("sqlite:///"):
            Path(db_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        recorded, notes = gradebook.record(results, db_url, root=root)
        reply = {"published": published.read(db_url, [(r.student, r.lesson) for r in recorded]), "notes": notes}
    except Exception as exc:  # noqa: BLE001 - any failure is one sentence for the grader to print
        reply = {"error": gradebook.failure(exc, db_url)}
    return {**reply, "shown": gradebook.shown(db_url)}


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # unwinds: the transaction rolls back, scratch files go


def _die_with(grader):
    """Be killed when the grader ends, however it ends; exit now if it already has."""
    from autograder.gradebook.nbgrader_cmd import dies_with_parent
    dies_with_parent()
    if os.getppid() != grader:
        os._exit(1)
