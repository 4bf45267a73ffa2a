"""Lesson 02 submissions with known verdicts."""
import json

from autograder.authoring.catalogue import Variant, edited

LESSON = "02_batch_norm"

FORWARD_LOOPS = '''def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    """Written unit by unit, with a dict cache: different from the reference, still right."""
    n, m = Z.shape
    Z_tilde = np.empty_like(Z)
    Z_norm = np.empty_like(Z)
    std = np.empty((n, 1))
    for j in range(n):
        mean = sum(Z[j]) / m
        var = sum((z - mean) ** 2 for z in Z[j]) / m
        std[j, 0] = (var + eps) ** 0.5
        Z_norm[j] = (Z[j] - mean) / std[j, 0]
        Z_tilde[j] = gamma[j, 0] * Z_norm[j] + beta[j, 0]
    return Z_tilde, {"Z_norm": Z_norm, "gamma": gamma, "std": std}
'''

BACKWARD_GRAPH = '''def batchnorm_backward(dZ_tilde, cache):
    """Step by step through the computational graph (CS231n style)."""
    Z_norm, gamma, std = cache["Z_norm"], cache["gamma"], cache["std"]
    m = dZ_tilde.shape[1]
    dbeta = np.sum(dZ_tilde, axis=1).reshape(-1, 1)
    dgamma = np.sum(dZ_tilde * Z_norm, axis=1).reshape(-1, 1)
    dZ_norm = dZ_tilde * gamma
    Z_centered = Z_norm * std
    dvar = np.sum(dZ_norm * Z_centered, axis=1, keepdims=True) * -0.5 * std ** -3
    dmu = -np.sum(dZ_norm, axis=1, keepdims=True) / std - 2 * dvar * np.mean(Z_centered, axis=1, keepdims=True)
    dZ = dZ_norm / std + dvar * 2 * Z_centered / m + dmu / m
    return dZ, dgamma, dbeta
'''

RUNNING_EXPLICIT = '''def update_running_stats(running_mean, running_var, Z, momentum=0.9):
    m = Z.shape[1]
    mu = Z.mean(axis=1, keepdims=True)
    biased = ((Z - mu) ** 2).mean(axis=1, keepdims=True)
    new_mean = momentum * running_mean + (1 - momentum) * mu
    new_var = momentum * running_var + (1 - momentum) * biased * m / (m - 1)
    return new_mean, new_var
'''

INFERENCE_SCALE_SHIFT = '''def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    scale = gamma / np.sqrt(running_var + eps)
    shift = beta - scale * running_mean
    return scale * Z + shift
'''

LN_LOOPS = '''def layernorm_forward(Z, gamma, beta, eps=1e-5):
    """Written example by example, with a dict cache: different from the reference, still right."""
    n, m = Z.shape
    Z_norm = np.empty_like(Z)
    std = np.empty((1, m))
    for i in range(m):
        mean = sum(Z[:, i]) / n
        var = sum((z - mean) ** 2 for z in Z[:, i]) / n
        std[0, i] = (var + eps) ** 0.5
        Z_norm[:, i] = (Z[:, i] - mean) / std[0, i]
    return gamma * Z_norm + beta, {"Z_norm": Z_norm, "gamma": gamma, "std": std}
'''

LN_BACKWARD_GRAPH = '''def layernorm_backward(dZ_tilde, cache):
    """Step by step through the computational graph, over the units of each example."""
    Z_norm, gamma, std = cache["Z_norm"], cache["gamma"], cache["std"]
    n = dZ_tilde.shape[0]
    dbeta = np.sum(dZ_tilde, axis=1).reshape(-1, 1)
    dgamma = np.sum(dZ_tilde * Z_norm, axis=1).reshape(-1, 1)
    dZ_norm = dZ_tilde * gamma
    Z_centered = Z_norm * std
    dvar = np.sum(dZ_norm * Z_centered, axis=0, keepdims=True) * -0.5 * std ** -3
    dmu = -np.sum(dZ_norm, axis=0, keepdims=True) / std - 2 * dvar * np.mean(Z_centered, axis=0, keepdims=True)
    dZ = dZ_norm / std + dvar * 2 * Z_centered / n + dmu / n
    return dZ, dgamma, dbeta
'''


