"""The adversarial corpus (tests/corpus.py): every attack scores 0 on what it attacks,
nothing else moves, the grader neither crashes nor hangs, and files stay as submitted."""
import pytest

from autograder.grade import grade_class
from tests.catalogue import build, verdict_problems
from tests.conftest import digest
from tests.corpus import ATTACKS, LESSON


@pytest.fixture(scope="module")
def graded_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    for variant in ATTACKS:
        target = folder / variant.name / LESSON
        target.mkdir(parents=True)
        (target / variant.filename).write_bytes(build(LESSON, variant))
    before = digest(folder)
    results, unknown = grade_class(folder)
    assert unknown == []
    return {r.student: r for r in results}, before, folder


@pytest.mark.parametrize("variant", ATTACKS, ids=[v.name for v in ATTACKS])
def test_attack_scores_zero_on_what_it_attacks_and_nothing_else(graded_corpus, variant):
    results, _, _ = graded_corpus
    assert verdict_problems(results[variant.name], variant) == []


def test_student_code_ran_isolated(graded_corpus):
    results, _, _ = graded_corpus
    assert {r.isolation for r in results.values()} == {"namespaces"}


def test_corpus_files_are_never_modified(graded_corpus):
    _, before, folder = graded_corpus
    assert digest(folder) == before
