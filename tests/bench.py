"""`make bench`: speed and memory, printed as medians over several runs of one session.

1. Executing each master notebook top to bottom (what CI's nbval run costs).
2. One notebook of one student, from the command to the feedback page: the wall time of
   `grade` on a class of one (without a gradebook, then with the course's SQLite one).
3. Grading the sample class with this course's `grade` command, per submitted notebook
   (warm: after one run, as an instructor's second class is).
4. The same submissions with plain `nbgrader autograde`, per notebook, and the ratio.

Both graders get the same submissions (the sample class without the two that stop
plain nbgrader: the corrupt notebook makes it exit 1 and the infinite loop costs it the
cell timeout per cell; the others with problems, such as deleted test cells, are kept).
`grade` exits 3 on this class by design (some submissions have problems). Set BENCH_REPEATS to change the number of runs (default 3).
BENCH_ONLY=latency,class runs only those sections (of masters, latency, class, nbgrader);
BENCH_BASELINE=DIR also times sections 2 and 3 with the grader of another checkout (e.g. the
main branch), run by turns with this one so that both see the same load.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.grade import lessons
from tests.sample_class import write_class

ROOT = Path(__file__).resolve().parent.parent
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
SECTIONS = set(os.environ.get("BENCH_ONLY", "masters,latency,class,nbgrader").split(","))
BASELINE = os.environ.get("BENCH_BASELINE")
SKIP_FOR_NBGRADER = {"corrupt-notebook", "infinite-loop"}


def timed(cmd, ok=(0,), **kw):
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - start


def env_with_venv():
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def bench_masters(scratch):
    print("Executing each master notebook top to bottom (nbconvert), seconds:")
    for lesson in lessons():
        runs = [timed([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                       "--output", str(scratch / f"{lesson}.ipynb"), f"solutions/{lesson}/lesson.ipynb"],
                      cwd=ROOT, env=env_with_venv()) for _ in range(REPEATS)]
        print(f"  {lesson:<28} median {statistics.median(runs):6.2f}  (runs: {', '.join(f'{r:.2f}' for r in runs)})")


def sample_submissions(scratch):
    folder = scratch / "class"
    write_class(folder)
    for student in SKIP_FOR_NBGRADER:
        shutil.rmtree(folder / student, ignore_errors=True)
    return folder, sum(1 for _ in folder.glob("*/*/*.ipynb"))


def grade_cmd(folder, out, db="", *flags):
    return [sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out), "--db", db, *flags]


def bench_ours(folder, count, scratch, *flags):
    runs = []
    for k in range(REPEATS):
        runs.append(timed(grade_cmd(folder, scratch / f"ours{k}", "", *flags), ok=(0, 3), cwd=ROOT, env=env_with_venv()))
    return statistics.median(runs) / count, runs


def trees():
    """(label, checkout) of each grader to time: this one, and BENCH_BASELINE's if set."""
    return [("this checkout", ROOT)] + ([(f"baseline {BASELINE}", Path(BASELINE).resolve())] if BASELINE else [])


def by_turns(make_cmd, ok=(0, 3)):
    """Median wall time of each tree's command, the trees run by turns; {label: (median, runs)}."""
    runs = {label: [] for label, _ in trees()}
    for k in range(REPEATS):
        for label, tree in trees():
            runs[label].append(timed(make_cmd(tree, k), ok=ok, cwd=tree, env=env_with_venv()))
    return {label: (statistics.median(r), r) for label, r in runs.items()}


