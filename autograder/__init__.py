"""The course's grader.

Public (shipped to students): `wire` (plain-data encoding) and `checks` (the visible
checks test cells call). Private (instructor only): `reference` (loads the reference
from the masters), `judge` (hidden cases, comparison with the reference), `hidden` (the
single entry point of hidden test cells), `sandbox`/`runner` (run student code in a
separate process), `grade`, `report` and `cli`.
"""
