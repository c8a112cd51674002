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
    "similarity_inputs",
    "similarity_rows",
    "merge_similarities",
    "cooccurrence_inputs",
    "cooccurrence_rows",
    "association_strength",
    "concept_topics",
    "topic_names",
    "topic_papers",
    "topic_coverage",
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


def similarity_inputs(
    paper_concepts: dict[str, set[str]],
    n_papers: int,
    max_df_share: float = 0.2,
    max_df: int = MAX_SIMILARITY_DF,
) -> tuple[list[str], list[list[str]], dict[str, list[int]], dict[str, float]]:
    """Paper ids in order, each paper's linking concepts (sorted), each concept's papers (as
    indexes into the ids) and the linking concepts' idf: what :func:`similarity_rows` reads."""
    df: Counter[str] = Counter()
    for concept_set in paper_concepts.values():
        df.update(concept_set)
    cap = min(max(20, int(max_df_share * n_papers)), max_df)
    idf = {c: math.log(n_papers / d) for c, d in df.items() if 2 <= d <= cap}
    del df
    ids = sorted(paper_concepts)
    linking = [sorted(c for c in paper_concepts[p] if c in idf) for p in ids]
    index: dict[str, list[int]] = defaultdict(list)
    for i, cs in enumerate(linking):
        for c in cs:
            index[c].append(i)
    return ids, linking, dict(index), idf


def similarity_rows(
    linking: list[list[str]],
    index: dict[str, list[int]],
    idf: dict[str, float],
    lo: int,
    hi: int,
    top_k: int = 10,
) -> list[tuple[int, int, float, tuple[str, ...]]]:
    """The ``top_k`` best (i, j, score, shared) of papers ``lo`` to ``hi - 1``, best first per paper.

    The work per paper is at most the capped posting length per concept it has. Papers can be
    split into ranges freely (as the Dask build does): the rows only depend on the paper.
    """
    out = []
    for i in range(lo, hi):
        cs = linking[i]
        if not cs:
            continue
        scores: dict[int, float] = defaultdict(float)
        for c in cs:
            w = idf[c]
            for j in index[c]:
                scores[j] += w
        scores.pop(i, None)
        mine = set(cs)
        # ties by paper id: j indexes the ids in sorted order
        for j, sc in heapq.nsmallest(top_k, scores.items(), key=lambda kv: (-kv[1], kv[0])):
            sh = tuple(sorted((c for c in linking[j] if c in mine), key=lambda c: (-idf[c], c)))
            out.append((i, j, sc, sh))
    return out


def merge_similarities(ids: list[str], rows: Iterable[tuple[int, int, float, tuple[str, ...]]]) -> list[Similarity]:
    """One :class:`Similarity` per pair from rows in paper order (the first side of a pair found wins)."""
    best: dict[tuple[int, int], Similarity] = {}
    for i, j, sc, sh in rows:
        a, b = (i, j) if i < j else (j, i)
        if (a, b) not in best:  # the same pair from the other side: the same shared set and score
            best[(a, b)] = Similarity(ids[a], ids[b], round(sc, 4), sh)
    return [best[k] for k in sorted(best)]


def paper_similarities(
    paper_concepts: dict[str, set[str]],
    n_papers: int,
    top_k: int = 10,
    max_df_share: float = 0.2,
    max_df: int = MAX_SIMILARITY_DF,
) -> list[Similarity]:
    """Each paper's ``top_k`` most similar papers by the idf-weighted concepts they share.

    Concepts in more than ``max_df_share`` of the papers (and at least 20), or in more than
    ``max_df`` papers, are too common to link papers and are skipped. The work per paper is
    then at most ``max_df`` per concept it has: linear in the corpus. Scores are summed in
    concept-id order, so the result does not depend on set order (or the process).
    """
    ids, linking, index, idf = similarity_inputs(paper_concepts, n_papers, max_df_share, max_df)
    return merge_similarities(ids, similarity_rows(linking, index, idf, 0, len(ids), top_k))