def ln_forward_with(mean_var, std="np.sqrt(var + eps)"):
    return f'''def layernorm_forward(Z, gamma, beta, eps=1e-5):
    {mean_var}
    inv_std = 1.0 / ({std})
    Z_norm = (Z - mu) * inv_std
    Z_tilde = gamma * Z_norm + beta
    return Z_tilde, (Z_norm, gamma, inv_std)
'''


LN_BATCH_AXIS = ln_forward_with("mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)")
LN_UNBIASED = ln_forward_with("mu, var = Z.mean(axis=0, keepdims=True), Z.var(axis=0, ddof=1, keepdims=True)")
LN_EPS_OUTSIDE = ln_forward_with("mu, var = Z.mean(axis=0, keepdims=True), Z.var(axis=0, keepdims=True)",
                                 "np.sqrt(var) + eps")

LN_BY_VARIANCE = ln_forward_with("mu, var = Z.mean(axis=0, keepdims=True), Z.var(axis=0, keepdims=True)",
                                 "var + eps")

LN_RUNNING = '''_running_stats = {}


def layernorm_forward(Z, gamma, beta, eps=1e-5, momentum=0.9):
    """Keeps running averages of the statistics between calls, as batch norm does, and normalizes with them."""
    mu = Z.mean(axis=0, keepdims=True)
    var = Z.var(axis=0, keepdims=True)
    if _running_stats:
        mu = momentum * _running_stats["mean"] + (1 - momentum) * mu
        var = momentum * _running_stats["var"] + (1 - momentum) * var
    _running_stats["mean"], _running_stats["var"] = mu.mean(), var.mean()
    inv_std = 1.0 / np.sqrt(var + eps)
    Z_norm = (Z - mu) * inv_std
    return gamma * Z_norm + beta, (Z_norm, gamma, inv_std)
'''

LN_BACKWARD_BATCH_AXIS = '''def layernorm_backward(dZ_tilde, cache):
    """Batch norm's backward pass, renamed: its sums run over the examples."""
    Z_norm, gamma, inv_std = cache
    m = dZ_tilde.shape[1]
    dbeta = dZ_tilde.sum(axis=1, keepdims=True)
    dgamma = (dZ_tilde * Z_norm).sum(axis=1, keepdims=True)
    dZ_hat = gamma * dZ_tilde
    dZ = inv_std / m * (m * dZ_hat - dZ_hat.sum(axis=1, keepdims=True)
                        - Z_norm * (dZ_hat * Z_norm).sum(axis=1, keepdims=True))
    return dZ, dgamma, dbeta
'''

GN_LOOPS = '''def groupnorm_forward(Z, gamma, beta, G, eps=1e-5):
    """Written group by group with slices and a dict cache: different from the reference, still right."""
    n, m = Z.shape
    k = n // G
    Z_norm = np.empty_like(Z)
    std = np.empty_like(Z)
    for g in range(G):
        block = Z[g * k:(g + 1) * k]
        mean = block.sum(axis=0) / k
        var = ((block - mean) ** 2).sum(axis=0) / k
        std[g * k:(g + 1) * k] = np.sqrt(var + eps)
        Z_norm[g * k:(g + 1) * k] = (block - mean) / np.sqrt(var + eps)
    return gamma * Z_norm + beta, {"Z_norm": Z_norm, "gamma": gamma, "std": std, "G": G}
'''

GN_BACKWARD_LOOPS = '''def groupnorm_backward(dZ_tilde, cache):
    """Each group is a small layer norm: its backward pass, group by group."""
    Z_norm, gamma, std, G = cache["Z_norm"], cache["gamma"], cache["std"], cache["G"]
    n = dZ_tilde.shape[0]
    k = n // G
    dZ_hat = gamma * dZ_tilde
    dZ = np.empty_like(dZ_tilde)
    for g in range(G):
        rows = slice(g * k, (g + 1) * k)
        d, z = dZ_hat[rows], Z_norm[rows]
        dZ[rows] = (k * d - d.sum(axis=0) - z * (d * z).sum(axis=0)) / (k * std[rows])
    return dZ, (dZ_tilde * Z_norm).sum(axis=1, keepdims=True), dZ_tilde.sum(axis=1, keepdims=True)
'''


