"""Command-line entry: ``python -m autograder COMMAND``, the one way in; ``python -m autograder
--help`` lists every command (`COMMANDS`), ``python -m autograder COMMAND --help`` its options.

`selfcheck`, `lab` and `figures` run anywhere, the student bundle included; the other commands
are the instructor's and need the course tree's private folders (`autograder.PRIVATE`): in the
bundle, which ships this file without them, they say so in one line and exit `EXIT_USAGE`. So
this module imports only the standard library at its top, and each command what it uses when
it runs.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import importlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import autograder

if TYPE_CHECKING:
    from autograder.grading.options import Options

# Exit statuses (of `grade`; the other commands use the same meanings where they apply).
#: every submission graded cleanly; any other command: done.
EXIT_OK = 0
#: an output or the gradebook could not be written (the one-line error says what to do).
EXIT_FAILED = 1
#: nothing done: bad arguments, nothing to grade, or an instructor command outside the course tree.
EXIT_USAGE = 2
#: the class was graded, but some submissions (named in the output and the summary) had problems.
EXIT_PROBLEMS = 3
#: the Dask cluster could not be reached or was lost (nothing written).
EXIT_CLUSTER = 4
#: the kernel refuses the sandbox's namespaces and --allow-weak-isolation was not given (nothing written).
EXIT_WEAK_ISOLATION = 5
#: interrupted (Ctrl-C, SIGTERM, SIGHUP); what was graded is kept, the same command grades the rest.
EXIT_INTERRUPTED = 130


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _interruption(exc: BaseException) -> str:
    """What interrupted a run: the signal an `Interrupted` names, else Ctrl-C (a KeyboardInterrupt says nothing)."""
    return str(exc) or "Ctrl-C"


def grade(submissions: str | Path, options: Options | None = None) -> int:
    """Grade the class in `submissions` (``<student>/<lesson>/lesson.ipynb``) as `options` say
    (options.py: each option's meaning and default); returns the exit status (`EXIT_*`).

    The run's steps: grade (each result kept at once, see store.py), record into nbgrader's
    gradebook and read back what it publishes (manual scores, comments, late penalties), then
    write every output together: a run that fails or is interrupted before the end leaves the
    previous outputs as they were."""
    from autograder.gradebook.nbgrader_cmd import course_directories, folders_for
    from autograder.gradebook.process import GradebookProcess
    from autograder.grading import receipt
    from autograder.grading.options import Options
    from autograder.grading.scratch import stop_on_termination
    options = options or Options()
    submissions = Path(submissions)
    if not submissions.is_dir():
        _error(f"{submissions} is not a folder of submissions (<student>/<lesson>/lesson.ipynb)")
        return EXIT_USAGE
    if options.submission_seconds is not None and not 0 < options.submission_seconds < float("inf"):
        _error(f"--submission-seconds {options.submission_seconds:g} is not a positive number of seconds")
        return EXIT_USAGE
    if options.diff is not None and not Path(options.diff).is_dir():
        _error(f"--diff {options.diff} is not an earlier output folder (or its receipts folder)")
        return EXIT_USAGE
    if options.per_student_secret is not None:
        from autograder.grading.per_student import SecretError, read_secret
        try:
            options = dataclasses.replace(options, secret=read_secret(options.per_student_secret))
        except SecretError as exc:
            _error(f"{exc}.")
            return EXIT_USAGE
    previous = receipt.load(options.diff) if options.diff is not None else None  # read before this run replaces them
    db_url = course_directories()[0] if options.db is None else options.db
    out = Path(options.out)
    # SIGTERM and SIGHUP end the run as Ctrl-C does, gradebook step included; the gradebook's
    # helper process imports nbgrader while the class is graded
    with stop_on_termination(), (GradebookProcess(db_url) if db_url else contextlib.nullcontext()) as books:
        status, graded = _grade_class(submissions, options)
        if status is not None:
            return status
        results, unknown, store, receipts = graded
        status, published, notes = _publish(books, results, out)
        if status is not None:
            return status
        nbgrader_folders = folders_for(db_url, out) if books else None
        status, written = _write_outputs(submissions, results, published, unknown, options, previous, store,
                                         receipts, nbgrader_folders)
        if status is not None:
            return status
    changes, file_notes = written
    return _print_run(published, unknown, notes + file_notes, changes, previous, options.diff, store, out,
                      books and books.shown, nbgrader_folders)


def _grade_class(submissions: Path, options: Options):
    """Grade every submission; each result is kept in the store as soon as it is graded.

    Returns (exit status, None) when the run stopped, else (None, (results, unknown, store, receipts)):
    the results as graded, each one whose own outputs cannot be made turned into "not graded", and
    the run's `receipt.Receipts` (its hashes, computed once)."""
    from autograder.grading.cluster import ClusterError, grade_on_cluster
    from autograder.grading.grade import WeakIsolation, grade_class
    from autograder.grading.receipt import Receipts
    from autograder.grading.scratch import Interrupted
    from autograder.grading.store import ResultStore
    from autograder.outputs import figure
    from autograder.outputs.atomic import WriteError
    from autograder.outputs.progress import Progress
    remote = functools.partial(grade_on_cluster, address=options.cluster) if options.cluster else None
    store = ResultStore(Path(options.out), options)
    progress = Progress(sys.stderr) if not options.quiet else None
    _import_in_background(figure.MODULES)

    def finished(result, done, total):
        store.save(result)  # kept at once: a run killed later still keeps it
        if progress:
            progress.update(result, done, total)
    try:
        try:
            results, unknown = grade_class(submissions, options, reuse=store.load, on_result=finished, remote=remote)
        finally:
            if progress:
                progress.close()
    except (KeyboardInterrupt, Interrupted) as exc:
        kept = store.reused + store.saved
        print(f"error: grading was interrupted ({_interruption(exc)}); the {kept} submission{'s' * (kept != 1)} "
              f"graded so far {'is' if kept == 1 else 'are'} kept in {store.folder}. "
              "Run the same command again to grade the rest.", file=sys.stderr)
        return EXIT_INTERRUPTED, None
    except WriteError as exc:  # a result could not be kept
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
        _error(f"no submissions found in {submissions} (expected <student>/<lesson>/lesson.ipynb)")
        return EXIT_USAGE, None
    receipts = Receipts(options)
    return None, ([_reportable(r, receipts, store) for r in results], unknown, store, receipts)


def _reportable(result, receipts, store):
    """`result`, or, when its own outputs (its row, feedback page, receipt) cannot be made,
    the same submission "not graded" with one incident: it costs only itself."""
    from autograder.grading.grade import grading_failed, load_master
    from autograder.grading.results import SubmissionResult
    from autograder.outputs import report
    try:
        report.table([result]).encode()  # encoded as they will be: a lone surrogate does not encode
        report.feedback_page(result).encode()
        receipts.receipt(result, store.fingerprints.get((result.student, result.lesson), {}).get("submission"))
    except Exception as exc:  # noqa: BLE001 - the fault barrier, for our outputs
        return grading_failed(load_master(result.lesson), SubmissionResult(result.student, result.lesson), exc)
    return result


def _publish(books, results, out):
    """The gradebook step: record the grades in nbgrader's gradebook (`books`, a
    GradebookProcess) and read back the grades it publishes (see gradebook/published.py).

    Returns (exit status or None, published results, notes); without a gradebook the
    results are published as graded."""
    from autograder.gradebook.process import GradebookError
    from autograder.grading.scratch import Interrupted
    if not books:
        return None, results, []
    kept = "nothing was written; the graded submissions are kept in " f"{Path(out) / '.results'}"
    try:
        published, notes = books.record(results)
    except GradebookError as exc:
        print(f"error: {exc}; {kept}, so the same command then only records and writes.", file=sys.stderr)
        return EXIT_FAILED, None, None
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"error: interrupted ({_interruption(exc)}) while updating the gradebook (it holds all of this run's "
              f"grades or none of them); {kept}. Run the same command again to finish (nothing is graded twice).",
              file=sys.stderr)
        return EXIT_INTERRUPTED, None, None
    return None, published, notes


