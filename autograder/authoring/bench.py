"""`python -m autograder bench` (`make bench`): speed and memory, printed as medians over several runs of one session.

1. Executing each master notebook top to bottom (what CI's nbval run costs).
2. One notebook of one student, from the command to the feedback page: the wall time of
   `grade` on a class of one (without a gradebook, then with the course's SQLite one).
3. Grading the sample class with this course's `grade` command, per submitted notebook
   (warm: after one run, as an instructor's second class is).
4. The same submissions with plain `nbgrader autograde`, per notebook, and the ratio.
5. With 1 and 2 local workers, on a local 2-worker Dask cluster, and an unchanged-class regrade.
6. Class size: wall and CPU per notebook for 30 and 300 students (flat = isolation does not
   grow with the class).
7. Recording the graded sample class into nbgrader's gradebook (`gradebook.record`, what the
   helper process runs): SQLite and a PostgreSQL server the bench starts on 127.0.0.1
   (`local_postgres`; `make bench` installs Debian's postgresql as root), new submissions
   and the same again (already graded), and the ratio.
8. Grading on submit (`hub_service`): with a warm service on a local exchange, the seconds from the
   exchange holding a submission to its feedback being fetchable, and the service's grading of it.

Both graders get the same submissions (the sample class without the two that stop
plain nbgrader: the corrupt notebook makes it exit 1 and the infinite loop costs it the
cell timeout per cell; the others with problems, such as deleted test cells, are kept).
`grade` exits 3 on this class by design (some submissions have problems). Set BENCH_REPEATS to
change the number of runs (default 3).
BENCH_ONLY=latency,class runs only those sections (of masters, latency, class, nbgrader,
workers, cluster, regrade, scale, gradebook, service);
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
from dataclasses import replace
from pathlib import Path

from autograder.authoring.sample_class import write_class
from autograder.worker.course import ROOT, lessons

REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
ALL_SECTIONS = "masters,latency,class,nbgrader,workers,cluster,regrade,scale,gradebook,service"
SECTIONS = set(os.environ.get("BENCH_ONLY", ALL_SECTIONS).split(","))
BASELINE = os.environ.get("BENCH_BASELINE")
SKIP_FOR_NBGRADER = {"corrupt-notebook", "infinite-loop"}


def timed(cmd, ok=(0,), **kw):
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - start


def timed_to_file(cmd, path, ok=(0,), **kw):
    """(seconds until `path` exists, seconds until `cmd` ends): the grader writes its outputs
    whole (atomic rename), so the file's appearance is the moment it is ready."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    ready = None
    while proc.poll() is None:
        if ready is None and path.exists():
            ready = time.perf_counter() - start
        time.sleep(0.002)
    ended = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {stderr[-2000:]}")
    return (ended if ready is None else ready), ended


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
    from autograder.authoring.catalogue import build, catalogue
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
        runs = {label: [] for label, _ in trees()}
        for k in range(REPEATS):
            for label, tree in trees():
                out = scratch / f"one-out{k}-{tree.name}-{db}"
                cmd = grade_cmd(scratch / "one", out, f"sqlite:///{scratch}/gb-{tree.name}.db" if db else "")
                runs[label].append(timed_to_file(cmd, out / "feedback" / "student" / "02_batch_norm.html",
                                                 cwd=tree, env=env_with_venv()))
        for label, pairs in runs.items():
            page, end = (statistics.median(p[i] for p in pairs) for i in (0, 1))
            print(f"  {what:<30} {label}: feedback page median {page:5.2f}, command ends median {end:5.2f}  "
                  f"(runs: {', '.join(f'{a:.2f}/{b:.2f}' for a, b in pairs)})")


def bench_class(folder, count, scratch):
    """Per-notebook cost on the sample class, warm (after one run, reference results cached)."""
    for _, tree in trees():
        timed(grade_cmd(folder, scratch / "warm-up"), ok=(0, 3), cwd=tree, env=env_with_venv())
    figures = by_turns(lambda tree, k: grade_cmd(folder, scratch / f"class-out{k}-{tree.name}"))
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


