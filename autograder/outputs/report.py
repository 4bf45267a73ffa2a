"""What grading writes: grades.csv, per-student feedback HTML, a class summary with a plot,
and the grade table printed in the terminal.

Feedback contains only the judge's messages (property, case label, hint): never the
reference code, hidden inputs or expected arrays.

Student and lesson folder names, cell ids and the problems quoting them come from the
submission, so every piece of text the report did not write itself goes through the escaping
helper of its output format: `html_text`, `md_text`, `csv_text`, `terminal_text`, `plot_text`.
"""
import csv
import io
import math
import unicodedata
from collections import Counter
from pathlib import Path

from autograder.grading.results import item_columns
from autograder.outputs import atomic, figure
from autograder.outputs.escape import FORMULA_START, csv_text, html_text, md_text, plot_text, terminal_text  # noqa: F401
from autograder.worker.course import lesson_number
from autograder.worker.wording import likely_mistake

NAME_WIDTH = 24  # terminal columns given to a student's name in the grade table
NOTES_WIDTH = 90
def display_width(text):
    """Terminal columns of ``text``: east-asian wide characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def fit(text, width):
    """``text`` cut to at most ``width`` terminal columns, ending in an ellipsis if cut."""
    if display_width(text) <= width:
        return text
    out, used = "", 0
    for c in text:
        used += display_width(c)
        if used > width - 1:
            break
        out += c
    return out + "\u2026"


def pad(text, width):
    """``text`` fitted to exactly ``width`` terminal columns."""
    text = fit(text, width)
    return text + " " * (width - display_width(text))


def write_csv(results, path):
    """One row per student: every item's points, each lesson's total and late penalty, the
    overall total (of the lessons submitted). A lesson the student did not submit has empty
    cells, not 0: an LMS tells "missing" from a score of 0 (see lms/canvas.py)."""
    columns = item_columns(results)
    lessons = sorted({lesson for lesson, _, _ in columns})
    by_student = {}
    for r in results:
        by_student.setdefault(r.student, {})[r.lesson] = r
    with io.StringIO(newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student"] + [csv_text(f"{lesson}/{gid}") for lesson, gid, _ in columns]
                        + [csv_text(f"{lesson}/total") for lesson in lessons]
                        + [csv_text(f"{lesson}/late_penalty") for lesson in lessons]
                        + ["total", "max_total", "problems"])
        max_total = sum(pts for _, _, pts in columns)
        for student in sorted(by_student):
            subs = by_student[student]
            points = {(r.lesson, i.grade_id): i.points for r in subs.values() for i in r.items}
            row = [csv_text(student)] + [_num(points.get((lesson, gid), 0.0)) if lesson in subs else ""
                                         for lesson, gid, _ in columns]
            row += [_num(subs[lesson].score) if lesson in subs else "" for lesson in lessons]
            row += [_num(subs[lesson].penalty) if lesson in subs else "" for lesson in lessons]
            problems = sum(len(r.problems) + len(r.incidents) for r in subs.values())
            writer.writerow(row + [_num(sum(r.score for r in subs.values())), _num(max_total), problems])
        atomic.write(path, f.getvalue())


def _num(x):
    return f"{x:g}"


def duration(seconds):
    """``90061`` -> ``"1 day 1 h 1 min"``; under a minute in whole seconds, rounded up (``2.7`` -> ``"3 s"``),
    so a submission handed in late never reads as 0 late."""
    if seconds < 60:
        return f"{math.ceil(max(seconds, 0))} s"
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    parts = [f"{days} day{'s' if days != 1 else ''}" if days else "", f"{hours} h" if hours else "",
             f"{mins} min" if mins or not (days or hours) else ""]
    return " ".join(p for p in parts if p)


def table(results):
    """The grade table as text: one block per lesson, students x items, with totals."""
    out = []
    for lesson in sorted({r.lesson for r in results}):
        rows = sorted((r for r in results if r.lesson == lesson), key=lambda r: r.student)
        items = [(i.grade_id, i.max_points) for i in rows[0].items]
        names = [terminal_text(r.student) for r in rows]
        width = min(max(display_width(n) for n in names + ["student"]), NAME_WIDTH)
        out.append(f"\n{terminal_text(lesson)}  (items: "
                   + ", ".join(f"{k + 1}={fit(terminal_text(gid), 30)}" for k, (gid, _) in enumerate(items)) + ")")
        header = f"{pad('student', width)} " + " ".join(f"{k + 1:>4}" for k in range(len(items))) + "   total  notes"
        out.append(header)
        out.append("-" * len(header))
        for r, name in zip(rows, names):
            cells = " ".join(f"{_num(i.points):>4}" for i in r.items)
            notes = fit(terminal_text("; ".join([late_note(r)] * bool(r.penalty) + r.problems + r.incidents)),
                        NOTES_WIDTH)
            out.append(f"{pad(name, width)} {cells}   {_num(r.score):>2}/{_num(r.max_score):<3} {notes}")
        out.append(f"{pad('max', width)} " + " ".join(f"{_num(p):>4}" for _, p in items))
    return "\n".join(out)


def late_note(result):
    """``"late 2 h 5 min: -7 points (14 before)"``: why a penalized submission's total is not its items' sum."""
    return f"late {duration(result.seconds_late)}: -{_num(result.penalty)} points ({_num(result.raw_score)} before)"


def write_feedback(result, path):
    """Write `feedback_page(result)` to `path`."""
    atomic.write(path, feedback_page(result))


def feedback_page(result):
    """One student's feedback for one lesson as a self-contained HTML page (a str)."""
    rows = []
    for i in result.items:
        ok = i.points >= i.max_points
        hint = f"<p class='hint'>{html_text(likely_mistake(i.hint))}</p>" if i.hint and i.points < i.max_points else ""
        by_hand = (f"<br><small>set by your grader; the autograder gave {_num(i.graded_points)}</small>"
                   if i.graded_points is not None else "")
        rows.append(f"<tr class='{'ok' if ok else 'bad'}'><td><code>{html_text(i.grade_id)}</code></td>"
                    f"<td>{_num(i.points)} / {_num(i.max_points)}{by_hand}</td>"
                    f"<td><pre>{html_text(i.message)}</pre>{hint}</td></tr>")
    comments = "".join(f"<dt><code>{html_text(cell)}</code></dt><dd><pre>{html_text(text)}</pre></dd>"
                       for cell, text in result.comments)
    comments = f"<h2>Comments from your grader</h2><dl>{comments}</dl>" if comments else ""
    late = (f"<p class='hint'>Handed in {duration(result.seconds_late)} after the due date: late penalty "
            f"{_num(result.penalty)} points ({_num(result.raw_score)} before it).</p>" if result.penalty else "")
    notes = "".join(f"<li>{html_text(p)}</li>" for p in result.problems + result.incidents)
    notes = f"<h2>About your submission</h2><ul>{notes}</ul>" if notes else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html_text(result.lesson)}: feedback for {html_text(result.student)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
td{{vertical-align:top;padding:.4em;border-bottom:1px solid #ddd}}
tr.ok td:first-child{{border-left:4px solid #2a2}}tr.bad td:first-child{{border-left:4px solid #c33}}
pre{{white-space:pre-wrap;margin:0}}.hint{{color:#a50;margin:.3em 0 0}}</style></head><body><main>
<h1>{html_text(result.lesson)}: {_num(result.score)} / {_num(result.max_score)} points</h1>
{late}<p>Student: {html_text(result.student)}. Each item is one test cell of the notebook; it is checked on the
visible cases of the notebook and on hidden cases (other shapes and edge cases).</p>
{notes}{comments}<table><caption>Points per item</caption>
<tr><th scope="col">item</th><th scope="col">points</th><th scope="col">what the grader found</th></tr>{''.join(rows)}</table>
</main></body></html>
"""


def summary(results, unknown, out_dir, similarity=None):
    """Class summary: per item the share of full marks, the item analysis (item_analysis.py), the
    most common misconceptions, the submissions with problems. Writes summary.md, summary.png
    and item_analysis.png; returns the markdown. `similarity`: whether similarity.html is (or
    is about to be) beside it (default: whether it is there now)."""
    out_dir = Path(out_dir)
    lines = ["# Class summary", ""]
    students = sorted({r.student for r in results})
    lines.append(f"{len(students)} students, {len(results)} submissions graded.")
    columns = item_columns(results)
    shares = []
    lines += ["", "## Items", "", "| lesson | item | points | full marks | share |", "|---|---|---|---|---|"]
    for lesson, gid, pts in columns:
        got = [i for r in results if r.lesson == lesson for i in r.items if i.grade_id == gid]
        full = sum(i.points == i.max_points for i in got)
        shares.append((f"{lesson_number(lesson)} {gid}", full / max(len(got), 1)))
        lines.append(f"| {md_text(lesson)} | {md_text(gid)} | {_num(pts)} | {full} / {len(got)} "
                     f"| {100 * full / max(len(got), 1):.0f}% |")
    from autograder.outputs import item_analysis
    lines += [""] + item_analysis.write(results, out_dir)
    hints = Counter((r.lesson, i.grade_id, i.hint) for r in results for i in r.items if i.hint and i.points < i.max_points)
    lines += ["", "## Most common misconceptions", ""]
    lines += [f"- {n} x {md_text(gid)} ({md_text(lesson)}): {md_text(hint)}"
              for (lesson, gid, hint), n in hints.most_common(10)] or ["- none matched"]
    troubled = [r for r in results if r.problems or r.incidents]
    lines += ["", "Similarity of answer cells (it reports, it changes no grade): "
              + ("similarity.html" if (similarity if similarity is not None else (out_dir / "similarity.html").is_file())
                 else "python -m autograder similarity SUBMISSIONS --out similarity.html")]
    lines += ["", "## Late penalties", "", "By the course's nbgrader late rule, from the gradebook's due dates and "
              "extensions; grades.csv has them in its late_penalty columns, and the totals after them.", ""]
    lines += [f"- {md_text(r.student)}/{md_text(r.lesson)}: {late_note(r)}"
              for r in sorted(results, key=lambda r: (r.student, r.lesson)) if r.penalty] or ["- none"]
    lines += ["", "## Submissions with problems", ""]
    lines += [f"- {md_text(r.student)}/{md_text(r.lesson)}: " + md_text("; ".join(r.problems + r.incidents))
              for r in troubled] or ["- none"]
    lines += [f"- {md_text(u)}" for u in unknown]
    text = "\n".join(lines) + "\n"
    atomic.write(out_dir / "summary.md", text)
    _plot(shares, hints, out_dir / "summary.png")
    return text


def _plot(shares, hints, path):
    from matplotlib.ticker import MaxNLocator
    fig = figure.new((15, max(3, 0.35 * len(shares) + 1.5)))
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1]})
    labels, values = zip(*[(plot_text(label), v) for label, v in shares]) if shares else ((), ())
    axes[0].barh(range(len(values)), values, color="tab:green")
    axes[0].set(yticks=range(len(labels)), yticklabels=labels, xlim=(0, 1), xlabel="share of students with full marks",
                title="items")
    axes[0].invert_yaxis()
    common = hints.most_common(8)
    axes[1].barh(range(len(common)), [n for _, n in common], color="tab:orange")
    axes[1].set(yticks=range(len(common)), yticklabels=[plot_text(_short(f"{lesson_number(lesson)} {gid}: {h}", 60))
                                                        for (lesson, gid, h), _ in common],
                xlabel="students", title="most common misconceptions")
    axes[1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].invert_yaxis()
    fig.tight_layout()
    figure.save(fig, path)


def _short(text, width=45):
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def write_all(results, unknown, out_dir, lessons=(), similarity=None):
    """Write grades.csv, feedback/<student>/<lesson>.html, summary.md and summary.png.

    The files land together (see `atomic.together`): when one cannot be written, all the
    previous ones stay as they were. Once they have landed, `remove_stale_feedback` removes the
    pages of students who left the class (done here unless inside an outer `together` block,
    whose owner calls it once everything has landed).
    """
    out_dir = Path(out_dir)
    nested = atomic.staging()
    with atomic.together():
        write_csv(results, out_dir / "grades.csv")
        for r in results:
            write_feedback(r, out_dir / "feedback" / r.student / f"{r.lesson}.html")
        text = summary(results, unknown, out_dir, similarity)
    if not nested:
        remove_stale_feedback(results, out_dir, lessons)
    return text


def remove_stale_feedback(results, out_dir, lessons):
    """Remove feedback/<student>/<lesson>.html of `lessons` with no result; nothing else.

    A student folder left empty goes too; anything the instructor put there stays.
    """
    current = {(r.student, r.lesson) for r in results}
    atomic.remove_leftovers(out_dir)
    for folder in sorted(Path(out_dir, "feedback").glob("*")):
        if folder.is_symlink() or not folder.is_dir():
            continue
        atomic.remove_leftovers(folder)
        for lesson in lessons:
            page = folder / f"{lesson}.html"
            if (folder.name, lesson) not in current and page.is_file() and not page.is_symlink():
                page.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
