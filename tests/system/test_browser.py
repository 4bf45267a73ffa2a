"""A student's session in a real browser: Debian's Chromium, driven by Playwright, on
JupyterLab in student mode (``autograder/student/lab.py``) serving a copy of a released lesson.

The tests run in file order and share one server, one browser page and one notebook: open
the lesson, run all, answer wrongly, answer rightly, Validate, see a figure's alt text, read
the graded feedback of the very notebook the browser saved, which must pass axe-core (WCAG 2.1
AA, no serious or critical violation; axe-core comes from the npm registry into build/axe).
Each step leaves a screenshot in build/browser/. Chromium comes from `make system-packages`
(run by `make test`); without it the module is skipped.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from autograder import checks
from autograder.authoring.catalogue import reference_answers
from tests.support.lab import start_lab, stop
from tests.support.network import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "build" / "browser"
LESSON = "01_normalizing_inputs"
NOTEBOOK = f"notebooks/{LESSON}/lesson.ipynb"
TOKEN = "browser-test-token"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Wrong answers from the catalogue's classic mistakes, and the hint each must produce.
SAMPLE_VARIANCE = '''def compute_mean_variance(X):
    mu = X.mean(axis=1, keepdims=True)
    var = X.var(axis=1, ddof=1, keepdims=True)
    return mu, var
'''
BY_VARIANCE = '''def normalize_inputs(X, mu, var, eps=1e-8):
    return (X - mu) / (var + eps)
'''
STEP_TIMEOUT = 60_000  # ms; one step of a 2-core machine shared with others
#: axe-core (Deque's accessibility engine) from the npm registry, installed into build/axe by `axe_script`.
AXE_VERSION = "4.14.1"
AXE = ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
#: The rules axe-core checks: WCAG 2.0 and 2.1, levels A and AA, and its best practices.
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

sync_api = pytest.importorskip("playwright.sync_api")
sync_api.expect.set_options(timeout=STEP_TIMEOUT)
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is missing: `make system-packages` installs it as root "
                "(or `sudo apt-get install chromium`)", allow_module_level=True)


def cell_index(grade_id):
    """Position (int) of a cell in the released lesson, found by its nbgrader grade_id."""
    cells = json.loads((ROOT / NOTEBOOK).read_text())["cells"]
    return next(k for k, c in enumerate(cells) if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A student's course folder: one released lesson (its figures inside), plus instructor folders
    that student mode must keep out of sight."""
    course = tmp_path_factory.mktemp("browser") / "course"
    shutil.copytree(ROOT / "notebooks" / LESSON, course / "notebooks" / LESSON)  # with its figures/
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for instructor_only in ("solutions", "tests"):
        (course / instructor_only).mkdir()
        (course / instructor_only / "secret.txt").write_text("instructors only")
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return course


@pytest.fixture(scope="module")
def lab(course):
    """Base URL of a student-mode JupyterLab on `course`."""
    port = free_port()
    proc = start_lab(course, port, token=TOKEN)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(browser, lab):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(STEP_TIMEOUT)
    yield page
    page.close()


@pytest.fixture(scope="module")
def axe_script():
    """Path of axe-core's script, installed from the npm registry (npm's own client) on first use."""
    if not AXE.is_file() or json.loads((AXE.parent / "package.json").read_text())["version"] != AXE_VERSION:
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is missing, so axe-core cannot be installed (Debian: apt-get install npm)")
        subprocess.run([npm, "install", "--prefix", str(ROOT / "build" / "axe"), "--no-save", "--no-audit",
                        "--no-fund", f"axe-core@{AXE_VERSION}"], check=True, capture_output=True, timeout=300)
    return AXE


def serious_accessibility_violations(page, axe_script):
    """axe-core's serious and critical violations on the page, as "impact rule: help (elements)"."""
    page.add_script_tag(path=str(axe_script))
    violations = page.evaluate("rules => axe.run(document, {runOnly: rules}).then(r => r.violations)", AXE_RULES)
    return [f"{v['impact']} {v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})"
            for v in violations if v["impact"] in ("serious", "critical")]


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def cell(page, grade_id):
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(cell_index(grade_id))


def output_text(page, grade_id, containing):
    """The text of a cell's output area once it contains `containing` (waits for the kernel)."""
    out = cell(page, grade_id).locator(".jp-OutputArea")
    sync_api.expect(out).to_contain_text(containing)
    return out.inner_text()


def answer(page, grade_id, source):
    """Type `source` into an answer cell, as a student pasting it, and run that cell."""
    editor = cell(page, grade_id).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(source)
    page.keyboard.press("Control+Enter")


