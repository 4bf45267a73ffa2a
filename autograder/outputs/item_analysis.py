"""Item analysis of a graded class: how hard each item and each hidden case is, and whether
it separates the students who do well on the rest of the lesson from those who do not.

Everything comes from the graded results (`results.SubmissionResult`): an item's points, and
`ItemResult.failed_case`, the label of the first case it failed. The judge checks an
item's cases in order (visible, then hidden) and stops at the first failure, so a hidden
case is *reached* by the submissions that passed the item and those that failed it on that
case or a later one; its statistics count those only.

Discrimination is the point-biserial correlation between full marks on the item (or passing
the hidden case) and the score on the rest of the lesson (the lesson's points without this
item's): near 1 the item separates strong from weak students, near 0 it does not, below 0
weaker students do better on it. Undefined (None) when everyone or no one passes, or when
the rest of the lesson is the same for everyone.
"""
import re
from dataclasses import dataclass, field

import numpy as np

from autograder.grading.results import item_columns
from autograder.outputs import figure
from autograder.outputs.escape import md_text, plot_text
from autograder.worker.course import lesson_number

#: Below this discrimination an item separates students poorly (a common rule of thumb).
WEAK = 0.2
_HIDDEN = re.compile(r"hidden case (\d+)\b")


@dataclass
class Row:
    """Statistics of one item (``case`` None) or one hidden case of an item."""
    lesson: str
    grade_id: str
    case: str | None
    reached: int  # submissions judged on it
    passed: int  # of those, with full marks on the item (or passing the hidden case)
    discrimination: float | None
    flags: list = field(default_factory=list)

    @property
    def share(self):
        return self.passed / self.reached if self.reached else None


def hidden_index(label):
    """1-based number of a hidden case label (``"hidden case 3 (...)"`` -> 3), None for a visible one."""
    found = _HIDDEN.match(label or "")
    return int(found.group(1)) if found else None


def point_biserial(passed, rest):
    """Pearson correlation of a 0/1 vector with a score vector; None where either is constant.

    Parameters
    ----------
    passed : sequence of bool, shape (n,)
    rest : sequence of float, shape (n,)
    """
    x, y = np.asarray(passed, dtype=float), np.asarray(rest, dtype=float)
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def correct_looking(result):
    """Whether a submission passes every visible case of its lesson: each item has full marks or
    failed on a hidden case, and nothing stopped it from being graded."""
    return not result.problems and all(i.points == i.max_points or hidden_index(i.failed_case) is not None
                                       for i in result.items)


def analyse(results):
    """Per item, then per hidden case that failed at least one submission, its statistics.

    Returns
    -------
    rows : list of Row, in `results.item_columns` order, each item followed by its hidden cases
    """
    rows = []
    for lesson, gid, _ in item_columns(results):
        graded = [(r, i) for r in results if r.lesson == lesson for i in r.items if i.grade_id == gid]
        rest = [r.raw_score - i.points for r, i in graded]
        full = [i.points == i.max_points for _, i in graded]
        row = Row(lesson, gid, None, len(graded), sum(full), point_biserial(full, rest))
        if row.passed == 0:
            row.flags.append("nobody passes")
        elif row.passed == row.reached:
            row.flags.append("everybody passes")
        rows.append(_flag_weak(row))
        failed_at = [hidden_index(i.failed_case) if not ok else None for (_, i), ok in zip(graded, full)]
        labels = {k: i.failed_case for (_, i), k in zip(graded, failed_at) if k is not None}
        for k in sorted(labels):
            reached = [n for n, (ok, at) in enumerate(zip(full, failed_at)) if ok or (at is not None and at >= k)]
            passes = [failed_at[n] != k for n in reached]
            case = Row(lesson, gid, labels[k], len(reached), sum(passes),
                       point_biserial(passes, [rest[n] for n in reached]))
            fooled = sum(1 for n in reached if failed_at[n] == k and correct_looking(graded[n][0]))
            if fooled:
                case.flags.append(f"fails {fooled} correct-looking submission{'s' * (fooled != 1)}")
            rows.append(_flag_weak(case))
    return rows


