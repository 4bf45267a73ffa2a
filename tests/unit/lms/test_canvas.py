"""The Canvas export of the graded sample class: Canvas's grade import format (its columns,
one column per lesson, the points possible row), the roster's ids as they are, a lesson not
submitted as Canvas's missing, and every student missing from one side listed."""
import csv
import re
from dataclasses import replace

import pytest

from autograder import cli
from autograder.lms.canvas import CANVAS_COLUMNS, escape, unescape
from autograder.outputs import report

#: A course id and a Canvas login that a spreadsheet would take for a formula: Canvas must get them as they are.
FORMULA_ID = "+evil"


@pytest.fixture(scope="module")
def exported(graded_class, tmp_path_factory):
    """(folder with grades.csv and roster.csv, results written, omitted student, unknown student,
    roster, (student, lesson) not submitted). The results also hold a copy of one student's
    submissions under FORMULA_ID, and one submission of another student is left out."""
    results, _, _ = graded_class
    folder = tmp_path_factory.mktemp("canvas")
    students = sorted({s for s, _ in results})
    every = sorted(lesson for s, lesson in results if s == "correct")  # the one student with every lesson
    absent = ("correct", every[0])  # ... who now did not submit one of them
    written = {key: r for key, r in results.items() if key != absent}
    written |= {(FORMULA_ID, lesson): replace(r, student=FORMULA_ID) for (s, lesson), r in results.items()
                if s == "correct"}
    report.write_all(list(written.values()), [], folder)
    omitted, unknown = students[0], "not-in-this-course"
    assert len(every) > 1 and omitted != "correct"
    roster = [{"student": s, "Student": f"Student {k}", "ID": str(1000 + k), "SIS User ID": f"U{k}",
               "SIS Login ID": s, "Section": "A"} for k, s in enumerate(students + [FORMULA_ID]) if s != omitted]
    roster.append({"student": unknown, "Student": "=HYPERLINK(\"http://x\")", "ID": "999", "SIS User ID": "-1",
                   "SIS Login ID": "@x", "Section": "+B"})
    with open(folder / "roster.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(roster[0]))
        writer.writeheader()
        writer.writerows(roster)
    return folder, written, omitted, unknown, roster, absent


def check_canvas_format(rows):
    """Canvas's grade import format, as its gradebook export writes it: the header row starts
    with Student, ID, SIS User ID, SIS Login ID, Section, then one column per assignment (a
    new one by its name, an existing one as "name (id)"); the second row is "Points Possible"
    (indented, as Canvas writes it) with each assignment's points; every student row has one
    cell per column, an id Canvas can match, and a score that is a number or empty."""
    header, points, body = rows[0], rows[1], rows[2:]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert all(re.fullmatch(r"[^,]+?( \(\d+\))?", title) for title in header[5:]) and len(set(header)) == len(header)
    assert points[:5] == ["    Points Possible", "", "", "", ""]
    assert all(float(p) > 0 for p in points[5:])
    for row in body:
        assert len(row) == len(header)
        assert any(row[1:4]), row
        assert all(cell == "" or float(cell) >= 0 for cell in row[5:]), row


def run_export(folder, capsys, *extra):
    status = cli.main(["canvas-export", "--grades", str(folder / "grades.csv"), "--roster", str(folder / "roster.csv"),
                       "--out", str(folder / "canvas.csv"), *extra])
    err = capsys.readouterr().err
    with open(folder / "canvas.csv", newline="") as f:
        rows = list(csv.reader(f))
    return status, err, rows, (folder / "canvas.report.txt").read_text()


def test_columns_points_and_scores(exported, capsys):
    folder, results, omitted, unknown, roster, absent = exported
    status, _, rows, _ = run_export(folder, capsys)
    check_canvas_format(rows)
    lessons = sorted({lesson for _, lesson in results})
    assert rows[0] == CANVAS_COLUMNS + lessons
    assert rows[1][0].strip() == "Points Possible"
    max_points = {lesson: next(r.max_score for (_, l), r in results.items() if l == lesson) for lesson in lessons}
    assert [float(p) for p in rows[1][len(CANVAS_COLUMNS):]] == [max_points[lesson] for lesson in lessons]
    body = {row[CANVAS_COLUMNS.index("SIS Login ID")]: row for row in rows[2:]}
    assert len(rows) - 2 == len(roster)
    for person in roster[:-1]:
        row = body[person["student"]]
        assert row[:len(CANVAS_COLUMNS)] == [person[c] for c in CANVAS_COLUMNS]
        for lesson, cell in zip(lessons, row[len(CANVAS_COLUMNS):]):
            got = results.get((person["student"], lesson))
            assert (float(cell) == pytest.approx(sum(i.points for i in got.items))) if got else cell == ""
    assert status == cli.EXIT_PROBLEMS


def test_a_lesson_not_submitted_is_missing_or_zero(exported, capsys):
    """grades.csv leaves a lesson not submitted empty (not 0), and Canvas gets it empty
    (missing) or, with --missing-as-zero, 0; a lesson scored 0 stays 0 either way."""
    folder, results, _, unknown, _, (student, lesson) = exported
    with open(folder / "grades.csv", newline="") as f:
        grades = {row["student"]: row for row in csv.DictReader(f)}
    blank = [column for column, cell in grades[student].items() if column.startswith(f"{lesson}/")]
    assert len(blank) >= 3 and all(grades[student][column] == "" for column in blank)  # items, total, late_penalty
    assert float(grades[student]["total"]) == pytest.approx(sum(r.score for (s, _), r in results.items() if s == student))
    column = CANVAS_COLUMNS.index("SIS Login ID")
    for extra, expected in (((), ""), (("--missing-as-zero",), "0")):
        _, _, rows, _ = run_export(folder, capsys, *extra)
        check_canvas_format(rows)
        row = next(r for r in rows[2:] if r[column] == student)
        assert row[rows[0].index(lesson)] == expected
        assert all(cell != "" for title, cell in zip(rows[0], row) if title not in (*CANVAS_COLUMNS, lesson))
        stranger = next(r for r in rows[2:] if r[1] == "999")  # on the roster, never graded: left alone
        assert stranger[len(CANVAS_COLUMNS):] == [""] * (len(rows[0]) - len(CANVAS_COLUMNS))


def test_students_missing_from_either_side_are_listed(exported, capsys):
    folder, _, omitted, unknown, _, _ = exported
    _, err, rows, text = run_export(folder, capsys)
    for listing in (err, text):
        assert f"graded but not in the roster (not exported): {omitted}" in listing
        assert f"in the roster but not graded (empty cells): {unknown}" in listing
    stranger = next(row for row in rows[2:] if row[1] == "999")
    assert stranger[len(CANVAS_COLUMNS):] == [""] * (len(rows[0]) - len(CANVAS_COLUMNS))
    assert omitted not in {cell for row in rows for cell in row}


def test_id_columns_are_the_rosters_own(exported, capsys):
    """Canvas matches a student by these cells: a roster's "+evil" login or "-1" SIS id must
    reach it unchanged (the formula escaping is for free text, which these are not)."""
    folder, results, *_ = exported
    _, _, rows, _ = run_export(folder, capsys)
    stranger = next(row for row in rows[2:] if row[1] == "999")
    assert stranger[:len(CANVAS_COLUMNS)] == ["=HYPERLINK(\"http://x\")", "999", "-1", "@x", "+B"]
    evil = next(row for row in rows[2:] if row[CANVAS_COLUMNS.index("SIS Login ID")] == FORMULA_ID)
    graded = {lesson: r.score for (s, lesson), r in results.items() if s == FORMULA_ID}  # matched through grades.csv's "'+evil"
    assert [float(cell) for cell in evil[len(CANVAS_COLUMNS):]] == [graded[title] for title in rows[0][len(CANVAS_COLUMNS):]]
    assert escape("Ada") == "Ada" and escape("=x") == "'=x"
    assert [unescape(escape(t)) for t in ("-x", "'a", "@", "Ada")] == ["-x", "'a", "@", "Ada"]


def test_assignment_ids_name_the_columns(exported, capsys):
    folder, results, *_ = exported
    lesson = sorted({lesson for _, lesson in results})[0]
    _, _, rows, _ = run_export(folder, capsys, "--assignment", f"{lesson}=4321")
    assert f"{lesson} (4321)" in rows[0] and lesson not in rows[0]


def test_a_canvas_export_can_be_the_roster(exported, capsys):
    """Matching on SIS Login ID (the roster's `student` column ignored) gives the same rows."""
    folder, *_ = exported
    by_student = run_export(folder, capsys)[2]
    status, err, by_login, _ = run_export(folder, capsys, "--key", "SIS Login ID")
    assert sorted(by_login) == sorted(by_student)
    assert "graded but not in the roster" in err and status == cli.EXIT_PROBLEMS
