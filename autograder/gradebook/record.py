"""Store grades in nbgrader's gradebook, so nbgrader's own tools see them.

Updates in place, never deletes a submission: what an instructor set in nbgrader (manual
scores, comments, extensions) survives every regrade. One run is one transaction: a run
killed or failing midway leaves the gradebook as it was. Each lesson costs a few SQL
statements whatever the size of the class (a PostgreSQL server charges a round trip for each):
its rows are read in bulk, missing ones added in one flush, and only changed scores written.
"""
import tempfile
from contextlib import contextmanager
from pathlib import Path

import nbgrader.api as orm
from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
from sqlalchemy import and_
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, IntegrityError, ProgrammingError
from sqlalchemy.orm import undefer

from autograder.gradebook import late
from autograder.gradebook.nbgrader_cmd import generate

#: Attempts when another run registers the same lesson or student at the same time.
ATTEMPTS = 3
#: The most values one SQL ``IN (...)`` lists; a larger class is read in several queries.
IN_LIST = 500


#: How `shown` writes a URL it cannot print safely.
UNREADABLE, UNESCAPED_AT = "(a URL SQLAlchemy cannot read, not shown)", "(a URL with an unescaped @, not shown)"


def shown(db_url):
    """The gradebook URL as it may be printed: any password masked (after the user name, or
    as a ``password=`` query parameter); a URL whose credentials cannot be told apart is not shown."""
    try:
        url = make_url(db_url)
    except (ArgumentError, ValueError):
        return UNREADABLE
    if "@" in (url.host or "") or "@" in (url.database or ""):  # a password holding an unescaped @
        return UNESCAPED_AT
    mask = "MASKED-PASSWORD-MASKED"
    query = {k: (mask if "pass" in k.lower() else v) for k, v in url.query.items()}
    return url.set(query=query).render_as_string(hide_password=True).replace(mask, "***")


def failure(exc, db_url):
    """The sentence for a gradebook that could not be written: which, why, and what to do."""
    where = shown(db_url)
    not_a_url = isinstance(exc, ArgumentError)  # e.g. an unknown dialect
    try:
        url = make_url(db_url)
    except (ArgumentError, ValueError) as unreadable:
        exc, not_a_url = unreadable, True
    if not_a_url:
        return (f"the gradebook URL {where} is not a database URL SQLAlchemy can open "
                f"({type(exc).__name__}): see `--db` in `grade --help`")
    if isinstance(exc, ModuleNotFoundError):  # a driver of an extra, e.g. psycopg2 for postgresql://
        extra = " (the course's postgresql extra: pip install -c requirements.lock -e '.[postgresql]')" * (
            url.get_backend_name() == "postgresql")
        return f"the gradebook {where} needs the Python package {exc.name}, which is not installed{extra}"
    if isinstance(exc, OSError):
        return f"the gradebook could not be written ({exc.strerror or exc}: {exc.filename}): fix that and run again"
    reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, DatabaseError) and db_url.startswith("sqlite:///") and (
            "not a database" in reason or "malformed" in reason):
        return f"the gradebook {db_url[len('sqlite:///'):]} is not a readable SQLite database: move it aside and run again"
    if where == UNESCAPED_AT:  # the driver may repeat any piece of the password it misread
        reason = type(exc).__name__
    else:
        secrets = [url.password] + [v for k, v in url.query.items() if "pass" in k.lower()]
        for secret in sorted({str(v) for s in secrets if s for v in (s if isinstance(s, tuple) else (s,))},
                             key=len, reverse=True):
            reason = reason.replace(secret, "***")  # a driver may repeat what it was given
    return f"the gradebook {where} could not be written ({reason}): fix that and run again"


