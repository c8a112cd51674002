"""Views stage: graph data → self-contained interactive HTML (pyvis, no CDN).

Data first, rendering last: :func:`neighbourhood_data` and :func:`similarity_data`
return plain node/edge lists; :func:`render_html` turns them into a page with
vis-network inlined, Bootstrap's CDN links stripped, a layout computed ahead of time
and physics off. The overview map is :func:`overview_layout` (topics as discs, laid out
at build time) drawn by kg's own ``web/static/overview.js``, inlined in ``graph.html``
by :func:`write_overview` and served by the explorer's ``/overview``.
"""

from __future__ import annotations

import heapq
import html
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from kg.io import atomic_write_text
from kg.schema import COLOURS, OTHER_COLOUR, PAPER_COLOUR, type_css

__all__ = [
    "ViewNode",
    "ViewEdge",
    "ViewData",
    "render_html",
    "TYPE_COLOURS",
    "overview_layout",
    "overview_from_graph",
    "topic_name",
    "overview_page",
    "write_overview",
]

TYPE_COLOURS = {**COLOURS, "PAPER": PAPER_COLOUR}  # from kg.schema


@dataclass
class ViewNode:
    id: str
    label: str
    type: str
    size: float
    title: str  # tooltip, plain text (vis-network shows it as text, never as HTML)


@dataclass
class ViewEdge:
    source: str
    target: str
    weight: float
    title: str


@dataclass
class ViewData:
    nodes: list[ViewNode] = field(default_factory=list)
    edges: list[ViewEdge] = field(default_factory=list)
    heading: str = ""


def _layout(data: ViewData) -> dict[str, tuple[float, float]]:
    h = nx.Graph()
    h.add_nodes_from(n.id for n in data.nodes)
    h.add_weighted_edges_from((e.source, e.target, e.weight) for e in data.edges)
    if not data.nodes:
        return {}
    pos = nx.spring_layout(h, seed=7, iterations=100)
    scale = 60 * math.sqrt(len(data.nodes)) + 200
    return {n: (float(x) * scale, float(y) * scale) for n, (x, y) in pos.items()}


_CDN = re.compile(r"<link[^>]*https?://[^>]*>\s*|<script[^>]*src=\"https?://[^>]*>\s*</script>\s*", re.S)


def render_html(data: ViewData, path: Path, height: str = "850px") -> None:
    """Write ``data`` as an offline interactive page (atomic: written aside, then renamed)."""
    from pyvis.network import Network

    net = Network(height=height, width="100%", directed=False, cdn_resources="in_line", heading="")
    pos = _layout(data)
    net.nodes = [
        {
            "id": n.id,
            "label": n.label,
            "title": n.title,
            "shape": "dot",
            "size": round(n.size, 2),
            "color": TYPE_COLOURS.get(n.type, OTHER_COLOUR),
            "group": n.type,
            "x": round(pos.get(n.id, (0.0, 0.0))[0], 2),
            "y": round(pos.get(n.id, (0.0, 0.0))[1], 2),
            "font": {"size": 14},
        }
        for n in data.nodes
    ]
    net.node_ids = [n.id for n in data.nodes]
    net.node_map = {n["id"]: n for n in net.nodes}
    net.edges = [
        {"from": e.source, "to": e.target, "value": e.weight, "title": e.title, "color": "#c8c8c8"} for e in data.edges
    ]
    net.toggle_physics(False)
    net.set_edge_smooth("false")
    page = net.generate_html(notebook=False)
    page = _CDN.sub("", page)
    page = page.replace("<h1></h1>", "")
    legend = " ".join(
        f'<span style="color:{c}">&#9679; {t.title()}</span>' for t, c in TYPE_COLOURS.items() if t != "PAPER"
    )
    header = (
        f"<title>{html.escape(data.heading)}</title>\n"
        f'<div style="font-family:sans-serif;margin:8px"><b>{html.escape(data.heading)}</b> &nbsp; {legend}</div>'
    )
    page = page.replace("<head>", "<head>\n" + header, 1)
    atomic_write_text(path, page)


