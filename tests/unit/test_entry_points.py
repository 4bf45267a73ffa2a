"""One way in: `python -m autograder COMMAND` lists and runs every command, in the course tree and
in the student bundle (which ships the entry point without the private folders); the grading
options are declared once (`autograder.grading.options`); the exit statuses the Makefile relies on."""
import os
import re
import subprocess
import sys

import pytest

from autograder import PRIVATE, cli
from autograder.authoring.catalogue import build, catalogue
from autograder.grading.options import Options, add_arguments, from_arguments
from autograder.worker.course import ROOT, STUDENT_FILES, copy_files

#: The commands everybody uses (issue 24's list), each reached through `python -m autograder`.
EVERY_COMMAND = ["release", "sample-class", "grade", "similarity", "bundle", "workspace", "lab", "selfcheck",
                 "gradescope", "gradescope-run", "canvas-export", "figures", "bench", "mutation"]
#: A lesson and a catalogue mistake for the bundle's selfcheck (the quickest lesson to run).
LESSON, WRONG = "01_normalizing_inputs", "scales-by-variance"


#: `python -m autograder` as the bundle runs it: the package from the current folder only. This venv's editable
#: install of the course tree would otherwise find the private folders the copy lacks (its finder maps every
#: `autograder.*` name to the course tree), so it is taken off the import system first.
AS_SHIPPED = ("import runpy, sys; sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in "
              "getattr(f, '__module__', '')]; runpy.run_module('autograder', run_name='__main__', alter_sys=True)")


