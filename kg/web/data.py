"""What the explorer's pages show, read from the store with bound parameters (pure data, no HTML)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox

from kg.export.rdf import month_label, paper_month, rising_ranking
from kg.schema import ENTITY_TYPES, LABELS, RELATION_TYPES, TYPE_OF_IRI
from kg.store import lib_rows
from kg.store.neighbors import ranked_neighbours

__all__ = [
    "Segment",
    "search",
    "top_concepts",
    "concept_page",
    "paper_page",
    "overview_graph",
    "topic_page",
    "highlight",
    "concept_timeline",
    "timeline_svg",
    "rising_concepts",
    "matrix",
    "papers_with",
    "neighbour_graph",
    "plural",
]

TYPES = TYPE_OF_IRI  # from kg.schema: class IRI -> type name


_q = lib_rows  # every query here is a kg/queries/lib/*.rq file, its parameters bound by VALUES


def _cid(iri: str) -> str:
    """A concept IRI's id, decoded (the inverse of :func:`kg.export.rdf.concept_iri`)."""
    return unquote(iri.rsplit("/concept/", 1)[-1])


def _concept_node(cid: str) -> ox.NamedNode:
    """The concept IRI for an id from a URL: minted as the build mints it, so any text is a valid IRI."""
    from kg.export.rdf import concept_iri

    return ox.NamedNode(str(concept_iri(cid)))


@dataclass
class Segment:
    text: str
    label: str | None = None  # METHOD, TASK, ... when the segment is a mention
    concept: str | None = None


def highlight(text: str, spans: list[tuple[int, int, str, str]]) -> list[Segment]:
    """Cut ``text`` into plain and mention segments; overlapping or misplaced spans are skipped.

    >>> [(s.text, s.label) for s in highlight("use LoRA now", [(4, 8, "METHOD", "lora")])]
    [('use ', None), ('LoRA', 'METHOD'), (' now', None)]
    """
    out: list[Segment] = []
    pos = 0
    for start, end, label, concept in sorted(spans):
        if start < pos or end > len(text) or start >= end:
            continue
        if start > pos:
            out.append(Segment(text[pos:start]))
        out.append(Segment(text[start:end], label, concept))
        pos = end
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out


def search(store: ox.Store, text: str, limit: int = 12, index: Path | None = None) -> list[dict[str, str]]:
    """Concepts whose label or alias contains ``text`` (most-mentioned first), then paper titles.

    Read from the build's search index (``index``, :mod:`kg.export.search`) where there is one, else
    from the store (every label scanned: seconds at tens of thousands of papers)."""
    key = text.strip().lower()
    if len(key) < 2:
        return []
    if index is not None:
        from kg.export.search import search_index

        found = search_index(index, key, papers=limit)
        if found is not None:
            hits = [
                {
                    "kind": "concept",
                    "id": c["cid"],
                    "label": c["label"],
                    "detail": f"{c['type'].lower()} · {plural(c['papers'], 'paper')}",
                }
                for c in found[0][:limit]
            ]
            hits += [{"kind": "paper", "id": p["pid"], "label": p["title"], "detail": "paper"} for p in found[1]]
            return hits[:limit]
    concepts = _q(store, "search-concepts", key=key)
    seen: set[str] = set()
    out = []
    for r in concepts:
        if r["c"] in seen:
            continue
        seen.add(r["c"])
        out.append(
            {
                "kind": "concept",
                "id": _cid(r["c"]),
                "label": r["label"],
                "detail": f"{TYPES.get(r['type'], '').lower()} · {plural(r['n'], 'paper')}",
            }
        )
        if len(out) >= limit:
            return out
    papers = _q(store, "search-papers", key=key)
    for r in papers[: limit - len(out)]:
        out.append({"kind": "paper", "id": r["id"], "label": r["title"], "detail": "paper"})
    return out


def top_concepts(store: ox.Store, per_type: int = 10) -> dict[str, list[dict[str, str]]]:
    rows = _q(store, "top-per-type")
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        t = TYPES.get(r["type"])
        if t and len(out[t]) < per_type:
            out[t].append({"id": _cid(r["c"]), "label": r["label"], "papers": r["n"]})
    return {t: out[t] for t in LABELS}


