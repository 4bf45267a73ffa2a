"""Per-student hidden cases (autograder/per_student.py): each student's own inputs, the same on
every run, and a correct submission still gets full marks."""
import hashlib
import json

import numpy as np
import pytest

from autograder import checks, cli, judge, per_student, receipt, wire
from autograder.course import ROOT
from tests.catalogue import build, catalogue

INIT, BN = "04_initialization", "02_batch_norm"
STUDENTS = {"ann": "correct", "ben": "correct", "cat": "correct-different"}
#: Per lesson with per-student cases from their case builders, items whose every hidden case varies per student.
PER_STUDENT_ITEMS = {
    "01_normalizing_inputs": ["mean_variance_values", "normalize_inputs_values", "normalize_splits_train_stats",
                              "hessian_values"],
    "02_batch_norm": ["bn_forward_normalizes", "bn_running_stats", "bn_inference", "bn_backward_gradient",
                      "ln_forward_normalizes", "ln_backward_gradient", "gn_forward_normalizes", "gn_backward_gradient"],
    "03_vanishing_gradients": ["deep_forward_values", "deep_backward_linear", "deep_backward_activations",
                               "identity_net_output_test", "layer_diagnostics_test"],
    "04_initialization": ["symmetry_distinct_units", "init_params_statistics"],
    "05_putting_it_together": ["usable_lr_largest", "usable_lr_diverged", "scale_invariance", "gradcheck_errors"],
}
#: The course's cases of every item (no secret) as they were before lessons 01, 03 and 05 got per-student
#: cases: a hash of each case's label and the inputs its builder makes (answers and reference-computed
#: inputs follow from them); items added since, their hashes when they were added. A deliberate change to a course case updates its hash here.
COURSE_CASES = {
    "bn_backward_contract": "2fae9071f0005736",
    "bn_backward_gradient": "e71f7b69106a481f",
    "bn_forward_contract": "7b2c3af9ab4cf843",
    "bn_forward_normalizes": "1f7620c677656d7f",
    "bn_inference": "6dc05b60af02ae08",
    "bn_running_stats": "0826c5774dbe5a9b",
    "conditioning_values": "9528fad24828e4a2",
    "deep_backward_activations": "0c60b1297161dc67",
    "deep_backward_contract": "7e681db1716d0f1d",
    "deep_backward_linear": "f72b24336ce6d93e",
    "deep_forward_contract": "c65350ccd1f245f2",
    "deep_forward_values": "9a440d225b1ae46c",
    "gradcheck_errors": "995b75e1306b0e25",
    "gn_backward_contract": "795bd10fe2523dff",
    "gn_backward_gradient": "b3fa43cc789e5463",
    "gn_forward_contract": "747218f07259cb58",
    "gn_forward_normalizes": "46c2eecc72a967f5",
    "hessian_values": "4d67a082cf8e938a",
    "identity_net_output_test": "5e77fddce71f1649",
    "init_params_shapes": "4839304222ac4bfa",
    "initial_loss_test": "890e088fed9965ff",
    "init_params_statistics": "5168a74673f3d276",
    "init_params_uses_rng": "61aff557cd286ee8",
    "init_std_fan_in": "4f1dc554a072c4f3",
    "init_std_fan_out": "ce2de448d0399b7b",
    "init_std_glorot": "37ccf6b3a4f7b07a",
    "init_std_leaky_relu": "2e43efa51842cba4",
    "init_std_simple": "8298b0f400765fa9",
    "layer_diagnostics_test": "425e170762fae700",
    "layer_gain_test": "b3bfc9cec32e27a4",
    "ln_backward_contract": "c69b4e4a37e4745f",
    "ln_backward_gradient": "d59e634ce0b7d7ce",
    "ln_forward_contract": "320687f79567d4d5",
    "ln_forward_normalizes": "ffc3ab34fb5080cc",
    "mean_variance_contract": "fa06ed73c57468a0",
    "mean_variance_values": "d217ab227fea5403",
    "normalize_inputs_contract": "a502121294c64e9f",
    "normalize_inputs_values": "60fac48fe75877f2",
    "normalize_splits_train_stats": "ae5c0601a0b8840b",
    "prediction_centering_test": "4128efe010a49211",
    "prediction_injected_noise_test": "4128efe010a49211",
    "prediction_leaky_he_test": "4128efe010a49211",
    "prediction_residual_gradient_test": "4128efe010a49211",
    "prediction_sigmoid_gradient_test": "4128efe010a49211",
    "prediction_smallest_usable_test": "4128efe010a49211",
    "scale_invariance": "64ad1513ea7ffe67",
    "symmetry_distinct_units": "1d7796117897928c",
    "usable_lr_diverged": "ece25624fc774583",
    "usable_lr_largest": "440e31d426994feb",
}


def hidden_inputs(grade_id, salt):
    return [wire.encode(case.inputs) for case in judge.cases(grade_id, salt) if case.hidden]


def visible_inputs(grade_id, salt):
    return [wire.encode(case.inputs) for case in judge.cases(grade_id, salt) if not case.hidden]


def form(value):
    """A decoded result's types and array shapes, without its values."""
    if isinstance(value, (tuple, list)):
        return type(value).__name__, [form(v) for v in value]
    if isinstance(value, dict):
        return {k: form(v) for k, v in value.items()}
    return np.shape(value) if isinstance(value, np.ndarray) else type(value).__name__


