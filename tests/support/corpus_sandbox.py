"""More of the adversarial corpus: attacks on the sandbox, the grader process and what it
writes, the course tree, the submitted files, the judge, the reports and the scan.

Each list is one class, graded with a correct `bystander` whose marks must be exactly those
it gets when graded alone (`tests/integration/test_adversarial.py`):

- `sandbox_class`: graded in-process with the scan off (``grade_class(folder, Options(scan=False))``), so the
  sandbox itself is proven. Where success earns nothing, the attack leaves a trace the
  tests look for (a changed file, a master's text in a log, a broken bystander).
- `grader_class`, `sibling_class`, `grader_kill_class`: attacks on the grader process and
  its outputs, graded through the command line in a subprocess (``--no-scan``) so that a
  successful attack cannot kill pytest. Every process an attack starts carries `marker`
  in its argv, so a survivor can be found (and is killed by the tests).
- `file_class`: submissions that are not plain notebook files (symlinks, /dev/zero,
  nesting, huge or malformed notebooks), graded with the scan on.
- `SCAN_ATTACKS`: what the scan must refuse or let through, graded with the scan on.

Attacks on the course tree only create new files named after `marker` or append a comment
line, which the tests remove again: a broken defence touches the real working tree.
"""
import json
from dataclasses import dataclass

from autograder import checks
from autograder.authoring.catalogue import ROOT, Variant, build, reference_answers
from tests.support.corpus import LESSON, RIGHT_INFERENCE, inference

MASTER = ROOT / "solutions" / LESSON / "lesson.ipynb"
#: The shapes of bn_inference's visible cases (a submission below hard-codes them).
VISIBLE_SHAPES = repr([inputs["Z"].shape for _, inputs in checks.items()["bn_inference"].raw_visible_cases()])


@dataclass
class Entry:
    """One submission of a class: a variant of `lesson`, placed by `place(folder, data)`
    when it is not a plain file; `reported`: the report must name a problem (any wording)."""
    variant: Variant
    lesson: str = LESSON
    place: object = None
    reported: bool = False

    @property
    def name(self):
        return self.variant.name


def indent(code, prefix="    "):
    return "".join(prefix + line + "\n" for line in code.strip("\n").split("\n"))


def attempt_then_right(attempt):
    """An answer cell that runs `attempt` once and answers right only if it raised nothing."""
    return ("import os, sys\ntry:\n" + indent(attempt) + "    DONE = True\nexcept Exception:\n    DONE = False\n\n"
            + inference(f"if not DONE:\n    return np.zeros_like(Z)\nreturn {RIGHT_INFERENCE}"))


def before_answer(lesson, grade_id, code):
    """The reference answer of `grade_id`, with `code` run first in the same cell."""
    return {grade_id: code.strip("\n") + "\n\n" + reference_answers(lesson)[grade_id]}


def spawn(code, marker):
    """Statements that start `code` (a Python program; argv[1] is the grader's pid) in a
    double-forked process in its own session, outside the worker's process group."""
    return f"""import os, sys
grader = os.getppid()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        fd = os.open(os.devnull, os.O_RDWR)
        for k in range(3):
            os.dup2(fd, k)
        os.closerange(3, 1024)
        os.execv(sys.executable, [sys.executable, "-c", {code!r}, str(grader), {marker!r}])
    os._exit(0)
os.wait()"""


def link_then_crash(name, target):
    """Replace `name` in the worker's folder by a symlink to `target`, then kill the worker,
    so the grader opens `name` again when it restarts the worker."""
    return f"""import os
try:
    os.remove({name!r})
except OSError:
    pass
os.symlink({str(target)!r}, {name!r})
os._exit(1)"""


def create(path):
    return f"open({str(path)!r}, 'x').write('written by the adversarial corpus\\n')"


# ---- 1, 3, 5: the sandbox, the course tree, the judge (in-process, scan off) ----------

TAMPER = ("\nimport os as _os\nif '/bystander/' in _os.getcwd():\n"
          "    raise ImportError('the public copy of the grader was tampered with')\n")

RIGHT_IN_PLACE = """Z -= running_mean
Z /= np.sqrt(running_var + eps)
Z *= gamma
Z += beta
return Z"""

READS_THE_CALLER = """import sys

def count_distinct_units(W, tol=1e-8):
    frame = sys._getframe(1)
    while frame is not None:
        local = frame.f_locals
        for found in (local, local.get("inputs"), local.get("kwargs")):
            if isinstance(found, dict) and "distinct" in found:
                return int(found["distinct"])
        frame = frame.f_back
    return 0
"""

