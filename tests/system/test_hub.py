"""The course on a real JupyterHub (``autograder/authoring/hub.py``): the hub and its proxy started by the
test on 127.0.0.1, two students and an instructor created by the test as system users (and removed
after). Logging in takes the hub's password and refuses a wrong one and a system user the course does
not list; each server runs as its own user; a student fetches and submits through nbgrader's
Assignment List, and neither sees Formgrader nor reads the other student's home or the exchange's
submissions; the instructor's server has Formgrader. Skipped, saying why, where the machine cannot
(not root, no useradd, JupyterHub not installed: ``make hub`` installs it, npm missing).

The tests share the session's hub (tests/system/conftest.py) and run in file order (a student fetches before submitting).
"""
import json
import pwd
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

import autograder
from autograder.authoring import hub
from tests.support.hub import log_in, request, run_as, server_pids
from tests.system.conftest import LESSON

reasons = hub.missing()
if reasons:
    pytest.skip("; ".join(reasons), allow_module_level=True)


def test_the_login_form_takes_the_password_and_no_other(course_hub, accounts):
    assert log_in(course_hub, accounts["a"], course_hub["password"])[0] == 302
    assert log_in(course_hub, accounts["a"], course_hub["password"] + "x")[0] == 403


def test_a_system_user_the_course_does_not_list_cannot_log_in(course_hub):
    """The shared password opens only the course's accounts: root and the machine's other users stay out."""
    assert log_in(course_hub, "root", course_hub["password"])[0] == 403


def test_each_server_runs_as_its_own_user(servers, accounts):
    for name in accounts.values():
        pids = server_pids([name])
        assert pids, f"no server process for {name}"
        for pid in pids:
            uid = int(re.search(r"^Uid:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M).group(1))
            assert uid == pwd.getpwnam(name).pw_uid, f"{name}'s server runs as uid {uid}"


def test_a_student_cannot_reach_another_students_server(course_hub, servers, accounts):
    assert request(course_hub, f"/user/{accounts['a']}/api/contents", servers["a"])[0] == 200
    assert request(course_hub, f"/user/{accounts['b']}/api/contents", servers["a"])[0] == 403


def test_a_student_cannot_read_another_students_home(accounts):
    """Debian's useradd makes homes 0755; the hub makes them 0700."""
    secret = Path(pwd.getpwnam(accounts["b"]).pw_dir) / "answers.py"
    secret.write_text("b's work\n")
    shutil.chown(secret, accounts["b"], accounts["b"])
    assert run_as(accounts["b"], "cat", str(secret)).stdout == "b's work\n"
    denied = run_as(accounts["a"], "cat", str(secret))
    assert denied.returncode != 0 and "Permission denied" in denied.stderr


def test_a_student_reads_neither_the_masters_nor_the_judge_nor_the_history(course_hub, accounts):
    """The hub runs beside the course tree: its entries are closed to other users (its users' environment and the hub's
    state excepted), so a student's kernel cannot `open()` the reference solutions."""
    history = ".git/HEAD" if (hub.ROOT / ".git").is_dir() else ".git"  # a worktree's .git is a file
    for secret in ("solutions/02_batch_norm/lesson.ipynb", "autograder/judge/batch_norm.py", history, "pyproject.toml"):
        assert (hub.ROOT / secret).is_file()
        denied = run_as(accounts["a"], "cat", str(hub.ROOT / secret))
        assert denied.returncode != 0 and "Permission denied" in denied.stderr, secret


def test_the_users_environment_has_the_lesson_code_and_not_the_graders_private_folders(course_hub, accounts):
    python = str(Path(course_hub["singleuser"]).parent / "python")
    assert run_as(accounts["a"], python, "-c", "import lessonkit, autograder.checks, nbgrader").returncode == 0
    for private in autograder.PRIVATE:
        ran = run_as(accounts["a"], python, "-c", f"import autograder.{private}")
        assert "ModuleNotFoundError" in ran.stderr, (private, ran.stderr)


def test_no_user_reads_the_hubs_own_files(course_hub, servers, accounts):
    """Its settings hold the password and the API token, its database the users' tokens, its log every server's output."""
    private = Path(course_hub["private"])
    assert {p.name for p in private.iterdir()} >= {"settings.json", "jupyterhub.sqlite", "jupyterhub_cookie_secret"}
    for role in ("a", "instructor"):
        for path in (private, private / "settings.json", private / "jupyterhub.sqlite"):
            denied = run_as(accounts[role], "cat", str(path))
            assert denied.returncode != 0 and "Permission denied" in denied.stderr, (role, path)


def assignments(course_hub, servers, accounts, role, action=None):
    """The student's Assignment List (list of dict) after `action` (fetch, submit) on the lesson, through their server."""
    course = hub.course_id()
    base = f"/user/{accounts[role]}/assignments"
    if action:
        status, body = request(course_hub, f"{base}/{action}", servers[role],
                               data={"course_id": course, "assignment_id": LESSON}, method="FORM")
    else:
        status, body = request(course_hub, f"{base}?course_id={course}", servers[role])
    assert status == 200, body
    answer = json.loads(body)
    assert answer["success"], answer
    return answer["value"]


def test_a_student_fetches_the_released_lesson_from_the_assignment_list(course_hub, servers, accounts):
    listed = assignments(course_hub, servers, accounts, "a")
    assert [(a["assignment_id"], a["status"]) for a in listed] == [(LESSON, "released")]
    assignments(course_hub, servers, accounts, "a", "fetch")
    fetched = Path(pwd.getpwnam(accounts["a"]).pw_dir) / LESSON / "lesson.ipynb"
    assert fetched.stat().st_uid == pwd.getpwnam(accounts["a"]).pw_uid


def test_a_student_validates_the_fetched_lesson_in_their_server(course_hub, servers, accounts):
    """nbgrader's Validate runs the lesson in the users' environment: the shared lesson code imports,
    and the released stubs fail as they should."""
    status, body = request(course_hub, f"/user/{accounts['a']}/assignments/validate", servers["a"],
                           data={"path": f"{LESSON}/lesson.ipynb"}, method="FORM")
    assert status == 200, body
    answer = json.loads(body)
    assert answer["success"], answer["value"]
    assert answer["value"].get("failed") and "NotImplementedError" in body, answer["value"]
    assert "ModuleNotFoundError" not in body and "ImportError" not in body


def test_a_students_submission_lands_in_the_exchange_as_theirs_and_unlisted_by_others(course_hub, servers, accounts):
    listed = assignments(course_hub, servers, accounts, "a", "submit")
    assert any(a["assignment_id"] == LESSON and a["status"] == "submitted" for a in listed)
    inbound = Path(course_hub["state"]) / "exchange" / hub.course_id() / "inbound"
    submitted = [p for p in inbound.iterdir() if p.name.startswith(accounts["a"] + "+" + LESSON + "+")]
    assert len(submitted) == 1 and submitted[0].stat().st_uid == pwd.getpwnam(accounts["a"]).pw_uid
    listing = run_as(accounts["b"], "ls", str(inbound))
    assert listing.returncode != 0 and "Permission denied" in listing.stderr


def test_the_exchange_has_nbgraders_permissions_and_the_sticky_bit(course_hub, accounts):
    exchange = Path(course_hub["state"]) / "exchange"
    course = exchange / hub.course_id()
    modes = {p.name: p.stat().st_mode & 0o7777 for p in (exchange, course, course / "outbound", course / "inbound")}
    assert modes == {"exchange": 0o1777, hub.course_id(): 0o755, "outbound": 0o755, "inbound": 0o2733}
    moved = run_as(accounts["b"], "mv", str(course), str(exchange / "gone"))
    assert moved.returncode != 0 and course.is_dir()


def test_a_restarted_hub_keeps_the_instructors_work(course_hub, accounts):
    master = Path(pwd.getpwnam(accounts["instructor"]).pw_dir) / "solutions" / LESSON / "lesson.ipynb"
    edited = master.read_text().replace("Batch", "Edited batch", 1)
    master.write_text(edited)
    hub.prepare_instructor(accounts["instructor"], course_hub["config_path"]["instructor"], lessons=[])
    assert master.read_text() == edited


def page_config(course_hub, token, name):
    page = request(course_hub, f"/user/{name}/lab", token)[1]
    return json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S).group(1))


