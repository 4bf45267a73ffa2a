"""Build the sample class: one student per catalogue variant, every lesson with a catalogue.

    python -m autograder sample-class build/submitted      (make sample-class)

Writes ``<out>/<variant>/<lesson>/<file>.ipynb`` with nbgrader's ``timestamp.txt`` beside it,
as ``nbgrader collect`` leaves a class in the course's ``submitted`` folder (where the
formgrader counts submissions and checks that the autograded ones are current);
deterministic, so the demo's grade table is the same on every machine.
"""
import os
import shutil
from datetime import datetime
from pathlib import Path

from autograder.authoring.catalogue import build, catalogue
from autograder.authoring.guard import SAMPLE_CLASS_MARKER

#: When every sample submission was handed in (naive UTC, nbgrader's convention).
HANDED_IN = datetime(2026, 1, 5, 9, 0)
#: The file that marks a folder as a sample class, which `write_class` may replace (and `make clean` delete).
MARKER = SAMPLE_CLASS_MARKER


class NotASampleClass(ValueError):
    """The folder holds something other than an earlier sample class."""


def write_class(out: str | Path, handed_in: datetime | None = None) -> int:
    """Replace the folder `out` (empty, absent or an earlier sample class) with the sample class;
    returns the number of submissions written. With `handed_in`, each submission gets nbgrader's
    ``timestamp.txt`` saying so."""
    from autograder.gradebook.nbgrader_files import TIMESTAMP_FORMAT
    out = Path(out)
    if out.is_symlink() or out.exists() and _holds_anything(out) and not (out / MARKER).is_file():
        raise NotASampleClass(f"{out} is a link or holds files that are not the sample class (no {MARKER} in it): "
                              "refusing to replace it; give the sample class another folder")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / MARKER).write_text("The sample class (python -m autograder sample-class), replaced as a whole.\n")
    count = 0
    for lesson, variants in catalogue().items():
        for variant in variants:
            folder = out / variant.name / lesson
            folder.mkdir(parents=True)
            (folder / variant.filename).write_bytes(build(lesson, variant))
            if handed_in is not None:
                (folder / "timestamp.txt").write_text(handed_in.strftime(TIMESTAMP_FORMAT))
            count += 1
    return count


def _holds_anything(folder):
    """Whether `folder` is, or holds, anything but folders (a file, a link): what replacing it would lose."""
    if not folder.is_dir():
        return True
    return any(files or any(os.path.islink(os.path.join(top, d)) for d in dirs) for top, dirs, files in os.walk(folder))
