"""One source for every message: each catalogued mistake gets, from the visible checks in the
notebook and from `selfcheck`, the message the grader gives; a variant marked `hidden_only`
passes every visible check and loses its items only when graded.

The notebook's visible checks run in this process, on the variant's answer cells executed
after the lesson's setup cells (experiments skipped), exactly as `check(grade_id, ...)` runs
them in the student's kernel. `selfcheck` runs as a student runs it (`make selfcheck`), its
workers forked by one zygote for the module, as the grader forks them.

Every detector (each known mistake of each item, `checks.items()`) has a catalogue entry that
asserts its message, so garbling one fails tests/integration/test_grader.py and this module.
"""
import ast
import contextlib
import functools
import io
import itertools
import re

import pytest

from autograder import checks
from autograder.authoring.catalogue import build, catalogue
from autograder.student import selfcheck
from autograder.worker import runner
from autograder.worker.course import ROOT
from autograder.worker.notebook import Master
from tests.support.student_kernel import student_namespace

#: Variants about the notebook file itself (timeouts, deleted cells, renamed or corrupt files)
#: or blank: the visible checks of a working kernel say nothing comparable.
CASES = [(lesson, v) for lesson, variants in catalogue().items() for v in variants
         if not (v.untouched or v.lose_all or v.problem)]


def visible_outcome(grade_id, namespace):
    """(passed, hint, message) of `check(grade_id, ...)` on the functions in `namespace`."""
    item = checks.items()[grade_id]
    if any(name not in namespace for name in item.functions):
        return False, None, "a function is not defined"
    functions = [namespace[name] for name in item.functions]
    for label, inputs in item.visible_cases():
        failures = checks.evaluate(item, inputs, checks.collect(item, functions, inputs))
        if failures:
            return False, failures[0].hint, f"{label}: {failures[0].message}"
    return True, None, ""


@pytest.fixture(scope="module")
def forked_selfcheck(tmp_path_factory):
    """`selfcheck.selfcheck`, its workers forked by one zygote for the module (a worker that starts
    as a new process costs ~2 s; forked, ~0.1 s): path -> its printed report."""
    folder = tmp_path_factory.mktemp("selfcheck")
    public = runner.prepare_public(folder / "public")
    with runner.Zygote(public, folder / "zygote") as zygote, pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "run", functools.partial(runner.run, zygote=zygote))

        def run(path):
            with contextlib.redirect_stdout(io.StringIO()) as out:
                selfcheck.selfcheck(path)
            return out.getvalue()
        yield run


def selfcheck_outcomes(report):
    """grade_id -> (passed, hint) from `selfcheck`'s printed report, whose "Likely mistake: ..." line
    wraps onto lines indented by four spaces."""
    outcomes, lines = {}, report.splitlines()
    for k, line in enumerate(lines):
        found = re.match(r"([\u2713\u2717]) (\S+) \(", line)
        if not found:
            continue
        block = list(itertools.takewhile(lambda l: l.startswith(" "), lines[k + 1:]))
        hint = None
        for j, text in enumerate(block):
            if text.startswith(LIKELY):
                wrapped = [text[len(LIKELY):]] + list(itertools.takewhile(lambda l: l.startswith("    "), block[j + 1:]))
                hint = flat(" ".join(wrapped)).removesuffix(".")
                break
        outcomes[found[2]] = (found[1] == "\u2713", hint)
    return outcomes


LIKELY = "  Likely mistake: "


def flat(text):
    return None if text is None else " ".join(text.split())


@pytest.mark.parametrize("lesson_name,variant", CASES, ids=[f"{l}-{v.name}" for l, v in CASES])
def test_the_notebook_and_selfcheck_name_the_mistake_the_grader_names(graded_class, forked_selfcheck, tmp_path,
                                                                     lesson_name, variant):
    results, _, _ = graded_class
    graded = {item.grade_id: item for item in results[(variant.name, lesson_name)].items}
    namespace = student_namespace(lesson_name, variant)
    path = tmp_path / "lesson.ipynb"
    path.write_bytes(build(lesson_name, variant))
    report = forked_selfcheck(path)
    checked = selfcheck_outcomes(report)
    wrong = []
    for grade_id, _ in Master(lesson_name).items:
        visible = visible_outcome(grade_id, namespace)
        for where, (passed, hint, message) in (("the notebook", visible),
                                                ("selfcheck", (*checked.get(grade_id, (False, None)), report))):
            lost = grade_id in variant.lose
            if not lost and not passed:
                wrong.append(f"{grade_id} fails in {where} but keeps full marks when graded: {message}")
            elif lost and variant.hidden_only and not passed:
                wrong.append(f"{grade_id} is marked hidden-only but fails in {where}: {message}")
            elif lost and not variant.hidden_only and passed:
                wrong.append(f"{grade_id} passes every visible check in {where} but loses its points when graded "
                             f"({graded[grade_id].message}); mark the variant hidden_only if no visible case can "
                             "show it")
            elif lost and variant.lose[grade_id] and flat(hint) != flat(graded[grade_id].hint):
                wrong.append(f"{grade_id}: {where} says {hint!r}, the feedback {graded[grade_id].hint!r}")
    assert wrong == []


