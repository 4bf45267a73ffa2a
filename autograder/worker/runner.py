"""Supervise the worker that runs a submission's code (`sandbox.py`).

The worker runs in its own session, from a read-only copy of the public code, with
limits on memory, file size, processes and (per cell, per case) wall time. When a cell
or a case hangs or the process dies, the worker and everything it started are killed
and a new worker runs without that cell or case, so a fault costs only what it touched.

Only pipes this module created cross between the worker and the grader: the plan goes
in on standard input, events (JSON lines) and the worker's output come back. The grader
never opens a path in the worker's folder. The events are hostile input: each is checked
against its schema and the plan (`parse`, `Conversation`), bounded in bytes (`Lines`), and
anything else ends the submission as a protocol violation. The submission's wall time is
the grader's (`Limits.submission_seconds`): no event extends it.

A grading run starts one `Zygote` (see zygote.py), which has numpy and IPython imported
already and forks each worker; without one, each worker is a new Python process. Either
way the worker confines itself before any student code runs.
"""
import json
import logging
import os
import re
import select
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.worker.cgroups import WorkerCgroups
from autograder.worker.course import WORKER_FILES, copy_files
from autograder.worker.zygote import apply_limits

log = logging.getLogger(__name__)
#: Said in the log in place of what the code printed beside the hidden cases (their inputs stay private).
HIDDEN_OUTPUT_DROPPED = "\n[what the code printed beside the hidden cases is not kept]\n"
PUBLIC = WORKER_FILES
_live, _stopping = set(), threading.Event()


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission's workers (seconds, bytes, processes).

    `submission_seconds` caps the wall time of all of a submission's cells and cases,
    restarts included: the per-cell and per-case limits never add up past it.
    """
    cell_seconds: float = 30.0
    case_seconds: float = 10.0
    submission_seconds: float = 300.0
    memory_bytes: int = 3 * 2**30          # address space of each process
    worker_memory_bytes: int = 4 * 2**30   # resident memory of the worker and all it starts (cgroup)
    file_bytes: int = 64 * 2**20
    event_bytes: int = 16 * 2**20          # one line on the event pipe (the largest record is 3.5 MB)
    events_bytes: int = 64 * 2**20         # all of a submission's events, restarts included (lesson 04's: 19 MB)
    processes: int = 64
    workdir_bytes: int = 128 * 2**20       # the confined worker's working folder: a tmpfs of this size
    workdir_files: int = 10_000            # ... and this many files and folders
    log_bytes: int = 4000


@dataclass
class Outcome:
    """What running a submission's code produced.

    Attributes
    ----------
    cell_errors : dict, cell id -> error text (only cells that failed)
    records : dict, job key -> record (see `checks.collect`)
    incidents : list of str, what the supervisor had to do (timeouts, crashes)
    isolation : str or None, the level the worker reached (None when not asked)
    log : str, the end of what the worker printed
    """
    cell_errors: dict = field(default_factory=dict)
    records: dict = field(default_factory=dict)
    incidents: list = field(default_factory=list)
    isolation: str | None = None
    log: str = ""


def prepare_public(dest):
    """Copy the public code (and nothing else of the course) into `dest`."""
    return copy_files(PUBLIC, dest)


def isolation_plan(public_dir, workdir, jail, limits):
    """What `isolation.confine` needs: the folders to expose and the process limit."""
    readable = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent),
                str(Path(public_dir).resolve())}
    return {"jail": str(jail), "workdir": str(Path(workdir).resolve()), "readable": sorted(readable),
            "process_limit": limits.processes,
            "workdir_tmpfs": f"size={limits.workdir_bytes},nr_inodes={limits.workdir_files},mode=700"}


def run(cells, jobs, public_dir, workdir, limits=None, jail=None, zygote=None):
    """Execute `cells`, then collect every job, surviving hangs and crashes.

    The visible cases run first; the hidden ones (jobs with ``"hidden": True``) run after
    every visible one, in workers of their own whose cell errors are not kept: nothing the
    student's code saw in a hidden case can reach a message about a visible one. All of it
    fits in `limits.submission_seconds`, owned here: the worker's events never extend it.

    Parameters
    ----------
    cells : list of {"id", "source"}
    jobs : list of {"key", "grade_id", "inputs"} and optionally "hidden" (bool)
    public_dir, workdir : Path
    jail : Path or None
        An empty folder for the worker's new root: the worker is confined (namespaces,
        see isolation.py). None runs it as a plain separate process (a student's
        self-check of their own work, or measuring what confinement costs).
    zygote : Zygote or None
        The run's zygote, which forks the workers; None starts each as a new process.

    Returns
    -------
    outcome : Outcome
    """
    limits = limits or Limits()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    isolation = None if jail is None else isolation_plan(public_dir, workdir, jail, limits)
    outcome, dropped = Outcome(), set()
    budget = Budget(time.monotonic() + limits.submission_seconds, limits.events_bytes)
    phases = [[j for j in jobs if not j.get("hidden")], [j for j in jobs if j.get("hidden")]]
    for phase, phase_jobs in enumerate(phases):
        for attempt in range(len(cells) + len(phase_jobs) + 2):
            if _stopping.is_set():
                outcome.incidents.append("grading was interrupted")
                return outcome
            todo_jobs = [j for j in phase_jobs if j["key"] not in outcome.records]
            if (attempt or phase) and not todo_jobs:
                break
            plan = {"sys_path": [str(public_dir)] + _site_packages(),
                    "cells": [c for c in cells if c["id"] not in dropped],
                    "jobs": [{k: j[k] for k in ("key", "grade_id", "inputs")} for j in todo_jobs],
                    "isolation": isolation}
            stopped = Worker(plan, public_dir, workdir, limits, outcome, zygote, budget,
                             keep_cell_errors=phase == 0).supervise()
            if stopped is None:
                break
            (kind, key), reason = stopped
            if key == "startup":
                outcome.incidents.append(f"the grader could not start the process that runs the code: {reason}")
                return outcome
            if kind == "submission":  # out of time, or the worker broke the protocol: nothing more runs
                lost = [j for j in jobs if j["key"] not in outcome.records]
                outcome.incidents.append(f"{reason}; not run: " + (", ".join(dict.fromkeys(j["grade_id"] for j in lost))
                                                                     or "nothing left"))
                for job in lost:
                    outcome.records[job["key"]] = {"error": f"not run: {reason}"}
                return outcome
            if kind == "cell":  # said only when it failed beside the visible cases: whether a cell
                dropped.add(key)  # fails beside the hidden ones may depend on what it found of them
                if phase == 0:
                    outcome.incidents.append(f"{kind} {key}: {reason}")
                    outcome.cell_errors[key] = reason
            else:  # the item has failed: its remaining cases are not worth another timeout
                outcome.incidents.append(f"{kind} {key}: {reason}")
                grade_id = next(j["grade_id"] for j in jobs if j["key"] == key)
                outcome.records[key] = {"error": reason}
                for job in jobs:
                    if job["grade_id"] == grade_id and job["key"] not in outcome.records:
                        outcome.records[job["key"]] = {"error": f"not run: case {key} of this item {reason}"}
    return outcome


@dataclass
class Budget:
    """What one submission may still spend: a wall-clock deadline (time.monotonic) and bytes of events."""
    deadline: float
    event_bytes: int


def _site_packages():
    paths = sysconfig.get_paths()
    return [paths["purelib"], paths["platlib"]]


class Worker:
    """One worker process: started, fed its plan, watched, and killed with all it started."""

    def __init__(self, plan, public_dir, workdir, limits, outcome, zygote=None, budget=None, keep_cell_errors=True):
        self.plan, self.limits, self.outcome = plan, limits, outcome
        self.budget = budget or Budget(time.monotonic() + limits.submission_seconds, limits.events_bytes)
        self.keep_cell_errors = keep_cell_errors
        self.events_r, events_w = os.pipe()
        self.output_r, output_w = os.pipe()
        self.proc = zygote.spawn(events_w, output_w, limits) if zygote else None
        # a forked worker reads where it works first: the zygote itself never learns it
        self.preamble = json.dumps({"cwd": str(workdir), "env": _env(workdir)}).encode() + b"\n"
        if self.proc is None:
            self.preamble = b""
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(public_dir) / "autograder" / "worker" / "sandbox.py"), str(events_w)],
                cwd=workdir, env=_env(workdir), stdin=subprocess.PIPE, stdout=output_w, stderr=output_w,
                pass_fds=(events_w,), preexec_fn=_limit(limits))
        os.close(events_w)
        os.close(output_w)
        self.cgroups = WorkerCgroups.create(self.proc.pid, limits.processes, limits.worker_memory_bytes)
        _live.add(self.proc)
        if _stopping.is_set():  # started while `stop_all` ran (e.g. after it killed the zygote): stopped too
            _kill(self.proc)

    def supervise(self):
        """Run to the end. Returns None when the worker finished, else ((kind, key), reason):
        kind "cell" or "case" for the item that hung or died, "submission" when nothing more
        of this submission may run (its time is up, or its worker broke the protocol)."""
        try:
            if not self._send_plan():
                self.proc.wait()
                return ("cell", "startup"), _death(self.proc.returncode)
            return self._watch()
        finally:
            self._stop()

    def _send_plan(self):
        try:
            self.proc.stdin.write(self.preamble + json.dumps(self.plan).encode())
            self.proc.stdin.close()
            return True
        except (BrokenPipeError, OSError):
            return False

    def _watch(self):
        current, deadline = ("cell", "startup"), time.monotonic() + self.limits.cell_seconds
        conversation = Conversation(self.plan)
        lines = Lines(self.limits.event_bytes, self.budget)
        open_fds = [self.events_r, self.output_r]
        while self.events_r in open_fds:
            wait = min(deadline, self.budget.deadline) - time.monotonic()
            if wait <= 0:
                if self.budget.deadline <= deadline:
                    return ("submission", None), (f"the submission ran out of its {self.limits.submission_seconds:g} s "
                                                  "for all its cells and cases")
                seconds = self.limits.cell_seconds if current[0] == "cell" else self.limits.case_seconds
                return current, f"timed out after {seconds:g} s (stopped)"
            ready, _, _ = select.select(open_fds, [], [], wait)
            if self.output_r in ready and not self._take_output():
                open_fds.remove(self.output_r)
            if self.events_r not in ready:
                continue
            chunk = os.read(self.events_r, 1 << 16)
            if not chunk:
                break
            try:
                for line in lines.feed(chunk):
                    event = conversation.accept(parse(line))
                    kind = event["event"]
                    if kind == "isolation":
                        self.outcome.isolation = self._level(event["level"][:400])
                    elif kind == "cell_start":
                        current, deadline = ("cell", event["id"]), time.monotonic() + self.limits.cell_seconds
                    elif kind == "cell_end" and event["error"] and self.keep_cell_errors:
                        self.outcome.cell_errors[event["id"]] = event["error"][:400]
                    elif kind == "case_start":
                        current, deadline = ("case", event["key"]), time.monotonic() + self.limits.case_seconds
                    elif kind == "case_end":
                        self.outcome.records[event["key"]] = event["record"]
                    elif kind == "done":
                        self._drain_output(open_fds)
                        return None
            except ProtocolError as exc:
                return ("submission", None), f"the process running the code broke the grader's protocol ({exc})"
        _kill(self.proc)
        return current, _death(self.proc.returncode)

    def _drain_output(self, open_fds):
        """Read what the worker printed before it said "done" (it is in the pipe already)."""
        while self.output_r in open_fds and select.select([self.output_r], [], [], 0)[0]:
            if not self._take_output():
                return

    def _take_output(self):
        """Keep the end of what the worker printed; False at the end of its output."""
        chunk = os.read(self.output_r, 1 << 16)
        if not self.keep_cell_errors:  # beside the hidden cases: read and dropped, it may print their inputs
            if chunk and not self.outcome.log.endswith(HIDDEN_OUTPUT_DROPPED):
                self.outcome.log = (self.outcome.log + HIDDEN_OUTPUT_DROPPED)[-self.limits.log_bytes:]
            return bool(chunk)
        self.outcome.log = (self.outcome.log + chunk.decode("utf-8", "replace"))[-self.limits.log_bytes:]
        return bool(chunk)

    def _level(self, level):
        """The worker's own level, with the process limit it cannot see for itself."""
        if level.startswith("namespaces") and os.geteuid() == 0 and self.cgroups.pids is None:
            return level + " (no process-count limit: grading as root without a pids cgroup)"
        return level

    def _stop(self):
        _kill(self.proc)
        _live.discard(self.proc)
        self.cgroups.remove()
        if isinstance(self.proc, Forked):
            self.proc.release()
        for fd in (self.events_r, self.output_r):
            os.close(fd)


