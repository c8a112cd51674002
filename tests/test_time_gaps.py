"""Time and gaps in the explorer: a concept's timeline, rising concepts, the method x dataset matrix,
and edges filtered by the papers that support them (issue 18, point 4)."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from kg.web import data

KG = "https://w3id.org/kg-lit/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
XSD_INT = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")

# concept id -> type; papers: id -> (date or None, concepts)
CONCEPTS = {
    "t": "Task",
    "m1": "Method",
    "m2": "Method",
    "d1": "Dataset",
    "d2": "Dataset",
    "old": "Method",
    "new": "Method",
}
PAPERS = {
    "p1": ("2020-01-10", ["t", "m1", "d1", "old"]),
    "p2": ("2020-02-10", ["t", "m2", "d1", "old"]),
    "p3": ("2020-02-20", ["t", "m1", "d2", "old"]),
    "p4": ("2024-11-01", ["new", "m1"]),
    "p5": ("2025-01-05", ["new", "m2"]),
    "p6": ("2025-03-05", ["new", "m1", "old"]),
    "p7": (None, ["m1"]),
    "p8": ("--05-01", ["m1"]),
}


def _iri(kind: str, x: str) -> ox.NamedNode:
    from kg.export.rdf import mint

    return ox.NamedNode(str(mint(kind, x)))


def _quads() -> list[ox.Quad]:
    q = []
    counts = {c: sum(c in cs for _, cs in PAPERS.values()) for c in CONCEPTS}
    for c, t in CONCEPTS.items():
        node = _iri("concept", c)
        q += [
            ox.Quad(node, RDF_TYPE, ox.NamedNode(KG + t)),
            ox.Quad(node, RDF_TYPE, ox.NamedNode(SKOS + "Concept")),
            ox.Quad(node, ox.NamedNode(SKOS + "prefLabel"), ox.Literal(f"<{c}> label")),
            ox.Quad(node, ox.NamedNode(SKOS + "hiddenLabel"), ox.Literal(f"<{c}> label")),
            ox.Quad(node, ox.NamedNode(KG + "paperCount"), ox.Literal(str(counts[c]), datatype=XSD_INT)),
            ox.Quad(node, ox.NamedNode(KG + "mentionCount"), ox.Literal(str(counts[c]), datatype=XSD_INT)),
        ]
    for p, (date, cs) in PAPERS.items():
        node = _iri("paper", p)
        q += [
            ox.Quad(node, ox.NamedNode(DCT + "identifier"), ox.Literal(p)),
            ox.Quad(node, ox.NamedNode(DCT + "title"), ox.Literal(f"Paper {p}")),
        ]
        if date:
            q.append(ox.Quad(node, ox.NamedNode(DCT + "date"), ox.Literal(date, datatype=XSD_DATE)))
        q += [ox.Quad(node, ox.NamedNode(KG + "mentions"), _iri("concept", c)) for c in cs]
    return q + _aggregates()


def _aggregates() -> list[ox.Quad]:
    """What the build materialises for these records (kg.export.rdf.aggregate_triples), as quads."""
    from kg.export.rdf import aggregate_triples
    from kg.records import Concept, Mention, Paper

    papers = [Paper(id=p, title=f"Paper {p}", abstract="", date=date) for p, (date, _) in PAPERS.items()]
    mentions = [
        Mention(p, 0, 1, c, t.upper(), concept=c) for p, (_, cs) in PAPERS.items() for c in cs for t in [CONCEPTS[c]]
    ]
    concepts = {
        c: Concept(id=c, label=f"<{c}> label", type=t.upper(), papers={p for p, (_, cs) in PAPERS.items() if c in cs})
        for c, t in CONCEPTS.items()
    }
    return [
        ox.Quad(ox.NamedNode(str(s)), ox.NamedNode(str(p)), _ox_term(o))
        for s, p, o in aggregate_triples(papers, concepts, mentions)
    ]


def _ox_term(o):  # an rdflib term as pyoxigraph's
    from rdflib import Literal

    if isinstance(o, Literal):
        return ox.Literal(str(o), datatype=ox.NamedNode(str(o.datatype))) if o.datatype else ox.Literal(str(o))
    return ox.NamedNode(str(o))


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("timegaps") / "store"
    st = ox.Store(str(d))
    st.extend(_quads())
    st.flush()
    del st
    return d


@pytest.fixture(scope="module")
def store(store_dir):
    return ox.Store.read_only(str(store_dir))


def test_timeline_counts_papers_per_month_with_gaps_and_undated(store):
    tl = data.concept_timeline(store, "m1")
    # p1 2020-01, p3 2020-02, p4 2024-11, p6 2025-03 dated; p7 and p8 (no year) undated; span > 36 months
    assert (tl.dated, tl.undated, tl.first, tl.last) == (4, 2, "2020-01", "2025-03")
    assert tl.unit == "quarter" and sum(n for _, n in tl.bins) == 4
    assert tl.bins[0] == ("2020-Q1", 2) and tl.bins[-1] == ("2025-Q1", 1) and tl.peak == "2020-Q1"
    assert any(n == 0 for _, n in tl.bins)  # quarters without a paper are shown, not skipped
    tl = data.concept_timeline(store, "new")
    assert tl.unit == "month" and [b for b in tl.bins if b[1]] == [("2024-11", 1), ("2025-01", 1), ("2025-03", 1)]
    assert len(tl.bins) == 5 and tl.first == "2024-11"
    assert data.concept_timeline(store, "nope").bins == []


def test_timeline_svg_is_deterministic_escaped_and_inline():
    tl = data.Timeline(bins=[("<b>&", 2), ("x", 0), ("y", 1)], unit="month", dated=3, first="<b>&", last="y")
    svg = data.timeline_svg(tl)
    assert svg == data.timeline_svg(tl)
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    assert svg.count("<rect") == 3 and "2 papers" in svg and "1 paper<" in svg and "0 papers" in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    assert data.timeline_svg(data.Timeline()) == ""


def test_rising_concepts_rank_the_recent_and_need_support(store):
    r = data.rising_concepts(store, months=12, min_papers=2)
    assert r["window"] == "2024-04 to 2025-03" and r["dated"] == 6
    ids = [x["id"] for x in r["rows"]]
    assert ids[0] == "new" and "old" not in ids  # old: 1 paper in the window, under the minimum
    new = r["rows"][0]
    assert (new["recent"], new["before"]) == (3, 0) and new["lift"] > 1
    # old: 1 of its 4 dated papers in the window, where the corpus has half of its own: declining, not rising
    assert "old" not in [x["id"] for x in data.rising_concepts(store, months=12, min_papers=1)["rows"]]
    assert data.rising_concepts(store, months=12, min_papers=4)["rows"] == []


def test_rising_concepts_named_query_agrees_with_the_page(store):
    from kg.store import collect, get_named_query, run_named, term_text

    res = collect(run_named(store, get_named_query("rising-concepts"), {}))
    got = [(term_text(r[0]), term_text(r[2]), term_text(r[3])) for r in res.rows]
    page = data.rising_concepts(store, months=12, min_papers=2)["rows"]
    assert got == [(x["label"], str(x["recent"]), str(x["before"])) for x in page]
    lifts = [float(term_text(r[5])) for r in res.rows]
    assert lifts == [x["lift"] for x in page]
    # it reads the build's ranking (kg:risingRank), not every paper's date
    text = get_named_query("rising-concepts").text
    assert "kg:risingRank" in text and "dcterms:date" not in text


def test_rising_page_reads_the_build_ranking_and_equals_counting(store, monkeypatch):
    """For the build's 12-month window the page reads kg:risingRank; counting from every dated
    paper-concept link gives the same rows."""
    read = data.rising_concepts(store, months=12, min_papers=2)
    assert read["rows"] and data._rising_materialised(store, 2, 30) == read
    monkeypatch.setattr(data, "_rising_materialised", lambda *a: None)
    assert data.rising_concepts(store, months=12, min_papers=2) == read
    assert data.rising_concepts(store, months=12, min_papers=3)["rows"] == read["rows"]  # new: 3 recent papers


def test_rising_ranking_is_materialised_with_its_window():
    from kg.export.rdf import rising_ranking

    triples = [(q.subject.value, q.predicate.value.rsplit("#", 1)[-1], q.object.value) for q in _aggregates()]
    ranked = [(s.rsplit("/", 1)[-1], o) for s, p, o in triples if p == "risingRank"]
    assert ranked == [("new", "1")]  # old: 2 of its 5 dated papers recent, fewer than the corpus's share
    window = {p: o for s, p, o in triples if "/window/" in s}
    assert window["firstMonth"] == "2024-04" and window["lastMonth"] == "2025-03"
    assert (window["recentPaperCount"], window["datedPaperCount"]) == ("3", "6")
    assert rising_ranking({}, []) == ((0, -1), [])


def test_matrix_shows_evaluated_combinations_and_gaps(store):
    m = data.matrix(store, task="t")
    assert m is not None and m["papers"] == 3
    rows, cols = [r["id"] for r in m["rows"]], [c["id"] for c in m["cols"]]
    assert set(rows) == {"m1", "m2", "old"} and cols == ["d1", "d2"]
    cell = {(r, c): m["cells"][i][j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
    assert cell[("m1", "d1")] == 1 and cell[("m1", "d2")] == 1 and cell[("m2", "d1")] == 1
    assert cell[("m2", "d2")] == 0 and m["gaps"] >= 1
    assert [p["id"] for p in data.papers_with(store, ["t", "m1", "d2"])] == ["p3"]
    assert data.matrix(store, task="no-such-task") is None
    mt = data.matrix(store, task="t", rows="method", cols="task")
    assert mt is not None and mt["cols"] == []  # the task itself is no column


def test_min_papers_filters_the_neighbourhood_edges(store):
    every = data.neighbour_graph(store, "m1")
    strong = data.neighbour_graph(store, "m1", min_papers=2)
    assert {e["to"] for e in every["edges"]} >= {"t", "d1", "d2", "old", "new"}
    assert {e["to"]: e["value"] for e in strong["edges"]} == {"t": 2, "old": 3, "new": 2}
    assert all(e["value"] >= 2 for e in strong["edges"]) and len(strong["nodes"]) == 4
    assert data.neighbour_graph(store, "m1", min_papers=9)["edges"] == []


def test_pages_over_http(store_dir):
    from starlette.testclient import TestClient

    from kg.web.serve import ServerConfig, create_app

    app = create_app(ServerConfig(store_dir, cache_bytes=1 << 20))
    with TestClient(app, base_url="http://127.0.0.1:8077") as c:
        body = c.get("/concept/m1").text
        assert '<svg class="timeline"' in body and "papers per quarter" in body and 'id="min-papers"' in body
        assert "&lt;m1&gt; label" in body and "<m1>" not in body
        g1 = c.get("/api/concept/m1/graph").json()
        g2 = c.get("/api/concept/m1/graph?min_papers=2").json()  # a different page of the cache
        assert len(g2["edges"]) < len(g1["edges"]) and g2["min_papers"] == 2
        body = c.get("/matrix?task=t").text
        links = re.findall(r'<td class="hit"[^>]*><a href="([^"]+)"', body)
        assert "/papers?c=t&amp;c=m1&amp;c=d2" in links and 'class="gap"' in body
        listing = c.get("/papers?c=t&c=m1&c=d2").text
        assert "Paper p3" in listing and "Paper p1" not in listing and "1 paper<" in listing
        assert c.get("/matrix?task=nope").status_code == 404
        assert c.get("/matrix?task=t&rows=method&cols=method").status_code == 400
        assert "&lt;t&gt; label" in c.get("/matrix").text  # the tasks to pick from
        body = c.get("/rising").text
        assert "/concept/new" in body and "2024-04 to 2025-03" in body
        assert "/concept/new" not in c.get("/rising?min_papers=4").text
        assert 'href="/rising"' in c.get("/").text


def test_kg_query_rising_concepts_runs(mini_build):
    from kg.cli import app

    r = CliRunner().invoke(
        app, ["query", "--name", "rising-concepts", "--store", str(mini_build / "store"), "-f", "csv"]
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].split(",")[:2] == ["label", "type"]