IDENTITY_HELPERS = {
    "normalize_inputs": "def normalize_inputs(X, mu, var, eps=1e-8):\n    return X.copy()\n",
    "normalize_splits": ("def normalize_splits(X_train, X_dev, X_test, eps=1e-8):\n"
                         "    return X_train.copy(), X_dev.copy(), X_test.copy()\n"),
}


# Issue 21: as root, /etc/shadow and /etc/gshadow were readable and a visible case's error
# message (300 characters, shown in the feedback) carried them out.
READS_SHADOW = inference("""texts = []
for path in ("/etc/shadow", "/etc/gshadow"):
    try:
        texts.append(open(path).read(120))
    except OSError as exc:
        texts.append(type(exc).__name__)
raise ValueError("read: " + " | ".join(texts))""")


def sandbox_class(folder, marker, decoy):
    """The sandbox class for a submissions `folder`; `decoy` is a folder named like another
    grading run's scratch (``/tmp/course-grading-*``). Victims of the symlink attacks are
    files in ``folder/.victims`` (hidden from the worker like a classmate's notebook)."""
    victims = folder / ".victims"
    site = "os.path.dirname(os.path.dirname(sys.modules['numpy'].__file__))"
    inf = "bn_inference"
    return [
        Entry(Variant("bystander")),
        # sorts before the bystander, so the bystander's worker starts after the tampering
        Entry(Variant("alters-the-public-grader", answers={"batchnorm_inference": attempt_then_right(
            f"open(sys.modules['autograder.worker.wire'].__file__, 'a').write({TAMPER!r})")}, lose={inf: None})),
        Entry(Variant("appends-to-the-course-config", answers={"batchnorm_inference": attempt_then_right(
            f"open({str(ROOT / 'nbgrader_config.py')!r}, 'a').write('# {marker}\\n')")}, lose={inf: None})),
        Entry(Variant("creates-in-lessonkit", answers={"batchnorm_inference": attempt_then_right(
            create(ROOT / "lessonkit" / f"{marker}.txt"))}, lose={inf: None})),
        Entry(Variant("creates-in-notebooks", answers={"batchnorm_inference": attempt_then_right(
            create(ROOT / "notebooks" / f"{marker}.txt"))}, lose={inf: None})),
        Entry(Variant("creates-in-site-packages", answers={"batchnorm_inference": attempt_then_right(
            f"open(os.path.join({site}, '{marker}.txt'), 'x').write('corpus')")}, lose={inf: None})),
        Entry(Variant("writes-other-runs-scratch", answers={"batchnorm_inference": attempt_then_right(
            create(decoy / f"{marker}.txt"))}, lose={inf: None})),
        Entry(Variant("lists-the-solutions", answers={"batchnorm_inference": attempt_then_right(
            f"assert {LESSON!r} in os.listdir({str(ROOT / 'solutions')!r})")}, lose={inf: None})),
        Entry(Variant("links-log-to-a-classmate", answers={"update_running_stats": link_then_crash(
            "output.log", victims / "links-log-to-a-classmate.ipynb")}, lose={"bn_running_stats": None})),
        Entry(Variant("links-plan-to-a-classmate", answers={"update_running_stats": link_then_crash(
            "plan.json", victims / "links-plan-to-a-classmate.ipynb")}, lose={"bn_running_stats": None})),
        Entry(Variant("links-log-to-the-master", answers={"update_running_stats": link_then_crash(
            "output.log", MASTER)}, lose={"bn_running_stats": None})),
        Entry(Variant("reads-etc-shadow", answers={"batchnorm_inference": READS_SHADOW}, lose={inf: None})),
        Entry(Variant("runs-as-root", answers={"batchnorm_inference": attempt_then_right(
            "assert os.getuid() == 0 or os.geteuid() == 0")}, lose={inf: None})),
        Entry(Variant("patches-the-mutation-check", answers={"batchnorm_inference": (
            "import sys\nsys.modules['autograder.checks']._same = lambda after, before: True\n\n"
            + inference(RIGHT_IN_PLACE))}, lose={inf: None})),
        Entry(Variant("reads-the-caller-frame", answers={"count_distinct_units": READS_THE_CALLER},
                      lose={"symmetry_distinct_units": None}), lesson="04_initialization"),
        Entry(Variant("identity-helpers", answers=IDENTITY_HELPERS,
                      lose={"normalize_inputs_values": None, "normalize_splits_train_stats": None}),
              lesson="01_normalizing_inputs"),
    ]


