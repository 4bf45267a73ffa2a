"""Per-student hidden cases (autograder/grading/per_student.py): each student's own inputs, the same on
every run, and a correct submission still gets full marks."""
import numpy as np
import pytest

from autograder import checks, cli, judge
from autograder.authoring.catalogue import build, catalogue
from autograder.grading import per_student, receipt
from autograder.grading.options import Options
from autograder.worker import wire
from autograder.worker.course import ROOT

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
#: The course's cases of every item (no secret): each item's `receipt.case_fingerprint` (its exact part's hash,
#: shortened, and its values to 12 digits), compared with the fingerprint's tolerance, never bit for bit: lessons
#: 01 and 05 build cases with np.linalg.qr and @, whose last bits depend on the BLAS kernel. Taken when the exact
#: hashes this replaced (pinned before lessons 01, 03 and 05 got per-student cases, and as items were added)
#: still held on the machine they were taken on. A deliberate change to a course case updates its row here
#: (the failure prints the new rows).
COURSE_CASES = {
    "bn_backward_contract": ("7b1223e45a7878dc", [-4.78366474111, 7.42823042608, -0.777926054888, 4.82012356737, 5.48720884028, 1.39474729877, -1.99172666346, -11.3080806298]),
    "bn_backward_gradient": ("eef9931f6fcc1ca2", [-6.61520843556, 4.81247511475, -2.49267501148, 5.81564853444, -0.56202732944, -1.12124835567, -7.79867133481, -4.97343043349]),
    "bn_forward_contract": ("3fe9a46d4205786b", [-5.84298840574, 6.05817912394, -0.108710717583, -0.908202120928, -7.90166678132, 9.46043246959, -0.506236747812, 0.7246128085]),
    "bn_forward_normalizes": ("eb06106ebdda106c", [-5.66628272933, 2.50045748261, -1.44514805194, -1.76161505287, -13.8344600281, 20.7135758925, 5.99294257099, 3.29777717612]),
    "bn_inference": ("32e63b79b930ca84", [-6.22561677815, 13.9906622596, 6.7040946494, 4.84660315139, 46.737620258, 6.17879744279, -33.4084682976, -39.244313115]),
    "bn_running_stats": ("88d3a3a4af3e2040", [1.98120174213, 3.54841348649, -2.36707680999, -2.79751551092, -14.9721089643, 9.58853604149, -2.04988241731, 5.36143837031]),
    "conditioning_values": ("f12919914d80ec85", [0.0813282854807, -4.96583818028, 0.493949471177, -0.159750265794, -1.65282072741, -1.44776649859, 8.38653378048, -13.120598538]),
    "deep_backward_activations": ("c8ee5d31a812b11b", [-5.60885032782, -5.19585327043, 8.06859131362, 1.26344100881, -21.4726592467, -9.25073152706, -17.0488632973, -5.68726853171]),
    "deep_backward_contract": ("ce80b2efe0f9d9f1", [1.02165001433, -3.70255469652, 1.49939241392, 3.59296795835, -12.704838683, -7.09512861049, 1.36626139752, -3.89397590887]),
    "deep_backward_linear": ("789cb51977374499", [-8.04432064619, 9.15802439534, 4.81473458707, -7.40468642928, 7.41442432948, -3.13169595842, -1.65577978061, -15.9705748268]),
    "deep_forward_contract": ("18995cd93fd7c58e", [-0.618798238317, 0.529405941176, -7.62784297924, -0.167509631387, 0.201970406687, 7.71463827574, -10.0294045256, -9.59931309551]),
    "deep_forward_values": ("2f4a1114c00f99af", [3.45926745246, -2.13177957871, -7.25905450638, 1.78279700838, -14.3760168642, 6.15814065813, -27.1112048334, -20.3399306033]),
    "gn_backward_contract": ("8986dadf77044b25", [-2.66380660091, -7.2321445919, -1.77688356704, 4.35055217612, -0.905179171001, 1.90619249528, -0.183186696097, -10.230763781]),
    "gn_backward_gradient": ("b8f176a48b0a15b9", [-1.00961662001, -10.6924415856, -6.97066979611, 11.2601583785, -2.89430497619, -4.41679805051, 13.1665818289, -9.15443203154]),
    "gn_forward_contract": ("79101f513f248648", [1.00432589319, 0.67983124169, 0.039698392183, 2.78189473255, -6.32896525508, -5.11993755764, -14.5187086143, -8.26391145355]),
    "gn_forward_normalizes": ("9a5901493518b5ad", [-0.52998697449, 5.83718028936, -0.196309957675, 9.19303481357, -20.8713972156, -17.6585652612, -30.9586373124, 8.90154247297]),
    "gradcheck_errors": ("cf86085302537bb8", [2.18728218306, -4.7589062204, 0.566256691409, 2.14343328754, 11.0863793609, -59.9036994192, -38.3159264692, 14.6796611202]),
    "hessian_values": ("8aa440c3eb5ef776", [-0.895223720173, -0.995892550202, -2.92342865113, -2.15176407483, -8.49534885495, -5.29015236265, 12.8549975699, 2.97757935986]),
    "identity_net_output_test": ("b37919359d0f8d5b", [4.60915050536, 8.3230213335, -1.58185680844, -1.35289571663, 0.0279212425975, 1.63324077872, 5.76099900351, -0.839734929974]),
    "init_params_shapes": ("d15d9f69419d2651", [-0.592410860894, -2.97975293685, -1.99596560601, 1.92872501844, -1.63037930498, -19.3537481303, 0.868561101391, -4.51855591184]),
    "init_params_statistics": ("e9a3445383915697", [1.0295739135, -6.48195690612, 2.48425470439, 5.40747091293, -1.22398185422, -19.7566189301, 16.6891192049, -8.9057254484]),
    "init_params_uses_rng": ("d239935c426d80fd", [0.834191748059, -1.73789651989, 0.322924624454, 1.08726229738, -0.393175221034, -10.8661467189, 1.89902458731, -0.902786639184]),
    "init_std_fan_in": ("21afad12fcb7a2eb", [-0.716492393989, -5.76679769341, -0.6088701186, 1.54295458679, -2.17309849279, -11.6092014025, 10.7604250514, -16.111208393]),
    "init_std_fan_out": ("e4a2ebd2776dfafa", [0.0746187515298, -7.3275415163, -0.0475397146044, 3.34048513709, 3.30766408181, -22.1869923091, -0.761070938342, -9.85549854754]),
    "init_std_glorot": ("190499911008a113", [-0.592410860894, -2.97975293685, -1.99596560601, 1.92872501844, -0.0154749967695, -20.178808273, 4.93375907896, -6.468035647]),
    "init_std_leaky_relu": ("c1ca310ad01c640c", [0.40272704637, -6.67168988775, 2.2354622598, 4.83330485697, -13.598864511, -13.2777385524, -7.25449573166, -18.670558478]),
    "init_std_simple": ("dcba5be4641ae226", [-0.716492393989, -5.76679769341, -0.6088701186, 1.54295458679, -1.48372243754, -7.02629096174, 13.2651035533, -17.571617203]),
    "initial_loss_test": ("7b9212a372b764a9", [0, 0, 0, 0, 0, 0, 0, 0]),
    "layer_diagnostics_test": ("53be6eafbc675179", [-0.865527019391, 4.08931113397, 5.03353566525, -6.94631645798, -9.64446025125, -45.3736932502, 27.9889612166, -1.55709253325]),
    "layer_gain_test": ("fa90c4444c2dcb3d", [-0.245049092233, -5.31760909281, -2.33482343898, 1.24563619913, -2.53439400832, -10.3055712434, -1.59029877842, 2.45085188463]),
    "ln_backward_contract": ("03b7f935411ab526", [2.07186233859, -1.9005867092, -2.22049842943, 2.77852000117, -4.46014696203, 6.04423457222, 19.9852216367, -5.80292198439]),
    "ln_backward_gradient": ("1d44f069ca8038e8", [5.41469461055, -3.78985402663, -0.719047892538, 6.29315183698, -3.29410251204, -0.473645991777, 10.0004931102, -9.04054930091]),
    "ln_forward_contract": ("b076b7181532e4cd", [-4.69552983731, 1.86871428474, 6.17492870454, -0.176028820951, -6.26172081422, -16.0546366536, 8.71688148653, -3.35685538882]),
    "ln_forward_normalizes": ("feb93aff2b8241e5", [-0.595164548428, -10.452325274, -1.28121690217, -5.03054316456, 2.38672848454, 5.69835748874, 18.3812167338, 6.14639704498]),
    "mean_variance_contract": ("aea1a0b6576403e7", [-2.55366996016, -0.176459595295, -3.00950214173, 2.96003749657, -2.91883107321, -0.433135963915, 12.4100445692, 6.46262060276]),
    "mean_variance_values": ("24a22306bd092fba", [-3.49409231902, 1.86953056975, -2.53251480783, -1.63041752983, -8.3057705042, -24.7507892612, 21.6742844268, 28.8341962704]),
    "normalize_inputs_contract": ("b29d307ddbad290e", [3.32504239187, 0.286345964948, 1.92941563801, 2.2476490255, -18.4787480625, 30.5082579543, 60.9029893673, -72.0308517672]),
    "normalize_inputs_values": ("75ff43ef3314690d", [1.23311281752, 3.83579003889, 3.15724627733, 5.17401028501, -3.83042298054, 20.7654010474, 19.7728097893, -109.670629032]),
    "normalize_splits_train_stats": ("e6d8a384724d210c", [1.70422264231, -4.53918654276, 1.14823327732, 2.40164842364, -44.9330437189, 74.3453324483, 9.83083320632, -119.520678747]),
    "prediction_centering_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "prediction_injected_noise_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "prediction_leaky_he_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "prediction_residual_gradient_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "prediction_sigmoid_gradient_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "prediction_smallest_usable_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "scale_invariance": ("65f8f5778d13ca3e", [0.894168256584, -11.6463224745, -11.2502537705, 0.80827531196, -1.98995947375, -18.5499357394, -63.3422978046, -38.9920898561]),
    "symmetry_distinct_units": ("7377a4fb2c970415", [-2.18577168047, -1.03594444267, -1.77825123515, 1.35307046826, -4.38340562162, -0.99074463048, 11.100355673, -10.3560706998]),
    "usable_lr_diverged": ("b142d2dcb0c461fc", [-9.6004854943, -24.7046676378, -5.81397760382, 9.12324185833, -18.3031953482, 0.175005077791, -28.5165185911, -17.1418044657]),
    "usable_lr_largest": ("be1b5a24ea801d67", [-10.7998948542, -35.6732799745, -0.394725833244, 9.34172567156, 12.4815829217, -1.26870025081, -21.887673605, -11.3206378126]),
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


def course_case_row(grade_id):
    fingerprint = receipt.case_fingerprint(grade_id)
    return fingerprint["exact"][:16], [float(format(v, ".12g")) for v in fingerprint["values"]]


def same_row(row, stored):
    return row[0] == stored[0] and np.allclose(row[1], stored[1], rtol=0, atol=receipt.CASE_TOLERANCE)


def test_without_a_secret_every_item_keeps_the_course_cases():
    rows = {gid: course_case_row(gid) for gid in sorted(checks.items())}
    changed = {gid: row for gid, row in rows.items() if gid not in COURSE_CASES or not same_row(row, COURSE_CASES[gid])}
    assert not changed and rows.keys() == COURSE_CASES.keys(), "changed course cases, now:\n" + "\n".join(
        f'    "{gid}": ("{e}", [{", ".join(format(v, ".12g") for v in values)}]),' for gid, (e, values) in changed.items())


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


@pytest.mark.slow
def test_grading_with_a_secret_is_per_student_deterministic_and_fair(tmp_path):
    write_class(tmp_path / "class")
    secret = tmp_path / "secret"
    secret.write_text("a course secret\n")

    def grade(out, *extra):
        status = cli.grade(tmp_path / "class", Options(out=tmp_path / out, workers=2, db="", quiet=True,
                                                    per_student_secret=secret, force=True))
        return status, receipt.load(tmp_path / out)
    status, first = grade("one")
    assert status == 0
    for (student, _), r in first.items():  # correct submissions keep full marks on their own cases
        assert r["raw_score"] == r["max_score"] > 0, (student, [i["message"] for i in r["items"] if not i["passed"]])
        assert r["options"]["per_student_cases"]
    cases = {student: r["judge_cases"] for (student, _), r in first.items()}
    assert not receipt.same_cases(cases["ann"]["symmetry_distinct_units"], cases["ben"]["symmetry_distinct_units"])
    judge.cases.cache_clear()
    judge.expected.cache_clear()
    _, second = grade("two")
    again = {s: r["judge_cases"] for (s, _), r in second.items()}  # a regrade: the same cases
    assert again.keys() == cases.keys() and all(
        again[s].keys() == cases[s].keys() and all(receipt.same_cases(again[s][g], cases[s][g]) for g in cases[s])
        for s in cases)


@pytest.mark.slow
def test_a_correct_submission_of_each_newer_lesson_keeps_full_marks_on_its_own_cases(tmp_path):
    lessons = ["01_normalizing_inputs", "03_vanishing_gradients", "05_putting_it_together"]
    for lesson in lessons:
        variant = {v.name: v for v in catalogue()[lesson]}["correct-different"]
        (tmp_path / "class" / "dan" / lesson).mkdir(parents=True)
        (tmp_path / "class" / "dan" / lesson / "lesson.ipynb").write_bytes(build(lesson, variant))
    secret = tmp_path / "secret"
    secret.write_text("a course secret\n")
    status = cli.grade(tmp_path / "class", Options(out=tmp_path / "out", workers=2, db="", quiet=True,
                                                per_student_secret=secret, force=True))
    graded = receipt.load(tmp_path / "out")
    assert status == 0 and sorted(lesson for _, lesson in graded) == lessons
    for (_, lesson), r in graded.items():
        assert r["raw_score"] == r["max_score"] > 0, (lesson, [i["message"] for i in r["items"] if not i["passed"]])
        for grade_id in PER_STUDENT_ITEMS[lesson]:  # graded on the student's own cases, not the course's
            assert not receipt.same_cases(r["judge_cases"][grade_id], receipt.case_fingerprint(grade_id)), grade_id


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
    status = cli.grade(tmp_path / "class", Options(out=tmp_path / "out", workers=2, db="", quiet=True,
                                                per_student_secret=ROOT / "autograder" / "secret.txt"))
    assert status == 2 and "inside the course tree" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
