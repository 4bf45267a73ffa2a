"""The grades a run publishes, read back from nbgrader's gradebook: the one source of a published grade.

After `record` has written the grader's auto scores, every score the course writes
(grades.csv, the feedback pages, the summary, nbgrader's feedback files, hence Canvas) is
the gradebook's, as ``nbgrader export`` computes it: per item the manual score a person set
in Formgrader, else the auto score, plus any extra credit; the late penalty of the course's
rule; and the comments a person wrote on the answer cells.

`read` runs where nbgrader is imported (the gradebook's helper process) and returns plain
data; `apply` turns it into published results in the grader's process without nbgrader.
"""
import dataclasses

#: How a published view travels (JSON): one dict per recorded submission.
#: ``{"student", "lesson", "penalty", "seconds_late", "grades": {grade_id: [auto, manual, extra]},
#:   "comments": [[answer cell, text], ...]}``


def read(db_url, submissions, notebook="lesson"):
    """The gradebook's view of `submissions`, in a handful of queries whatever the class size.

    Parameters
    ----------
    db_url : str, SQLAlchemy URL of the gradebook
    submissions : list of (student, lesson) pairs, those just recorded

    Returns
    -------
    views : list of dict, one per pair found, in the form above
    """
    from nbgrader.api import Assignment, BaseCell, Comment, Grade, Gradebook, Notebook, SubmittedAssignment, SubmittedNotebook
    wanted = set(submissions)
    lessons = sorted({lesson for _, lesson in wanted})
    if not lessons:
        return []
    views = {}
    with Gradebook(db_url) as gb:
        query = (gb.db.query(SubmittedAssignment, SubmittedNotebook.late_submission_penalty)
                 .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                 .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                 .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                 .filter(Assignment.name.in_(lessons), Notebook.name == notebook))
        for submission, penalty in query:
            key = (submission.student_id, submission.assignment.name)
            if key in wanted:
                views[key] = {"student": key[0], "lesson": key[1], "penalty": penalty or 0.0,
                              "seconds_late": max(0.0, submission.total_seconds_late), "grades": {}, "comments": []}

        def rows(*columns):
            table = columns[0].class_
            return (gb.db.query(SubmittedAssignment.student_id, Assignment.name, BaseCell.name, *columns)
                    .select_from(table)
                    .join(SubmittedNotebook, table.notebook_id == SubmittedNotebook.id)
                    .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                    .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                    .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                    .join(BaseCell, table.cell_id == BaseCell.id)
                    .filter(Assignment.name.in_(lessons), Notebook.name == notebook))
        for student, lesson, cell, auto, manual, extra in rows(Grade.auto_score, Grade.manual_score, Grade.extra_credit):
            if (student, lesson) in views:
                views[student, lesson]["grades"][cell] = [auto, manual, extra]
        for student, lesson, cell, manual, auto in rows(Comment.manual_comment, Comment.auto_comment):
            text = (manual if manual is not None else auto or "").strip()
            if (student, lesson) in views and text:
                views[student, lesson]["comments"].append([cell, text])
    return list(views.values())


def apply(results, views, cell_order=None):
    """`results` as the gradebook publishes them (new objects; `results` are left as graded).

    Parameters
    ----------
    results : list of results.SubmissionResult, as graded
    views : list of dict, from `read`
    cell_order : callable or None, lesson -> list of cell names in notebook order (comments
        are shown in that order; default: by name)

    Returns
    -------
    published : list of SubmissionResult, those with a view (the others were not recorded)
    """
    by_key = {(v["student"], v["lesson"]): v for v in views}
    orders = {}  # lesson -> {cell name: position}
    published = []
    for r in results:
        view = by_key.get((r.student, r.lesson))
        if view is None:
            continue
        items = [_published_item(i, view["grades"].get(i.grade_id)) for i in r.items]
        if r.lesson not in orders:
            orders[r.lesson] = {name: k for k, name in enumerate(cell_order(r.lesson))} if cell_order else {}
        order = orders[r.lesson]
        comments = sorted(((cell, text) for cell, text in view["comments"]),
                          key=lambda c: (order.get(c[0], len(order)), c[0]))
        published.append(dataclasses.replace(r, items=items, penalty=view["penalty"], seconds_late=view["seconds_late"],
                                             comments=[list(c) for c in comments]))
    return published


def _published_item(item, grade):
    """One item with the gradebook's score: manual over auto, plus extra credit, as nbgrader's ``Grade.score``."""
    if grade is None:
        return item
    auto, manual, extra = grade
    points = (manual if manual is not None else auto if auto is not None else 0.0) + (extra or 0.0)
    if points == item.points and manual is None and not extra:
        return item
    return dataclasses.replace(item, points=points, graded_points=item.points)