VICTIMS = ["links-log-to-a-classmate", "links-plan-to-a-classmate"]


# ---- 2, 6: the grader process and its outputs (command line, scan off) ------------------

STAYS_ALIVE = "import time; time.sleep(60)"

# Waits for the grader (argv[1]) to exit, then rewrites OUT/grades.csv (OUT from its argv).
REWRITES_GRADES = """import os, sys, time
grader = sys.argv[1]
argv = open(f"/proc/{grader}/cmdline", "rb").read().split(b"\\0")
out = argv[argv.index(b"--out") + 1].decode()
deadline = time.time() + 50
while os.path.exists(f"/proc/{grader}") and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.3)
with open(os.path.join(out, "grades.csv"), "w") as f:
    f.write("student,total\\nrewrites-the-grades,1000\\n")
"""

LEAKS = inference(f"if Z.shape in {VISIBLE_SHAPES}:\n    return {RIGHT_INFERENCE}\nraise ValueError(repr(Z.tolist()))")

SCRIPT, IMG, SVG = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>"
ANSI = "\x1b[2J\x1b[31mansi-folder\x1b[0m"


def retype_answer(cell_type):
    def transform(nb):
        for cell in nb["cells"]:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "batchnorm_inference":
                cell["cell_type"] = cell_type
        return nb
    return transform


def duplicate_ids(cell_id):
    def transform(nb):
        for cell in [c for c in nb["cells"] if c["cell_type"] == "markdown"][:2]:
            cell["id"] = cell_id
        return nb
    return transform


def grader_class(marker):
    """Attacks on the grader's process and outputs, and names and texts its reports must escape."""
    return [
        Entry(Variant("bystander")),
        Entry(Variant("outlives-grading", answers=before_answer(
            LESSON, "batchnorm_inference", spawn(STAYS_ALIVE, f"{marker}-outlives-grading")))),
        Entry(Variant("rewrites-the-grades", answers=before_answer(
            LESSON, "batchnorm_inference", spawn(REWRITES_GRADES, f"{marker}-rewrites-the-grades")))),
        Entry(Variant("reads-the-grader-cmdline", answers={"batchnorm_inference": attempt_then_right(
            "assert b'autograder' in open(f'/proc/{os.getppid()}/cmdline', 'rb').read()")},
                      lose={"bn_inference": None})),
        Entry(Variant("leaks-hidden-inputs", answers={"batchnorm_inference": LEAKS}, lose={"bn_inference": None})),
        Entry(Variant("script-cell-type", transform=retype_answer(SCRIPT), lose={"bn_inference": None})),
        Entry(Variant("img-cell-ids", transform=duplicate_ids(IMG))),
        Entry(Variant('=HYPERLINK("x")')),
        Entry(Variant(IMG)),
        Entry(Variant(SVG)),
        Entry(Variant(ANSI)),
        # issue 21: GitHub-flavoured Markdown links these without any markup (its extended autolinks);
        # renamed, so the summary lists them with the rename
        Entry(Variant("www.evil.example", filename="www.evil.example.ipynb")),
        Entry(Variant("phish@evil.example", filename="mailto:phish@evil.example.ipynb")),
    ]


KILLS_SIBLINGS = """import os, signal, time

def parent(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])

me, grader, stop = os.getpid(), os.getppid(), time.time() + 8
while time.time() < stop:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(pid) != me and parent(pid) == grader and b"sandbox.py" in open(f"/proc/{pid}/cmdline", "rb").read():
                os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    time.sleep(0.02)"""

# Only the grader and its other workers: the machine is shared, so the attack never walks
# further than its own grading run.
KILLS_THE_GRADER = """import os, signal

def parent(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])

me, grader = os.getpid(), os.getppid()
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if int(pid) != me and (int(pid) == grader or parent(pid) == grader) \\
                and b"autograder" in open(f"/proc/{pid}/cmdline", "rb").read():
            os.kill(int(pid), signal.SIGKILL)
    except (OSError, ValueError):
        pass
os.kill(grader, signal.SIGKILL)"""


def sibling_class():
    """A worker that kills the other workers of its grader for 8 s. With two workers it starts
    beside `another-student`, so the bystander starts (after that one) while the killing goes on."""
    return [Entry(Variant("aborts-sibling-workers", answers=before_answer(LESSON, "batchnorm_forward", KILLS_SIBLINGS))),
            Entry(Variant("another-student")), Entry(Variant("bystander"))]


