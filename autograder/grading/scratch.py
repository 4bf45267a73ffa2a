"""The scratch folder of a grading run: private to the run, removed on every exit path.

A run holds an exclusive lock on its folder for as long as it lives, so the next run can
tell a folder left by a run that was killed (lock free) from one still in use, and
removes it. SIGTERM and SIGHUP end a run the way Ctrl-C does, through the clean-up.
"""
import contextlib
import fcntl
import logging
import os
import signal
import stat
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)
PREFIX = "course-grading-"
#: A folder of this prefix with no lock file is only taken for stale after this long.
UNLOCKED_GRACE_SECONDS = 600


class Interrupted(Exception):
    """The run was asked to stop (SIGTERM or SIGHUP)."""


@contextlib.contextmanager
def scratch_folder(keep=False):
    """A fresh scratch folder; stale ones of dead runs are removed first.

    Yields
    ------
    folder : Path
    """
    remove_stale()
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    lock = os.open(folder / ".lock", os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    previous = _stop_on_termination()
    try:
        yield folder
    finally:
        _restore(previous)
        if not keep:
            remove(folder)
        os.close(lock)


def remove_stale(parent=None):
    """Remove the scratch folders of runs that no longer hold their lock."""
    parent = Path(parent or tempfile.gettempdir())
    for folder in parent.glob(PREFIX + "*"):
        try:
            info = folder.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            continue
        try:
            lock = os.open(folder / ".lock", os.O_RDWR | os.O_NOFOLLOW)
        except FileNotFoundError:
            if time.time() - info.st_mtime > UNLOCKED_GRACE_SECONDS:
                remove(folder)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live run
        finally:
            os.close(lock)
        remove(folder)


def remove(folder):
    """Remove a folder whatever a worker did to it; never raises, never recurses.

    Links are removed, never followed; folders a worker made unreadable are made readable
    first; a chain of folders of any depth (deeper than any path may be long) is walked
    down and up one folder at a time, by descriptor. What cannot be removed is logged.

    Returns
    -------
    removed : bool
    """
    try:
        _remove_tree(os.fspath(folder))
        return True
    except Exception as exc:  # noqa: BLE001 - clean-up must never stop a run (nor a later one)
        log.warning("could not remove %s: %s", folder, exc)
        return False


def _remove_tree(path):
    if not os.path.lexists(path):
        return
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        os.unlink(path)
        return
    os.chmod(path, 0o700)
    names = []  # the folders walked down into from `path`; only the current one's descriptor is open
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        while True:
            below, unlinked = None, False
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        below = entry.name
                    else:
                        os.unlink(entry.name, dir_fd=fd)
                        unlinked = True
            if unlinked and below is None:
                continue  # looked at again: empty, or what a listing changed under it may have skipped
            if below is not None:
                os.chmod(below, 0o700, dir_fd=fd)
                child = os.open(below, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = child
                names.append(below)
            elif names:
                parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = parent
                os.rmdir(names.pop(), dir_fd=fd)
            else:
                break
    finally:
        os.close(fd)
    os.rmdir(path)


@contextlib.contextmanager
def stop_on_termination():
    """Within the block SIGTERM and SIGHUP raise `Interrupted` (in the main thread), so a
    command ends through its clean-up and says so, as on Ctrl-C."""
    previous = _stop_on_termination()
    try:
        yield
    finally:
        _restore(previous)


def _stop_on_termination():
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise Interrupted(signal.Signals(signum).name)
    return {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGHUP)}


def _restore(previous):
    for signum, handler in (previous or {}).items():
        signal.signal(signum, handler)
