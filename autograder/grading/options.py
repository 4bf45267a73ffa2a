"""Every option of a grading run, declared once: `Options`, each field with its default and one
line of help. `python -m autograder grade`'s flags are generated from it (`add_arguments`,
`from_arguments`), the pipeline takes it whole (`grade.grade_class`, `grade.grade_submission`,
`cluster`), and the options that change results make the store's and the receipts'
fingerprint (`Options.fingerprint`).
"""
from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _option(default: Any, help: str, flag: str | None = None, short: str | None = None,
            metavar: str | None = None, command_line: bool = True) -> Any:
    """A field of `Options`: its `default` and one line of `help` (argparse.SUPPRESS: a hidden flag).

    `flag` is the command line's name where it is not ``--field-name`` (a bool whose flag turns it
    off, such as ``--no-isolation``); `command_line=False`: set by the program, never on the command line."""
    return field(default=default, metadata={"help": help, "flag": flag, "short": short, "metavar": metavar,
                                            "command_line": command_line})


@dataclass(frozen=True)
class Options:
    """How a class is graded and where the results go; every field has a default.

    Only `isolate`, `scan`, `submission_seconds` and `secret` change a result (`fingerprint`);
    the others say where results go and how the run reports.
    """

    out: Path = _option(Path("build/grades"), "the output folder: grades.csv, feedback/, summary, receipts")
    workers: int = _option(2, "submissions graded at once on this machine")
    cluster: str | None = _option(None, "grade on the Dask cluster of this scheduler, e.g. tcp://127.0.0.1:8786 "
                                        "(--workers is then unused)", metavar="ADDRESS")
    db: str | None = _option(None, "nbgrader gradebook URL (default: the course's, in nbgrader_config.py; '' to skip)")
    isolate: bool = _option(True, "run student code without the namespaces (a separate process still); "
                                  "for benchmarks", flag="--no-isolation")
    allow_weak_isolation: bool = _option(
        False, "grade even where the kernel refuses the sandbox's namespaces (user, mount, pid, network): student "
               "code then runs in a separate process only, seeing the course tree and the network; without it, "
               "grade stops first and writes nothing")
    scan: bool = _option(True, argparse.SUPPRESS, flag="--no-scan")  # for tests of the sandbox alone
    force: bool = _option(False, "grade every submission again, even those unchanged since the last run into --out")
    quiet: bool = _option(False, "no progress line", short="-q")
    per_student_secret: Path | None = _option(
        None, "give each student hidden cases of their own, derived from this secret file (kept outside the "
              "course tree) and the student's id", metavar="FILE")
    submission_seconds: float | None = _option(
        None, "wall time each submission's cells and cases may take in all, restarts included (default: 300); "
              "what is left when it runs out is not run", metavar="S")
    diff: Path | None = _option(None, "explain per student and item what changed since an earlier output folder "
                                      "(its receipts)", metavar="PREVIOUS")
    secret: bytes | None = _option(None, "the per-student secret's bytes, read from --per-student-secret "
                                         "(a cluster's workers get salts, never this)", command_line=False)

    @property
    def limits(self):
        """The worker's limits (`runner.Limits`), or None for its defaults."""
        if self.submission_seconds is None:
            return None
        from autograder.worker.runner import Limits
        return Limits(submission_seconds=self.submission_seconds)

    def fingerprint(self) -> dict[str, Any]:
        """The options that change results, as plain data: part of every kept result's fingerprint
        (store.py) and every receipt (receipt.py). Values as before `Options` existed, so that
        results kept by an earlier run stay valid."""
        kept: dict[str, Any] = {"isolate": self.isolate, "scan": self.scan}
        if self.submission_seconds is not None:
            kept["submission_seconds"] = self.submission_seconds
        if self.secret is not None:
            from autograder.grading.per_student import fingerprint
            kept["per_student_cases"] = fingerprint(self.secret)
        return kept


def _flag(f: dataclasses.Field) -> str:
    return f.metadata["flag"] or "--" + f.name.replace("_", "-")


def _value_type(f: dataclasses.Field) -> type:
    """The type a flag's text is turned into: the field's type without None."""
    hint = typing.get_type_hints(Options)[f.name]
    if isinstance(hint, types.UnionType):
        hint = next(t for t in typing.get_args(hint) if t is not type(None))
    return hint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per command-line field of `Options` to `parser`, its help and default from the field."""
    for f in dataclasses.fields(Options):
        if not f.metadata["command_line"]:
            continue
        names = [n for n in (f.metadata["short"], _flag(f)) if n]
        if isinstance(f.default, bool):
            # a flag flips the default: --force sets True, --no-isolation sets isolate False
            parser.add_argument(*names, dest=f.name, action="store_false" if f.default else "store_true",
                                help=f.metadata["help"])
        else:
            shown = f" (default: {f.default})" if f.default is not None else ""
            parser.add_argument(*names, dest=f.name, type=_value_type(f), default=f.default,
                                metavar=f.metadata["metavar"], help=f.metadata["help"] + shown)


def from_arguments(args: argparse.Namespace) -> Options:
    """The `Options` of parsed arguments (a parser `add_arguments` filled)."""
    return Options(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Options) if f.metadata["command_line"]})
