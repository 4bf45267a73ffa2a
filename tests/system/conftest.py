"""The hub every hub test shares (one per session: its users, its servers, its exchange): started on
127.0.0.1 by the tests, stopped by its pid. Skipped, saying why, where the machine cannot run it
(``hub.missing()``: not root, no useradd, JupyterHub not installed, npm missing, course out of reach)."""
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from autograder.authoring import hub
from tests.support.hub import request, server_pids
from tests.support.network import free_port

#: The lesson the hub's instructor releases and its students fetch and submit
LESSON = "02_batch_norm"
READY_TIMEOUT = 150  # s: three JupyterLab servers starting at once on 2 busy cores


@pytest.fixture(scope="session")
def accounts():
    """Two students and an instructor, as system users with unusual names (removed after)."""
    reasons = hub.missing()
    if reasons:
        pytest.skip("; ".join(reasons))
    tag = secrets.token_hex(3)
    names = {"a": f"tdnt-a{tag}", "b": f"tdnt-b{tag}", "instructor": f"tdnt-i{tag}"}
    try:
        created = hub.create_users(names.values())
    except subprocess.CalledProcessError as error:
        pytest.skip(f"useradd failed here: {error.stderr.decode(errors='replace').strip()}")
    yield names
    hub.remove_users(created)


@pytest.fixture(scope="session")
def course_hub(accounts):
    """The running hub (its settings, dict); stopped by its pid after the session, its state removed but
    its log kept in build/hub-test.log. The state sits under build/ because pytest's temporary folders
    (0700) are closed to the users."""
    build = hub.ROOT / "build"
    build.mkdir(exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="hub-test-", dir=build))
    log = open(build / "hub-test.log", "w")  # the hub's and the servers' log, kept for a failure's reader
    proc = None
    try:
        settings = hub.prepare(state, [accounts["a"], accounts["b"]], accounts["instructor"], port=free_port(),
                               lessons=[LESSON], hub_port=free_port(), proxy_api_port=free_port())
        proc = hub.start(settings, log)
        yield settings
    finally:
        if proc is not None:
            hub.stop(proc)
        for pid in server_pids(accounts.values()):  # the hub stops them on SIGTERM; any left is ours to end
            os.kill(pid, 9)
        log.close()
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def servers(course_hub, accounts):
    """Every account's server started through the hub's REST API; a token (str) for each account, by role."""
    admin = course_hub["api_token"]
    for name in accounts.values():
        status, body = request(course_hub, f"/hub/api/users/{name}/server", admin, data={}, method="POST")
        assert status in (201, 202), body
    deadline = time.monotonic() + READY_TIMEOUT
    waiting = set(accounts.values())
    while waiting and time.monotonic() < deadline:
        for name in sorted(waiting):
            user = json.loads(request(course_hub, f"/hub/api/users/{name}", admin)[1])
            if user["servers"].get("", {}).get("ready"):
                waiting.discard(name)
        time.sleep(0.5)
    assert not waiting, f"servers not ready in {READY_TIMEOUT} s: {waiting}"
    tokens = {}
    for role, name in accounts.items():
        status, body = request(course_hub, f"/hub/api/users/{name}/tokens", admin,
                               data={"note": "test_hub", "expires_in": 900}, method="POST")
        assert status == 201, body
        tokens[role] = json.loads(body)["token"]
    return tokens
