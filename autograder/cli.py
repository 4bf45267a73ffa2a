"""Command-line entry: ``python -m autograder COMMAND``.

  release [LESSON ...]          solutions/ -> notebooks/ (nbgrader generate_assignment; never over a student's work)
  grade SUBMISSIONS [--out D]   grade a class; write grades.csv, feedback/, summary.md/.png; print the table
        [--cluster ADDRESS]     ... each submission a task on a running Dask cluster (README: Grading on a cluster)
  similarity SUBMISSIONS [--out F]   pairs of students with similar answer cells, as HTML (changes no grade)
  selfcheck NOTEBOOK            a student's check of a whole notebook before submitting (visible tests)
  bundle [--out D]              what students receive: lessons, figures, shared code, visible checks
  workspace                     work/: the student's copies of notebooks/ (made once, never overwritten)
  gradescope [--lesson L]       Gradescope's autograder.zip (see autograder/gradescope.py)
  canvas-export --grades CSV --roster CSV --out CSV   grades.csv -> Canvas's grade import CSV
"""
import argparse
import contextlib
import functools
import importlib
import os
import sys
import threading
from pathlib import Path

from autograder import release, workspace
from autograder.course import ROOT
from autograder.gradebook_process import GradebookError, GradebookProcess
from autograder.nbgrader_cmd import course_directories, with_venv_on_path
from autograder.scratch import stop_on_termination

#: `grade` exit statuses: 0 every submission graded cleanly; 3 the class was graded but some
#: submissions (named in the output and the summary) had problems; 2 nothing to grade;
#: 1 an output or the gradebook could not be written (the one-line error says what to do).
EXIT_FAILED = 1
#: 4 the Dask cluster could not be reached or was lost (nothing written).
#: 5 the kernel refuses the sandbox's namespaces and --allow-weak-isolation was not given (nothing written).
EXIT_PROBLEMS = 3
EXIT_CLUSTER = 4
EXIT_WEAK_ISOLATION = 5
EXIT_INTERRUPTED = 130


def grade(submissions, out, workers, db_url=None, isolate=True, scan=True, force=False, quiet=False,
          cluster=None, diff=None, secret_file=None, submission_seconds=None, allow_weak_isolation=False):
    """`db_url` None: the course's gradebook (nbgrader_config.py, resolved against the course root); "": none.
    `force`: grade every submission again, even one unchanged since a run into `out`; `quiet`: no progress line;
    `cluster`: a Dask scheduler's address to grade on (cluster.py); `diff`: an earlier output folder (or its
    receipts) to explain this run's changes against (receipt.py); `secret_file`: per-student hidden cases
    derived from this secret, a file outside the course tree (per_student.py); `submission_seconds`: the wall
    time each submission's code may take in all (None: `runner.Limits`' default); `allow_weak_isolation`: grade
    even where the kernel refuses the sandbox's namespaces (else stop first, writing nothing)."""
    from autograder import receipt
    submissions, out = Path(submissions), Path(out)
    if not submissions.is_dir():
        print(f"error: {submissions} is not a folder of submissions (<student>/<lesson>/lesson.ipynb)", file=sys.stderr)
        return 2
    if submission_seconds is not None and not 0 < submission_seconds < float("inf"):
        print(f"error: --submission-seconds {submission_seconds:g} is not a positive number of seconds", file=sys.stderr)
        return 2
    if diff is not None and not Path(diff).is_dir():
        print(f"error: --diff {diff} is not an earlier output folder (or its receipts folder)", file=sys.stderr)
        return 2
    secret = None
    if secret_file is not None:
        from autograder.per_student import SecretError, read_secret
        try:
            secret = read_secret(secret_file)
        except SecretError as exc:
            print(f"error: {exc}.", file=sys.stderr)
            return 2
    previous = receipt.load(diff) if diff is not None else None  # read before this run replaces them
    course_db, autograded, feedback = course_directories()
    db_url = course_db if db_url is None else db_url
    # SIGTERM and SIGHUP end the run as Ctrl-C does, gradebook step included; the gradebook's
    # helper process imports nbgrader while the class is graded
    with stop_on_termination(), (GradebookProcess(db_url) if db_url else contextlib.nullcontext()) as books:
        status, graded = _grade_and_report(submissions, out, workers, isolate, scan, force, quiet, cluster,
                                           secret, previous, diff, submission_seconds, allow_weak_isolation)
        if status is not None:
            return status
        results, unknown, changes, store = graded
        notes = []
        if books:
            status, notes = _record(books, results, unknown, submissions, out, autograded, feedback)
            if status is not None:
                return status
    return _print_run(results, unknown, notes, changes, previous, diff, store, out, books and books.shown)


