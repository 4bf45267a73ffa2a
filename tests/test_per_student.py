"""Per-student hidden cases (autograder/per_student.py): each student's own inputs, the same on
every run, and a correct submission still gets full marks."""
import numpy as np
import pytest

from autograder import cli, judge, per_student, receipt, wire
from autograder.course import ROOT
from tests.catalogue import build, catalogue

INIT, BN = "04_initialization", "02_batch_norm"
STUDENTS = {"ann": "correct", "ben": "correct", "cat": "correct-different"}


def hidden_inputs(grade_id, salt):
    return [wire.encode(case.inputs) for case in judge.cases(grade_id, salt) if case.hidden]


def visible_inputs(grade_id, salt):
    return [wire.encode(case.inputs) for case in judge.cases(grade_id, salt) if not case.hidden]


@pytest.mark.parametrize("grade_id", ["symmetry_distinct_units", "init_params_statistics", "bn_forward_normalizes",
                                      "bn_running_stats", "bn_inference", "bn_backward_gradient"])
def test_students_get_their_own_hidden_inputs_and_the_same_visible_ones(grade_id):
    ann, ben = (per_student.salt(b"s3cret", s, grade_id) for s in ("ann", "ben"))
    assert ann != ben and ann == per_student.salt(b"s3cret", "ann", grade_id)
    assert hidden_inputs(grade_id, ann) != hidden_inputs(grade_id, ben)
    assert hidden_inputs(grade_id, ann) != hidden_inputs(grade_id, None)
    assert visible_inputs(grade_id, ann) == visible_inputs(grade_id, ben) == visible_inputs(grade_id, None)
    # rebuilt from scratch, not from the cache: the same secret gives the same cases
    first = hidden_inputs(grade_id, ann)
    judge.cases.cache_clear()
    judge.expected.cache_clear()
    assert hidden_inputs(grade_id, ann) == first
    assert ({k: np.shape(e) for k, e in judge.expected(grade_id, ann).items()}
            == {k: np.shape(e) for k, e in judge.expected(grade_id).items()})


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


def test_secret_inside_the_course_tree_is_refused(tmp_path, capsys):
    (tmp_path / "class").mkdir()
    status = cli.grade(tmp_path / "class", tmp_path / "out", 2, "", quiet=True,
                       secret_file=ROOT / "autograder" / "secret.txt")
    assert status == 2 and "inside the course tree" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
