"""What grading writes: grades.csv, per-student feedback HTML, a class summary with a plot,
and the grade table printed in the terminal.

Feedback contains only the judge's messages (property, case label, hint): never the
reference code, hidden inputs or expected arrays.
"""
import csv
import html
import io
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from autograder import atomic  # noqa: E402


def item_columns(results):
    """Ordered (lesson, grade_id, max_points) of every item seen in the results."""
    seen = {}
    for r in sorted(results, key=lambda r: r.lesson):
        for i in r.items:
            seen.setdefault((r.lesson, i.grade_id), i.max_points)
    return [(lesson, gid, pts) for (lesson, gid), pts in seen.items()]


def write_csv(results, path):
    """One row per student: every item's points, each lesson's total, the overall total."""
    columns = item_columns(results)
    lessons = sorted({lesson for lesson, _, _ in columns})
    by_student = {}
    for r in results:
        by_student.setdefault(r.student, {})[r.lesson] = r
    with io.StringIO(newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student"] + [f"{lesson}/{gid}" for lesson, gid, _ in columns]
                        + [f"{lesson}/total" for lesson in lessons] + ["total", "max_total", "problems"])
        max_total = sum(pts for _, _, pts in columns)
        for student in sorted(by_student):
            subs = by_student[student]
            points = {(r.lesson, i.grade_id): i.points for r in subs.values() for i in r.items}
            row = [student] + [_num(points.get((lesson, gid), 0.0)) for lesson, gid, _ in columns]
            row += [_num(subs[lesson].score if lesson in subs else 0.0) for lesson in lessons]
            problems = sum(len(r.problems) + len(r.incidents) for r in subs.values())
            writer.writerow(row + [_num(sum(r.score for r in subs.values())), _num(max_total), problems])
        atomic.write(path, f.getvalue())


def _num(x):
    return f"{x:g}"


def table(results):
    """The grade table as text: one block per lesson, students x items, with totals."""
    out = []
    for lesson in sorted({r.lesson for r in results}):
        rows = sorted((r for r in results if r.lesson == lesson), key=lambda r: r.student)
        items = [(i.grade_id, i.max_points) for i in rows[0].items]
        width = max(len(r.student) for r in rows + [type("x", (), {"student": "student"})])
        out.append(f"\n{lesson}  (items: " + ", ".join(f"{k + 1}={gid}" for k, (gid, _) in enumerate(items)) + ")")
        header = f"{'student':<{width}} " + " ".join(f"{k + 1:>4}" for k in range(len(items))) + "   total  notes"
        out.append(header)
        out.append("-" * len(header))
        for r in rows:
            cells = " ".join(f"{_num(i.points):>4}" for i in r.items)
            notes = "; ".join(r.problems + r.incidents)
            out.append(f"{r.student:<{width}} {cells}   {_num(r.score):>2}/{_num(r.max_score):<3} {notes[:90]}")
        out.append(f"{'max':<{width}} " + " ".join(f"{_num(p):>4}" for _, p in items))
    return "\n".join(out)


def write_feedback(result, path):
    """One student's feedback for one lesson as a self-contained HTML page."""
    rows = []
    for i in result.items:
        ok = i.points == i.max_points
        hint = f"<p class='hint'>Likely mistake: {html.escape(i.hint)}.</p>" if i.hint and not ok else ""
        rows.append(f"<tr class='{'ok' if ok else 'bad'}'><td><code>{html.escape(i.grade_id)}</code></td>"
                    f"<td>{_num(i.points)} / {_num(i.max_points)}</td>"
                    f"<td><pre>{html.escape(i.message)}</pre>{hint}</td></tr>")
    notes = "".join(f"<li>{html.escape(p)}</li>" for p in result.problems + result.incidents)
    notes = f"<h2>About your submission</h2><ul>{notes}</ul>" if notes else ""
    atomic.write(path, f"""<!doctype html><html><head><meta charset="utf-8">
<title>{html.escape(result.lesson)}: feedback for {html.escape(result.student)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td{{vertical-align:top;padding:.4em;border-bottom:1px solid #ddd}}
tr.ok td:first-child{{border-left:4px solid #2a2}}tr.bad td:first-child{{border-left:4px solid #c33}}
pre{{white-space:pre-wrap;margin:0}}.hint{{color:#a50;margin:.3em 0 0}}</style></head><body>
<h1>{html.escape(result.lesson)}: {_num(result.score)} / {_num(result.max_score)} points</h1>
<p>Student: {html.escape(result.student)}. Each item is one test cell of the notebook; it is checked on the
visible cases of the notebook and on hidden cases (other shapes and edge cases).</p>
{notes}<table><tr><th>item</th><th>points</th><th>what the grader found</th></tr>{''.join(rows)}</table>
</body></html>
""")


def summary(results, unknown, out_dir):
    """Class summary: per item the share of full marks, the most common misconceptions, the
    submissions with problems. Writes summary.md and summary.png; returns the markdown."""
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
        shares.append((f"{lesson[:2]} {gid}", full / max(len(got), 1)))
        lines.append(f"| {lesson} | `{gid}` | {_num(pts)} | {full} / {len(got)} | {100 * full / max(len(got), 1):.0f}% |")
    hints = Counter((r.lesson, i.grade_id, i.hint) for r in results for i in r.items if i.hint and i.points < i.max_points)
    lines += ["", "## Most common misconceptions", ""]
    lines += [f"- {n} x `{gid}` ({lesson}): {hint}" for (lesson, gid, hint), n in hints.most_common(10)] or ["- none matched"]
    troubled = [r for r in results if r.problems or r.incidents]
    lines += ["", "## Submissions with problems", ""]
    lines += [f"- {r.student}/{r.lesson}: " + "; ".join(r.problems + r.incidents) for r in troubled] or ["- none"]
    lines += [f"- {u}" for u in unknown]
    text = "\n".join(lines) + "\n"
    atomic.write(out_dir / "summary.md", text)
    _plot(shares, hints, out_dir / "summary.png")
    return text


def _plot(shares, hints, path):
    fig, axes = plt.subplots(1, 2, figsize=(15, max(3, 0.35 * len(shares) + 1.5)),
                             gridspec_kw={"width_ratios": [1, 1]})
    labels, values = zip(*shares) if shares else ((), ())
    axes[0].barh(range(len(values)), values, color="tab:green")
    axes[0].set(yticks=range(len(labels)), yticklabels=labels, xlim=(0, 1), xlabel="share of students with full marks",
                title="items")
    axes[0].invert_yaxis()
    common = hints.most_common(8)
    axes[1].barh(range(len(common)), [n for _, n in common], color="tab:orange")
    axes[1].set(yticks=range(len(common)), yticklabels=[_short(f"{lesson[:2]} {gid}: {h}", 60)
                                                        for (lesson, gid, h), _ in common],
                xlabel="students", title="most common misconceptions")
    axes[1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].invert_yaxis()
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    atomic.write(path, png.getvalue())


def _short(text, width=45):
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def write_all(results, unknown, out_dir, lessons=()):
    """Write grades.csv, feedback/<student>/<lesson>.html, summary.md and summary.png.

    The files land together (see `atomic.together`): when one cannot be written, all the
    previous ones stay as they were. Then the feedback pages of `lessons` that belong to
    no submission of `results` (students who left the class) are removed.
    """
    out_dir = Path(out_dir)
    with atomic.together():
        write_csv(results, out_dir / "grades.csv")
        for r in results:
            write_feedback(r, out_dir / "feedback" / r.student / f"{r.lesson}.html")
        text = summary(results, unknown, out_dir)
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
