"""Per-student hidden cases (autograder/per_student.py): each student's own inputs, the same on
every run, and a correct submission still gets full marks."""
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
#: The course's cases of every item (no secret): each item's `receipt.case_fingerprint` (its exact part's hash,
#: shortened, and its values to 12 digits), compared with the fingerprint's tolerance, never bit for bit: lessons
#: 01 and 05 build cases with np.linalg.qr and @, whose last bits depend on the BLAS kernel. Taken when the exact
#: hashes this replaced (pinned before lessons 01, 03 and 05 got per-student cases, and as items were added)
#: still held on the machine they were taken on. A deliberate change to a course case updates its row here
#: (the failure prints the new rows).
COURSE_CASES = {
    "bn_backward_contract": ("39f209bbb3e85643", [-3.97815615091, 1.21134531173, -0.813589023597, 1.99190454615, 2.68806379355, -3.63679330001, 4.61649307702, -3.84965869144]),
    "bn_backward_gradient": ("92eb3d1589d93ad4", [-8.3656010091, -1.12774274387, -0.489107247209, 5.47559804156, -6.2992644601, -16.3435689362, -1.85169542576, -15.058585137]),
    "bn_forward_contract": ("c4c0046a695903eb", [-2.86050455259, 1.60791174999, -3.15499414865, 1.64080478035, 2.13148697406, 11.5549376527, 2.57612801555, -2.1341586055]),
    "bn_forward_normalizes": ("afbf6b4e2f35e400", [0.0812732392001, 2.46140980067, -2.1340097613, 1.04643859726, -5.32997288725, -4.47813580713, 7.84700110772, -17.2007736423]),
    "bn_inference": ("b4165459f1a2eebf", [-8.86758527613, 9.72973859522, -4.6131849139, 4.89394673821, 17.422420917, -0.316000821024, -0.625415102514, 5.99797887197]),
    "bn_running_stats": ("271748736c31d4fa", [9.2925259815, -4.30623253357, 6.20797067935, 3.12508487521, -4.91739387595, -8.92978589141, 16.5455411398, -0.0382350593253]),
    "conditioning_values": ("f12919914d80ec85", [0.0813282854807, -4.96583818028, 0.493949471177, -0.159750265794, -1.65282072741, -1.44776649859, 8.38653378048, -13.120598538]),
    "deep_backward_activations": ("65cd595ab013692e", [1.77356397291, 0.48533428457, 3.72846235005, 4.97393008647, -9.51684283531, -17.0925083324, -12.3466377319, 4.00712043901]),
    "deep_backward_contract": ("ce80b2efe0f9d9f1", [1.02165001433, -3.70255469652, 1.49939241392, 3.59296795835, -12.704838683, -7.09512861049, 1.36626139752, -3.89397590887]),
    "deep_backward_linear": ("789cb51977374499", [-8.04432064619, 9.15802439534, 4.81473458707, -7.40468642928, 7.41442432948, -3.13169595842, -1.65577978061, -15.9705748268]),
    "deep_forward_contract": ("18995cd93fd7c58e", [-0.618798238317, 0.529405941176, -7.62784297924, -0.167509631387, 0.201970406687, 7.71463827574, -10.0294045256, -9.59931309551]),
    "deep_forward_values": ("2f4a1114c00f99af", [3.45926745246, -2.13177957871, -7.25905450638, 1.78279700838, -14.3760168642, 6.15814065813, -27.1112048334, -20.3399306033]),
    "gradcheck_errors": ("95bc3c81598c3828", [2.16002157361, -3.86226826207, 3.05864218384, -2.90790638643, -30.6701749566, -20.6708651757, -6.58110269431, -8.96168166227]),
    "hessian_values": ("52a2a33d0e8c300a", [-1.49743188265, 3.08711222507, -2.11772194074, 1.07706318563, 1.88123941642, -10.6695543506, 16.319829209, -7.04359540526]),
    "identity_net_output_test": ("b06c19058bf01796", [-0.288318079689, 0.666995393018, -1.26987424281, 3.08123811037, -0.219854613063, 2.30137825147, -3.05373073848, 4.28603744183]),
    "init_params_shapes": ("d15d9f69419d2651", [-0.592410860894, -2.97975293685, -1.99596560601, 1.92872501844, -1.63037930498, -19.3537481303, 0.868561101391, -4.51855591184]),
    "init_params_statistics": ("e9a3445383915697", [1.0295739135, -6.48195690612, 2.48425470439, 5.40747091293, -1.22398185422, -19.7566189301, 16.6891192049, -8.9057254484]),
    "init_params_uses_rng": ("d239935c426d80fd", [0.834191748059, -1.73789651989, 0.322924624454, 1.08726229738, -0.393175221034, -10.8661467189, 1.89902458731, -0.902786639184]),
    "init_std_fan_in": ("c2fb06e2f0e13957", [-0.245049092233, -5.31760909281, -2.33482343898, 1.24563619913, -3.06836491227, -20.3984557056, 15.2686537168, -9.32276978926]),
    "init_std_fan_out": ("e4a2ebd2776dfafa", [0.0746187515298, -7.3275415163, -0.0475397146044, 3.34048513709, 3.30766408181, -22.1869923091, -0.761070938342, -9.85549854754]),
    "init_std_glorot": ("472bb28f8a4f4fce", [0.869042843708, -2.89477108166, -2.90975469391, 3.06858719669, -4.188153351, -18.7360318952, 3.09481439, -13.0103334454]),
    "init_std_leaky_relu": ("015cb82dce9d4574", [1.17643927107, -6.20012058595, 1.98814371073, 4.20214601872, -12.7239404969, -3.8549627782, 1.71135135705, -20.4239801852]),
    "init_std_simple": ("dcba5be4641ae226", [-0.716492393989, -5.76679769341, -0.6088701186, 1.54295458679, -1.48372243754, -7.02629096174, 13.2651035533, -17.571617203]),
    "layer_gain_test": ("fa90c4444c2dcb3d", [-0.245049092233, -5.31760909281, -2.33482343898, 1.24563619913, -2.53439400832, -10.3055712434, -1.59029877842, 2.45085188463]),
    "ln_backward_contract": ("03b7f935411ab526", [2.07186233859, -1.9005867092, -2.22049842943, 2.77852000117, -4.46014696203, 6.04423457222, 19.9852216367, -5.80292198439]),
    "ln_backward_gradient": ("2dfa53d2c0dc27e2", [1.20732986558, -5.50828367921, 1.7798234665, 8.12004616502, -8.677025024, 9.87726932701, 7.92060333597, -3.72867784791]),
    "ln_forward_contract": ("09f3222644059a89", [-1.36660932648, 3.37974145732, 4.41897453965, -5.0802694769, 3.54316501716, -2.17714904652, 3.54304760737, -3.51965426645]),
    "ln_forward_normalizes": ("86045a45c7a9cddf", [-0.403702755911, -3.92141120474, 5.08070793033, 3.05914107562, -6.65201180025, -10.7021881519, 12.6616851734, -27.5724491339]),
    "mean_variance_contract": ("008f7d7c1d89b435", [-0.304702207394, -1.17273701535, -2.90133263213, 0.32286030529, -7.0577862513, -5.89216259684, 11.1105244573, 8.59485125374]),
    "mean_variance_values": ("d603975b8ddacda9", [-0.916386295931, 1.7150980939, -2.89562391896, 1.82284556171, -28.5646379961, 0.73832272962, 1.9698020248, 6.71714961526]),
    "normalize_inputs_contract": ("b29d307ddbad290e", [3.32504239187, 0.286345964948, 1.92941563801, 2.2476490255, -18.4787480625, 30.5082579543, 60.9029893673, -72.0308517672]),
    "normalize_inputs_values": ("75ff43ef3314690d", [1.23311281752, 3.83579003889, 3.15724627733, 5.17401028501, -3.83042298054, 20.7654010474, 19.7728097893, -109.670629032]),
    "normalize_splits_train_stats": ("e6d8a384724d210c", [1.70422264231, -4.53918654276, 1.14823327732, 2.40164842364, -44.9330437189, 74.3453324483, 9.83083320632, -119.520678747]),
    "prediction_centering_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "prediction_injected_noise_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "prediction_leaky_he_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "prediction_residual_gradient_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "prediction_sigmoid_gradient_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "prediction_smallest_usable_test": ("8d30a1d4a2ff33ea", [0, 0, 0, 0, 0, 0, 0, 0]),
    "scale_invariance": ("a8aa0e9fe1ca4a0b", [-3.0322668503, 1.44725141356, -9.92852412434, 2.39246523055, -14.9876460262, 2.52117280417, -63.1473389829, -63.5259333691]),
    "symmetry_distinct_units": ("ad0f67932f3d583e", [1.87415013053, 0.978259974741, -1.19722692449, 0.782290251238, 5.89215990357, -12.2477243132, 12.0524057243, -8.7722312427]),
    "usable_lr_diverged": ("104eed2c27a78aa0", [-7.12928313366, -26.9973775684, -10.1131087061, 14.5085282109, -4.11281594447, -6.5810247436, -18.2527968943, -28.5209644047]),
    "usable_lr_largest": ("d51862051a205654", [-6.60993780847, -29.5202094881, -6.34081074088, 10.1670332485, 30.5485389729, 4.72958727256, -15.9743565567, 0.834983621949]),
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
    assert not receipt.same_cases(cases["ann"]["symmetry_distinct_units"], cases["ben"]["symmetry_distinct_units"])
    judge.cases.cache_clear()
    judge.expected.cache_clear()
    _, second = grade("two")
    again = {s: r["judge_cases"] for (s, _), r in second.items()}  # a regrade: the same cases
    assert again.keys() == cases.keys() and all(
        again[s].keys() == cases[s].keys() and all(receipt.same_cases(again[s][g], cases[s][g]) for g in cases[s])
        for s in cases)


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
    status = cli.grade(tmp_path / "class", tmp_path / "out", 2, "", quiet=True,
                       secret_file=ROOT / "autograder" / "secret.txt")
    assert status == 2 and "inside the course tree" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
