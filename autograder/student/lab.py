"""JupyterLab for students (``make lab``, the bundle) or for instructors (``make lab-instructor``).

``python -m autograder lab [--instructor] [FOLDER] [--jupyter-lab-option=value ...]`` (``make lab``)

Student mode takes nbgrader's instructor tools away and keeps its Validate button, by
JupyterLab's own mechanisms: ``lab_student/`` (beside this file) is put first on
``JUPYTER_CONFIG_PATH``; its ``labconfig/page_config.json`` disables the Formgrader,
Create Assignment, Assignment List, Course List and Nbgrader menu lab plugins (and the
"Jupyter news" prompt, which is not for a classroom), and its
``jupyter_server_config.d/`` turns off their server extensions (no exchange is configured,
so the Assignment List could only say "Error fetching courses!"). The file browser lists only
what a student works with (``STUDENT_VIEW``): ``solutions/``, ``tests/``, ``build/`` and
every other instructor folder are hidden.
"""
import glob
import os
import sys
from pathlib import Path

from autograder.worker.course import ROOT

STUDENT_CONFIG = Path(__file__).resolve().parent / "lab_student"
#: The top-level entries of the course folder a student sees in the file browser: the lessons
#: (released copies, or the student's own work copy, each with the figures it shows), the shared code.
STUDENT_VIEW = ("notebooks", "work", "lessonkit", "README.md", "docs")
#: jupyter_server's default ``ContentsManager.hide_globs``, which student mode extends.
DEFAULT_HIDDEN = ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~"]


def hidden_in_student_mode(root):
    """Names (list of str) to hide: every top-level entry of `root` outside STUDENT_VIEW."""
    return DEFAULT_HIDDEN + sorted(glob.escape(p.name) for p in Path(root).iterdir()
                                   if p.name not in STUDENT_VIEW and not p.name.startswith("."))


def command(root=ROOT, open_folder="notebooks", instructor=False):
    """The JupyterLab command line and environment for one mode.

    Parameters
    ----------
    root : path
        The course folder (repository or student bundle); the server's root and working
        directory (nbgrader's Validate reads ``nbgrader_config.py`` from there).
    open_folder : str
        Folder under `root` the file browser opens on.
    instructor : bool
        Keep every nbgrader tool and list every file.

    Returns
    -------
    argv : list of str
        To run with ``cwd=root``; add ``--port``, ``--ServerApp.token`` etc. as needed.
    env : dict of str to str
        The environment to run it in.
    """
    argv = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ServerApp.root_dir={root}",
            f"--LabApp.default_url=/lab/tree/{open_folder}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    env = dict(os.environ)
    if not instructor:
        argv.append("--ContentsManager.hide_globs=" + repr(hidden_in_student_mode(root)))
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            [str(STUDENT_CONFIG)] + [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p])
    return argv, env


def start(folder: str | None = None, instructor: bool = False, jupyter_options: list[str] = ()) -> int:
    """Replace this process by JupyterLab on the current folder, its file browser opened on `folder`
    (default: ``notebooks``, or ``solutions`` for an `instructor`); `jupyter_options` go to ``jupyter lab``."""
    open_folder = folder or ("solutions" if instructor else "notebooks")
    cmd, env = command(Path.cwd(), open_folder, instructor)
    mode = "instructor" if instructor else "student"
    print(f"JupyterLab in {mode} mode on {Path.cwd()} (opens {open_folder}/)", flush=True)
    os.execvpe(cmd[0], cmd + list(jupyter_options), env)
