"""Grade a class on a running Dask cluster: one task per submission, graded on a worker.

The client (`grade --cluster ADDRESS`) reads each submission with the grader's own safe
reader (`notebook.find_notebook`, `notebook.read_regular_file`) and sends the notebook's
bytes with its task, so workers need no shared filesystem for submissions; they need the
course itself (the same checkout, installed in the same environment): every task carries a
hash of the client's (`checkout`), and a worker whose own differs refuses the task, so a
stale worker never grades with other masters, judges or packages. On the worker the
task writes the bytes into a folder of its own and grades them in the worker process's warm
`grade.GradingSession` (`worker_session`: one per process and grading options, started at its
first task and closed with the worker, so a cluster pays per submission what a local pool
does): the student's code runs confined there (isolation.py), the judge runs in the worker's
grader process, and only the plain-data result comes back.

A worker that dies mid-class costs nothing: the scheduler runs its tasks again elsewhere,
an attempt never sees what an earlier one left (a fresh folder each, and the session's
working folder of the submission removed before and after it), and the client keeps
one result per (student, lesson), in the order of a local run. A task that fails (it
raised, or every worker that ran it died) costs its own submission only: "not graded",
with one incident, as in a local run. A scheduler that goes away ends the run with
`ClusterError` before anything is written.
"""
import atexit
import contextlib
import dataclasses
import functools
import hashlib
import logging
import tempfile
import threading
import uuid
from pathlib import Path

from autograder.grading.results import from_plain, to_plain

#: Extra runs of a task that raised (a task whose worker died is re-run by the scheduler,
#: up to its `distributed.scheduler.allowed-failures`, without counting here).
RETRIES = 2
#: How long the client waits for the scheduler to answer at the start.
CONNECT_SECONDS = 10

#: The name of the worker plugin that closes a worker's sessions when the worker closes.
PLUGIN = "course-grading-sessions"

_sessions_lock, _sessions, _attempts = threading.Lock(), {}, {}


class ClusterError(Exception):
    """The cluster could not be reached, or was lost before every submission was graded."""


class CheckoutMismatch(Exception):
    """A worker's course checkout or environment is not the client's."""


@functools.lru_cache(maxsize=None)
def checkout(lesson, root=None):
    """str: a content hash of all that grading `lesson` depends on: `refcache.key` (the master,
    the checks and judge, lessonkit, the locked environment, Python's version) and every file
    of the grader (its modules, and data such as the visible cases' ``known_outputs.json``)."""
    from autograder.grading.store import digest_files
    from autograder.judge import refcache
    from autograder.worker.course import ROOT
    return hashlib.sha256(f"{refcache.key(lesson)}\0{digest_files(['autograder'], root or ROOT)}".encode()).hexdigest()


