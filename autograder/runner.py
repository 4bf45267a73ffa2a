"""Supervise the worker that runs a submission's code (`sandbox.py`).

The worker runs in its own process group, in a scratch folder with only the public
code, with limits on memory, file size and (per cell, per case) wall time. When a cell
or a case hangs or the process dies, the worker is killed and restarted without it, so
a fault costs only what it touched. Only JSON lines cross back.
"""
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ["lessonkit", "autograder/__init__.py", "autograder/wire.py", "autograder/sandbox.py",
          "autograder/isolation.py", "autograder/checks"]
#: Folders of the course tree that student code must not see while it runs.
PRIVATE = ["solutions", "autograder", "tests", "build", ".git"]


class Limits:
    """Resource limits of one worker (seconds, bytes)."""

    def __init__(self, cell_seconds=30.0, case_seconds=10.0, memory_bytes=3 * 2**30,
                 file_bytes=64 * 2**20, max_line_bytes=32 * 2**20):
        self.cell_seconds, self.case_seconds = cell_seconds, case_seconds
        self.memory_bytes, self.file_bytes, self.max_line_bytes = memory_bytes, file_bytes, max_line_bytes


def prepare_public(dest):
    """Copy the public code (and nothing else of the course) into `dest`."""
    dest = Path(dest)
    for rel in PUBLIC:
        src, dst = ROOT / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)
    return dest


def _limit(limits):
    def apply():
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _env(workdir):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "IPYTHONDIR": str(workdir / ".ipython"),
           "MPLCONFIGDIR": str(workdir / ".mpl"), "MPLBACKEND": "Agg", "NBGRADER_EXECUTION": "autograde",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def isolation_plan(public_dir, workdir, private=()):
    """The folders the worker hides (see isolation.py): the course's private folders and
    `private` (submissions, outputs, other students' work folders), except any folder that
    holds the worker's own folder, the public code or Python itself."""
    needed = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, public_dir, workdir)]
    hide = {p.resolve() for p in [ROOT / q for q in PRIVATE] + [Path(q) for q in private]}
    return {"hide": sorted(str(p) for p in hide if not any(n == p or p in n.parents for n in needed))}


def run(cells, jobs, public_dir, workdir, limits=None, private=None):
    """Execute `cells`, then collect every job, surviving hangs and crashes.

    Parameters
    ----------
    cells : list of {"id", "source"}
    jobs : list of {"key", "grade_id", "inputs"}
    public_dir, workdir : Path
    private : list of Path, optional
        Folders to hide from the student's code besides the course's own (see
        `isolation_plan`); None hides nothing (a student's self-check of their own work).

    Returns
    -------
    cell_errors : dict, cell id -> error text (only cells that failed)
    records : dict, job key -> record (see `checks.collect`)
    incidents : list of str, what the supervisor had to do (timeouts, crashes)
    isolation : str or None, the level the worker reached (None when not asked)
    """
    limits = limits or Limits()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    isolation = None if private is None else isolation_plan(public_dir, workdir, private)
    state = {"isolation": None}
    cell_errors, records, incidents, dropped = {}, {}, [], set()
    for _attempt in range(len(cells) + len(jobs) + 2):
        todo_cells = [c for c in cells if c["id"] not in dropped]
        todo_jobs = [j for j in jobs if j["key"] not in records]
        if not todo_jobs:
            break
        current, reason = _run_once(todo_cells, todo_jobs, public_dir, workdir, limits, cell_errors, records,
                                    isolation, state)
        if current is None:
            break
        kind, key = current
        if key == "startup":
            incidents.append(f"the grader could not start the process that runs the code: {reason}")
            break
        incidents.append(f"{'cell' if kind == 'cell' else 'case'} {key}: {reason}")
        if kind == "cell":
            dropped.add(key)
            cell_errors[key] = reason
        else:  # the item has failed: its remaining cases are not worth another timeout
            grade_id = next(j["grade_id"] for j in jobs if j["key"] == key)
            records[key] = {"error": reason, "mutated": []}
            for job in jobs:
                if job["grade_id"] == grade_id and job["key"] not in records:
                    records[job["key"]] = {"error": f"not run: case {key} of this item {reason}", "mutated": []}
    return cell_errors, records, incidents, state["isolation"]


def _run_once(cells, jobs, public_dir, workdir, limits, cell_errors, records, isolation, state):
    """One worker process. Returns (None, None) when it finished, else what it was doing and why it stopped."""
    plan_path = workdir / "plan.json"
    site = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    plan_path.write_text(json.dumps({"sys_path": [str(public_dir)] + site, "cells": cells, "jobs": jobs,
                                     "isolation": isolation}))
    read_fd, write_fd = os.pipe()
    with open(workdir / "output.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(Path(public_dir) / "autograder" / "sandbox.py"), str(plan_path), str(write_fd)],
            cwd=workdir, env=_env(workdir), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            pass_fds=(write_fd,), preexec_fn=_limit(limits))
    os.close(write_fd)
    current, deadline, buffer = ("cell", "startup"), time.monotonic() + limits.cell_seconds, b""
    wanted = {job["key"] for job in jobs}
    try:
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0:
                seconds = limits.cell_seconds if current[0] == "cell" else limits.case_seconds
                return current, f"timed out after {seconds:g} s (stopped)"
            ready, _, _ = select.select([read_fd], [], [], wait)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                proc.wait()
                return current, _death(proc.returncode)
            buffer += chunk
            if len(buffer) > limits.max_line_bytes:
                return current, "produced an output too large to grade"
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                event = _parse(line)
                kind = event.get("event")
                if kind == "isolation" and state["isolation"] is None:
                    state["isolation"] = str(event.get("level"))[:200]
                elif kind == "cell_start":
                    current, deadline = ("cell", str(event.get("id"))), time.monotonic() + limits.cell_seconds
                elif kind == "cell_end" and event.get("error"):
                    cell_errors[str(event.get("id"))] = str(event["error"])[:400]
                elif kind == "case_start":
                    current, deadline = ("case", str(event.get("key"))), time.monotonic() + limits.case_seconds
                elif kind == "case_end" and isinstance(event.get("record"), dict):
                    if event.get("key") in wanted:
                        records[event["key"]] = event["record"]
                elif kind == "done":
                    return None, None
    finally:
        os.close(read_fd)
        _kill(proc)


def _parse(line):
    try:
        event = json.loads(line)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _death(code):
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the process running the code was killed by {name}" + (
            " (out of memory?)" if name in ("SIGKILL", "SIGSEGV") else "")
    return f"the process running the code exited (exit status {code})"


def _kill(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    proc.wait()
