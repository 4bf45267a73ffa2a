"""The course on a real JupyterHub on 127.0.0.1 (``make hub``, ``python -m autograder hub``).

JupyterHub (the ``hub`` extra) and configurable-http-proxy (npm, into ``build/hub-proxy``) serve
sample accounts that are system users: ``LocalProcessSpawner`` starts each user's JupyterLab as
that user, in a home only that user can read (mode 0700: Debian's ``useradd`` would make it 0755).
The instructor's home is the course folder (the course's ``nbgrader_config.py``, ``solutions/``,
``notebooks/``) and its server has every nbgrader tool, Formgrader included. A
student's server runs the course's student mode (``autograder/student/lab_student``) with
nbgrader's Assignment List added, so students fetch, submit and fetch feedback through nbgrader's
exchange; the instructor's release of ``RELEASED`` made the exchange's course folders with
nbgrader's own permissions (``outbound`` 0755, ``inbound`` 2733: students write, none list). The
exchange root is nbgrader's documented 0777 plus the sticky bit, so that no student can rename or
delete what another user made there. Everything the hub reads is written to one state folder
(``build/hub``); the configuration is ``jupyterhub_config.py`` beside this file.

Needs root (to create users and spawn as them), ``useradd``, ``runuser`` and npm.
"""
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from autograder.student.lab import STUDENT_CONFIG
from autograder.worker.course import ROOT, STUDENT_FILES, copy_files

HUB_CONFIG = Path(__file__).resolve().parent / "jupyterhub_config.py"
STATE = ROOT / "build" / "hub"
#: The users' environment: what the student bundle installs, plus JupyterHub's single-user server.
USERS_ENV = ROOT / "build" / "hub-env"
#: configurable-http-proxy from the npm registry, installed by `install_proxy` (npm's own client).
PROXY_VERSION = "5.3.0"
PROXY_PREFIX = ROOT / "build" / "hub-proxy"
PROXY = PROXY_PREFIX / "node_modules" / ".bin" / "configurable-http-proxy"
SAMPLE_STUDENTS = ("tdn-ada", "tdn-ben", "tdn-cy")
SAMPLE_INSTRUCTOR = "tdn-instructor"
#: Lessons the instructor releases into the exchange when the hub is prepared.
RELEASED = ("02_batch_norm",)
#: What the instructor's home receives of the course tree: it is the course folder nbgrader works in.
INSTRUCTOR_COPIES = ("nbgrader_config.py", "grading_on_submit.toml", "solutions", "notebooks")
HOME_MODE = 0o700
#: The instructor's server's Content-Security-Policy: JupyterHub's single-user server sends "frame-ancestors 'none'",
#: which leaves the Formgrader panel (an iframe of the server's own /formgrader pages) blank.
FORMGRADER_FRAMES = "frame-ancestors 'self'"
EXCHANGE_MODE = 0o1777
#: The Assignment List: the lab plugins (the list, and nbgrader's menu, its only way in) and the server extension
#: that student mode disables and the hub's student mode keeps.
ASSIGNMENT_LIST = (("@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:menu"), "nbgrader.server_extensions.assignment_list")


def missing():
    """Why the hub cannot run here (list of str; empty when it can)."""
    reasons = []
    if os.geteuid() != 0:
        reasons.append("the hub must run as root (it creates system users and starts each user's server as that user)")
    reasons += [f"`{tool}` is missing" for tool in ("useradd", "userdel", "runuser") if shutil.which(tool) is None]
    if shutil.which("jupyterhub-singleuser", path=str(Path(sys.executable).parent)) is None:
        reasons.append("JupyterHub is not installed in this venv (`make hub` and `make test` install the `hub` extra)")
    closed = [p for p in [ROOT, *ROOT.parents] if not os.stat(p).st_mode & 0o001]
    if closed:  # e.g. a clone in a mktemp -d folder (0700): the users' servers run its environment and lessons
        reasons.append(f"the course folder {ROOT} is out of other users' reach ({closed[-1]} is not searchable "
                       "by them: chmod o+x it, or put the course where system users can reach it)")
    if not PROXY.exists() and shutil.which("npm") is None:
        reasons.append("npm is missing, so configurable-http-proxy cannot be installed (Debian: apt-get install npm)")
    if not reasons and not (USERS_ENV / "bin" / "python").exists():
        try:
            users_python()
        except RuntimeError as error:
            reasons.append(str(error))
    return reasons