def grade_on_cluster(found, address, options=None):
    """Grade every submission of `found` as a task on the Dask cluster at `address`.

    Parameters
    ----------
    found : list of (student, lesson, folder), as from `grade.discover`
    address : str, the scheduler's address, e.g. ``"tcp://127.0.0.1:8786"``
    options : options.Options or None (the defaults)

    Returns
    -------
    results : list of SubmissionResult, in the order of `found` (that of a local run)

    Raises
    ------
    ClusterError
        The scheduler could not be reached or went away; no result is returned.
    """
    try:
        from distributed import Client, as_completed
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker
    except ModuleNotFoundError as missing:  # the `cluster` extra: `make venv` installs it, a plain install does not
        raise ClusterError(f"grading on a cluster needs Dask ({missing}): install the course's cluster extra, "
                           "pip install -c requirements.lock -e '.[cluster]'") from missing

    from autograder.grading import per_student
    from autograder.grading.grade import grading_failed, load_master, not_graded
    from autograder.grading.options import Options
    from autograder.grading.results import SubmissionResult
    secret = options.secret if options else None
    # the secret (and where it is kept) never leaves this machine
    task_options = dataclasses.replace(options or Options(), secret=None, per_student_secret=None)
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"could not reach the Dask scheduler at {address} ({_first_line(exc)})") from None
    results, pending, run = {}, {}, uuid.uuid4().hex[:8]
    with _closing(client) as lost:
        for student, lesson, folder in found:
            name, data, problems = notebook_payload(folder)
            if data is None:  # no notebook to run: reported here, as grade_submission would
                result = SubmissionResult(student, lesson, problems=problems)
                results[(student, lesson)] = not_graded(load_master(lesson), result)
                continue
            future = client.submit(grade_task, student, lesson, name, data, task_options, checkout(lesson),
                                   per_student.salts(secret, student, load_master(lesson)),
                                   pure=False, retries=RETRIES, key=f"grade-{student}-{lesson}-{run}")
            pending[future] = (student, lesson)
        try:
            for future in as_completed(pending, loop=client.loop):
                student, lesson = pending[future]
                try:
                    result = from_plain(future.result())
                except (FutureCancelledError, CheckoutMismatch):
                    raise
                except KilledWorker:  # it kills whatever grades it: it costs itself only
                    died = "the Dask workers grading this submission died again and again (see their logs)"
                    result = not_graded(load_master(lesson), SubmissionResult(student, lesson, incidents=[died]), died)
                except Exception as exc:  # noqa: BLE001 - the fault barrier, as in a local run
                    result = grading_failed(load_master(lesson), SubmissionResult(student, lesson), exc)
                results.setdefault((student, lesson), result)
        except FutureCancelledError as exc:
            lost.set()
            left = sum(key not in results for key in pending.values())
            what = (f"lost the Dask scheduler at {address}" if exc.reason == "scheduler-connection-lost"
                    else f"the Dask cluster at {address} cancelled {exc.key} ({exc.reason})")
            raise ClusterError(f"{what} with {left} of {len(found)} submissions left to grade") from None
        except CheckoutMismatch as exc:
            raise ClusterError(str(exc)) from None
    return [results[(student, lesson)] for student, lesson, _ in found]


def wait_for_workers(address, count, seconds):
    """Return once the scheduler at `address` has `count` workers (a script that has just started a
    cluster: the bench); raises TimeoutError after `seconds`."""
    from distributed import Client
    with Client(address, timeout=CONNECT_SECONDS, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=seconds)


def notebook_payload(folder):
    """What a task needs of one submission folder, read as the grader reads it.

    Returns
    -------
    name : str or None, the notebook's file name (``lesson.ipynb``, or what it was renamed to)
    data : bytes or None, its bytes (None: there is no notebook the grader may read)
    problems : list of str, what `grade.grade_submission` would report while reading it
    """
    from autograder.worker.notebook import find_notebook, read_regular_file
    path, problem = find_notebook(folder)
    problems = [problem] if problem else []
    if path is None:
        return None, None, problems
    data, problem = read_regular_file(path)
    if problem:
        return None, None, problems + [problem]
    return path.name, data, problems


def grade_task(student, lesson, name, data, options=None, client_checkout=None, salts=None):
    """One submission, graded on the worker that runs this task, in its warm session (`worker_session`).

    The notebook is written as ``<student>/<lesson>/<name>`` in a folder of this attempt, and
    the session's working folder of (student, lesson) is removed before and after, so a task
    run twice (its first worker died, or it raised) grades the same bytes from scratch. A
    `client_checkout` other than this worker's `checkout` raises `CheckoutMismatch` before
    anything runs. `salts` (grade id -> salt) are the student's per-student hidden cases
    (per_student.py); the secret they come from stays with the client.

    Returns
    -------
    result : dict, the SubmissionResult's plain form (`results.to_plain`)
    """
    from autograder.grading.options import Options
    from autograder.grading.scratch import remove
    for part in (student, lesson, name):
        if part in ("", ".", "..") or "/" in part or "\0" in part:
            raise ValueError(f"not a single path component: {part!r}")
    if client_checkout is not None and checkout(lesson) != client_checkout:
        raise CheckoutMismatch(f"the Dask worker {_worker_name()} grades {lesson} with another course checkout "
                               "or environment than this one (masters, grader or packages differ): update it "
                               "to this checkout and restart it")
    warm = worker_session(options or Options())
    if not any((salts or {}).values()):  # judged on the course's cases: their reference results, once
        warm.warm(lesson)
    session = warm.session
    with _attempt_lock(student, lesson):  # two attempts of one submission never share its working folder
        remove(session.scratch / "work" / student / lesson)
        attempt = Path(tempfile.mkdtemp(dir=session.scratch / "tasks"))
        try:
            folder = attempt / "submission" / student / lesson
            folder.mkdir(parents=True)
            (folder / name).write_bytes(data)
            result = session.grade(student, lesson, folder, salts=salts)
        finally:
            remove(attempt)
    if warm.closed:  # its scratch went while it graded: the result says so, not what the student did
        raise RuntimeError(f"the Dask worker {_worker_name()} closed while grading this submission")
    return to_plain(result)