def _write_outputs(submissions, graded, published, unknown, options, previous, store, receipts, nbgrader_folders):
    """Every output of the run, renamed into place together once all are written (see
    `atomic.together`): grades.csv, feedback pages, summary, similarity, receipts, the regrade
    diff and nbgrader's files. The published results make the pages; the graded ones, the receipts.

    Returns (exit status or None, regrade changes or None)."""
    from autograder.gradebook import nbgrader_files
    from autograder.grading import receipt
    from autograder.grading.scratch import Interrupted
    from autograder.outputs import atomic, report
    from autograder.outputs.atomic import WriteError
    from autograder.worker.course import lessons
    out = Path(options.out)
    current = [receipts.receipt(r, store.fingerprints.get((r.student, r.lesson), {}).get("submission")) for r in graded]
    changes = receipt.diff(previous, {(r["student"], r["lesson"]): r for r in current}) if previous is not None else None
    similarity_page = _similarity_page(submissions)
    notes = []
    try:
        with atomic.together():
            if similarity_page is not None:
                atomic.write(out / "similarity.html", similarity_page)
            report.write_all(published, unknown, out, lessons(), similarity=similarity_page is not None)
            receipt.write_all(current, out)
            if changes is not None:
                atomic.write(out / "regrade_diff.md", receipt.markdown(changes, options.diff))
            if nbgrader_folders:
                notes = nbgrader_files.write(published, submissions, *nbgrader_folders)
    except WriteError as exc:
        print(f"error: {exc}.", file=sys.stderr)
        return EXIT_FAILED, None
    except OSError as exc:  # nbgrader's files, read or written
        print(f"error: {WriteError(exc.errno, exc.strerror, exc.filename)}.", file=sys.stderr)
        return EXIT_FAILED, None
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"error: interrupted ({_interruption(exc)}) while writing the outputs; the previous ones are intact. "
              "Run the same command again to write them (nothing is graded twice).", file=sys.stderr)
        return EXIT_INTERRUPTED, None
    report.remove_stale_feedback(published, out, lessons())
    if similarity_page is None and (out / "similarity.html").is_file():
        (out / "similarity.html").unlink()  # it would name another class than grades.csv
    receipt.remove_stale(current, out)
    store.prune(graded)
    return None, (changes, notes)