def bench_latency(scratch):
    """One student, one notebook: command to feedback page, with and without the gradebook."""
    from tests.catalogue import build, catalogue
    folder = scratch / "one" / "student" / "02_batch_norm"
    folder.mkdir(parents=True)
    variant = next(v for v in catalogue()["02_batch_norm"] if v.name == "correct")
    (folder / variant.filename).write_bytes(build("02_batch_norm", variant))
    print("\nOne notebook of one student, `grade` from the command to the feedback page (wall s):")
    for label, tree in trees():  # first runs: fill the reference cache (if any) and a new gradebook
        cold = timed(grade_cmd(scratch / "one", scratch / "first"), cwd=tree, env=env_with_venv())
        new_db = timed(grade_cmd(scratch / "one", scratch / "first", f"sqlite:///{scratch}/gb-{tree.name}.db"),
                       cwd=tree, env=env_with_venv())
        print(f"  {label}: first run {cold:.2f}, first run with a new gradebook {new_db:.2f}")
    for db, what in [(False, "without a gradebook (--db '')"), (True, "with the SQLite gradebook")]:
        figures = by_turns(lambda tree, k: grade_cmd(scratch / "one", scratch / f"one-out{k}",
                                                     f"sqlite:///{scratch}/gb-{tree.name}.db" if db else ""))
        for label, (median, runs) in figures.items():
            print(f"  {what:<30} {label}: median {median:5.2f}  (runs: {', '.join(f'{r:.2f}' for r in runs)})")


def bench_class(folder, count, scratch):
    """Per-notebook cost on the sample class, warm (after one run, reference results cached)."""
    for _, tree in trees():
        timed(grade_cmd(folder, scratch / "warm-up"), ok=(0, 3), cwd=tree, env=env_with_venv())
    figures = by_turns(lambda tree, k: grade_cmd(folder, scratch / f"class-out{k}"))
    for label, (median, runs) in figures.items():
        print(f"  course `grade` command, warm, {label}: median {median / count:5.2f} s per notebook  (whole class: "
              f"{', '.join(f'{r:.1f}' for r in runs)} s)")
    return figures["this checkout"][0] / count


def bench_nbgrader(folder, count, scratch):
    """Plain `nbgrader autograde` per lesson in a throw-away course folder."""
    runs = []
    for k in range(REPEATS):
        course = scratch / f"nbgrader{k}"
        course.mkdir()
        (course / "source").symlink_to(ROOT / "solutions")
        shutil.copytree(folder, course / "submitted")
        common = [f"--CourseDirectory.root={course}", "--CourseDirectory.source_directory=source",
                  "--CourseDirectory.submitted_directory=submitted", f"--CourseDirectory.db_url=sqlite:///{course}/gb.db",
                  f"--CourseDirectory.release_directory={course}/release", "--log-level=ERROR"]
        graded_lessons = sorted({p.parent.name for p in folder.glob("*/*/*.ipynb")})
        for lesson in graded_lessons:
            subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", lesson, "--force", *common],
                           cwd=course, env=env_with_venv(), check=True, capture_output=True)
        start = time.perf_counter()
        for lesson in graded_lessons:
            subprocess.run([sys.executable, "-m", "nbgrader", "autograde", lesson, "--create", *common],
                           cwd=course, env=env_with_venv(), capture_output=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) / count, runs


def main():
    scratch = Path(tempfile.mkdtemp(prefix="course-bench-"))
    try:
        print(f"{REPEATS} runs each; {os.cpu_count()} cores.\n")
        if "masters" in SECTIONS:
            bench_masters(scratch)
        if "latency" in SECTIONS:
            bench_latency(scratch)
        folder, count = sample_submissions(scratch)
        print(f"\nGrading {count} submitted notebooks of the sample class:")
        if "class" in SECTIONS:
            ours = bench_class(folder, count, scratch)
            bare, bare_runs = bench_ours(folder, count, scratch, "--no-isolation")
            print(f"  same, without namespaces median {bare:5.2f} s per notebook  (whole class: "
                  f"{', '.join(f'{r:.1f}' for r in bare_runs)} s); isolation costs {ours - bare:+.2f} s per notebook")
        if "nbgrader" in SECTIONS:
            ours = ours if "class" in SECTIONS else bench_ours(folder, count, scratch)[0]
            theirs, their_runs = bench_nbgrader(folder, count, scratch)
            print(f"  plain nbgrader autograde median {theirs:5.2f} s per notebook  (whole class: "
                  f"{', '.join(f'{r:.1f}' for r in their_runs)} s)")
            print(f"  ratio nbgrader / course grader: {theirs / ours:.1f}x")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"\nPeak resident memory of any one child process: {peak:.0f} MiB")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