def test_hidden_only_variants_exist_and_lose_only_when_graded():
    assert any(v.hidden_only for _, v in CASES), "no variant shows what hidden cases alone catch"


def literal(node):
    """The text of a string literal, an f-string (its fields as "{}") or either branch of a conditional
    between them; [] for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)]
    if isinstance(node, ast.IfExp):
        return literal(node.body) + literal(node.orelse)
    return []


def inline_hints():
    """(module, line, hint) of every misconception message written in the checks' and the judge's code rather
    than as an item's known mistake: the hint of a `Failure(message, hint)`, a value given to a name or a
    parameter whose name ends in "hint", and the hint of a `(value, hint)` pair among `candidates`."""
    found = []
    for path in sorted(CHECKS.glob("*.py")) + sorted(JUDGE.glob("*.py")):
        tree = ast.parse(path.read_text())
        parameters = {f.name: [a.arg for a in f.args.args] for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
        for node in ast.walk(tree):
            given = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names = ["message", "hint"] if node.func.id == "Failure" else parameters.get(node.func.id, [])
                given += [arg for name, arg in zip(names, node.args) if name.endswith("hint")]
                given += [k.value for k in node.keywords if k.arg and k.arg.endswith("hint")]
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if any(n.lower().endswith("hint") for n in names):
                    given.append(node.value)
                if "candidates" in names:
                    given += [pair.elts[1] for pair in ast.walk(node.value)
                              if isinstance(pair, ast.Tuple) and len(pair.elts) == 2]
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append"
                    and getattr(node.func.value, "id", None) == "candidates" and isinstance(node.args[0], ast.Tuple)):
                given.append(node.args[0].elts[1])
            found += [(path.name, node.lineno, text) for value in given for text in literal(value)]
    return found


def detectors():
    """(grade_id, mistake name, hint) of every known mistake of every item, from the registry
    (`checks.items()`, each item's `mistakes`): the detectors whose messages the catalogue holds."""
    return [(grade_id, name, hint) for grade_id, item in checks.items().items() for name, hint, _ in item.mistakes]


def asserted_detectors():
    """(grade_id, mistake name) -> names of the catalogue variants whose expected hint on that item is
    a fragment of that mistake's hint and of no other hint of the item (so it asserts that one)."""
    hints = {}
    for grade_id, name, hint in detectors():
        hints.setdefault(grade_id, []).append((name, hint))
    asserted = {}
    for variants in catalogue().values():
        for variant in variants:
            for grade_id, fragment in variant.lose.items():
                named = [name for name, hint in hints.get(grade_id, []) if fragment and fragment in hint]
                if len(named) == 1:
                    asserted.setdefault((grade_id, named[0]), []).append(variant.name)
    return asserted


CHECKS, JUDGE = ROOT / "autograder" / "checks", ROOT / "autograder" / "judge"


def test_every_inline_hint_has_a_catalogue_entry_that_asserts_it():
    """A fragment asserts a hint when it names it (see `names`) and no other message (of `inline_hints` or
    `detectors`)."""
    hints = inline_hints()
    assert len(hints) >= 30, "the scan lost the checks' inline hints"
    messages = {text for _, _, text in hints} | {hint for _, _, hint in detectors()}
    fragments = {f for variants in catalogue().values() for v in variants for f in v.lose.values() if f}

    def names(fragment, text):  # within a literal part, or holding every long one (the fields filled in)
        parts = [part.strip() for part in text.split("{}")]
        long = [part for part in parts if len(part) >= 8]
        return any(fragment in part for part in parts) or ("{}" in text and bool(long)
                                                           and all(part in fragment for part in long))

    def asserted(text):
        return any(names(f, text) and sum(names(f, m) for m in messages) == 1 for f in fragments)
    missing = [f"{module}:{line}: {text!r}" for module, line, text in hints if not asserted(text)]
    assert missing == [], "inline hints no catalogue entry asserts:\n" + "\n".join(missing)


def test_every_detector_has_a_catalogue_entry_that_asserts_its_message():
    """Garbling any detector's message (or breaking the detector) makes its catalogue entry fail
    tests/integration/test_grader.py (the feedback must contain the fragment) and the test above (the notebook
    must name the same mistake)."""
    asserted = asserted_detectors()
    missing = [f"{grade_id}: {name!r}" for grade_id, name, _ in detectors() if (grade_id, name) not in asserted]
    assert missing == [], "detectors no catalogue entry asserts:\n" + "\n".join(missing)
