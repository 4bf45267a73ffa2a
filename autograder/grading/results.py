"""What grading produces: a `SubmissionResult` per submission, an `ItemResult` per graded item.

`to_plain` and `from_plain` give a result's plain-data (JSON-ready) form, the one it has
wherever it leaves the process that graded it: the results kept between runs (store.py),
a Dask task's answer (cluster.py) and the gradebook's helper process (gradebook/process.py).
This module imports nothing of the grader, so those places can read results cheaply.
"""
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ItemResult:
    grade_id: str
    points: float
    max_points: float
    message: str = ""
    hint: str | None = None
    failed_case: str | None = None  # label of the first case it failed (see `judge.cases`), for item analysis
    graded_points: float | None = None  # the grader's points, when a person set `points` in the gradebook


@dataclass
class SubmissionResult:
    student: str
    lesson: str
    items: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    incidents: list = field(default_factory=list)
    log: str = ""
    isolation: str | None = None
    timestamp: datetime | None = None  # when it was handed in (naive UTC, as nbgrader stores it)
    penalty: float = 0.0  # points taken off by the course's nbgrader late rule (see late.py)
    seconds_late: float = 0.0  # past the due date and any extension, as the gradebook says
    comments: list = field(default_factory=list)  # [answer cell, comment] pairs a person wrote in the gradebook

    @property
    def raw_score(self):
        return sum(i.points for i in self.items)

    @property
    def score(self):
        """The score after any late penalty, as ``nbgrader export`` computes it."""
        return max(0.0, self.raw_score - self.penalty) if self.penalty else self.raw_score

    @property
    def max_score(self):
        return sum(i.max_points for i in self.items)


def to_plain(result):
    """A SubmissionResult as a dict of str, float, list and None (its time in ISO 8601)."""
    return {**dataclasses.asdict(result), "timestamp": result.timestamp.isoformat() if result.timestamp else None}


def from_plain(data):
    """The SubmissionResult of `to_plain`'s dict."""
    when = data.get("timestamp")
    return SubmissionResult(**{**data, "items": [ItemResult(**item) for item in data["items"]],
                               "timestamp": datetime.fromisoformat(when) if when else None})


def item_columns(results):
    """Ordered (lesson, grade_id, max_points) of every item seen in the results."""
    seen = {}
    for r in sorted(results, key=lambda r: r.lesson):
        for i in r.items:
            seen.setdefault((r.lesson, i.grade_id), i.max_points)
    return [(lesson, gid, pts) for (lesson, gid), pts in seen.items()]