def _grade_and_report(submissions, out, workers, isolate, scan, force, quiet, cluster, secret, previous, diff,
                      submission_seconds=None, allow_weak_isolation=False):
    """Grade the class and write our outputs (grades.csv, feedback, summary, receipts).

    Returns (exit status, None) when the run stopped, else (None, (results, unknown, changes, store))."""
    from autograder import figure, receipt, report
    from autograder.atomic import WriteError
    from autograder.atomic import write as atomic_write
    from autograder.cluster import ClusterError, grade_on_cluster
    from autograder.course import lessons
    from autograder.grade import WeakIsolation, grade_class
    from autograder.progress import Progress
    from autograder.scratch import Interrupted
    from autograder.store import ResultStore
    from autograder.runner import Limits
    options = {"isolate": isolate, "scan": scan}
    limits = None
    if submission_seconds is not None:
        limits = Limits(submission_seconds=submission_seconds)
        options["submission_seconds"] = submission_seconds
    if secret is not None:
        from autograder.per_student import fingerprint
        options["per_student_cases"] = fingerprint(secret)
    remote = functools.partial(grade_on_cluster, address=cluster) if cluster else None
    store = ResultStore(out, force, options=options)
    progress = Progress(sys.stderr) if not quiet else None
    changes = None
    _import_in_background(figure.MODULES)

    def finished(result, done, total):
        store.save(result)  # kept at once: a run killed later still keeps it
        if progress:
            progress.update(result, done, total)
    try:
        try:
            results, unknown = grade_class(submissions, workers=workers, limits=limits, isolate=isolate, scan=scan,
                                           reuse=store.load, on_result=finished, remote=remote, secret=secret,
                                           allow_weak_isolation=allow_weak_isolation)
        finally:
            if progress:
                progress.close()
        if results:
            receipts = receipt.Receipts(options, secret)
            results = [_reportable(r, receipts, store) for r in results]
            report.write_all(results, unknown, out, lessons())
            current = [receipts.receipt(r, store.fingerprints.get((r.student, r.lesson), {}).get("submission")) for r in results]
            receipt.write_all(current, out)
            if previous is not None:
                changes = receipt.diff(previous, {(r["student"], r["lesson"]): r for r in current})
                atomic_write(out / "regrade_diff.md", receipt.markdown(changes, diff))
            store.prune(results)
            _similarity_after_grades(submissions, out)
    except (KeyboardInterrupt, Interrupted) as exc:
        kept = store.reused + store.saved
        print(f"error: grading was interrupted ({exc or 'Ctrl-C'}); the {kept} submission{'s' * (kept != 1)} "
              f"graded so far {'is' if kept == 1 else 'are'} kept in {store.folder}. "
              "Run the same command again to grade the rest.", file=sys.stderr)
        return EXIT_INTERRUPTED, None
    except WriteError as exc:
        print(f"error: {exc}.", file=sys.stderr)
        return EXIT_FAILED, None
    except ClusterError as exc:
        print(f"error: {exc}; nothing was written.", file=sys.stderr)
        return EXIT_CLUSTER, None
    except WeakIsolation as exc:
        print(f"error: {exc}. Nothing was graded or written; --allow-weak-isolation grades anyway, "
              "with that much less isolation.", file=sys.stderr)
        return EXIT_WEAK_ISOLATION, None
    if not results:
        print(f"error: no submissions found in {submissions} (expected <student>/<lesson>/lesson.ipynb)", file=sys.stderr)
        return 2, None
    return None, (results, unknown, changes, store)