def _flag_weak(row):
    if row.discrimination is not None and row.discrimination < 0:
        row.flags.append("negative discrimination")
    elif row.discrimination is not None and row.discrimination < WEAK:
        row.flags.append("weak discrimination")
    return row


def _num(value, digits=2):
    return "n/a" if value is None else f"{value:.{digits}f}"


def markdown(rows):
    """The summary's item analysis section (lines of Markdown, every name escaped)."""
    lines = ["## Item analysis", "",
             "Share of full marks per item, and per hidden case among the submissions the judge reached it on; "
             "discrimination is the point-biserial correlation with the rest of the lesson "
             f"(below {WEAK} separates students poorly). Plot: item_analysis.png.", "",
             "| lesson | item | hidden case | full marks | discrimination | flags |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {md_text(row.lesson)} | {md_text(row.grade_id)} | {md_text(row.case or '')} "
                     f"| {row.passed} / {row.reached} ({100 * (row.share or 0):.0f}%) | {_num(row.discrimination)} "
                     f"| {md_text('; '.join(row.flags))} |")
    return lines


#: Offsets (points) tried for a point's number, nearest first: eight directions at each distance.
_DISTANCES = (5, 12, 20, 30, 45, 65, 90, 120)
_DIRECTIONS = ((1, 1), (1, 0), (0, 1), (1, -1), (-1, 1), (-1, 0), (0, -1), (-1, -1))
KEY_LINE_INCHES = 0.17  # one line of the key at its font size
KEY_LINES = 60  # flagged points numbered and named at most (all of them are in summary.md)
KEY_X = 0.6  # where the legend and the key start, as a fraction of the figure's width


def plot(rows, path):
    """item_analysis.png: difficulty (share of full marks) against discrimination. Items are dots,
    hidden cases crosses; an undefined discrimination is drawn at 0, hollow. Flagged points carry a
    number, placed where it overlaps no other text or point; the key beside the plot names them."""
    flagged = [row for row in rows if row.flags]
    more, flagged = flagged[KEY_LINES:], flagged[:KEY_LINES]
    fig = figure.new((15, max(6.5, 2.7 + KEY_LINE_INCHES * len(flagged))))
    ax = fig.add_axes((0.06, 0.08, KEY_X - 0.08, 0.86))
    for hidden, marker in ((False, "o"), (True, "X")):
        for defined in (True, False):
            points = [r for r in rows if (r.case is not None) == hidden and (r.discrimination is not None) == defined]
            ax.scatter([r.share or 0 for r in points], [r.discrimination or 0 for r in points], marker=marker,
                       s=60 if not hidden else 45, facecolors=("tab:blue" if not hidden else "tab:red") if defined
                       else "none", edgecolors="tab:blue" if not hidden else "tab:red",
                       label=f"{'hidden case' if hidden else 'item'}{'' if defined else ' (discrimination undefined)'}")
    ax.axhline(WEAK, color="grey", linestyle=":", linewidth=1)
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.set(xlim=(-0.05, 1.05), ylim=(-1.05, 1.05), xlabel="share of full marks (easier to the right)",
           ylabel="discrimination (point-biserial with the rest of the lesson)",
           title="item analysis: flagged items and hidden cases are numbered")
    legend = fig.legend(*ax.get_legend_handles_labels(), loc="upper left", bbox_to_anchor=(KEY_X, 0.94), fontsize=8)
    renderer = fig.canvas.get_renderer()
    below_legend = fig.transFigure.inverted().transform((0, legend.get_window_extent(renderer).y0))[1]
    key = fig.text(KEY_X, below_legend - 0.02, _key(flagged, more, range(1, len(flagged) + 1)), va="top",
                   fontsize=8, linespacing=1.4)
    # widened to hold the key (each number starred, as it might be) before any point is numbered
    needed = (key.get_window_extent(renderer).width / fig.dpi + 0.2) / (1 - KEY_X)
    fig.set_figwidth(max(fig.get_figwidth(), needed))
    key.set_text(_key(flagged, more, _number_points(ax, rows, flagged)))
    figure.save(fig, path)


