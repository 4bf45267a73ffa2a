"""The Canvas export of the graded sample class: Canvas's import columns, one column per
lesson with its points possible, and every student missing from one side listed."""
import csv

import pytest

from autograder import cli
from autograder.lms.canvas import CANVAS_COLUMNS, escape, unescape
from autograder.outputs import report


@pytest.fixture(scope="module")
def exported(graded_class, tmp_path_factory):
    """(folder with grades.csv and roster.csv, results, omitted student, unknown student, roster)."""
    results, _, _ = graded_class
    folder = tmp_path_factory.mktemp("canvas")
    report.write_all(list(results.values()), [], folder)
    students = sorted({s for s, _ in results})
    omitted, unknown = students[0], "not-in-this-course"
    roster = [{"student": s, "Student": f"Student {k}", "ID": str(1000 + k), "SIS User ID": f"U{k}",
               "SIS Login ID": s, "Section": "A"} for k, s in enumerate(students) if s != omitted]
    roster.append({"student": unknown, "Student": "=HYPERLINK(\"http://x\")", "ID": "999", "SIS User ID": "-1",
                   "SIS Login ID": "@x", "Section": "+B"})
    with open(folder / "roster.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(roster[0]))
        writer.writeheader()
        writer.writerows(roster)
    return folder, results, omitted, unknown, roster


def run_export(folder, capsys, *extra):
    status = cli.main(["canvas-export", "--grades", str(folder / "grades.csv"), "--roster", str(folder / "roster.csv"),
                       "--out", str(folder / "canvas.csv"), *extra])
    err = capsys.readouterr().err
    with open(folder / "canvas.csv", newline="") as f:
        rows = list(csv.reader(f))
    return status, err, rows, (folder / "canvas.report.txt").read_text()


def test_columns_points_and_scores(exported, capsys):
    folder, results, omitted, unknown, roster = exported
    status, _, rows, _ = run_export(folder, capsys)
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
            assert float(cell) == pytest.approx(sum(i.points for i in got.items) if got else 0.0)
    assert status == cli.EXIT_PROBLEMS


def test_students_missing_from_either_side_are_listed(exported, capsys):
    folder, _, omitted, unknown, _ = exported
    _, err, rows, text = run_export(folder, capsys)
    for listing in (err, text):
        assert f"graded but not in the roster (not exported): {omitted}" in listing
        assert f"in the roster but not graded (empty cells): {unknown}" in listing
    stranger = next(row for row in rows[2:] if row[1] == "999")
    assert stranger[len(CANVAS_COLUMNS):] == [""] * (len(rows[0]) - len(CANVAS_COLUMNS))
    assert omitted not in {cell for row in rows for cell in row}


def test_formula_text_is_escaped(exported, capsys):
    folder, *_ = exported
    _, _, rows, _ = run_export(folder, capsys)
    stranger = next(row for row in rows[2:] if row[1] == "999")
    assert stranger[:len(CANVAS_COLUMNS)] == ["'=HYPERLINK(\"http://x\")", "999", "'-1", "'@x", "'+B"]
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