@dataclass
class ConceptPage:
    id: str
    label: str
    type: str
    papers: int
    mentions: int
    aliases: list[str] = field(default_factory=list)
    ambiguous: bool = False
    topic: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)  # paper, title, role, segments
    neighbours: list[dict[str, str]] = field(default_factory=list)
    relations: list[dict[str, str]] = field(default_factory=list)
    broader: list[dict[str, str]] = field(default_factory=list)  # id, label, papers, rule, evidence
    narrower: list[dict[str, str]] = field(default_factory=list)  # the same, most papers first


def concept_page(store: ox.Store, cid: str, max_papers: int = 50) -> ConceptPage | None:
    node = _concept_node(cid)
    rows = _q(store, "concept", c=node)
    if not rows:
        return None
    r = rows[0]
    page = ConceptPage(
        cid, r["label"], TYPES.get(r["type"], ""), int(r["n"]), int(r["m"]), ambiguous=r["amb"] == "true"
    )
    page.aliases = [x["a"] for x in _q(store, "concept-aliases", c=node)]
    topic = _q(store, "concept-topic", c=node)
    page.topic = topic[0]["l"] if topic else ""
    # the papers shown: those proposing it first, then others, each set read up to max_papers from
    # the index (no sort over all of a concept's papers: "large language model" has 20,000)
    chosen = [r["p"] for r in _q(store, "concept-some-proposers", {"limit": max_papers}, c=node)]
    chosen += [r["p"] for r in _q(store, "concept-some-papers", {"limit": max_papers + len(chosen)}, c=node)]
    chosen = list(dict.fromkeys(chosen))[:max_papers]
    ev = (
        sorted(
            _q(store, "concept-mentions", c=node, p=[ox.NamedNode(x) for x in chosen]),
            key=lambda e: (e["pid"], int(e["start"])),
        )
        if chosen
        else []
    )
    by_paper: dict[str, dict[str, Any]] = {}
    for e in ev:
        rec = by_paper.setdefault(
            e["pid"], {"paper": e["pid"], "title": e["title"], "role": e["role"], "segments": None}
        )
        if e["role"] == "proposed":
            rec["role"] = "proposed"
        if rec["segments"] is None:
            text = e["text"]
            local = text.find(e["surface"], max(0, int(e["start"]) - int(e["sstart"]) - 2))
            if local < 0:
                local = text.find(e["surface"])
            spans = [(local, local + len(e["surface"]), page.type, cid)] if local >= 0 else []
            rec["segments"] = highlight(text, spans)
    page.evidence = sorted(by_paper.values(), key=lambda x: (x["role"] != "proposed", x["title"]))[:max_papers]
    page.neighbours = [
        {"id": _cid(x["concept"]), "label": x["label"], "type": x["type"], "shared": str(x["shared"])}
        for x in ranked_neighbours(store, [node.value], limit=15)
    ]
    names = {r.iri: r.label for r in RELATION_TYPES}
    rel = _q(store, "concept-relation-links", {"limit": 30}, c=node)  # counted first, then labelled
    labels = (
        {x["o"]: x["label"] for x in _q(store, "concepts-meta", o=[ox.NamedNode(x["o"]) for x in rel])} if rel else {}
    )
    page.relations = sorted(
        (
            {
                "dir": x["dir"],
                "relation": names.get(x["prop"], ""),
                "id": _cid(x["o"]),
                "label": labels.get(x["o"], ""),
                "papers": x["papers"],
            }
            for x in rel
        ),
        key=lambda x: (-int(x["papers"]), x["label"], x["id"], x["dir"], x["relation"]),
    )
    page.broader, page.narrower = hierarchy_of(store, node)
    return page