def cpu_of(cmd, **kw):
    """(wall seconds, CPU seconds of the command and everything it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(cmd, **kw)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def one_lesson_class(folder, students, lesson="04_initialization"):
    """`students` correct submissions of one lesson (the same notebook under other names)."""
    from autograder.authoring.catalogue import Variant, build
    data = build(lesson, Variant("correct"))
    for k in range(students):
        target = folder / f"student{k:04d}" / lesson
        target.mkdir(parents=True)
        (target / "lesson.ipynb").write_bytes(data)
    return folder


def bench_scale(scratch):
    """Wall and CPU per notebook for 30 and 300 students: isolation must not grow with the class."""
    print("\nClass size (lesson 04, correct notebooks, 2 workers), per notebook:")
    rows = {}
    for students in (30, 300):
        folder = one_lesson_class(scratch / f"scale{students}", students)
        wall, cpu = cpu_of([sys.executable, "-m", "autograder", "grade", str(folder), "--out",
                            str(scratch / f"scale{students}-out"), "--db", "", "-q"], ok=(0, 3), cwd=ROOT,
                           env=env_with_venv())
        rows[students] = (wall / students, cpu / students)
        print(f"  {students:>4} students: wall {wall:6.1f} s, {wall / students:5.3f} s per notebook; "
              f"CPU {cpu / students:5.3f} s per notebook")
    print(f"  300 vs 30: wall per notebook x{rows[300][0] / rows[30][0]:.2f}, "
          f"CPU per notebook x{rows[300][1] / rows[30][1]:.2f} (1.00 = linear)")


def bench_regrade(folder, count, scratch):
    """A regrade of an unchanged class reuses every result (store.py)."""
    out = scratch / "regrade"
    first = timed([sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out), "--db", "", "-q"],
                  ok=(0, 3), cwd=ROOT, env=env_with_venv())
    again = [timed([sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out), "--db", "", "-q"],
                   ok=(0, 3), cwd=ROOT, env=env_with_venv()) for _ in range(REPEATS)]
    print(f"  unchanged-class regrade  median {statistics.median(again):5.2f} s for all {count} notebooks "
          f"(first grading {first:.1f} s)")


def bench_workers(folder, count, scratch):
    for workers in (1, 2):
        runs = [timed([sys.executable, "-m", "autograder", "grade", str(folder), "--out",
                       str(scratch / f"w{workers}-{k}"), "--db", "", "-q", "--workers", str(workers)],
                      ok=(0, 3), cwd=ROOT, env=env_with_venv()) for k in range(REPEATS)]
        print(f"  {workers} local worker{'s' * (workers > 1)}          median {statistics.median(runs) / count:5.2f} s "
              f"per notebook")


def bench_cluster(folder, count, scratch):
    """The same class on a local Dask cluster (a scheduler and two one-thread worker processes),
    by turns with two local workers so that both see the same load, and their ratio per notebook.

    The cluster's start-up (scheduler and workers, once per term) is timed apart; the first run
    after it (workers not yet warm) is printed apart from the median too, as is their sum."""
    dask = str(Path(sys.executable).parent / "dask")
    if not Path(dask).exists():
        print("  (dask not installed: no cluster figure)")
        return
    from autograder.grading.cluster import wait_for_workers
    procs = []
    try:
        start = time.perf_counter()
        scheduler_file = scratch / "scheduler.json"
        procs.append(subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                       "--scheduler-file", str(scheduler_file)], cwd=ROOT, env=env_with_venv(),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        import json
        address = json.loads(scheduler_file.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                           "--no-dashboard", "--local-directory", str(scratch / "dask")],
                                          cwd=ROOT, env=env_with_venv(), stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        wait_for_workers(address, 2, seconds=120)
        started = time.perf_counter() - start
        local, remote = [], []
        for k in range(REPEATS):
            local.append(timed([sys.executable, "-m", "autograder", "grade", str(folder), "--out",
                                str(scratch / f"local2-{k}"), "--db", "", "-q", "--workers", "2"],
                               ok=(0, 3), cwd=ROOT, env=env_with_venv()))
            remote.append(timed([sys.executable, "-m", "autograder", "grade", str(folder), "--out",
                                 str(scratch / f"dask{k}"), "--db", "", "-q", "--cluster", address],
                                ok=(0, 3), cwd=ROOT, env=env_with_venv()))
        ours, theirs = statistics.median(remote) / count, statistics.median(local) / count
        print(f"  local Dask cluster (2 workers) median {ours:5.2f} s per notebook  (whole class: "
              f"{', '.join(f'{r:.1f}' for r in remote)} s; 2 local workers by turns: "
              f"{', '.join(f'{r:.1f}' for r in local)} s)")
        print(f"  ratio cluster / 2 local workers: {ours / theirs:.2f}x per notebook (medians; run by run: "
              f"{', '.join(f'{r / l:.2f}x' for r, l in zip(remote, local))}); first run after "
              f"start-up {remote[0] / count:.2f} s per notebook ({remote[0] / local[0]:.2f}x)")
        print(f"  cluster start-up (scheduler + 2 workers, once per term) {started:.1f} s; with the first run: "
              f"{(started + remote[0]) / count:.2f} s per notebook")
    finally:
        for proc in reversed(procs):  # workers first, as an instructor stops them: they close their graders
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def bench_gradebook(folder, scratch):
    """Recording the graded class into SQLite and PostgreSQL: new submissions, then already graded."""
    from autograder.authoring import local_postgres
    from autograder.gradebook import nbgrader_cmd
    from autograder.grading.grade import grade_class
    os.environ.update(PATH=nbgrader_cmd.with_venv_on_path()["PATH"], PGPASSWORD=local_postgres.PASSWORD)
    results, _ = grade_class(folder)
    print(f"\nRecording the {len(results)} graded submissions into nbgrader's gradebook (s):")
    known = scratch / "known.db"

    def sqlite_copy(k):
        shutil.copy(known, scratch / f"gradebook{k}.db")
        return f"sqlite:///{scratch / f'gradebook{k}.db'}"
    sqlite = recording_times(results, f"sqlite:///{known}", sqlite_copy)
    print_recording("SQLite", sqlite)
    try:
        with local_postgres.server(["known"]) as url:
            postgresql = recording_times(results, url("known"), lambda k: postgres_copy(url, "known", f"run{k}"))
    except local_postgres.Unavailable as exc:
        print(f"  (no PostgreSQL row: {str(exc).splitlines()[0]})")
        return
    print_recording("PostgreSQL on 127.0.0.1", postgresql)
    print(f"  PostgreSQL / SQLite: new submissions x{postgresql['new'][0] / sqlite['new'][0]:.2f}, "
          f"already graded x{postgresql['again'][0] / sqlite['again'][0]:.2f}")


def recording_times(results, known, fresh_copy):
    """Median seconds (and SQL statements) of `record`: registering the lessons into `known`
    once, then REPEATS times into `fresh_copy(k)` (a copy of `known`): the class, and again."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from autograder.gradebook.record import record
    sent = []

    def count(*args):
        sent.append(1)

    def timed_record(url, batch):
        sent.clear()
        start = time.perf_counter()
        record(batch, url)
        return time.perf_counter() - start, len(sent)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        first_of_each = list({r.lesson: r for r in results}.values())
        figures = {"lessons": [timed_record(known, [replace(r, student="bench-earlier") for r in first_of_each])]}
        for k in range(REPEATS):
            url = fresh_copy(k)
            for label in ("new", "again"):
                figures.setdefault(label, []).append(timed_record(url, results))
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return {label: (statistics.median(s for s, _ in runs), runs) for label, runs in figures.items()}


