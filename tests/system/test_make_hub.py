"""``make hub`` as the README's instructor runs it: it makes the sample accounts, starts the hub on 127.0.0.1,
prints where to log in and the sample accounts' password, which logs a sample student in; ``kill PID`` (the pid it
prints) stops the hub and everything it started. The sample users and the hub's state folder this test made
are removed after; ones that were there before are left as they were."""
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from autograder.authoring import hub
from tests.support.hub import log_in
from tests.support.processes import processes_naming

reasons = hub.missing()
if reasons:
    pytest.skip("; ".join(reasons), allow_module_level=True)

START_TIMEOUT = 300  # s: the users' environment may be built first, on 2 busy cores


def three_free_ports():
    """A port P with P + 1 and P + 2 free too (the hub, its own API and the proxy's API)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 2 > 65535:
            continue
        try:
            for candidate in (port + 1, port + 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", candidate))
            return port
        except OSError:
            continue
    pytest.fail("no three free ports in a row")


def _listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_make_hub_prints_where_to_log_in_and_kill_pid_stops_all_it_started():
    samples = [*hub.SAMPLE_STUDENTS, hub.SAMPLE_INSTRUCTOR]
    existed = {name for name in samples if _user_exists(name)}
    state_existed = hub.STATE.exists()
    port = three_free_ports()
    make = subprocess.Popen(["make", "--no-print-directory", "-C", str(hub.ROOT), "hub", f"HUB_PORT={port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    printed = []
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not any("stops the hub" in line for line in printed):  # the banner's last line
            line = make.stdout.readline()
            assert line or make.poll() is None, "".join(printed)
            assert time.monotonic() < deadline, "".join(printed)
            printed.append(line)
        text = "".join(printed)
        assert f"JupyterHub: http://127.0.0.1:{port}/" in text, text
        assert all(name in text for name in samples), text
        password = re.search(r"password of every sample account: (\S+)", text)[1]
        pid = int(re.search(r"kill (\d+)\) stops the hub", text)[1])
        assert all(_user_exists(name) for name in samples)

        settings = {"port": port}
        assert log_in(settings, hub.SAMPLE_STUDENTS[0], password)[0] == 302
        assert log_in(settings, hub.SAMPLE_STUDENTS[0], password + "x")[0] == 403
        started = processes_naming(str(hub.STATE / "private" / "settings.json"))
        assert started, "the grading service the hub starts is not running"

        os.kill(pid, signal.SIGTERM)  # as the banner says
        assert make.wait(timeout=90) == 0, make.stdout.read()
        assert [p for p in (port, port + 1, port + 2) if _listening(p)] == []  # the proxy, the hub, the proxy's API
        deadline = time.monotonic() + 30
        while (left := processes_naming(str(hub.STATE / "private" / "settings.json"))) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert left == [], f"still running after the hub stopped: {left}"
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
        hub.remove_users([name for name in samples if name not in existed])
        if not state_existed:
            shutil.rmtree(hub.STATE, ignore_errors=True)


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
