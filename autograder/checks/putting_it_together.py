"""Lesson 05, putting it together: the graded items and their properties.

`largest_usable_lr(rates, histories, target)` reads a learning-rate sweep. A run is usable
when it did not diverge (every recorded loss is finite) and its last dev accuracy reaches
`target`; the answer is the largest usable rate, or None when no rate is usable. The rates
are not necessarily sorted.

The properties compare with the reference's answer on the case (`ANSWER`) and explain a
wrong answer from the run of the rate returned; the known mistakes are all near copies of
the answer, so they are private (their outputs are data: see `autograder.checks`).
"""
import math

from autograder import wire
from autograder.checks import ANSWER, Failure, Item

#: This lesson's graded items, in the master's order (`checks.items` reads them).
ITEMS = []

NONE = "None"  # what the judge compares for a None answer (decoded None has no comparable type)


def project(answer):
    return NONE if answer is None else answer


def diverged_run(history):
    return not all(math.isfinite(x) for x in history["loss"])


def reaches(history, target):
    return len(history["dev_acc"]) > 0 and history["dev_acc"][-1] >= target


def run_usable(largest_usable_lr, rates, histories, target):
    return largest_usable_lr(rates, histories, target=target)


def answer_value(inputs, answer):
    """Messages name the student's answer and why it is wrong, never the case's rates or
    target (a hidden case's inputs stay hidden)."""
    rates, histories, target = inputs["rates"], inputs["histories"], inputs["target"]
    wanted = None if inputs[ANSWER] == NONE else inputs[ANSWER]
    if wanted is None:
        if answer is not None:
            got = repr(answer) if isinstance(answer, float) else wire.type_name(answer)
            raise Failure("no run is usable (none both stays finite and ends at dev accuracy >= target); "
                          f"the answer should be None, got {got}")
        return
    if isinstance(answer, wire.Opaque) or isinstance(answer, bool) or not isinstance(answer, float):
        raise Failure(f"largest_usable_lr should return one of the rates (a float) or None, got {wire.type_name(answer)}")
    if answer != wanted:
        run = histories[rates.index(answer)] if answer in rates else None
        if run is None:
            why = "which is not one of the rates"
        elif diverged_run(run):
            why = "whose run diverged (a loss became NaN or inf)"
        elif not reaches(run, target):
            why = "whose run does not end at the target"
        else:
            why = "but a larger rate is usable too"
        raise Failure("the answer should be the largest usable rate (finite loss throughout, last dev accuracy "
                      f">= target); got {answer}, {why}")


def mistakes():
    return [
        ("ignores divergence", "a run whose loss became NaN or inf diverged: it is not usable, even if the "
                               "epochs before looked good", None),
        ("strict comparison", "compared the last dev accuracy with `>`; a run that ends exactly at the target "
                              "reaches it: use `>=`", None),
        ("best accuracy", "returned the rate with the best accuracy; the question is the largest rate that "
                          "still works", None),
        ("best epoch", "judged a run by its best epoch; a usable run must end at the target (its last dev "
                       "accuracy)", None),
        ("assumes sorted", "took the last usable rate in the list; the rates are not necessarily sorted, take "
                           "the largest", None),
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
                  [0.01, 0.1, 0.3], [fine(0.9, 0.95), fine(0.8, 0.9), fine(0.7, 0.85)])]


def diverged_cases():
    return [sweep("the largest rate reached 0.9 before its loss became inf",
                  [0.01, 0.1, 1.0], [fine(0.6, 0.86), fine(0.9, 0.92), diverged(0.9)]),
            sweep("the largest rate peaked at 0.9, then ended at 0.6",
                  [0.03, 0.3], [fine(0.8, 0.88), fine(0.9, 0.6)]),
            sweep("every run diverged or ended below the target", [0.01, 3.0], [fine(0.2, 0.3), diverged()],
                  target=0.5)]


ITEMS.append(Item("usable_lr_largest", ["largest_usable_lr"], run_usable, answer_value, largest_cases, mistakes(),
                  project=project, reference_answer=True))
ITEMS.append(Item("usable_lr_diverged", ["largest_usable_lr"], run_usable, answer_value, diverged_cases, mistakes(),
                  project=project, reference_answer=True))
