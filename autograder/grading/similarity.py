"""Similarity of students' answer cells, computed locally (nothing is uploaded); it reports and
never changes a grade.

    python -m autograder similarity SUBMISSIONS --out OUT/similarity.html

Answer cells are compared as syntax, so renaming variables, reordering independent lines
and changing comments or docstrings do not hide a copy:

1. each answer cell the grader would run as the student's (`notebook.plan`, origin
   "student") is parsed; docstrings go (comments never reach the syntax tree);
2. every block of statements is sorted by its shape with the cell's own names blanked out,
   so the order of lines never matters;
3. each statement (a compound one with its whole sorted body) is fingerprinted with the
   names it binds renamed by first occurrence within it (``v0``, ``v1``, ...); names it only
   reads (``np``, the lesson's functions) stay;
4. fingerprints are weighted by inverse document frequency across the students of the
   lesson, and those of the master's solution and of the released starter code weigh
   nothing: code every student writes is no evidence;
5. a pair's score is the weighted Jaccard index of their fingerprint multisets (1: the same
   code up to names, order and comments; 0: nothing uncommon shared).

Libraries considered: copydetect (token winnowing: reordered lines break its k-grams, and it
knows nothing of the starter code or the master) and pycode_similar (pairwise diff of
function dumps, no discounting of common code); the standard library's `ast` does both
things they lack in a page.
"""
import ast
import copy
import hashlib
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from autograder.outputs import atomic
from autograder.outputs.report import html_text
from autograder.worker.cells import cell_source, nbgrader_meta, parse
from autograder.worker.cells import strip_magics as _strip_magics
from autograder.worker.course import ROOT, master_path
from autograder.worker.notebook import find_notebook, plan, read_submission

TOP = 20  # pairs shown in the HTML page
#: A longer answer cell is not compared (an honest one is a few hundred characters; the cost
#: of comparing grows with its size times its nesting).
MAX_CELL_CHARS = 20_000
#: The whole report's time: the students not read by then are left out, and the page says so.
SECONDS = 120.0
RELEASE = ROOT / "notebooks"  # the student copies: their answer cells are the starter code


@dataclass
class Statement:
    fingerprint: str
    lines: tuple  # (first, last) line of the statement in its cell, 1-based


@dataclass
class Document:
    """One student's answer cells of one lesson: cell id -> source and statements."""
    student: str
    sources: dict = field(default_factory=dict)
    statements: dict = field(default_factory=dict)

    def counts(self):
        return Counter(s.fingerprint for cell in self.statements.values() for s in cell)


@dataclass
class Pair:
    lesson: str
    a: Document
    b: Document
    score: float
    shared: dict  # fingerprint -> weight, the weighted fingerprints both have


