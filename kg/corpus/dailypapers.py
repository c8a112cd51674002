"""Reader for scraped Hugging Face "Daily Papers" listings (plain text).

Two layouts occur:

- *blocks*: paragraphs separated by blank lines; each paper is a title block,
  an abstract block and, optionally, a meta block (``• N authors`` or an
  organisation line, ``·``, a date such as ``Aug 1, 2024`` or ``Oct 13``, and
  sometimes an upvote count after it);
- *compact*: one title line then one abstract line per paper, no blank lines.

Both start with page boilerplate (``Get trending papers ...``, ``Subscribe``,
the listing's own date), which is skipped. Dates without a year stay without a
year (``--MM-DD``); a year is never invented.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["RawEntry", "parse_daily_papers", "parse_date"]

_BOILERPLATE = (
    "Get trending papers in your email inbox once a day!",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
    "new",
)
_MONTHS = {
    m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)
}
_DATE = re.compile(
    r"^(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? (?P<day>\d{1,2})"
    r"(?:, (?P<year>\d{4}))?(?: (?P<votes>\d+))?$"
)
_AUTHORS = re.compile(r"^[•·*-]?\s*(?P<n>\d+) authors?$")
_URL = re.compile(r"https?://[^\s)\]]+[^\s)\].,;]")


@dataclass
class RawEntry:
    """One paper as it stands in a listing, before merging."""

    title: str
    abstract: str
    line: int  # 1-based line of the title
    date: str | None = None
    author_count: int | None = None
    organization: str | None = None
    urls: tuple[str, ...] = ()


def parse_date(text: str) -> str | None:
    """``"Aug 1, 2024"`` → ``"2024-08-01"``; ``"Oct 13 2"`` → ``"--10-13"``; else ``None``.

    >>> parse_date("Aug 1, 2024"), parse_date("Oct 13 2"), parse_date("hello")
    ('2024-08-01', '--10-13', None)
    """
    m = _DATE.match(text.strip())
    if not m:
        return None
    month = _MONTHS[m["mon"][:3].lower()]
    day = int(m["day"])
    if not 1 <= day <= 31:
        return None
    if m["year"]:
        return f"{int(m['year']):04d}-{month:02d}-{day:02d}"
    return f"--{month:02d}-{day:02d}"


def _strip_boilerplate(line: str) -> str:
    """Remove page boilerplate, including ``Subscribe`` glued to the first title."""
    s = line.strip()
    changed = True
    while changed:
        changed = False
        for b in _BOILERPLATE:
            if s == b:
                return ""
            if b == "Subscribe" and s.startswith(b) and len(s) > len(b) and s[len(b)].isupper():
                s = s[len(b) :].strip()
                changed = True
    return s


def _blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Paragraphs (runs of non-blank lines) with the 1-based line of their first line."""
    block: list[str] = []
    start = 0
    for i, raw in enumerate(lines, 1):
        if raw.strip():
            if not block:
                start = i
            block.append(raw.rstrip())
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _is_meta(block: list[str]) -> bool:
    return any(s.strip() == "·" or _AUTHORS.match(s.strip()) or parse_date(s) for s in block)


def _apply_meta(entry: RawEntry, block: list[str]) -> None:
    for s in (x.strip() for x in block):
        if not s or s == "·":
            continue
        if m := _AUTHORS.match(s):
            entry.author_count = int(m["n"])
        elif (d := parse_date(s)) is not None:
            entry.date = d
        else:
            entry.organization = s


def _is_layout_blocks(lines: list[str]) -> bool:
    blank = sum(1 for s in lines if not s.strip())
    return blank >= max(2, len(lines) // 4)


def parse_daily_papers(text: str) -> list[RawEntry]:
    """Parse one listing in either layout into entries, in file order."""
    # physical lines only: str.splitlines would also break at U+2028, form feeds, ... and shift line numbers
    lines = [x[:-1] if x.endswith("\r") else x for x in text.split("\n")]
    if lines and not lines[-1]:
        lines.pop()
    entries: list[RawEntry] = []
    if _is_layout_blocks(lines):
        pending: tuple[int, str] | None = None  # title waiting for its abstract
        for start, block in _blocks(lines):
            body = [s for s in (_strip_boilerplate(x) for x in block) if s]
            if not body:
                continue
            if _is_meta(body):
                if pending is None and entries:
                    _apply_meta(entries[-1], body)
                # a meta block before any paper is the listing's own date: skipped
                continue
            para = " ".join(body)
            if pending is None:
                pending = (start, para)
            else:
                entries.append(RawEntry(title=pending[1], abstract=para, line=pending[0]))
                pending = None
        if pending is not None:
            entries.append(RawEntry(title=pending[1], abstract="", line=pending[0]))
    else:
        content = [(i, s) for i, s in ((i, _strip_boilerplate(x)) for i, x in enumerate(lines, 1)) if s]
        for k in range(0, len(content), 2):
            line_no, title = content[k]
            abstract = content[k + 1][1] if k + 1 < len(content) else ""
            entries.append(RawEntry(title=title, abstract=abstract, line=line_no))
    for e in entries:
        e.urls = tuple(dict.fromkeys(_URL.findall(e.abstract)))
    return entries