def postgres_copy(url, template, name):
    """A new database `name` of the server `url`, a copy of `template`; returns its URL."""
    from sqlalchemy import create_engine, text

    from autograder.authoring import local_postgres
    admin = create_engine(url("postgres"), connect_args={"password": local_postgres.PASSWORD},
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    finally:
        admin.dispose()
    return url(name)


def print_recording(label, figures):
    for what, key in [("registering the lessons (nbgrader generate_assignment)", "lessons"),
                      ("new submissions", "new"), ("already graded, unchanged", "again")]:
        median, runs = figures[key]
        print(f"  {label:<24} {what:<55} median {median:6.2f}  (runs: "
              f"{', '.join(f'{s:.2f}' for s, _ in runs)}; {runs[0][1]} SQL statements)")


def bench_service(scratch):
    """Grading on submit with a warm service (its thread in this process): a student submits with nbgrader's
    ExchangeSubmit; timed from the moment the exchange holds the submission (its folder's last change,
    nbgrader's chmod) to the moment its feedback is where nbgrader's fetch_feedback looks, and the service's
    grading of it (the journal's collected -> graded)."""
    import threading

    from autograder.authoring import local_exchange
    from autograder.authoring.catalogue import build, catalogue
    from autograder.hub_service import inbound, policy, release
    from autograder.hub_service.service import Service
    exchange = local_exchange.make_exchange(scratch / "service" / "exchange")
    course = local_exchange.make_course(scratch / "service" / "course")
    (course / policy.FILE).write_text('[defaults]\nfeedback = "at_once"\nper_hour = 1000\n')
    notebook = build("02_batch_norm", next(v for v in catalogue()["02_batch_norm"] if v.name == "correct"))
    service = Service(exchange, local_exchange.course_id(), course, scratch / "service" / "state",
                      out=open(os.devnull, "w"))
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,))
    thread.start()
    print("\nGrading on submit, a warm service (the first submission is not counted):")
    try:
        feedback = exchange / local_exchange.course_id() / "feedback"
        to_feedback, grading = [], []
        for k in range(REPEATS + 1):
            folder = local_exchange.submit(exchange, scratch / "service" / "home", "root", "02_batch_norm", notebook)
            held = os.lstat(folder).st_ctime
            page = feedback / release.feedback_name(inbound.secret(folder))
            while not page.exists():
                time.sleep(0.005)
            fetchable = time.time()
            while service.journal.step(folder.name) != "done":
                time.sleep(0.01)
            steps = {e["step"]: e["at"] for e in service.journal.entries[folder.name]}
            if k:
                to_feedback.append(fetchable - held)
                grading.append(steps["graded"] - steps["collected"])
        print(f"  exchange holds it -> feedback fetchable: median {statistics.median(to_feedback):.2f} s (target < 3; "
              f"runs: {', '.join(f'{t:.2f}' for t in to_feedback)})")
        print(f"  the warm service's grading of it: median {statistics.median(grading):.2f} s (target < 0.5; "
              f"runs: {', '.join(f'{t:.2f}' for t in grading)})")
    finally:
        stop.set()
        thread.join()


def main() -> int:
    """Run the sections BENCH_ONLY names (all by default), printing as it goes."""
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
        if "workers" in SECTIONS:
            bench_workers(folder, count, scratch)
        if "cluster" in SECTIONS:
            bench_cluster(folder, count, scratch)
        if "regrade" in SECTIONS:
            bench_regrade(folder, count, scratch)
        if "scale" in SECTIONS:
            bench_scale(scratch)
        if "gradebook" in SECTIONS:
            bench_gradebook(folder, scratch)
        if "service" in SECTIONS:
            bench_service(scratch)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"\nPeak resident memory of any one child process: {peak:.0f} MiB")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0
