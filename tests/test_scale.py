"""Scale: similarity and co-occurrence in bounded work (linear in the corpus, the same output as pairwise
counting), and the build's bounded-memory parts (decision in chunks, store loaded in parts, GraphML streamed)
equal to what they replace."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from pathlib import Path

from kg.graph import cooccurrences, paper_similarities


def _corpus(n_papers: int, n_concepts: int, seed: int = 7) -> dict[str, set[str]]:
    rng = random.Random(seed)
    weights = [1 / (r + 1) for r in range(n_concepts)]  # Zipf-like, as concepts are
    names = [f"c{r:05d}" for r in range(n_concepts)]
    return {f"p{i:05d}": set(rng.choices(names, weights, k=rng.randint(0, 25))) for i in range(n_papers)}


def _reference_similarities(pc, n, top_k=10, max_df_share=0.2):
    """The former every-pair walk, kept as the specification."""
    df = Counter(c for cs in pc.values() for c in cs)
    cap = max(20, int(max_df_share * n))
    idf = {c: math.log(n / d) for c, d in df.items() if 2 <= d <= cap}
    index = defaultdict(list)
    for p in sorted(pc):
        for c in pc[p]:
            if c in idf:
                index[c].append(p)
    best = {}
    for p in sorted(pc):
        scores, shared = defaultdict(float), defaultdict(list)
        for c in sorted(pc[p]):
            if c in idf:
                for q in index[c]:
                    if q != p:
                        scores[q] += idf[c]
                        shared[q].append(c)
        for q, s in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]:
            a, b = (p, q) if p < q else (q, p)
            best[(a, b)] = (a, b, round(s, 4), tuple(sorted(shared[q], key=lambda c: (-idf[c], c))))
    return [best[k] for k in sorted(best)]


def _reference_cooccurrences(pc, n, min_papers=2):
    df = Counter(c for cs in pc.values() for c in cs)
    pairs = Counter()
    for cs in pc.values():
        o = sorted(cs)
        for i, a in enumerate(o):
            for b in o[i + 1 :]:
                pairs[(a, b)] += 1
    return [(a, b, k, round(k * n / (df[a] * df[b]), 4)) for (a, b), k in sorted(pairs.items()) if k >= min_papers]


def test_scale_similarities_match_pairwise_walk():
    pc = _corpus(600, 3000)
    got = [(s.a, s.b, s.score, s.shared) for s in paper_similarities(pc, len(pc))]
    assert got == _reference_similarities(pc, len(pc))
    assert len(got) > 1000


def test_scale_cooccurrences_match_pairwise_count():
    pc = _corpus(600, 3000)
    got = cooccurrences(pc, len(pc))
    assert got == _reference_cooccurrences(pc, len(pc)) and len(got) > 1000


def test_scale_similarity_cap_is_absolute():
    # one concept in every paper and one in 30 of 100: with max_df=25 neither links papers
    pc = {f"p{i:03d}": {"common"} | ({"mid"} if i < 30 else set()) | {f"r{i // 2}"} for i in range(100)}
    sims = paper_similarities(pc, len(pc), max_df_share=1.0, max_df=25)
    assert all(s.shared == (f"r{int(s.a[1:]) // 2}",) for s in sims) and len(sims) == 50
    assert any("mid" in s.shared for s in paper_similarities(pc, len(pc), max_df_share=1.0, max_df=40))


# the named queries before the counts were materialised: the results must not change
_LIVE = {
    "top-concepts": """SELECT ?type ?concept ?label ?papers WHERE {
  VALUES (?class ?typeName) { (kg:Method "method") (kg:Task "task") (kg:Dataset "dataset") (kg:Metric "metric") }
  FILTER(?typeName = LCASE(STR(?type)))
  ?c a ?class ; skos:prefLabel ?label ; kg:paperCount ?papers .
  BIND(STRAFTER(STR(?c), "/concept/") AS ?concept)
} ORDER BY DESC(?papers) ?label LIMIT 25""",
    "concepts-by-year": """SELECT ?year ?label ?type ?papers WHERE {
  { SELECT ?year ?c (COUNT(DISTINCT ?p) AS ?papers) WHERE {
      ?p dcterms:date ?d . FILTER(DATATYPE(?d) = xsd:date) BIND(YEAR(?d) AS ?year) ?p kg:mentions ?c .
    } GROUP BY ?year ?c HAVING (COUNT(DISTINCT ?p) >= 2) }
  ?c skos:prefLabel ?label ; a ?class .
  FILTER(?class IN (kg:Method, kg:Task, kg:Dataset, kg:Metric))
  BIND(STRAFTER(STR(?class), "#") AS ?type)
} ORDER BY ?year DESC(?papers) ?label LIMIT 500""",
    "cooccurring": """SELECT ?concept ?label ?type (COUNT(DISTINCT ?p) AS ?shared_papers) WHERE {
  ?c skos:hiddenLabel ?concept .
  ?p kg:mentions ?c ; kg:mentions ?other .
  FILTER(?other != ?c)
  ?other skos:prefLabel ?label ; a ?class .
  FILTER(?class IN (kg:Method, kg:Task, kg:Dataset, kg:Metric))
  BIND(STRAFTER(STR(?class), "#") AS ?type)
} GROUP BY ?concept ?label ?type ORDER BY DESC(?shared_papers) ?label LIMIT 50""",
}


def test_scale_materialised_queries_answer_as_the_live_ones(mini_store):
    from kg.store import collect, get_named_query, run_named, run_query

    def values(res):
        return [[x.value if x is not None else None for x in row] for row in collect(res).rows]

    cases = [("top-concepts", {"type": t}) for t in ("Method", "task", "Dataset", "METRIC")]
    cases += [("concepts-by-year", {})]
    cases += [("cooccurring", {"concept": c}) for c in ("humaneval", "speculative decoding", "sam", "latency")]
    for name, params in cases:
        nq = get_named_query(name)
        bound = {k: v.lower() if k in nq.label_params else v for k, v in params.items()}
        got = values(run_named(mini_store, nq, params))
        assert got == values(run_query(mini_store, _LIVE[name], bound)), (name, params)
        assert got, (name, params)


def test_scale_graphml_streamed_as_networkx_writes_it(tmp_path):
    """kg.build's GraphML writer streams; its bytes are networkx's (keys, order, escaping, indentation)."""
    import networkx as nx

    from kg.build import _graphml
    from kg.io import xml_text

    def reference(g, path):
        h = nx.MultiDiGraph()
        clean = lambda v: xml_text(v) if isinstance(v, str) else v  # noqa: E731
        for n, d in g.nodes(data=True):
            h.add_node(clean(n), **{k: clean(v) for k, v in d.items()})
        for u, v, k, d in g.edges(keys=True, data=True):
            h.add_edge(clean(u), clean(v), key=clean(k), **{a: clean(b) for a, b in d.items()})
        nx.write_graphml(h, path, encoding="utf-8", prettyprint=True, named_key_ids=True)

    odd = "a\x07<&>\"'\n\tz"
    full = nx.MultiDiGraph()
    full.add_node(odd, kind="paper", label="", date="2020", n=3, ok=True, x=0.125)
    full.add_node("b", kind="concept", papers=2, label="x\x1by & <z>\n")
    full.add_node("c")
    full.add_edge(odd, "b", key="mentions", kind="mentions", count=2, role="used", strength=1.5)
    full.add_edge("b", "b", key="k\x01", papers=1)
    full.add_edge("b", odd, key="e")
    lone = nx.MultiDiGraph()
    lone.add_node("a")
    for g in (nx.MultiDiGraph(), lone, full):
        reference(g, tmp_path / "ref.graphml")
        _graphml(g, tmp_path / "kg.graphml")
        assert (tmp_path / "kg.graphml").read_bytes() == (tmp_path / "ref.graphml").read_bytes()


def test_scale_store_loaded_in_parts_holds_the_same_graph(mini_build, tmp_path, monkeypatch):
    """The bulk load in parts (bounded memory) gives the store one load gives: same triples, same Turtle."""
    import pyoxigraph as ox

    import kg.store as st

    nt = mini_build / "kg.nt"
    lines = nt.read_bytes().count(b"\n")
    monkeypatch.setattr(st, "BULK_LOAD_LINES", max(1, lines // 7))
    assert st.load_store(nt, tmp_path / "parts") == lines
    st.dump_store(tmp_path / "parts", tmp_path / "parts.ttl", ox.RdfFormat.TURTLE)
    monkeypatch.setattr(st, "BULK_LOAD_LINES", lines + 1)
    assert st.load_store(nt, tmp_path / "whole") == lines
    st.dump_store(tmp_path / "whole", tmp_path / "whole.ttl", ox.RdfFormat.TURTLE)
    assert (tmp_path / "parts.ttl").read_bytes() == (tmp_path / "whole.ttl").read_bytes()


def test_scale_decision_in_chunks_equals_all_at_once(nlp):
    """The decision chunk by chunk (decisions handed on, dropped mentions let go) decides as over all papers at once."""
    import copy
    import json

    from kg.corpus import read_corpus
    from kg.extract.pipeline import extract
    from kg.normalise import normalise
    from kg.normalise.decide import apply_decisions, candidates, decide, decide_concepts

    papers, _ = read_corpus([Path(__file__).parent / "data" / "mini.jsonl"], None)
    extractions = list(extract(papers, nlp))

    def dump(concepts, mentions, decisions):
        return (
            [json.dumps(m.to_dict()) for m in mentions],
            [(c.id, c.label, c.type, sorted(c.papers), c.mention_count, c.aliases) for c in concepts.values()],
            [json.dumps(d.to_dict()) for d in decisions],
        )

    whole = copy.deepcopy(extractions)
    concepts, mentions = normalise(whole)
    abbreviations = {ex.paper_id: list(ex.abbreviations) for ex in whole}
    made = decide(candidates(papers, abbreviations, concepts, mentions))
    for d in made:
        d.features = {}
    at_once = dump(*apply_decisions(concepts, mentions, made, papers), made)
    assert at_once[0] and at_once[2]
    for chunk in (1, 3):
        part = copy.deepcopy(extractions)
        concepts, mentions = normalise(part)
        assert dump(*decide_concepts(papers, part, concepts, mentions, chunk=chunk)) == at_once
