"""Releasing one student's feedback into nbgrader's exchange, where their "Fetch Feedback" finds it.

nbgrader's ``ExchangeReleaseFeedback`` writes ``<exchange>/<course_id>/feedback/<hash>.html``, the hash
being nbgrader's ``notebook_hash`` of the submission's secret (``submission_secret.txt``, which the
student's own cache keeps too) and the notebook's name; ``ExchangeFetchFeedback`` looks there for each
submission in the student's cache. The folder is made as nbgrader makes it (0755), owned by the
instructor, whose own ``nbgrader release_feedback`` refuses a folder it does not own.
"""
import os
from pathlib import Path

NOTEBOOK = "lesson"


def feedback_folder(exchange, course_id, owner):
    """``<exchange>/<course_id>/feedback`` (Path), made if missing, owned by `owner` (uid, gid)."""
    folder = Path(exchange) / course_id / "feedback"
    if not folder.is_dir():
        folder.mkdir(mode=0o755)
        os.chmod(folder, 0o755)
        os.chown(folder, *owner)
    return folder


def feedback_name(secret, notebook=NOTEBOOK):
    """The released page's file name for a submission whose secret is `secret` (nbgrader's hash)."""
    from nbgrader.utils import notebook_hash
    return f"{notebook_hash(secret=secret, notebook_id=notebook)}.html"


def release(folder, secret, page, owner):
    """Write `page` (str) as the feedback of the submission whose secret is `secret`, into the exchange's
    feedback `folder`, whole or not at all (written beside it, then renamed), readable by all, owned by
    `owner`. Returns its path."""
    from autograder.outputs import atomic
    path = Path(folder) / feedback_name(secret)
    data = page.encode("utf-8", "backslashreplace")

    def write_to(temp):
        temp.write_bytes(data)
        os.chmod(temp, 0o644)
        os.chown(temp, *owner)
    atomic.write_with(path, write_to)
    return path
