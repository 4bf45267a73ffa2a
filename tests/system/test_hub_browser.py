"""Issue 26 in a real browser against the real hub: Debian's Chromium through Playwright on the session's hub
(tests/system/conftest.py: the hub and proxy on 127.0.0.1, system users made by the test).

Two students log in through the hub's login form, fetch lesson 02 from nbgrader's Assignment List, fill it in
(student a with the master's answers, student b with batch norm's statistics over the wrong axis), Validate in
the notebook and Submit from the Assignment List; each fetches their own feedback and opens it, and cannot open
the other's server or home; the instructor sees both submissions in Formgrader with the scores the grading
recorded, gives one of b's items a manual grade, generates and releases feedback there, and b's released page
shows it. One browser for the module, one context (cookie jar) per user; the tests run in file order. Each step
leaves a screenshot in build/hub-browser/. Skipped, saying why, where the hub cannot run (``hub.missing()``) or
Chromium is missing (``make system-packages`` installs it).
"""
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder.authoring import hub
from autograder.authoring.catalogue import batch_norm, reference_answers
from tests.support.hub import run_as
from tests.system.conftest import LESSON

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SHOTS = hub.ROOT / "build" / "hub-browser"
STEP_TIMEOUT = 60_000  # ms; one step on a 2-core machine shared with others
VALIDATE_TIMEOUT = 180_000  # ms; Validate runs the whole lesson, experiments included, in the student's kernel
FEEDBACK_SECONDS = 90  # from Submit to feedback the Assignment List can fetch
#: Student b's real mistake: batch norm's statistics over the examples' axis (the catalogue's verdicts for it)
MISTAKE = next(v for v in batch_norm.VARIANTS if v.name == "wrong-axis")
WRONG_ITEM = "bn_forward_normalizes"
MANUAL_SCORE = 1.5  # what the instructor gives b's WRONG_ITEM in Formgrader

sync_api = pytest.importorskip("playwright.sync_api")
sync_api.expect.set_options(timeout=STEP_TIMEOUT)
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is missing: `make system-packages` installs it as root", allow_module_level=True)


def item_points():
    """{grade_id: points} of the lesson's graded items, from its master."""
    cells = json.loads((hub.ROOT / "solutions" / LESSON / "lesson.ipynb").read_text())["cells"]
    return {m["grade_id"]: float(m["points"]) for m in (c["metadata"].get("nbgrader", {}) for c in cells) if m.get("grade")}


ANSWERS = {"a": reference_answers(LESSON), "b": {**reference_answers(LESSON), **MISTAKE.answers}}


@pytest.fixture(scope="module")
def browser():
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def hub_url(course_hub):
    return f"http://127.0.0.1:{course_hub['port']}"


@pytest.fixture(scope="module")
def pages(browser, course_hub, servers, hub_url):
    """Each role's page (opened by `logged_in`), kept across the module's tests."""
    opened = {}
    yield opened
    for page in opened.values():
        page.context.close()


@pytest.fixture(scope="module")
def submitted():
    """Each student's submission timestamp as the Assignment List shows it, once submitted."""
    return {}


@pytest.fixture(scope="module")
def feedback_scores():
    """Each student's lesson total (float) as their feedback page shows it."""
    return {}


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def logged_in(browser, hub_url, name, password, role, pages):
    """A fresh browser context for `name`, logged in through the hub's login form; its page lands in JupyterLab."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = pages[role] = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT)
    page.goto(f"{hub_url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    shot(page, f"{role}-01-login")
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{name}/lab**")
    sync_api.expect(page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")).to_be_visible()
    return page


def menu(page, title, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=title).click()
    page.locator(".lm-Menu-itemLabel:visible", has_text=item).first.click()


def assignment_list(page):
    """Open (or bring forward) nbgrader's Assignment List and wait for it to have loaded the course."""
    menu(page, "Nbgrader", "Assignment List")
    sync_api.expect(page.locator("#released_assignments_list")).to_be_visible()
    sync_api.expect(page.locator("#released_assignments_list_loading")).to_be_hidden()
    return page


def submission_rows(page):
    """Texts (list of str) of the rows under the lesson in the Assignment List's submitted list."""
    return [t.strip() for t in page.locator("#submitted_assignments_list .list_item .col-sm-6").all_inner_texts()
            if t.strip()[:4].isdigit()]


