"""The repository stands on its own (issue 14, point 9): every page under docs/ that a file
cites exists, every section a citation names is a heading of that page, and no file points
outside the repository.

A citation is a path under `docs/` ending in `.md`, anywhere in a Python, Markdown, Typst,
HTML or TOML file or the Makefile. It names sections when quoted headings follow it after a comma
or in brackets (`docs/domain.md, "Eligibility"`, `docs/domain.md ("Validity" and "Kinds")`);
a quotation after a colon (`docs/domain.md: "a prorated first month …"`) quotes the page's
text and names no section. `docs/domain.md, condition 2` and `document 4` name the numbered
items of its sections "Conditions a certificate carries" and "Documents the registry
produces". Text is read with line breaks, indentation and comment markers taken out, so a
citation wrapped over two lines of a docstring or comment still counts, and a heading is
found whatever the case of its first letters ("where to add a command" in running text).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SUFFIXES = {".py", ".md", ".typ", ".html", ".toml"}
NAMES = {"Makefile"}

PAGE = r"docs/(?P<page>[A-Za-z0-9_-]+\.md)"
QUOTED = r'"[A-Z][^"]*"'
SECTIONS = re.compile(
    PAGE + rf"(?:,\s*|\s*\(\s*)(?P<names>{QUOTED}(?:\s*(?:,|and|, and)\s*{QUOTED})*)"
)
ITEM = r"(?:condition|document)\s+\d+"
ITEMS = re.compile(
    r"docs/domain\.md,\s*(?P<items>" + ITEM + r"(?:\s*(?:,|and|, and)\s*" + ITEM + r")*)"
)
ITEM_SECTIONS = {
    "condition": "Conditions a certificate carries",
    "document": "Documents the registry produces",
}
COMMENT = re.compile(r"^\s*(?:#+|//+|\*|>)?\s*")
HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
NUMBERED = re.compile(r"^(?P<number>\d+)\.\s")
OUTSIDE = "/".join(["..", "shared"])  # spelled so that this file does not hold it


@dataclass(frozen=True)
class Section:
    """A heading of a page and the lines under it, up to the next heading of its level or
    above."""

    level: int
    lines: tuple[str, ...]


def git_files(*options: str) -> list[Path]:
    """The repository's files that git lists with `options`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", *options],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def scanned() -> list[Path]:
    """Files whose citations are checked: tracked ones and new ones not ignored."""
    files = git_files("--cached", "--others", "--exclude-standard")
    return [p for p in files if p.suffix in SUFFIXES or p.name in NAMES]


def flat(text: str) -> str:
    """`text` on one line: each line without its indentation and comment marker."""
    return " ".join(COMMENT.sub("", line, count=1) for line in text.splitlines())


def sections(page: str) -> dict[str, Section]:
    """The headings of a Markdown page (outside code blocks), each with the lines under it
    up to the next heading of its level or above, so a section holds its subsections."""
    lines = page.splitlines()
    headings: list[tuple[int, int, str]] = []
    fenced = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := HEADING.match(line)):
            headings.append((index, len(heading["level"]), heading["text"]))
    found: dict[str, Section] = {}
    for i, (index, level, text) in enumerate(headings):
        end = next((at for at, lvl, _ in headings[i + 1 :] if lvl <= level), len(lines))
        found[text] = Section(level, tuple(lines[index + 1 : end]))
    return found


def quoted(names: str) -> list[str]:
    """The quoted names in `"A" and "B"`, whitespace collapsed."""
    return [" ".join(name.split()) for name in re.findall(r'"([^"]*)"', names)]


@dataclass(frozen=True)
class Citation:
    """One citation: where it is, the page, and the sections or items it names."""

    where: str
    page: str
    sections: tuple[str, ...] = ()
    items: tuple[tuple[str, int], ...] = ()


