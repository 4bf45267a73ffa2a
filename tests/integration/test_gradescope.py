"""The Gradescope autograder, run as Gradescope runs it: the zip `make gradescope` builds is
unpacked into a simulated root (source/, submission/, results/) and its own run_autograder
grades a correct, a mistaken, a hostile, another lesson's and broken submissions, with the
project's .venv standing in for the environment setup.sh installs. That environment itself is
installed once, by the zip's setup.sh (its pip step, from PyPI, in the background while the
other tests run; no apt step where python3.11 is at hand), and grades a submission last."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from autograder.authoring.catalogue import build
from autograder.authoring.catalogue import normalizing_inputs as other_lesson
from autograder.authoring.catalogue.batch_norm import LESSON, VARIANTS, forward_with
from autograder.grading.grade import load_master
from autograder.lms import gradescope
from autograder.worker.course import ROOT, lessons

TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
             "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_FIELDS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
               "visibility", "extra_data"}
INSIDE = ["setup.sh", "run_autograder", "autograder/grading/grade.py", "autograder/judge/__init__.py",
          "autograder/judge/batch_norm.py", "autograder/judge/reference.py", "autograder/checks/batch_norm.py",
          f"solutions/{LESSON}/lesson.ipynb", "lessonkit/__init__.py", "pyproject.toml", "requirements.lock",
          "gradescope.json"]


def variant(name):
    return next(v for v in VARIANTS if v.name == name)


def notebook(name, **changes):
    return build(LESSON, replace(variant(name), **changes))


#: A course's nbgrader_config.py may hold what must never reach Gradescope (see test_zip_leaves_out_the_nbgrader_config).
SECRETS = ['c.CourseDirectory.db_url = "postgresql://grader:zip-7f3a9-pw@db.example.edu/course"',
           'c.Exchange.root = "/srv/nbgrader/private-exchange"',
           'c.AssignLatePenalties.plugin_class = "course_plugins.HalfOffAfterAWeek"']


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    """{name: path of the zip}, all for LESSON: the default visibilities ("default"), and hidden
    cases shown after publication ("published")."""
    out = tmp_path_factory.mktemp("gradescope")
    return {"default": gradescope.build(out / "one", LESSON)[0],
            "published": gradescope.build(out / "published", LESSON, hidden_cases="after_published")[0]}


def unpack(archive, dest):
    """Unzip as Gradescope does, execute bits included (zipfile alone drops them)."""
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            z.extract(info, dest)
            mode = info.external_attr >> 16
            if mode:
                os.chmod(dest / info.filename, mode & 0o777)


def run_autograder(archive, tmp_path, files, python=sys.executable, damage=None, links=None, prefix=(), root=None):
    """Lay out a Gradescope root (or use `root`, whose source/ is unpacked already), run the
    zip's run_autograder on `files` and `links` (name -> target relative to the root's source/:
    symbolic links in the submission) with `python` (None: the root's venv/, as on Gradescope),
    run after the command `prefix`; returns (results, stdout)."""
    if root is None:
        root = tmp_path / "autograder"
        (root / "source").mkdir(parents=True)
        unpack(archive, root / "source")
    for folder in ("submission", "results"):
        (root / folder).mkdir(parents=True)
    for name, data in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    for name, target in (links or {}).items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).symlink_to(root / "source" / target)
    if damage:
        damage(root / "source")
    env = {k: v for k, v in os.environ.items() if k != "GRADESCOPE_PYTHON"} | {"GRADESCOPE_ROOT": str(root)}
    if python:
        env["GRADESCOPE_PYTHON"] = str(python)
    done = subprocess.run([*prefix, str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    check_schema(results)
    return results, done.stdout


@pytest.fixture(scope="module")
def image(zips, tmp_path_factory):
    """A Gradescope root as Gradescope builds the autograder's image: the zip unpacked into
    source/ and its setup.sh run, as root, outside this project's .venv; (root, the running
    setup.sh, its log). Started by test_zip_layout, the first test, so that its ~1.5 min of
    pip overlap the tests that follow; test_setup_installs_what_the_zip_ships, the last, waits."""
    root = tmp_path_factory.mktemp("image") / "autograder"
    (root / "source").mkdir(parents=True)
    unpack(zips["default"], root / "source")
    venv_bin = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    log = root.parent / "setup.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(["bash", str(root / "source" / "setup.sh")], cwd=root,
                                env=dict(env, PATH=path, GRADESCOPE_ROOT=str(root)), stdout=out, stderr=subprocess.STDOUT)
    yield root, proc, log
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def check_schema(results):
    """The fields and types of Gradescope's results.json specification."""
    assert set(results) <= TOP_LEVEL, set(results) - TOP_LEVEL
    assert isinstance(results["score"], (int, float)) and isinstance(results["output"], str)
    assert results["visibility"] in gradescope.VISIBILITIES
    assert results["stdout_visibility"] in gradescope.VISIBILITIES
    for test in results["tests"]:
        assert set(test) <= TEST_FIELDS, set(test) - TEST_FIELDS
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in gradescope.VISIBILITIES
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


