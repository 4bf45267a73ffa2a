"""Lesson 05, putting it together: the graded items and their properties.

`largest_usable_lr(rates, histories, target)` reads a learning-rate sweep. A run is usable
when it did not diverge (every recorded loss is finite) and its last dev accuracy reaches
`target`; the answer is the largest usable rate, or None when no rate is usable. The rates
are not necessarily sorted.
"""
import math

from autograder import wire
from autograder.checks import Failure, Item

NONE = "None"  # what the judge compares for a None answer (decoded None has no comparable type)


def project(answer):
    return NONE if answer is None else answer


def usable(history, target):
    losses, accuracies = history["loss"], history["dev_acc"]
    return all(math.isfinite(x) for x in losses) and len(accuracies) > 0 and accuracies[-1] >= target


def run_usable(largest_usable_lr, rates, histories, target):
    return largest_usable_lr(rates, histories, target=target)


def answer_value(inputs, answer):
    """Messages name the student's answer and why it is wrong, never the case's rates or
    target (a hidden case's inputs stay hidden)."""
    rates, histories, target = inputs["rates"], inputs["histories"], inputs["target"]
    ok = [r for r, h in zip(rates, histories) if usable(h, target)]
    wanted = max(ok) if ok else None
    if wanted is None:
        if answer is not None:
            got = repr(answer) if isinstance(answer, float) else _type_name(answer)
            raise Failure("no run is usable (none both stays finite and ends at dev accuracy >= target); "
                          f"the answer should be None, got {got}")
        return
    if isinstance(answer, wire.Opaque) or isinstance(answer, bool) or not isinstance(answer, float):
        raise Failure(f"largest_usable_lr should return one of the rates (a float) or None, got {_type_name(answer)}")
    if answer != wanted:
        if answer not in rates:
            why = "which is not one of the rates"
        elif answer in ok:
            why = "but a larger rate is usable too"
        elif not all(math.isfinite(x) for x in histories[rates.index(answer)]["loss"]):
            why = "whose run diverged (a loss became NaN or inf)"
        else:
            why = "whose run does not end at the target"
        raise Failure("the answer should be the largest usable rate (finite loss throughout, last dev accuracy "
                      f">= target); got {answer}, {why}")


def _type_name(value):
    return value.type_name if isinstance(value, wire.Opaque) else type(value).__name__


def mistakes():
    def finals(histories):
        return [h["dev_acc"][-1] if h["dev_acc"] else 0.0 for h in histories]

    def ignores_divergence(rates, histories, target):
        ok = [r for r, a in zip(rates, finals(histories)) if a >= target]
        return project(max(ok) if ok else None)

    def best_accuracy(rates, histories, target):
        accs = finals(histories)
        ok = [(a, r) for r, a, h in zip(rates, accs, histories) if usable(h, target)]
        return project(max(ok)[1] if ok else None)

    def best_epoch(rates, histories, target):
        ok = [r for r, h in zip(rates, histories)
              if all(math.isfinite(x) for x in h["loss"]) and h["dev_acc"] and max(h["dev_acc"]) >= target]
        return project(max(ok) if ok else None)

    def last_in_list(rates, histories, target):
        ok = [r for r, h in zip(rates, histories) if usable(h, target)]
        return project(ok[-1] if ok else None)
    return [
        ("ignores divergence", "a run whose loss became NaN or inf diverged: it is not usable, even if the "
                               "epochs before looked good", ignores_divergence),
        ("best accuracy", "returned the rate with the best accuracy; the question is the largest rate that "
                          "still works", best_accuracy),
        ("best epoch", "judged a run by its best epoch; a usable run must end at the target (its last dev "
                       "accuracy)", best_epoch),
        ("assumes sorted", "took the last usable rate in the list; the rates are not necessarily sorted, take "
                           "the largest", last_in_list),
    ]


def history(losses, accuracies):
    return {"loss": [float(x) for x in losses], "dev_acc": [float(a) for a in accuracies]}


def sweep(label, rates, runs, target=0.85):
    return label, {"rates": [float(r) for r in rates], "histories": [history(*run) for run in runs],
                   "target": target}


def fine(*accuracies):
    """A run that stayed finite, with these dev accuracies per epoch."""
    return [2.3 - 0.3 * k for k in range(2 * len(accuracies))], list(accuracies)


def diverged(*accuracies):
    """A run whose loss blew up after these epochs (training stops at the first non-finite loss)."""
    return [2.3, 1.5, 0.9] * len(accuracies) + [40.0, float("inf")], list(accuracies)


def largest_cases():
    return [sweep("rates 0.01 to 1, sorted, none diverged",
                  [0.01, 0.1, 0.3, 1.0], [fine(0.5, 0.8), fine(0.8, 0.93), fine(0.85, 0.9), fine(0.3, 0.6)]),
            sweep("rates in no particular order",
                  [0.3, 0.03, 1.0, 0.1], [fine(0.9, 0.97), fine(0.7, 0.88), fine(0.2, 0.4), fine(0.85, 0.9)]),
            sweep("the largest rate ends exactly at the target (that counts: >=)",
                  [0.1, 0.3], [fine(0.8, 0.9), fine(0.7, 0.85)])]


def diverged_cases():
    return [sweep("the largest rate reached 0.9 before its loss became inf",
                  [0.01, 0.1, 1.0], [fine(0.6, 0.86), fine(0.9, 0.92), diverged(0.9)]),
            sweep("the largest rate peaked at 0.9, then ended at 0.6",
                  [0.03, 0.3], [fine(0.8, 0.88), fine(0.9, 0.6)]),
            sweep("every run diverged or ended below the target", [0.01, 3.0], [fine(0.2, 0.3), diverged()],
                  target=0.5)]


Item("usable_lr_largest", ["largest_usable_lr"], run_usable, answer_value, largest_cases, mistakes(),
     project=project)
Item("usable_lr_diverged", ["largest_usable_lr"], run_usable, answer_value, diverged_cases, mistakes(),
     project=project)