def citations(where: str, text: str) -> Iterator[Citation]:
    """Every citation of a docs/ page in `text`."""
    line = flat(text)
    for match in re.finditer(PAGE, line):
        yield Citation(where, match["page"])
    for match in SECTIONS.finditer(line):
        yield Citation(where, match["page"], sections=tuple(quoted(match["names"])))
    for match in ITEMS.finditer(line):
        named = re.findall(r"(condition|document)\s+(\d+)", match["items"])
        yield Citation(where, "domain.md", items=tuple((kind, int(n)) for kind, n in named))


def all_citations() -> list[Citation]:
    """The citations in every scanned file."""
    found: list[Citation] = []
    for path in scanned():
        where = str(path.relative_to(ROOT))
        found.extend(citations(where, path.read_text(encoding="utf-8", errors="replace")))
    return found


def problems(found: list[Citation], pages: dict[str, str]) -> list[str]:
    """What is wrong with `found`, given the pages that exist (name → Markdown text)."""
    wrong: list[str] = []
    for citation in found:
        if citation.page not in pages:
            wrong.append(f"{citation.where}: docs/{citation.page} does not exist")
            continue
        headings = {
            text.casefold(): section for text, section in sections(pages[citation.page]).items()
        }
        for name in citation.sections:
            if name.casefold() not in headings:
                wrong.append(f'{citation.where}: docs/{citation.page} has no heading "{name}"')
        for kind, number in citation.items:
            section = headings.get(ITEM_SECTIONS[kind].casefold())
            numbers = (
                {int(m["number"]) for m in map(NUMBERED.match, section.lines) if m}
                if section
                else set()
            )
            if number not in numbers:
                wrong.append(
                    f"{citation.where}: docs/{citation.page} has no {kind} {number} "
                    f'(a numbered item under "{ITEM_SECTIONS[kind]}")'
                )
    return sorted(set(wrong))


def pages() -> dict[str, str]:
    """The pages under docs/, by file name."""
    return {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}


def test_every_cited_page_and_section_exists() -> None:
    found = all_citations()
    # The code cites the domain page by section in many places; finding none would mean
    # the reader above no longer reads them.
    assert sum(1 for c in found if c.page == "domain.md" and (c.sections or c.items)) >= 5
    assert problems(found, pages()) == []


def test_the_reader_finds_each_form_and_each_mistake() -> None:
    page = (
        "# Top\n\n## Eligibility\n\ntext\n\n## Conditions a certificate carries\n\n1. one\n\n"
        "### Succession\n\n2. two, in a subsection: still the section's\n\n"
        "## Other\n\n3. not a condition\n\n```\n## Not a heading\n```\n"
    )
    # DOCS stands for the docs/ folder, so that this file cites none of these itself.
    text = (
        '"""A rule (DOCSdomain.md, "Eligibility") and DOCSdomain.md ("Conditions a certificate\n'
        '    carries" and "Not a heading"); DOCSdomain.md: "Quoted text"; DOCSdomain.md,\n'
        '    condition 2 and condition 3; DOCSmissing.md."""\n'
        '# DOCSdomain.md, "Succession", and DOCSdomain.md, document 1\n'
        '    // DOCSdomain.md, "Other"\n'
    ).replace("DOCS", "docs/")
    assert problems(list(citations("x.py", text)), {"domain.md": page}) == [
        "x.py: docs/domain.md has no condition 3 "
        '(a numbered item under "Conditions a certificate carries")',
        "x.py: docs/domain.md has no document 1 "
        '(a numbered item under "Documents the registry produces")',
        'x.py: docs/domain.md has no heading "Not a heading"',
        "x.py: docs/" + "missing.md does not exist",  # split: this file cites no such page
    ]


def test_no_file_points_outside_the_repository() -> None:
    # .ci/ is the machinery that runs the checks, not part of the project.
    pointing = [
        str(path.relative_to(ROOT))
        for path in git_files()
        if path.relative_to(ROOT).parts[0] != ".ci" and OUTSIDE.encode() in path.read_bytes()
    ]
    assert pointing == []


def test_the_readme_names_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sorted(p for p in pages() if f"docs/{p}" not in readme) == []