def by_item(results):
    return {t["name"].split(":")[0]: t for t in results["tests"]}


def items():
    return dict(load_master(LESSON).items)


def test_zip_layout(zips, image):
    with zipfile.ZipFile(zips["default"]) as z:
        names = set(z.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        settings = json.loads(z.read("gradescope.json"))
        setup = z.read("setup.sh").decode()
    assert set(INSIDE) <= names, set(INSIDE) - names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert settings["lesson"] == LESSON and settings["hidden_cases"] == "after_due_date"
    # one lesson's master: a student's code in a weakly isolated container reads no other lesson's solutions
    assert {n.split("/")[1] for n in names if n.startswith("solutions/")} == {LESSON}
    assert set(settings["lesson_ids"]) == set(lessons()) and set(items()) <= set(settings["lesson_ids"][LESSON])
    assert "requirements.lock" in setup and "-e" in setup and "rfc3987-syntax" in setup and "python3.11" in setup


def test_zip_leaves_out_the_nbgrader_config(tmp_path, monkeypatch):
    """Grading reads nothing of nbgrader_config.py, which may hold a database password, an
    exchange path or a course's plugins: built from a course whose config holds all three, the
    zip holds no nbgrader_config.py and none of those lines anywhere."""
    course = tmp_path / "course"
    for rel in [*gradescope.COURSE_FILES, f"solutions/{LESSON}"]:
        if (ROOT / rel).is_dir():
            shutil.copytree(ROOT / rel, course / rel, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / rel, course / rel)
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + "\n".join(SECRETS) + "\n")
    monkeypatch.setattr(gradescope, "ROOT", course)
    with zipfile.ZipFile(gradescope.build(tmp_path / "out", LESSON)[0]) as z:
        names, data = z.namelist(), b"".join(z.read(n) for n in z.namelist())
    assert f"solutions/{LESSON}/lesson.ipynb" in names  # built from `course`
    assert not [n for n in names if n.endswith("nbgrader_config.py")]
    for secret in (b"zip-7f3a9-pw", b"private-exchange", b"HalfOffAfterAWeek"):
        assert secret not in data


def test_without_a_lesson_one_zip_per_lesson(tmp_path):
    """A Gradescope assignment is one lesson: `make gradescope` without LESSON writes a zip per
    lesson, each holding that lesson's master and grading as that lesson."""
    archives = gradescope.build(tmp_path)
    assert archives == [tmp_path / lesson / "autograder.zip" for lesson in lessons()]
    for lesson, archive in zip(lessons(), archives):
        with zipfile.ZipFile(archive) as z:
            assert json.loads(z.read("gradescope.json"))["lesson"] == lesson
            assert {n.split("/")[1] for n in z.namelist() if n.startswith("solutions/")} == {lesson}


def test_scripts_are_valid_bash(zips, tmp_path):
    unpack(zips["default"], tmp_path)
    for script in ("setup.sh", "run_autograder"):
        done = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_correct_submission_gets_full_marks(zips, tmp_path):
    results, stdout = run_autograder(zips["default"], tmp_path, {"lesson.ipynb": notebook("correct")})
    assert f"course at {tmp_path / 'autograder' / 'source'}" in stdout  # the zip's grader, not the checkout's
    tests = by_item(results)
    assert {gid: t["max_score"] for gid, t in tests.items()} == items()
    assert results["score"] == sum(items().values())
    assert all(t["visibility"] == "visible" for t in tests.values())
    titles = gradescope.item_titles(LESSON)
    assert all(titles[gid] and t["name"] == f"{gid}: {titles[gid]}" for gid, t in tests.items())
    # the total is shown when a hidden case's failure would be, even with none failed (else it would tell)
    assert results["visibility"] == "after_due_date"
    assert results["output"] == (f"Lesson {LESSON}: your score is shown after the due date.\n\nEvery item is also "
                                 "graded on hidden cases (other shapes and edge cases); an item that fails one is "
                                 "shown after the due date.")


