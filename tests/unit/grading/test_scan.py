"""The static scan: what it flags (and says), what honest code it lets through."""
import sys
import threading

import pytest

from autograder import cli, judge
from autograder.authoring.catalogue import reference_answers
from autograder.grading.grade import load_master
from autograder.grading.scan import scan
from autograder.worker import runner, wire
from autograder.worker.cells import defined_functions
from autograder.worker.course import lessons

FLAGGED = [  # (id, cell source, fragment of a reason)
    ("shell-escape-assigned", "files = !ls /\n", "shell command"),
    ("shell-escape", "!cat /etc/passwd\nx = 1\n", "shell command"),
    ("time-hides-code", "%time __import__('os').system('id')\n", "calls __import__()"),
    ("timeit-hides-code", "%timeit -n 1 open('/etc/passwd')\n", "calls open()"),
    ("cell-timeit-body", "%%timeit\nimport os\n", "imports os"),
    ("cell-time-body", "%%time\nx = 1\neval('x')\n", "calls eval()"),
    ("getattr-dunder-string", "getattr(object, '__subclasses__')()\n", "getattr()"),
    ("getattr-computed", "name = '_' + '_subclasses__'\ngetattr(object, name)\n", "getattr()"),
    ("getattr-as-value", "import functools\nfunctools.reduce(getattr, ['a', 'b'], object)\n", "getattr()"),
    ("attrgetter-dunder", "import operator\noperator.attrgetter('__class__.__base__')(1)\n", "attrgetter()"),
    ("methodcaller-computed", "from operator import methodcaller\nmethodcaller(name)(x)\n", "methodcaller()"),
    ("type-three-args", "T = type('T', (), {'f': 1})\n", "type() with three arguments"),
    ("other-magic", "%load_ext foo\n", "magic %load_ext"),
    ("other-cell-magic", "%%bash\nls\n", "magic %%bash"),
    ("matplotlib-module", "%matplotlib module://evil\n", "%matplotlib"),
    ("get-ipython-by-hand", "get_ipython().showtraceback = None\n", "uses get_ipython"),
    ("eval-alias", "run = eval\n", "uses eval"),
    ("module-through-attribute", "import warnings\nwarnings.sys.modules\n", "module sys"),
    ("string-annotation", "def f(x: \"__import__('os')\"):\n    pass\n", "calls __import__()"),
    ("unparsable", "def f(x):\n    return (x +\n\n", "does not parse (line 2:"),
    ("unparsable-time-code", "%time x = = 1\n", "%time code that does not parse (line 1:"),
    ("deep-nesting", "(" * 100000 + ")" * 100000, "nested too deeply"),
    ("deep-attribute-chain", "np" + ".a" * 1000 + " = 1\n", "nested too deeply"),
    ("too-long", "x = 1\n" * 40000, "too long"),
    ("magic-nested-too-deep", "%time " * 10 + "x\n", "more than"),
    ("module-attribute", "import numpy as q\n%time q.allclose = None\n", "changes the module attribute q.allclose"),
    # a module an allowed module holds, imported by name rather than reached as an attribute
    ("from-import-module", "from dataclasses import sys as _s, builtins as _b\n", "module sys through"),
    ("from-import-module-second", "from dataclasses import sys as _s, builtins as _b\n", "module builtins through"),
    ("from-import-private-module", "from random import _os\n", "module os through the import of random._os"),
    ("from-import-plain", "from warnings import sys\n", "module sys through"),
    ("from-import-in-magic", "%time from typing import sys\n", "module sys through"),
    ("from-dotted-module", "from numpy.os import path\n", "module os through"),
    ("import-dotted-module", "import numpy.os as o\n", "module os through"),
    ("from-import-builtins-dict", "from functools import __builtins__ as b\n", "imports __builtins__"),
    ("from-import-get-ipython", "from typing import get_ipython\n", "imports get_ipython"),
    ("relative-from-import", "from . import sys\n", "relative import"),
    # other ways to code or objects the scan never sees
    ("formatter-get-field", "import string\nstring.Formatter().get_field('0._' + '_class__', [1], {})\n",
     "get_field() with a computed or private attribute name"),
    ("numpy-ctypeslib", "np.ctypeslib.load_library('libc.so.6', '/lib').system(b'id')\n", "module ctypeslib"),
    ("load-allow-pickle", "x = np.load('x.npy', allow_pickle=True)\n", "loads a pickle"),
    ("load-allow-pickle-computed", "flag = 1\nx = np.load('x.npy', allow_pickle=flag)\n", "loads a pickle"),
    ("load-allow-pickle-positional", "x = np.load('x.npy', None, True)\n", "loads a pickle"),
]