def _reportable(result, receipts, store):
    """`result`, or, when its own outputs (its row, feedback page, receipt) cannot be made,
    the same submission "not graded" with one incident: it costs only itself."""
    from autograder import report
    from autograder.grade import grading_failed, load_master
    from autograder.results import SubmissionResult
    try:
        report.table([result]).encode()  # encoded as they will be: a lone surrogate does not encode
        report.feedback_page(result).encode()
        receipts.receipt(result, store.fingerprints.get((result.student, result.lesson), {}).get("submission"))
    except Exception as exc:  # noqa: BLE001 - the fault barrier, for our outputs
        return grading_failed(load_master(result.lesson), SubmissionResult(result.student, result.lesson), exc)
    return result


def _record(books, results, unknown, submissions, out, autograded, feedback):
    """The gradebook step: nbgrader's gradebook (`books`, a GradebookProcess), nbgrader's
    autograded and feedback files, then our reports again if a late penalty changed a score.

    Returns (exit status or None, notes)."""
    from autograder import nbgrader_files, report
    from autograder.atomic import WriteError
    from autograder.course import lessons
    from autograder.scratch import Interrupted
    grades = out / "grades.csv"
    try:
        recorded, notes = books.record(results)
        notes += nbgrader_files.write(recorded, submissions, autograded, feedback)
        if any(r.penalty for r in results):  # late penalties come from the gradebook's due dates
            report.write_all(results, unknown, out, lessons())
    except GradebookError as exc:
        print(f"error: {exc}; the grades are in {grades}.", file=sys.stderr)
        return EXIT_FAILED, None
    except WriteError as exc:
        print(f"error: {exc}.", file=sys.stderr)
        return EXIT_FAILED, None
    except OSError as exc:  # nbgrader's files: each replaced whole, as ours are
        print(f"error: {WriteError(exc.errno, exc.strerror, exc.filename)}.", file=sys.stderr)
        return EXIT_FAILED, None
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"error: interrupted ({exc or 'Ctrl-C'}) while updating the gradebook (it holds all of this run's "
              f"grades or none of them); the grades are in {grades}. "
              "Run the same command again to update it (nothing is graded twice).", file=sys.stderr)
        return EXIT_INTERRUPTED, None
    return None, notes


def _print_run(results, unknown, notes, changes, previous, diff, store, out, gradebook_shown):
    """The terminal's account of a finished run; returns the exit status."""
    from autograder import report
    print(report.table(results))
    if previous is not None:
        moved = sum(1 for c in changes if c.items)
        print(f"\nSince {diff}: {moved} submission{'s' * (moved != 1)} with changed items "
              f"(details in {out / 'regrade_diff.md'})")
        for c in changes:
            for gid, old, new in c.items:
                print(report.terminal_text(f"  {c.student}/{c.lesson} {gid}: {old} -> {new} ({'; '.join(c.reasons)})"))
    troubled = [r for r in results if r.problems or r.incidents]
    levels = sorted({r.isolation for r in results if r.isolation})
    print("\nStudent code ran isolated by: " + ("; ".join(levels) or "a separate process only"))
    students = len({r.student for r in results})
    print(f"\nGraded {len(results)} submission{'s' * (len(results) != 1)} of {students} student{'s' * (students != 1)}"
          f" ({len(troubled)} with problems, each named above and in the summary).")
    if store.reused:
        print(f"{store.reused} of them were unchanged since an earlier run and kept from {store.folder} "
              "(--force grades everything again).")
    for note in notes + unknown:
        print(f"note: {report.terminal_text(note)}")
    print(f"grades:   {out / 'grades.csv'}\nfeedback: {out / 'feedback'}/<student>/<lesson>.html\n"
          f"summary:  {out / 'summary.md'} and {out / 'summary.png'}; similarity: {out / 'similarity.html'}"
          + (f"\ngradebook: {gradebook_shown}" if gradebook_shown else ""))
    return EXIT_PROBLEMS if troubled or notes or unknown else 0


