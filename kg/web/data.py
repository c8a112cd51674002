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

from kg.namespace import PREFIXES

__all__ = [
    "Segment",
    "search",
    "top_concepts",
    "concept_page",
    "paper_page",
    "concept_graph",
    "overview_graph",
    "topic_page",
    "highlight",
]

TYPES = {
    "https://w3id.org/kg-lit/ontology#Method": "METHOD",
    "https://w3id.org/kg-lit/ontology#Task": "TASK",
    "https://w3id.org/kg-lit/ontology#Dataset": "DATASET",
    "https://w3id.org/kg-lit/ontology#Metric": "METRIC",
}
DATA = "https://w3id.org/kg-lit/id/"


def _q(store: ox.Store, query: str, **params: str | ox.NamedNode) -> list[dict[str, str]]:
    subs = {ox.Variable(k): (v if isinstance(v, ox.NamedNode) else ox.Literal(v)) for k, v in params.items()}
    res = store.query(query, prefixes=PREFIXES, substitutions=subs)  # type: ignore[arg-type]
    assert isinstance(res, ox.QuerySolutions)
    names = [v.value for v in res.variables]
    return [{n: (sol[n].value if sol[n] is not None else "") for n in names} for sol in res]


def _cid(iri: str) -> str:
    """A concept IRI's id, decoded (the inverse of :func:`kg.rdf.concept_iri`)."""
    return unquote(iri.rsplit("/concept/", 1)[-1])


def _concept_node(cid: str) -> ox.NamedNode:
    """The concept IRI for an id from a URL: minted as the build mints it, so any text is a valid IRI."""
    from kg.rdf import concept_iri

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


def search(store: ox.Store, text: str, limit: int = 12) -> list[dict[str, str]]:
    """Concepts whose label or alias contains ``text`` (most-mentioned first), then paper titles."""
    key = text.strip().lower()
    if len(key) < 2:
        return []
    concepts = _q(store, """SELECT ?key ?c ?label ?type ?n WHERE {
        ?c skos:hiddenLabel ?h ; skos:prefLabel ?label ; kg:paperCount ?n ; a ?type .
        FILTER(?type != skos:Concept && CONTAINS(?h, ?key))
      } ORDER BY DESC(STRSTARTS(?h, ?key)) DESC(?n) ?label LIMIT 200""", key=key)
    seen: set[str] = set()
    out = []
    for r in concepts:
        if r["c"] in seen:
            continue
        seen.add(r["c"])
        out.append({"kind": "concept", "id": _cid(r["c"]), "label": r["label"],
                    "detail": f"{TYPES.get(r['type'], '').lower()} · {r['n']} papers"})
        if len(out) >= limit:
            return out
    papers = _q(store, """SELECT ?key ?id ?title WHERE { ?p dcterms:identifier ?id ; dcterms:title ?title .
        FILTER(CONTAINS(LCASE(?title), ?key)) } ORDER BY ?title LIMIT 20""", key=key)
    for r in papers[: limit - len(out)]:
        out.append({"kind": "paper", "id": r["id"], "label": r["title"], "detail": "paper"})
    return out


def top_concepts(store: ox.Store, per_type: int = 10) -> dict[str, list[dict[str, str]]]:
    rows = _q(store, """SELECT ?c ?label ?type ?n WHERE { ?c a ?type ; skos:prefLabel ?label ; kg:paperCount ?n .
        FILTER(?type != skos:Concept) } ORDER BY DESC(?n) ?label""")
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        t = TYPES.get(r["type"])
        if t and len(out[t]) < per_type:
            out[t].append({"id": _cid(r["c"]), "label": r["label"], "papers": r["n"]})
    return {t: out[t] for t in ("METHOD", "TASK", "DATASET", "METRIC")}


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


