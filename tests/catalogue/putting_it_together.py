"""Lesson 05 submissions with known verdicts."""
from tests.catalogue import Variant

LESSON = "05_putting_it_together"

SORTED_SCAN = '''import math

def largest_usable_lr(rates, histories, target=0.85):
    """Scans the rates from the largest down: different from the reference, still right."""
    for rate, history in sorted(zip(rates, histories), key=lambda pair: pair[0], reverse=True):
        finite = not any(math.isnan(x) or math.isinf(x) for x in history["loss"])
        if finite and history["dev_acc"] and history["dev_acc"][-1] >= target:
            return rate
    return None
'''


def usable_with(condition, pick="max(ok) if ok else None"):
    return f'''def largest_usable_lr(rates, histories, target=0.85):
    ok = [r for r, h in zip(rates, histories) if {condition}]
    return {pick}
'''


FINITE = 'np.all(np.isfinite(h["loss"]))'

VARIANTS = [
    Variant("correct"),
    Variant("correct-different", answers={"largest_usable_lr": SORTED_SCAN}),
    Variant("ignores-divergence", answers={"largest_usable_lr": usable_with('h["dev_acc"] and h["dev_acc"][-1] >= target')},
            lose={"usable_lr_diverged": "diverged"}),
    Variant("best-epoch", answers={"largest_usable_lr": usable_with(f'{FINITE} and h["dev_acc"] and max(h["dev_acc"]) >= target')},
            lose={"usable_lr_diverged": "best epoch"}),
    Variant("assumes-sorted", answers={"largest_usable_lr": usable_with(
        f'{FINITE} and h["dev_acc"] and h["dev_acc"][-1] >= target', pick="ok[-1] if ok else None")},
            lose={"usable_lr_largest": "not necessarily sorted"}),
    Variant("strict-target", answers={"largest_usable_lr": usable_with(
        f'{FINITE} and h["dev_acc"] and h["dev_acc"][-1] > target')},
            lose={"usable_lr_largest": "use `>=`"}),
    Variant("zero-instead-of-none", answers={"largest_usable_lr": usable_with(
        f'{FINITE} and h["dev_acc"] and h["dev_acc"][-1] >= target', pick="max(ok) if ok else 0.0")},
            lose={"usable_lr_diverged": None}),
    Variant("untouched", untouched=True, lose_all=True),
]