def test_mistaken_submission_loses_the_right_items(zips, tmp_path):
    """A classic mistake caught on a visible case, and one only a hidden case reveals. With hidden
    cases shown after publication, what students see at once (the top-level output, and the
    score's visibility) is what a correct submission gets: no score, no word of the failure,
    and the setting named as it is."""
    mistaken = variant("biased-running-var")
    # right on batches of up to 12 examples (every visible case has fewer), the input itself beyond them
    hidden_only = forward_with("Z_tilde = gamma * Z_norm + beta if Z.shape[1] <= 12 else Z")
    results, _ = run_autograder(zips["published"], tmp_path, {"lesson.ipynb": notebook(
        mistaken.name, answers={**mistaken.answers, "batchnorm_forward": hidden_only})})
    tests = by_item(results)
    lost = {gid for gid, t in tests.items() if t["score"] < t["max_score"]}
    assert lost == set(mistaken.lose) | {"bn_forward_normalizes"}
    for gid, fragment in mistaken.lose.items():
        assert fragment in tests[gid]["output"] and tests[gid]["visibility"] == "visible"
    assert tests["bn_forward_normalizes"]["output"].startswith("hidden case")
    assert tests["bn_forward_normalizes"]["visibility"] == "after_published"
    assert results["score"] == sum(items().values()) - sum(items()[gid] for gid in lost)
    assert results["visibility"] == "after_published"
    assert results["output"] == (f"Lesson {LESSON}: your score is shown once the grades are published.\n\nEvery item "
                                 "is also graded on hidden cases (other shapes and edge cases); an item that fails "
                                 "one is shown once the grades are published.")


def test_hostile_submission_scores_nothing_for_reading_the_master(zips, tmp_path):
    master = tmp_path / "autograder" / "source" / "solutions" / LESSON / "lesson.ipynb"
    reader = f'''def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    text = open({str(master)!r}).read()
    return text, None
'''
    results, _ = run_autograder(zips["default"], tmp_path, {"lesson.ipynb": notebook(
        "correct", answers={"batchnorm_forward": reader})})
    tests = by_item(results)
    needs_forward = {"bn_forward_contract", "bn_forward_normalizes", "bn_backward_contract", "bn_backward_gradient"}
    assert {gid for gid, t in tests.items() if t["score"] == 0} == needs_forward
    assert all(tests[gid]["score"] == tests[gid]["max_score"] for gid in set(tests) - needs_forward)
    assert "not run by the grader" in results["output"] and "open" in results["output"]
    assert "BEGIN SOLUTION" not in json.dumps(results)


@pytest.mark.parametrize("files, says, graded", [
    ({"lesson (1).ipynb": notebook("renamed-notebook")}, "renamed", True),
    ({"lesson.ipynb": notebook("corrupt-notebook")}, "not valid JSON", False),
    ({"answers.py": b"def batchnorm_forward(): pass\n"}, "no notebook found", False),
    ({"a.ipynb": notebook("correct"), "b.ipynb": notebook("correct")}, "2 notebooks and none called lesson.ipynb",
     False),
    ({"lesson.ipynb": notebook("correct"), "old/scratch.ipynb": notebook("corrupt-notebook")},
     "ignored old/scratch.ipynb (not a notebook of this lesson)", True),
    ({"lesson.ipynb": build(other_lesson.LESSON, other_lesson.VARIANTS[0])},
     f"this assignment grades lesson {LESSON}, and your submission holds only another lesson's notebook: "
     f"lesson.ipynb (a notebook of lesson {other_lesson.LESSON})", False),
    ({"lesson.ipynb": build(other_lesson.LESSON, other_lesson.VARIANTS[0]), "mine/bn.ipynb": notebook("correct")},
     f"graded the notebook of lesson {LESSON}; ignored lesson.ipynb (a notebook of lesson {other_lesson.LESSON})",
     True),
], ids=["renamed", "corrupt", "no-notebook", "two-notebooks", "lesson-and-another", "another-lesson",
        "another-lesson-and-this-one"])
