"""Per-student hidden cases: while the judge builds one student's cases (`salted`), each case's
seed (`case_seed`) and each value the course fixes but lets vary (`varied`) are drawn with that
student's salt mixed in; outside it, the course's own cases, unchanged."""
import contextlib
import contextvars
import hashlib

import numpy as np

#: While the judge builds one student's hidden cases (`salted`), that student's salt; else None.
_SALT = contextvars.ContextVar("hidden_case_salt", default=None)


@contextlib.contextmanager
def salted(salt):
    """Within this block (in this thread), `case_seed` mixes `salt` into every case's seed."""
    token = _SALT.set(salt)
    try:
        yield
    finally:
        _SALT.reset(token)


def case_seed(seed):
    """int -> the seed a case builder draws from: `seed` itself, or, while the judge builds a student's
    per-student hidden cases (`salted`), a seed derived from it and the student's salt."""
    salt = _SALT.get()
    if salt is None:
        return seed
    return int.from_bytes(hashlib.sha256(f"{salt}|{seed}".encode()).digest()[:7], "big")


def varied(seed, fixed, draw):
    """A value that the course's cases fix by design but that can vary per student.

    Parameters
    ----------
    seed : int, the case's seed (mixed with the student's salt as in `case_seed`)
    fixed : the course's value, returned as is outside `salted` (so the course's cases never change)
    draw : callable, ``draw(rng) -> value`` for one student, with ``rng = np.random.default_rng(case_seed(seed))``;
        it must keep what the case is about (its label stays the same)
    """
    if _SALT.get() is None:
        return fixed
    return draw(np.random.default_rng(case_seed(seed)))
