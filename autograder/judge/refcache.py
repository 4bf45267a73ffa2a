"""The reference's results on disk, kept between grading runs.

Computing a lesson's reference results executes its master's solution cells (with their
imports, matplotlib included) and runs the reference on every hidden case: most of the
work of grading one submission. They depend only on the files `key` hashes; a byte
changed in any of them gives another key, so a stale file is never read. Files hold
plain data (`wire`'s JSON, never pickle) and are written atomically; one that cannot be
read is ignored (and rewritten by the caller).
"""
import hashlib
import json
import sys

from autograder.outputs import atomic
from autograder.worker.course import ROOT, master_path

#: Where the results are kept (in the course tree, which no worker ever sees).
CACHE = ROOT / "build" / "cache" / "reference"
#: What the results depend on besides the lesson's master.
SOURCES = ["autograder/checks", "autograder/judge", "autograder/worker", "lessonkit", "requirements.lock"]


def key(lesson):
    """str: a content hash of the master of `lesson`, the code that computes its results and the
    locked environment."""
    digest = hashlib.sha256(sys.version.encode() + b"\0")
    files = {"master": master_path(lesson)}
    for rel in SOURCES:
        path = ROOT / rel
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            files[str(file.relative_to(ROOT))] = file
    for name, path in files.items():
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"(missing)") + b"\0")
    return digest.hexdigest()


def _path(lesson):
    return CACHE / f"{lesson}.json"


def load(lesson, wanted_key):
    """The stored results of `lesson` if they were computed for `wanted_key`, else None.

    Returns
    -------
    results : dict, grade id -> list (one entry per case: encoded result or None), or None
    """
    try:
        data = json.loads(_path(lesson).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != wanted_key or not isinstance(data.get("results"), dict):
        return None
    return data["results"]


def store(lesson, wanted_key, results):
    """Write the results of `lesson` atomically; a course tree that cannot be written is skipped."""
    try:
        atomic.write(_path(lesson), json.dumps({"key": wanted_key, "results": results}))
    except OSError:
        pass
