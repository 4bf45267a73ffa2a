"""JupyterLab servers the tests start on 127.0.0.1 (student or instructor mode, as `make lab` runs it) and stop."""
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from autograder.student.lab import command


def start_lab(course, port, instructor=False, token="test-token"):
    """JupyterLab on `course` (Path) at 127.0.0.1:`port`, in its own process group, answering
    to `token`; waits until it answers. Returns its Popen (stop it with `stop`)."""
    argv, env = command(course, "notebooks", instructor)
    state = course.parent / f"jupyter-{port}"  # no user settings or workspaces of this machine
    env.update(JUPYTER_RUNTIME_DIR=str(state / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"))
    # Every cell in the page (JupyterLab otherwise renders only those in view), so that a
    # browser test finds a cell by its position in the notebook.
    tracker = state / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    log = open(course.parent / f"jupyter-{port}.log", "w")
    proc = subprocess.Popen(argv + ["--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}"],
                            cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{Path(log.name).read_text()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
            return proc
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"JupyterLab did not answer in 90 s:\n{Path(log.name).read_text()}")


def stop(proc):
    """Stop the server's process group: politely (it shuts its kernels down), then for good."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