def neighbourhood_data(
    center: str,
    center_label: str,
    center_type: str,
    neighbours: Sequence[tuple[str, str, str, int, float, str, int]],
) -> ViewData:
    """A concept and its neighbours: (id, label, type, shared papers, score, via, hop)."""
    data = ViewData(heading=f"Neighbourhood of {center_label}")
    data.nodes.append(ViewNode(center, center_label, center_type, 30, f"{center_label}\n{center_type.title()}"))
    for nid, label, ctype, papers, _score, via, hop in neighbours:
        data.nodes.append(
            ViewNode(
                nid,
                label,
                ctype,
                10 + 3 * math.sqrt(papers),
                f"{label}\n{ctype.title()} · {papers} shared papers · hop {hop}",
            )
        )
        data.edges.append(ViewEdge(via, nid, float(papers), f"{papers} papers link them"))
    return data


def similarity_data(paper_id: str, title: str, similar: Sequence[dict[str, Any]]) -> ViewData:
    """A paper, its most similar papers, and the shared concepts that link them (as edge tooltips)."""
    data = ViewData(heading=f"Papers related to {title}")
    center = f"paper:{paper_id}"
    data.nodes.append(ViewNode(center, _short(title), "PAPER", 28, f"{title}\n{paper_id}"))
    for s in similar:
        nid = f"paper:{s['paper']}"
        shared = [str(x) for x in s["shared"]]
        score = float(s["score"])
        data.nodes.append(
            ViewNode(
                nid, _short(str(s["title"])), "PAPER", 10 + 3 * score, f"{s['title']}\n{s['paper']} · score {score:.2f}"
            )
        )
        data.edges.append(ViewEdge(center, nid, score, "shared: " + ", ".join(shared)))
    return data


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# --- the overview map: topics as regions, their telling concepts inside (one layout, two pages) ---

#: concepts drawn on the overview at most, and topics (largest first): enough for a map, few
#: enough that the page draws at once whatever the corpus size
OVERVIEW_BUDGET = 320
OVERVIEW_TOPICS = 48
_UNIT = 26.0  # world units a drawn concept needs around it (the disc of a topic of n: _UNIT * sqrt(n) * 1.6)


def _disc_radius(n: int) -> float:
    return _UNIT * 1.7 * math.sqrt(max(1, n)) + _UNIT


def _spread_in_disc(
    pos: dict[str, tuple[float, float]], order: list[str], radius: float
) -> dict[str, tuple[float, float]]:
    """Keep each node's angle from the layout, give radii evenly by rank (first nearest the centre)."""
    if len(order) == 1:
        return {order[0]: (0.0, 0.0)}
    cx = sum(x for x, _ in pos.values()) / len(pos)
    cy = sum(y for _, y in pos.values()) / len(pos)
    ranked = sorted(order, key=lambda n: (math.hypot(pos[n][0] - cx, pos[n][1] - cy), order.index(n)))
    out = {}
    for i, n in enumerate(ranked):
        a = math.atan2(pos[n][1] - cy, pos[n][0] - cx)
        rr = radius * math.sqrt((i + 0.5) / len(ranked))
        out[n] = (rr * math.cos(a), rr * math.sin(a))
    return out


def _pack_discs(centres: dict[str, list[float]], radii: dict[str, float], iterations: int = 400) -> None:
    """Separate overlapping discs and pull them together (in place), deterministic."""
    names = sorted(centres, key=lambda t: (-radii[t], t))
    gap = _UNIT * 0.6
    for it in range(iterations):
        pull = 0.04 if it < iterations * 0.6 else 0.0
        for t in names:  # pulled harder up-down than sideways: a map wider than tall, like a screen
            c = centres[t]
            c[0] -= c[0] * pull * 0.3
            c[1] -= c[1] * pull
        moved = False
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                ca, cb = centres[a], centres[b]
                dx, dy = cb[0] - ca[0], cb[1] - ca[1]
                d = math.hypot(dx, dy)
                need = radii[a] + radii[b] + gap
                if d >= need:
                    continue
                moved = True
                if d < 1e-9:
                    dx, dy, d = 1.0, 0.0, 1.0
                push = (need - d) / d
                wa = radii[b] ** 2 / (radii[a] ** 2 + radii[b] ** 2)
                ca[0] -= dx * push * wa
                ca[1] -= dy * push * wa
                cb[0] += dx * push * (1 - wa)
                cb[1] += dy * push * (1 - wa)
        if not moved and pull == 0.0:
            break


