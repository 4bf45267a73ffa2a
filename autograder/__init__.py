"""The course's grader.

`course` says what ships to students (`course.STUDENT_FILES`). Shipped: `course`, `cells`
(reads nbgrader's cell metadata), `wire` (plain-data encoding), `checks` (the visible checks
test cells call), `sandbox` and `isolation` (the worker that runs student code, confined),
`runner` and `cgroups` (supervise it), `notebook` (reads notebooks and plans the cells to
run), `selfcheck` and `lab`. Instructor
only: `reference` (loads the reference from the masters), `judge` (hidden cases, comparison
with the reference), `hidden` (the single entry point of hidden test cells), `grade`,
`report`, `gradebook`, `release` and `cli`.
"""