def run(page, grade_id):
    cell(page, grade_id).locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Enter")


def menu(page, title, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=title).click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def ui_texts(page):
    """Menu titles, side-bar tab titles and the root's file-browser names on the page."""
    page.locator(".jp-BreadCrumbs-home").click()
    sync_api.expect(page.locator(".jp-DirListing-itemText", has_text="notebooks")).to_be_visible()
    return {"menus": page.locator(".lm-MenuBar-itemLabel").all_inner_texts(),
            "sidebars": [t.get_attribute("title") or t.inner_text()
                         for t in page.locator(".jp-SideBar .lm-TabBar-tab").all()],
            "files": page.locator(".jp-DirListing-itemText").all_inner_texts()}


def test_a_released_lesson_opens_unmodified_with_no_instructor_tools(page, lab):
    page.goto(f"{lab}/lab/tree/{NOTEBOOK}?token={TOKEN}")
    # The status bar says so once the kernel is connected and its info (language_info) is in
    sync_api.expect(page.locator(".jp-StatusBar-Widget", has_text="Python 3 (ipykernel) | Idle")).to_be_visible()
    sync_api.expect(page.locator(".jp-NotebookPanel-toolbar .validate-button")).to_be_visible()
    page.wait_for_timeout(1000)
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text="lesson.ipynb")
    assert "jp-mod-dirty" not in tab.get_attribute("class"), "the notebook shows as modified on opening"
    figure = cell(page, "idea").locator("img")
    figure.scroll_into_view_if_needed()
    assert figure.evaluate("img => img.complete && img.naturalWidth") > 0, "the lesson's figure did not load"
    shot(page, "01_opened")
    ui = ui_texts(page)
    shot(page, "02_file_browser_root")
    assert "Nbgrader" not in ui["menus"]
    assert not any("Assignment" in t or "grader" in t.lower() for t in ui["sidebars"]), ui["sidebars"]
    assert "notebooks" in ui["files"] and not {"solutions", "tests"} & set(ui["files"]), ui["files"]
    assert "Error fetching courses" not in page.locator("body").inner_text()


def test_run_all_shows_the_unanswered_exercise(page):
    menu(page, "Run", "Run All Cells")
    text = output_text(page, "mean_variance_contract", "Check failed")
    cell(page, "mean_variance_contract").scroll_into_view_if_needed()
    shot(page, "03_run_all")
    assert "not implemented yet: the function still raises NotImplementedError" in text, text


def test_a_wrong_answer_gets_the_checks_whole_message(page):
    answer(page, "compute_mean_variance", SAMPLE_VARIANCE)
    run(page, "mean_variance_contract")
    run(page, "mean_variance_values")
    text = output_text(page, "mean_variance_values", "Check failed")
    out = cell(page, "mean_variance_values").locator(".jp-OutputArea-output").last
    out.scroll_into_view_if_needed()
    shot(page, "04_wrong_answer")
    words = " ".join(text.split())  # messages wrap at 90 columns
    assert "feature 0 is off by" in words and "Likely mistake: the sample variance 1/(m-1)" in words, text
    clipped = out.evaluate("e => [...e.querySelectorAll('*')].some(c => c.scrollWidth > c.clientWidth + 1)")
    assert not clipped, "part of the message is hidden off the right edge"
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text="lesson.ipynb")
    assert "jp-mod-dirty" in tab.get_attribute("class")  # edited: now it is modified


def test_the_right_answer_passes(page):
    answer(page, "compute_mean_variance", reference_answers(LESSON)["compute_mean_variance"])
    run(page, "mean_variance_contract")
    run(page, "mean_variance_values")
    for grade_id in ("mean_variance_contract", "mean_variance_values"):
        assert output_text(page, grade_id, "\u2713").startswith(f"\u2713 {grade_id}: all properties hold")
    cell(page, "mean_variance_values").scroll_into_view_if_needed()
    shot(page, "05_right_answer")