def _key(flagged, more, unplaced):
    """The key's text: each flagged row's number, name and flags; a star where the plot had no room for it."""
    lines = [f"{k}{'*' if k in unplaced else ''}  {_short(_name(row))}: {'; '.join(row.flags)}"
             for k, row in enumerate(flagged, 1)]
    lines += [f"and {len(more)} more flagged, not numbered: see summary.md"] * bool(more)
    lines += ["* no room on the plot for its number"] * bool(set(unplaced))
    return "\n".join(["flagged (number on the plot: item, why)"] + [plot_text(line) for line in lines])


def _name(row):
    return f"{lesson_number(row.lesson)} {row.grade_id}" + (f" #{hidden_index(row.case)}" if row.case else "")


def _number_points(ax, rows, flagged):
    """Write each flagged point's number (one label for points drawn at the same place) at the nearest
    offset where it stays inside the axes and overlaps no point or label; a leader line when far.

    Returns
    -------
    unplaced : set of int, the numbers no offset had room for
    """
    renderer = ax.figure.canvas.get_renderer()
    px = ax.figure.dpi / 72  # pixels per point
    xy = {id(row): (row.share or 0, row.discrimination or 0) for row in rows}
    centres = ax.transData.transform(list(xy.values()) or np.empty((0, 2)))
    taken = np.hstack([centres - 6 * px, centres + 6 * px])  # (n, 4) x0 y0 x1 y1: markers, then placed numbers
    frame = ax.get_window_extent(renderer).padded(-2)
    groups = {}
    for k, row in enumerate(flagged, 1):
        groups.setdefault(tuple(round(v, 3) for v in xy[id(row)]), []).append(k)
    unplaced = set()
    for point, numbers in groups.items():
        text = ",".join(map(str, numbers))
        probe = ax.annotate(text, point, fontsize=7)
        size = probe.get_window_extent(renderer).size  # (width, height) in pixels, wherever it goes
        probe.remove()
        x, y = ax.transData.transform(point)
        for distance, (dx, dy) in ((d, u) for d in _DISTANCES for u in _DIRECTIONS):
            scale = distance / (dx * dx + dy * dy) ** 0.5
            left, bottom = x + dx * scale * px - (1 - dx) / 2 * size[0], y + dy * scale * px - (1 - dy) / 2 * size[1]
            box = (left, bottom, left + size[0], bottom + size[1])
            clear = not np.any((taken[:, 0] <= box[2]) & (box[0] <= taken[:, 2])
                               & (taken[:, 1] <= box[3]) & (box[1] <= taken[:, 3]))
            if clear and frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] and box[3] <= frame.y1:
                far = distance > 12  # far from its point: a leader line says whose it is
                ax.annotate(text, point, xytext=(dx * scale, dy * scale), textcoords="offset points", fontsize=7,
                            ha={1: "left", 0: "center", -1: "right"}[dx], va={1: "bottom", 0: "center", -1: "top"}[dy],
                            arrowprops=dict(arrowstyle="-", color="grey", linewidth=0.5, shrinkA=0, shrinkB=3)
                            if far else None)
                taken = np.vstack([taken, np.add(box, (-2, -2, 2, 2))])
                break
        else:
            unplaced.update(numbers)
    return unplaced


def _short(text, width=40):
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def write(results, out_dir):
    """Analyse `results`, draw OUT/item_analysis.png; returns the summary's Markdown lines."""
    rows = analyse(results)
    plot(rows, out_dir / "item_analysis.png")
    return markdown(rows)
