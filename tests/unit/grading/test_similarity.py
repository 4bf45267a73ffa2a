"""The similarity report (autograder/grading/similarity.py): a disguised copy stands out of an honest class."""
import pytest

from autograder import cli
from autograder.authoring.catalogue import Variant, build
from autograder.authoring.catalogue.initialization import COUNT_PAIRWISE, PARAMS_OTHER_ORDER, STD_BRANCHES
from autograder.authoring.sample_class import write_class
from autograder.grading import similarity
from autograder.grading.options import Options

INIT = "04_initialization"
ORIGINAL = "correct-different"  # the sample class's student whose lesson 04 answers are copied

# ORIGINAL's answers (autograder/authoring/catalogue/initialization.py), disguised by hand: variables renamed, independent
# lines reordered, comments and docstrings changed
DISGUISED = {
    "init_std": STD_BRANCHES.replace('"""Branch by branch, with math.sqrt: different from the reference, still right."""',
                                     "# one formula per method").replace("  # a numpy float64 is a float too", ""),
    "initialize_parameters": '''def initialize_parameters(layer_dims, method, rng, scale=0.01):
    weights = {}  # filled below
    n_layers = len(layer_dims) - 1
    draws = [rng.standard_normal((layer_dims[k - 1], layer_dims[k])).T for k in range(1, n_layers + 1)]
    for k, M in enumerate(draws, start=1):
        weights["b" + str(k)] = np.zeros((layer_dims[k], 1), dtype=float)
        weights["W" + str(k)] = M * init_std(method, layer_dims[k - 1], layer_dims[k], scale)
    return weights
''',
    "count_distinct_units": '''def count_distinct_units(W, tol=1e-8):
    # compare every row with every other
    near = np.abs(W[:, None, :] - W[None, :, :]).max(axis=2) <= tol
    return int(sum(1 for r in range(W.shape[0]) if not near[r, :r].any()))
''',
}


def test_disguise_changes_the_text_but_not_the_statements():
    originals = {"init_std": STD_BRANCHES, "initialize_parameters": PARAMS_OTHER_ORDER,
                 "count_distinct_units": COUNT_PAIRWISE}
    keep = {"init_std", "initialize_parameters", "count_distinct_units"}
    for cell, source in originals.items():
        assert DISGUISED[cell] != source
        fingerprints = sorted(s.fingerprint for s in similarity.statements(source, keep))
        assert fingerprints and fingerprints == sorted(s.fingerprint for s in similarity.statements(DISGUISED[cell], keep))
    # a changed statement is a changed fingerprint: the normalisation does not blur everything together
    assert similarity.statements("y = x + 1\n") != similarity.statements("y = x - 1\n")
    assert similarity.statements("y = f(x)\nz = y\n") != similarity.statements("y = f(x)\nz = x\n")


@pytest.mark.slow
def test_planted_disguised_copy_ranks_above_every_honest_pair(tmp_path):
    write_class(tmp_path / "class")
    (tmp_path / "class" / "copycat" / INIT).mkdir(parents=True)
    (tmp_path / "class" / "copycat" / INIT / "lesson.ipynb").write_bytes(build(INIT, Variant("c", answers=DISGUISED)))
    assert cli.main(["similarity", str(tmp_path / "class"), "--out", str(tmp_path / "similarity.html")]) == 0
    pairs, left_out = similarity.rank(tmp_path / "class")
    assert left_out == []
    planted = [p for p in pairs if {p.a.student, p.b.student} == {ORIGINAL, "copycat"}]
    honest = [p for p in pairs if "copycat" not in (p.a.student, p.b.student)]
    assert len(planted) == 1 and len(honest) > 500
    assert pairs[0] is planted[0] and planted[0].score > 0.9
    assert planted[0].score > max(p.score for p in honest) + 0.3
    page = (tmp_path / "similarity.html").read_text()
    assert f"copycat</td><td>{ORIGINAL}" in page and "near[r, :r].any()" in page