ALLOWED = [  # (id, cell source)
    ("matplotlib-inline", "%matplotlib inline\nimport matplotlib.pyplot as plt\n"),
    ("time-honest", "%time y = np.tanh(np.arange(3.0))\n"),
    ("timeit-options", "%timeit -n 3 -r 1 np.dot(a, b)\n"),
    ("cell-timeit", "%%timeit -n 2\nz = np.ones(3)\nz.sum()\n"),
    ("percent-continuation", "msg = (\"epoch %d\"\n       % n)\n"),
    ("percent-continuation-indented", "def f(n):\n    return (\"a %d, b %s\"\n            % (n, n))\n"),
    ("getattr-public", "act = getattr(np, \"tanh\")\nhasattr(np, 'relu')\n"),
    ("main-guard", "if __name__ == \"__main__\":\n    pass\n"),
    ("input-as-name", "def forward(input):\n    return input * 2\n"),
    ("load-without-pickles", "x = np.load('x.npy')\ny = np.load('y.npy', allow_pickle=False)\n"
                             "w = json.load(f)\n"),
    ("from-import-submodules", "from collections import abc\nfrom numpy import random as rng\n"
                               "import matplotlib.pyplot as plt\nfrom numpy import *\n"),
]


@pytest.mark.parametrize("source, fragment", [c[1:] for c in FLAGGED], ids=[c[0] for c in FLAGGED])
def test_flags_with_a_reason(source, fragment):
    reasons = scan(source)
    assert any(fragment in r for r in reasons), reasons


@pytest.mark.parametrize("source", [c[1] for c in ALLOWED], ids=[c[0] for c in ALLOWED])
def test_lets_honest_code_through(source):
    assert scan(source) == []


@pytest.mark.parametrize("master", lessons())
def test_master_answers_pass(master):
    answers = reference_answers(master)
    assert answers
    assert {gid: scan(src) for gid, src in answers.items() if scan(src)} == {}


def test_worker_runs_what_the_scan_read(tmp_path):
    """The scan reads IPython's transformation; with automagic, the worker would run the
    one-line cell `sx(id)` as the shell magic %sx although the scan saw a plain call."""
    gid = load_master("02_batch_norm").items[0][0]
    inputs = judge.cases(gid)[0].inputs
    job = {"key": "k", "grade_id": gid, "inputs": {n: wire.encode(v) for n, v in inputs.items()}}
    assert scan("sx(id)") == []
    outcome = runner.run([{"id": "a", "source": "sx(id)"}], [job], runner.prepare_public(tmp_path / "public"),
                         tmp_path / "work")
    assert "NameError" in outcome.cell_errors.get("a", "")


# --- parsing from several threads (grade.py reads and scans in a pool) ------------------

#: A long cell of many small functions: its tree takes a while to build.
MANY_FUNCTIONS = "".join(f"def f{k}(x):\n    return [(a, b) for a in range(x) if a % 2 for b in {{1: 2}}]\n"
                         for k in range(50))
#: Creates garbage whose collection runs Python code (as a dropped generator's or Future's
#: does): a collection while a tree is built then lets another thread run in between.
FINALIZED = """
class Finalized:
    def __del__(self):
        pass


def garbage():
    cycle = Finalized()
    cycle.me = cycle
"""  # as source too: the module imported in a thread below defines the same
_defined = {}
exec(FINALIZED, _defined)
garbage = _defined["garbage"]


def _in_threads(*loops):
    """Run each loop in its own thread; the exceptions they raised."""
    raised = []

    def run(loop):
        try:
            loop()
        except Exception as exc:  # noqa: BLE001 - the test reports them all
            raised.append(exc)
    threads = [threading.Thread(target=run, args=(loop,)) for loop in loops]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return raised


def test_cells_scanned_in_several_threads_read_as_in_one():
    """The grader scans students' cells in one thread while another reads a master
    (`defined_functions`): CPython 3.11 built their trees with a shared depth count and
    once refused a whole notebook ("could not read this notebook (SystemError)")."""
    reasons, names = scan(MANY_FUNCTIONS + "import os\n"), defined_functions(MANY_FUNCTIONS)
    assert reasons == ["imports os (answers may import only numpy, math and the standard helpers)"]
    stop = threading.Event()

    def scans():
        for _ in range(6):
            garbage()
            assert scan(MANY_FUNCTIONS + "import os\n") == reasons

    def reads():
        while not stop.is_set():
            garbage()
            assert defined_functions(MANY_FUNCTIONS) == names

    def scans_then_stops():
        try:
            scans()
        finally:
            stop.set()
    assert _in_threads(scans_then_stops, scans, reads, reads) == []


def test_a_background_import_that_parses_leaves_the_scan_alone(tmp_path, monkeypatch):
    """`grade` imports matplotlib in a thread while it scans; matplotlib parses Python as it
    is imported. Here a module that parses as much is imported that way while cells are scanned:
    both must succeed."""
    name = f"parses_when_imported_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text("import ast\n" + FINALIZED + f"""
for _ in range(300):
    garbage()
    ast.parse({MANY_FUNCTIONS!r})
DONE = True
""")
    monkeypatch.syspath_prepend(tmp_path)
    reasons = scan(MANY_FUNCTIONS)

    def scans():
        for _ in range(8):
            garbage()
            assert scan(MANY_FUNCTIONS) == reasons
    try:
        importing = cli._import_in_background([name])
        raised = _in_threads(scans)
        importing.join()
        assert raised == [] and sys.modules[name].DONE
    finally:
        sys.modules.pop(name, None)
