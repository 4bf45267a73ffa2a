"""Submissions in nbgrader's exchange, read without trusting them, and their collection into the course.

nbgrader's ``ExchangeSubmit`` writes each submission to
``<exchange>/<course_id>/inbound/<student>+<lesson>+<timestamp>+<random>/``: the student's files, then
``timestamp.txt`` and ``submission_secret.txt``, then the folder's mode 0777 last. Any student may write
into ``inbound`` (mode 2733), so a folder's name proves nothing: its student id must be the system user
who owns the folder (``nbgrader collect``'s ``check_owner``, there only a warning), and nothing in it is
followed or trusted (symbolic links, sizes, depth). Nor is the time its name states: a student who writes
straight into inbound can name any time, so the time used is the name's only when the folder's ctime (set
by the kernel, which no student can set back) agrees with it (`dated`).
"""
import dataclasses
import os
import pwd
import shutil
import stat
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from autograder.grading.grade import student_id_problem
from autograder.worker.course import lessons
from autograder.worker.notebook import MAX_NOTEBOOK_BYTES, read_small

#: Seconds a folder whose mode is not yet nbgrader's final 0777 is given before it is read anyway.
SETTLE_SECONDS = 10.0
#: What a collected submission may hold: files, bytes in all, folder depth (nbgrader's own copy has its
#: `max_dir_size`; these bound what the service reads, whatever the student wrote into inbound).
MAX_FILES, MAX_BYTES, MAX_DEPTH = 50, 2 * MAX_NOTEBOOK_BYTES, 4
#: How far the time a submission's name states may be from its folder's ctime (nbgrader's submit names the
#: folder, copies the files, then makes it 0777; an NFS server's clock may differ from the hub's by a little).
NAME_SLACK = timedelta(minutes=2)


class Rejected(Exception):
    """A folder in inbound that is not a submission the service grades; the message says why."""


@dataclasses.dataclass(frozen=True)
class Submission:
    """One folder of inbound: its `name`, `path`, the `student` and `lesson` it names, and its
    `timestamp` (naive UTC, nbgrader's ``parse_utc`` of the name's)."""
    name: str
    path: Path
    student: str
    lesson: str
    timestamp: datetime
    named: datetime | None = None  # the name's timestamp, when `dated` replaced it by the folder's ctime

    @property
    def key(self):
        return self.student, self.lesson


def parse(inbound, name):
    """The `Submission` of folder `name` in `inbound` (its name only; nothing read). Raises `Rejected`.

    The name splits as nbgrader's ``ExchangeCollect`` splits it (from the right, so a student id may hold
    ``+``), into student, lesson, timestamp and ``ExchangeSubmit``'s random string."""
    from nbgrader.utils import parse_utc
    parts = name.rsplit("+", 3)
    if len(parts) != 4 or not all(parts):
        raise Rejected("not a submission's name (<student>+<lesson>+<timestamp>+<random>)")
    student, lesson, when, _ = parts
    problem = student_id_problem(student)
    if problem or student.startswith("."):
        raise Rejected(problem or "a student id starting with a dot")
    if lesson not in lessons():
        raise Rejected(f"{lesson!r} is not a lesson of this course")
    try:
        timestamp = parse_utc(when)
    except (ValueError, OverflowError, TypeError) as exc:
        raise Rejected(f"its timestamp {when!r} does not parse ({type(exc).__name__})") from None
    return Submission(name, Path(inbound) / name, student, lesson, timestamp)


def check(submission, check_owner=True, now=None):
    """Whether `submission`'s folder may be read now: False while nbgrader is still writing it (its mode
    not yet 0777, for up to `SETTLE_SECONDS`). Raises `Rejected` for a symbolic link, anything but a
    folder, or (`check_owner`) a folder not owned by the system user its name claims."""
    info = os.lstat(submission.path)
    if stat.S_ISLNK(info.st_mode):
        raise Rejected("a symbolic link, not a folder")
    if not stat.S_ISDIR(info.st_mode):
        raise Rejected("not a folder")
    if check_owner:
        try:
            owner = pwd.getpwuid(info.st_uid).pw_name
        except KeyError:
            owner = f"uid {info.st_uid}"
        if owner != submission.student:
            raise Rejected(f"it names student {submission.student} but is owned by {owner}")
    settled = (now or time.time()) - info.st_ctime > SETTLE_SECONDS
    return info.st_mode & 0o777 == 0o777 or settled


