"""Build the sample class: one student per catalogue variant, every lesson with a catalogue.

    python -m tests.sample_class build/sample_class

Writes ``<out>/<variant>/<lesson>/<file>.ipynb``; deterministic, so the demo's grade table
is the same on every machine.
"""
import shutil
import sys
from pathlib import Path

from tests.catalogue import build, catalogue


def write_class(out):
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


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "build/sample_class"
    print(f"sample class: {write_class(target)} submissions in {target}")
