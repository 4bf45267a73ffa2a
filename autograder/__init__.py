"""The course's grader, in folders that say which side of the boundary a file is on.

Shipped (to students in the bundle, and into every sandbox): nothing private, and never an
import of a private folder (`tests/unit/test_layout.py` holds both rules).

- ``worker/``: the course's facts (`course`), reading notebooks and nbgrader's cell metadata
  (`notebook`, `cells`), and running student code confined: the supervisor (`runner`,
  `cgroups`), the sandboxed worker (`zygote`, `sandbox`, `isolation`) and the plain-data wire.
- ``checks/``: the visible checks that the notebooks' test cells call (an import path that
  released notebooks keep).
- ``student/``: what a student runs: `selfcheck` (the grader's way, before submitting) and
  `lab` (JupyterLab in the course's student mode).

Private (instructor only):

- ``judge/``: the reference, its cached results and the hidden cases (`hidden` is the one
  entry point of nbgrader's hidden test cells, an import path that stored test cells keep).
- ``grading/``: the pipeline from submissions to results (`grade`, `store`, `scan`,
  `per_student`, `cluster`, `receipt`, `similarity`).
- ``outputs/``: what a run writes (`report`, `item_analysis`, `figure`, atomic writes).
- ``gradebook/``: nbgrader's gradebook, commands and files.
- ``authoring/``: release, lint, the student bundle and workspace.
- ``lms/``: Gradescope and Canvas.
- ``hub_service/``: grading on submit, the hub's service that grades what nbgrader's exchange receives.

`python -m autograder COMMAND` (``cli``) is the one way in.
"""
#: Folders copied, read-only, into every sandbox (beside ``lessonkit``).
SANDBOX = ("worker", "checks")
#: Folders students receive in the bundle.
SHIPPED = (*SANDBOX, "student")
#: Folders that never leave the instructor's course tree.
PRIVATE = ("judge", "grading", "outputs", "gradebook", "authoring", "lms", "hub_service")