def concept_page(store: ox.Store, cid: str, max_papers: int = 50) -> ConceptPage | None:
    node = _concept_node(cid)
    rows = _q(store, """SELECT ?c ?label ?type ?n ?m ?amb WHERE {
        ?c skos:prefLabel ?label ; kg:paperCount ?n ; kg:mentionCount ?m ; a ?type .
        FILTER(?type != skos:Concept) OPTIONAL { ?c kg:ambiguous ?amb } }""", c=node)
    if not rows:
        return None
    r = rows[0]
    page = ConceptPage(cid, r["label"], TYPES.get(r["type"], ""), int(r["n"]), int(r["m"]), ambiguous=r["amb"] == "true")
    page.aliases = [x["a"] for x in _q(store, "SELECT ?c ?a WHERE {  ?c skos:altLabel ?a } ORDER BY ?a", c=node)]
    topic = _q(store, "SELECT ?c ?l WHERE {  ?t skos:member ?c ; skos:prefLabel ?l } LIMIT 1", c=node)
    page.topic = topic[0]["l"] if topic else ""
    ev = _q(store, """SELECT ?c ?pid ?title ?role ?surface ?start ?sstart ?text WHERE {
        ?m kg:denotes ?c ; kg:inPaper ?p ; kg:role ?role ; kg:surfaceForm ?surface ; kg:startOffset ?start ;
           kg:inSentence ?s .
        ?s kg:startOffset ?sstart ; schema:text ?text .
        ?p dcterms:identifier ?pid ; dcterms:title ?title .
      } ORDER BY DESC(?role) ?title ?start LIMIT 400""", c=node)
    by_paper: dict[str, dict[str, Any]] = {}
    for e in ev:
        rec = by_paper.setdefault(e["pid"], {"paper": e["pid"], "title": e["title"], "role": e["role"], "segments": None})
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
        {"id": _cid(x["o"]), "label": x["label"], "type": TYPES.get(x["type"], ""), "shared": x["shared"]}
        for x in _q(store, """SELECT ?c ?o ?label ?type (COUNT(DISTINCT ?p) AS ?shared) WHERE {
            ?p kg:mentions ?c ; kg:mentions ?o . FILTER(?o != ?c)
            ?o skos:prefLabel ?label ; a ?type . FILTER(?type != skos:Concept) }
          GROUP BY ?c ?o ?label ?type ORDER BY DESC(?shared) ?label LIMIT 15""", c=node)
    ]
    names = {"usedFor": "used for", "evaluatedOn": "evaluated on", "measuredBy": "measured by",
             "comparedWith": "compared with", "partOf": "part of"}
    rel = _q(store, """SELECT ?c ?dir ?prop ?o ?label (COUNT(DISTINCT ?p) AS ?papers) WHERE {
        { ?r rdf:subject ?c ; rdf:predicate ?prop ; rdf:object ?o . BIND("out" AS ?dir) }
        UNION { ?r rdf:object ?c ; rdf:predicate ?prop ; rdf:subject ?o . BIND("in" AS ?dir) }
        ?r kg:inPaper ?p . ?o skos:prefLabel ?label }
      GROUP BY ?c ?dir ?prop ?o ?label ORDER BY DESC(?papers) ?label LIMIT 30""", c=node)
    page.relations = [{"dir": x["dir"], "relation": names.get(x["prop"].rsplit("#", 1)[-1], ""), "id": _cid(x["o"]),
                       "label": x["label"], "papers": x["papers"]} for x in rel]
    return page


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
    rows = _q(store, """SELECT ?pid ?title ?abstract ?date WHERE { ?p dcterms:identifier ?pid ; dcterms:title ?title .
        OPTIONAL { ?p dcterms:abstract ?abstract } OPTIONAL { ?p dcterms:date ?date } } LIMIT 1""", pid=pid)
    if not rows:
        return None
    r = rows[0]
    title, abstract = r["title"], r["abstract"]
    ms = _q(store, """SELECT ?pid ?start ?end ?surface ?c ?type WHERE { ?p dcterms:identifier ?pid .
        ?m kg:inPaper ?p ; kg:startOffset ?start ; kg:endOffset ?end ; kg:surfaceForm ?surface ; kg:denotes ?c ;
           kg:entityType ?type }""", pid=pid)
    text = f"{title}\n{abstract}"
    spans = [(int(m["start"]), int(m["end"]), TYPES.get(m["type"], ""), _cid(m["c"])) for m in ms
             if text[int(m["start"]):int(m["end"])] == m["surface"]]
    cut = len(title)
    title_spans = [s for s in spans if s[1] <= cut]
    abstract_spans = [(s - cut - 1, e - cut - 1, t, c) for s, e, t, c in spans if s > cut]
    proposes = [{"id": _cid(x["c"]), "label": x["label"], "type": TYPES.get(x["type"], "")} for x in _q(
        store, """SELECT ?pid ?c ?label ?type WHERE { ?p dcterms:identifier ?pid ; kg:proposes ?c .
        ?c skos:prefLabel ?label ; a ?type . FILTER(?type != skos:Concept) } ORDER BY ?label""", pid=pid)]
    from kg.store import similar_papers

    urls = [x["u"] for x in _q(store, "SELECT ?pid ?u WHERE { ?p dcterms:identifier ?pid ; schema:url ?u }", pid=pid)]
    return PaperPage(pid, title, r["date"], highlight(abstract, abstract_spans), highlight(title, title_spans),
                     proposes, similar_papers(store, pid)[:10], urls)


