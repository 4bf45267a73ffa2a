"""The adversarial corpus: hostile and broken lesson 02 submissions.

Each must score 0 on the items it attacks, keep every other item, leave the other
students' grades alone, and never crash or hang the grader. Where an attack would
*succeed* if the defence failed, the submission is written so that success earns points
(it returns right answers once it has cheated), so a broken defence fails the test.
"""
import json

from autograder.authoring.catalogue import ROOT, Variant

LESSON = "02_batch_norm"

RIGHT_INFERENCE = "gamma * (Z - running_mean) / np.sqrt(running_var + eps) + beta"


def inference(body):
    return ("def batchnorm_inference(Z, gamma, beta, running_mean, running_var, eps=1e-5):\n"
            + "".join(f"    {line}\n" for line in body.strip("\n").split("\n")))


def readable_then_right(path):
    """Right answers only if `path` can be read from the student's process."""
    return inference(f"""
try:
    np.fromfile({str(path)!r}, dtype=np.uint8, count=1)
except OSError:
    return np.zeros_like(Z)
return {RIGHT_INFERENCE}""")


def edit_test_cells(nb):
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell["source"] = ["pass\n"]
    return nb


def duplicate_answer(nb):
    cells = nb["cells"]
    k = next(i for i, c in enumerate(cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "batchnorm_inference")
    wrong = json.loads(json.dumps(cells[k]))
    wrong["source"] = inference("return Z").splitlines(keepends=True)
    wrong["id"] = cells[k]["id"]
    cells.insert(k + 1, wrong)
    return nb


ATTACKS = [
    Variant("bystander"),  # a correct student graded alongside the attacks
    Variant("imports-the-reference", answers={"batchnorm_inference": (
        "from autograder.judge import reference\n"
        "batchnorm_inference = reference.load('02_batch_norm')['batchnorm_inference']\n")},
            lose={"bn_inference": None}, problem="imports autograder"),
    Variant("reads-the-master", answers={"batchnorm_inference": readable_then_right(
        ROOT / "solutions" / LESSON / "lesson.ipynb")}, lose={"bn_inference": None}),
    Variant("reads-the-gradebook", answers={"batchnorm_inference": readable_then_right(ROOT / "build" / "gradebook.db")},
            lose={"bn_inference": None}),
    Variant("reads-the-grader", answers={"batchnorm_inference": readable_then_right(ROOT / "autograder" / "judge" / "__init__.py")},
            lose={"bn_inference": None}),
    Variant("opens-files", answers={"batchnorm_inference": inference(
        f"open('../../../gradebook.db').read()\nreturn {RIGHT_INFERENCE}")},
            lose={"bn_inference": None}, problem="calls open()"),
    Variant("patches-allclose", answers={"batchnorm_inference": (
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n" + inference("return Z"))},
            lose={"bn_inference": None}, problem="changes the module attribute np.allclose"),
    Variant("equals-everything", answers={"batchnorm_inference": (
        "class Anything:\n    def __eq__(self, other):\n        return True\n\n" + inference("return Anything()"))},
            lose={"bn_inference": None}),
    Variant("array-subclass-equals-everything", answers={"batchnorm_inference": (
        "class Agreeable(np.ndarray):\n    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n\n"
        + inference("return np.zeros_like(Z).view(Agreeable)"))}, lose={"bn_inference": None}),
    Variant("edits-test-cells", answers={"batchnorm_inference": inference("return Z")}, transform=edit_test_cells,
            lose={"bn_inference": None}),
    Variant("patches-tracebacks", answers={"batchnorm_inference": (
        "import sys\nsys.excepthook = lambda *args: None\nget_ipython().showtraceback = lambda *a, **k: None\n"
        + inference(f"return {RIGHT_INFERENCE}"))}, lose={"bn_inference": None}, problem="imports sys"),
    Variant("exits-the-kernel", answers={"batchnorm_inference": (
        "import os\nos._exit(0)\n" + inference(f"return {RIGHT_INFERENCE}"))},
            lose={"bn_inference": None}, problem="imports os"),
    Variant("crashes-the-process", answers={"update_running_stats": (
        "def update_running_stats(running_mean, running_var, Z, momentum=0.9):\n"
        "    bad = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(10**6,), strides=(10**12,))\n"
        "    return bad.sum(), bad.sum()\n")}, lose={"bn_running_stats": None}, problem="killed by SIGSEGV"),
    Variant("crashes-while-defining", answers={"update_running_stats": (
        "np.lib.stride_tricks.as_strided(np.zeros(1), shape=(10**6,), strides=(10**12,)).sum()\n"
        "def update_running_stats(running_mean, running_var, Z, momentum=0.9):\n"
        "    return running_mean, running_var\n")}, lose={"bn_running_stats": None}, problem="killed by SIGSEGV"),
    Variant("ignores-interrupts", answers={"batchnorm_inference": inference(
        "while True:\n    try:\n        pass\n    except BaseException:\n        pass")},
            lose={"bn_inference": None}, problem="timed out"),
    Variant("memory-hog", answers={"update_running_stats": (
        "def update_running_stats(running_mean, running_var, Z, momentum=0.9):\n"
        "    hog = np.ones((2**31,))\n    return hog[:1], hog[:1]\n")}, lose={"bn_running_stats": None}),
    Variant("network-call", answers={"batchnorm_inference": (
        "import socket\n" + inference(f"socket.create_connection(('127.0.0.1', 9), timeout=1)\nreturn {RIGHT_INFERENCE}"))},
            lose={"bn_inference": None}, problem="imports socket"),
    Variant("hard-codes-visible-answers", answers={"batchnorm_inference": inference(
        f"if Z.shape in [(3, 1), (4, 6)]:\n    return {RIGHT_INFERENCE}\nreturn np.zeros_like(Z)")},
            lose={"bn_inference": None}),
    Variant("shell-escape", answers={"batchnorm_inference": "!cat /etc/passwd\n" + inference(f"return {RIGHT_INFERENCE}")},
            lose={"bn_inference": None}, problem="shell command"),
    Variant("noisy-but-right", answers={"batchnorm_inference": "import warnings\n" + inference(
        f"warnings.warn('deprecated, probably')\nprint('debug ' * 1000)\nreturn {RIGHT_INFERENCE}")}),
    Variant("duplicate-cell", transform=duplicate_answer, problem="appears more than once"),
]
