"""Graph stage: papers, concepts and mentions → a ``networkx.MultiDiGraph``.

Nodes are ``paper:<id>`` and ``concept:<id>``. Edges (edge key = kind):

- ``mentions`` paper → concept: ``role`` (proposed/used), ``count`` (mentions);
- ``similar`` paper → paper: ``score`` = Σ idf of shared concepts (rarer concepts
  weigh more), ``shared`` = the shared concept ids, strongest first; each paper
  keeps its ``top_k`` most similar;
- ``cooccurs`` concept → concept (lower id first): ``papers`` sharing both and
  ``strength`` (association strength, papers·N / (df_a·df_b)).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

from kg.records import Concept, Mention, Paper, Relation

__all__ = [
    "build_graph",
    "paper_concepts",
    "paper_similarities",
    "cooccurrences",
    "concept_topics",
    "Similarity",
    "Topic",
    "graph_counts",
]


@dataclass(frozen=True)
class Similarity:
    a: str
    b: str
    score: float
    shared: tuple[str, ...]


def paper_concepts(mentions: Iterable[Mention]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        if m.concept:
            out[m.paper_id].add(m.concept)
    return out


#: concepts in more papers than this never link papers for similarity (their idf is low:
#: log(n/500) < 5 at 75k papers against ~10 for a rare concept); it bounds the similarity work
#: by 500 x the number of (paper, concept) pairs, so it grows linearly with the corpus
MAX_SIMILARITY_DF = 500


def paper_similarities(
    paper_concepts: dict[str, set[str]], n_papers: int, top_k: int = 10, max_df_share: float = 0.2,
    max_df: int = MAX_SIMILARITY_DF,
) -> list[Similarity]:
    """Each paper's ``top_k`` most similar papers by the idf-weighted concepts they share.

    Concepts in more than ``max_df_share`` of the papers (and at least 20), or in more than
    ``max_df`` papers, are too common to link papers and are skipped. The work per paper is
    then at most ``max_df`` per concept it has: linear in the corpus. Scores are summed in
    concept-id order, so the result does not depend on set order (or the process).
    """
    df: Counter[str] = Counter()
    for cs in paper_concepts.values():
        df.update(cs)
    cap = min(max(20, int(max_df_share * n_papers)), max_df)
    idf = {c: math.log(n_papers / d) for c, d in df.items() if 2 <= d <= cap}
    del df
    ids = sorted(paper_concepts)
    # each paper's linking concepts in id order, and each concept's papers as ints in id order
    linking = [sorted(c for c in paper_concepts[p] if c in idf) for p in ids]
    index: dict[str, list[int]] = defaultdict(list)
    for i, cs in enumerate(linking):
        for c in cs:
            index[c].append(i)
    best: dict[tuple[int, int], Similarity] = {}
    for i, cs in enumerate(linking):
        if not cs:
            continue
        scores: dict[int, float] = defaultdict(float)
        for c in cs:
            w = idf[c]
            for j in index[c]:
                scores[j] += w
        scores.pop(i, None)
        # ties by paper id: j indexes ``ids`` in sorted order
        for j, s in heapq.nsmallest(top_k, scores.items(), key=lambda kv: (-kv[1], kv[0])):
            a, b = (i, j) if i < j else (j, i)
            if (a, b) in best:
                continue  # the same pair from the other side: the same shared set and score
            mine = set(cs)
            sh = tuple(sorted((c for c in linking[j] if c in mine), key=lambda c: (-idf[c], c)))
            best[(a, b)] = Similarity(ids[a], ids[b], round(s, 4), sh)
    return [best[k] for k in sorted(best)]


def cooccurrences(
    paper_concepts: dict[str, set[str]], n_papers: int, min_papers: int = 2
) -> list[tuple[str, str, int, float]]:
    """Concept pairs seen together in at least ``min_papers`` papers: (a, b, papers, strength).

    Counted one concept at a time over its papers (an inverted index), so memory holds one
    concept's partners rather than every pair of the corpus; the work is the sum over papers
    of their concepts squared, linear in the corpus. Sorted by (a, b).
    """
    df: Counter[str] = Counter()
    for cs in paper_concepts.values():
        df.update(cs)
    # a pair in >= min_papers papers needs both concepts in >= min_papers papers
    frequent = {c for c, d in df.items() if d >= min_papers}
    ids = sorted(paper_concepts)
    kept = [sorted(c for c in paper_concepts[p] if c in frequent) for p in ids]
    index: dict[str, list[int]] = defaultdict(list)
    for i, cs in enumerate(kept):
        for c in cs:
            index[c].append(i)
    out = []
    for a in sorted(index):
        partners: Counter[str] = Counter()
        for i in index[a]:
            cs = kept[i]
            partners.update(cs[bisect.bisect_right(cs, a):])
        for b in sorted(partners):
            n = partners[b]
            if n >= min_papers:
                out.append((a, b, n, round(n * n_papers / (df[a] * df[b]), 4)))
    return out


@dataclass(frozen=True)
class Topic:
    id: str
    label: str  # its top concepts' labels
    members: tuple[str, ...]  # concept ids, most-mentioned first


def concept_topics(g: nx.MultiDiGraph, min_size: int = 3, top: int = 3) -> list[Topic]:
    """Communities of the concept co-occurrence graph (Louvain, fixed seed), largest first.

    Each member concept node gets a ``topic`` attribute.

    Each becomes a topic labelled by its ``top`` most-mentioned concepts; its id is
    ``topic-<id of its most-mentioned concept>``, stable while that concept leads it.
    """
    h = nx.Graph()
    for a, b, k, d in g.edges(keys=True, data=True):
        if k == "cooccurs":
            h.add_edge(a, b, weight=d["papers"])
    if h.number_of_nodes() == 0:
        return []
    communities = nx.community.louvain_communities(h, weight="weight", seed=13)
    topics = []
    for com in communities:
        if len(com) < min_size:
            continue
        members = sorted(com, key=lambda n: (-g.nodes[n].get("papers", 0), g.nodes[n].get("label", ""), n))
        ids = tuple(n.split(":", 1)[1] for n in members)
        label = ", ".join(g.nodes[n]["label"] for n in members[:top])
        topics.append(Topic(id=f"topic-{ids[0]}", label=label, members=ids))
    topics.sort(key=lambda t: (-len(t.members), t.id))
    for t in topics:
        for cid in t.members:
            g.nodes[f"concept:{cid}"]["topic"] = t.id
    return topics


def build_graph(
    papers: Sequence[Paper], concepts: dict[str, Concept], mentions: Sequence[Mention], top_k: int = 10,
    relations: Sequence[Relation] = (), similarities: Sequence[Similarity] | None = None,
) -> nx.MultiDiGraph:
    """The graph of the records; ``similarities`` are computed here unless given (as ``kg build`` does)."""
    g: nx.MultiDiGraph = nx.MultiDiGraph()
    for p in papers:
        g.add_node(f"paper:{p.id}", kind="paper", label=p.title, date=p.date or "")
    for c in concepts.values():
        g.add_node(f"concept:{c.id}", kind="concept", label=c.label, type=c.type,
                   papers=c.paper_count, mentions=c.mention_count, ambiguous=c.ambiguous)
    counts: Counter[tuple[str, str]] = Counter()
    proposed: set[tuple[str, str]] = set()
    for m in mentions:
        counts[(m.paper_id, m.concept)] += 1
        if m.role == "proposed":
            proposed.add((m.paper_id, m.concept))
    for (pid, cid), n in sorted(counts.items()):
        g.add_edge(f"paper:{pid}", f"concept:{cid}", key="mentions", kind="mentions",
                   role="proposed" if (pid, cid) in proposed else "used", count=n)
    pc = paper_concepts(mentions)
    if similarities is None:
        similarities = paper_similarities(pc, len(papers), top_k=top_k)
    for s in similarities:
        g.add_edge(f"paper:{s.a}", f"paper:{s.b}", key="similar", kind="similar",
                   score=s.score, shared="|".join(s.shared))
    for a, b, n, strength in cooccurrences(pc, len(papers)):
        g.add_edge(f"concept:{a}", f"concept:{b}", key="cooccurs", kind="cooccurs", papers=n, strength=strength)
    rel_papers: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    rel_conf: dict[tuple[str, str, str], float] = defaultdict(float)
    for r in relations:
        rel_papers[(r.head, r.tail, r.type)].add(r.paper_id)
        rel_conf[(r.head, r.tail, r.type)] = max(rel_conf[(r.head, r.tail, r.type)], r.confidence)
    for (h, t, typ), ps in sorted(rel_papers.items()):
        g.add_edge(f"concept:{h}", f"concept:{t}", key=typ, kind=typ, papers=len(ps),
                   confidence=rel_conf[(h, t, typ)], paper_ids="|".join(sorted(ps)))
    return g


def graph_counts(g: nx.MultiDiGraph) -> dict[str, int]:
    """Edges by kind."""
    c: Counter[str] = Counter(k for _, _, k in g.edges(keys=True))
    return dict(sorted(c.items()))