def _print_run(results, unknown, notes, changes, previous, diff, store, out, gradebook_shown, nbgrader_folders=None):
    """The terminal's account of a finished run; returns the exit status."""
    from autograder.outputs import report
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
          + (f"\ngradebook: {gradebook_shown}" if gradebook_shown else "")
          + (f"\nnbgrader's files: {nbgrader_folders[0]} and {nbgrader_folders[1]}" if nbgrader_folders else ""))
    return EXIT_PROBLEMS if troubled or notes or unknown else EXIT_OK


def _similarity_page(submissions):
    """The similarity report's page (str), or None when making it failed: bounded in time, and
    whatever fails in it costs the report only (said in one line)."""
    from autograder.grading import similarity
    try:
        pairs, left_out = similarity.rank(submissions)
        return similarity.page(pairs, left_out=left_out)
    except Exception as exc:  # noqa: BLE001 - no grade depends on it
        print(f"note: the similarity report was not written ({type(exc).__name__}: {str(exc)[:200]})", file=sys.stderr)
        return None


def _similarity(args: argparse.Namespace) -> int:
    """`similarity SUBMISSIONS [--out F] [--top N]`: rank pairs of students by similar answer cells."""
    from autograder.grading import similarity
    from autograder.outputs.report import terminal_text
    if not Path(args.submissions).is_dir():
        _error(f"{args.submissions} is not a folder of submissions (<student>/<lesson>/lesson.ipynb)")
        return EXIT_USAGE
    pairs, left_out = similarity.write(args.submissions, args.out, args.top)
    for p in pairs[:5]:
        print(terminal_text(f"{p.score:.2f}  {p.lesson}  {p.a.student} / {p.b.student}"))
    print(f"similarity: {args.out} ({len(pairs)} pairs; it reports, it changes no grade)"
          + (f"; {len(left_out)} submissions not read in time, named in it" if left_out else ""))
    return EXIT_OK


