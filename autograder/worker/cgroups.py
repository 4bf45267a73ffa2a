"""Per-worker cgroups (cgroup v1, grading as root): a process count and a memory bound for
the worker and everything it starts, and a way to kill all of it at once.

`RLIMIT_NPROC` does not bind root and `RLIMIT_AS` bounds one process, not the 64 a worker
may start, so when the grader runs as root it puts each worker in a pids cgroup and a
memory cgroup of its own, below its own cgroup of each controller. Elsewhere (no root, no
cgroup v1) there is none, and the grade report says what is missing.
"""
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MOUNT = Path("/sys/fs/cgroup")


def own_path(controller, table="/proc/self/cgroup"):
    """This process's cgroup folder of a v1 controller, or None."""
    try:
        lines = Path(table).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            folder = MOUNT / controller / path.lstrip("/")
            return folder if (folder / "cgroup.procs").exists() else None
    return None


@dataclass
class WorkerCgroups:
    """The cgroup folders of one worker (None where they could not be made)."""
    pids: Path | None = None
    memory: Path | None = None

    @classmethod
    def create(cls, pid, processes, memory_bytes):
        """Put process `pid` (before it starts anything) in cgroups of its own."""
        made = cls()
        if os.geteuid() != 0:
            return made
        name = f"course-grader-{os.getpid()}-{pid}"
        made.pids = _make(own_path("pids"), name, {"pids.max": processes}, pid)
        made.memory = _make(own_path("memory"), name, {"memory.limit_in_bytes": memory_bytes,
                                                       "memory.swappiness": 0}, pid)
        return made

    def remove(self):
        """Kill whatever is left in them and remove them."""
        for folder in (self.pids, self.memory):
            if folder is not None:
                _empty(folder)


def _make(parent, name, settings, pid):
    if parent is None:
        return None
    folder = parent / name
    try:
        folder.mkdir()
        for key, value in settings.items():
            if (folder / key).exists():
                (folder / key).write_text(str(value))
        (folder / "cgroup.procs").write_text(str(pid))
        return folder
    except OSError:
        _empty(folder)
        return None


def _empty(folder):
    for _ in range(100):
        try:
            pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)