def hierarchy_of(
    store: ox.Store, node: ox.NamedNode, limit: int = 60
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A concept's broader and narrower concepts (kg.normalise.hierarchy) with their paper counts, rule and evidence."""
    from kg.store.neighbors import hierarchy

    def ids(links: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{"id": _cid(x["concept"]), **{k: x[k] for k in ("label", "papers", "rule", "evidence")}} for x in links]

    up, down = hierarchy(store, node.value)
    return ids(up[:limit]), ids(down[:limit])


@dataclass
class PaperPage:
    id: str
    title: str
    date: str
    abstract_segments: list[Segment]
    title_segments: list[Segment]
    proposes: list[dict[str, str]]
    similar: list[dict[str, Any]]
    urls: list[str]


def paper_page(store: ox.Store, pid: str) -> PaperPage | None:
    rows = _q(store, "paper", pid=pid)
    if not rows:
        return None
    r = rows[0]
    title, abstract = r["title"], r["abstract"]
    ms = _q(store, "paper-mentions", pid=pid)
    text = f"{title}\n{abstract}"
    spans = [
        (int(m["start"]), int(m["end"]), TYPES.get(m["type"], ""), _cid(m["c"]))
        for m in ms
        if text[int(m["start"]) : int(m["end"])] == m["surface"]
    ]
    cut = len(title)
    title_spans = [s for s in spans if s[1] <= cut]
    abstract_spans = [(s - cut - 1, e - cut - 1, t, c) for s, e, t, c in spans if s > cut]
    proposes = [
        {"id": _cid(x["c"]), "label": x["label"], "type": TYPES.get(x["type"], "")}
        for x in _q(store, "paper-proposed", pid=pid)
    ]
    from kg.store import similar_papers

    urls = [x["u"] for x in _q(store, "paper-urls", pid=pid)]
    return PaperPage(
        pid,
        title,
        r["date"],
        highlight(abstract, abstract_spans),
        highlight(title, title_spans),
        proposes,
        similar_papers(store, pid)[:10],
        urls,
    )


def overview_graph(store: ox.Store, store_dir: Path | None = None) -> dict[str, Any]:
    """The overview map: the build's ``overview.json`` beside the store, laid out at build time
    by :func:`kg.graph.views.overview_layout` (the same data ``graph.html`` draws); for a store without
    it, the same layout computed here from the store's concepts, topics and co-occurrence."""
    from kg.graph.views import overview_layout, topic_name

    if store_dir is not None:
        path = Path(store_dir).parent / "overview.json"
        if path.is_file():
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return loaded
    concepts: dict[str, dict[str, Any]] = {
        _cid(r["c"]): {"label": r["label"], "type": TYPES.get(r["type"], ""), "papers": int(r["n"])}
        for r in _q(store, "overview-concepts")
    }
    members: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for r in _q(store, "overview-topics"):
        tid = unquote(r["t"].rsplit("/topic/", 1)[-1])
        names[tid] = r["l"]
        if _cid(r["c"]) in concepts:
            members[tid].append(_cid(r["c"]))
    topics = []
    for tid, ms in members.items():
        lead = {lab: i for i, lab in enumerate(names[tid].split(", "))}
        ms.sort(key=lambda c: (lead.get(concepts[c]["label"], len(lead)), -concepts[c]["papers"], c))
        topics.append((tid, topic_name(names[tid]), ms))
    topics.sort(key=lambda t: (-len(t[2]), t[0]))
    pairs = [(_cid(p["a"]), _cid(p["b"]), int(p["n"])) for p in _q(store, "overview-pairs")]
    return overview_layout(concepts, pairs, topics)


@dataclass
class TopicPage:
    id: str
    label: str
    size: int
    members: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # by type, most-mentioned first
    papers: list[dict[str, str]] = field(default_factory=list)  # most members mentioned first
    neighbours: list[dict[str, str]] = field(default_factory=list)  # topics sharing the most papers


def topic_page(store: ox.Store, tid: str, max_papers: int = 60) -> TopicPage | None:
    """A topic: its members by type, its papers (those mentioning the most of its members first),
    and the topics whose members its papers mention most."""
    from kg.export.rdf import mint

    node = ox.NamedNode(str(mint("topic", tid)))
    rows = _q(store, "topic", t=node)
    if not rows:
        return None
    page = TopicPage(tid, rows[0]["l"], 0)
    by_type: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in _q(store, "topic-members", t=node):
        by_type[TYPES.get(r["type"], "")].append({"id": _cid(r["c"]), "label": r["label"], "papers": r["n"]})
        page.size += 1
    page.members = {t: by_type[t] for t in LABELS if by_type.get(t)}
    page.papers = [
        {"id": r["pid"], "title": r["title"], "members": r["k"]}
        for r in _q(store, "topic-papers", {"limit": max_papers}, t=node)
    ]
    page.neighbours = [
        {"id": unquote(r["o"].rsplit("/topic/", 1)[-1]), "label": r["l"], "papers": r["n"]}
        for r in _q(store, "topic-neighbours", t=node)
    ]
    return page


# --------------------------------------------------------------------------- time and gaps


@dataclass
class Timeline:
    """A concept's papers over time: ``bins`` of (label, papers), oldest first, each ``unit`` long."""

    bins: list[tuple[str, int]] = field(default_factory=list)
    unit: str = "month"  # month, quarter or year (whichever keeps the bars few enough to read)
    dated: int = 0
    undated: int = 0
    first: str = ""  # the month of its first dated paper
    last: str = ""
    peak: str = ""  # the bin with the most papers (the latest of equals)


def concept_timeline(store: ox.Store, cid: str, max_bins: int = 36) -> Timeline:
    """Papers mentioning the concept per month (per quarter or year when the span is long), from the
    papers' dates; papers without a year and month are counted as undated."""
    rows = _q(store, "concept-papers-dated", c=_concept_node(cid))
    months: dict[str, int | None] = {}
    for r in rows:
        idx = paper_month(r["date"])
        if months.get(r["p"]) is None:
            months[r["p"]] = idx
    dated = sorted(i for i in months.values() if i is not None)
    tl = Timeline(dated=len(dated), undated=len(months) - len(dated))
    if not dated:
        return tl
    tl.first, tl.last = month_label(dated[0]), month_label(dated[-1])
    span = dated[-1] - dated[0] + 1
    step, tl.unit = (1, "month") if span <= max_bins else (3, "quarter") if span <= 3 * max_bins else (12, "year")
    start = dated[0] - dated[0] % step
    counts: dict[int, int] = defaultdict(int)
    for i in dated:
        counts[(i - start) // step] += 1
    for b in range((dated[-1] - start) // step + 1):
        i = start + b * step
        label = month_label(i) if step == 1 else f"{i // 12}-Q{i % 12 // 3 + 1}" if step == 3 else str(i // 12)
        tl.bins.append((label, counts.get(b, 0)))
    tl.peak = max(reversed(tl.bins), key=lambda x: x[1])[0]
    return tl


def timeline_svg(tl: Timeline, width: int = 560, height: int = 140) -> str:
    """The timeline as a small inline SVG bar chart (text escaped; the same input gives the same bytes)."""
    from html import escape

    if not tl.bins:
        return ""
    top = max(n for _, n in tl.bins)
    left, bottom, head = 28, 22, 8
    plot_w, plot_h = width - left - 4, height - bottom - head
    bar = plot_w / len(tl.bins)
    unit = escape(tl.unit)
    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="papers per {unit}">',
        f'<line x1="{left}" y1="{head + plot_h}" x2="{width - 4}" y2="{head + plot_h}" class="axis"/>',
        f'<text x="{left - 4}" y="{head + 4}" text-anchor="end" class="tick">{top}</text>',
        f'<text x="{left - 4}" y="{head + plot_h}" text-anchor="end" class="tick">0</text>',
    ]
    for i, (label, n) in enumerate(tl.bins):
        h = plot_h * n / top if top else 0
        x = left + i * bar
        title = escape(f"{label}: {n} paper" + ("" if n == 1 else "s"))
        parts.append(
            f'<rect x="{x + 0.5:.1f}" y="{head + plot_h - h:.1f}" width="{max(bar - 1, 1):.1f}" '
            f'height="{h:.1f}" class="bar{" empty" if n == 0 else ""}"><title>{title}</title></rect>'
        )
    shown = {0, len(tl.bins) - 1}
    every = max(1, math.ceil(len(tl.bins) / 6))
    shown |= set(range(0, len(tl.bins), every))
    for i in sorted(shown):
        if i != len(tl.bins) - 1 and len(tl.bins) - 1 - i < every / 2 and i != 0:
            continue  # too close to the last label
        x = left + (i + 0.5) * bar
        anchor = (
            "start" if i == 0 and x < left + 30 else "end" if i == len(tl.bins) - 1 and x > width - 34 else "middle"
        )
        x = left if anchor == "start" else width - 4 if anchor == "end" else x
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="{anchor}" class="tick">{escape(tl.bins[i][0])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _papers_by_month(store: ox.Store) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """(concept id -> label, type, months of its dated papers), paper -> month, for every dated paper."""
    rows = _q(store, "papers-by-month")
    concepts: dict[str, dict[str, Any]] = {}
    month_of: dict[str, int] = {}
    for r in rows:
        idx = paper_month(r["date"])
        if idx is None:
            continue
        month_of[r["p"]] = idx
        rec = concepts.setdefault(_cid(r["c"]), {"label": r["label"], "type": TYPES.get(r["type"], ""), "papers": {}})
        rec["papers"][r["p"]] = idx
    return concepts, month_of


def _rising_materialised(store: ox.Store, min_papers: int, limit: int) -> dict[str, Any] | None:
    """:func:`rising_concepts` for the latest 12 months from the build's ``kg:risingRank`` (at least 2
    recent papers, ranked as :func:`kg.export.rdf.rising_ranking` ranks); ``None`` when the store has no
    such ranking, or when its ranked prefix holds fewer than ``limit`` concepts with ``min_papers``
    and is cut (the rest could qualify), so the caller counts from the papers instead."""
    from kg.export.rdf import RISING_TOP

    window = _q(store, "recent-window")
    if not window:
        return None
    w = window[0]
    ranked = _q(store, "rising-ranked")
    rows = [r for r in ranked if int(r["recent"]) >= min_papers]
    if len(rows) < limit and len(ranked) >= RISING_TOP:
        return None
    rows = rows[:limit]
    share = int(w["recent"]) / max(1, int(w["dated"]))
    first = (
        {r["c"]: r["first"] for r in _q(store, "first-dated-paper", c=[ox.NamedNode(x["c"]) for x in rows])}
        if rows
        else {}
    )
    out = []
    for r in rows:
        recent, dated = int(r["recent"]), int(r["dated"])
        expected = dated * share
        out.append(
            {
                "id": _cid(r["c"]),
                "label": r["label"],
                "type": TYPES.get(r["type"], ""),
                "recent": recent,
                "before": dated - recent,
                "expected": round(expected, 1),
                "lift": round((recent + 1) / (expected + 1), 2),
                "first": first.get(r["c"], "")[:7],
            }
        )
    return {
        "months": 12,
        "min_papers": min_papers,
        "window": f"{w['first']} to {w['last']}",
        "rows": out,
        "dated": int(w["dated"]),
    }


def rising_concepts(store: ox.Store, months: int = 12, min_papers: int = 3, limit: int = 30) -> dict[str, Any]:
    """Concepts whose dated papers lie more in the latest ``months`` months than the corpus's do.

    ``recent``: its papers in the window (the ``months`` months up to the latest dated paper's month);
    ``before``: its papers earlier; ``expected``: how many of its papers the window would hold if it
    followed the corpus (its dated papers × the corpus's share of dated papers in the window);
    ``lift``: (recent + 1) / (expected + 1). Concepts with fewer than ``min_papers`` papers in the
    window, and those with no more recent papers than expected, are left out; the rest are ranked by
    lift, then by recent papers.
    """
    if months == 12 and min_papers >= 2:  # the build's own window: read its ranking, when it holds enough
        read = _rising_materialised(store, min_papers, limit)
        if read is not None:
            return read
    concepts, months_of = _papers_by_month(store)
    if not months_of:
        return {"months": months, "min_papers": min_papers, "window": "", "rows": [], "dated": 0}
    ordered = sorted(concepts, key=lambda cid: (concepts[cid]["label"], cid))
    (cut, latest), ranked = rising_ranking(
        {cid: list(concepts[cid]["papers"].values()) for cid in ordered},
        list(months_of.values()),
        months=months,
        min_papers=min_papers,
    )
    out = [
        {
            "id": cid,
            "label": concepts[cid]["label"],
            "type": concepts[cid]["type"],
            "recent": recent,
            "before": dated - recent,
            "expected": expected,
            "lift": lift,
            "first": month_label(min(concepts[cid]["papers"].values())),
        }
        for cid, recent, dated, expected, lift in ranked
    ]
    return {
        "months": months,
        "min_papers": min_papers,
        "window": f"{month_label(cut)} to {month_label(latest)}",
        "rows": out[:limit],
        "dated": len(months_of),
    }


_KINDS = {t.singular: t.name for t in ENTITY_TYPES}  # a URL's rows/cols -> type name


def matrix(
    store: ox.Store,
    task: str = "",
    topic: str = "",
    rows: str = "method",
    cols: str = "dataset",
    max_rows: int = 15,
    max_cols: int = 12,
) -> dict[str, Any] | None:
    """Which (``rows`` × ``cols``) combinations the papers of a task (concept id) or topic evaluate.

    The papers: those mentioning the task, or any member of the topic. Rows and columns: the concepts
    of those types the most of these papers mention; a cell: the papers mentioning both (an empty
    cell is a combination none of them has tried). None when the task or topic does not exist.
    """
    from kg.export.rdf import mint

    row_type, col_type = _KINDS.get(rows, "METHOD"), _KINDS.get(cols, "DATASET")
    if topic:
        node = ox.NamedNode(str(mint("topic", topic)))
        named = _q(store, "topic", t=node)
        if not named:
            return None
        scope = {"kind": "topic", "id": topic, "label": named[0]["l"]}
        paper_rows = _q(store, "matrix-topic-papers", t=node)
    else:
        node = _concept_node(task)
        named = _q(store, "concept-type", c=node)
        if not named:
            return None
        scope = {"kind": "concept", "id": task, "label": named[0]["l"]}
        paper_rows = _q(store, "matrix-concept-papers", t=node)
    mentions: dict[str, set[str]] = defaultdict(set)  # concept -> papers
    labels: dict[str, tuple[str, str]] = {}
    for r in paper_rows:
        c = _cid(r["c"])
        mentions[c].add(r["p"])
        labels[c] = (r["label"], TYPES.get(r["type"], ""))

    def top(kind: str, n: int) -> list[str]:
        ids = [c for c, (_, t) in labels.items() if t == kind and c != task]
        return sorted(ids, key=lambda c: (-len(mentions[c]), labels[c][0].lower()))[:n]

    row_ids, col_ids = top(row_type, max_rows), top(col_type, max_cols)
    cells = [[len(mentions[r] & mentions[c]) for c in col_ids] for r in row_ids]
    papers = {p for ps in mentions.values() for p in ps}
    return {
        "scope": scope,
        "rows": [{"id": r, "label": labels[r][0], "papers": len(mentions[r])} for r in row_ids],
        "cols": [{"id": c, "label": labels[c][0], "papers": len(mentions[c])} for c in col_ids],
        "cells": cells,
        "row_type": row_type,
        "col_type": col_type,
        "papers": len(papers),
        "gaps": sum(1 for row in cells for n in row if n == 0),
    }


def papers_with(store: ox.Store, cids: list[str], limit: int = 200) -> list[dict[str, str]]:
    """Papers that mention every concept of ``cids`` (title order)."""
    if not cids:
        return []
    sets: list[dict[str, dict[str, str]]] = []
    for cid in cids[:4]:
        rows = _q(store, "papers-of-concept", c=_concept_node(cid))
        sets.append({r["pid"]: {"id": r["pid"], "title": r["title"], "date": r["date"]} for r in rows})
    common = set(sets[0]).intersection(*sets[1:])
    return sorted((sets[0][p] for p in common), key=lambda r: (r["title"], r["id"]))[:limit]


def concept_label(store: ox.Store, cid: str) -> str:
    rows = _q(store, "concept-label", c=_concept_node(cid))
    return rows[0]["l"] if rows else ""


def neighbour_graph(store: ox.Store, cid: str, min_papers: int = 1, limit: int = 25) -> dict[str, Any]:
    """A concept's neighbourhood for vis-network, only edges that at least ``min_papers`` papers support
    (papers mentioning both); the strongest ``limit`` of them."""
    node = _concept_node(cid)
    head = _q(store, "concept-head", c=node)
    if not head:
        return {"nodes": [], "edges": [], "min_papers": min_papers}
    h = head[0]
    typ = TYPES.get(h["type"], "")
    n_papers = int(h["n"])
    nodes = [
        {
            "id": cid,
            "label": h["label"],
            "group": typ,
            "value": 30,
            "title": f"{h['label']} ({typ.lower()}, {plural(n_papers, 'paper')})",
        }
    ]
    edges = []
    for r in ranked_neighbours(store, [node.value], limit=limit, min_papers=min_papers):
        shared = int(r["shared"])
        t = r["type"]
        nodes.append(
            {
                "id": _cid(r["concept"]),
                "label": r["label"],
                "title": f"{r['label']} ({t.lower()})",
                "group": t,
                "value": 10 + 4 * math.sqrt(shared),
            }
        )
        edges.append({"from": cid, "to": _cid(r["concept"]), "value": shared, "title": plural(shared, "shared paper")})
    return {"nodes": nodes, "edges": edges, "min_papers": min_papers}


def plural(n: int | str, word: str) -> str:
    """``1 paper``, ``2 papers`` (``word`` is the singular; its last word takes the s).

    >>> plural(1, "paper"), plural("3", "shared paper")
    ('1 paper', '3 shared papers')
    """
    count = int(n)
    return f"{count} {word}" + ("" if count == 1 else "s")
