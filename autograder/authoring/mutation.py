"""Mutation testing of the detectors: cosmic-ray over autograder/checks/ and autograder/judge/.

    python -m autograder mutation [--mutants N] [--seed S]     (make mutation [MUTANTS=N])

Runs in a copy of the committed tree (build/mutation/tree, from `git archive HEAD`), never in
the working tree: cosmic-ray rewrites the file it mutates. Each mutant is judged by the tests
that hold the detectors (`TESTS`: the catalogue graded and checked against the notebook and
selfcheck, the known outputs in sync with the judge); a mutant survives when they all pass.

The two folders hold about 8,500 mutants and one run of those tests takes 2-3 minutes on two
cores, so a full run takes weeks. By default a seeded random sample of `--mutants` is run
(the others are marked skipped, as cosmic-ray's own filters do), and the score is reported
with its sample size. Survivors' diffs go to build/mutation/survivors.txt.
"""
import random
import subprocess
import sys

from autograder.worker.course import ROOT

OUT = ROOT / "build" / "mutation"
#: The private mistakes' outputs on the visible cases are data (known_outputs.json), so a mutant of
#: one is seen by the test that keeps that file in sync with the judge.
TESTS = ["tests/unit/authoring/test_release.py::test_known_outputs_are_in_sync_with_the_reference",
         "tests/integration/test_grader.py", "tests/unit/checks/test_visible.py", "tests/unit/judge/test_judge.py"]
CONFIG = """[cosmic-ray]
module-path = ["autograder/checks", "autograder/judge"]
timeout = 1200.0
excluded-modules = []
test-command = "{python} -m pytest -x -q -p no:cacheprovider {tests}"

[cosmic-ray.distributor]
name = "local"
"""


def prepare(tree):
    """A fresh copy of the committed tree at `tree` (its imports resolve there: it is the cwd)."""
    subprocess.run(["rm", "-rf", str(tree)], check=True)
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)


def keep_sample(session, count, seed):
    """Mark all but a seeded random sample of `count` work items skipped; returns (sampled, total)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult
    with use_db(str(session), WorkDB.Mode.open) as db:
        jobs = sorted(item.job_id for item in db.work_items)
        kept = set(random.Random(seed).sample(jobs, min(count, len(jobs))))
        db.set_multiple_results([job for job in jobs if job not in kept],
                                WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output="not sampled"))
    return len(kept), len(jobs)


def score(session):
    """(killed, survived, incompetent, survivors' diffs) over the mutants run."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome
    killed = survived = incompetent = 0
    diffs = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for _item, result in db.completed_work_items:
            if result.test_outcome == TestOutcome.KILLED:
                killed += 1
            elif result.test_outcome == TestOutcome.SURVIVED:
                survived += 1
                diffs.append(result.diff)
            elif result.test_outcome == TestOutcome.INCOMPETENT:
                incompetent += 1
    return killed, survived, incompetent, diffs


def run(mutants: int = 40, seed: int = 0) -> int:
    """Run a seeded sample of `mutants` mutants (seed `seed`), print the score; returns the exit status."""
    tree, session = OUT / "tree", OUT / "session.sqlite"
    prepare(tree)
    config = tree / "cosmic-ray.toml"
    config.write_text(CONFIG.format(python=sys.executable, tests=" ".join(TESTS)))
    session.unlink(missing_ok=True)
    cosmic_ray = [sys.executable, "-m", "cosmic_ray.cli"]
    subprocess.run([*cosmic_ray, "init", str(config), str(session)], cwd=tree, check=True)
    sampled, total = keep_sample(session, mutants, seed)
    print(f"mutation: running {sampled} of {total} mutants (seed {seed})", flush=True)
    subprocess.run([*cosmic_ray, "exec", str(config), str(session)], cwd=tree, check=True)
    killed, survived, incompetent, diffs = score(session)
    (OUT / "survivors.txt").write_text("\n".join(diffs))
    ran = killed + survived
    print(f"mutation score: {killed} of {ran} mutants killed ({100 * killed / max(ran, 1):.0f}%), "
          f"{incompetent} incompetent (the mutant does not run), sampled from {total}; "
          f"survivors in {OUT / 'survivors.txt'}")
    return 0