def dated(submission, ctime=None):
    """`submission` with the time it was handed in: its name's, unless its folder's ctime (`ctime`, read when
    None) is more than `NAME_SLACK` away from it; then the ctime's, and `named` keeps the name's.

    A backdated name would dodge a late penalty, and one in the future would stay the latest submission."""
    if ctime is None:
        ctime = os.lstat(submission.path).st_ctime
    held = datetime.fromtimestamp(ctime, timezone.utc).replace(tzinfo=None)
    if abs(held - submission.timestamp) <= NAME_SLACK:
        return submission
    return dataclasses.replace(submission, timestamp=held, named=submission.timestamp)


def dating_note(submission):
    """What a student is told when `dated` replaced their submission's time (str), or None."""
    if submission.named is None:
        return None
    return (f"the submission's folder is named {submission.named:%Y-%m-%d %H:%M:%S} UTC, but the exchange received "
            f"it at {submission.timestamp:%Y-%m-%d %H:%M:%S} UTC; that time is used")


def secret(folder):
    """The submission's ``submission_secret.txt`` (str), or None when it has none readable."""
    return read_small(Path(folder) / "submission_secret.txt")[0]


def collect(submission, submitted, owner):
    """Copy `submission` into ``<submitted>/<student>/<lesson>/`` as ``nbgrader collect`` lays it out,
    replacing what is there only when this one is not older (the latest submission counts; every one
    stays in inbound). Its ``timestamp.txt`` is written from `submission.timestamp`, whatever the student's
    says (the gradebook's late penalty reads it). Regular files and folders only, within `MAX_FILES`, `MAX_BYTES` and `MAX_DEPTH`
    (Rejected otherwise); the copy is owned by `owner` (uid, gid), the course's instructor.

    Returns
    -------
    folder : Path, the collected copy, or None when a newer submission is collected there already
    skipped : list of str, what was not copied (links, special files)
    """
    from nbgrader.utils import parse_utc
    dest = Path(submitted) / submission.student / submission.lesson
    there, _ = read_small(dest / "timestamp.txt")
    try:
        if there and parse_utc(there.strip()) > submission.timestamp:
            return None, []
    except (ValueError, OverflowError):
        pass
    dest.parent.mkdir(parents=True, exist_ok=True)
    for folder in (dest.parent.parent, dest.parent):
        if folder.stat().st_uid != owner[0]:  # made here, by root
            os.lchown(folder, *owner)
    staging = dest.parent / f".{submission.lesson}.collecting-{os.getpid()}-{time.monotonic_ns()}"
    try:
        skipped = _copy(submission.path, staging, owner)
        _write_timestamp(staging / "timestamp.txt", submission.timestamp, owner)
        old = dest.parent / f".{submission.lesson}.old-{time.monotonic_ns()}"
        if dest.exists():
            dest.rename(old)
        staging.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest, skipped


def remove_leftovers(submitted):
    """Remove what a collection killed midway left in ``<submitted>/<student>/`` (its staging and old copies,
    dot-named, which nbgrader would take for lessons); returns their paths."""
    found = [p for p in Path(submitted).glob("*/.*") if ".collecting-" in p.name or ".old-" in p.name]
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return found


def _copy(source, dest, owner):
    """Regular files and folders of `source` into new folder `dest`, never following a link; returns
    what was skipped. Raises `Rejected` past the limits."""
    skipped, files, total = [], 0, 0
    pending = [(Path(source), Path(dest), 0)]
    while pending:
        src, dst, depth = pending.pop()
        dst.mkdir(mode=0o755)
        os.chown(dst, *owner)
        with os.scandir(src) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    if depth + 1 > MAX_DEPTH:
                        raise Rejected(f"folders nested more than {MAX_DEPTH} deep")
                    pending.append((Path(entry.path), dst / entry.name, depth + 1))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    skipped.append(f"{entry.name}: not a regular file (a link or a special file); not collected")
                    continue
                files, total = files + 1, total + info.st_size
                if files > MAX_FILES or total > MAX_BYTES:
                    raise Rejected(f"more than {MAX_FILES} files or {MAX_BYTES // 2**20} MiB")
                _copy_file(entry.path, dst / entry.name, owner)
    return skipped


def _write_timestamp(path, when, owner):
    from autograder.gradebook.nbgrader_files import TIMESTAMP_FORMAT
    path.unlink(missing_ok=True)
    path.write_text(when.strftime(TIMESTAMP_FORMAT))
    os.chown(path, *owner)


def _copy_file(source, dest, owner):
    """One regular file, opened without following a link, copied at most `MAX_BYTES`."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Rejected(f"{Path(source).name} changed while it was read")
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            copied = 0
            while chunk := os.read(fd, 1 << 20):
                copied += len(chunk)
                if copied > MAX_BYTES:
                    raise Rejected(f"{Path(source).name} grew past {MAX_BYTES // 2**20} MiB while it was read")
                os.write(out, chunk)
            os.fchown(out, *owner)
        finally:
            os.close(out)
    finally:
        os.close(fd)