def record(results, db_url, notebook="lesson", root=None):
    """Write every item's score as the auto score of its grade cell, in one transaction.

    A lesson the gradebook has not seen is registered as ``nbgrader generate_assignment``
    would (its cells, sources and points; an assignment added by ``nbgrader db assignment
    add``, with its due date, gets them too); a lesson whose master changed since gets its
    grade cells' points (and cells) updated, with one note per lesson. A late submission gets
    the penalty of the course's nbgrader late rule (see `late`), also set on its result.

    Parameters
    ----------
    results : list of results.SubmissionResult
    db_url : str, SQLAlchemy URL of the gradebook
    notebook : str, nbgrader's notebook name within each lesson
    root : str or Path or None, the course root whose nbgrader_config.py applies (default: the course's)

    Returns
    -------
    recorded : list of SubmissionResult, those now in the gradebook
    notes : list of str, what could not be recorded or changed in the gradebook, and why
    """
    by_lesson = {}
    for r in results:
        by_lesson.setdefault(r.lesson, []).append(r)
    gb = _opened(db_url)
    try:
        late_rule = late.rule(root)
        registrations, notes = _new_registrations(gb, by_lesson, notebook, root)
        for attempt in range(ATTEMPTS):
            if attempt:  # start over on a new session and connection
                gb.close()
                gb = Gradebook(db_url)
            with _deferred_commits(gb) as commit:
                try:
                    lessons = {}
                    for lesson in sorted(by_lesson):
                        found = _ensure_lesson(gb, lesson, notebook, registrations.get(lesson))
                        if found:
                            lessons[lesson] = found
                    cells, changes = {}, []
                    for lesson, (_, nb) in lessons.items():
                        cells[lesson], note = _sync_points(gb, lesson, nb, by_lesson[lesson][0].items)
                        changes += note
                    _ensure_students(gb, {r.student for lesson in lessons for r in by_lesson[lesson]})
                    for lesson, (assignment, nb) in lessons.items():
                        _record_lesson(gb, assignment, nb, cells[lesson], by_lesson[lesson], late_rule)
                    commit()
                    return [r for lesson in lessons for r in by_lesson[lesson]], notes + changes
                except (IntegrityError, InvalidEntry):
                    # another run added the same lesson or student first: start over, finding theirs
                    gb.db.rollback()
                    if attempt == ATTEMPTS - 1:
                        raise
    finally:
        gb.close()


def register(lessons, db_url, notebook="lesson", root=None):
    """Register those of `lessons` the gradebook does not hold, as `record` does at a lesson's first
    submission (a service that registers them when it starts keeps that wait from its first student).

    Returns
    -------
    notes : list of str, the lessons that could not be registered, and why
    """
    gb = _opened(db_url)
    try:
        registrations, notes = _new_registrations(gb, lessons, notebook, root)
        for lesson, cells in registrations.items():
            if cells:
                _ensure_lesson(gb, lesson, notebook, cells)
        gb.db.commit()
        return notes
    finally:
        gb.close()


def _new_registrations(gb, lessons, notebook, root):
    """nbgrader's registration (`_registrations`) of each of `lessons` the gradebook does not hold yet; no
    transaction is left open while nbgrader registers them.

    Returns
    -------
    registrations : dict, lesson -> its cells (None where it could not be registered)
    notes : list of str, the lessons that could not be registered, and why
    """
    known = {name for name, in gb.db.query(orm.Assignment.name).join(orm.Notebook).filter(orm.Notebook.name == notebook)}
    gb.db.rollback()
    return _registrations(sorted(set(lessons) - known), notebook, root)


def _opened(db_url):
    """nbgrader's Gradebook; on a new database another run may be creating the tables at once."""
    for attempt in range(ATTEMPTS):
        try:
            return Gradebook(db_url)
        except (IntegrityError, ProgrammingError):
            if attempt == ATTEMPTS - 1:
                raise


@contextmanager
def _deferred_commits(gb):
    """Within the block nbgrader's Gradebook methods only flush; yields the one real commit."""
    commit = gb.db.commit
    gb.db.commit = gb.db.flush
    try:
        yield commit
    finally:
        del gb.db.commit


def _registrations(lessons, notebook, root=None):
    """The lessons' cells as nbgrader generate_assignment records them (run on a scratch gradebook).

    Returns
    -------
    registrations : dict, lesson -> ``{"kernelspec", "grade", "solution", "task", "source"}``, or None where
        nbgrader could not register it
    notes : list of str, those lessons and why
    """
    if not lessons:
        return {}, []
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "gradebook.db"
        failed = generate(lessons, Path(scratch) / "release", db, root)
        registrations = {lesson: None for lesson in failed}
        notes = [f"gradebook: could not add lesson {lesson}: {output[-300:]}" for lesson, output in failed.items()]
        ready = [lesson for lesson in lessons if lesson not in failed]
        if not ready:
            return registrations, notes
        with Gradebook(f"sqlite:///{db}") as gb:
            for lesson in ready:
                nb = gb.find_notebook(notebook, lesson)
                registrations[lesson] = {
                    "kernelspec": nb.kernelspec,
                    "grade": [dict(name=c.name, max_score=c.max_score, cell_type=c.cell_type) for c in nb.grade_cells],
                    "solution": [dict(name=c.name) for c in nb.solution_cells],
                    "task": [dict(name=c.name, max_score=c.max_score, cell_type=c.cell_type) for c in nb.task_cells],
                    "source": [dict(name=c.name, cell_type=c.cell_type, locked=c.locked, source=c.source,
                                    checksum=c.checksum) for c in nb.source_cells]}
        return registrations, notes


