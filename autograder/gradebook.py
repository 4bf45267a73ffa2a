"""Store grades in nbgrader's gradebook (SQLite), so nbgrader's own tools see them."""
import tempfile
import warnings

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from autograder.nbgrader_cmd import generate


def record(results, db_url, notebook="lesson"):
    """Write every item's score as the auto score of its grade cell.

    Returns
    -------
    notes : list of str, lessons that could not be recorded and why
    """
    notes = []
    with Gradebook(db_url) as gb:
        known = {a.name for a in gb.assignments}
    for lesson in sorted({r.lesson for r in results} - known):
        with tempfile.TemporaryDirectory() as scratch:  # nbgrader learns the lesson's cells by releasing it
            status, output = generate(lesson, scratch, db_url)
        if status:
            notes.append(f"gradebook: could not add lesson {lesson}: {output.strip()[-300:]}")
    with warnings.catch_warnings(), Gradebook(db_url) as gb:
        # nbgrader's add_submission trips a harmless autoflush warning in SQLAlchemy 2
        warnings.simplefilter("ignore", SAWarning)
        known = {a.name for a in gb.assignments}
        for r in results:
            if r.lesson not in known:
                continue
            gb.update_or_create_student(r.student)
            try:
                gb.remove_submission(r.lesson, r.student)
            except MissingEntry:
                pass
            gb.add_submission(r.lesson, r.student)
            for item in r.items:
                try:
                    gb.find_grade(item.grade_id, notebook, r.lesson, r.student).auto_score = item.points
                except MissingEntry:
                    notes.append(f"gradebook: {r.lesson} has no grade cell {item.grade_id} (the master changed "
                                 "after this gradebook first saw it; start a new gradebook for the new version)")
            gb.db.commit()
    return notes