def test_validate_names_the_remaining_mistake(page, course):
    answers = {**reference_answers(LESSON), "normalize_inputs": BY_VARIANCE}
    for grade_id in ("normalize_inputs", "normalize_splits", "least_squares_hessian", "conditioning", "prediction_centering"):
        answer(page, grade_id, answers[grade_id])
    page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    sync_api.expect(dialog).to_be_visible(timeout=120_000)
    shot(page, "06_validate")
    text = dialog.inner_text()
    assert "Likely mistake: dividing by the variance" in " ".join(text.split()), text
    wide = max(len(line) for line in text.splitlines() if not line.startswith(('"""', "check(")))  # not the cell's source
    limit = checks.MESSAGE_COLUMNS + len("Check failed  ")  # the prefix the first line carries
    assert wide <= limit, f"a message line of {wide} characters: the dialog cuts it off"
    # normalize_splits calls the student's normalize_inputs, so it fails with it and says to fix that first
    assert checks.dependency_note("normalize_splits_train_stats", {"normalize_inputs_values"}) in " ".join(text.split())
    assert "mean_variance_" not in text and "NotImplementedError" not in text, text
    saved = json.loads((course / NOTEBOOK).read_text())["cells"]  # Validate saved the notebook first
    for grade_id, source in answers.items():
        assert "".join(saved[cell_index(grade_id)]["source"]).strip() == source.strip(), grade_id
    page.keyboard.press("Escape")


def test_a_figure_shows_with_its_alt_text(page):
    """An experiment's figure is an image whose alt text says what it shows (JupyterLab renders
    lessonkit's <img> output; a plain PNG output would have none)."""
    run(page, "exp_figure")
    image = cell(page, "exp_figure").locator(".jp-OutputArea img")
    sync_api.expect(image).to_have_count(1)
    image.scroll_into_view_if_needed()
    shot(page, "07_figure_with_alt_text")
    alt = image.get_attribute("alt")
    assert "raw features: a long, narrow valley" in alt and "against w_1 (weight of mean texture)" in alt, alt
    assert image.evaluate("img => img.complete && img.naturalWidth") > 0, "the figure did not load"


def test_the_graded_feedback_of_the_saved_notebook(page, course, tmp_path, axe_script):
    from autograder.grading.grade import grade_class
    from autograder.outputs.report import write_all
    submission = tmp_path / "class" / "student-in-browser" / LESSON
    submission.mkdir(parents=True)
    shutil.copy(course / NOTEBOOK, submission / "lesson.ipynb")
    results, _ = grade_class(tmp_path / "class")
    write_all(results, [], tmp_path / "grades")
    page.goto((tmp_path / "grades" / "feedback" / "student-in-browser" / f"{LESSON}.html").as_uri())
    shot(page, "08_feedback")
    text = page.locator("body").inner_text()
    lost = [i.grade_id for i in results[0].items if i.points < i.max_points]
    assert lost == ["normalize_inputs_values", "normalize_splits_train_stats"], lost
    assert f"{LESSON}: {results[0].score:g} / {results[0].max_score:g} points" in text
    assert "Likely mistake: dividing by the variance" in text, text
    assert serious_accessibility_violations(page, axe_script) == []


def test_every_part_of_a_feedback_page_passes_axe_core(browser, axe_script, tmp_path):
    """A page with every part a feedback page can have (late penalty, notes about the submission,
    passed and failed items, hints) has no serious or critical WCAG 2.1 AA violation; the same
    check finds the violations of a page without a language, so it can fail."""
    from autograder.grading.results import ItemResult, SubmissionResult
    from autograder.outputs.report import write_feedback
    result = SubmissionResult("student <one>", LESSON, problems=["the notebook was renamed"], penalty=1.0,
                              seconds_late=4000, items=[
                                  ItemResult("mean_variance_values", 0.0, 3.0, "case: off by 0.3\n  Note: ...",
                                             "the sample variance 1/(m-1)"),
                                  ItemResult("mean_variance_contract", 2.0, 2.0, "correct: all properties hold")])
    write_feedback(result, tmp_path / "feedback.html")
    page = browser.new_page()
    try:
        page.goto((tmp_path / "feedback.html").as_uri())
        assert serious_accessibility_violations(page, axe_script) == []
        page.set_content("<html><body><p>no language</p></body></html>")
        assert any("html-has-lang" in v for v in serious_accessibility_violations(page, axe_script))
    finally:
        page.close()


def test_instructor_mode_keeps_the_tools(browser, course):
    """The same checks in instructor mode find what student mode hides (so they can fail)."""
    port = free_port()
    proc = start_lab(course, port, instructor=True, token=TOKEN)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(STEP_TIMEOUT)
        page.goto(f"http://127.0.0.1:{port}/lab?token={TOKEN}")
        sync_api.expect(page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")).to_be_visible()
        ui = ui_texts(page)
        shot(page, "09_instructor_mode")
        page.close()
    finally:
        stop(proc)
    assert {"solutions", "tests"} <= set(ui["files"]), ui["files"]
    assert any("Create Assignment" in t for t in ui["sidebars"]), ui["sidebars"]