def grader_kill_class():
    """A worker that SIGKILLs its grader (its parent and every `autograder` process under it)."""
    return [Entry(Variant("bystander")),
            Entry(Variant("kills-the-grader", answers={"batchnorm_inference": KILLS_THE_GRADER + "\n\n"
                                                       + inference("return np.zeros_like(Z)")},
                          lose={"bn_inference": None}))]


# ---- 4: submissions that are not plain notebook files (scan on) -------------------------

def symlink_to(target, name="lesson.ipynb"):
    def place(folder, data):
        (folder / name).symlink_to(target)
    return place


def link_lesson_folder(folder, data):
    folder.rmdir()
    folder.symlink_to(ROOT / "solutions" / LESSON, target_is_directory=True)


def link_student_folder(folder, data):
    """<student>/ a link to a folder outside the class holding a right notebook: graded through
    the link, it would score in full."""
    student = folder.parent
    real = student.parent.parent / f"{student.parent.name}-outside" / student.name
    (real / folder.name).mkdir(parents=True)
    (real / folder.name / "lesson.ipynb").write_bytes(build(LESSON, Variant("bystander")))
    folder.rmdir()
    student.rmdir()
    student.symlink_to(real, target_is_directory=True)


def raw(data_of):
    def place(folder, data):
        (folder / "lesson.ipynb").write_bytes(data_of(data))
    return place


def deep_json(data, depth=100_000):
    return b'{"cells": [' + b"[" * depth + b"]" * depth + b"], \"nbformat\": 4}"


def many_cells(data, count=150_000):
    nb = json.loads(data)
    nb["cells"] += [{"cell_type": "markdown", "id": f"extra-{k}", "metadata": {}, "source": ["x"]}
                    for k in range(count)]
    return json.dumps(nb).encode()


def list_grade_id(nb):
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == "batchnorm_inference":
            meta["grade_id"] = ["batchnorm_inference"]
    return nb


def file_class():
    """Submissions as files; `links-the-lesson-folder` may instead be named as unknown."""
    return [
        Entry(Variant("bystander")),
        Entry(Variant("links-to-the-master", lose_all=True), place=symlink_to(MASTER), reported=True),
        Entry(Variant("links-the-lesson-folder", lose_all=True), place=link_lesson_folder, reported=True),
        Entry(Variant("links-the-student-folder", lose_all=True), place=link_student_folder, reported=True),
        Entry(Variant("links-to-dev-zero", lose_all=True), place=symlink_to("/dev/zero"), reported=True),
        Entry(Variant("nests-the-json", lose_all=True), place=raw(deep_json), reported=True),
        # planning is linear: the answers are right, so the notebook is graded in full, quickly
        Entry(Variant("has-150000-cells"), place=raw(many_cells)),
        Entry(Variant("unhashable-grade-id", transform=list_grade_id, lose={"bn_inference": None}), reported=True),
        Entry(Variant("nests-an-expression", answers={"batchnorm_inference": "x = " + "-" * 100_000 + "1\n"
                                                      + inference(f"return {RIGHT_INFERENCE}")},
                      lose={"bn_inference": None}), reported=True),
    ]


# ---- 7: the scan (scan on) ---------------------------------------------------------------

