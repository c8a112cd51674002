"""Unit and property tests of kg.graph: co-occurrence, similarity, topics and the graph itself,
on small hand-made records (no extraction)."""

from __future__ import annotations

import math
from collections import Counter
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from kg.graph import (
    association_strength,
    build_graph,
    concept_topics,
    cooccurrences,
    graph_counts,
    paper_concepts,
    paper_similarities,
    similarity_inputs,
    similarity_rows,
    topic_coverage,
)
from kg.records import Concept, Mention, Paper, Relation

# paper -> concepts: small corpora over a handful of concepts, so that papers share some
corpora = st.dictionaries(
    st.from_regex(r"p[0-9]{1,2}", fullmatch=True),
    st.sets(st.sampled_from([f"c{i}" for i in range(12)]), min_size=1, max_size=6),
    min_size=2,
    max_size=25,
)


def _brute_cooccurrences(pc: dict[str, set[str]], min_papers: int = 2) -> list[tuple[str, str, int, float]]:
    df = Counter(c for cs in pc.values() for c in cs)
    pairs = Counter(pair for cs in pc.values() for pair in combinations(sorted(cs), 2))
    return sorted((a, b, n, round(n * len(pc) / (df[a] * df[b]), 4)) for (a, b), n in pairs.items() if n >= min_papers)


@given(corpora)
def test_cooccurrences_count_every_pair_once(pc):
    assert cooccurrences(pc, len(pc)) == _brute_cooccurrences(pc)


def test_association_strength():
    # 2 of 10 papers share a and b, each in 2: 5 times what chance gives
    assert association_strength(2, 10, 2, 2) == 5.0
    assert association_strength(1, 10, 10, 10) == 0.1


@given(corpora)
@settings(max_examples=60)
def test_similarity_is_symmetric(pc):
    """A pair's score and shared concepts are the same from either paper."""
    ids, linking, index, idf = similarity_inputs(pc, len(pc))
    rows = similarity_rows(linking, index, idf, 0, len(ids), top_k=len(ids))
    by_pair = {(i, j): (round(sc, 9), sh) for i, j, sc, sh in rows}
    for (i, j), (sc, sh) in by_pair.items():
        assert by_pair[(j, i)] == (sc, sh)
        shared = pc[ids[i]] & pc[ids[j]] & set(idf)
        assert set(sh) == shared and math.isclose(sc, sum(idf[c] for c in shared), abs_tol=1e-8)
    sims = paper_similarities(pc, len(pc), top_k=len(ids))
    assert all(s.a < s.b for s in sims) and len({(s.a, s.b) for s in sims}) == len(sims)
    assert {(s.a, s.b) for s in sims} == {(ids[i], ids[j]) for i, j in by_pair if i < j}


def test_similarity_prefers_rare_shared_concepts():
    pc = {"p1": {"rare", "common"}, "p2": {"rare", "common"}, "p3": {"common"}, "p4": {"common", "x"}}
    pc.update({f"q{i}": {"common"} for i in range(6)})
    sims = {(s.a, s.b): s for s in paper_similarities(pc, len(pc), top_k=3)}
    # p1 and p2 share the rare concept (idf log 5) and the common one (in every paper: idf 0)
    assert sims[("p1", "p2")].shared == ("rare", "common")
    assert sims[("p1", "p2")].score == round(math.log(10 / 2), 4)
    assert all(s.score == 0 for k, s in sims.items() if k != ("p1", "p2"))


def _records(pc: dict[str, set[str]]):
    papers = [Paper(p, f"Title {p}", "") for p in sorted(pc)]
    mentions = [Mention(p, 0, 1, c, "METHOD", concept=c) for p in sorted(pc) for c in sorted(pc[p])]
    concepts: dict[str, Concept] = {}
    for m in mentions:
        c = concepts.setdefault(m.concept, Concept(m.concept, m.concept.upper(), "METHOD"))
        c.papers.add(m.paper_id)
        c.mention_count += 1
    return papers, concepts, mentions


@given(corpora)
@settings(max_examples=40, deadline=None)
def test_topics_are_disjoint(pc):
    papers, concepts, mentions = _records(pc)
    g = build_graph(papers, concepts, mentions)
    topics = concept_topics(g)
    seen: set[str] = set()
    for t in topics:
        assert not seen & set(t.members), "a concept in two topics"
        seen |= set(t.members)
        assert t.id.startswith("topic-") and set(t.names) <= set(t.members)
    assert len({t.id for t in topics}) == len(topics)
    in_topic, linking = topic_coverage(g)
    assert in_topic <= linking


def test_build_graph_nodes_and_edges():
    pc = {"p1": {"a", "b"}, "p2": {"a", "b"}, "p3": {"b", "c"}}
    papers, concepts, mentions = _records(pc)
    mentions.append(Mention("p1", 2, 3, "a", "METHOD", concept="a", role="proposed"))
    concepts["a"].mention_count += 1
    rel = [Relation("a", "c", "USED_FOR", "p3", 1), Relation("a", "c", "USED_FOR", "p1", 2, confidence=0.5)]
    g = build_graph(papers, concepts, mentions, relations=rel)
    assert graph_counts(g) == {"USED_FOR": 1, "cooccurs": 1, "mentions": 6, "similar": 3}  # b links all three
    e = g.get_edge_data("paper:p1", "concept:a", key="mentions")
    assert e["role"] == "proposed" and e["count"] == 2
    assert g.get_edge_data("paper:p2", "concept:a", key="mentions")["role"] == "used"
    co = g.get_edge_data("concept:a", "concept:b", key="cooccurs")
    assert co["papers"] == 2 and co["strength"] == round(association_strength(2, 3, 2, 3), 4)
    used = g.get_edge_data("concept:a", "concept:c", key="USED_FOR")
    assert used["papers"] == 2 and used["paper_ids"] == "p1|p3" and used["confidence"] == 1.0
    assert g.nodes["concept:a"]["papers"] == 2 and g.nodes["paper:p1"]["kind"] == "paper"
    assert paper_concepts(mentions) == {p: cs for p, cs in pc.items()}
