"""What a person set in nbgrader's gradebook (in the formgrader or with ``nbgrader db``): what
deleting the gradebook would lose, since nothing can make it again.

The grader writes auto scores, timestamps, late penalties and each lesson's cells, all made
again by a regrade; it never writes what `KINDS` lists. The gradebook is read with the
standard library's sqlite3, read-only: nbgrader's Gradebook would create missing tables, and
importing it takes seconds.
"""
import sqlite3
from contextlib import closing
from pathlib import Path

#: The tables the checks read; a database holding other tables and not these is not nbgrader's.
TABLES = {"grade", "comment", "submitted_notebook", "submitted_assignment", "assignment", "student", "base_cell"}

#: "student/lesson" of a submission `sa` (joined to its assignment `a`).
_SUBMISSION = "coalesce(sa.student_id, '?') || '/' || coalesce(a.name, '?')"
#: From a submitted notebook `sn` to its submission `sa` and assignment `a`.
_UP = (" LEFT JOIN submitted_assignment sa ON sn.assignment_id = sa.id"
       " LEFT JOIN assignment a ON sa.assignment_id = a.id")
#: "student/lesson/cell" of each row `x` of a per-cell table (grade, comment).
_CELL = (f"SELECT {_SUBMISSION} || '/' || coalesce(c.name, '?') FROM %s x"
         f" LEFT JOIN submitted_notebook sn ON x.notebook_id = sn.id{_UP} LEFT JOIN base_cell c ON x.cell_id = c.id")

#: What a person sets -> the query naming each one set (e.g. "ana/02_batch_norm/batchnorm_forward").
KINDS = {
    "manual score or extra credit": _CELL % "grade" + " WHERE x.manual_score IS NOT NULL OR x.extra_credit IS NOT NULL",
    "comment": _CELL % "comment" + " WHERE trim(coalesce(x.manual_comment, '')) != ''",
    "extension": f"SELECT {_SUBMISSION} FROM submitted_assignment sa LEFT JOIN assignment a ON sa.assignment_id = a.id"
                 " WHERE sa.extension IS NOT NULL",
    "flag": f"SELECT {_SUBMISSION} FROM submitted_notebook sn{_UP} WHERE sn.flagged",
    "due date": "SELECT name FROM assignment WHERE duedate IS NOT NULL",
    "roster entry (name, email or LMS id)": "SELECT id FROM student"
                                            " WHERE coalesce(first_name, last_name, email, lms_user_id) IS NOT NULL",
}


class Unreadable(ValueError):
    """The gradebook could not be read, so what it holds cannot be told."""


def set_by_hand(path):
    """What a person set in the SQLite gradebook at `path`, by kind.

    Returns
    -------
    found : dict, kind (a key of `KINDS`) -> sorted list of str naming each one set; only
        the kinds found. Empty for an empty database (no tables at all).

    Raises
    ------
    Unreadable : not a SQLite database, not nbgrader's, or it cannot be opened (says why).
    """
    try:
        with closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return {}
            if not TABLES <= tables:
                raise Unreadable(f"it is not nbgrader's gradebook (no table {', '.join(sorted(TABLES - tables))})")
            found = {kind: sorted(label for (label,) in db.execute(query)) for kind, query in KINDS.items()}
    except sqlite3.Error as exc:
        raise Unreadable(f"{exc} ({type(exc).__name__})") from None
    return {kind: labels for kind, labels in found.items() if labels}
