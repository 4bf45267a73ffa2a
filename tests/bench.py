"""`make bench`: speed and memory, printed as medians over several runs of one session.

1. Executing each master notebook top to bottom (what CI's nbval run costs).
2. Grading the sample class with this course's `grade` command, per submitted notebook.
3. The same submissions with plain `nbgrader autograde`, per notebook, and the ratio.

Both graders get the same submissions (the sample class without the two that stop
plain nbgrader: the corrupt notebook makes it exit 1 and the infinite loop costs it the
cell timeout per cell; the others with problems, such as deleted test cells, are kept).
`grade` exits 3 on this class by design (some submissions have problems). Set BENCH_REPEATS to change the number of runs (default 3).
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


def bench_ours(folder, count, scratch, *flags):
    runs = []
    for k in range(REPEATS):
        runs.append(timed([sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(scratch / f"ours{k}"),
                           "--db", "", *flags], ok=(0, 3), cwd=ROOT, env=env_with_venv()))
    return statistics.median(runs) / count, runs


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
        bench_masters(scratch)
        folder, count = sample_submissions(scratch)
        print(f"\nGrading {count} submitted notebooks of the sample class:")
        ours, ours_runs = bench_ours(folder, count, scratch)
        print(f"  course `grade` command   median {ours:5.2f} s per notebook  (whole class: "
              f"{', '.join(f'{r:.1f}' for r in ours_runs)} s)")
        bare, bare_runs = bench_ours(folder, count, scratch, "--no-isolation")
        print(f"  same, without namespaces median {bare:5.2f} s per notebook  (whole class: "
              f"{', '.join(f'{r:.1f}' for r in bare_runs)} s); isolation costs {ours - bare:+.2f} s per notebook")
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