def _pull_in(
    pos: dict[str, tuple[float, float]],
    members: list[list[str]],
    centres: dict[int, list[float]],
    radii: dict[int, float],
    drawn: Sequence[tuple[int, str, str]],
) -> None:
    """Bring what is not connected to the main component within its reach (in place).

    The main component is the largest connected piece of the drawn graph; its reach is the
    farthest of its nodes from its centroid. A topic none of whose concepts is in it, lying partly
    beyond the reach, moves to the free spot inside the reach nearest where it was; a lone concept
    of another topic moves towards its topic's centre until within the reach.
    """
    h = nx.Graph()
    h.add_nodes_from(pos)
    h.add_edges_from((a, b) for _, a, b in drawn)
    if not h.number_of_nodes():
        return
    main = max(nx.connected_components(h), key=lambda c: (len(c), min(c)))
    cx = sum(pos[m][0] for m in main) / len(main)
    cy = sum(pos[m][1] for m in main) / len(main)
    reach = max(math.hypot(pos[m][0] - cx, pos[m][1] - cy) for m in main)

    def beyond(m: str) -> bool:
        return math.hypot(pos[m][0] - cx, pos[m][1] - cy) > reach - 1e-6

    gap = _UNIT * 0.6
    for ti, ms in enumerate(members):
        if any(m in main for m in ms) or not any(beyond(m) for m in ms):
            continue
        r = radii[ti]
        best: tuple[float, float, float] | None = None
        ring = 0.0
        while ring + r < reach:
            steps = max(1, int(2 * math.pi * ring / (r * 0.5)))
            for k in range(steps):
                a = 2 * math.pi * k / steps
                x, y = cx + ring * math.cos(a), cy + ring * math.sin(a)
                if all(math.hypot(x - c[0], y - c[1]) >= r + radii[o] + gap for o, c in centres.items() if o != ti):
                    d = math.hypot(x - centres[ti][0], y - centres[ti][1])
                    if best is None or d < best[0]:
                        best = (d, x, y)
            ring += r * 0.5
        if best is not None:
            dx, dy = best[1] - centres[ti][0], best[2] - centres[ti][1]
            centres[ti] = [best[1], best[2]]
            for m in ms:
                pos[m] = (pos[m][0] + dx, pos[m][1] + dy)
    for ti, ms in enumerate(members):
        for m in ms:
            if m in main or not beyond(m):
                continue
            x0, y0 = pos[m]
            tx, ty = centres[ti]
            for step in range(1, 21):
                t = step / 20
                pos[m] = (x0 + (tx - x0) * t, y0 + (ty - y0) * t)
                if not beyond(m):
                    break