def autograder_command(*args, cwd=ROOT):
    """`python -m autograder ARGS` run from `cwd`: the course tree's, or (another `cwd`) the copy's there alone."""
    python = [sys.executable, "-m", "autograder"] if cwd == ROOT else [sys.executable, "-c", AS_SHIPPED]
    return subprocess.run([*python, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_help_lists_every_command():
    ran = autograder_command("--help")
    assert ran.returncode == cli.EXIT_OK, ran.stderr
    listed = set(ran.stdout.split())
    assert [c for c in EVERY_COMMAND if c not in listed] == []


def test_make_and_the_gradescope_runner_use_only_the_entry_point():
    """No `-m autograder.<module>`, `-m tests.` or `-m lessonkit.` ways in are left."""
    for path in [ROOT / "Makefile", ROOT / "gradescope" / "run_autograder", ROOT / "autograder" / "authoring" /
                 "STUDENT_README.md"]:
        text = path.read_text()
        for other_way in ("-m autograder.", "-m tests.", "-m lessonkit."):
            assert other_way not in text, f"{path.relative_to(ROOT)} uses {other_way}"


@pytest.fixture(scope="module")
def bundle_copy(tmp_path_factory):
    """The files the bundle ships (`course.STUDENT_FILES`), copied as `release.bundle` does, without the private
    folders; plus a correct and a mistaken copy of one lesson."""
    folder = copy_files(STUDENT_FILES, tmp_path_factory.mktemp("shipped") / "course")
    assert not any((folder / "autograder" / p).exists() for p in PRIVATE)
    probe = subprocess.run([sys.executable, "-c", AS_SHIPPED.split("runpy.run_module")[0] + "import autograder.grading"],
                           cwd=folder, capture_output=True, text=True)
    assert "No module named 'autograder.grading'" in probe.stderr, "the copy still imports the private folders"
    variants = {v.name: v for v in catalogue()[LESSON]}
    for name in ("correct", WRONG):
        (folder / "notebooks" / LESSON / f"{name}.ipynb").write_bytes(build(LESSON, variants[name]))
    return folder


def test_the_bundle_lists_every_command(bundle_copy):
    ran = autograder_command("--help", cwd=bundle_copy)
    assert ran.returncode == cli.EXIT_OK, ran.stderr
    assert [c for c in EVERY_COMMAND if c not in ran.stdout.split()] == []
    assert autograder_command("lab", "--help", cwd=bundle_copy).returncode == cli.EXIT_OK


@pytest.mark.parametrize("command", [["grade", "submissions", "--out", "x"], ["release"], ["grade", "--help"],
                                     ["bench"]])
def test_an_instructor_command_in_the_bundle_says_so_in_one_line(bundle_copy, command):
    ran = autograder_command(*command, cwd=bundle_copy)
    assert ran.returncode == cli.EXIT_USAGE
    assert ran.stderr.count("\n") == 1 and "instructor's course tree" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr and ran.stdout == ""


def test_lab_passes_the_options_it_does_not_know_to_jupyter_lab(monkeypatch):
    """As the bundle's README and its install test start it: `lab [FOLDER] --port=N ...`."""
    import autograder.student.lab
    monkeypatch.setenv("PATH", os.environ["PATH"])  # main puts this venv first on it: restored after the test
    started = []
    monkeypatch.setattr(autograder.student.lab.os, "execvpe", lambda file, argv, env: started.append(argv))
    cli.main(["lab", "work", "--ip=127.0.0.1", "--port=8899", "--IdentityProvider.token=t", "--ins"])
    argv = started[0]
    assert "--LabApp.default_url=/lab/tree/work" in argv and argv[-4:] == ["--ip=127.0.0.1", "--port=8899",
                                                                          "--IdentityProvider.token=t", "--ins"]
    assert any(a.startswith("--ContentsManager.hide_globs=") for a in argv)  # student mode: --ins is not --instructor


def test_selfcheck_runs_in_the_bundle(bundle_copy):
    """The bundle's own copy (not the course tree's: its grade command refuses) checks a correct notebook
    in full and names the item a mistaken one loses."""
    correct = autograder_command("selfcheck", f"notebooks/{LESSON}/correct.ipynb", cwd=bundle_copy)
    assert correct.returncode == 0, correct.stdout + correct.stderr
    assert "✓" in correct.stdout and "✗" not in correct.stdout
    wrong = autograder_command("selfcheck", f"notebooks/{LESSON}/{WRONG}.ipynb", cwd=bundle_copy)
    assert wrong.returncode == 1 and "✗" in wrong.stdout, wrong.stdout + wrong.stderr


def test_grade_flags_are_generated_from_the_options():
    """Every command-line option of `Options` is a flag of `grade` with its help; parsing gives the options back."""
    import argparse
    import dataclasses
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert from_arguments(parser.parse_args([])) == Options()
    parsed = from_arguments(parser.parse_args(["--no-isolation", "--force", "-q", "--workers", "3",
                                               "--submission-seconds", "7.5", "--db", ""]))
    assert parsed == Options(isolate=False, force=True, quiet=True, workers=3, submission_seconds=7.5, db="")
    grade_help = autograder_command("grade", "--help").stdout
    for f in dataclasses.fields(Options):
        shown = f.metadata["command_line"] and f.metadata["help"] != argparse.SUPPRESS
        flag = f.metadata["flag"] or f"--{f.name.replace('_', '-')}"
        assert bool(re.search(rf"(^|\s){re.escape(flag)}\b", grade_help)) == shown, f.name
        assert f.metadata["help"], f"{f.name} has no help"


def test_the_options_fingerprint_keeps_its_value():
    """Kept results stay valid across the change to one options object: the same options, the same fingerprint
    (the dict `cli` built before)."""
    from autograder.grading.per_student import fingerprint
    assert Options().fingerprint() == {"isolate": True, "scan": True}
    assert Options(isolate=False, scan=False, submission_seconds=5.0, workers=1, quiet=True).fingerprint() == {
        "isolate": False, "scan": False, "submission_seconds": 5.0}
    assert Options(secret=b"s").fingerprint() == {"isolate": True, "scan": True, "per_student_cases": fingerprint(b"s")}


def test_ctrl_c_is_named_in_the_interruption_message(tmp_path, monkeypatch, capsys):
    import autograder.grading.grade

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(autograder.grading.grade, "grade_class", interrupted)
    (tmp_path / "class").mkdir()
    status = cli.grade(tmp_path / "class", Options(out=tmp_path / "out", db="", quiet=True))
    err = capsys.readouterr().err
    assert status == cli.EXIT_INTERRUPTED and "grading was interrupted (Ctrl-C)" in err, err


@pytest.mark.parametrize("target", ["grade", "demo"])
@pytest.mark.parametrize("status, make_succeeds", [(0, True), (3, True), (1, False), (2, False)])
def test_make_accepts_the_graded_with_problems_status_only(tmp_path, target, status, make_succeeds):
    """`grade` exits 3 when the class was graded and some submissions had problems (the sample class has them on
    purpose): make must not call that an error; any other failure stays one. The Python is faked: only the
    Makefile's handling of the status is under test."""
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\n[ "$3" = grade ] && exit {status}\nexit 0\n')
    fake.chmod(0o755)
    ran = subprocess.run(["make", "-s", "-o", ".venv/.installed", target, f"PY={fake}",
                          f"SUBMISSIONS={tmp_path / 'class'}", f"OUT={tmp_path / 'out'}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (ran.returncode == 0) == make_succeeds, ran.stdout + ran.stderr


def test_a_copy_of_the_course_is_readable_by_everyone_even_from_a_closed_tree(tmp_path, monkeypatch):
    """A sandboxed worker reads its public copy as nobody; `make hub` closes the course tree (mode o-rwx), and a
    copy that kept those modes left hidden cases unrunnable ("No module named lessonkit.gradcheck")."""
    import autograder.worker.course as course
    tree = tmp_path / "tree"
    (tree / "pkg" / "sub").mkdir(parents=True)
    (tree / "pkg" / "sub" / "m.py").write_text("x = 1\n")
    (tree / "pkg" / "tool").write_text("#!/bin/sh\n")
    (tree / "pkg" / "tool").chmod(0o700)
    (tree / "top.py").write_text("")
    for path in (tree / "pkg" / "sub" / "m.py", tree / "top.py"):
        path.chmod(0o600)
    for folder in (tree / "pkg", tree / "pkg" / "sub"):
        folder.chmod(0o700)
    monkeypatch.setattr(course, "ROOT", tree)
    copy = course.copy_files(["pkg", "top.py"], tmp_path / "copy")
    modes = {str(p.relative_to(copy)): p.stat().st_mode & 0o777 for p in sorted(copy.rglob("*"))}
    assert modes == {"pkg": 0o755, "pkg/sub": 0o755, "pkg/sub/m.py": 0o644, "pkg/tool": 0o755, "top.py": 0o644}