SCAN_ATTACKS = [
    Entry(Variant("bystander")),
    Entry(Variant("captures-shell-output", answers={"batchnorm_inference": "lines = !cat /etc/passwd\n" + inference(
        f"if not lines:\n    return np.zeros_like(Z)\nreturn {RIGHT_INFERENCE}")}, lose={"bn_inference": None}),
          reported=True),
    Entry(Variant("hides-an-import-in-a-magic", answers={"batchnorm_inference": (
        "%time os_name = __import__('os').name\n" + inference(
            f"if not os_name:\n    return np.zeros_like(Z)\nreturn {RIGHT_INFERENCE}"))}, lose={"bn_inference": None}),
          reported=True),
    Entry(Variant("reaches-os-through-subclasses", answers={"batchnorm_inference": (
        "wrap = [c for c in getattr(object, '__subclasses__')() if c.__name__ == '_wrap_close'][0]\n"
        "pid = getattr(getattr(wrap, '__init__'), '__globals__')['getpid']()\n"
        + inference(f"return {RIGHT_INFERENCE}"))}, lose={"bn_inference": None}), reported=True),
    # issue 21: a module an allowed module holds, imported by name; `_checks` is not bound by an
    # import, so assigning to its attribute passes the module-attribute rule once sys is reached
    Entry(Variant("imports-sys-from-dataclasses", answers={"batchnorm_inference": (
        "from dataclasses import sys as _s, builtins as _b\n_checks = _s.modules['autograder.checks']\n"
        "_checks._same = lambda after, before: True\n\n" + inference(RIGHT_IN_PLACE))},
                  lose={"bn_inference": None}), reported=True),
    # a pickle written with numpy and loaded back: `csys\nmodules\n.` is sys.modules, code the scan never reads
    Entry(Variant("loads-sys-from-a-pickle", answers={"batchnorm_inference": (
        "np.frombuffer(b'csys\\nmodules\\n.', dtype=np.uint8).tofile('p.pkl')\n"
        "_checks = np.load('p.pkl', allow_pickle=True)['autograder.checks']\n"
        "_checks._same = lambda after, before: True\n\n" + inference(RIGHT_IN_PLACE))},
                  lose={"bn_inference": None}), reported=True),
    Entry(Variant("formats-with-percent", answers={"batchnorm_inference": inference(
        f"note = ('normalized %d features'\n        % Z.shape[0])\nreturn {RIGHT_INFERENCE}")})),
]


# ---- 8: one submission costs only itself (in-process, scan off; issue 21) ----------------

#: A cell's way to the worker's event pipe: fd 3 when forked by the zygote, argv[1] otherwise.
EVENTS_FD = "import os, sys\nEVENTS = int(sys.argv[1]) if sys.argv[0].endswith('sandbox.py') else 3\n"


def on_the_pipe(payload):
    """The reference answer of batchnorm_forward, after writing `payload` (bytes) on the event pipe."""
    return before_answer(LESSON, "batchnorm_forward", f"{EVENTS_FD}os.write(EVENTS, {payload!r})")


#: Stashes what batchnorm_forward sees on cases of shapes the notebook never shows (hidden
#: ones), then quotes it in the error of a later item's visible case.
STASHES = {
    "batchnorm_forward": reference_answers(LESSON)["batchnorm_forward"] + """

SEEN, _right_forward = [], batchnorm_forward

def batchnorm_forward(Z, *args, **kwargs):
    if Z.shape not in [(3, 5), (4, 7)]:
        SEEN.append(repr(float(Z.ravel()[0])))
    return _right_forward(Z, *args, **kwargs)
""",
    "layernorm_forward": """def layernorm_forward(Z, gamma, beta, eps=1e-5):
    raise ValueError("seen: " + " ".join(SEEN[-12:]))
""",
}

#: A 3000-deep chain of folders in its working folder, then right answers.
DEEP_CHAIN = """import os
_top = os.open(".", os.O_RDONLY)
for _ in range(3000):
    os.mkdir("d")
    os.chdir("d")
os.fchdir(_top)"""

#: Failures planted in the grader itself while it grades these students (see test_adversarial).
GRADER_FAULTS = ["supervision-raises", "judge-raises"]


def barrier_class():
    """Submissions that used to stop the whole class (or cost the grader memory and minutes),
    and correct ones whose grading the test makes fail inside the grader."""
    ln = {"ln_forward_contract": None, "ln_forward_normalizes": None, "ln_backward_contract": None,
          "ln_backward_gradient": None}
    return [
        Entry(Variant("bystander")),
        Entry(Variant("nests-the-event-pipe", answers=on_the_pipe(b"[" * 100_000 + b"\n"), lose_all=True),
              reported=True),
        Entry(Variant("sends-an-unhashable-key", answers=on_the_pipe(
            b'{"event": "case_end", "key": ["bn_forward_contract#0"], "record": {}}\n'), lose_all=True), reported=True),
        Entry(Variant("starts-an-unplanned-case", answers=on_the_pipe(
            b'{"event": "case_start", "key": "no-such-item#0"}\n'), lose_all=True), reported=True),
        Entry(Variant("returns-huge-arrays", answers={"batchnorm_inference": inference("return np.zeros(1_500_000)")},
                      lose={"bn_inference": None})),
        Entry(Variant("leaves-a-deep-folder-chain", answers=before_answer(LESSON, "batchnorm_forward", DEEP_CHAIN))),
        Entry(Variant("stashes-hidden-inputs", answers=STASHES, lose=ln)),
        *[Entry(Variant(name, lose_all=True), reported=True) for name in GRADER_FAULTS],
    ]
