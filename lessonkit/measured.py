"""The numbers a lesson's text quotes, tied to the cells that measure them.

An experiment prints each number the text relies on as a ``key = value`` line
(`show`); the markdown quotes it as ``<span data-measured="key">value</span>``, which a
notebook renders as the bare value. `tests/test_lesson_numbers.py` executes every master
and holds each quoted value to the printed one, so the text cannot drift from the results.
"""
import re

#: A printed measurement: a line ``key = value``, key a Python name.
PRINTED = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*) = (\S+)\s*$", re.MULTILINE)
#: A quoted measurement in markdown; data-tol, optional, is an absolute tolerance.
QUOTED = re.compile(r'<span data-measured="([A-Za-z][A-Za-z0-9_]*)"(?: data-tol="([0-9.e+-]+)")?>([^<]*)</span>')


def show(**values):
    """Print one ``key = value`` line per keyword, floats to 3 significant digits."""
    for key, value in values.items():
        print(f"{key} = {value:.3g}" if isinstance(value, float) else f"{key} = {value}")


def printed(text):
    """Every ``key = value`` line of some cell output: list of (key, value string)."""
    return PRINTED.findall(text)


def quoted(markdown):
    """Every quoted measurement of some markdown: list of (key, tolerance or None, value string)."""
    return [(key, float(tol) if tol else None, value) for key, tol, value in QUOTED.findall(markdown)]


def agree(stated, measured, tol=None):
    """True when the stated value is the measured one, rounded as written (or within `tol`).

    Parameters
    ----------
    stated : str
        The value as the text writes it: ``0.36``, ``1.4e3``, ``6.8e+30``, ``-15``.
    measured : float
    tol : float, optional
        Absolute tolerance; by default half a unit of the stated value's last digit.
    """
    if tol is None:
        mantissa, _, exponent = stated.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        tol = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    return abs(float(stated) - measured) <= tol * (1 + 1e-9)
