"""Lesson 05 submissions with known verdicts."""
from autograder.authoring.catalogue import Variant, edited

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
    Variant("best-accuracy", answers={"largest_usable_lr": usable_with(
        f'{FINITE} and h["dev_acc"] and h["dev_acc"][-1] >= target',
        'max(ok, key=lambda r: histories[rates.index(r)]["dev_acc"][-1]) if ok else None')},
            lose={"usable_lr_largest": "the rate with the best accuracy"}),
    Variant("infinite-loss-only", answers={"largest_usable_lr": usable_with(
        'not np.any(np.isinf(h["loss"])) and h["dev_acc"] and h["dev_acc"][-1] >= target')},
            lose={"usable_lr_diverged": "a run whose loss became NaN or inf diverged"}),
    Variant("target-fixed-at-its-default", answers=edited(LESSON, "largest_usable_lr", ">= target", ">= 0.85"),
            lose={"usable_lr_largest": None}),
    Variant("zero-instead-of-none", answers={"largest_usable_lr": usable_with(
        f'{FINITE} and h["dev_acc"] and h["dev_acc"][-1] >= target', pick="max(ok) if ok else 0.0")},
            lose={"usable_lr_diverged": None}),
    Variant("untouched", untouched=True, lose_all=True),
]

SCALE_OWN_LOOP = '''def scale_invariance_gap(layer, W, U, a, G, h=1e-5):
    """Its own centered differences: different from the reference, still right."""
    def grad_at(V):
        g = np.zeros_like(V)
        for i in range(V.shape[0]):
            for j in range(V.shape[1]):
                P, M = V.copy(), V.copy()
                P[i, j] += h
                M[i, j] -= h
                g[i, j] = (np.sum(G * layer(P @ U)) - np.sum(G * layer(M @ U))) / (2 * h)
        return g
    diff = np.abs(layer(a * W @ U) - layer(W @ U))
    return float(diff.max()), float(np.sqrt(np.sum(grad_at(a * W) ** 2) / np.sum(grad_at(W) ** 2)))
'''


SCALE_ONE_SIDED = '''def scale_invariance_gap(layer, W, U, a, G, h=1e-5):
    loss = lambda V: float(np.sum(G * layer(V @ U)))
    def grad_at(V):
        g, base = np.zeros_like(V), loss(V)
        for idx in np.ndindex(V.shape):
            P = V.copy()
            P[idx] += h
            g[idx] = (loss(P) - base) / h
        return g
    D = layer((a * W) @ U) - layer(W @ U)
    return float(np.max(np.abs(D))), float(np.linalg.norm(grad_at(a * W)) / np.linalg.norm(grad_at(W)))
'''


def scale_with(gradient_at_aW="centered_differences(loss, [a * W], h)[0]", ratio="norm(g_aW) / norm(g_W)",
               gap="np.max(np.abs(D))"):
    return f'''from lessonkit.gradcheck import centered_differences


def scale_invariance_gap(layer, W, U, a, G, h=1e-5):
    norm = np.linalg.norm
    D = layer((a * W) @ U) - layer(W @ U)
    loss = lambda V: float(np.sum(G * layer(V @ U)))
    g_W = centered_differences(loss, [W], h)[0]
    g_aW = {gradient_at_aW}
    return float({gap}), float({ratio})
'''


GRADCHECK_OWN_LOOP = '''def gradient_check(loss_fn, grads_fn, params, h=1e-5):
    """Its own loop on a copy, each entry restored: different from the reference, still right."""
    analytic = grads_fn(params)
    point = {k: v.copy() for k, v in params.items()}
    errors = {}
    for name, value in point.items():
        num = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + h
            plus = loss_fn(point)
            value[idx] = old - h
            minus = loss_fn(point)
            value[idx] = old
            num[idx] = (plus - minus) / (2 * h)
        denominator = max(np.linalg.norm(num), np.linalg.norm(analytic[name]), 1e-12)
        errors[name] = float(np.linalg.norm(num - analytic[name]) / denominator)
    return errors
'''