def install_proxy():
    """configurable-http-proxy `PROXY_VERSION` into `PROXY_PREFIX` unless it is there; returns its path."""
    installed = PROXY_PREFIX / "node_modules" / "configurable-http-proxy" / "package.json"
    if not installed.is_file() or json.loads(installed.read_text())["version"] != PROXY_VERSION:
        subprocess.run([shutil.which("npm"), "install", "--prefix", str(PROXY_PREFIX), "--no-save", "--no-audit",
                        "--no-fund", f"configurable-http-proxy@{PROXY_VERSION}"], check=True, capture_output=True,
                       timeout=300)
    return PROXY


def users_python():
    """A Python every user can run, of a version the course allows: (path, version such as "3.11.2").
    The venv's own interpreter may live under root's home, which nobody else may enter (as here)."""
    from autograder.authoring.release import supported_pythons
    candidates = [getattr(sys, "_base_executable", sys.executable),
                  *(f"/usr/bin/python{v}" for v in reversed(supported_pythons()))]
    for python in candidates:
        ran = subprocess.run(["runuser", "-u", "nobody", "--", python, "-c",
                              "import platform; print(platform.python_version())"], capture_output=True, text=True)
        if ran.returncode == 0 and ".".join(ran.stdout.split(".")[:2]) in supported_pythons():
            return python, ran.stdout.strip()
    raise RuntimeError("no Python that every user can run among " + ", ".join(candidates) +
                       " (Debian: apt-get install python3 python3-venv)")


def constraints_for(version, into):
    """requirements.lock without the pins whose Requires-Python excludes Python `version` (`release.pins_excluding`),
    written to `into`; returns those left out (list of str; pip picks an older release)."""
    from autograder.authoring.release import pins_excluding
    excluding = pins_excluding(version)
    kept = [line for line in (ROOT / "requirements.lock").read_text().splitlines() if line not in excluding]
    into.write_text("\n".join(kept) + "\n")
    return [f"{line.split('==')[0]} (Python {needs})" for line, needs in excluding.items()]


def hub_requirement():
    """The `hub` extra's JupyterHub pin (str), read from pyproject.toml."""
    import tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["hub"][0]


def users_env(into=USERS_ENV):
    """The environment every user's server and kernel run in (made or brought up to date; its folder
    returned): the student bundle's packages (no private folder of the grader) at the lock's versions and
    JupyterHub's single-user server, in a Python every user can run, readable by all. A pin that Python
    cannot install (too old for it) is left to pip, and said."""
    import hashlib
    shipped = copy_files(STUDENT_FILES, Path(tempfile.mkdtemp(prefix="hub-course-")))
    try:
        from autograder.authoring.release import student_pyproject
        (shipped / "pyproject.toml").write_text(student_pyproject())
        digest = hashlib.sha256()
        for path in sorted(p for p in shipped.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(shipped)).encode() + path.read_bytes())
        stamp = into / "course.sha256"
        if stamp.is_file() and stamp.read_text() == digest.hexdigest():
            return into
        python, version = users_python()
        if not (into / "bin" / "python").exists():
            subprocess.run([python, "-m", "venv", str(into)], check=True, capture_output=True)
        left_out = constraints_for(version, shipped / "constraints.txt")
        if left_out:
            print(f"the users' Python {version} cannot install the locked " + ", ".join(left_out) +
                  ": pip chooses those", flush=True)
        pip = [str(into / "bin" / "python"), "-m", "pip", "install", "-qq", "--disable-pip-version-check"]
        subprocess.run(pip + ["-c", str(shipped / "constraints.txt"), hub_requirement(), str(shipped)],
                       check=True, capture_output=True, text=True)
        subprocess.run(pip + ["--no-deps", "--force-reinstall", str(shipped)], check=True, capture_output=True)
        subprocess.run([str(into / "bin" / "python"), "-m", "pip", "uninstall", "-qq", "-y", "rfc3987-syntax"],
                       capture_output=True)
        subprocess.run(["chmod", "-R", "a+rX", str(into)], check=True)
        stamp.write_text(digest.hexdigest())
        return into
    finally:
        shutil.rmtree(shipped, ignore_errors=True)


def close_course_tree(state):
    """Take every other user's access to the course tree away (mode o-rwx on each of its entries, not
    recursive), except to what their servers run (the users' environment, the hub's `state` folder and any
    other hub's: a folder of ``build/`` named ``hub*``) and to the grader's environment, which a student's
    code graded as root reads as nobody (isolation.py). The tree itself stays searchable (o+x), so that
    those remain reachable; the masters, the judge, the gradebook, the class's submissions and the git
    history are not. Returns the entries closed (list of Path)."""
    state = Path(state).resolve()
    build = ROOT / "build"
    grader_env = Path(sys.prefix).resolve()
    keep = {USERS_ENV.resolve(), state, grader_env}
    closed = []
    for entry in [*ROOT.iterdir(), *(build.iterdir() if build.is_dir() else ())]:
        if (entry == build or entry.resolve() in keep or grader_env.is_relative_to(entry.resolve())
                or (entry.parent == build and entry.name.startswith("hub"))):
            continue
        if entry.is_symlink() or not entry.exists():
            continue
        mode = entry.stat().st_mode
        if mode & 0o007:
            os.chmod(entry, mode & ~0o007)
            closed.append(entry)
    return closed