def gn_forward_with(view, stats, std="np.sqrt(var + eps)"):
    return f'''def groupnorm_forward(Z, gamma, beta, G, eps=1e-5):
    n, m = Z.shape
    Z_groups = {view}
    {stats}
    inv_std = 1.0 / ({std})
    Z_norm = ((Z_groups - mu) * inv_std).reshape(n, m)
    return gamma * Z_norm + beta, (Z_norm, gamma, inv_std)
'''


GN_STATS = "mu, var = Z_groups.mean(axis=1, keepdims=True), Z_groups.var(axis=1, keepdims=True)"
GN_LAYER_NORM = gn_forward_with("Z.reshape(1, n, m)", GN_STATS)
GN_EVERY_GTH = gn_forward_with("Z.reshape(n // G, G, m)",
                               "mu, var = Z_groups.mean(axis=0, keepdims=True), Z_groups.var(axis=0, keepdims=True)")
GN_G_AS_SIZE = gn_forward_with("Z.reshape(n // G, G, m)", GN_STATS)
GN_BATCH_STATS = gn_forward_with("Z.reshape(G, n // G, m)", "mu, var = Z_groups.mean(axis=(1, 2), keepdims=True), "
                                 "Z_groups.var(axis=(1, 2), keepdims=True)")
GN_UNBIASED = gn_forward_with("Z.reshape(G, n // G, m)", "mu, var = Z_groups.mean(axis=1, keepdims=True), "
                              "Z_groups.var(axis=1, ddof=1, keepdims=True)")
GN_EPS_OUTSIDE = gn_forward_with("Z.reshape(G, n // G, m)", GN_STATS, "np.sqrt(var) + eps")

GN_BACKWARD_LAYER_NORM_SUMS = '''def groupnorm_backward(dZ_tilde, cache):
    """Layer norm's backward pass with the group's statistics: its sums run over all the units."""
    Z_norm, gamma, inv_std = cache
    n, m = dZ_tilde.shape
    inv_std = np.repeat(inv_std, n // inv_std.shape[0], axis=1).reshape(n, m)
    dZ_hat = gamma * dZ_tilde
    dZ = inv_std / n * (n * dZ_hat - dZ_hat.sum(axis=0, keepdims=True)
                        - Z_norm * (dZ_hat * Z_norm).sum(axis=0, keepdims=True))
    return dZ, (dZ_tilde * Z_norm).sum(axis=1, keepdims=True), dZ_tilde.sum(axis=1, keepdims=True)
'''

GN_BACKWARD_IGNORES_STATS = '''def groupnorm_backward(dZ_tilde, cache):
    Z_norm, gamma, inv_std = cache
    n, m = dZ_tilde.shape
    G = inv_std.shape[0]
    dZ = (gamma * dZ_tilde).reshape(G, n // G, m) * inv_std
    return dZ.reshape(n, m), (dZ_tilde * Z_norm).sum(axis=1, keepdims=True), dZ_tilde.sum(axis=1, keepdims=True)
'''


def forward_with(normalize):
    return f'''def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    mu = Z.mean(axis=1, keepdims=True)
    var = Z.var(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    Z_norm = (Z - mu) * inv_std
    {normalize}
    return Z_tilde, (Z_norm, gamma, inv_std)
'''