def gradcheck_loop(step, copy="{k: v.copy() for k, v in params.items()}",
                   error="np.linalg.norm(num - g) / max(np.linalg.norm(num), np.linalg.norm(g), 1e-12)"):
    """A gradient_check with its own loop; `step` fills num[idx], perturbing point[name][idx]."""
    return f'''def gradient_check(loss_fn, grads_fn, params, h=1e-5):
    analytic = grads_fn(params)
    point = {copy}
    errors = {{}}
    for name in params:
        num = np.zeros_like(params[name])
        for idx in np.ndindex(num.shape):
{step}
        g = analytic[name]
        errors[name] = float({error})
    return errors
'''


ONE_SIDED = """            base = loss_fn(point)
            point[name][idx] += h
            num[idx] = (loss_fn(point) - base) / h
            point[name][idx] -= h"""
NOT_RESTORED = """            point[name][idx] += h
            plus = loss_fn(point)
            point[name][idx] -= 2 * h
            num[idx] = (plus - loss_fn(point)) / (2 * h)"""
RESTORED = NOT_RESTORED + """
            point[name][idx] += h"""

VARIANTS += [
    Variant("prediction-smallest-usable-higher", answers={
        "prediction_smallest_usable": 'def prediction_smallest_usable():\n    return "higher"\n'},
            lose={"prediction_smallest_usable_test": "how fast training starts"}),
    Variant("scale-correct-different", answers={"scale_invariance_gap": SCALE_OWN_LOOP}),
    Variant("scale-chain-rule", answers={"scale_invariance_gap": scale_with(
        gradient_at_aW="centered_differences(lambda V: loss(a * V), [W], h)[0]")},
            lose={"scale_invariance": "chain rule"}),
    Variant("scale-inverted", answers={"scale_invariance_gap": scale_with(ratio="norm(g_W) / norm(g_aW)")},
            lose={"scale_invariance": "inverted"}),
    Variant("scale-mean-gap", answers={"scale_invariance_gap": scale_with(gap="np.mean(np.abs(D))")},
            lose={"scale_invariance": "the gap is the largest entry"}),
    Variant("gradcheck-correct-different", answers={"gradient_check": GRADCHECK_OWN_LOOP}),
    Variant("gradcheck-one-sided", answers={"gradient_check": gradcheck_loop(ONE_SIDED)},
            lose={"gradcheck_errors": "one-sided differences"}),
    Variant("gradcheck-not-restored", answers={"gradient_check": gradcheck_loop(NOT_RESTORED)},
            lose={"gradcheck_errors": "was not put back"}),
    Variant("gradcheck-not-restored-in-place", answers={"gradient_check": gradcheck_loop(NOT_RESTORED, copy="params")},
            lose={"gradcheck_errors": "in-place update"}),
    Variant("gradcheck-sum-of-norms", answers={"gradient_check": gradcheck_loop(
        RESTORED, error="np.linalg.norm(num - g) / max(np.linalg.norm(num) + np.linalg.norm(g), 1e-12)")},
            lose={"gradcheck_errors": "divided by ||g_num|| + ||g||"}),
    Variant("gradcheck-absolute-error", answers={"gradient_check": gradcheck_loop(RESTORED, error="np.linalg.norm(num - g)")},
            lose={"gradcheck_errors": "returned ||g_num - g|| alone"}),
    Variant("gradcheck-no-floor", answers={"gradient_check": gradcheck_loop(
        RESTORED, error="np.linalg.norm(num - g) / max(np.linalg.norm(num), np.linalg.norm(g))")},
            lose={"gradcheck_errors": "without the floor 1e-12"}),
    Variant("scale-one-sided", answers={"scale_invariance_gap": SCALE_ONE_SIDED},
            lose={"scale_invariance": "one-sided differences"}),
    Variant("scale-signed-gap", answers={"scale_invariance_gap": scale_with(gap="np.max(D)")},
            lose={"scale_invariance": "max of the signed difference"}),
    Variant("gradcheck-step-fixed", answers=edited(LESSON, "gradient_check", "[params[name] for name in names], h)",
                                                   "[params[name] for name in names], 1e-5)"),
            lose={"gradcheck_errors": None}),
    Variant("gradcheck-worst-element", answers={"gradient_check": gradcheck_loop(
        RESTORED, error="np.max(np.abs(num - g) / np.maximum(np.maximum(np.abs(num), np.abs(g)), 1e-12))")},
            lose={"gradcheck_errors": "worst element"}),
]
