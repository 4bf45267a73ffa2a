"""What a student reads: an error on a case (`describe_error`, which for hidden cases leaves out
anything that could carry the case's inputs), failures wrapped for nbgrader's Validate dialog
(`report`) and the note that an item this one depends on failed too (`dependency_note`)."""
import builtins
import re
import textwrap

from autograder.checks.item import items
from autograder.worker.wording import likely_mistake

NAME = re.compile(r"[A-Za-z_]\w{0,59}")
#: Exception types a hidden case's feedback may name (a class the student defines could
#: carry hidden data in its name).
KNOWN_EXCEPTIONS = frozenset(
    [name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)]
    + ["LinAlgError", "AxisError"])


def describe_error(error, hidden):
    """What a student reads about an error on a case, e.g. ``"raised IndexError in deep_forward,
    line 7 of your cell: ..."``. For a hidden case the message is left out, and so is any
    text that could carry the case's inputs (the type when it is not a known one)."""
    if isinstance(error, dict):
        kind = str(error.get("type"))
        if hidden and kind not in KNOWN_EXCEPTIONS:
            kind = "an exception of a class your code defines"
        elif not NAME.fullmatch(kind):
            kind = "an exception"
        function, line = error.get("function"), error.get("line")
        if isinstance(function, str) and NAME.fullmatch(function) and type(line) is int and line > 0:
            kind += f" in {function}, line {line} of your cell"
        message = error.get("message")
        return f"raised {kind}" + (f": {str(message)[:300]}" if message and not hidden else "")
    # A string comes from the supervisor (a timeout, a crash) or names a missing function.
    error = str(error)
    if not hidden:
        return f"raised {error[:400]}"
    head = error.split(":", 1)[0]
    if head in KNOWN_EXCEPTIONS:
        return f"raised {head}"
    return "did not return a result on this case (see the notes about your submission)"


#: Messages are wrapped to fit nbgrader's Validate dialog and a notebook's output area.
MESSAGE_COLUMNS = 90


def report(failures_by_case, note=""):
    """Format failures (and a `dependency_note`) as the message a student reads, wrapped at `MESSAGE_COLUMNS`."""
    lines = []
    for label, failures in failures_by_case:
        for f in failures:
            lines += _wrap(f"{label}: {f.message}", "")
            if f.hint:
                lines += _wrap(f"  {likely_mistake(f.hint)}", "    ")
    if note:
        lines += _wrap(f"  {note}", "    ")
    return "\n".join(lines)


def _wrap(text, indent):
    return [wrapped for line in text.split("\n")
            for wrapped in textwrap.wrap(line, MESSAGE_COLUMNS, subsequent_indent=indent or "  ",
                                         break_long_words=False, break_on_hyphens=False) or [""]]


def dependency_note(grade_id, failed):
    """The note a failed item's message ends with when items it `depends_on` failed too ("" if none did).

    The one wording of it, for the notebook's test cells, `selfcheck` and the graded feedback.

    Parameters
    ----------
    grade_id : str, the failed item
    failed : set of str, the items found wrong (in the same kernel, run or grading)
    """
    first = [d for d in items()[grade_id].depends_on if d in failed]
    if not first:
        return ""
    return (f"Note: this item runs through functions that {', '.join(first)} found wrong; "
            "fix that first, this one may then pass as it is.")