def test_broken_submission_says_so(zips, tmp_path, files, says, graded):
    results, _ = run_autograder(zips["default"], tmp_path, files)
    assert says in results["output"]
    assert {t["name"].split(":")[0] for t in results["tests"]} == set(items())  # every item listed
    assert results["score"] == (sum(items().values()) if graded else 0)


@pytest.mark.parametrize("links", [
    {"lesson.ipynb": f"solutions/{LESSON}/lesson.ipynb"},
    {"work": f"solutions/{LESSON}"},
    {"repo/solutions": "solutions"},
], ids=["linked-notebook", "linked-lesson-folder", "linked-course-folder"])
def test_linked_submission_scores_nothing(zips, tmp_path, links):
    """A submission made from a repository keeps its symbolic links: one to the master (the zip
    holds it) must read nothing through it."""
    results, _ = run_autograder(zips["default"], tmp_path, {}, links=links)
    assert results["score"] == 0, results["output"]
    assert "symbolic link" in results["output"] and "BEGIN SOLUTION" not in json.dumps(results)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux's unshare")
def test_refused_namespaces_still_grade_and_say_so(zips, tmp_path):
    """In a container that refuses the namespaces (here: a user namespace that may create no
    other), the runner accepts the weaker isolation, as `grade` does only when asked, and says so."""
    refuse = ["unshare", "--user", "--map-root-user", "sh", "-c",
              'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0"']
    results, stdout = run_autograder(zips["default"], tmp_path, {"lesson.ipynb": notebook("correct")}, prefix=refuse)
    assert results["score"] == sum(items().values())
    assert "isolation: process only" in stdout and "weaker than namespaces, accepted" in stdout


def test_upload_nested_thousands_deep_with_many_links_is_read_without_recursion(tmp_path, deep_chain):
    """The upload is walked with a stack (Python 3.11's os.walk and rglob recurse) and says in a
    few lines what it did not read; the notebook at the top is still found."""
    (tmp_path / "lesson.ipynb").write_bytes(notebook("correct"))
    deep_chain(tmp_path, name="d")  # deeper than the recursion limit, and than PATH_MAX allows a path
    for k in range(50):
        (tmp_path / f"link{k}.ipynb").symlink_to(tmp_path / "lesson.ipynb")
    notebooks, refused = gradescope.submitted_notebooks(tmp_path)
    assert list(notebooks) == [Path("lesson.ipynb")]
    assert len(refused) == gradescope.MAX_NOTES + 1 and "symbolic link" in refused[0]
    assert all(len(line) < 200 for line in refused)


def test_grader_crash_still_writes_results(zips, tmp_path):
    def remove_judge(source):
        (source / "autograder" / "judge" / "batch_norm.py").unlink()
    results, stdout = run_autograder(zips["default"], tmp_path, {"lesson.ipynb": notebook("correct")},
                                     damage=remove_judge)
    assert results["score"] == 0 and "contact your instructor" in results["output"]
    assert "Traceback" in stdout  # for the instructor, in Gradescope's stdout


def test_missing_python_still_writes_results(zips, tmp_path):
    results, _ = run_autograder(zips["default"], tmp_path, {"lesson.ipynb": notebook("correct")},
                                python=str(tmp_path / "no-such-python"))
    assert results["score"] == 0 and results["tests"] == [] and "contact your instructor" in results["output"]


def test_setup_installs_what_the_zip_ships(image, tmp_path):
    """The zip's setup.sh installs the course into venv/ from what the zip holds (its own
    pyproject.toml, with requirements.lock), and run_autograder grades with that venv's python,
    not this project's .venv: a correct submission gets full marks."""
    root, proc, log = image
    assert proc.wait(timeout=1800) == 0, log.read_text()[-3000:]
    python = root / "venv" / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import autograder, numpy, nbgrader; print(autograder.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True)
    assert where.returncode == 0 and where.stdout.strip() == str(root / "source" / "autograder" / "__init__.py"), where
    results, stdout = run_autograder(None, tmp_path, {"lesson.ipynb": notebook("correct")}, python=None, root=root)
    assert results["score"] == sum(items().values()), results["output"]
    assert f"course at {root / 'source'}" in stdout
