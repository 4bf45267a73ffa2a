"""Command-line entry: ``python -m autograder COMMAND``.

  release [LESSON ...]          solutions/ -> notebooks/ (nbgrader generate_assignment)
  grade SUBMISSIONS [--out D]   grade a class; write grades.csv, feedback/, summary.md/.png; print the table
        [--cluster ADDRESS]     ... each submission a task on a running Dask cluster (README: Grading on a cluster)
  selfcheck NOTEBOOK            a student's check of a whole notebook before submitting (visible tests)
  bundle [--out D]              what students receive: lessons, figures, shared code, visible checks
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder.notebook import ROOT

DB_URL = "sqlite:///build/gradebook.db"
#: `grade` exit statuses: 0 every submission graded cleanly; 3 the class was graded but some
#: submissions (named in the output and the summary) had problems; 2 nothing to grade;
#: 4 the Dask cluster could not be reached or was lost (nothing written).
EXIT_PROBLEMS = 3
EXIT_CLUSTER = 4
EXIT_INTERRUPTED = 130


def with_venv_on_path():
    """nbgrader runs the `alembic` command of this environment to create gradebooks."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def generate(lesson, into, db_url):
    """nbgrader generate_assignment of one lesson; returns (exit status, nbgrader's output)."""
    env = with_venv_on_path()
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", lesson, "--force",
                           "--log-level=WARN", f"--CourseDirectory.db_url={db_url}",
                           f"--CourseDirectory.release_directory={into}"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def release(lessons, into=None):
    """Regenerate the student copies of the given lessons (all by default) from solutions/.

    The copies depend on the masters alone: nbgrader runs against a throw-away gradebook
    (the grading gradebook is filled by `grade`). `into` writes them somewhere else than
    notebooks/ (the sync test compares the two).
    """
    from autograder.grade import lessons as all_lessons
    from autograder.lint import master_problems
    problems = [p for lesson in lessons or all_lessons() for p in master_problems(lesson)]
    if problems:
        sys.exit("release refused: test cells must hold only check(...) and hidden_check(...)\n  "
                 + "\n  ".join(problems))
    with tempfile.TemporaryDirectory() as scratch:
        for lesson in lessons or all_lessons():
            status, output = generate(lesson, into or "notebooks", f"sqlite:///{scratch}/gradebook.db")
            if status:
                sys.exit(f"{output}\nrelease of {lesson} failed (nbgrader exit status {status})")
            print(f"released {into or 'notebooks'}/{lesson}/lesson.ipynb")
    return 0


def grade(submissions, out, workers, db_url, isolate=True, scan=True, cluster=None):
    from autograder import gradebook, report
    from autograder.cluster import ClusterError
    from autograder.grade import grade_class
    from autograder.scratch import Interrupted
    submissions = Path(submissions)
    if not submissions.is_dir():
        print(f"error: {submissions} is not a folder of submissions (<student>/<lesson>/lesson.ipynb)", file=sys.stderr)
        return 2
    try:
        results, unknown = grade_class(submissions, workers=workers, isolate=isolate, scan=scan, cluster=cluster)
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"error: grading was interrupted ({exc or 'Ctrl-C'}); nothing was written. "
              "Run the same command again to grade the class.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ClusterError as exc:
        print(f"error: {exc}; nothing was written.", file=sys.stderr)
        return EXIT_CLUSTER
    if not results:
        print(f"error: no submissions found in {submissions} (expected <student>/<lesson>/lesson.ipynb)", file=sys.stderr)
        return 2
    out = Path(out)
    report.write_all(results, unknown, out)
    if db_url.startswith("sqlite:///"):
        Path(db_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    notes = gradebook.record(results, db_url) if db_url else []
    print(report.table(results))
    troubled = [r for r in results if r.problems or r.incidents]
    levels = sorted({r.isolation for r in results if r.isolation})
    print("\nStudent code ran isolated by: " + ("; ".join(levels) or "a separate process only"))
    print(f"\nGraded {len(results)} submissions of {len({r.student for r in results})} students"
          f" ({len(troubled)} with problems, each named above and in the summary).")
    for note in notes + unknown:
        print(f"note: {note}")
    print(f"grades:   {out / 'grades.csv'}\nfeedback: {out / 'feedback'}/<student>/<lesson>.html\n"
          f"summary:  {out / 'summary.md'} and {out / 'summary.png'}" + (f"\ngradebook: {db_url}" if db_url else ""))
    return EXIT_PROBLEMS if troubled or notes or unknown else 0


#: What students receive. The reference, the judge, its hidden cases and the grading
#: pipeline stay out; `tests/test_release.py` checks that nothing of them leaks.
STUDENT_FILES = ["notebooks", "figures", "lessonkit", "autograder/__init__.py", "autograder/wire.py",
                 "autograder/checks", "autograder/notebook.py", "autograder/runner.py", "autograder/sandbox.py",
                 "autograder/isolation.py", "autograder/selfcheck.py", "nbgrader_config.py"]


def bundle(out):
    """Copy what students receive into `out` and zip it; nothing private goes in."""
    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    for rel in STUDENT_FILES:
        src, dst = ROOT / rel, out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(src, dst)
    (out / "README.md").write_text((ROOT / "autograder" / "STUDENT_README.md").read_text())
    project = (ROOT / "pyproject.toml").read_text().replace(', "autograder.judge"', "")
    (out / "pyproject.toml").write_text(project)
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(out.parent))
    print(f"student bundle: {out}/ and {archive}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release")
    p.add_argument("lessons", nargs="*")
    p.add_argument("--into", help="write the student copies here instead of notebooks/")
    p = sub.add_parser("grade")
    p.add_argument("submissions")
    p.add_argument("--out", default="build/grades")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="grade on the Dask cluster of this scheduler, e.g. tcp://127.0.0.1:8786 (--workers is then unused)")
    p.add_argument("--db", default=DB_URL, help="nbgrader gradebook URL ('' to skip)")
    p.add_argument("--no-isolation", action="store_true",
                   help="run student code without the namespaces (a separate process still); for benchmarks")
    p.add_argument("--no-scan", action="store_true", help=argparse.SUPPRESS)  # tests of the sandbox alone
    p = sub.add_parser("selfcheck")
    p.add_argument("notebook")
    p = sub.add_parser("bundle")
    p.add_argument("--out", default="build/student-bundle")
    args = parser.parse_args(argv)
    os.environ.update(PATH=with_venv_on_path()["PATH"])
    if args.command == "release":
        return release(args.lessons, args.into)
    if args.command == "grade":
        return grade(args.submissions, args.out, args.workers, args.db, not args.no_isolation, not args.no_scan,
                     args.cluster)
    if args.command == "selfcheck":
        from autograder.selfcheck import selfcheck
        return selfcheck(args.notebook)
    return bundle(args.out)