def write_answers(page, name, answers):
    """Write `answers` ({grade_id: source}) into the fetched lesson's answer cells through the student's own
    server (the contents API with the page's _xsrf cookie, as JupyterLab itself saves); returns the PUT's status."""
    return page.evaluate("""async ([base, answers]) => {
        const xsrf = decodeURIComponent((document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "");
        const url = base + "/api/contents/" + encodeURIComponent(answers.path).replaceAll("%2F", "/");
        const headers = {"Content-Type": "application/json", "X-XSRFToken": xsrf};
        const got = await fetch(url + "?content=1", {headers});
        if (!got.ok) return "GET " + got.status + " " + await got.text();
        const model = await got.json();
        for (const cell of model.content.cells) {
            const id = ((cell.metadata || {}).nbgrader || {}).grade_id;
            if (id in answers.cells) cell.source = answers.cells[id];
        }
        const put = await fetch(url, {method: "PUT", headers,
                                      body: JSON.stringify({type: "notebook", format: "json", content: model.content})});
        return put.status;
    }""", [f"/user/{name}", {"path": f"{LESSON}/lesson.ipynb", "cells": answers}])


def test_two_students_fetch_fill_in_validate_and_submit(browser, course_hub, servers, accounts, hub_url, pages, submitted):
    """Both students: log in, Fetch from the Assignment List, fill in, Validate in the notebook (a passes; b's
    dialog names the two items the wrong axis breaks), Submit from the Assignment List."""
    for role in ("a", "b"):
        name = accounts[role]
        # test_hub.py may have fetched the lesson for them already in this session: a student who deleted their copy
        assert run_as(name, "rm", "-rf", LESSON).returncode == 0
        page = assignment_list(logged_in(browser, hub_url, name, course_hub["password"], role, pages))
        released = page.locator("#released_assignments_list")
        sync_api.expect(released).to_contain_text(LESSON)
        released.get_by_role("button", name="Fetch").click()
        sync_api.expect(page.locator("#fetched_assignments_list")).to_contain_text(LESSON)
        shot(page, f"{role}-02-fetched")
        assert write_answers(page, name, ANSWERS[role]) == 200
        page.goto(f"{hub_url}/user/{name}/lab/tree/{LESSON}/lesson.ipynb")
        page.locator(".jp-NotebookPanel-toolbar .validate-button").click()  # both validate at once: 2 kernels
    dialogs = {}
    for role in ("a", "b"):
        page = pages[role]
        dialog = page.locator(".jp-Dialog #validation-message")
        sync_api.expect(dialog).to_be_visible(timeout=VALIDATE_TIMEOUT)
        shot(page, f"{role}-03-validated")
        dialogs[role] = " ".join(dialog.inner_text().split())
        page.keyboard.press("Escape")
    assert dialogs["a"] == "Success! Your notebook passes all the tests.", dialogs["a"]
    failed = re.findall(r'check\("(\w+)"', dialogs["b"])
    assert sorted(failed) == sorted(MISTAKE.lose), dialogs["b"]
    assert MISTAKE.lose[WRONG_ITEM] in dialogs["b"], dialogs["b"]

    for role in ("a", "b"):
        page = assignment_list(pages[role])
        before = submission_rows(page)
        page.locator("#fetched_assignments_list").get_by_role("button", name="Submit").click()
        deadline = time.monotonic() + STEP_TIMEOUT / 1000
        while len(submission_rows(page)) <= len(before) and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        new = [row for row in submission_rows(page) if row not in before]
        shot(page, f"{role}-04-submitted")
        assert len(new) == 1, (before, submission_rows(page))
        submitted[role] = new[0].split(" (")[0]