def stop_all():
    """Stop every worker now and start no new one (the run is being interrupted)."""
    _stopping.set()
    for proc in list(_live):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _limit(limits):
    def apply():
        apply_limits(limits.memory_bytes, limits.file_bytes)  # dies with the grader
    return apply


class Zygote:
    """The grader's side of a zygote (zygote.py): started once, forks each worker of a run.

    Use as a context manager; on exit the zygote and every worker it forked are gone.

    Parameters
    ----------
    public_dir : Path, the public copy of the grader (the zygote runs from it)
    folder : Path, the zygote's own folder (its home; created)
    """
    START_SECONDS = 120  # the first fork waits for the imports, on a busy machine too

    def __init__(self, public_dir, folder):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.lock = threading.Lock()
        with theirs:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(public_dir) / "autograder" / "worker" / "zygote.py"), str(theirs.fileno()),
                 *([str(public_dir)] + _site_packages())],
                cwd=folder, env=_env(folder), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), preexec_fn=_limit(Limits()))
        _live.add(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def spawn(self, events_w, output_w, limits):
        """Fork a worker on these pipes. Returns a `Forked`, or None when the zygote is gone."""
        plan_r, plan_w = os.pipe()
        status_r, status_w = os.pipe()
        request = {"op": "spawn", "memory_bytes": limits.memory_bytes, "file_bytes": limits.file_bytes}
        try:
            with self.lock:
                socket.send_fds(self.control, [json.dumps(request).encode()], [plan_r, events_w, output_w, status_w])
        except OSError:
            pass
        finally:
            os.close(plan_r)
            os.close(status_w)
        forked = Forked(self, status_r, plan_w)
        if forked.pid is None:
            log.warning("the zygote is gone (exit status %s): starting a new process for this worker", self.proc.poll())
            forked.release()
            return None
        return forked

    def release(self, pid):
        """The grader is done with worker `pid`: the zygote reaps it."""
        try:
            with self.lock:
                self.control.send(json.dumps({"op": "release", "pid": pid}).encode())
        except OSError:
            pass

    def close(self):
        """End the zygote (closing its socket tells it to) and every worker it forked."""
        self.control.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        _kill(self.proc)
        _live.discard(self.proc)


class Forked:
    """A worker forked by a `Zygote`, with what `Worker` uses of `subprocess.Popen`.

    Its pid and its end (a `Popen.returncode`) come from the zygote's status pipe; the
    zygote keeps it unreaped until `release`, so signalling `pid` is safe until then.
    """

    def __init__(self, zygote, status_r, plan_w):
        self.zygote, self.status, self.buffer = zygote, status_r, b""
        self.stdin = open(plan_w, "wb")
        self.pid = self.returncode = None
        while self.pid is None and self._read(Zygote.START_SECONDS):
            pass

    def _read(self, timeout):
        """Read the status pipe for up to `timeout` s; False at its end."""
        if self.status is None:
            return False
        ready, _, _ = select.select([self.status], [], [], max(timeout, 0))
        if not ready:
            return True
        chunk = os.read(self.status, 256)
        if not chunk:  # the zygote died, and its children with it (their death signal)
            os.close(self.status)
            self.status = None
            if self.pid is not None and self.returncode is None:
                self.returncode = -signal.SIGKILL
            return False
        *lines, self.buffer = (self.buffer + chunk).split(b"\n")
        for line in lines:
            what, _, value = line.decode().partition(" ")
            if what == "pid":
                self.pid = int(value)
            elif what == "exit":
                self.returncode = int(value)
        return True

    def poll(self):
        if self.returncode is None:
            self._read(0)
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = 3600 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired("worker", timeout)
            if not self._read(left):
                break
        return self.returncode

    def send_signal(self, signum):
        if self.pid is not None and self.returncode is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def release(self):
        if not self.stdin.closed:
            try:
                self.stdin.close()
            except OSError:
                pass
        if self.status is not None:
            os.close(self.status)
            self.status = None
        if self.pid is not None:
            self.zygote.release(self.pid)


def _env(workdir):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "IPYTHONDIR": str(workdir / ".ipython"),
           "MPLCONFIGDIR": str(workdir / ".mpl"), "MPLBACKEND": "Agg", "NBGRADER_EXECUTION": "autograde",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8",
           "TMPDIR": "/tmp"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


class ProtocolError(Exception):
    """The worker's event pipe carried something other than the planned events, in order.
    Its message is the grader's own words, never the worker's."""


#: Each event's fields besides "event", and their types (see sandbox.py).
EVENTS = {"isolation": {"level": str}, "cell_start": {"id": str}, "cell_end": {"id": str, "error": (str, type(None))},
          "case_start": {"key": str}, "case_end": {"key": str, "record": dict}, "done": {}}
RECORD_FIELDS = {"result", "error", "inputs_after"}  # see `checks.collect`
#: The deepest nesting of arrays and objects in one event (a record of `wire.MAX_DEPTH` levels is far less).
MAX_NESTING = 40
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nesting(line):
    """The deepest nesting of arrays and objects in a JSON text, strings left out; no recursion."""
    brackets = np.frombuffer(_STRING.sub(b"", line).translate(None, _NOT_BRACKETS), np.uint8)
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def parse(line):
    """One event from a line of the pipe, checked against its schema (`EVENTS`).

    Raises
    ------
    ProtocolError
        Not a JSON object, nested deeper than `MAX_NESTING`, an unknown event or other fields.
    """
    if nesting(line) > MAX_NESTING:
        raise ProtocolError(f"an event nested deeper than {MAX_NESTING} levels")
    try:
        event = json.loads(line)
    except ValueError:
        raise ProtocolError("a line that is not JSON") from None
    if not isinstance(event, dict) or type(event.get("event")) is not str or event["event"] not in EVENTS:
        raise ProtocolError("an event of no known kind")
    fields = EVENTS[event["event"]]
    if event.keys() != {"event", *fields} or not all(isinstance(event[k], t) for k, t in fields.items()):
        raise ProtocolError(f"a {event['event']} event whose fields are not those of its kind")
    if "record" in event and not event["record"].keys() <= RECORD_FIELDS:
        raise ProtocolError("a case's record whose fields are not those of a record")
    return event


class Conversation:
    """What the worker may say next: its isolation level first (when it was asked to confine
    itself), then each planned cell and case started once and ended, in the plan's order,
    then "done"."""

    def __init__(self, plan):
        self.items = [("cell", c["id"]) for c in plan["cells"]] + [("case", j["key"]) for j in plan["jobs"]]
        self.started = 0          # items started so far
        self.open = None          # the item started and not yet ended
        self.level_due = bool(plan.get("isolation"))

    def accept(self, event):
        """`event` if it may come now, else raises ProtocolError."""
        kind = event["event"]
        if self.level_due != (kind == "isolation"):
            raise ProtocolError("an isolation level out of place" if kind == "isolation"
                                else "an event before the isolation level")
        if kind == "isolation":
            self.level_due = False
        elif kind.endswith("_start"):
            item = (kind[:-6], event.get("id", event.get("key")))
            if self.open is not None or self.started == len(self.items) or item != self.items[self.started]:
                raise ProtocolError(f"a {kind} that is not the next planned one")
            self.open, self.started = item, self.started + 1
        elif kind.endswith("_end"):
            if self.open != (kind[:-4], event.get("id", event.get("key"))):
                raise ProtocolError(f"a {kind} of no {kind[:-4]} in progress")
            self.open = None
        elif self.open is not None or self.started < len(self.items):  # done
            raise ProtocolError("done before every planned cell and case")
        return event


class Lines:
    """Whole lines of the event pipe as they arrive: none longer than `line_bytes`, and all
    of them within `budget.event_bytes` (spent here), else ProtocolError."""

    def __init__(self, line_bytes, budget):
        self.line_bytes, self.budget, self.parts, self.size = line_bytes, budget, [], 0

    def feed(self, chunk):
        self.budget.event_bytes -= len(chunk)
        if self.budget.event_bytes < 0:
            raise ProtocolError("more events than a submission may send")
        *ended, rest = chunk.split(b"\n")
        lines = []
        for piece in ended:
            if self.size + len(piece) > self.line_bytes:
                raise ProtocolError(f"an event longer than {self.line_bytes} bytes")
            lines.append(b"".join(self.parts + [piece]))
            self.parts, self.size = [], 0
        self.parts.append(rest)
        self.size += len(rest)
        if self.size > self.line_bytes:
            raise ProtocolError(f"an event longer than {self.line_bytes} bytes")
        return lines


def _death(code):
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the process running the code was killed by {name}" + (
            " (out of memory?)" if name in ("SIGKILL", "SIGSEGV") else "")
    if code == 70:
        return "the grader could not confine the process that runs the code (see the log)"
    return f"the process running the code exited (exit status {code})"


def _kill(proc):
    """Stop the worker: its keeper kills the pid namespace, then the whole session goes."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)  # the keeper (isolation._keep) kills its child at once
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