def create_users(names):
    """System users `names` (each with its own group and a home only it can read); returns those created
    here (list of str), so that only they are removed. An existing user's home is made private too. If one
    cannot be made, those made so far are removed and the error raised."""
    created = []
    try:
        for name in names:
            try:
                pwd.getpwnam(name)
            except KeyError:
                subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", name],
                               check=True, capture_output=True)
                created.append(name)
            os.chmod(pwd.getpwnam(name).pw_dir, HOME_MODE)
    except (subprocess.CalledProcessError, OSError):
        remove_users(created)  # none half made
        raise
    return created


def remove_users(names):
    """Remove system users `names` and their homes (those `create_users` made, nothing else)."""
    for name in names:
        subprocess.run(["userdel", "--remove", name], capture_output=True)


def course_id():
    """The course's nbgrader course id (str), read from its ``nbgrader_config.py``."""
    from traitlets.config.loader import PyFileConfigLoader
    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config().CourseDirectory.course_id


def exchange_config(exchange):
    """nbgrader configuration lines (str) that put a server on the hub's exchange."""
    return (f"\n# The hub's exchange (autograder/authoring/hub.py)\nc.CourseDirectory.course_id = {course_id()!r}\n"
            f"c.Exchange.root = {str(exchange)!r}\n")


def student_config(into, exchange):
    """The hub's student mode in folder `into` (made; returned): the course's student mode (lab_student/)
    with the Assignment List back, and the course's nbgrader configuration on the exchange."""
    plugins, extension = ASSIGNMENT_LIST
    page = json.loads((STUDENT_CONFIG / "labconfig" / "page_config.json").read_text())
    for plugin in plugins:
        page["disabledExtensions"].pop(plugin)
    server_file = next((STUDENT_CONFIG / "jupyter_server_config.d").glob("*.json"))
    server = json.loads(server_file.read_text())
    server["ServerApp"]["jpserver_extensions"][extension] = True
    for path, data in ((into / "labconfig" / "page_config.json", page),
                       (into / "jupyter_server_config.d" / server_file.name, server)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n")
    (into / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + exchange_config(exchange))
    return into


def instructor_config(into, exchange):
    """The instructor's extra configuration in folder `into` (made; returned): the exchange, and JupyterLab's
    Formgrader panel allowed to frame the server's own pages. The course's own ``nbgrader_config.py`` is in the
    instructor's home, where the server starts."""
    into.mkdir(parents=True, exist_ok=True)
    (into / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + exchange_config(exchange))
    (into / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"tornado_settings": {"headers": {
        "Content-Security-Policy": FORMGRADER_FRAMES}}}}, indent=2) + "\n")
    return into


def as_user(name, argv, cwd, config_path):
    """Run `argv` as system user `name` in `cwd` with `config_path` (JUPYTER_CONFIG_PATH), the users'
    environment first on PATH (nbgrader runs alembic)."""
    path = os.pathsep.join([str(USERS_ENV / "bin"), os.environ.get("PATH", "")])
    return subprocess.run(["runuser", "-u", name, "--", "env", f"PATH={path}", f"HOME={pwd.getpwnam(name).pw_dir}",
                           f"JUPYTER_CONFIG_PATH={config_path}", *argv], cwd=cwd, check=True, capture_output=True,
                          text=True)


def prepare_instructor(name, config_path, lessons=RELEASED):
    """Copy the course into instructor `name`'s home (owned by them) where it is not there yet, so that a
    restarted hub keeps the instructor's work; release `lessons` into the exchange as them, with the
    instructor's `config_path`."""
    user = pwd.getpwnam(name)
    home = Path(user.pw_dir)
    for entry in INSTRUCTOR_COPIES:
        source, target = ROOT / entry, home / entry
        if target.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        else:
            shutil.copy(source, target)
    (home / "build").mkdir(exist_ok=True)  # the course's gradebook and nbgrader's folders live there (nbgrader_config.py)
    subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(home)], check=True)
    nbgrader = str(USERS_ENV / "bin" / "nbgrader")
    for lesson in lessons:
        as_user(name, [nbgrader, "release_assignment", lesson, "--force"], home, config_path)


