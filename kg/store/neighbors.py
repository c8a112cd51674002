"""Concept neighbourhoods: related concepts and the papers that link them, strongest first."""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.errors import ConceptNotFound
from kg.graph import association_strength
from kg.schema import LABELS, TYPE_OF_IRI
from kg.store import run_query

__all__ = ["Neighbour", "Neighbourhood", "find_concept", "hierarchy", "neighbourhood", "suggest"]


@dataclass
class Neighbour:
    concept: str  # concept IRI
    label: str
    type: str
    hop: int
    via: str  # IRI of the concept it is reached from
    via_label: str
    papers: list[str] = field(default_factory=list)  # titles of the linking papers
    score: float = 0.0  # association strength: shared·N / (df_a·df_b)


@dataclass
class Neighbourhood:
    concept: str
    label: str
    type: str
    paper_count: int
    neighbours: list[Neighbour] = field(default_factory=list)
    #: a general concept (the hierarchy's head of narrower concepts, named by no paper alone): its
    #: papers and neighbours are those of its narrower concepts
    through_narrower: bool = False
    broader: list[dict[str, str]] = field(default_factory=list)  # concept, label, papers, rule, evidence
    narrower: list[dict[str, str]] = field(default_factory=list)


def _labels(store: ox.Store) -> dict[str, list[str]]:
    res = run_query(store, "SELECT ?c ?l WHERE { ?c a skos:Concept ; skos:prefLabel|skos:altLabel ?l }")
    out: dict[str, list[str]] = defaultdict(list)
    for sol in res:  # type: ignore[union-attr]
        out[sol["l"].value].append(sol["c"].value)
    return out


def suggest(store: ox.Store, name: str, n: int = 5) -> list[str]:
    """The labels closest to ``name`` (spelling first, then containment)."""
    labels = sorted(_labels(store))
    lower = {lab.lower(): lab for lab in labels}
    close = difflib.get_close_matches(name.lower(), list(lower), n=n, cutoff=0.6)
    out = [lower[c] for c in close]
    for lab in labels:
        if len(out) >= n:
            break
        if name.lower() in lab.lower() and lab not in out:
            out.append(lab)
    return out[:n]


def find_concept(store: ox.Store, name: str) -> str:
    """The IRI of the concept whose label or alias is ``name`` (case-insensitive); the most-mentioned wins."""
    q = """SELECT ?name ?c ?n WHERE { ?c skos:hiddenLabel ?name ; kg:paperCount ?n . }
           ORDER BY DESC(?n) ?c LIMIT 1"""
    rows = list(run_query(store, q, {"name": name.strip().lower()}))  # type: ignore[arg-type]
    if not rows:
        raise ConceptNotFound(name, suggest(store, name))
    return str(rows[0]["c"].value)


def hierarchy(store: ox.Store, concept: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The concept's broader and narrower concepts (most papers first), with each link's rule and evidence."""
    from kg.namespace import PREFIXES
    from kg.queries import lib_query

    rows = store.query(
        lib_query("hierarchy"),
        prefixes=PREFIXES,
        substitutions={ox.Variable("c"): ox.NamedNode(concept)},
    )
    out: dict[str, list[dict[str, str]]] = {"up": [], "down": []}
    for sol in rows:  # type: ignore[union-attr]
        out[sol["dir"].value].append(
            {
                "concept": sol["o"].value,
                "label": sol["label"].value,
                "papers": sol["n"].value,
                "rule": sol["rule"].value,
                "evidence": sol["ev"].value,
            }
        )
    return out["up"], out["down"]


def neighbourhood(store: ox.Store, name: str, hops: int = 1, limit: int = 15) -> Neighbourhood:
    """The concept named ``name`` and up to ``limit`` neighbours per hop, strongest first.

    Two concepts are neighbours when papers mention both; strength is the number of such
    papers, ties broken by association strength (rarer pairs first).
    """
    center = find_concept(store, name)
    rows = run_query(store, """SELECT ?p ?title ?c WHERE { ?p kg:mentions ?c ; dcterms:title ?title }""")
    papers_of: dict[str, set[str]] = defaultdict(set)
    concepts_of: dict[str, set[str]] = defaultdict(set)
    titles: dict[str, str] = {}
    for sol in rows:  # type: ignore[union-attr]
        p, c = sol["p"].value, sol["c"].value
        papers_of[c].add(p)
        concepts_of[p].add(c)
        titles[p] = sol["title"].value
    meta: dict[str, tuple[str, str]] = {}
    for sol in run_query(
        store, "SELECT ?c ?l ?t WHERE { ?c a skos:Concept ; skos:prefLabel ?l ; a ?t . FILTER(?t != skos:Concept) }"
    ):  # type: ignore[union-attr]
        meta[sol["c"].value] = (sol["l"].value, TYPE_OF_IRI.get(sol["t"].value, LABELS[0]))
    n_papers = max(1, len(concepts_of))

    def ranked(src: str, exclude: set[str]) -> list[tuple[str, list[str], float]]:
        shared: dict[str, list[str]] = defaultdict(list)
        for p in papers_of[src]:
            for c in concepts_of[p]:
                if c not in exclude and c != src:
                    shared[c].append(p)
        out = []
        for c, ps in shared.items():
            strength = association_strength(len(ps), n_papers, len(papers_of[src]), len(papers_of[c]))
            out.append((c, sorted(ps, key=lambda p: titles[p]), strength))
        out.sort(key=lambda x: (-len(x[1]), -x[2], meta.get(x[0], ("", ""))[0]))
        return out[:limit]

    label, ctype = meta.get(center, (name, LABELS[0]))
    result = Neighbourhood(center, label, ctype, len(papers_of[center]))
    result.broader, result.narrower = hierarchy(store, center)
    seen = {center}
    if not papers_of[center] and result.narrower:
        for n in result.narrower:
            papers_of[center] |= papers_of[n["concept"]]
            seen.add(n["concept"])
        result.paper_count, result.through_narrower = len(papers_of[center]), True
    frontier = [center]
    for hop in range(1, max(1, hops) + 1):
        nxt: list[str] = []
        for src in frontier:
            for c, ps, strength in ranked(src, seen):
                if c in seen:
                    continue
                seen.add(c)
                nxt.append(c)
                lab, typ = meta.get(c, (c, LABELS[0]))
                result.neighbours.append(
                    Neighbour(
                        c,
                        lab,
                        typ,
                        hop,
                        src,
                        meta.get(src, (src, ""))[0],
                        [titles[p] for p in ps],
                        round(strength, 3),
                    )
                )
        frontier = nxt[:limit] if hop == 1 else nxt
    return result
