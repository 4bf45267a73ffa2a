"""Store grades in nbgrader's gradebook (SQLite), so nbgrader's own tools see them."""
import warnings

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning


def record(results, db_url, notebook="lesson"):
    """Write every item's score as the auto score of its grade cell.

    Returns
    -------
    notes : list of str, lessons that could not be recorded and why
    """
    notes = []
    with warnings.catch_warnings(), Gradebook(db_url) as gb:
        # nbgrader's add_submission trips a harmless autoflush warning in SQLAlchemy 2
        warnings.simplefilter("ignore", SAWarning)
        known = {a.name for a in gb.assignments}
        for lesson in sorted({r.lesson for r in results} - known):
            notes.append(f"gradebook: lesson {lesson} is not in {db_url}; run `make release` first")
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
                    notes.append(f"gradebook: no grade cell {item.grade_id} in {r.lesson}; run `make release`")
            gb.db.commit()
    return notes