def _similarity_after_grades(submissions, out):
    """The similarity report, once the grades are written: bounded in time, and whatever
    fails in it costs the report only (said in one line)."""
    from autograder import similarity
    try:
        similarity.write(submissions, out / "similarity.html")
    except Exception as exc:  # noqa: BLE001 - no grade depends on it
        print(f"note: the similarity report was not written ({type(exc).__name__}: {str(exc)[:200]})", file=sys.stderr)


def _similarity(submissions, out, top):
    from autograder import similarity
    from autograder.report import terminal_text
    if not Path(submissions).is_dir():
        print(f"error: {submissions} is not a folder of submissions (<student>/<lesson>/lesson.ipynb)", file=sys.stderr)
        return 2
    pairs, left_out = similarity.write(submissions, out, top)
    for p in pairs[:5]:
        print(terminal_text(f"{p.score:.2f}  {p.lesson}  {p.a.student} / {p.b.student}"))
    print(f"similarity: {out} ({len(pairs)} pairs; it reports, it changes no grade)"
          + (f"; {len(left_out)} submissions not read in time, named in it" if left_out else ""))
    return 0


def _import_in_background(modules):
    """Import `modules` in a thread, while grading mostly waits for its workers: the slowest
    import of a run (matplotlib) then costs it little. The imports hold `cells.PARSING`, since
    matplotlib's modules parse Python as they are imported. Returns the (started) thread."""
    from autograder.cells import PARSING

    def import_all():
        with PARSING:
            for name in modules:
                importlib.import_module(name)
    thread = threading.Thread(target=import_all, name="imports", daemon=True)
    thread.start()
    return thread


