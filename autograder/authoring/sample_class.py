"""Build the sample class: one student per catalogue variant, every lesson with a catalogue.

    python -m autograder sample-class build/sample_class      (make sample-class)

Writes ``<out>/<variant>/<lesson>/<file>.ipynb``; deterministic, so the demo's grade table
is the same on every machine.
"""
import shutil
from pathlib import Path

from autograder.authoring.catalogue import build, catalogue


def write_class(out: str | Path) -> int:
    """Replace the folder `out` with the sample class; returns the number of submissions written."""
    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    count = 0
    for lesson, variants in catalogue().items():
        for variant in variants:
            folder = out / variant.name / lesson
            folder.mkdir(parents=True)
            (folder / variant.filename).write_bytes(build(lesson, variant))
            count += 1
    return count
