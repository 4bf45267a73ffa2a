"""What a student sees when the service grades a submission, and how often: the course's
``grading_on_submit.toml`` (in the course folder; every key optional)::

    [defaults]
    feedback = "visible"   # "at_once": the whole feedback page; "visible": the visible cases' results only until
                           # the due date; "on_release": nothing until the instructor releases feedback
    total = "withheld"     # with "visible", before the due date: the total score "withheld" or "shown"
    per_hour = 6           # graded submissions per student and lesson in any hour; later ones wait

    [lessons.02_batch_norm]
    feedback = "at_once"
    due = "2026-12-24 23:59:00 UTC"   # nbgrader's timestamp form; no due date: hidden details stay withheld

A file that does not parse, or a value out of range, is named in the log and the defaults apply,
which release the least (hidden-case details withheld).
"""
import dataclasses
import tomllib
from datetime import datetime
from pathlib import Path

FILE = "grading_on_submit.toml"
FEEDBACK = ("at_once", "visible", "on_release")
TOTAL = ("withheld", "shown")
HOUR = 3600.0


@dataclasses.dataclass(frozen=True)
class LessonPolicy:
    feedback: str = "visible"
    total: str = "withheld"
    per_hour: int = 6
    due: datetime | None = None  # naive UTC

    def withholds(self, now):
        """Whether hidden-case details are withheld at `now` (naive UTC datetime)."""
        return self.feedback == "visible" and (self.due is None or now < self.due)


def load(course):
    """The course's policies: (lesson -> LessonPolicy as a callable, problems as a list of str)."""
    from nbgrader.utils import parse_utc
    path = Path(course) / FILE
    problems, data = [], {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{path} does not parse ({exc}); the defaults apply")

    def read(table, base, where):
        fields = {}
        for key, value in (table or {}).items():
            if key == "feedback" and value in FEEDBACK or key == "total" and value in TOTAL:
                fields[key] = value
            elif key == "per_hour" and isinstance(value, int) and not isinstance(value, bool) and value > 0:
                fields[key] = value
            elif key == "due" and isinstance(value, str):
                try:
                    fields[key] = parse_utc(value)
                except (ValueError, OverflowError):
                    problems.append(f"{where}: due {value!r} is not a date; none set")
            else:
                problems.append(f"{where}: {key} = {value!r} is not a setting (see {FILE}'s documentation); ignored")
        return dataclasses.replace(base, **fields)
    defaults = read(data.get("defaults"), LessonPolicy(), "[defaults]")
    lessons = {name: read(table, defaults, f"[lessons.{name}]") for name, table in (data.get("lessons") or {}).items()}
    return (lambda lesson: lessons.get(lesson, defaults)), problems


def next_slot(graded_times, per_hour, now):
    """When the next submission may be graded (seconds since the epoch; `now` when it may at once),
    given the times (sorted) at which this student's submissions of the lesson were graded."""
    recent = [t for t in graded_times if t > now - HOUR]
    return now if len(recent) < per_hour else recent[-per_hour] + HOUR


def withheld_page(result, policy):
    """The feedback page of `result` with what depends on a hidden case withheld (str, HTML): the
    visible cases' verdicts per item, no hint or message of a hidden case, no points an item got
    past its visible cases, and the total only when `policy.total` is "shown"."""
    from autograder.judge import names_hidden_case
    from autograder.outputs.escape import html_text
    from autograder.worker.wording import with_likely_mistake
    rows = []
    for item in result.items:
        failed_visible = item.points < item.max_points and not names_hidden_case(item.message)
        said = (with_likely_mistake(item.message, item.hint) if failed_visible else
                "passed the visible cases; the hidden cases' results come later")
        rows.append(f"<tr><td><code>{html_text(item.grade_id)}</code></td><td><pre>{html_text(said)}</pre></td></tr>")
    due = f"after the due date ({policy.due:%Y-%m-%d %H:%M} UTC)" if policy.due else "when your instructor releases them"
    total = (f"<p>Score: {result.score:g} / {result.max_score:g} points.</p>" if policy.total == "shown" else
             f"<p>Your score is shown {due}.</p>")
    notes = "".join(f"<li>{html_text(p)}</li>" for p in result.problems +
                    [i for i in result.incidents if not i.startswith("case ")])  # a case's may be a hidden one's
    return _page(result.lesson, result.student, f"""{total}
<p>Each item is checked on the notebook's visible cases and on hidden cases; the hidden cases' results are shown {due}.</p>
{f"<h2>About your submission</h2><ul>{notes}</ul>" if notes else ""}
<table><tr><th scope="col">item</th><th scope="col">visible cases</th></tr>{"".join(rows)}</table>""")


def waiting_page(lesson, student, received, slot, per_hour):
    """The page released for a submission over the limit (str, HTML): when it will be graded."""
    return _page(lesson, student, f"""<p>Received {received:%Y-%m-%d %H:%M:%S} UTC. You had {per_hour} submissions of
this lesson graded in the last hour, the course's limit, so this one is graded at {slot:%H:%M:%S} UTC
({slot:%Y-%m-%d}); if you submit again before then, your latest submission is graded instead. Fetch feedback
again after that time.</p>""")


def _page(lesson, student, body):
    from autograder.outputs.escape import html_text
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html_text(lesson)}: feedback for {html_text(student)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td{{vertical-align:top;padding:.4em}}
pre{{white-space:pre-wrap;margin:0}}</style></head><body><main><h1>{html_text(lesson)}</h1>
{body}</main></body></html>
"""