class WarmSession:
    """A `grade.GradingSession` kept open, in a thread of its own, until `close`.

    Its own thread, not the task's: the zygote dies with the thread that started it
    (``PR_SET_PDEATHSIG``), and a Dask worker's task threads may come and go.

    Parameters
    ----------
    options : Options, those of the session (see `worker_session`)
    """

    def __init__(self, options):
        from autograder.grading.grade import GradingSession
        self._session, self._lessons, self._lock = GradingSession(options), set(), threading.Lock()
        self._started, self._closing, self._failed = threading.Event(), threading.Event(), None
        self._thread = threading.Thread(target=self._keep, name="course-grading-session", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._failed is not None:
            raise self._failed

    def _keep(self):
        try:
            with self._session:
                (self._session.scratch / "tasks").mkdir()
                self._started.set()
                self._closing.wait()
        except BaseException as exc:  # noqa: BLE001 - raised again by the thread that asked for the session
            self._failed = exc
            self._started.set()

    @property
    def closed(self):
        """bool: `close` was called."""
        return self._closing.is_set()

    @property
    def session(self):
        """The open `GradingSession`."""
        return self._session

    def warm(self, lesson):
        """The reference results of `lesson`, computed once per session before any of its tasks judges."""
        with self._lock:
            if lesson not in self._lessons:
                self._session.warm([lesson])
                self._lessons.add(lesson)

    def close(self):
        """End the session: its zygote, every worker it forked and its scratch folder are gone."""
        self._closing.set()
        self._thread.join()


def worker_session(options):
    """This process's `WarmSession` for the grading options of `options`, started at its first
    task; every one is closed when the Dask worker closes (a worker plugin) or the process exits.

    Only what changes a result keys a session (`isolate`, `scan`, `submission_seconds`; the
    secret never reaches a worker); the output folder and the gradebook are the client's. A
    worker does not check its kernel beforehand: where the namespaces are refused it grades
    with weaker isolation, and each result says so (docs/deployment/dask-cluster.md).

    Returns
    -------
    warm : WarmSession
    """
    from autograder.grading.options import Options
    key = Options(isolate=options.isolate, scan=options.scan, submission_seconds=options.submission_seconds,
                  allow_weak_isolation=True)
    with _sessions_lock:
        if key not in _sessions:
            if not _sessions:
                atexit.unregister(close_sessions)  # registered once, however often the sessions were closed
                atexit.register(close_sessions)
                _close_with_worker()
            _sessions[key] = WarmSession(key)
        return _sessions[key]


def close_sessions():
    """Close every session of this process (a worker closing, or the process exiting)."""
    with _sessions_lock:
        warm = list(_sessions.values())
        _sessions.clear()
    for session in warm:
        session.close()


def _close_with_worker():
    """Have the Dask worker running this task close this process's sessions when it closes."""
    try:
        from distributed import WorkerPlugin, get_worker
        worker = get_worker()
    except (ImportError, ValueError):  # not on a Dask worker: the process's exit closes them
        return

    class CloseSessions(WorkerPlugin):
        def teardown(self, worker):
            close_sessions()
    # added by the worker's event loop, not waited for: a worker closing meanwhile closes them at exit
    worker.loop.add_callback(worker.plugin_add, plugin=CloseSessions(), name=PLUGIN)


@contextlib.contextmanager
def _attempt_lock(student, lesson):
    with _sessions_lock:
        lock = _attempts.setdefault((student, lesson), threading.Lock())
    with lock:
        yield


@contextlib.contextmanager
def _closing(client):
    """Close `client` at the end; once the yielded event is set (the scheduler was lost), with
    its loggers silent: its attempts to reconnect, cut short by the close, each print a traceback."""
    lost = threading.Event()
    try:
        yield lost
    finally:
        names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]
        loggers = [logging.getLogger(n) for n in names] if lost.is_set() else []
        for logger in loggers:
            logger.disabled = True
        try:
            client.close()
        finally:
            for logger in loggers:
                logger.disabled = False


def _worker_name():
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return "(not a Dask worker)"


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