def cooccurrence_inputs(
    paper_concepts: dict[str, set[str]],
    min_papers: int = 2,
) -> tuple[dict[str, int], list[list[str]], dict[str, list[int]]]:
    """Concept document frequencies, each paper's concepts in >= ``min_papers`` papers (sorted),
    and those concepts' papers: what :func:`cooccurrence_rows` reads."""
    df: Counter[str] = Counter()
    for concept_set in paper_concepts.values():
        df.update(concept_set)
    # a pair in >= min_papers papers needs both concepts in >= min_papers papers
    frequent = {c for c, d in df.items() if d >= min_papers}
    kept = [sorted(c for c in paper_concepts[p] if c in frequent) for p in sorted(paper_concepts)]
    index: dict[str, list[int]] = defaultdict(list)
    for i, cs in enumerate(kept):
        for c in cs:
            index[c].append(i)
    return dict(df), kept, dict(index)


def association_strength(shared: int, n_papers: int, df_a: int, df_b: int) -> float:
    """How much more often two concepts share papers than chance: ``shared·N / (df_a·df_b)``.

    ``shared`` papers mention both, ``df_a`` and ``df_b`` mention each, of ``n_papers``. The one
    definition, for the build's ``cooccurs`` edges and ``kg:strength`` and for neighbourhoods.

    >>> association_strength(2, 100, 4, 5)
    10.0
    """
    return shared * n_papers / (df_a * df_b)


def cooccurrence_rows(
    df: dict[str, int],
    kept: list[list[str]],
    index: dict[str, list[int]],
    concepts: Iterable[str],
    n_papers: int,
    min_papers: int = 2,
) -> list[tuple[str, str, int, float]]:
    """The pairs (a, b > a, papers, strength) of the concepts ``a`` given, in their order, then b's."""
    out = []
    for a in concepts:
        partners: Counter[str] = Counter()
        for i in index[a]:
            cs = kept[i]
            partners.update(cs[bisect.bisect_right(cs, a) :])
        for b in sorted(partners):
            n = partners[b]
            if n >= min_papers:
                out.append((a, b, n, round(association_strength(n, n_papers, df[a], df[b]), 4)))
    return out


def cooccurrences(
    paper_concepts: dict[str, set[str]], n_papers: int, min_papers: int = 2
) -> list[tuple[str, str, int, float]]:
    """Concept pairs seen together in at least ``min_papers`` papers: (a, b, papers, strength).

    Counted one concept at a time over its papers (an inverted index), so memory holds one
    concept's partners rather than every pair of the corpus; the work is the sum over papers
    of their concepts squared, linear in the corpus. Sorted by (a, b).
    """
    df, kept, index = cooccurrence_inputs(paper_concepts, min_papers)
    return cooccurrence_rows(df, kept, index, sorted(index), n_papers, min_papers)


@dataclass(frozen=True)
class Topic:
    id: str
    label: str  # its naming concepts' labels, most distinctive first
    members: tuple[str, ...]  # concept ids, most telling first (see :func:`topic_names`)
    names: tuple[str, ...] = ()  # the ids of the concepts that name it
    papers: int = 0  # papers whose concepts weigh most towards it (:func:`topic_papers`)


def _linking_graph(pc: dict[str, set[str]]) -> tuple[nx.Graph, Counter[str]]:
    """Concepts seen in >= 2 papers, linked by the papers they share (cosine weight)."""
    df: Counter[str] = Counter()
    for cs in pc.values():
        df.update(cs)
    linking = {c for c, d in df.items() if d >= 2}
    pairs: Counter[tuple[str, str]] = Counter()
    for p in sorted(pc):
        ordered = sorted(pc[p] & linking)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                pairs[(a, b)] += 1
    h = nx.Graph()
    h.add_nodes_from(sorted(linking))
    for (a, b), n in sorted(pairs.items()):
        h.add_edge(a, b, weight=n / math.sqrt(df[a] * df[b]))
    return h, df


def topic_papers(groups: Sequence[set[str]], pc: dict[str, set[str]], df: Counter[str]) -> list[list[str]]:
    """Each paper goes to the topic its concepts weigh most towards (sum of log((N + 1) / df)
    over its concepts in the topic; ties to the first topic), so a concept the whole corpus
    uses draws no paper into its topic. One pass over the papers."""
    where = {c: i for i, grp in enumerate(groups) for c in grp}
    n = len(pc)
    out: list[list[str]] = [[] for _ in groups]
    for p in sorted(pc):
        score: dict[int, float] = defaultdict(float)
        for c in pc[p]:
            if c in where:
                score[where[c]] += math.log((n + 1) / df[c])
        if score:
            out[min(score, key=lambda i: (-score[i], i))].append(p)
    return out