def test_students_have_the_assignment_list_and_no_instructor_tool(course_hub, servers, accounts):
    assert request(course_hub, f"/user/{accounts['a']}/formgrader/api/status", servers["a"])[0] == 404
    disabled = page_config(course_hub, servers["a"], accounts["a"])["disabledExtensions"]
    assert "@jupyter/nbgrader:formgrader" in disabled and "@jupyter/nbgrader:create-assignment" in disabled
    assert "@jupyter/nbgrader:assignment-list" not in disabled
    assert "@jupyter/nbgrader:menu" not in disabled  # the Assignment List's only way in (it shows no unregistered tool)


def test_the_instructors_server_has_formgrader_on_the_course(course_hub, servers, accounts):
    """Formgrader answers, and lists the course's lessons: it reads the course's nbgrader_config.py (solutions/ the source)."""
    status, body = request(course_hub, f"/user/{accounts['instructor']}/formgrader/api/status", servers["instructor"])
    assert (status, json.loads(body)) == (200, {"status": True})
    status, body = request(course_hub, f"/user/{accounts['instructor']}/formgrader/api/assignments", servers["instructor"])
    assert status == 200, body
    assert sorted(a["name"] for a in json.loads(body)) == sorted(p.name for p in (hub.ROOT / "solutions").iterdir() if p.is_dir())
    disabled = page_config(course_hub, servers["instructor"], accounts["instructor"]).get("disabledExtensions", [])
    assert "@jupyter/nbgrader:formgrader" not in disabled


def test_users_that_cannot_all_be_made_leave_none_behind():
    name = f"tdnt-h{secrets.token_hex(3)}"
    with pytest.raises(subprocess.CalledProcessError):
        hub.create_users([name, "not a user name!"])
    with pytest.raises(KeyError):
        pwd.getpwnam(name)
