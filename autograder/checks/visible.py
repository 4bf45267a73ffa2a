"""`check(grade_id, *functions)`: what a notebook's visible test cell runs, on the item's visible
cases in the student's own kernel (`selfcheck` runs `first_failure` on the worker's records)."""
from autograder.checks.collecting import collect
from autograder.checks.evaluation import evaluate
from autograder.checks.feedback import dependency_note, report
from autograder.checks.item import CheckFailed, items


def first_failure(item, record_of):
    """(label, failures) of the first visible case of `item` that fails, or None.

    `record_of(k, inputs)` gives case k's record: `collect` in the student's kernel, the worker's
    record in `selfcheck`.
    """
    for k, (label, inputs) in enumerate(item.visible_cases()):
        failures = evaluate(item, inputs, record_of(k, inputs))
        if failures:
            return label, failures
    return None


def _collector(item, functions):
    return lambda k, inputs: collect(item, functions, inputs)


def failed_dependencies(item, functions):
    """The items `item` depends on that fail on their own visible cases with these `functions`
    (the same functions by name: a backward item's forward pass is the forward item's function)."""
    given = dict(zip(item.functions, functions))
    failed = set()
    for grade_id in item.depends_on:
        dependency = items()[grade_id]
        if set(dependency.functions) <= set(given) and first_failure(
                dependency, _collector(dependency, [given[name] for name in dependency.functions])):
            failed.add(grade_id)
    return failed


def check(grade_id, *functions):
    """Run a graded item's visible checks on the student's functions.

    Raises `CheckFailed` naming the first property that fails (and, when an item it depends on
    fails with the same functions, saying to fix that one first); prints a line on success.
    """
    item = items()[grade_id]
    if len(functions) != len(item.functions):
        raise TypeError(f"check({grade_id!r}) takes the functions {', '.join(item.functions)}")
    failure = first_failure(item, _collector(item, functions))
    if failure:
        label, failures = failure
        raise CheckFailed(report([(label, failures[:1])], dependency_note(grade_id, failed_dependencies(item, functions))))
    print(f"\u2713 {grade_id}: all properties hold on {len(item.visible_cases())} visible case(s). "
          "Hidden tests check more cases when your notebook is graded.")
