"""Merging papers seen in several files into one record each."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from kg.records import Paper, title_key

__all__ = ["merge_papers"]


def _better_date(a: str | None, b: str | None) -> str | None:
    """Prefer a date with a year; among equals, the earliest (order-independent)."""
    cands = [d for d in (a, b) if d]
    if not cands:
        return None
    with_year = sorted(d for d in cands if not d.startswith("--"))
    return with_year[0] if with_year else sorted(cands)[0]


def _words(s: str) -> str:
    return " ".join(s.split())


def _same_paper(a: Paper, b: Paper) -> bool:
    """Two records under one id describe one paper: their titles are the same (case and punctuation aside)."""
    return title_key(a.title) == title_key(b.title)


def _agree(a: str, b: str) -> bool:
    """Abstracts that merge silently: equal, one missing, or one a truncation of the other."""
    x, y = sorted((_words(a), _words(b)), key=len)
    return not x or x == y or y.startswith(x.rstrip(".…").rstrip())


def _rank(p: Paper) -> tuple[object, ...]:
    """The record a merge keeps whole: the longest abstract, then the longest title (ties by text)."""
    return (-len(p.abstract), p.abstract, -len(p.title), p.title, p.raw_text or "", sorted(p.sources))


def _digest(p: Paper) -> str:
    return hashlib.sha1(f"{title_key(p.title)}\n{_words(p.abstract)}".encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _merge_group(recs: list[Paper]) -> Paper:
    """One record from records of one paper: the best record's title and abstract together (never a mix)."""
    base = recs[0]
    cur = Paper(
        **{**base.__dict__, "sources": list(base.sources), "urls": list(base.urls), "authors": list(base.authors)}
    )
    for p in recs[1:]:
        cur.date = _better_date(cur.date, p.date)
        if p.author_count is not None:
            cur.author_count = max(cur.author_count or 0, p.author_count)
        if p.organization and (cur.organization is None or p.organization < cur.organization):
            cur.organization = p.organization
        if len(p.authors) > len(cur.authors):
            cur.authors = list(p.authors)
        cur.urls = sorted(set(cur.urls) | set(p.urls))
        cur.sources = sorted(set(cur.sources) | set(p.sources))
    return cur


def merge_papers(papers: Iterable[Paper], warnings: list[str] | None = None) -> tuple[list[Paper], int]:
    """Merge papers with the same id; return them sorted by id and the number merged away.

    The result does not depend on input order. Records under one id with the same title (case and
    punctuation aside) are one paper: the record with the longest abstract is kept whole (its title
    with its abstract, never one record's title with another's abstract), a dated year beats a bare
    month-day, sources and urls are unions; abstracts that differ other than by truncation are
    reported in ``warnings``. Records under one id with different titles are different papers: they
    are reported and kept apart, each under ``ID~HASH`` (HASH from its title and abstract).

    >>> a = Paper("x", "T", "A short", date="--06-05", sources=["b.txt:3"])
    >>> b = Paper("x", "T", "A short abstract", date="2024-06-05", sources=["a.txt:9"])
    >>> merged, dups = merge_papers([a, b])
    >>> merged[0].abstract, merged[0].date, merged[0].sources, dups
    ('A short abstract', '2024-06-05', ['a.txt:9', 'b.txt:3'], 1)
    >>> w = []
    >>> merged, dups = merge_papers([a, Paper("x", "Another paper", "Other text", sources=["c.jsonl:1"])], w)
    >>> [p.id for p in merged], dups
    (['x~4c62c468', 'x~e9de7d71'], 0)
    """
    sink: list[str] = [] if warnings is None else warnings
    by_id: dict[str, list[Paper]] = {}
    for p in papers:
        by_id.setdefault(p.id, []).append(p)
    out: list[Paper] = []
    dups = 0
    for pid, recs in by_id.items():
        recs.sort(key=_rank)
        groups: list[list[Paper]] = []
        for r in recs:
            for g in groups:
                if _same_paper(g[0], r):
                    g.append(r)
                    break
            else:
                groups.append([r])
        for g in groups:
            dups += len(g) - 1
            if differ := [r for r in g[1:] if not _agree(g[0].abstract, r.abstract)]:
                sink.append(
                    f"{_where(g[0])}: paper {pid!r} has a different abstract in {_where(differ[0])}"
                    f"{f' and {len(differ) - 1} more' if len(differ) > 1 else ''}; kept the longer one, "
                    "check the sources"
                )
        merged = [_merge_group(g) for g in groups]
        if len(merged) > 1:
            for m in merged:
                m.id = f"{pid}~{_digest(m)}"
            sink.append(
                f"{_where(groups[0][0])}: id {pid!r} is given to {len(groups)} papers with different titles "
                f"({', '.join(_where(g[0]) for g in groups[1:4])}{' ...' if len(groups) > 4 else ''}); "
                f"kept apart as {', '.join(repr(m.id) for m in merged[:4])}{' ...' if len(merged) > 4 else ''}; "
                "give each paper its own id"
            )
        out.extend(merged)
    out.sort(key=lambda x: x.id)
    for p in out:
        p.sources = sorted(set(p.sources))
        p.urls = sorted(set(p.urls))
    return out, dups


def _where(p: Paper) -> str:
    return min(p.sources) if p.sources else "(no source)"