def add_lms_commands(sub):
    """The subcommands that carry grades to where a course runs (Gradescope, Canvas)."""
    from autograder import canvas
    from autograder.gradescope import VISIBILITIES
    p = sub.add_parser("gradescope", help="write Gradescope's autograder.zip")
    p.add_argument("--lesson", help="grade every submission as this lesson (default: told from the notebook)")
    p.add_argument("--out", default="build/gradescope")
    p.add_argument("--visible-cases", default="visible", choices=VISIBILITIES,
                   help="visibility of items passed or failed on a visible case")
    p.add_argument("--hidden-cases", default="after_due_date", choices=VISIBILITIES,
                   help="visibility of items failed on a hidden case")
    p = sub.add_parser("canvas-export", help="grades.csv -> Canvas's grade import CSV",
                       description=canvas.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grades", default="build/grades/grades.csv")
    p.add_argument("--roster", required=True)
    p.add_argument("--out", default="build/grades/canvas.csv")
    p.add_argument("--key", default="student", help="the roster's column of the course's student ids")
    p.add_argument("--assignment", action="append", default=[], metavar="LESSON=ID",
                   help="the Canvas assignment id of a lesson (repeatable)")


def _gradescope(args):
    from autograder.gradescope import build
    archive = build(args.out, args.lesson, args.visible_cases, args.hidden_cases)
    print(f"Gradescope autograder: {archive} (lesson: {args.lesson or 'told from each notebook'})")
    return 0


def _canvas_export(args):
    from autograder.canvas import export
    pairs = [a.split("=", 1) for a in args.assignment]
    if any(len(p) != 2 or not all(p) for p in pairs):
        print("error: --assignment takes LESSON=ID, e.g. 02_batch_norm=12345", file=sys.stderr)
        return 2
    unmatched = export(args.grades, args.roster, args.out, args.key, dict(pairs))
    return EXIT_PROBLEMS if unmatched else 0


LMS_COMMANDS = {"gradescope": _gradescope, "canvas-export": _canvas_export}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release")
    p.add_argument("lessons", nargs="*")
    p.add_argument("--into", help="write the student copies here instead of notebooks/")
    p.add_argument("--force", action="store_true", help="replace copies that hold a student's work")
    p = sub.add_parser("grade")
    p.add_argument("submissions")
    p.add_argument("--out", default="build/grades")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="grade on the Dask cluster of this scheduler, e.g. tcp://127.0.0.1:8786 (--workers is then unused)")
    p.add_argument("--db", help="nbgrader gradebook URL (default: the course's, in nbgrader_config.py; '' to skip)")
    p.add_argument("--no-isolation", action="store_true",
                   help="run student code without the namespaces (a separate process still); for benchmarks")
    p.add_argument("--allow-weak-isolation", action="store_true",
                   help="grade even where the kernel refuses the sandbox's namespaces (user, mount, pid, network): "
                        "student code then runs in a separate process only, seeing the course tree and the network; "
                        "without it, grade stops first and writes nothing")
    p.add_argument("--no-scan", action="store_true", help=argparse.SUPPRESS)  # tests of the sandbox alone
    p.add_argument("--force", action="store_true",
                   help="grade every submission again, even those unchanged since the last run into --out")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    p.add_argument("--per-student-secret", metavar="FILE",
                   help="give each student hidden cases of their own, derived from this secret file (kept outside "
                        "the course tree) and the student's id")
    p.add_argument("--submission-seconds", type=float, metavar="S",
                   help="wall time each submission's cells and cases may take in all, restarts included "
                        "(default: 300); what is left when it runs out is not run")
    p.add_argument("--diff", metavar="PREVIOUS",
                   help="explain per student and item what changed since an earlier output folder (its receipts)")
    p = sub.add_parser("similarity", help="rank pairs of students by similar answer cells (autograder/similarity.py)")
    p.add_argument("submissions")
    p.add_argument("--out", default="build/grades/similarity.html")
    p.add_argument("--top", type=int, default=20, help="pairs shown")
    p = sub.add_parser("selfcheck")
    p.add_argument("notebook")
    p = sub.add_parser("bundle")
    p.add_argument("--out", default="build/student-bundle")
    p.add_argument("--force", action="store_true", help="replace the bundle even if a notebook in it holds work")
    p = sub.add_parser("guard", help="exit 1 if a notebook in FOLDER holds a student's work")
    p.add_argument("folder")
    p.add_argument("--target", default="make clean", help="the command about to delete FOLDER, for the message")
    sub.add_parser("workspace", help=f"copy notebooks/ into {workspace.WORK}/ where missing or untouched")
    add_lms_commands(sub)
    args = parser.parse_args(argv)
    os.environ.update(PATH=with_venv_on_path()["PATH"])
    if args.command == "release":
        return release.release(args.lessons, args.into, args.force)
    if args.command == "grade":
        return grade(args.submissions, args.out, args.workers, args.db, not args.no_isolation, not args.no_scan,
                     args.force, args.quiet, args.cluster, args.diff, args.per_student_secret,
                     args.submission_seconds, args.allow_weak_isolation)
    if args.command in LMS_COMMANDS:
        return LMS_COMMANDS[args.command](args)
    if args.command == "similarity":
        return _similarity(args.submissions, args.out, args.top)
    if args.command == "selfcheck":
        from autograder.selfcheck import selfcheck
        return selfcheck(args.notebook)
    if args.command == "guard":
        return release.guard(args.folder, args.target)
    if args.command == "workspace":
        done = workspace.make_workspace(ROOT / workspace.RELEASE, ROOT / workspace.WORK)
        print("\n".join(done) or f"{workspace.WORK}/ is up to date")
        return 0
    return release.bundle(args.out, args.force)
