"""Issue 26 in a real browser against the real hub: Debian's Chromium through Playwright on the session's hub
(tests/system/conftest.py: the hub and proxy on 127.0.0.1, system users made by the test).

Two students log in through the hub's login form, fetch lesson 02 from nbgrader's Assignment List, fill it in
(student a with the master's answers, student b with batch norm's statistics over the wrong axis: the answers are
written through the student's own server, as JupyterLab saves), Validate in the notebook and Submit from the
Assignment List; each fetches their own feedback, which the hub's grading service (autograder/hub_service/)
graded and released, opens it, and cannot open the other's server or home; the instructor sees both submissions
in Formgrader with the scores the service recorded, gives one of b's items a manual grade, generates and releases feedback there, and b's released page
shows it. One browser for the module, one context (cookie jar) per user; the tests run in file order. Each step
leaves a screenshot in build/hub-browser/. Skipped, saying why, where the hub cannot run (``hub.missing()``) or
Chromium is missing (``make system-packages`` installs it).
"""
import json
import os
import pwd
import re
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
def seen():
    """What the module's tests saw, for the next ones: by student, the Validate dialog's text ("validated"), the
    submission's timestamp as the Assignment List shows it ("submitted") and the total their feedback showed
    ("scores")."""
    return {"validated": {}, "submitted": {}, "scores": {}}


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


def validated(page, role):
    """The text of the Validate dialog the notebook shows (whitespace collapsed), once closed. Validate is pressed
    once more if its kernel lost jupyter_client's TCP port race (it picks free ports, then the kernel binds them:
    another process may take one in between), as a student would press it again."""
    dialog = page.locator(".jp-Dialog #validation-message")
    for attempt in range(2):
        if attempt:
            page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
        sync_api.expect(dialog).to_be_visible(timeout=VALIDATE_TIMEOUT)
        shot(page, f"{role}-03-validated")
        text = " ".join(dialog.inner_text().split())
        page.keyboard.press("Escape")
        sync_api.expect(dialog).to_have_count(0)
        if "Kernel died before replying to kernel_info" not in text:
            break
    return text


def test_two_students_fetch_fill_in_validate_and_submit(browser, course_hub, servers, accounts, hub_url, pages, seen):
    """Both students: log in, find the Assignment List alone in nbgrader's menu, Fetch there, fill in, Validate in
    the notebook (a passes; b's dialog names the two items the wrong axis breaks), Submit from the Assignment List."""
    for role in ("a", "b"):
        name = accounts[role]
        # test_hub.py may have fetched the lesson for them already in this session: a student who deleted their copy
        assert run_as(name, "rm", "-rf", LESSON).returncode == 0
        page = logged_in(browser, hub_url, name, course_hub["password"], role, pages)
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        sync_api.expect(page.locator(".lm-Menu-item:visible")).to_have_text(["Assignment List"])  # no other tool
        page.keyboard.press("Escape")
        assignment_list(page)
        released = page.locator("#released_assignments_list")
        sync_api.expect(released).to_contain_text(LESSON)
        released.get_by_role("button", name="Fetch").click()
        sync_api.expect(page.locator("#fetched_assignments_list")).to_contain_text(LESSON)
        shot(page, f"{role}-02-fetched")
        assert write_answers(page, name, ANSWERS[role]) == 200
        page.goto(f"{hub_url}/user/{name}/lab/tree/{LESSON}/lesson.ipynb")
        page.locator(".jp-NotebookPanel-toolbar .validate-button").click()  # both validate at once: 2 kernels
    dialogs = {role: validated(pages[role], role) for role in ("a", "b")}
    assert dialogs["a"] == "Success! Your notebook passes all the tests.", dialogs["a"]
    failed = re.findall(r'check\("(\w+)"', dialogs["b"])
    assert sorted(failed) == sorted(MISTAKE.lose), dialogs["b"]
    assert MISTAKE.lose[WRONG_ITEM] in dialogs["b"], dialogs["b"]
    seen["validated"] = dialogs
    for role in ("a", "b"):  # its figure came with the lesson: inside the folder nbgrader fetched into the home
        figure = pages[role].locator('.jp-Notebook img[alt^="Diagram of a network"]')
        sync_api.expect(figure).to_have_count(1)
        figure.scroll_into_view_if_needed()
        assert figure.evaluate("img => img.complete && img.naturalWidth") > 0, f"{role}: the lesson's figure did not load"

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
        seen["submitted"][role] = new[0].split(" (")[0]


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
        if link.count():
            return link
        if time.monotonic() > deadline:
            log = (hub.ROOT / "build" / "hub-test.log").read_text().splitlines()
            raise AssertionError(f"no feedback for the submission of {timestamp} in {FEEDBACK_SECONDS} s; the list: "
                                 f"{submission_rows(page)}; the service said: {[x for x in log if 'grading-on-submit]' in x]}")
        page.wait_for_timeout(1000)


