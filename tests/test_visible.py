"""One source for every message: each catalogued mistake gets, from the visible checks in the
notebook, the message the grader gives; a variant marked `hidden_only` passes every visible
check and loses its items only when graded.

The visible checks run in this process, on the variant's answer cells executed after the
lesson's setup cells (experiments skipped), exactly as `check(grade_id, ...)` runs them in
the student's kernel.
"""
import contextlib
import io
import json
import re

import pytest

from autograder import checks
from autograder.cells import cell_source, nbgrader_meta
from autograder.notebook import Master
from tests.catalogue import build, catalogue

#: Variants about the notebook file itself (timeouts, deleted cells, renamed or corrupt files)
#: or blank: the visible checks of a working kernel say nothing comparable.
CASES = [(lesson, v) for lesson, variants in catalogue().items() for v in variants
         if not (v.untouched or v.lose_all or v.problem)]


def student_namespace(lesson, variant):
    """The names a student's kernel holds after running the notebook's code cells (tests and
    experiments excepted; a cell that raises leaves what it defined so far)."""
    namespace = {"__name__": "__main__"}
    for cell in json.loads(build(lesson, variant))["cells"]:
        source = cell_source(cell)
        if cell["cell_type"] != "code" or nbgrader_meta(cell).get("grade") or source.lstrip().startswith("%%"):
            continue
        code = re.sub(r"(?m)^\s*[%!].*$", "", source)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
            exec(compile(code, f"<cell {nbgrader_meta(cell).get('grade_id')}>", "exec"), namespace)
    return namespace


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


@pytest.mark.parametrize("lesson_name,variant", CASES, ids=[f"{l}-{v.name}" for l, v in CASES])
def test_the_notebook_names_the_mistake_the_grader_names(graded_class, lesson_name, variant):
    results, _, _ = graded_class
    graded = {item.grade_id: item for item in results[(variant.name, lesson_name)].items}
    namespace = student_namespace(lesson_name, variant)
    wrong = []
    for grade_id, _ in Master(lesson_name).items:
        passed, hint, message = visible_outcome(grade_id, namespace)
        lost = grade_id in variant.lose
        if not lost and not passed:
            wrong.append(f"{grade_id} fails visibly but keeps full marks when graded: {message}")
        elif lost and variant.hidden_only and not passed:
            wrong.append(f"{grade_id} is marked hidden-only but fails visibly: {message}")
        elif lost and not variant.hidden_only and passed:
            wrong.append(f"{grade_id} passes every visible check but loses its points when graded "
                         f"({graded[grade_id].message}); mark the variant hidden_only if no visible case can show it")
        elif lost and variant.lose[grade_id] and hint != graded[grade_id].hint:
            wrong.append(f"{grade_id}: the notebook says {hint!r}, the feedback {graded[grade_id].hint!r}")
    assert wrong == []


def test_hidden_only_variants_exist_and_lose_only_when_graded():
    assert any(v.hidden_only for _, v in CASES), "no variant shows what hidden cases alone catch"


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


def test_every_detector_has_a_catalogue_entry_that_asserts_its_message():
    """Garbling any detector's message (or breaking the detector) makes its catalogue entry fail
    tests/test_grader.py (the feedback must contain the fragment) and the test above (the notebook
    must name the same mistake)."""
    asserted = asserted_detectors()
    missing = [f"{grade_id}: {name!r}" for grade_id, name, _ in detectors() if (grade_id, name) not in asserted]
    assert missing == [], "detectors no catalogue entry asserts:\n" + "\n".join(missing)