def _ensure_lesson(gb, lesson, notebook, cells):
    """The lesson's Assignment and Notebook, registering them from `cells` if needed; None when
    the gradebook does not have them and `cells` is None."""
    try:
        assignment = gb.find_assignment(lesson)
    except MissingEntry:
        assignment = None
    nb = next((n for n in assignment.notebooks if n.name == notebook), None) if assignment else None
    if nb is not None or cells is None:
        return nb and (assignment, nb)
    if assignment is None:
        assignment = gb.add_assignment(lesson)
    nb = orm.Notebook(name=notebook, assignment=assignment, kernelspec=cells["kernelspec"])
    gb.db.add_all([nb] + [kind(notebook=nb, **info) for kind, key in [
        (orm.GradeCell, "grade"), (orm.SolutionCell, "solution"), (orm.TaskCell, "task"), (orm.SourceCell, "source")]
        for info in cells[key]])
    gb.db.flush()
    return assignment, nb


def _sync_points(gb, lesson, nb, items):
    """Make the grade cells of the lesson's notebook `nb` those of the master the results were graded against.

    Returns
    -------
    cells : {name: GradeCell}, the notebook's grade cells now
    notes : list of str, one describing the changes, if any
    """
    cells = _grade_cells(gb, nb)
    changes = []
    for item in items:
        cell = cells.get(item.grade_id)
        if cell is None:
            gb.db.add(orm.GradeCell(name=item.grade_id, notebook=nb, max_score=item.max_points, cell_type="code"))
            changes.append(f"{item.grade_id} added ({item.max_points:g} points)")
        elif cell.max_score != item.max_points:
            changes.append(f"{item.grade_id} {cell.max_score:g} -> {item.max_points:g} points")
            cell.max_score = item.max_points
    for name in sorted(set(cells) - {i.grade_id for i in items}):
        for grade in list(cells[name].grades):
            gb.db.delete(grade)
        gb.db.delete(cells[name])
        changes.append(f"{name} removed (with its grades)")
    gb.db.flush()
    if not changes:
        return cells, []
    gb.db.expire(nb)  # its cells as they are now
    return _grade_cells(gb, nb), [f"gradebook: the master of {lesson} changed since the gradebook last saw it; "
                                  "updated: " + "; ".join(changes)]


def _ensure_students(gb, students):
    """Add to the gradebook those of `students` (ids) it does not hold; their details are left as they are."""
    known = {row.id for chunk in _chunks(students) for row in gb.db.query(orm.Student.id).filter(orm.Student.id.in_(chunk))}
    gb.db.add_all(orm.Student(id=s) for s in sorted(set(students) - known))
    gb.db.flush()


def _record_lesson(gb, assignment, nb, cells, results, rule):
    """The auto scores, timestamps and late penalties of one lesson's submissions (to its
    Assignment, Notebook `nb` and its {name: GradeCell} `cells`), in a few queries whatever their number."""
    submitted = _submitted_notebooks(gb, assignment, nb, [r.student for r in results])
    with gb.db.no_autoflush:  # a new submission's grades are inserted with their scores: no UPDATE after
        grades = _grades(gb, [n for _, n in submitted.values()])
        for r in results:
            _record_submission(gb, r, *submitted[r.student], cells, grades)
    gb.db.flush()
    _assign_late_penalties(gb, results, submitted, rule)


def _grade_cells(gb, nb):
    """{name: GradeCell} of the notebook `nb`, each loaded whole (``nb.grade_cells`` would load
    their points one cell at a time)."""
    return {c.name: c for c in gb.db.query(orm.GradeCell).filter(orm.GradeCell.notebook_id == nb.id)}


def _chunks(values):
    """`values` sorted, in lists of at most IN_LIST (short enough for an SQL ``IN`` on any database)."""
    values = sorted(values)
    return [values[k:k + IN_LIST] for k in range(0, len(values), IN_LIST)]


