"""JupyterLab servers the tests start on 127.0.0.1 (student or instructor mode, as `make lab` runs it) and stop."""
import json
import subprocess

from autograder.authoring.hub import answering, stop  # noqa: F401 - stop is this module's too
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
    log_path = course.parent / f"jupyter-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv + ["--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}"],
                                cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return answering(proc, f"http://127.0.0.1:{port}/api/status?token={token}", "JupyterLab", log_path, seconds=90)