def test_starter_and_master_code_count_for_nothing(tmp_path):
    for student in ("ann", "ben"):  # two students who hand in the master's answers: nothing uncommon shared
        (tmp_path / student / INIT).mkdir(parents=True)
        (tmp_path / student / INIT / "lesson.ipynb").write_bytes(build(INIT, Variant("v")))
    (tmp_path / "cat" / INIT).mkdir(parents=True)  # and one who hands in the starter code
    (tmp_path / "cat" / INIT / "lesson.ipynb").write_bytes(build(INIT, Variant("u", untouched=True)))
    assert [p.score for p in similarity.rank(tmp_path)[0]] == [0.0, 0.0, 0.0]


def test_page_is_inert(tmp_path):
    hostile = "<img src=x onerror=alert(1)>"  # a folder name: no slash
    for student in (hostile, "ben"):
        (tmp_path / student / INIT).mkdir(parents=True)
        (tmp_path / student / INIT / "lesson.ipynb").write_bytes(build(INIT, Variant("v", answers={
            "count_distinct_units": DISGUISED["count_distinct_units"] + f"    # </pre>{hostile}\n"})))
    (tmp_path / "cat" / INIT).mkdir(parents=True)  # a third student: code two of three share is uncommon
    (tmp_path / "cat" / INIT / "lesson.ipynb").write_bytes(build(INIT, Variant("v")))
    similarity.write(tmp_path, tmp_path / "similarity.html")
    page = (tmp_path / "similarity.html").read_text()
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page and "near[r, :r]" in page
    assert "&lt;/pre&gt;&lt;img" in page  # the comment, shown as text


def nested_cell(depth=100, size=220_000):
    """An answer cell of about `size` characters: if-statements nested `depth` deep, repeated."""
    block = "".join("    " * k + "if x:\n" for k in range(depth - 1)) + "    " * (depth - 1) + "y = 1\n"
    return "x = 1\n" + block * (size // len(block))


def test_a_huge_nested_answer_cell_is_not_compared():
    """Ten of these kept the report busy past 180 s; one longer than MAX_CELL_CHARS is skipped."""
    assert similarity.statements(nested_cell(30, similarity.MAX_CELL_CHARS // 2))  # an ordinary size is compared
    assert similarity.statements(nested_cell()) == []


def test_the_report_has_a_time_limit_and_names_who_it_left_out(tmp_path):
    for student in ("ann", "ben", "cat"):
        (tmp_path / student / INIT).mkdir(parents=True)
        (tmp_path / student / INIT / "lesson.ipynb").write_bytes(build(INIT, Variant("v")))
    pairs, left_out = similarity.write(tmp_path, tmp_path / "similarity.html", seconds=0)
    assert left_out == [f"ben/{INIT}", f"cat/{INIT}"]  # the first is read whatever the time
    assert f"ben/{INIT}, cat/{INIT}" in (tmp_path / "similarity.html").read_text()


@pytest.mark.slow
def test_a_failed_similarity_report_costs_only_itself(tmp_path, monkeypatch, capsys):
    """The grades are written; the earlier class's similarity.html goes (it would name other
    students than grades.csv), and the summary does not point at it."""
    (tmp_path / "class" / "ann" / INIT).mkdir(parents=True)
    (tmp_path / "class" / "ann" / INIT / "lesson.ipynb").write_bytes(build(INIT, Variant("v")))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "similarity.html").write_text("an earlier class: zed / yan")

    def fails(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")
    monkeypatch.setattr(similarity, "rank", fails)
    status = cli.grade(tmp_path / "class", Options(out=tmp_path / "out", workers=1, db="", quiet=True))
    assert status == 0 and (tmp_path / "out" / "grades.csv").is_file()
    assert "similarity report was not written (RecursionError" in capsys.readouterr().err
    assert not (tmp_path / "out" / "similarity.html").exists()
    assert "no grade): python -m autograder similarity" in (tmp_path / "out" / "summary.md").read_text()