def grade_by_hand(course_hub, accounts):
    """What the grading service will do on each submission, done once for the class by hand (until it is merged):
    the instructor collects, the course's grader records into the instructor's gradebook, the instructor releases."""
    name = accounts["instructor"]
    home = Path(pwd.getpwnam(name).pw_dir)
    config = course_hub["config_path"]["instructor"]
    nbgrader = str(hub.USERS_ENV / "bin" / "nbgrader")
    hub.as_user(name, [nbgrader, "collect", LESSON, "--update"], home, config)
    out = Path(tempfile.mkdtemp(prefix="hub-browser-grades-", dir=hub.ROOT / "build"))
    try:
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        graded = subprocess.run([sys.executable, "-m", "autograder", "grade", str(home / "build" / "submitted"), "-q",
                                 "--out", str(out), "--db", f"sqlite:///{home / 'build' / 'gradebook.db'}"],
                                cwd=hub.ROOT, env=env, capture_output=True, text=True)
        assert graded.returncode in (0, 3), graded.stdout + graded.stderr
        for folder in ("autograded", "feedback"):
            shutil.copytree(out / "nbgrader" / folder, home / "build" / folder, dirs_exist_ok=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    subprocess.run(["chown", "-R", f"{name}:{name}", str(home / "build")], check=True)
    hub.as_user(name, [nbgrader, "release_feedback", LESSON], home, config)


def submission_row(page, timestamp):
    return page.locator("#submitted_assignments_list .list_item .col-sm-6", has_text=timestamp)


def fetch_feedback(page, timestamp):
    """Press Fetch Feedback until the submission of `timestamp` offers its feedback (its link returned)."""
    row = submission_row(page, timestamp)
    deadline = time.monotonic() + FEEDBACK_SECONDS
    while True:
        button = page.locator("#submitted_assignments_list").get_by_role("button", name="Fetch Feedback")
        button.click()
        sync_api.expect(button).to_be_enabled()  # disabled while fetching, re-rendered after
        link = row.get_by_text("(view feedback)")
        if link.count() or time.monotonic() > deadline:
            return link
        page.wait_for_timeout(1000)


def open_feedback(page, timestamp):
    """Open the fetched feedback of submission `timestamp` as a student does: its link in the Assignment List goes
    to its folder in the file browser, whose lesson.html opens in JupyterLab's HTML viewer; returns that frame."""
    link = fetch_feedback(page, timestamp)
    sync_api.expect(link).to_be_visible()
    link.click()
    page.locator(".jp-DirListing-item", has_text="lesson.html").dblclick()
    viewer = page.locator(".jp-HTMLViewer:visible iframe")
    sync_api.expect(viewer).to_have_count(1)
    return page.frame_locator(".jp-HTMLViewer:visible iframe")


def course_feedback(frame):
    """(total, max) and {grade_id: (points, max points, message)} of the course's feedback page in `frame`."""
    heading = frame.locator("h1")
    sync_api.expect(heading).to_contain_text("points")
    total = re.search(r": ([\d.]+) / ([\d.]+) points", heading.inner_text())
    items = {}
    for row in frame.locator("tr.ok, tr.bad").all():
        grade_id, points, message = [c.inner_text() for c in row.locator("td").all()]
        got = re.match(r"([\d.]+) / ([\d.]+)", points)
        items[grade_id] = (float(got.group(1)), float(got.group(2)), " ".join(message.split()))
    return (float(total.group(1)), float(total.group(2))), items


def test_each_student_fetches_and_opens_their_own_feedback(course_hub, accounts, pages, submitted, feedback_scores):
    """a: every item at full marks; b: the items the wrong axis breaks at 0, the forward item with the grader's
    message naming the mistake, the rest at full marks."""
    points = item_points()
    grade_by_hand(course_hub, accounts)  # until the grading service is merged
    for role in ("a", "b"):
        page = assignment_list(pages[role])
        frame = open_feedback(page, submitted[role])
        (total, most), items = course_feedback(frame)
        shot(page, f"{role}-05-feedback")
        assert {k: v[:2] for k, v in items.items()} == {
            k: (0.0 if role == "b" and k in MISTAKE.lose else p, p) for k, p in points.items()}, items
        assert (total, most) == (sum(v[0] for v in items.values()), sum(points.values()))
        feedback_scores[role] = total
    b_items = dict(course_feedback(pages["b"].frame_locator(".jp-HTMLViewer:visible iframe"))[1])
    assert MISTAKE.lose[WRONG_ITEM] in b_items[WRONG_ITEM][2], b_items[WRONG_ITEM]
    assert feedback_scores["b"] < feedback_scores["a"]


def test_a_student_cannot_open_the_others_server_or_home(course_hub, accounts, pages, hub_url, submitted):
    """In a's browser, b's server answers 403 (its lab, its files, its contents API); a's account cannot read b's home."""
    page, other = pages["a"], accounts["b"]
    for path in ("lab", f"files/{LESSON}/lesson.ipynb", f"api/contents/{LESSON}"):
        response = page.goto(f"{hub_url}/user/{other}/{path}")
        assert response.status == 403, (path, response.status)
    shot(page, "a-06-other-server-403")
    assert pages["a"].goto(f"{hub_url}/user/{accounts['a']}/api/contents/{LESSON}").status == 200  # a's own: open
    denied = run_as(accounts["a"], "cat", str(Path(pwd.getpwnam(other).pw_dir) / LESSON / "lesson.ipynb"))
    assert denied.returncode != 0 and "Permission denied" in denied.stderr
