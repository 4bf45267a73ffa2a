"""The README stays short and every link in it and in docs/ stays inside the repository."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_README_LINES = 150
#: ``[text](target)`` and ``[text](target "title")``; images too (``![alt](target)``).
INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: reference definitions: ``[label]: target``
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, mailto:, ...


def markdown_files():
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def links(text):
    """Every link target of a Markdown text, outside fenced code blocks, and every path in
    an inline code span that climbs with ``../`` (a reader follows those as links too)."""
    prose = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.MULTILINE | re.DOTALL)
    climbing = [span for span in re.findall(r"`([^`\n]*)`", prose) if span.startswith("../")]
    prose = re.sub(r"`[^`\n]*`", "", prose)
    return INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose) + climbing


def anchors(path):
    """The anchors GitHub makes for a Markdown file's headings (lower case, punctuation but
    ``-`` and ``_`` dropped, spaces as ``-``; a repeated heading gets ``-1``, ``-2``, ...)."""
    text = re.sub(r"^(```|~~~).*?^\1", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    seen, made = {}, set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        made.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return made


def broken_links(path, text=None):
    """The links of one file (its text, or `text` as if it were there) that leave the
    repository or point at nothing, each with why."""
    problems = []
    for target in links(path.read_text(encoding="utf-8") if text is None else text):
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        file_part = target.split("#", 1)[0]
        if file_part.startswith("/") or file_part.startswith("~") or re.match(r"^[A-Za-z]:\\", file_part):
            problems.append(f"{target}: an absolute machine path")
            continue
        resolved = (path.parent / file_part).resolve()
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{target}: leaves the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file in the repository")
        elif "#" in target and resolved.suffix == ".md" and target.split("#", 1)[1] not in anchors(resolved):
            problems.append(f"{target}: no such heading in {resolved.name}")
    return problems


def test_readme_is_at_most_150_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


def test_docs_exist():
    assert (ROOT / "docs").is_dir() and list((ROOT / "docs").rglob("*.md")), "docs/ holds no Markdown"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_stays_inside_the_repository(path):
    assert broken_links(path) == [], f"{path.relative_to(ROOT)}: {broken_links(path)}"


def test_the_checker_catches_bad_links():
    """The link rules themselves can fail: each bad kind is caught, good ones pass."""
    text = ("[out](../../shared/COURSE_SPEC.md) [abs](/work/main/README.md) [gone](missing.md)\n"
            "[ok](../README.md#lessons) [web](https://example.org) [up](../README.md) [no](../README.md#nowhere)\n"
            "see `../../shared/spec.md`, `python -m autograder`\n"
            "[ref]: ../../outside.md\n\n```\n[in code](nowhere.md)\n```\n")
    problems = broken_links(ROOT / "docs" / "probe.md", text)
    assert [p.rsplit(":", 1)[0] for p in problems] == [
        "../../shared/COURSE_SPEC.md", "/work/main/README.md", "missing.md", "../README.md#nowhere", "../../outside.md",
        "../../shared/spec.md"]