def _import_in_background(modules):
    """Import `modules` in a thread, while grading mostly waits for its workers: the slowest
    import of a run (matplotlib) then costs it little. The imports hold `cells.PARSING`, since
    matplotlib's modules parse Python as they are imported. Returns the (started) thread."""
    from autograder.worker.cells import PARSING

    def import_all():
        with PARSING:
            for name in modules:
                importlib.import_module(name)
    thread = threading.Thread(target=import_all, name="imports", daemon=True)
    thread.start()
    return thread


def _grade(args: argparse.Namespace) -> int:
    from autograder.grading.options import from_arguments
    return grade(args.submissions, from_arguments(args))


def _release(args: argparse.Namespace) -> int:
    from autograder.authoring import release
    return release.release(args.lessons, args.into, args.force)


def _sample_class(args: argparse.Namespace) -> int:
    from autograder.authoring.sample_class import HANDED_IN, NotASampleClass, write_class
    try:
        count = write_class(args.folder, HANDED_IN)
    except NotASampleClass as exc:
        _error(f"{exc}.")
        return EXIT_USAGE
    print(f"sample class: {count} submissions in {args.folder}")
    return EXIT_OK


def _bundle(args: argparse.Namespace) -> int:
    from autograder.authoring import release
    return release.bundle(args.out, args.force)


def _guard(args: argparse.Namespace) -> int:
    from autograder.authoring.guard import guard
    return guard(args.folder, args.target, args.gradebook, args.submitted)


def _workspace(args: argparse.Namespace) -> int:
    from autograder.authoring import workspace
    from autograder.worker.course import ROOT
    done = workspace.make_workspace(ROOT / workspace.RELEASE, ROOT / workspace.WORK)
    print("\n".join(done) or f"{workspace.WORK}/ is up to date")
    return EXIT_OK


def _gradescope(args: argparse.Namespace) -> int:
    from autograder.lms.gradescope import build
    for archive in build(args.out, args.lesson, args.visible_cases, args.hidden_cases):
        print(f"Gradescope autograder: {archive} (one Gradescope assignment per lesson)")
    return EXIT_OK


def _gradescope_run(args: argparse.Namespace) -> int:
    from autograder.lms.gradescope import run
    return run()


def _canvas_export(args: argparse.Namespace) -> int:
    from autograder.lms.canvas import export
    pairs = [a.split("=", 1) for a in args.assignment]
    if any(len(p) != 2 or not all(p) for p in pairs):
        _error("--assignment takes LESSON=ID, e.g. 02_batch_norm=12345")
        return EXIT_USAGE
    unmatched = export(args.grades, args.roster, args.out, args.key, dict(pairs), args.missing_as_zero)
    return EXIT_PROBLEMS if unmatched else EXIT_OK


def _bench(args: argparse.Namespace) -> int:
    from autograder.authoring import bench
    return bench.main()


def _mutation(args: argparse.Namespace) -> int:
    from autograder.authoring import mutation
    return mutation.run(args.mutants, args.seed)


def _hub(args: argparse.Namespace) -> int:
    from autograder.authoring import hub
    return hub.main(args.port)


def _selfcheck(args: argparse.Namespace) -> int:
    from autograder.student.selfcheck import selfcheck
    return selfcheck(args.notebook)


def _lab(args: argparse.Namespace) -> int:
    from autograder.student.lab import start
    return start(args.folder, args.instructor, args.jupyter_options)


def _figures(args: argparse.Namespace) -> int:
    from lessonkit import figures
    figures.main(*([args.out] if args.out else []))
    return EXIT_OK