def concept_graph(store: ox.Store, cid: str, limit: int = 25) -> dict[str, Any]:
    """Nodes and edges of a concept's neighbourhood for vis-network (plain text labels and titles)."""
    page = concept_page(store, cid, max_papers=0)
    if page is None:
        return {"nodes": [], "edges": []}
    nodes = [{"id": cid, "label": page.label, "title": f"{page.label} ({page.type.lower()}, {page.papers} papers)",
              "group": page.type, "value": 30}]
    edges = []
    for n in page.neighbours[:limit]:
        nodes.append({"id": n["id"], "label": n["label"], "title": f"{n['label']} ({n['type'].lower()})",
                      "group": n["type"], "value": 10 + 4 * math.sqrt(int(n["shared"]))})
        edges.append({"from": cid, "to": n["id"], "value": int(n["shared"]), "title": f"{n['shared']} shared papers"})
    return {"nodes": nodes, "edges": edges}


def overview_graph(store: ox.Store, store_dir: Path | None = None) -> dict[str, Any]:
    """The overview map: the build's ``overview.json`` beside the store, laid out at build time
    by :func:`kg.views.overview_layout` (the same data ``graph.html`` draws); for a store without
    it, the same layout computed here from the store's concepts, topics and co-occurrence."""
    from kg.views import overview_layout

    if store_dir is not None:
        path = Path(store_dir).parent / "overview.json"
        if path.is_file():
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return loaded
    concepts: dict[str, dict[str, Any]] = {_cid(r["c"]): {"label": r["label"], "type": TYPES.get(r["type"], ""), "papers": int(r["n"])}
                for r in _q(store, """SELECT ?c ?label ?type ?n WHERE { ?c a ?type ; skos:prefLabel ?label ;
                    kg:paperCount ?n . FILTER(?type != skos:Concept && ?n >= 2) }""")}
    members: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for r in _q(store, """SELECT ?t ?l ?c WHERE { ?t a skos:Collection ; skos:prefLabel ?l ; skos:member ?c }
                          ORDER BY ?t ?c"""):
        tid = unquote(r["t"].rsplit("/topic/", 1)[-1])
        names[tid] = r["l"]
        if _cid(r["c"]) in concepts:
            members[tid].append(_cid(r["c"]))
    topics = []
    for tid, ms in members.items():
        lead = {lab: i for i, lab in enumerate(names[tid].split(", "))}
        ms.sort(key=lambda c: (lead.get(concepts[c]["label"], len(lead)), -concepts[c]["papers"], c))
        topics.append((tid, ", ".join(names[tid].split(", ")[:2]), ms))
    topics.sort(key=lambda t: (-len(t[2]), t[0]))
    pairs = [(_cid(p["a"]), _cid(p["b"]), int(p["n"])) for p in _q(store, """SELECT ?a ?b (COUNT(DISTINCT ?p) AS ?n) WHERE {
        ?t skos:member ?a . ?p kg:mentions ?a , ?b . ?u skos:member ?b . FILTER(STR(?a) < STR(?b)) }
      GROUP BY ?a ?b HAVING (COUNT(DISTINCT ?p) >= 2)""")]
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
    from kg.rdf import mint

    node = ox.NamedNode(str(mint("topic", tid)))
    rows = _q(store, "SELECT ?t ?l WHERE { ?t a skos:Collection ; skos:prefLabel ?l }", t=node)
    if not rows:
        return None
    page = TopicPage(tid, rows[0]["l"], 0)
    by_type: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in _q(store, """SELECT ?t ?c ?label ?type ?n WHERE { ?t skos:member ?c . ?c skos:prefLabel ?label ; a ?type ;
            kg:paperCount ?n . FILTER(?type != skos:Concept) } ORDER BY DESC(?n) ?label""", t=node):
        by_type[TYPES.get(r["type"], "")].append({"id": _cid(r["c"]), "label": r["label"], "papers": r["n"]})
        page.size += 1
    page.members = {t: by_type[t] for t in ("METHOD", "TASK", "DATASET", "METRIC") if by_type.get(t)}
    page.papers = [{"id": r["pid"], "title": r["title"], "members": r["k"]} for r in _q(
        store, f"""SELECT ?t ?pid ?title (COUNT(DISTINCT ?c) AS ?k) WHERE {{ ?t skos:member ?c . ?p kg:mentions ?c ;
            dcterms:identifier ?pid ; dcterms:title ?title }} GROUP BY ?t ?pid ?title ORDER BY DESC(?k) ?title
            LIMIT {int(max_papers)}""", t=node)]
    page.neighbours = [{"id": unquote(r["o"].rsplit("/topic/", 1)[-1]), "label": r["l"], "papers": r["n"]} for r in _q(
        store, """SELECT ?t ?o ?l (COUNT(DISTINCT ?p) AS ?n) WHERE { ?t skos:member ?c . ?p kg:mentions ?c .
            ?p kg:mentions ?d . ?o skos:member ?d ; skos:prefLabel ?l . FILTER(?o != ?t) }
          GROUP BY ?t ?o ?l ORDER BY DESC(?n) ?l LIMIT 12""", t=node)]
    return page