def overview_layout(
    concepts: dict[str, dict[str, Any]],
    pairs: Iterable[tuple[str, str, int]],
    topics: Sequence[tuple[str, str, Sequence[str]]],
    budget: int = OVERVIEW_BUDGET,
    max_topics: int = OVERVIEW_TOPICS,
    heading: str = "",
) -> dict[str, Any]:
    """The overview map as plain data: topics as discs, their most telling concepts inside.

    ``concepts``: id -> {label, type, papers}; ``pairs``: (a, b, papers mentioning both);
    ``topics``: (id, name, member ids, most telling first), largest first. The first
    ``max_topics`` topics share ``budget`` concepts by size (at least 3 each); each shows its
    naming concepts, then its most-mentioned ones. One pass over the pairs picks the drawn
    edges (a maximum spanning forest, then each node's strongest links) and the weights between
    topics. ForceAtlas2 (networkx, fixed seed) lays out the topics, discs sized by their concepts
    are packed together (unconnected topics fill the gaps beside the rest), and ForceAtlas2 lays
    out each topic's concepts inside its disc. Coordinates are world units; the page fits them.
    """
    shown = [t for t in topics if t[2]][:max_topics]
    total = sum(len(t[2]) for t in shown) or 1
    selected: dict[str, int] = {}  # concept id -> topic index
    members: list[list[str]] = []
    for ti, (_tid, _name, ms) in enumerate(shown):
        quota = min(len(ms), max(3, round(budget * len(ms) / total)))
        names = [m for m in ms[:3] if m in concepts]
        rest = heapq.nsmallest(
            quota - len(names), (m for m in ms[3:] if m in concepts), key=lambda m: (-concepts[m].get("papers", 0), m)
        )
        chosen = names + rest
        members.append(chosen)
        for m in chosen:
            selected[m] = ti
    between: dict[tuple[int, int], float] = defaultdict(float)
    inner: list[tuple[int, str, str]] = []
    for a, b, n in pairs:
        ta, tb = selected.get(a), selected.get(b)
        if ta is None or tb is None:
            continue
        if ta != tb:
            between[(min(ta, tb), max(ta, tb))] += n
        inner.append((n, a, b) if a < b else (n, b, a))
    inner.sort(key=lambda e: (-e[0], e[1], e[2]))
    # edges drawn: a maximum spanning forest (keeps what is connected, connected), then up to 3 more each
    forest = nx.Graph()
    forest.add_weighted_edges_from((a, b, n) for n, a, b in inner)
    keep = {(a, b) if a < b else (b, a) for a, b in nx.maximum_spanning_edges(forest, data=False)}
    per: dict[str, int] = defaultdict(int)
    for _n, a, b in inner:
        if (a, b) in keep:
            continue
        if per[a] < 3 and per[b] < 3 and selected[a] == selected[b]:
            keep.add((a, b))
            per[a] += 1
            per[b] += 1
    drawn = [(n, a, b) for n, a, b in inner if (a, b) in keep]
    # topics: ForceAtlas2 on the topic graph, then discs packed
    radii = {ti: _disc_radius(len(ms)) for ti, ms in enumerate(members)}
    tg = nx.Graph()
    tg.add_nodes_from(range(len(members)))
    tg.add_weighted_edges_from((a, b, w) for (a, b), w in sorted(between.items()))
    if len(members) > 1:
        tpos = nx.forceatlas2_layout(
            tg,
            seed=7,
            max_iter=300,
            weight="weight",
            gravity=2.0,
            node_size={t: radii[t] / _UNIT for t in tg},
            linlog=False,
        )
        xs = [float(p[0]) for p in tpos.values()]
        ys = [float(p[1]) for p in tpos.values()]
        span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
        world = 2.2 * math.sqrt(sum(r * r for r in radii.values()))
        centres = {
            t: [
                (float(tpos[t][0]) - sum(xs) / len(xs)) / span * world,
                (float(tpos[t][1]) - sum(ys) / len(ys)) / span * world,
            ]
            for t in tg
        }
        _pack_discs(centres, radii)  # type: ignore[arg-type]
    else:
        centres = {0: [0.0, 0.0]} if members else {}
    centres = {int(t): c for t, c in centres.items()}
    # concepts inside each disc
    pos: dict[str, tuple[float, float]] = {}
    by_topic: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for n, a, b in inner:
        if selected[a] == selected[b]:
            by_topic[selected[a]].append((a, b, n))
    for ti, ms in enumerate(members):
        sub = nx.Graph()
        sub.add_nodes_from(ms)
        sub.add_weighted_edges_from(by_topic[ti])
        local = (
            nx.forceatlas2_layout(sub, seed=11, max_iter=150, weight="weight", gravity=1.0)
            if len(ms) > 1
            else {ms[0]: (0, 0)}
        )
        spread = _spread_in_disc({m: (float(local[m][0]), float(local[m][1])) for m in ms}, ms, radii[ti] - _UNIT * 0.8)
        cx, cy = centres[ti]
        for m in ms:
            pos[m] = (cx + spread[m][0], cy + spread[m][1])
    _pull_in(pos, members, centres, radii, drawn)
    index = {m: i for i, m in enumerate(m for ms in members for m in ms)}
    out_topics = []
    for ti, (tid, name, ms) in enumerate(shown):
        out_topics.append(
            {
                "id": tid,
                "label": name,
                "x": round(centres[ti][0], 1),
                "y": round(centres[ti][1], 1),
                "r": round(radii[ti], 1),
                "size": len(ms),
                "shown": len(members[ti]),
            }
        )
    out_nodes = []
    for ti, ms in enumerate(members):
        for rank, m in enumerate(ms):
            c = concepts[m]
            out_nodes.append(
                {
                    "id": m,
                    "label": c["label"],
                    "type": c["type"],
                    "papers": int(c.get("papers", 0)),
                    "topic": ti,
                    "name": rank < 3,
                    "x": round(pos[m][0], 1),
                    "y": round(pos[m][1], 1),
                }
            )
    return {
        "heading": heading or "kg overview: topics and their concepts",
        "topics": out_topics,
        "nodes": out_nodes,
        "edges": [[index[a], index[b], n] for n, a, b in drawn],
    }


