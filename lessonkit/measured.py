"""The numbers a lesson's text quotes, tied to the cells that measure them.

An experiment prints each number the text relies on as a ``key = value`` line
(`show`); the markdown quotes it as ``<span data-measured="key">value</span>``, which a
notebook renders as the bare value. `tests/unit/lessonkit/test_lesson_numbers.py` executes every master
and holds each quoted value to the printed one, so the text cannot drift from the results.

A value that moves with the BLAS kernel, the seed or a correct-but-different implementation
is quoted with the spread measured for it: ``data-tol`` (an absolute tolerance around the stated
value) or ``data-range="low:high"`` (the printed value must lie in [low, high]; the span's text
then states the claim in words, "below 1e-8", "between 0.4 and 0.7").
"""
import re
from collections import namedtuple

#: A printed measurement: a line ``key = value``, key a Python name.
PRINTED = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*) = (\S+)\s*$", re.MULTILINE)
_NUMBER = r"[0-9.e+-]+"
#: A quoted measurement in markdown, with an optional data-tol or data-range.
QUOTED = re.compile(rf'<span data-measured="([A-Za-z][A-Za-z0-9_]*)"'
                    rf'(?: data-tol="({_NUMBER})"| data-range="({_NUMBER}):({_NUMBER})")?>([^<]*)</span>')

#: One quoted measurement: its key, the text as written, and its tolerance or range (None when absent).
Quote = namedtuple("Quote", "key stated tol low high")


def show(**values):
    """Print one ``key = value`` line per keyword, floats to 3 significant digits."""
    for key, value in values.items():
        print(f"{key} = {value:.3g}" if isinstance(value, float) else f"{key} = {value}")


def printed(text):
    """Every ``key = value`` line of some cell output: list of (key, value string)."""
    return PRINTED.findall(text)


def quoted(markdown):
    """Every quoted measurement of some markdown: list of `Quote`."""
    return [Quote(key, stated, float(tol) if tol else None, float(low) if low else None, float(high) if high else None)
            for key, tol, low, high, stated in QUOTED.findall(markdown)]


def holds(quote, measured):
    """True when the printed value `measured` is what `quote` says: in its range, or `agree`."""
    if quote.low is not None:
        return quote.low <= measured <= quote.high
    return agree(quote.stated, measured, quote.tol)


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
