"""nbgrader configuration of the course: solutions/ is the source, notebooks/ the release."""
from pathlib import Path

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "training-deep-networks"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "build/submitted"
c.CourseDirectory.autograded_directory = "build/autograded"
c.CourseDirectory.feedback_directory = "build/feedback"
# Resolved against this file, so nbgrader run from another folder does not start an empty gradebook there.
c.CourseDirectory.db_url = "sqlite:///" + str(Path(__file__).resolve().parent / "build" / "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 60
# Tracebacks must not echo hidden test lines.
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