def drop_test_cells(nb):
    nb["cells"] = [c for c in nb["cells"] if not c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    return nb


def truncate(nb):
    return (json.dumps(nb)[:5000]).encode()


VARIANTS = [
    Variant("correct"),
    Variant("correct-different", answers={"batchnorm_forward": FORWARD_LOOPS, "batchnorm_backward": BACKWARD_GRAPH,
                                          "update_running_stats": RUNNING_EXPLICIT,
                                          "batchnorm_inference": INFERENCE_SCALE_SHIFT,
                                          "layernorm_forward": LN_LOOPS, "layernorm_backward": LN_BACKWARD_GRAPH,
                                          "groupnorm_forward": GN_LOOPS, "groupnorm_backward": GN_BACKWARD_LOOPS}),
    Variant("divides-by-variance",
            answers={"batchnorm_forward": forward_with("Z_tilde = gamma * (Z - mu) / (var + eps) + beta")},
            lose={"bn_forward_normalizes": "dividing by the variance", "bn_backward_gradient": None}),
    Variant("wrong-axis", answers={"batchnorm_forward": forward_with("Z_tilde = gamma * Z_norm + beta").replace(
        "axis=1", "axis=0")},
            lose={"bn_forward_normalizes": "wrong axis", "bn_backward_gradient": None}),
    Variant("gamma-beta-swapped", answers={"batchnorm_forward": forward_with("Z_tilde = beta * Z_norm + gamma")},
            lose={"bn_forward_normalizes": "swapped", "bn_backward_gradient": None}),
    Variant("backward-ignores-batch-stats", answers={"batchnorm_backward": '''def batchnorm_backward(dZ_tilde, cache):
    Z_norm, gamma, inv_std = cache
    dbeta = dZ_tilde.sum(axis=1, keepdims=True)
    dgamma = (dZ_tilde * Z_norm).sum(axis=1, keepdims=True)
    dZ = dZ_tilde * gamma * inv_std
    return dZ, dgamma, dbeta
'''}, lose={"bn_backward_gradient": "treats the batch mean and variance as constants"}),
    Variant("biased-running-var", answers={"update_running_stats": '''def update_running_stats(running_mean, running_var, Z, momentum=0.9):
    running_mean = momentum * running_mean + (1 - momentum) * np.mean(Z, axis=1, keepdims=True)
    running_var = momentum * running_var + (1 - momentum) * np.var(Z, axis=1, keepdims=True)
    return running_mean, running_var
'''}, lose={"bn_running_stats": "biased"}),
    Variant("momentum-reversed", answers={"update_running_stats": '''def update_running_stats(running_mean, running_var, Z, momentum=0.9):
    new_mean = (1 - momentum) * running_mean + momentum * Z.mean(axis=1, keepdims=True)
    new_var = (1 - momentum) * running_var + momentum * Z.var(axis=1, ddof=1, keepdims=True)
    return new_mean, new_var
'''}, lose={"bn_running_stats": "momentum weighted on the new batch"}),
    Variant("running-stats-in-place", answers={"update_running_stats": '''def update_running_stats(running_mean, running_var, Z, momentum=0.9):
    running_mean *= momentum
    running_mean += (1 - momentum) * Z.mean(axis=1, keepdims=True)
    running_var *= momentum
    running_var += (1 - momentum) * Z.var(axis=1, ddof=1, keepdims=True)
    return running_mean, running_var
'''}, lose={"bn_running_stats": "in-place"}),
    Variant("inference-batch-stats", answers={"batchnorm_inference": '''def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    mu = Z.mean(axis=1, keepdims=True)
    var = Z.var(axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(var + eps) + beta
'''}, lose={"bn_inference": "statistics of the test batch"}),
    Variant("layernorm-batch-norm-axis", answers={"layernorm_forward": LN_BATCH_AXIS},
            lose={"ln_forward_normalizes": "batch norm's", "ln_backward_gradient": None}),
    Variant("layernorm-unbiased-variance", answers={"layernorm_forward": LN_UNBIASED},
            lose={"ln_forward_normalizes": "unbiased 1/(n-1)", "ln_backward_gradient": None}),
    Variant("layernorm-eps-outside-sqrt", answers={"layernorm_forward": LN_EPS_OUTSIDE},
            lose={"ln_forward_normalizes": "eps added to the standard deviation", "ln_backward_gradient": None}),
    Variant("layernorm-keeps-running-averages", answers={"layernorm_forward": LN_RUNNING},
            lose={"ln_forward_normalizes": None, "ln_backward_gradient": None}),
    Variant("layernorm-backward-batch-norm-axis", answers={"layernorm_backward": LN_BACKWARD_BATCH_AXIS},
            lose={"ln_backward_gradient": "sums over the examples"}),
    # The one-example batch: its variance is 0, so eps is all that keeps the square root above 0,
    # and the unbiased variance divides by m - 1 = 0 (both seen on the visible cases first).
    Variant("batchnorm-unbiased-variance", answers=edited(LESSON, "batchnorm_forward", "var = Z.var(axis=1, keepdims=True)",
                                                          "var = Z.var(axis=1, ddof=1, keepdims=True)"),
            lose={"bn_forward_contract": "dividing by m - 1 = 0", "bn_forward_normalizes": "unbiased 1/(m-1) variance",
                  "bn_backward_contract": "dividing by m - 1 = 0", "bn_backward_gradient": None}),
    Variant("batchnorm-no-eps", answers=edited(LESSON, "batchnorm_forward", "np.sqrt(var + eps)", "np.sqrt(var)"),
            lose={"bn_forward_contract": "a division by zero: add eps", "bn_forward_normalizes": "eps left out",
                  "bn_backward_contract": "a division by zero: add eps",
                  "bn_backward_gradient": "a division by zero: add eps"}),
    Variant("backward-forgets-gamma", answers=edited(LESSON, "batchnorm_backward", "dZ_hat = gamma * dZ_tilde",
                                                     "dZ_hat = dZ_tilde"),
            lose={"bn_backward_gradient": "missing the factor gamma"}),
    Variant("inference-divides-by-variance", answers=edited(LESSON, "batchnorm_inference", "np.sqrt(running_var + eps)",
                                                            "(running_var + eps)"),
            lose={"bn_inference": "dividing by running_var + eps"}),
    Variant("inference-no-eps", answers=edited(LESSON, "batchnorm_inference", "np.sqrt(running_var + eps)",
                                               "np.sqrt(running_var)"),
            lose={"bn_inference": "zero running variance divides by zero"}),
    Variant("inference-in-float32", answers=edited(LESSON, "batchnorm_inference", "Z_tilde = gamma",
                                                   "Z = Z.astype(np.float32)\n    Z_tilde = gamma"),
            lose={"bn_inference": None}),
    Variant("running-momentum-zero-taken-as-default", answers=edited(
        LESSON, "update_running_stats", "batch_mean = Z.mean", "momentum = momentum or 0.9\n    batch_mean = Z.mean"),
            lose={"bn_running_stats": None}),
    Variant("running-unbiased-above-two-examples", answers=edited(
        LESSON, "update_running_stats", "batch_var = Z.var(axis=1, ddof=1, keepdims=True)",
        "batch_var = Z.var(axis=1, ddof=1 if Z.shape[1] > 2 else 0, keepdims=True)"),
            lose={"bn_running_stats": "storing the biased (1/m) batch variance"}),
    Variant("inference-transposed", answers=edited(LESSON, "batchnorm_inference", "return Z_tilde", "return Z_tilde.T"),
            lose={"bn_inference": "the array is transposed"}),
    Variant("layernorm-divides-by-variance", answers={"layernorm_forward": LN_BY_VARIANCE},
            lose={"ln_forward_normalizes": "dividing by the variance", "ln_backward_gradient": None}),
    Variant("layernorm-backward-ignores-statistics", answers=edited(
        LESSON, "layernorm_backward", "dZ = inv_std / n * (n * dZ_hat - dZ_hat.sum(axis=0, keepdims=True)\n"
        "                        - Z_norm * (dZ_hat * Z_norm).sum(axis=0, keepdims=True))", "dZ = inv_std * dZ_hat"),
            lose={"ln_backward_gradient": "each example's mean and variance as constants"}),
    Variant("layernorm-backward-forgets-gamma", answers=edited(LESSON, "layernorm_backward", "dZ_hat = gamma * dZ_tilde",
                                                               "dZ_hat = dZ_tilde"),
            lose={"ln_backward_gradient": "missing the factor gamma"}),
    Variant("layernorm-no-eps", answers=edited(LESSON, "layernorm_forward", "np.sqrt(var + eps)", "np.sqrt(var)"),
            lose={"ln_forward_normalizes": "eps left out of the square root (a constant example",
                  "ln_backward_gradient": "a division by zero: add eps"}),
    Variant("layernorm-abs-gamma", answers=edited(LESSON, "layernorm_forward", "Z_tilde = gamma * Z_norm + beta",
                                                  "Z_tilde = np.abs(gamma) * Z_norm + beta"),
            lose={"ln_forward_normalizes": None}),
    Variant("groupnorm-layer-norm-statistics", answers={"groupnorm_forward": GN_LAYER_NORM},
            lose={"gn_forward_normalizes": "as in layer norm (G = 1)", "gn_backward_gradient": None}),
    Variant("groupnorm-every-gth-unit", answers={"groupnorm_forward": GN_EVERY_GTH},
            # its cache holds (1, G, m) statistics, which the reference's backward pass cannot use
            lose={"gn_forward_normalizes": "every G-th unit", "gn_backward_contract": None, "gn_backward_gradient": None}),
    Variant("groupnorm-g-as-group-size", answers={"groupnorm_forward": GN_G_AS_SIZE},
            lose={"gn_forward_normalizes": "G taken as the number of units in a group", "gn_backward_gradient": None}),
    Variant("groupnorm-batch-statistics", answers={"groupnorm_forward": GN_BATCH_STATS},
            lose={"gn_forward_normalizes": "statistics over the examples of the batch too",
                  "gn_backward_gradient": None}),
    Variant("groupnorm-unbiased-variance", answers={"groupnorm_forward": GN_UNBIASED},
            lose={"gn_forward_normalizes": "unbiased 1/(k-1)", "gn_backward_gradient": None}),
    Variant("groupnorm-eps-outside-sqrt", answers={"groupnorm_forward": GN_EPS_OUTSIDE},
            lose={"gn_forward_normalizes": "eps added to the standard deviation", "gn_backward_gradient": None}),
    Variant("groupnorm-backward-layer-norm-sums", answers={"groupnorm_backward": GN_BACKWARD_LAYER_NORM_SUMS},
            lose={"gn_backward_gradient": "sums over all the units of each example"}),
    Variant("groupnorm-backward-forgets-gamma", answers=edited(LESSON, "groupnorm_backward",
                                                               "dZ_hat = (gamma * dZ_tilde)", "dZ_hat = (dZ_tilde)"),
            lose={"gn_backward_gradient": "missing the factor gamma"}),
    Variant("groupnorm-backward-ignores-statistics", answers={"groupnorm_backward": GN_BACKWARD_IGNORES_STATS},
            lose={"gn_backward_gradient": "treats each group's mean and variance as constants"}),
    Variant("infinite-loop", answers={"batchnorm_inference": '''def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):
    while True:
        pass
'''}, lose={"bn_inference": None}, problem="timed out"),
    Variant("prediction-noise-fails", answers={"prediction_injected_noise": 'def prediction_injected_noise():\n    return "fails"\n'},
            lose={"prediction_injected_noise_test": "more shift than the plain network"}),
    Variant("syntax-error", answers={"batchnorm_backward": '''def batchnorm_backward(dZ_tilde, cache)
    return dZ_tilde, None, None
'''}, lose={"bn_backward_contract": None, "bn_backward_gradient": None}),
    Variant("deleted-test-cells", transform=drop_test_cells, problem="test cells deleted"),
    Variant("renamed-notebook", filename="lesson (1).ipynb", problem="renamed"),
    Variant("corrupt-notebook", transform=truncate, lose_all=True, problem="not valid JSON"),
    Variant("untouched", untouched=True, lose_all=True),
]
