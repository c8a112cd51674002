"""Merging papers seen in several files into one record each."""

from __future__ import annotations

from collections.abc import Iterable

from kg.records import Paper

__all__ = ["merge_papers"]


def _better_date(a: str | None, b: str | None) -> str | None:
    """Prefer a date with a year; among equals, the earliest (order-independent)."""
    cands = [d for d in (a, b) if d]
    if not cands:
        return None
    with_year = sorted(d for d in cands if not d.startswith("--"))
    return with_year[0] if with_year else sorted(cands)[0]


def merge_papers(papers: Iterable[Paper]) -> tuple[list[Paper], int]:
    """Merge papers with the same id; return them sorted by id and the number merged away.

    The result does not depend on input order: the longest abstract wins (ties by
    text), a dated year beats a bare month-day, sources and urls are unions.

    >>> a = Paper("x", "T", "short", date="--06-05", sources=["b.txt:3"])
    >>> b = Paper("x", "T", "a longer abstract", date="2024-06-05", sources=["a.txt:9"])
    >>> merged, dups = merge_papers([a, b])
    >>> merged[0].abstract, merged[0].date, merged[0].sources, dups
    ('a longer abstract', '2024-06-05', ['a.txt:9', 'b.txt:3'], 1)
    """
    by_id: dict[str, Paper] = {}
    dups = 0
    for p in papers:
        cur = by_id.get(p.id)
        if cur is None:
            by_id[p.id] = Paper(**{**p.__dict__, "sources": list(p.sources), "urls": list(p.urls),
                                  "authors": list(p.authors)})
            continue
        dups += 1
        if (len(p.abstract), p.abstract) > (len(cur.abstract), cur.abstract):
            cur.abstract = p.abstract
            cur.raw_text = p.raw_text
        if (len(p.title), p.title) > (len(cur.title), cur.title):
            cur.title = p.title
        cur.date = _better_date(cur.date, p.date)
        if p.author_count is not None:
            cur.author_count = max(cur.author_count or 0, p.author_count)
        if p.organization and (cur.organization is None or p.organization < cur.organization):
            cur.organization = p.organization
        if len(p.authors) > len(cur.authors):
            cur.authors = list(p.authors)
        cur.urls = sorted(set(cur.urls) | set(p.urls))
        cur.sources = sorted(set(cur.sources) | set(p.sources))
    out = sorted(by_id.values(), key=lambda x: x.id)
    for p in out:
        p.sources = sorted(set(p.sources))
        p.urls = sorted(set(p.urls))
    return out, dups
