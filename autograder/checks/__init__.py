"""Checks that test cells call: one `Item` per graded test cell.

An item says how to call the student's functions on one case (`run`, executed where
the student's code lives) and which properties the plain-data result must have
(`properties`, executed anywhere: in the student's kernel for visible cases, in the judge
for hidden ones). Messages name the property that failed and, where a known mistake
produces exactly the student's output, the misconception.

Students call `check(grade_id, *functions)` from visible test cells.

Nothing the student's process reports is taken on trust: `collect` reports what the call
returned and what the inputs look like after it, and `evaluate` (in the judge for hidden
cases) decides from its own copy of the inputs whether they were changed.

No answer ships in code. Where a property can only be stated as "equals the formula", the
item reads the reference's output on the case (`ANSWER`); a known mistake that is a near
copy of the answer has no code here (its callable is None) and is recognized by its output
on the case (`KNOWN`). An input that the contract documents but only an answer can make
(the activations a backward pass takes) is computed by the reference too
(`Item.reference_inputs`), so an item never stands on another item's answer. For visible
cases all of these come from `known_outputs.json`, generated from the reference by the
judge at release; for hidden cases the judge computes them.

The modules, in the order they build on each other:

- `salting`: per-student hidden cases (`salted`, `case_seed`, `varied`);
- `item`: `Item`, `Failure`, `CheckFailed`, the stored visible answers and `items()`, every lesson's items;
- `collecting`: running one case where the student's code lives (`collect`);
- `feedback`: what a student reads (`describe_error`, `report`, `dependency_note`);
- `evaluation`: deciding one collected case (`evaluate`, `match_mistake`, `same_structure`);
- `visible`: `check`, what a notebook's visible test cell runs;
- `expectations`, `predictions`: helpers of the lesson modules (``batch_norm`` ... one per lesson).

This package re-exports their public names: released notebooks and nbgrader's stored test
cells import them from ``autograder.checks``. Importing it imports every
module above (the sandbox's zygote preloads them all); the lesson modules load on `items()`.
"""
from autograder.checks.collecting import CELL_FILENAME, call_inputs, collect, copy_inputs, error_record, worker_inputs
from autograder.checks.evaluation import (
                                          IN_PLACE_HINT,
                                          changed_inputs,
                                          evaluate,
                                          in_place,
                                          match_mistake,
                                          modified,
                                          same_structure,
)
from autograder.checks.expectations import expect_array, expect_close, expect_ndarray, expect_tuple
from autograder.checks.feedback import KNOWN_EXCEPTIONS, MESSAGE_COLUMNS, NAME, dependency_note, describe_error, report
from autograder.checks.item import (
                                          ANSWER,
                                          KNOWN,
                                          KNOWN_OUTPUTS,
                                          REGISTRY,
                                          CheckFailed,
                                          Failure,
                                          Item,
                                          decode_known,
                                          items,
                                          known_outputs,
)
from autograder.checks.predictions import TRENDS, prediction_item
from autograder.checks.salting import case_seed, salted, varied
from autograder.checks.visible import check, failed_dependencies, first_failure

__all__ = [
    "ANSWER", "CELL_FILENAME", "IN_PLACE_HINT", "KNOWN", "KNOWN_EXCEPTIONS", "KNOWN_OUTPUTS", "MESSAGE_COLUMNS", "NAME",
    "REGISTRY", "TRENDS", "CheckFailed", "Failure", "Item", "call_inputs", "case_seed", "changed_inputs", "check",
    "collect", "copy_inputs", "decode_known", "dependency_note", "describe_error", "error_record", "evaluate",
    "expect_array", "expect_close", "expect_ndarray", "expect_tuple", "failed_dependencies", "first_failure",
    "in_place", "items", "known_outputs", "match_mistake", "modified", "prediction_item", "report", "salted",
    "same_structure", "varied", "worker_inputs",
]
