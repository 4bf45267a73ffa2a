"""Reports stay inert whatever text a submission smuggles into them.

Student and lesson folder names, cell ids, and the problems and incidents that quote them
come from the submission; every output format must show them as text, never act on them.
"""
import csv
import dataclasses
import re
import unicodedata
from html.parser import HTMLParser

import cmarkgfm
import mistune
import pytest
from cmarkgfm.cmark import Options

from autograder.grading.results import ItemResult, SubmissionResult
from autograder.outputs import item_analysis, report

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
    "\tTAB",
    "\rCR",
    "\x1b[31mRED\x1b[0m",
    "bell\x07del\x7fcsi\x9b2J",
    "a|b`c`|d",
    "line\nbreak",
    "# heading",
    "- nested",
    "1. one",
    "[click](http://x) *em* _em_",
    "$\\frac{a}{b}$",
    "$\\frac{a}$",
    "$^^$",
]
HOSTILE_LESSON = "=1+1 <img src=x onerror=alert(1)> | `x`"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def hostile_class():
    """Every hostile string as a student, a cell id, a message, a hint, a problem and an incident."""
    results = []
    for k, name in enumerate(HOSTILE):
        items = [ItemResult(gid, float((j + k) % 2), 1.0, message=name, hint=gid,
                            failed_case=None if (j + k) % 2 else f"hidden case {k + 1} ({name})")
                 for j, gid in enumerate(HOSTILE)]
        items.append(ItemResult("penalty", -0.5, 1.0))
        for lesson_name in ("02_batch_norm", HOSTILE_LESSON):
            results.append(SubmissionResult(name, lesson_name, list(items), problems=[f"cell {name} was deleted"],
                                            incidents=[name], penalty=0.5 * (k % 2), seconds_late=30.0 * (k % 2)))
    unknown = [f"{name}/x: not a lesson of this course" for name in HOSTILE]
    return results, unknown


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.title = [], [], None
        self._in_title = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_title:
            self.title = data


def assert_inert(parsed, allowed):
    for tag, attrs in parsed.tags:
        assert tag in allowed, f"unexpected <{tag}> in the output"
        assert not [a for a, _ in attrs if a.lower().startswith("on")], f"event handler on <{tag}>"


def test_feedback_html_escapes_every_field(tmp_path):
    results, _ = hostile_class()
    for k, result in enumerate(results):
        page = tmp_path / f"{k}.html"
        report.write_feedback(result, page)
        parsed = Tags(page.read_bytes().decode())  # read_text() would turn a \r into \n
        assert_inert(parsed, {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "ul", "li",
                              "table", "caption", "tr", "th", "td", "code", "pre", "main"})
        # escaped exactly once: the reader sees the original text, control characters as escapes
        def shown(text, keep="\n"):
            return report.terminal_text(text, keep)
        assert parsed.title == f"{shown(result.lesson)}: feedback for {shown(result.student)}"
        text = "".join(parsed.text)
        assert "\x1b" not in text
        assert shown(result.student) in text and all(shown(i.grade_id) in text for i in result.items)