def topic_names(
    members: Iterable[str],
    papers: Sequence[str],
    pc: dict[str, set[str]],
    df: Counter[str],
    min_share: float = 0.5,
) -> list[tuple[str, float]]:
    """A topic's members ranked by how well they name it, given its ``papers`` (:func:`topic_papers`).

    A member ``c`` found in ``k`` of the topic's papers scores the harmonic mean (F1) of
    ``k / df(c)``, the share of its own papers that fall in the topic (specificity, low for a
    concept the whole corpus uses), and ``k / papers``, the share of the topic's papers that
    mention it (coverage).
    A member with less than ``min_share`` of its papers in the topic ranks after every
    member with more, so a corpus-wide concept never names a topic that has a distinctive one.
    """
    ms = set(members)
    inside: Counter[str] = Counter()
    for p in papers:
        inside.update(pc[p] & ms)
    n = max(1, len(papers))
    scored = []
    for c in sorted(ms):
        k = inside[c]
        spec = k / df[c] if df[c] else 0.0
        cov = k / n
        scored.append((c, 2 * spec * cov / (spec + cov) if k else 0.0, spec >= min_share))
    scored.sort(key=lambda x: (not x[2], -x[1], -df[x[0]], x[0]))
    return [(c, round(sc, 6)) for c, sc, _ in scored]


def concept_topics(
    g: nx.MultiDiGraph,
    min_size: int = 3,
    top: int = 3,
    resolution: float = 3.0,
    seed: int = 13,
) -> list[Topic]:
    """Topics: communities of the concepts that link papers, largest first.

    The concepts seen in at least two papers are linked by the papers they share, weighted by
    cosine (shared / sqrt(df_a * df_b)), so a concept every paper mentions binds nothing
    tightly. Louvain (``resolution`` > 1 for a grain a researcher names, fixed ``seed``, nodes
    and edges added in sorted order) finds the communities; those under ``min_size`` concepts
    give each concept to the topic it is most strongly linked with (what links to no topic
    stays a small topic of its own, from two concepts). A topic is named by its
    ``top`` most distinctive members (:func:`topic_names`) and its id is
    ``topic-<id of the first>``. Topics are disjoint; each member concept node gets a
    ``topic`` attribute.
    """
    pc: dict[str, set[str]] = defaultdict(set)
    for a, b, k in g.edges(keys=True):
        if k == "mentions":
            pc[a].add(b)
    h, df = _linking_graph(pc)
    if h.number_of_edges() == 0:
        return []
    communities = nx.community.louvain_communities(h, weight="weight", resolution=resolution, seed=seed)
    groups = sorted((sorted(c) for c in communities), key=lambda c: (-len(c), c[0]))
    big = [set(c) for c in groups if len(c) >= min_size]
    where = {c: i for i, com in enumerate(big) for c in com}

    def most_linked(c: str, where: dict[str, int]) -> int | None:
        pull: dict[int, float] = defaultdict(float)
        for nb, d in h[c].items():
            if nb in where:
                pull[where[nb]] += d["weight"]
        return min(pull, key=lambda j: (-pull[j], j)) if pull else None

    alone: list[set[str]] = []
    singles: list[str] = []
    for small in groups:
        if len(small) >= min_size:
            continue
        rest = set()
        for c in small:  # a concept of a small community joins the topic it is most linked with
            i = most_linked(c, where)
            if i is not None:
                big[i].add(c)
            else:
                rest.add(c)
        if len(rest) >= 2:  # linked to no topic: a small topic of its own
            alone.append(rest)
        else:
            singles.extend(rest)
    # Louvain at a fine grain can leave a concept alone in its community: it joins the small topic it
    # is most linked with, and those linked to none but each other make small topics of their own
    where_alone = {c: i for i, com in enumerate(alone) for c in com}
    left = set()
    for c in sorted(singles):
        i = most_linked(c, where_alone)
        if i is not None:
            alone[i].add(c)
        else:
            left.add(c)
    alone.extend(set(c) for c in sorted(sorted(c) for c in nx.connected_components(h.subgraph(left)) if len(c) >= 2))
    big.extend(alone)
    topics: list[Topic] = []
    used: set[str] = set()
    assigned = topic_papers(big, pc, df)
    for group, papers in zip(big, assigned, strict=True):
        ranked = topic_names(group, papers, pc, df)
        members = tuple(c for c, _ in ranked)
        names = members[:top]
        ids = tuple(c.split(":", 1)[1] for c in members)
        tid = f"topic-{names[0].split(':', 1)[1]}"
        if tid in used:  # cannot happen for disjoint topics; kept for safety
            tid = f"{tid}-{len(used)}"
        used.add(tid)
        topics.append(
            Topic(
                id=tid,
                label=", ".join(g.nodes[n]["label"] for n in names),
                members=ids,
                names=tuple(n.split(":", 1)[1] for n in names),
                papers=len(papers),
            )
        )
    topics.sort(key=lambda t: (-len(t.members), t.id))
    for t in topics:
        for cid in t.members:
            g.nodes[f"concept:{cid}"]["topic"] = t.id
    return topics


