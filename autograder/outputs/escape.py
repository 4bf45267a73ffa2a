"""Text a submission controls (student and lesson folder names, cell ids, the problems quoting
them), made safe for each output format the grader writes. One helper per format."""
import html
import re
import unicodedata

# C0/C1 controls and DEL (Cc), invisible format characters such as bidi overrides (Cf), lone
# surrogates from folder names that are not UTF-8 (Cs), and Unicode line/paragraph separators
_INVISIBLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}
# an underscore between two letters or digits (bn_forward) cannot start emphasis: left as is
_MD_SPECIAL = re.compile(r"([\\`*\[\]#|~]|(?<![^\W_])_|_(?![^\W_]))")
_MD_LIST_MARKER = re.compile(r"^(\d*)([-+.)])")  # "- x", "+ x", "1. x", "1) x" would start a list
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What GitHub-flavoured Markdown turns into a link without any markup (its "extended
# autolinks": a scheme's ``://``, ``www.``, an e-mail's ``@``, case-insensitively in some
# renderers), each defanged by bracketing the one character every form needs: ``[:]//``,
# ``www[.]``, ``name[@]host``. A mark that vanishes in rendering (an escape, an entity)
# would not do: renderers that merge text nodes before autolinking see the text as written.
_AUTOLINK = re.compile(r"(?<=[a-z]):(?=//)|(?<=www)\.|(?<=[\w.+-])@", re.I)


def html_text(text):
    """str -> str safe as HTML element content or a quoted attribute value (line breaks kept,
    other control characters shown as their escapes, as in `terminal_text`)."""
    return html.escape(terminal_text(text, keep="\n"))


def terminal_text(text, keep=""):
    """str -> str with every control or invisible character (but those in `keep`) shown as its
    escape (``\\x1b``), so a name cannot move the cursor, recolour the terminal or break a line."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(c) in _INVISIBLE and c not in keep else c for c in str(text))


def md_text(text):
    """str -> str that Markdown renders as this literal text on one line, even inside a table
    cell: no HTML, no code span, link (autolinks included: see `_AUTOLINK`, the one change to
    the text), emphasis, heading or cell break."""
    text = _AUTOLINK.sub(lambda m: f"[{m.group(0)}]", terminal_text(text))
    text = _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return _MD_LIST_MARKER.sub(r"\1\\\2", text)


def csv_text(text):
    """str -> str that a spreadsheet shows as text rather than evaluating as a formula
    (OWASP CSV injection advice). Only for text fields: numbers we write stay numbers."""
    text = terminal_text(text)
    return "'" + text if text.startswith(FORMULA_START) else text


def plot_text(text):
    """str -> str that matplotlib draws literally, never parsing it as ``$...$`` mathtext."""
    return terminal_text(text).replace("$", r"\$")