def _bound_names(tree, keep):
    """Names a cell binds (assigned, parameters, loop and `with` targets, nested functions), less `keep`."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
    return bound - keep


class _Rename(ast.NodeTransformer):
    """Rename the names in `bound`: to one blank, or to ``v0, v1, ...`` by first occurrence."""

    def __init__(self, bound, blank=False):
        self.bound, self.blank, self.names = bound, blank, {}

    def new(self, name):
        if name not in self.bound:
            return name
        return "_" if self.blank else self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        node.id = self.new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.new(node.arg)
        node.annotation = None
        return self.generic_visit(node)

    def visit_FunctionDef(self, node):
        node.name = self.new(node.name)
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef


def _dump(node, bound, blank):
    return ast.dump(_Rename(bound, blank).visit(copy.deepcopy(node)), annotate_fields=False)


def _drop_docstrings(tree):
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                kept = [s for s in block if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                                 and isinstance(s.value.value, str))]
                setattr(node, name, kept or [ast.Pass()])


def _sort_blocks(node, bound):
    """Sort every block of statements under `node`, innermost first, by its blanked shape."""
    for child in ast.iter_child_nodes(node):
        _sort_blocks(child, bound)
    for name in ("body", "orelse", "finalbody", "handlers"):
        block = getattr(node, name, None)
        if isinstance(block, list) and len(block) > 1:
            block.sort(key=lambda s: _dump(s, bound, blank=True))


def statements(source, keep=frozenset()):
    """The fingerprinted statements of a cell (empty when it does not parse).

    Parameters
    ----------
    source : str, a code cell
    keep : set of str, names never renamed (the lesson's functions: every student defines them)

    Returns
    -------
    statements : list of Statement
    """
    if len(source) > MAX_CELL_CHARS:
        return []
    try:
        tree = parse(_strip_magics(source))
        _drop_docstrings(tree)
        bound = _bound_names(tree, set(keep))
        _sort_blocks(tree, bound)
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt) and not isinstance(node, ast.Pass) and hasattr(node, "lineno"):
                digest = hashlib.sha256(_dump(node, bound, blank=False).encode()).hexdigest()[:20]
                found.append(Statement(digest, (node.lineno, node.end_lineno or node.lineno)))
        return found
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # as `notebook.defined_functions`
        return []


def answer_cells(path):
    """cell id -> source of the answer cells of a released or master notebook."""
    cells, _ = read_submission(path)
    return {nbgrader_meta(c).get("grade_id"): cell_source(c) for c in cells or []
            if nbgrader_meta(c).get("solution") and c.get("cell_type") == "code"}


def common_fingerprints(lesson, master):
    """Fingerprints of the master's solution and of the released starter code of a lesson."""
    keep = _api(master)
    sources = list(answer_cells(master_path(lesson)).values())
    if (RELEASE / lesson / "lesson.ipynb").is_file():
        sources += answer_cells(RELEASE / lesson / "lesson.ipynb").values()
    return {s.fingerprint for source in sources for s in statements(source, keep)}


def _api(master):
    return {name for names in master.defines.values() for name in names}


def read_class(submissions, seconds=SECONDS):
    """Every student's answer cells, read for at most `seconds`.

    Returns
    -------
    documents : dict, lesson -> list of Document (unreadable notebooks left out)
    left_out : list of str, "student/lesson" of the submissions not read in time
    """
    from autograder.grading.grade import discover, load_master
    found, _ = discover(submissions)
    documents, deadline = {}, time.monotonic() + seconds
    for k, (student, lesson, folder) in enumerate(found):
        if k and time.monotonic() > deadline:
            return documents, [f"{s}/{l}" for s, l, _ in found[k:]]
        path, _ = find_notebook(folder)
        cells, _ = read_submission(path) if path else (None, None)
        if cells is None:
            continue
        master = load_master(lesson)
        to_run, _ = plan(master, cells)
        doc = Document(student)
        for cell in to_run:
            if cell["origin"] == "student":
                doc.sources[cell["id"]] = cell["source"]
                doc.statements[cell["id"]] = statements(cell["source"], _api(master))
        documents.setdefault(lesson, []).append(doc)
    return documents, []


def weights(documents, common):
    """fingerprint -> log(N / document frequency); 0 for the `common` ones."""
    df = Counter(f for doc in documents for f in set(doc.counts()))
    n = len(documents)
    return {f: 0.0 if f in common else math.log(n / k) for f, k in df.items()}


def score(a, b, weight):
    """Weighted Jaccard index of two fingerprint multisets, and the shared weighted fingerprints.

    Returns
    -------
    score : float in [0, 1]
    shared : dict, fingerprint -> weight
    """
    ca, cb = a.counts(), b.counts()
    low = sum(weight[f] * min(ca[f], cb[f]) for f in ca.keys() & cb.keys())
    high = sum(weight[f] * max(ca[f], cb[f]) for f in ca.keys() | cb.keys())
    shared = {f: weight[f] for f in ca.keys() & cb.keys() if weight[f] > 0}
    return (low / high if high else 0.0), shared


def rank(submissions, seconds=SECONDS):
    """Every pair of students of every lesson, most similar first (see `read_class`).

    Returns
    -------
    pairs : list of Pair
    left_out : list of str, the submissions not read in time
    """
    from autograder.grading.grade import load_master
    pairs = []
    documents_of, left_out = read_class(submissions, seconds)
    for lesson, documents in sorted(documents_of.items()):
        weight = weights(documents, common_fingerprints(lesson, load_master(lesson)))
        for a, b in combinations(sorted(documents, key=lambda d: d.student), 2):
            value, shared = score(a, b, weight)
            pairs.append(Pair(lesson, a, b, value, shared))
    return sorted(pairs, key=lambda p: (-p.score, p.lesson, p.a.student, p.b.student)), left_out


def _cell_html(doc, cell, shared):
    marked = {n for s in doc.statements.get(cell, []) if s.fingerprint in shared
              for n in range(s.lines[0], s.lines[1] + 1)}
    lines = doc.sources[cell].splitlines() or [""]
    return "".join(f"<span class='{'s' if n in marked else 'o'}'>{html_text(line) or ' '}</span>\n"
                   for n, line in enumerate(lines, start=1))


def page(pairs, top=TOP, left_out=()):
    """The HTML report: the `top` pairs, each with its shared answer cells side by side, and the
    submissions `left_out` (not read in time)."""
    shown = [p for p in pairs if p.score > 0][:top]
    rows, blocks = [], []
    for k, p in enumerate(shown, start=1):
        rows.append(f"<tr><td><a href='#p{k}'>{k}</a></td><td>{html_text(p.lesson)}</td>"
                    f"<td>{html_text(p.a.student)}</td><td>{html_text(p.b.student)}</td><td>{p.score:.2f}</td>"
                    f"<td>{len(p.shared)}</td></tr>")
        cells = [c for c in p.a.sources if c in p.b.sources and any(
            s.fingerprint in p.shared for s in p.a.statements.get(c, []))]
        body = "".join(f"<h3>cell {html_text(c)}</h3><table class='side'><tr><th>{html_text(p.a.student)}</th>"
                       f"<th>{html_text(p.b.student)}</th></tr><tr><td><pre>{_cell_html(p.a, c, p.shared)}</pre></td>"
                       f"<td><pre>{_cell_html(p.b, c, p.shared)}</pre></td></tr></table>" for c in cells)
        blocks.append(f"<h2 id='p{k}'>{k}. {html_text(p.lesson)}: {html_text(p.a.student)} and "
                      f"{html_text(p.b.student)} ({p.score:.2f})</h2>{body}")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Similarity of answer cells</title>
<style>body{{font-family:sans-serif;max-width:90em;margin:2em auto}}td,th{{vertical-align:top;padding:.3em .6em;
border-bottom:1px solid #ddd;text-align:left}}table.side{{width:100%;table-layout:fixed}}
pre{{margin:0;white-space:pre-wrap}}
span.s{{background:#fde2a8}}span.o{{color:#777}}</style></head><body>
<h1>Similarity of answer cells</h1>
<p>Computed on this machine; nothing was uploaded, and no grade depends on it. Score: weighted Jaccard index of
the statements of two students' answer cells, compared as syntax (names, order of lines and comments ignored),
with the starter code, the master's solution and code most students write weighing little or nothing.
A high score is a reason to look, not a finding: highlighted lines are the uncommon statements both have.
Answer cells longer than {MAX_CELL_CHARS} characters are not compared.</p>
{_left_out_html(left_out)}
<table><tr><th>#</th><th>lesson</th><th>student</th><th>student</th><th>score</th><th>shared statements</th></tr>
{''.join(rows) or "<tr><td colspan='6'>no pair shares any uncommon code</td></tr>"}</table>
{''.join(blocks)}
</body></html>
"""


def _left_out_html(left_out):
    if not left_out:
        return ""
    return (f"<p><b>Not compared</b> ({len(left_out)} submissions not read within {SECONDS:g} s): "
            + html_text(", ".join(left_out[:50]) + (" ..." if len(left_out) > 50 else "")) + "</p>")


def write(submissions, path, top=TOP, seconds=SECONDS):
    """Rank the pairs of a class (for at most about `seconds`) and write the HTML page to `path`.

    Returns
    -------
    pairs : list of Pair
    left_out : list of str, the submissions not read in time
    """
    pairs, left_out = rank(submissions, seconds)
    atomic.write(Path(path), page(pairs, top, left_out))
    return pairs, left_out