def open_feedback(page, timestamp):
    """Open the fetched feedback of submission `timestamp` as a student does: its link in the Assignment List goes
    to its folder in the file browser, whose lesson.html opens in JupyterLab's HTML viewer; returns that frame."""
    fetch_feedback(page, timestamp).click()
    page.locator(".jp-DirListing-item", has_text="lesson.html").dblclick()
    viewer = page.locator(".jp-HTMLViewer:visible iframe")
    sync_api.expect(viewer).to_have_count(1)
    return page.frame_locator(".jp-HTMLViewer:visible iframe")


def close_tab(page, title):
    page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=title).locator(".lm-TabBar-tabCloseIcon").click()


def course_feedback(frame):
    """(total, max) and {grade_id: (lost points: bool, message)} of the page the grading released in `frame`: the
    whole page (an item's points and the grader's message) or, by the hub's default policy (grading_on_submit.toml),
    the visible cases' page (each item's visible verdict: "passed the visible cases; ..." or the check's message)."""
    body = frame.locator("body")
    sync_api.expect(body).to_contain_text(re.compile(r"[\d.]+ / [\d.]+ points"))
    total = re.search(r"([\d.]+) / ([\d.]+) points", body.inner_text())
    items = {}
    for row in frame.locator("tr", has=frame.locator("td")).all():
        grade_id, *points, message = [" ".join(c.inner_text().split()) for c in row.locator("td").all()]
        got = [float(x) for x in points[0].split()[:3:2]] if points else None
        items[grade_id] = (got[0] < got[1] if got else not message.startswith("passed the visible cases"), message)
    return (float(total.group(1)), float(total.group(2))), items


def test_each_student_fetches_and_opens_their_own_feedback(pages, seen):
    """a: every item passed and full marks; b: the items the wrong axis breaks lost, the forward item with the
    grader's message naming the mistake, the total without those items' points."""
    points = item_points()
    for role in ("a", "b"):
        page = assignment_list(pages[role])
        frame = open_feedback(page, seen["submitted"][role])
        (total, most), items = course_feedback(frame)
        shot(page, f"{role}-05-feedback")
        lost = {k for k, (lost, _) in items.items() if lost}
        assert set(items) == set(points) and lost == (set(MISTAKE.lose) if role == "b" else set()), items
        assert (total, most) == (sum(points.values()) - sum(points[k] for k in lost), sum(points.values()))
        seen["scores"][role] = total
        if role == "b":  # the check's own message, as Validate showed it in the notebook
            assert "off by" in items[WRONG_ITEM][1] and items[WRONG_ITEM][1] in seen["validated"]["b"], items
            assert "Likely mistake: " in items[WRONG_ITEM][1], items  # a visible case's misconception, named
        close_tab(page, "lesson.html")  # an open viewer would not show the page fetched again later
    assert seen["scores"]["b"] < seen["scores"]["a"]


def test_a_student_cannot_open_the_others_server_or_home(accounts, pages, hub_url):
    """In a's browser, b's server answers 403 (its lab, its files, its contents API); a's account cannot read b's home."""
    page, other = pages["a"], accounts["b"]
    for path in ("lab", f"files/{LESSON}/lesson.ipynb", f"api/contents/{LESSON}"):
        response = page.goto(f"{hub_url}/user/{other}/{path}")
        assert response.status == 403, (path, response.status)
    shot(page, "a-06-other-server-403")
    assert pages["a"].goto(f"{hub_url}/user/{accounts['a']}/api/contents/{LESSON}").status == 200  # a's own: open
    denied = run_as(accounts["a"], "cat", str(Path(pwd.getpwnam(other).pw_dir) / LESSON / "lesson.ipynb"))
    assert denied.returncode != 0 and "Permission denied" in denied.stderr


def formgrader_frame(page):
    """The Formgrader page's frame inside the instructor's JupyterLab, once it has loaded."""
    sync_api.expect(page.locator("#jp-main-dock-panel iframe:visible")).to_have_count(1)
    deadline = time.monotonic() + STEP_TIMEOUT / 1000
    while time.monotonic() < deadline:
        frame = next((f for f in page.frames if "/formgrader" in f.url), None)
        if frame is not None:
            return frame
        page.wait_for_timeout(250)
    raise AssertionError(f"no Formgrader frame among {[f.url for f in page.frames]}")