def _add_grade_options(p: argparse.ArgumentParser) -> None:
    from autograder.grading.options import add_arguments
    add_arguments(p)


def _add_lms_options(gradescope: argparse.ArgumentParser, canvas: argparse.ArgumentParser) -> None:
    from autograder.lms import canvas as canvas_module
    from autograder.lms.gradescope import VISIBILITIES
    gradescope.add_argument("--lesson", help="the lesson of the Gradescope assignment: OUT/autograder.zip "
                            "(default: one zip per lesson, OUT/<lesson>/autograder.zip)")
    gradescope.add_argument("--out", default="build/gradescope")
    gradescope.add_argument("--visible-cases", default="visible", choices=VISIBILITIES,
                            help="visibility of items passed or failed on a visible case")
    gradescope.add_argument("--hidden-cases", default="after_due_date", choices=VISIBILITIES,
                            help="visibility of items failed on a hidden case")
    canvas.description = canvas_module.__doc__
    canvas.formatter_class = argparse.RawDescriptionHelpFormatter


#: command -> (what it does, in one line; the function that runs it; whether it runs outside the course tree)
COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int], bool]] = {
    "selfcheck": ("check a notebook before submitting: run it as the grader does, print each item's verdict",
                  _selfcheck, True),
    "lab": ("JupyterLab: student mode (the lessons, nbgrader's Validate button) or --instructor (every tool)",
            _lab, True),
    "figures": ("redraw every figure the lessons show into solutions/<lesson>/figures/ (then release)", _figures, True),
    "release": ("solutions/ -> notebooks/ (nbgrader generate_assignment); never over a student's work", _release, False),
    "sample-class": ("build the sample class (correct, mistaken and broken submissions with known verdicts)",
                     _sample_class, False),
    "grade": ("grade a class: grades.csv, feedback/, summary, receipts, the gradebook; print the table", _grade, False),
    "similarity": ("rank pairs of students by similar answer cells, as HTML (changes no grade)", _similarity, False),
    "bundle": ("what students receive (lessons, figures, shared code, visible checks), zipped", _bundle, False),
    "workspace": ("work/: copy notebooks/ where missing or untouched (never over a student's work)", _workspace, False),
    "guard": ("exit 1 if deleting FOLDER, --gradebook or --submitted would lose a student's work or an instructor's "
              "grades", _guard, False),
    "gradescope": ("write Gradescope's autograder zip of a lesson (or one per lesson)", _gradescope, False),
    "gradescope-run": ("grade the one submission inside Gradescope (what its run_autograder runs)",
                       _gradescope_run, False),
    "canvas-export": ("grades.csv -> Canvas's grade import CSV", _canvas_export, False),
    "bench": ("time the master notebooks and grading (ours vs plain nbgrader autograde); slow", _bench, False),
    "mutation": ("mutation testing of checks/ and judge/ with cosmic-ray, a seeded sample; slow", _mutation, False),
    "hub": ("JupyterHub on 127.0.0.1: sample students and an instructor as system users, nbgrader's exchange (root)",
            _hub, False),
}


def in_course_tree() -> bool:
    """Whether the private folders (`autograder.PRIVATE`) are here: the instructor's course tree, not the bundle."""
    return all((Path(autograder.__file__).parent / folder).is_dir() for folder in autograder.PRIVATE)