def _submitted_notebooks(gb, assignment, nb, students):
    """{student: (SubmittedAssignment, its SubmittedNotebook of `nb`)}, in the session: a
    submission is added for each student who had none, as nbgrader's add_submission makes it
    (every notebook, grade and comment of the lesson), and the notebook to a submission without it."""
    found = {}
    for chunk in _chunks(students):
        query = (gb.db.query(orm.SubmittedAssignment, orm.SubmittedNotebook)
                 .outerjoin(orm.SubmittedNotebook, and_(orm.SubmittedNotebook.assignment_id == orm.SubmittedAssignment.id,
                                                    orm.SubmittedNotebook.notebook_id == nb.id))
                 .filter(orm.SubmittedAssignment.assignment_id == assignment.id,
                         orm.SubmittedAssignment.student_id.in_(chunk)))
        found.update((submission.student_id, (submission, submitted)) for submission, submitted in query)
    with gb.db.no_autoflush:
        for student in sorted(set(students) - set(found)):
            submission = orm.SubmittedAssignment(assignment=assignment, student_id=student)
            found[student] = submission, None
            for other in assignment.notebooks:
                if other is not nb:
                    _new_submitted_notebook(other, submission)
        for student, (submission, submitted) in found.items():
            if submitted is None:  # also a submission from before the notebook was added to the lesson
                found[student] = submission, _new_submitted_notebook(nb, submission)
    gb.db.add_all(submission for submission, _ in found.values())
    return found


def _new_submitted_notebook(nb, submission):
    """An empty submitted notebook of `nb`, its grades and comments, as nbgrader's add_submission makes it."""
    submitted = orm.SubmittedNotebook(notebook=nb, assignment=submission)
    for cell in nb.grade_cells:
        orm.Grade(cell=cell, notebook=submitted)
    for cell in nb.solution_cells:
        orm.Comment(cell=cell, notebook=submitted)
    for cell in nb.task_cells:
        orm.Comment(cell=cell, notebook=submitted)
        orm.Grade(cell=cell, notebook=submitted)
    return submitted


def _grades(gb, submitted):
    """{(SubmittedNotebook, cell id): Grade} of the `submitted` notebooks: those in the gradebook
    read in a query per IN_LIST, those just made (not yet flushed, no id) from the session."""
    stored = {n.id: n for n in submitted if n.id is not None}
    grades = {}
    for chunk in _chunks(stored):
        grades.update(((stored[g.notebook_id], g.cell_id), g)
                      for g in gb.db.query(orm.Grade).filter(orm.Grade.notebook_id.in_(chunk)))
    for n in submitted:
        if n.id is None:
            grades.update(((n, g.cell.id), g) for g in n.grades)
    return grades


def _record_submission(gb, result, submission, submitted, cells, grades):
    """One submission's auto scores and timestamp; everything set by hand is left as it is.

    Parameters
    ----------
    result : SubmissionResult
    submission, submitted : its SubmittedAssignment and SubmittedNotebook
    cells : {name: GradeCell} of the lesson's notebook
    grades : {(SubmittedNotebook, cell id): Grade}, from `_grades`
    """
    if result.timestamp is not None and submission.timestamp != result.timestamp:
        submission.timestamp = result.timestamp
    for item in result.items:
        cell = cells[item.grade_id]
        grade = grades.get((submitted, cell.id))
        if grade is None:  # a grade cell added to the master after this submission was first recorded
            grade = orm.Grade(cell=cell, notebook=submitted)
            gb.db.add(grade)
        if grade.auto_score != item.points:
            grade.auto_score = item.points
        if grade.needs_manual_grade is not False:
            grade.needs_manual_grade = False


def _assign_late_penalties(gb, results, submitted, rule):
    """nbgrader's late penalty of each recorded submission, in the gradebook and on its result."""
    overdue = [submitted[r.student][1].id for r in results if submitted[r.student][0].total_seconds_late > 0]
    for chunk in _chunks(overdue):  # their scores, as the database computes them from the grades just written
        gb.db.query(orm.SubmittedNotebook).filter(orm.SubmittedNotebook.id.in_(chunk)) \
            .options(undefer(orm.SubmittedNotebook.score)).populate_existing().all()
    for r in results:
        submission, notebook = submitted[r.student]
        points = late.penalty(rule, r.student, submission, notebook)
        if notebook.late_submission_penalty != points:
            notebook.late_submission_penalty = points
        r.penalty, r.seconds_late = points or 0.0, submission.total_seconds_late