def row_of(frame, cell_class, text):
    """The table row whose `cell_class` cell reads exactly `text`."""
    return frame.locator("tr", has=frame.locator(f"td.{cell_class}", has_text=re.compile(f"^{re.escape(text)}$")))


def submission_scores(frame, accounts):
    """{role: (score, max)} of the lesson's submissions on Formgrader's Manage Submissions page."""
    scores = {}
    for role in ("a", "b"):
        cell = row_of(frame, "student-id", accounts[role]).locator("td.score")
        sync_api.expect(cell).to_have_text(re.compile(r"^[\d.]+ / [\d.]+$"))
        scores[role] = tuple(float(x) for x in cell.inner_text().split(" / "))
    return scores


def formgrader_action(frame, lesson_row, cell_class, message):
    """Click a lesson's Formgrader action (its icon in `cell_class`) and return the text of the modal it opens."""
    lesson_row.locator(f"td.{cell_class} a").click()
    modal = frame.locator(".modal.in .modal-content")
    sync_api.expect(modal).to_contain_text(message, timeout=VALIDATE_TIMEOUT)
    text = modal.inner_text()
    modal.get_by_role("button", name="OK").click()
    sync_api.expect(modal).to_have_count(0)
    return text


def test_the_instructor_grades_by_hand_in_formgrader_and_releases(browser, course_hub, accounts, hub_url, pages,
                                                                   seen):
    """Formgrader lists both submissions with the scores their feedback showed; a manual score for b's wrong item
    is saved from the grading page (the submissions' list shows the new total); Generate and Release Feedback
    succeed."""
    name = accounts["instructor"]
    page = logged_in(browser, hub_url, name, course_hub["password"], "instructor", pages)
    menu(page, "Nbgrader", "Formgrader")
    frame = formgrader_frame(page)
    lesson = row_of(frame, "name", LESSON)
    sync_api.expect(lesson.locator("td.num-submissions")).to_have_text("2")
    shot(page, "instructor-01-formgrader")
    lesson.locator("td.num-submissions a").click()
    most = sum(item_points().values())
    assert submission_scores(frame, accounts) == {role: (seen["scores"][role], most) for role in ("a", "b")}
    shot(page, "instructor-02-submissions")

    row_of(frame, "student-id", accounts["b"]).locator("td.student-name a").click()
    row_of(frame, "name", "lesson").locator("td.name a").click()
    score = frame.locator(f"input.score#{WRONG_ITEM}")
    sync_api.expect(score).to_have_attribute("placeholder", "0")  # the grader's score, shown until one is typed
    score.fill(str(MANUAL_SCORE))
    score.press("Tab")  # Formgrader saves a score on its change event
    shot(page, "instructor-03-manual-grade")
    frame.goto(f"{hub_url}/user/{name}/formgrader/manage_submissions/{LESSON}")
    assert submission_scores(frame, accounts)["b"] == (seen["scores"]["b"] + MANUAL_SCORE, most)

    frame.get_by_role("link", name="Manage Assignments").click()
    lesson = row_of(frame, "name", LESSON)
    generated = formgrader_action(frame, lesson, "generate-feedback", "Successfully generated feedback")
    released = formgrader_action(frame, lesson, "release-feedback", "Successfully released feedback")
    shot(page, "instructor-04-feedback-released")
    assert f"Successfully generated feedback of '{LESSON}'" in generated
    assert f"Successfully released feedback of '{LESSON}'" in released


def test_the_released_feedback_shows_the_manual_grade(accounts, pages, seen):
    """b fetches feedback again: the page Formgrader generated gives the wrong item the manual score and the
    lesson the new total."""
    page = assignment_list(pages["b"])
    frame = open_feedback(page, seen["submitted"]["b"])
    item = frame.locator("#toc li", has=frame.locator(f'a[href="#{WRONG_ITEM}"]'))
    sync_api.expect(item).to_be_visible()
    shot(page, "b-07-feedback-with-manual-grade")
    points = item_points()
    shown = lambda x: str(round(float(x), 2))  # noqa: E731  (nbgrader's template: `| float | round(2)`)
    assert f"(Score: {shown(MANUAL_SCORE)} / {shown(points[WRONG_ITEM])})" in " ".join(item.inner_text().split())
    total = f"(Score: {shown(seen['scores']['b'] + MANUAL_SCORE)} / {shown(sum(points.values()))})"
    assert total in " ".join(frame.locator(".panel-heading h4").first.inner_text().split())
