"""Hidden cases of lesson 05: a single rate, every run usable, NaN as well as inf, a run that
diverged in its first epoch, accuracies exactly at the target, unsorted rates; and the
implementations of the items' private mistakes (`MISTAKES`), each the reference asked a
slightly different question.

The sweeps are values fixed by design, not random draws; per-student hidden cases move each
one for the student (`per_student`) in ways that keep what it is about, so every known mistake
fails exactly the cases it fails in the course's sweeps. No case trains anything."""
import math

from autograder import reference
from autograder.checks import varied
from autograder.checks.putting_it_together import diverged, fine, project, sweep

LESSON = "05_putting_it_together"


def _largest(rates, histories, target):
    return reference.load(LESSON)["largest_usable_lr"](rates, histories, target=target)


def _usable_alone(rates, histories, target):
    """The rates whose run is usable, in list order (the reference asked about each run alone)."""
    return [(r, h) for r, h in zip(rates, histories) if _largest([r], [h], target) is not None]


def _with(histories, **field):
    return [{**h, **{k: f(h) for k, f in field.items()}} for h in histories]


def _best_accuracy(rates, histories, target):
    ok = _usable_alone(rates, histories, target)
    return max(ok, key=lambda pair: (pair[1]["dev_acc"][-1], pair[0]))[0] if ok else None


def _last_in_list(rates, histories, target):
    ok = _usable_alone(rates, histories, target)
    return ok[-1][0] if ok else None


MISTAKE_ANSWERS = {
    "ignores divergence": lambda rates, histories, target:
        _largest(rates, _with(histories, loss=lambda h: [0.0]), target),
    "strict comparison": lambda rates, histories, target: _largest(rates, histories, math.nextafter(target, 2.0)),
    "best accuracy": _best_accuracy,
    "best epoch": lambda rates, histories, target:
        _largest(rates, _with(histories, dev_acc=lambda h: [max(h["dev_acc"])] if h["dev_acc"] else []), target),
    "assumes sorted": _last_in_list,
}
MISTAKES = {grade_id: {name: (lambda wrong: lambda **inputs: project(wrong(**inputs)))(wrong)
                       for name, wrong in MISTAKE_ANSWERS.items()}
            for grade_id in ("usable_lr_largest", "usable_lr_diverged")}

NAN_RUN = ([2.3, 1.1, float("nan")], [0.95])


def per_student(seed, case, keep_target=False):
    """A sweep ``(label, inputs)`` as the course has it, or, for one student's hidden cases
    (`checks.varied`), the same sweep moved: its rates times one factor (their order kept), its
    losses times another (finite or not as before), its target moved (unless `keep_target`: the
    label names it) and every dev accuracy with it, by a map that keeps their order and their
    side of the target (an accuracy exactly at the target stays exactly at it)."""
    label, inputs = case
    return label, varied(seed, inputs, lambda rng: _moved(inputs, rng, keep_target))


def _moved(inputs, rng, keep_target):
    rate_factor, loss_factor = 10 ** rng.uniform(-1, 1), rng.uniform(0.5, 2)
    old = inputs["target"]
    new = old if keep_target else float(rng.uniform(0.55, 0.95))

    def accuracy(a):
        if a == old:
            return new
        return a * new / old if a < old else new + (a - old) * (1 - new) / (1 - old)
    return {"rates": [float(r * rate_factor) for r in inputs["rates"]],
            "histories": [{"loss": [float(x * loss_factor) for x in h["loss"]],
                           "dev_acc": [float(accuracy(a)) for a in h["dev_acc"]]} for h in inputs["histories"]],
            "target": new}


HIDDEN_CASES = {
    "usable_lr_largest": lambda: [
        per_student(501, sweep("a single usable rate", [0.1], [fine(0.7, 0.9)])),
        per_student(502, sweep("every run usable, unsorted", [3.0, 0.01, 1.0],
                               [fine(0.9, 0.91), fine(0.88, 0.9), fine(0.9, 0.95)])),
        per_student(503, sweep("the last dev accuracy exactly at the target", [0.05, 0.5],
                               [fine(0.9, 0.95), fine(0.7, 0.85)])),
        per_student(504, sweep("target 0.5", [0.2, 2.0, 0.02], [fine(0.6, 0.7), fine(0.4, 0.55), fine(0.3, 0.45)],
                               target=0.5), keep_target=True),
    ],
    "usable_lr_diverged": lambda: [
        per_student(511, sweep("the loss became NaN after a good epoch", [0.01, 0.3], [fine(0.8, 0.9), NAN_RUN])),
        per_student(512, sweep("diverged in the first epoch", [0.1, 10.0], [fine(0.9, 0.92), diverged()])),
        per_student(513, sweep("several diverged, unsorted", [1.0, 0.03, 3.0, 0.3],
                               [diverged(0.9, 0.95), fine(0.86, 0.9), diverged(), fine(0.9, 0.93)])),
        per_student(514, sweep("nothing reaches the target", [0.001, 0.01], [fine(0.1, 0.2), fine(0.3, 0.5)],
                               target=0.9)),
        per_student(515, sweep("ended below the target after a better epoch", [0.1, 1.0],
                               [fine(0.7, 0.86), fine(0.95, 0.5)])),
    ],
}
