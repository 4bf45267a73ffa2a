"""Atomic writes of the grader's outputs: a file is either its old self or its new self.

`write` puts the bytes under a temporary name in the same folder, fsyncs them and renames
the file into place (`os.replace`), so a run killed or failing midway never leaves a
half-written file. Inside `together()` the renames wait until every file of the block has
been written: a disk that fills up midway leaves all the previous outputs as they were.
"""
import contextlib
import errno
import os
import tempfile
import threading
from pathlib import Path

#: Temporary names start with this; a run killed between write and rename leaves such files,
#: which `remove_leftovers` clears.
TEMP_PREFIX = ".partial-"

_UMASK = os.umask(0)
os.umask(_UMASK)
_local = threading.local()  # the staged renames and made folders of a `together()` block, per thread

_ACTIONS = {errno.ENOSPC: "Free some space", errno.EDQUOT: "Free some space (you are over quota)",
            errno.EROFS: "Make it writable or choose another --out", errno.EACCES: "Make it writable or choose another --out",
            errno.EPERM: "Make it writable or choose another --out"}


class WriteError(OSError):
    """An output could not be written; `str()` is the one sentence an instructor needs."""

    def __str__(self):
        action = _ACTIONS.get(self.errno, "Fix that")
        return (f"could not write {self.filename}: {self.strerror}. {action} and run the same command again; "
                "the previous results are intact")


def write(path, data):
    """Write `data` (bytes, or str as UTF-8) to `path` atomically, creating its folders.

    A character UTF-8 cannot hold (a lone surrogate from a folder name that is not UTF-8)
    is written as its backslash escape.

    Raises
    ------
    WriteError
        naming `path` (never the temporary name) when anything fails; nothing is left behind.
    """
    data = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
    write_with(path, lambda temp: temp.write_bytes(data))


def write_with(path, write_to):
    """`write` for a writer that needs a file name (a zip, a CSV writer, a page writer).

    `write_to(temp)` writes the new file at `temp` (a Path beside `path`, already created with
    an ordinary file's permissions); it is then fsynced and renamed into place, now or, inside
    `together()`, with the block's other files. Raises `WriteError` as `write` does.
    """
    path = Path(path)
    try:
        _make_folders(path.parent)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX + path.name + ".", dir=path.parent)
        os.fchmod(fd, 0o666 & ~_UMASK)  # as an ordinary open() would have made it
        os.close(fd)
    except OSError as exc:
        raise WriteError(exc.errno, exc.strerror, str(path)) from exc
    try:
        write_to(Path(temp))
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        staged = getattr(_local, "staged", None)
        if staged is None:
            _replace(temp, path)
        else:
            staged.append((temp, path))
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(exc.errno, exc.strerror, str(path)) from exc
        raise


def _make_folders(folder):
    """`folder` and its missing parents; inside `together()`, each one made is noted, so that a
    failed block can take it away again."""
    made = []
    for parent in [folder, *folder.parents]:
        if parent.is_dir():
            break
        made.append(parent)
    folder.mkdir(parents=True, exist_ok=True)
    created = getattr(_local, "created", None)
    if created is not None:
        created.extend(reversed(made))


def staging():
    """Whether this thread is inside a `together()` block (its writes wait for the block's end)."""
    return getattr(_local, "staged", None) is not None


@contextlib.contextmanager
def together():
    """Writes in this block (of this thread) land together: all renamed once all are written.

    When the block fails, every file it wrote is dropped, every folder it made is removed
    again, and the old files stay.
    """
    if staging():  # nested: the outer block decides
        yield
        return
    _local.staged, _local.created = staged, created = [], []
    try:
        yield
    except BaseException:
        for temp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        _remove_folders(created)
        raise
    finally:
        _local.staged = _local.created = None
    for k, (temp, path) in enumerate(staged):
        try:
            _replace(temp, path)
        except BaseException:
            for later, _ in staged[k:]:
                with contextlib.suppress(OSError):
                    os.unlink(later)
            _remove_folders(created)
            raise


def _remove_folders(created):
    """Remove the folders a failed block made (deepest first), each only if it is empty."""
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _replace(temp, path):
    try:
        os.replace(temp, path)
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)  # the rename itself survives a crash
        finally:
            os.close(folder)
    except OSError as exc:
        raise WriteError(exc.errno, exc.strerror, str(path)) from exc


def remove_leftovers(folder):
    """Remove the temporary files a killed run left directly in `folder`."""
    for temp in Path(folder).glob(TEMP_PREFIX + "*"):
        if temp.is_file() and not temp.is_symlink():
            with contextlib.suppress(OSError):
                temp.unlink()