def course_cases_digest(grade_id):
    item = checks.items()[grade_id]
    derived = set(item.answers) | set(item.reference_inputs)
    cases = [[case.label, case.hidden, wire.encode({k: v for k, v in case.inputs.items() if k not in derived})]
             for case in judge.cases(grade_id)]
    return hashlib.sha256(json.dumps(cases, sort_keys=True).encode()).hexdigest()[:16]


def test_without_a_secret_every_item_keeps_the_course_cases():
    assert {gid: course_cases_digest(gid) for gid in sorted(checks.items())} == COURSE_CASES


@pytest.mark.parametrize("grade_id", [gid for items in PER_STUDENT_ITEMS.values() for gid in items])
def test_students_get_their_own_hidden_inputs_and_the_same_visible_ones(grade_id):
    ann, ben = (per_student.salt(b"s3cret", s, grade_id) for s in ("ann", "ben"))
    assert ann != ben and ann == per_student.salt(b"s3cret", "ann", grade_id)
    assert all(a != b for a, b in zip(hidden_inputs(grade_id, ann), hidden_inputs(grade_id, ben), strict=True))
    assert all(a != c for a, c in zip(hidden_inputs(grade_id, ann), hidden_inputs(grade_id, None), strict=True))
    assert visible_inputs(grade_id, ann) == visible_inputs(grade_id, ben) == visible_inputs(grade_id, None)
    # rebuilt from scratch, not from the cache: the same secret gives the same cases
    first = hidden_inputs(grade_id, ann)
    judge.cases.cache_clear()
    judge.expected.cache_clear()
    assert hidden_inputs(grade_id, ann) == first
    assert ({k: form(e) for k, e in judge.expected(grade_id, ann).items()}
            == {k: form(e) for k, e in judge.expected(grade_id).items()})


def write_class(folder):
    variants = {v.name: v for v in catalogue()[INIT]}
    for student, variant in STUDENTS.items():
        (folder / student / INIT).mkdir(parents=True)
        (folder / student / INIT / "lesson.ipynb").write_bytes(build(INIT, variants[variant]))


def test_grading_with_a_secret_is_per_student_deterministic_and_fair(tmp_path):
    write_class(tmp_path / "class")
    secret = tmp_path / "secret"
    secret.write_text("a course secret\n")

    def grade(out, *extra):
        status = cli.grade(tmp_path / "class", tmp_path / out, 2, "", quiet=True, secret_file=secret, force=True)
        return status, receipt.load(tmp_path / out)
    status, first = grade("one")
    assert status == 0
    for (student, _), r in first.items():  # correct submissions keep full marks on their own cases
        assert r["raw_score"] == r["max_score"] > 0, (student, [i["message"] for i in r["items"] if not i["passed"]])
        assert r["options"]["per_student_cases"]
    cases = {student: r["judge_cases"] for (student, _), r in first.items()}
    assert cases["ann"]["symmetry_distinct_units"] != cases["ben"]["symmetry_distinct_units"]
    judge.cases.cache_clear()
    judge.expected.cache_clear()
    _, second = grade("two")
    assert {s: r["judge_cases"] for (s, _), r in second.items()} == cases  # a regrade: the same cases


def test_a_correct_submission_of_each_newer_lesson_keeps_full_marks_on_its_own_cases(tmp_path):
    lessons = ["01_normalizing_inputs", "03_vanishing_gradients", "05_putting_it_together"]
    for lesson in lessons:
        variant = {v.name: v for v in catalogue()[lesson]}["correct-different"]
        (tmp_path / "class" / "dan" / lesson).mkdir(parents=True)
        (tmp_path / "class" / "dan" / lesson / "lesson.ipynb").write_bytes(build(lesson, variant))
    secret = tmp_path / "secret"
    secret.write_text("a course secret\n")
    status = cli.grade(tmp_path / "class", tmp_path / "out", 2, "", quiet=True, secret_file=secret, force=True)
    graded = receipt.load(tmp_path / "out")
    assert status == 0 and sorted(lesson for _, lesson in graded) == lessons
    for (_, lesson), r in graded.items():
        assert r["raw_score"] == r["max_score"] > 0, (lesson, [i["message"] for i in r["items"] if not i["passed"]])
        for grade_id in PER_STUDENT_ITEMS[lesson]:  # graded on the student's own cases, not the course's
            assert r["judge_cases"][grade_id] != receipt.case_digest(grade_id), grade_id


@pytest.mark.parametrize("grade_id", ["usable_lr_largest", "usable_lr_diverged"])  # the moved sweeps
def test_a_students_sweeps_fail_exactly_the_mistakes_the_course_sweeps_fail(grade_id):
    """Lesson 05's per-student cases are moved copies of the course's: fair only if each known
    mistake gets the same verdict on each of them."""
    mistakes = judge.private_mistakes(grade_id)

    def verdicts(salt):
        return [[wrong(**{k: case.inputs[k] for k in ("rates", "histories", "target")}) == case.inputs[checks.ANSWER]
                 for wrong in mistakes.values()] for case in judge.cases(grade_id, salt) if case.hidden]
    course = verdicts(None)
    assert any(not ok for case in course for ok in case)  # the check can fail
    for student in ("ann", "ben", "cat", "dan"):
        assert verdicts(per_student.salt(b"s3cret", student, grade_id)) == course, student


def test_secret_inside_the_course_tree_is_refused(tmp_path, capsys):
    (tmp_path / "class").mkdir()
    status = cli.grade(tmp_path / "class", tmp_path / "out", 2, "", quiet=True,
                       secret_file=ROOT / "autograder" / "secret.txt")
    assert status == 2 and "inside the course tree" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
