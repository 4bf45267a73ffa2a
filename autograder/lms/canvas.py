"""Canvas (and any LMS that imports a CSV of grades): ``grades.csv`` -> Canvas's grade import CSV.

    python -m autograder canvas-export --grades build/grades/grades.csv --roster roster.csv --out canvas.csv

The roster maps the course's student ids (the folder names under the submissions, the
``student`` column of grades.csv) to Canvas's. It is a CSV with a header row:

- ``student``: the course's id of the student (``--key`` names another column instead);
- Canvas's columns, named as Canvas's own gradebook export names them: ``Student`` (name),
  ``ID`` (Canvas user id), ``SIS User ID``, ``SIS Login ID``, ``Section``. Any of them may be
  missing or empty; Canvas needs one of ``ID``, ``SIS User ID`` or ``SIS Login ID`` to find
  the student.

A gradebook exported from Canvas is already such a file where the course's ids are Canvas
login ids: ``--key "SIS Login ID"``.

The output follows Canvas's grade import format (as its own gradebook export writes it): a
header row with Canvas's five columns, then one column per lesson (named after the lesson, or
``<lesson> (<assignment id>)`` with ``--assignment LESSON=ID`` so Canvas updates that existing
assignment instead of creating one), and a "Points Possible" row under it. The five columns
are the roster's cells as they are: Canvas finds the student by them, so an id such as
"+1234" is never altered (the formula escaping of ``grades.csv`` applies to free text only,
here the lesson titles). A lesson a graded student did not submit is an empty cell, Canvas's
"missing" (``--missing-as-zero``: 0). A student of the roster with no grades at all gets
empty cells, whatever the option (most often an id that does not match); a graded student
missing from the roster cannot be imported. Both are listed on stderr and in the report
written next to the output, never dropped silently.
"""
import csv
import sys
from pathlib import Path

from autograder.outputs import atomic, report

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "    Points Possible"
#: What a spreadsheet may run as a formula when a cell starts with it (CSV injection).
FORMULA_START = report.FORMULA_START
escape = report.csv_text


def read_grades(path):
    """Lesson totals from a grades.csv that `grade` wrote.

    Returns
    -------
    scores : dict, student -> {lesson: points (str, as written)}
    lessons : list of str
    """
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows, header = list(reader), reader.fieldnames or []
    lessons = [c[: -len("/total")] for c in header if c.endswith("/total")]
    if not rows or "student" not in header:
        raise SystemExit(f"error: {path} is not a grades.csv written by `python -m autograder grade` "
                         "(no student column or no rows)")
    return {unescape(row["student"]): {lesson: row[f"{lesson}/total"] for lesson in lessons} for row in rows}, lessons


def unescape(text):
    """The text `escape` was given (grades.csv writes formula-leading student ids escaped)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def read_roster(path, key):
    """Roster rows by the course's student id.

    Returns
    -------
    roster : dict, student id -> row (dict)
    problems : list of str, rows that cannot be used (no id, repeated id)
    """
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if key not in (reader.fieldnames or []):
            raise SystemExit(f"error: the roster {path} has no column {key!r} (its columns: "
                             f"{', '.join(reader.fieldnames or [])}); see `python -m autograder canvas-export -h`")
        roster, problems = {}, []
        for number, row in enumerate(reader, start=2):
            if (row.get("Student") or "").strip() == POINTS_POSSIBLE.strip():
                continue  # a Canvas export used as the roster
            student = (row.get(key) or "").strip()
            if not student:
                problems.append(f"roster line {number} has no {key}: skipped")
            elif student in roster:
                problems.append(f"roster line {number} repeats {key} {student!r}: kept the first")
            else:
                roster[student] = row
    return roster, problems


def points_possible(lesson):
    """A lesson's total points (its master's items), or "" when its master is not at hand."""
    from autograder.grading.grade import load_master
    try:
        return f"{sum(points for _, points in load_master(lesson).items):g}"
    except FileNotFoundError:
        return ""


def export(grades, roster, out, key="student", assignments=None, missing_as_zero=False):
    """Write the Canvas import CSV and its report.

    Parameters
    ----------
    grades, roster, out : str or Path
    key : str, the roster's column holding the course's student ids
    assignments : dict or None, lesson -> Canvas assignment id
    missing_as_zero : bool, a lesson a graded student did not submit (empty in grades.csv) as 0

    Returns
    -------
    unmatched : list of str, students missing from one side (also in the report)
    """
    scores, lessons = read_grades(grades)
    people, problems = read_roster(roster, key)
    assignments = assignments or {}
    unknown = sorted(set(assignments) - set(lessons))
    if unknown:
        raise SystemExit(f"error: --assignment names lessons grades.csv does not have: {', '.join(unknown)}")
    titles = [f"{lesson} ({assignments[lesson]})" if lesson in assignments else lesson for lesson in lessons]
    out = Path(out)

    def write_csv(temp):
        with open(temp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(CANVAS_COLUMNS + [escape(t) for t in titles])
            writer.writerow([POINTS_POSSIBLE, "", "", "", ""] + [points_possible(lesson) for lesson in lessons])
            for student in sorted(people):
                row = people[student]
                got = scores.get(student, {})
                cells = [got.get(lesson, "") for lesson in lessons]
                if missing_as_zero and student in scores:
                    cells = [cell or "0" for cell in cells]
                writer.writerow([row.get(c) or "" for c in CANVAS_COLUMNS] + cells)
    atomic.write_with(out, write_csv)
    unmatched = [f"graded but not in the roster (not exported): {s}" for s in sorted(set(scores) - set(people))]
    unmatched += [f"in the roster but not graded (empty cells): {s}" for s in sorted(set(people) - set(scores))]
    report = out.with_name(out.stem + ".report.txt")
    lines = [f"Canvas export of {grades} with roster {roster} ({key} column): {len(people)} students written "
             f"to {out}, {len(scores)} graded, lessons: {', '.join(titles)}."]
    lines += unmatched + problems or ["every graded student is in the roster and every roster student was graded"]
    report.write_text("\n".join(lines) + "\n")
    for line in unmatched + problems:
        print(f"canvas-export: {line}", file=sys.stderr)
    print(f"canvas import file: {out}\nreport: {report}")
    return unmatched + problems
