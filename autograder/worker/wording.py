"""Words every verdict uses, stated once (imports nothing, so every side may use it)."""


def likely_mistake(hint):
    """The line that names a detected misconception: ``"Likely mistake: <hint>."``, or "" without a hint."""
    return f"Likely mistake: {hint}." if hint else ""


def with_likely_mistake(message, hint, indent=""):
    """`message` followed, on its own line (indented by `indent`), by `likely_mistake(hint)` when there is one."""
    return message + (f"\n{indent}{likely_mistake(hint)}" if hint else "")