def topic_coverage(g: nx.MultiDiGraph) -> tuple[int, int]:
    """(concepts seen in >= 2 papers that belong to a topic, concepts seen in >= 2 papers)."""
    linking = [d for _, d in g.nodes(data=True) if d.get("kind") == "concept" and d.get("papers", 0) >= 2]
    return sum(1 for d in linking if d.get("topic")), len(linking)


def build_graph(
    papers: Sequence[Paper],
    concepts: dict[str, Concept],
    mentions: Sequence[Mention],
    top_k: int = 10,
    relations: Sequence[Relation] = (),
    similarities: Sequence[Similarity] | None = None,
    cooccurs: Sequence[tuple[str, str, int, float]] | None = None,
) -> nx.MultiDiGraph:
    """The graph of the records; ``similarities`` and ``cooccurs`` (:func:`cooccurrences`) are
    computed here unless given (as ``kg build`` does)."""
    g: nx.MultiDiGraph = nx.MultiDiGraph()
    for p in papers:
        g.add_node(f"paper:{p.id}", kind="paper", label=p.title, date=p.date or "")
    for c in concepts.values():
        g.add_node(
            f"concept:{c.id}",
            kind="concept",
            label=c.label,
            type=c.type,
            papers=c.paper_count,
            mentions=c.mention_count,
            ambiguous=c.ambiguous,
        )
    counts: Counter[tuple[str, str]] = Counter()
    proposed: set[tuple[str, str]] = set()
    for m in mentions:
        counts[(m.paper_id, m.concept)] += 1
        if m.role == "proposed":
            proposed.add((m.paper_id, m.concept))
    for (pid, cid), n in sorted(counts.items()):
        g.add_edge(
            f"paper:{pid}",
            f"concept:{cid}",
            key="mentions",
            kind="mentions",
            role="proposed" if (pid, cid) in proposed else "used",
            count=n,
        )
    pc = paper_concepts(mentions)
    if similarities is None:
        similarities = paper_similarities(pc, len(papers), top_k=top_k)
    for s in similarities:
        g.add_edge(
            f"paper:{s.a}", f"paper:{s.b}", key="similar", kind="similar", score=s.score, shared="|".join(s.shared)
        )
    for a, b, n, strength in cooccurs if cooccurs is not None else cooccurrences(pc, len(papers)):
        g.add_edge(f"concept:{a}", f"concept:{b}", key="cooccurs", kind="cooccurs", papers=n, strength=strength)
    rel_papers: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    rel_conf: dict[tuple[str, str, str], float] = defaultdict(float)
    for r in relations:
        rel_papers[(r.head, r.tail, r.type)].add(r.paper_id)
        rel_conf[(r.head, r.tail, r.type)] = max(rel_conf[(r.head, r.tail, r.type)], r.confidence)
    for (h, t, typ), ps in sorted(rel_papers.items()):
        g.add_edge(
            f"concept:{h}",
            f"concept:{t}",
            key=typ,
            kind=typ,
            papers=len(ps),
            confidence=rel_conf[(h, t, typ)],
            paper_ids="|".join(sorted(ps)),
        )
    return g


def graph_counts(g: nx.MultiDiGraph) -> dict[str, int]:
    """Edges by kind."""
    c: Counter[str] = Counter(k for _, _, k in g.edges(keys=True))
    return dict(sorted(c.items()))
