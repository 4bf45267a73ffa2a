"""Results kept between grading runs, so that a rerun grades only what is missing or changed.

Each graded submission is saved as it finishes, by the thread that graded it, to
``OUT/.results/<student>/<lesson>.json``: the `SubmissionResult` and the fingerprint it
was graded under. A later run reuses it only when the fingerprint is the same, byte for
byte: the submission's files (and their times); the lesson's master and its own check and judge modules
(`lesson_digest`: fixing one hidden case regrades that lesson only); the rest of the code
that decides verdicts (`VERDICT_CODE`) with `requirements.lock`; the grading options. A
run killed midway keeps what it finished; ``--force`` ignores every kept result.
"""
import functools
import hashlib
import json
import os
import stat
from pathlib import Path

from autograder import judge
from autograder.grading.options import Options
from autograder.grading.results import from_plain, to_plain
from autograder.outputs import atomic
from autograder.worker import runner
from autograder.worker.course import ROOT, SOLUTIONS
from autograder.worker.notebook import MAX_NOTEBOOK_BYTES

#: What decides a verdict besides the submission and the master: the code that runs beside
#: the student's (runner.PUBLIC) and the code that reads, runs and judges it (whole folders).
VERDICT_CODE = sorted({*runner.PUBLIC, "autograder/judge", "autograder/grading", "requirements.lock"})
FORMAT = 1  # of the saved files; a change makes every kept result stale


def digest_files(paths, root=ROOT, leave_out=()):
    """sha256 over the relative names and bytes of `paths` (files or folders, under `root`).

    Caches (``__pycache__``) and the files named in `leave_out` are left out; a missing
    path counts as missing.
    """
    h = hashlib.sha256()
    for rel in sorted(paths):
        top = Path(root) / rel
        files = sorted(p for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if top.is_dir() else [top]
        for path in files:
            if str(path.relative_to(root)) in leave_out:
                continue
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(path.read_bytes() if path.is_file() else b"<missing>")
            h.update(b"\0")
    return h.hexdigest()


def lesson_modules():
    """Lesson -> its own modules, e.g. ``["autograder/checks/batch_norm.py", "autograder/judge/batch_norm.py"]``
    (a lesson's judge module and its check module share a name)."""
    return {lesson: [f"autograder/{package}/{module.__name__.rsplit('.', 1)[1]}.py" for package in ("checks", "judge")]
            for lesson, module in judge.hidden_modules().items()}


def code_digest(root=ROOT):
    """sha256 of the verdict code shared by every lesson, and of the lock file."""
    return digest_files(VERDICT_CODE, root, leave_out={f for files in lesson_modules().values() for f in files})


@functools.lru_cache(maxsize=None)
def lesson_digest(lesson, root=ROOT):
    """sha256 of a lesson's master and its own check and judge modules, computed once per run."""
    return digest_files([str(SOLUTIONS.relative_to(ROOT) / lesson / "lesson.ipynb")] + lesson_modules().get(lesson, []),
                        root)


def submission_digest(folder):
    """sha256 of what grading may look at in a lesson folder: every entry's name and kind, the
    size, modification time and bytes of regular files (the submission time is the notebook's
    file time when nbgrader's timestamp.txt is absent) up to the largest notebook read (beyond
    it the file is refused whatever it holds, and a sparse terabyte would take hours); links and
    pipes are named, never opened."""
    h = hashlib.sha256()
    folder = Path(folder)
    if folder.is_symlink():
        return hashlib.sha256(b"link:" + os.fsencode(os.readlink(folder))).hexdigest()
    for entry in sorted(folder.iterdir()):
        info = entry.lstat()
        h.update(os.fsencode(entry.name) + b"\0" + oct(stat.S_IFMT(info.st_mode)).encode() + b"\0")
        if stat.S_ISREG(info.st_mode):
            h.update(f"{info.st_mtime_ns} {info.st_size}".encode() + b"\0")
            fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # swapped for a pipe: no hang
            with open(fd, "rb") as f:
                left = MAX_NOTEBOOK_BYTES + 1
                while block := f.read(min(left, 1 << 20)):
                    h.update(block)
                    left -= len(block)
        elif stat.S_ISLNK(info.st_mode):
            h.update(os.fsencode(os.readlink(entry)))
        h.update(b"\0")
    return h.hexdigest()


class ResultStore:
    """The kept results of one output folder.

    Parameters
    ----------
    out : path of the output folder; results live in ``out/.results``
    options : options.Options; those that change results (`Options.fingerprint`) are part of the
        fingerprint, and `options.force` reuses nothing (every submission is graded again, and saved)
    """

    def __init__(self, out, options: Options = Options()):
        self.folder = Path(out) / ".results"
        self.force = options.force
        self.common = {"format": FORMAT, "code": code_digest(), "options": options.fingerprint()}
        self.fingerprints = {}
        self.reused = self.saved = 0

    def path(self, student, lesson):
        return self.folder / student / f"{lesson}.json"

    def fingerprint(self, lesson, folder):
        return {**self.common, "lesson": lesson_digest(lesson), "submission": submission_digest(folder)}

    def load(self, student, lesson, folder):
        """The kept result of this submission if its fingerprint is unchanged, else None."""
        self.fingerprints[student, lesson] = fingerprint = self.fingerprint(lesson, folder)
        if self.force:
            return None
        try:
            kept = json.loads(self.path(student, lesson).read_bytes())
            if kept["fingerprint"] != fingerprint:
                return None
            result = from_plain(kept["result"])
        except (OSError, ValueError, KeyError, TypeError):  # none yet, or unreadable: grade it
            return None
        self.reused += 1
        return result

    def save(self, result):
        """Keep `result` under the fingerprint `load` computed before it was graded."""
        fingerprint = self.fingerprints[result.student, result.lesson]
        atomic.write(self.path(result.student, result.lesson),
                     json.dumps({"fingerprint": fingerprint, "result": to_plain(result)}, indent=1))
        self.saved += 1

    def prune(self, results):
        """Drop kept results of submissions that are no longer in the class."""
        current = {(r.student, r.lesson) for r in results}
        for path in sorted(self.folder.glob("*/*.json")):
            if (path.parent.name, path.stem) not in current and not path.is_symlink():
                path.unlink()
        for folder in self.folder.glob("*"):
            if folder.is_dir() and not folder.is_symlink():
                atomic.remove_leftovers(folder)
                if not any(folder.iterdir()):
                    folder.rmdir()