def prepare(state=STATE, students=SAMPLE_STUDENTS, instructor=SAMPLE_INSTRUCTOR, port=8000, lessons=RELEASED,
            hub_port=None, proxy_api_port=None):
    """Write everything the hub reads into `state` (a folder, made) for existing system users `students` and
    `instructor`; make the exchange and the instructor's course, and release `lessons` into it. The hub's
    own ports default to `port` + 1 and + 2. Returns the settings (dict), also written to
    ``state/private/settings.json`` (``state/private`` is the hub's alone, mode 0700: the settings hold the password
    and the API token, the hub's database its users' tokens)."""
    state = Path(state).resolve()
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o755)  # every user's server reads the exchange and its mode's config below it
    close_course_tree(state)
    private = state / "private"  # the hub's own: its settings, database, cookie secret, pids and log
    private.mkdir(exist_ok=True)
    os.chmod(private, 0o700)
    exchange = state / "exchange"
    exchange.mkdir(exist_ok=True)
    os.chmod(exchange, EXCHANGE_MODE)
    settings = {
        "ip": "127.0.0.1", "port": port, "hub_port": hub_port or port + 1, "proxy_api_port": proxy_api_port or port + 2,
        "state": str(state), "private": str(private), "proxy": str(install_proxy()), "code_root": str(ROOT),
        "singleuser": str(users_env() / "bin" / "jupyterhub-singleuser"),
        "students": list(students), "instructor": instructor,
        "password": secrets.token_urlsafe(12), "api_token": secrets.token_hex(32),
        "config_path": {"student": str(student_config(state / "student", exchange)),
                        "instructor": str(instructor_config(state / "instructor", exchange))},
    }
    path = private / "settings.json"
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    path.write_text(json.dumps(settings, indent=2) + "\n")
    prepare_instructor(instructor, settings["config_path"]["instructor"], lessons)
    return settings


def start(settings, log):
    """Start JupyterHub with `settings` (from `prepare`) in its own process group, its output to `log`
    (an open file); returns the process once the hub answers (RuntimeError if it exits or stays silent)."""
    private = Path(settings["private"])
    env = dict(os.environ, COURSE_HUB_SETTINGS=str(private / "settings.json"))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(HUB_CONFIG)], cwd=private, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        return answering(proc, f"http://{settings['ip']}:{settings['port']}/hub/api/", "JupyterHub", Path(log.name))
    except BaseException:  # Ctrl-C or `kill` while it starts: its own session would outlive this process
        stop(proc)
        raise


def answering(proc, url, what, log_path, seconds=120):
    """`proc` (a server started in its own process group) once `url` answers; if it exits first or stays
    silent for `seconds`, it is stopped and RuntimeError names `what` and shows the end of its log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; {log_path}:\n{log_path.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"{what} did not answer in {seconds} s; {log_path}:\n{log_path.read_text()[-3000:]}")


def stop(proc):
    """Stop a server's process group: politely (a hub stops the users' servers, which run in their own
    sessions, and its proxy; JupyterLab shuts its kernels down), then for good."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def main(port=8000):
    """``make hub``: the sample accounts, the exchange, the hub in the foreground until Ctrl-C; prints where to log in."""
    reasons = missing()
    if reasons:
        print("make hub cannot run here: " + "; ".join(reasons), file=sys.stderr)
        return 2
    # before the hub starts: a `kill` between its start and the banner would leave it running in its own session
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill PID` stops the hub as Ctrl-C does
    create_users([*SAMPLE_STUDENTS, SAMPLE_INSTRUCTOR])
    settings = prepare(port=port)
    log_path = Path(settings["private"]) / "jupyterhub.log"
    with open(log_path, "a") as log:
        proc = None
        try:
            proc = start(settings, log)
            print(f"JupyterHub: http://127.0.0.1:{port}/  (log: {log_path})\n"
                  f"  students:   {', '.join(SAMPLE_STUDENTS)}  (Assignment List: {', '.join(RELEASED)} released)\n"
                  f"  instructor: {SAMPLE_INSTRUCTOR}  (Formgrader)\n"
                  "  grading on submit: each submission graded, its feedback released as the instructor's "
                  "grading_on_submit.toml says\n"
                  f"  password of every sample account: {settings['password']}\n"
                  "  127.0.0.1 only, one shared password: a demo. A real deployment: docs/deployment/jupyterhub.md\n"
                  f"Ctrl-C (or kill {os.getpid()}) stops the hub; the sample users stay (userdel --remove NAME).", flush=True)
            return proc.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            if proc is not None:
                stop(proc)