def parser(course_tree: bool = True) -> argparse.ArgumentParser:
    """Every command's parser; an instructor command's options only where its modules are (`course_tree`)."""
    top = argparse.ArgumentParser(
        prog="python -m autograder", description="The course's commands. Those marked instructor need the "
        "instructor's course tree; selfcheck, lab and figures run in the student bundle too.",
        epilog="`python -m autograder COMMAND --help` shows a command's options; the exit statuses are "
               "autograder/cli.py's EXIT_* constants.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # no abbreviated flags: lab passes the ones it does not know to jupyter lab
    p = {name: sub.add_parser(name, help=("" if anywhere else "instructor: ") + what, description=what,
                              allow_abbrev=False) for name, (what, _, anywhere) in COMMANDS.items()}
    p["selfcheck"].add_argument("notebook")
    p["lab"].add_argument("--instructor", action="store_true",
                          help="every nbgrader tool (Formgrader, Create Assignment) on the whole course")
    p["lab"].add_argument("folder", nargs="?",
                          help="the folder the file browser opens on (default: notebooks/, or solutions/ with --instructor)")
    p["lab"].epilog = "Other options (in the --name=value form) go to jupyter lab, e.g. --port=8888."
    p["figures"].add_argument("--out", help="write them into OUT/<lesson>/figures/, not solutions/ (notebooks/ in a bundle)")
    p["release"].add_argument("lessons", nargs="*")
    p["release"].add_argument("--into", help="write the student copies here instead of notebooks/")
    p["release"].add_argument("--force", action="store_true", help="replace copies that hold a student's work")
    p["sample-class"].add_argument("folder", nargs="?", default="build/submitted",
                                   help="replaced as a whole if empty or an earlier sample class (default: "
                                   "build/submitted, the course's nbgrader submitted folder)")
    p["grade"].add_argument("submissions", help="a folder of <student>/<lesson>/lesson.ipynb")
    p["similarity"].add_argument("submissions")
    p["similarity"].add_argument("--out", default="build/grades/similarity.html")
    p["similarity"].add_argument("--top", type=int, default=20, help="pairs shown")
    p["bundle"].add_argument("--out", default="build/student-bundle")
    p["bundle"].add_argument("--force", action="store_true", help="replace the bundle even if a notebook in it holds work")
    p["guard"].add_argument("folder", nargs="?", help="checked for notebooks holding a student's work")
    p["guard"].add_argument("--gradebook", help="an SQLite gradebook, checked for what a person set in nbgrader")
    p["guard"].add_argument("--submitted", help="nbgrader's submitted folder, checked for submissions other than "
                                                "the sample class")
    p["guard"].add_argument("--target", default="make clean", help="the command about to delete FOLDER, for the message")
    p["canvas-export"].add_argument("--grades", default="build/grades/grades.csv")
    p["canvas-export"].add_argument("--roster", required=True)
    p["canvas-export"].add_argument("--out", default="build/grades/canvas.csv")
    p["canvas-export"].add_argument("--key", default="student", help="the roster's column of the course's student ids")
    p["canvas-export"].add_argument("--assignment", action="append", default=[], metavar="LESSON=ID",
                                    help="the Canvas assignment id of a lesson (repeatable)")
    p["canvas-export"].add_argument("--missing-as-zero", action="store_true",
                                    help="a lesson a graded student did not submit: 0 (default: empty, Canvas's missing)")
    p["mutation"].add_argument("--mutants", type=int, default=40, help="how many mutants to run (a seeded sample)")
    p["mutation"].add_argument("--seed", type=int, default=0)
    p["hub"].add_argument("--port", type=int, default=8000, help="the hub's port on 127.0.0.1 (it also uses the next two)")
    if course_tree:
        _add_grade_options(p["grade"])
        _add_lms_options(p["gradescope"], p["canvas-export"])
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one command (`argv`: the command line after ``python -m autograder``); returns its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    course_tree = in_course_tree()
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in COMMANDS and not COMMANDS[command][2] and not course_tree:
        _error(f"`{command}` is for the instructor's course tree (it needs autograder/'s private folders, "
               "which this copy does not have); here: " + ", ".join(c for c, (*_, anywhere) in COMMANDS.items() if anywhere))
        return EXIT_USAGE
    args, extra = parser(course_tree).parse_known_args(argv)
    if args.command == "lab":
        args.jupyter_options = extra
    elif extra:
        parser(course_tree).parse_args(argv)  # argparse's own message for what it did not recognize; exits 2
    if course_tree:
        from autograder.gradebook.nbgrader_cmd import with_venv_on_path
        os.environ.update(PATH=with_venv_on_path()["PATH"])  # nbgrader runs this environment's commands
    return COMMANDS[args.command][1](args)
