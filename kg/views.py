"""Views stage: graph data → self-contained interactive HTML (pyvis, no CDN).

Data first, rendering last: :func:`overview_data` and :func:`neighbourhood_data`
return plain node/edge lists (tested exactly); :func:`render_html` turns them
into a page with vis-network inlined, Bootstrap's CDN links stripped, a layout
computed ahead of time and physics off (so large views draw at once).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from kg.io import atomic_write_text

__all__ = ["ViewNode", "ViewEdge", "ViewData", "overview_data", "render_html", "TYPE_COLOURS"]

TYPE_COLOURS = {
    "METHOD": "#4e79a7",
    "TASK": "#f28e2b",
    "DATASET": "#59a14f",
    "METRIC": "#b07aa1",
    "PAPER": "#9c9c9c",
}


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


def overview_data(g: nx.MultiDiGraph, max_nodes: int = 150, max_edges_per_node: int = 8) -> ViewData:
    """The most-mentioned concepts and their strongest co-occurrence links."""
    concepts = [
        (n, d) for n, d in g.nodes(data=True) if d.get("kind") == "concept"
    ]
    concepts.sort(key=lambda nd: (-nd[1].get("papers", 0), nd[1].get("label", ""), nd[0]))
    keep = {n for n, _ in concepts[:max_nodes]}
    data = ViewData(heading="kg overview: most-mentioned concepts")
    for n, d in concepts[:max_nodes]:
        data.nodes.append(ViewNode(
            id=n, label=d["label"], type=d["type"], size=8 + 4 * math.sqrt(d.get("papers", 1)),
            title=f"{d['label']}\n{d['type'].title()} · {d.get('papers', 0)} papers",
        ))
    per_node: dict[str, int] = {}
    cands = [
        (a, b, d) for a, b, k, d in g.edges(keys=True, data=True)
        if k == "cooccurs" and a in keep and b in keep
    ]
    cands.sort(key=lambda e: (-e[2]["papers"], -e[2]["strength"], e[0], e[1]))
    for a, b, d in cands:
        if per_node.get(a, 0) >= max_edges_per_node or per_node.get(b, 0) >= max_edges_per_node:
            continue
        per_node[a] = per_node.get(a, 0) + 1
        per_node[b] = per_node.get(b, 0) + 1
        data.edges.append(ViewEdge(a, b, float(d["papers"]), f"{d['papers']} papers mention both"))
    return data


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
            "id": n.id, "label": n.label, "title": n.title, "shape": "dot", "size": round(n.size, 2),
            "color": TYPE_COLOURS.get(n.type, "#777777"), "group": n.type,
            "x": round(pos.get(n.id, (0.0, 0.0))[0], 2), "y": round(pos.get(n.id, (0.0, 0.0))[1], 2),
            "font": {"size": 14},
        }
        for n in data.nodes
    ]
    net.node_ids = [n.id for n in data.nodes]
    net.node_map = {n["id"]: n for n in net.nodes}
    net.edges = [
        {"from": e.source, "to": e.target, "value": e.weight, "title": e.title, "color": "#c8c8c8"}
        for e in data.edges
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
    center: str, center_label: str, center_type: str,
    neighbours: Sequence[tuple[str, str, str, int, float, str, int]],
) -> ViewData:
    """A concept and its neighbours: (id, label, type, shared papers, score, via, hop)."""
    data = ViewData(heading=f"Neighbourhood of {center_label}")
    data.nodes.append(ViewNode(center, center_label, center_type, 30, f"{center_label}\n{center_type.title()}"))
    for nid, label, ctype, papers, _score, via, hop in neighbours:
        data.nodes.append(ViewNode(nid, label, ctype, 10 + 3 * math.sqrt(papers),
                                   f"{label}\n{ctype.title()} · {papers} shared papers · hop {hop}"))
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
        data.nodes.append(ViewNode(nid, _short(str(s["title"])), "PAPER", 10 + 3 * score,
                                   f"{s['title']}\n{s['paper']} · score {score:.2f}"))
        data.edges.append(ViewEdge(center, nid, score, "shared: " + ", ".join(shared)))
    return data


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
