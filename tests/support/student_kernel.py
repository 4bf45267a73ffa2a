"""What a student's kernel holds after Run All, without a kernel: a catalogue variant's code
cells executed in this process."""
import contextlib
import io
import json
import re

from autograder.authoring.catalogue import build
from autograder.worker.cells import cell_source, nbgrader_meta


def student_namespace(lesson, variant):
    """The names a student's kernel holds after running the notebook's code cells (tests and
    experiments excepted; a cell that raises leaves what it defined so far)."""
    namespace = {"__name__": "__main__"}
    for cell in json.loads(build(lesson, variant))["cells"]:
        source = cell_source(cell)
        if cell["cell_type"] != "code" or nbgrader_meta(cell).get("grade") or source.lstrip().startswith("%%"):
            continue
        code = re.sub(r"(?m)^\s*[%!].*$", "", source)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
            exec(compile(code, f"<cell {nbgrader_meta(cell).get('grade_id')}>", "exec"), namespace)
    return namespace
