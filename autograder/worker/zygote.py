"""The zygote: one pre-started, pre-imported process per grading run that forks each worker.

Started by `runner.Zygote` as ``python -I -S zygote.py FD PATH...`` from the read-only
public copy of the grader, like a worker. It imports what every worker needs (numpy,
IPython, matplotlib, the checks) once, then waits on FD, a Unix socket to the grader. For
each request it receives four pipe ends (the worker's standard input, events, output, and
a status pipe of its own) and forks. The child is a fresh worker: it keeps only its three
pipes (every other descriptor is closed), sets its limits, reads its working folder and
environment from its own standard input (so the zygote never learns whose submission it
forked for), reseeds numpy and runs `sandbox.main`, which confines it (`isolation.confine`:
own namespaces, own root, own pid 1) before any student code runs. The zygote runs no
student code, holds no file of the course, and writes on the status pipe the child's pid,
then how it ended; it reaps the child only when the grader releases it, so the pid (and
process group) the grader may still signal cannot be reused until then.

Messages on FD (each one datagram, JSON): ``{"op": "spawn", "memory_bytes", "file_bytes"}``
with the four descriptors; ``{"op": "release", "pid"}``. End of file: the grader is done;
the zygote kills its remaining children and exits.
"""
import json
import os
import select
import signal
import socket
import sys
import traceback

#: Imported once here instead of once per worker (public code, the standard library and
#: the locked packages only: what any worker imports anyway).
PRELOAD = ["numpy", "IPython.core.interactiveshell", "matplotlib.pyplot", "lessonkit", "autograder.checks",
           "autograder.worker.wire", "autograder.worker.isolation", "autograder.worker.sandbox"]
#: The worker's file descriptors: plan (0), output (1 and 2), events.
EVENTS_FD = 3
PR_SET_PDEATHSIG = 1


def apply_limits(memory_bytes, file_bytes):
    """In a new worker: its own session, its resource limits, death with its parent."""
    import ctypes
    import resource
    os.setsid()
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main(control_fd, sys_path):
    sys.path[:0] = sys_path
    import importlib
    for name in PRELOAD:
        importlib.import_module(name)
    sys.modules["autograder.checks"].items()
    control = socket.socket(fileno=control_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    running, ended = {}, {}  # pid -> status pipe; pid -> exit status, not yet released
    try:
        while True:
            ready, _, _ = select.select([control, wake_r], [], [])
            if wake_r in ready:
                os.read(wake_r, 4096)
                _report_ends(running, ended)
            if control not in ready:
                continue
            message, fds, _, _ = socket.recv_fds(control, 4096, 4)
            if not message:
                break
            request, kept = json.loads(message), None
            if request["op"] == "spawn" and len(fds) == 4:
                pid = _spawn(fds, request, control)
                kept = running[pid] = fds[3]
                os.write(kept, f"pid {pid}\n".encode())
            elif request["op"] == "release":
                _release(int(request["pid"]), running, ended)
            for fd in fds:
                if fd != kept:
                    os.close(fd)
    finally:
        for pid in list(running) + list(ended):
            _kill_group(pid)
            os.waitpid(pid, 0)
    os._exit(0)  # no interpreter teardown: the kernel frees all there is, and faster


def _spawn(fds, request, control):
    """Fork a worker on the received pipes; the parent returns its pid, the child never returns."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        plan_r, events_w, output_w, _status = fds
        os.dup2(plan_r, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        os.dup2(events_w, EVENTS_FD)
        control.detach()
        # everything else the zygote had open (its socket, its status pipes, the received
        # descriptors, whatever an import left open) is not the worker's
        os.closerange(EVENTS_FD + 1, os.sysconf("SC_OPEN_MAX"))
        zygote = os.getppid()
        apply_limits(request["memory_bytes"], request["file_bytes"])
        if os.getppid() != zygote:  # the zygote died before the death signal was set
            os._exit(code)
        setup = json.loads(sys.stdin.readline())
        os.chdir(setup["cwd"])
        os.environ.clear()
        os.environ.update(setup["env"])
        sys.modules["numpy"].random.seed()  # a fresh process's global state, not the zygote's
        sys.modules["autograder.worker.sandbox"].main(EVENTS_FD)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported like an uncaught error of a worker
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _report_ends(running, ended):
    """Tell the grader how each child that ended did; keep it unreaped until released."""
    for pid, status_fd in list(running.items()):
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            info = None
        if info is None:
            continue
        code = info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
        del running[pid]
        ended[pid] = code
        try:
            os.write(status_fd, f"exit {code}\n".encode())
        except OSError:
            pass
        os.close(status_fd)


def _release(pid, running, ended):
    """The grader is done with `pid`: kill what is left of it and reap it."""
    if pid in running:
        _kill_group(pid)
        os.waitpid(pid, 0)
        os.close(running.pop(pid))
    elif pid in ended:
        _kill_group(pid)
        os.waitpid(pid, 0)
        del ended[pid]


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