def overview_from_graph(g: nx.MultiDiGraph, topics: Sequence[Any], budget: int = OVERVIEW_BUDGET) -> dict[str, Any]:
    """:func:`overview_layout` for a built graph and its :class:`kg.graph.Topic` list."""
    concepts = {
        n.split(":", 1)[1]: {"label": d["label"], "type": d["type"], "papers": d.get("papers", 0)}
        for n, d in g.nodes(data=True)
        if d.get("kind") == "concept"
    }
    pairs = (
        (a.split(":", 1)[1], b.split(":", 1)[1], int(d["papers"]))
        for a, b, k, d in g.edges(keys=True, data=True)
        if k == "cooccurs"
    )
    return overview_layout(concepts, pairs, [(t.id, topic_name(t.label), t.members) for t in topics], budget)


def topic_name(label: str, n: int = 2) -> str:
    """A topic's short name: its first ``n`` naming concepts."""
    return ", ".join(label.split(", ")[:n])


def _static(name: str) -> str:
    return (Path(__file__).parent.parent / "web" / "static" / name).read_text(encoding="utf-8")


def overview_page(data: dict[str, Any]) -> str:
    """The overview as one offline page: the explorer's script and style inlined, the data as JSON."""
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    legend = " ".join(
        f'<span class="key"><span class="dot" style="background:{c}"></span>{t.lower()}</span>'
        for t, c in TYPE_COLOURS.items()
        if t != "PAPER"
    )
    title = html.escape(data.get("heading", "kg overview"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; color: #222; }}
.bar {{ padding: .5em 1em; display: flex; gap: 1.2em; align-items: baseline; flex-wrap: wrap; }}
.dot {{ display: inline-block; width: .7em; height: .7em; border-radius: 50%; margin-right: .3em; }}
.key {{ margin-right: .8em; color: #444; }}
{type_css()}{_static("overview.css")}
</style></head>
<body>
<div class="bar"><b>{title}</b> <span>{legend}</span><small>{len(data.get("topics", []))} topics, {len(data.get("nodes", []))} concepts · wheel to zoom, drag to pan, click a topic or a concept</small></div>
<div id="overview" class="overview full"></div>
<script id="kg-overview-data" type="application/json">{blob}</script>
<script>{_static("overview.js")}</script>
</body></html>
"""


def write_overview(
    g: nx.MultiDiGraph, topics: Sequence[Any], out: Path, budget: int = OVERVIEW_BUDGET
) -> dict[str, Any]:
    """Write ``overview.json`` (read by the explorer's /overview) and ``graph.html`` (offline) into ``out``."""
    data = overview_from_graph(g, topics, budget)
    atomic_write_text(out / "overview.json", json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    atomic_write_text(out / "graph.html", overview_page(data))
    return data
