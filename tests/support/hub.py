"""Talking to the course's hub in tests (tests/system/conftest.py starts it): its REST API, its login form,
its users' processes, commands run as one of its system users."""
import http.cookiejar
import json
import pwd
import re
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path


def server_pids(names):
    """Pids (list of int) of the single-user servers the hub started for users `names`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if b"jupyterhub-singleuser" in cmdline and any(f"JUPYTERHUB_USER={n}".encode() in environ for n in names):
            found.append(int(proc.name))
    return found


def request(settings, path, token=None, data=None, method=None):
    """(status, body as str) of an HTTP request to the hub's public port."""
    url = f"http://127.0.0.1:{settings['port']}{path}"
    body = None if data is None else (json.dumps(data) if isinstance(data, dict) and method != "FORM" else
                                      urllib.parse.urlencode(data)).encode()
    req = urllib.request.Request(url, data=body, method="POST" if method == "FORM" else method)
    if token:
        req.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def log_in(settings, username, password):
    """The status of a login through the hub's login form (302: logged in) and the cookies it set."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    base = f"http://127.0.0.1:{settings['port']}/hub/login"
    page = opener.open(base, timeout=60).read().decode()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": username, "password": password, "_xsrf": xsrf}).encode()
    try:
        status = opener.open(base, data=form, timeout=60).status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, {c.name for c in jar}


def run_as(name, *argv):
    """Run `argv` as user `name` in their home (not here: `python -c` would import the course tree from the cwd)."""
    return subprocess.run(["runuser", "-u", name, "--", *argv], capture_output=True, text=True,
                          cwd=pwd.getpwnam(name).pw_dir)
