"""Per-student hidden cases: each student's hidden inputs derived from a course secret and the
student's id, so hidden cases passed from one student to another are worthless.

    python -m autograder grade SUBMISSIONS --per-student-secret ~/course-secret

The salt of a student's item is HMAC-SHA256(secret, "<student>|<grade_id>"); the judge builds
that item's hidden cases with every seed mixed with it (`checks.case_seed`) and computes the
reference on them, once per student and item. The same secret gives the same cases on every
run; without the option every student gets the course's fixed hidden cases. Inputs that are
fixed values rather than random draws (e.g. a layer's sizes) stay the same for everyone, unless
the case builder moves them per student itself (`checks.varied`).

The secret lives outside the course tree: a file inside it could be committed, bundled or
released with the course.
"""
import hashlib
import hmac
from pathlib import Path

from autograder.worker.course import ROOT


class SecretError(ValueError):
    """The secret file cannot be used (the message says why and what to do)."""


def read_secret(path, root=ROOT):
    """The bytes of a secret file outside the course tree `root`.

    Raises
    ------
    SecretError : the file is inside the course tree, missing, or empty
    """
    path = Path(path).expanduser()
    resolved = path.resolve()
    if resolved.is_relative_to(Path(root).resolve()):
        raise SecretError(f"the secret file {path} is inside the course tree {root}: move it outside "
                          "(it could be committed, bundled or released with the course)")
    try:
        secret = resolved.read_bytes().strip()
    except OSError as exc:
        raise SecretError(f"cannot read the secret file {path} ({exc.strerror})") from None
    if not secret:
        raise SecretError(f"the secret file {path} is empty")
    return secret


def salt(secret, student, grade_id):
    """The salt of one student's item (a hex string), or None without a secret."""
    if secret is None:
        return None
    return hmac.new(secret, f"{student}|{grade_id}".encode(), hashlib.sha256).hexdigest()


def salts(secret, student, master):
    """grade id -> salt of every item of a lesson's `master` (a `notebook.Master`) for one student;
    all None without a secret."""
    return {gid: salt(secret, student, gid) for gid, _ in master.items}


def fingerprint(secret):
    """Names the secret in the kept results' fingerprint (another secret regrades) without revealing it."""
    return None if secret is None else hmac.new(secret, b"fingerprint", hashlib.sha256).hexdigest()[:16]
