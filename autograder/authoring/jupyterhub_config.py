"""JupyterHub's configuration for the course's hub (``make hub``; ``autograder/authoring/hub.py`` writes
the settings it reads and starts ``jupyterhub -f`` on this file).

Everything that varies (ports, users, folders, the password, the API token) comes from the JSON
file named by ``COURSE_HUB_SETTINGS``; what does not vary is here. Each user's server is spawned
by ``LocalProcessSpawner`` as that user's own system account; the instructor gets nbgrader's
every tool on the course folder (the instructor's home), a student gets the course's student mode
plus the Assignment List (``hub.student_config``).
"""
import json
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (provided by traitlets when JupyterHub loads this file)
settings = json.loads(Path(os.environ["COURSE_HUB_SETTINGS"]).read_text())
private = Path(settings["private"])  # the hub's alone (mode 0700)

c.JupyterHub.ip = settings["ip"]
c.JupyterHub.port = settings["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.pid_file = str(private / "proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + str(private / "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = str(private / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(private / "jupyterhub.pid")
# A hub stopped and started again starts clean: no server or proxy route of a previous run kept.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# One password shared by the sample accounts, made at random for each hub: for 127.0.0.1 only.
# A real deployment logs in with PAM (The Littlest JupyterHub's default) or OAuth: docs/deployment/jupyterhub.md.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = settings["password"]
c.Authenticator.allowed_users = set(settings["students"]) | {settings["instructor"]}

# The token the course's own tools (the tests) use on the hub's REST API; and grading on submit, a service the
# hub starts, restarts when it exits and stops, its output in the hub's log (autograder/hub_service/).
c.JupyterHub.services = [
    {"name": "course-tools", "api_token": settings["api_token"]},
    {"name": "grading-on-submit", "command": [sys.executable, "-m", "autograder.hub_service",
                                              str(private / "settings.json")],
     "cwd": settings["code_root"], "environment": {"PYTHONUNBUFFERED": "1"}},
]
c.JupyterHub.load_roles = [{"name": "course-tools", "services": ["course-tools"],
                            "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"]}]

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [settings["singleuser"]]
# The users' environment first (nbgrader runs its `alembic`), then the system's: nothing of root's own PATH.
c.Spawner.environment = {"PATH": os.pathsep.join([str(Path(settings["singleuser"]).parent), "/usr/local/bin", "/usr/bin",
                                                  "/bin"])}
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120  # a first JupyterLab start on 2 busy cores
c.Spawner.http_timeout = 120


def course_mode(spawner):
    """The instructor's server reads the course's config (its home is the course folder); a student's
    reads the hub's student mode (``JUPYTER_CONFIG_PATH``), which holds the exchange's nbgrader config."""
    mode = "instructor" if spawner.user.name == settings["instructor"] else "student"
    spawner.environment["JUPYTER_CONFIG_PATH"] = settings["config_path"][mode]


c.Spawner.pre_spawn_hook = course_mode
