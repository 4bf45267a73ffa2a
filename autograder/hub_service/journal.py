"""The service's journal: each submission's progress, appended and fsync'd, so that a service killed at
any moment starts again where it stopped, grading nothing twice and losing nothing.

One JSON object a line: ``{"name": inbound folder, "step": STEP, "at": seconds since the epoch, ...}``.
Its folder is root's alone (mode 0700): a result in it holds what a student must not read before it is
released (hidden-case details). A last line cut short by a crash is ignored.
"""
import json
import os
import threading
import time
from pathlib import Path

#: A submission's steps, in order; a name whose last step is final is never looked at again.
#: ``graded`` holds the result (`results.to_plain`): after it, the rest is finished without grading again.
STEPS = ("rejected", "waiting", "superseded", "collected", "graded", "done")
FINAL = {"rejected", "superseded", "done"}
FILE = "journal.jsonl"


class Journal:
    """The journal in folder `folder` (made, mode 0700); `entries` holds every name's lines, in order."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self.path = self.folder / FILE
        self.entries, self._graded = {}, {}
        self._lock = threading.Lock()
        if self.path.exists():
            for line in self.path.read_bytes().splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # the end of a line a crash cut short
                self._keep(entry)
        self._file = open(self.path, "ab")
        os.chmod(self.path, 0o600)
        if self._file.tell() and not self.path.read_bytes().endswith(b"\n"):
            self._write(b"\n")  # a line cut short ends here: the next one starts clean

    def add(self, name, step, **details):
        """Append one step of submission `name` (str, one of `STEPS`) with its `details`, on disk (fsync'd)
        before this returns; returns the entry (dict)."""
        assert step in STEPS, step
        entry = {"name": name, "step": step, "at": time.time(), **details}
        with self._lock:
            self._write(json.dumps(entry).encode() + b"\n")
            self._keep(entry)
        return entry

    def _keep(self, entry):
        self.entries.setdefault(entry["name"], []).append(entry)
        if entry["step"] == "graded":
            self._graded.setdefault((entry.get("student"), entry.get("lesson")), []).append(entry["at"])

    def _write(self, data):
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())

    def last(self, name):
        """The last entry of `name` (dict), or None for a name never seen."""
        lines = self.entries.get(name)
        return lines[-1] if lines else None

    def step(self, name):
        """The last step of `name` (str), or None."""
        entry = self.last(name)
        return entry and entry["step"]

    def entry(self, name, step):
        """The last entry of `name` at `step` (dict), or None."""
        return next((e for e in reversed(self.entries.get(name, [])) if e["step"] == step), None)

    def graded_at(self, key, since):
        """Times (list of float) at which submissions of `key` (student, lesson) were graded since `since`."""
        with self._lock:
            return sorted(t for t in self._graded.get(tuple(key), []) if t >= since)

    def close(self):
        self._file.close()