@pytest.mark.slow
def test_summary_markdown_is_inert_and_keeps_its_structure(tmp_path):
    results, unknown = hostile_class()
    text = report.summary(results, unknown, tmp_path)
    assert (tmp_path / "summary.md").read_bytes().decode() == text
    for tag in ("<script", "<img", "<svg"):
        assert tag not in text.lower(), f"raw {tag} in summary.md"
    assert "\x1b" not in text and "\r" not in text
    # rendered as GitHub-flavoured Markdown with raw HTML passed through, like most viewers
    rendered = mistune.create_markdown(escape=False, plugins=["table"])(text)
    parsed = Tags(rendered)
    assert_inert(parsed, {"h1", "h2", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td"})
    tags = [t for t, _ in parsed.tags]
    assert tags.count("h1") == 1 and tags.count("h2") == 5, "a name made a heading"
    assert tags.count("table") == 2 and tags.count("ul") == 3, "a name made a table or list"
    columns = report.item_columns(results)
    analysed = item_analysis.analyse(results)
    # the items table (5 columns), then the item analysis (6 columns, one row per item and failing hidden case)
    for table, width, count in zip(rendered.split("<table>")[1:], (5, 6), (len(columns), len(analysed))):
        rows = table.split("</table>")[0].split("<tr>")[1:]
        assert all(row.count("<td") + row.count("<th") == width for row in rows), "a name split a table cell"
        assert len(rows) == count + 1, "a name broke a table row"
    # still readable: the reader sees the names as they are
    seen = "".join(parsed.text)
    for name in HOSTILE:
        if name.isprintable():
            assert defanged(name) in seen, f"{name!r} is not shown as written"


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


#: Text GitHub-flavoured Markdown links without markup (its extended autolinks), as a folder name,
#: a cell id or an error message could carry it.
AUTOLINKS = [
    "https://evil.example/phish", "see http://evil.example.", "HTTPS://EVIL.EXAMPLE", "ftp://evil.example/x",
    "www.evil.example", "(www.evil.example/a)", "*WWW.evil.example*", "_www.evil.example_",
    "me@evil.example", "mailto:me@evil.example", "xmpp:me@evil.example/r", "a.b+c-d_e@evil.example",
]


def test_summary_markdown_leaves_no_autolink(tmp_path):
    """Rendered by GitHub's own renderer (cmark-gfm, autolink extension on), the summary holds no
    link from a submission, and still shows each string recognisably."""
    results, unknown = [], [f"{name}/x: not a lesson of this course" for name in AUTOLINKS]
    for name in AUTOLINKS:
        items = [ItemResult(name, 0.0, 1.0, message=name, hint=name)]
        results.append(SubmissionResult(name, "02_batch_norm", items, problems=[f"cell {name} was deleted"],
                                        incidents=[name]))
    text = report.summary(results, unknown, tmp_path)
    rendered = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    parsed = Tags(rendered)
    assert [dict(attrs).get("href") for tag, attrs in parsed.tags if tag == "a"] == []
    seen = "".join(parsed.text)
    for name in AUTOLINKS:
        assert defanged(name) in seen, f"{name!r} is not shown as {defanged(name)!r}"


def defanged(text):
    """`text` as Markdown outputs show it: what would autolink bracketed (``[:]//``, ``www[.]``, and
    ``[@]`` after a character an e-mail address may hold)."""
    text = text.replace("://", "[:]//").replace("www.", "www[.]").replace("WWW.", "WWW[.]")
    return re.sub(r"(?<=[\w.+-])@", "[@]", text)


def test_grades_csv_defuses_formulas_in_text_fields(tmp_path):
    results, _ = hostile_class()
    report.write_csv(results, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="") as f:
        header, *rows = list(csv.reader(f))
    for field in header + [row[0] for row in rows]:
        assert not field.startswith(FORMULA_START), f"formula cell {field!r}"
    shown = [report.terminal_text(s) for s in HOSTILE]
    assert sorted(row[0] for row in rows) == sorted(("'" + s if s.startswith(FORMULA_START) else s) for s in shown)
    assert f"'{HOSTILE_LESSON}/penalty" in header
    for row in rows:
        assert [x for x in row[1:] if not is_number(x)] == [], "a number was turned into text"
        assert row[header.index("02_batch_norm/penalty")] == "-0.5"


def test_table_prints_no_control_characters(tmp_path):
    results, _ = hostile_class()
    text = report.table(results)
    bad = [c for c in text if c != "\n" and unicodedata.category(c) == "Cc"]
    assert bad == [], f"control characters in the table: {bad!r}"
    assert "\\x1b[31mRED" in text, "the escape is not shown"


def display_width(text):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def test_table_columns_stay_aligned_for_long_and_wide_names():
    names = ["bob", "x" * 200, "学生" * 40, "e\u0301mile", "\x1b[2J"]
    items = [ItemResult("a", 1.0, 1.0), ItemResult("b", 0.0, 2.0)]
    results = [SubmissionResult(n, "02_batch_norm", list(items)) for n in names]
    lines = report.table(results).splitlines()
    student_rows = lines[lines.index(next(l for l in lines if l.startswith("---"))) + 1:-1]
    assert len(student_rows) == len(names)
    widths = {display_width(row) for row in student_rows}
    assert len(widths) == 1, f"rows of different width: {widths}"
    assert widths.pop() < 80
    assert display_width(lines[-1].rstrip()) <= display_width(student_rows[0])


@pytest.mark.slow
def test_summary_plot_survives_mathtext_in_ids(tmp_path):
    results, unknown = hostile_class()
    report.summary(results, unknown, tmp_path)
    assert (tmp_path / "summary.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("text", ["$\\frac{a}{b}$", "$x$ and $y$", "\\$x$", "a$b"])
def test_plot_text_never_starts_mathtext(text):
    label = report.plot_text(text)
    assert label.count("$") == label.count("\\$"), f"{label!r} would be rendered as mathtext"


def test_undecodable_folder_names_do_not_crash_the_reports(tmp_path):
    name = "bad\udcffname"  # how Python spells a folder name that is not valid UTF-8
    results = [SubmissionResult(name, "02_batch_norm", [ItemResult("a", 1.0, 1.0)], problems=[f"cell {name}"])]
    report.write_all(results, [f"{name}/x: not a lesson of this course"], tmp_path)
    assert "bad\\udcffname" in report.table(results)
    assert (tmp_path / "grades.csv").read_text().count("bad") == 1


def late_class():
    """ann: items adding to 14 of 20, handed in 2 h 5 min late and penalized 7; bob on time."""
    items = [ItemResult("a", 10.0, 10.0), ItemResult("b", 4.0, 10.0)]
    return [SubmissionResult("ann", "02_batch_norm", list(items), penalty=7.0, seconds_late=2 * 3600 + 5 * 60 + 12),
            SubmissionResult("bob", "02_batch_norm", list(items))]


def test_durations_under_a_minute_say_seconds():
    """A submission 2.7 s late was 'Handed in 0 min after the due date' (issue 25)."""
    assert [report.duration(s) for s in (2.7, 0.01, 59, 60, 7512, 90061)] == [
        "3 s", "1 s", "59 s", "1 min", "2 h 5 min", "1 day 1 h 1 min"]
    page = report.feedback_page(SubmissionResult("ann", "02_batch_norm", [ItemResult("a", 1.0, 1.0)], penalty=0.5,
                                                 seconds_late=2.7))
    assert "Handed in 3 s after the due date" in page


def test_table_says_why_a_late_total_is_not_its_items_sum():
    """The late student's items add to 14 and the total is 7/20: the row says so, the on-time row says nothing."""
    lines = report.table(late_class()).splitlines()
    ann, bob = (next(line for line in lines if line.startswith(name)) for name in ("ann", "bob"))
    assert "7/20" in ann and "late 2 h 5 min: -7 points (14 before)" in ann, ann
    assert "14/20" in bob and "late" not in bob, bob


def test_summary_lists_the_late_penalties_or_none(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "_plot", lambda *args: None)  # the Markdown is under test, not the figures
    monkeypatch.setattr(item_analysis, "plot", lambda *args: None)

    def section(text):
        return text.split("## Late penalties\n")[1].split("\n## ")[0]
    late = [line for line in section(report.summary(late_class(), [], tmp_path)).splitlines() if line.startswith("- ")]
    assert late == ["- ann/02_batch_norm: late 2 h 5 min: -7 points (14 before)"]
    on_time = [dataclasses.replace(r, penalty=0.0, seconds_late=0.0) for r in late_class()]
    assert [line for line in section(report.summary(on_time, [], tmp_path)).splitlines()
            if line.startswith("- ")] == ["- none"]


def test_grades_csv_leaves_a_lesson_not_submitted_empty(tmp_path):
    """A lesson a student did not submit has empty cells (its items, total and late penalty),
    so an LMS tells it from a submitted lesson scored 0; the overall total sums what exists."""
    def submission(student, lesson, points, penalty=0.0):
        return SubmissionResult(student, lesson, items=[ItemResult("a", points, 2.0), ItemResult("b", 0.0, 1.0)],
                                penalty=penalty)
    results = [submission("ann", "01_x", 2.0), submission("ann", "02_y", 0.0),
               submission("bob", "02_y", 2.0, penalty=1.0)]
    report.write_csv(results, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert {k: v for k, v in rows["bob"].items() if k.startswith("01_x/")} == \
        {"01_x/a": "", "01_x/b": "", "01_x/total": "", "01_x/late_penalty": ""}
    assert [rows["bob"][k] for k in ("02_y/a", "02_y/total", "02_y/late_penalty", "total", "max_total")] == \
        ["2", "1", "1", "1", "6"]
    assert [rows["ann"][k] for k in ("02_y/a", "02_y/total", "02_y/late_penalty", "01_x/total", "total")] == \
        ["0", "0", "0", "2", "2"]
