"""Broader and narrower concepts (kg.normalise.hierarchy): each rule, the RDF, the named query, the concept page."""

from __future__ import annotations

import pytest

from kg.normalise import concept_id, concept_key
from kg.normalise.hierarchy import induce_hierarchy
from kg.records import Concept, Mention, Paper


def _concepts(*specs: tuple[str, str, int] | str) -> dict[str, Concept]:
    out: dict[str, Concept] = {}
    for spec in specs:
        label, ctype, n = (spec, "METHOD", 1) if isinstance(spec, str) else spec
        cid = concept_id(concept_key(label))
        out[cid] = Concept(cid, label, ctype, {label: n}, {f"p{i}" for i in range(n)}, n)
    return out


def _pairs(concepts: dict[str, Concept], links) -> set[tuple[str, str, str]]:
    return {(concepts[ln.child].label, concepts[ln.parent].label, ln.rule) for ln in links}


def _ancestors(concepts, links, label):
    by_label = {c.label: c.id for c in concepts.values()}
    parents: dict[str, list[str]] = {}
    for ln in links:
        parents.setdefault(ln.child, []).append(ln.parent)
    seen, stack = set(), [by_label[label]]
    while stack:
        for p in parents.get(stack.pop(), []):
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return {concepts[c].label for c in seen}


def test_head_nearest_ancestor_only():
    cs = _concepts("4-bit integer quantization", ("quantization", "METHOD", 5), "integer quantization")
    pairs = _pairs(cs, induce_hierarchy(cs))
    assert ("4-bit integer quantization", "integer quantization", "head") in pairs
    assert ("integer quantization", "quantization", "head") in pairs
    assert ("4-bit integer quantization", "quantization", "head") not in pairs  # nearest only
    cs = _concepts("4-bit integer quantization", ("quantization", "METHOD", 5))
    assert _pairs(cs, induce_hierarchy(cs)) == {("4-bit integer quantization", "quantization", "head")}


def test_head_of_phrase_and_generic_heads():
    cs = _concepts(
        "Sparse Mixture of Experts", "Mixture-of-Experts", "experts", "reward model", "model", "language model"
    )
    links = induce_hierarchy(cs)
    pairs = _pairs(cs, links)
    assert ("Sparse Mixture of Experts", "Mixture-of-Experts", "head") in pairs
    assert not any(p in ("experts", "model") for _, p, _ in pairs)  # not the complement, not a generic head
    (ln,) = [ln for ln in links if cs[ln.child].label == "Sparse Mixture of Experts"]
    assert ln.evidence == "head: Mixture-of-Experts"


def test_types_must_agree():
    cs = _concepts(("HumanEval accuracy", "METRIC", 1), ("HumanEval", "DATASET", 3), ("accuracy", "METRIC", 9))
    assert _pairs(cs, induce_hierarchy(cs)) == {("HumanEval accuracy", "accuracy", "head")}


def test_usage_tail_and_acronym():
    cs = _concepts("zero-shot chain-of-thought prompting", "Chain-of-Thought", "prompting")
    assert "Chain-of-Thought" in _ancestors(cs, induce_hierarchy(cs), "zero-shot chain-of-thought prompting")
    cs = _concepts("zero-shot CoT prompting", "Chain-of-Thought", "prompting")
    cot = next(c for c in cs.values() if c.label == "Chain-of-Thought")
    cot.aliases["CoT"] = 3
    links = induce_hierarchy(cs)
    pairs = _pairs(cs, links)
    assert ("zero-shot CoT prompting", "Chain-of-Thought", "acronym") in pairs
    assert ("zero-shot CoT prompting", "prompting", "head") in pairs
    ev = next(ln.evidence for ln in links if ln.rule == "acronym")
    assert ev.startswith("CoT = Chain-of-Thought")
    # with no corpus expansion of the acronym, nothing is guessed
    cot.aliases.pop("CoT")
    assert not any(r == "acronym" for _, _, r in _pairs(cs, induce_hierarchy(cs)))


def test_family_and_versions():
    cs = _concepts("LLaMA-3.1 8B", "LLaMA-3.1", "LLaMA", "GPT-4o", "GPT-4", "GPT", "Qwen2.5-7B-Instruct", "Qwen")
    pairs = _pairs(cs, induce_hierarchy(cs))
    assert {
        ("LLaMA-3.1 8B", "LLaMA-3.1", "family"),
        ("LLaMA-3.1", "LLaMA", "family"),
        ("GPT-4o", "GPT-4", "family"),
        ("GPT-4", "GPT", "family"),
        ("Qwen2.5-7B-Instruct", "Qwen", "family"),
    } <= pairs
    cs = _concepts("LLaMA-3.1 8B", "LLaMA")
    assert _pairs(cs, induce_hierarchy(cs)) == {("LLaMA-3.1 8B", "LLaMA", "family")}
    cs = _concepts("GPT-4o")  # no parent concept: no link
    assert induce_hierarchy(cs) == []


def _paper_with(text: str, pid: str = "p1") -> Paper:
    return Paper(pid, "T", text, raw_text=text)


def _mention(paper: Paper, surface: str, concept: str, sentence: int = 0) -> Mention:
    start = paper.text.index(surface)
    return Mention(
        paper.id, start, start + len(surface), surface, "METHOD", sentence, 0, len(paper.text), concept=concept
    )


@pytest.mark.parametrize(
    "text",
    [
        "We compare parameter-efficient methods such as LoRA, adapters and prefix tuning on code.",
        "LoRA, adapters, prefix tuning and other parameter-efficient methods are compared.",
    ],
)
def test_hearst_patterns(text):
    cs = _concepts("LoRA", "adapters", "prefix tuning", "parameter-efficient")
    p = _paper_with(text)
    ms = [
        _mention(p, "parameter-efficient", "parameter-efficient"),
        _mention(p, "LoRA", "lora"),
        _mention(p, "adapters", "adapter"),
        _mention(p, "prefix tuning", "prefix-tuning"),
    ]
    links = induce_hierarchy(cs, ms, [p])
    assert {(c, pa) for c, pa, r in _pairs(cs, links) if r == "hearst"} == {
        ("LoRA", "parameter-efficient"),
        ("adapters", "parameter-efficient"),
        ("prefix tuning", "parameter-efficient"),
    }
    ln = links[0]
    assert ln.evidence == text and ln.paper == "p1" and ln.sentence == 0


def test_hearst_appositive_needs_a_name():
    cs = _concepts("FastSpec", "speculative decoding", "memory space", "layout system")
    p = _paper_with(
        "We propose FastSpec, a speculative decoding method that drafts code. "
        "It has a memory space, a novel layout system, and more."
    )
    ms = [
        _mention(p, "FastSpec", "fastspec"),
        _mention(p, "speculative decoding", "speculative-decoding"),
        _mention(p, "memory space", "memory-space"),
        _mention(p, "layout system", "layout-system"),
    ]
    assert _pairs(cs, induce_hierarchy(cs, ms, [p])) == {("FastSpec", "speculative decoding", "hearst")}


def test_no_cycles_no_self_links_deterministic():
    cs = _concepts("sparse attention", "attention", "linear attention")
    p = _paper_with("Attention such as sparse attention. Sparse attention such as attention.")
    ms = [
        Mention("p1", 0, 9, "Attention", "METHOD", 0, concept="attention"),
        Mention("p1", 18, 34, "sparse attention", "METHOD", 0, concept="sparse-attention"),
        Mention("p1", 36, 52, "Sparse attention", "METHOD", 1, concept="sparse-attention"),
        Mention("p1", 61, 70, "attention", "METHOD", 1, concept="attention"),
    ]
    links = induce_hierarchy(cs, ms, [p])
    pairs = {(ln.child, ln.parent) for ln in links}
    assert ("attention", "sparse-attention") not in pairs and all(a != b for a, b in pairs)
    assert links == induce_hierarchy(dict(reversed(list(cs.items()))), list(reversed(ms)), [p])


def test_linear_in_concepts():
    import time

    def run(n: int) -> float:
        cs = _concepts(*(f"method{i} variant{i % 97} quantization" for i in range(n)), "quantization")
        t = time.perf_counter()
        induce_hierarchy(cs)
        return time.perf_counter() - t

    small, big = min(run(2000) for _ in range(3)), run(20000)
    assert big < small * 40  # ~10x the work (more on a loaded machine): far from quadratic (100x)


def _in_papers(*specs: tuple[str, str, str]) -> dict[str, Concept]:
    """Concepts (label, type, comma-separated papers)."""
    out: dict[str, Concept] = {}
    for label, ctype, papers in specs:
        cid = concept_id(concept_key(label))
        ps = set(papers.split(","))
        out[cid] = Concept(cid, label, ctype, {label: len(ps)}, ps, len(ps))
    return out


def test_general_concept_from_a_head_shared_across_papers():
    cs = _in_papers(
        ("medical image segmentation", "TASK", "p1"),
        ("3D image segmentation", "TASK", "p2"),
        ("semantic segmentation", "TASK", "p3"),
    )
    h = induce_hierarchy(cs)
    labels = {c.label: c for c in h.general.values()}
    assert set(labels) == {"image segmentation", "segmentation"}
    assert labels["segmentation"].papers == {"p1", "p2", "p3"} and labels["segmentation"].type == "TASK"
    allc = {**cs, **h.general}
    pairs = _pairs(allc, h)
    assert {
        ("medical image segmentation", "image segmentation", "head"),
        ("3D image segmentation", "image segmentation", "head"),
        ("image segmentation", "segmentation", "head"),
        ("semantic segmentation", "segmentation", "head"),
    } == pairs
    ev = next(ln.evidence for ln in h if cs.get(ln.child, None) and cs[ln.child].label == "semantic segmentation")
    assert ev == "head: segmentation (a general concept: the head of 3 concepts in 3 papers)"
    assert induce_hierarchy(cs, general=False) == []


def test_general_concept_needs_two_papers_common_words_and_whole_units():
    # one paper only: no general concept
    cs = _in_papers(("medical image segmentation", "TASK", "p1"), ("semantic segmentation", "TASK", "p1"))
    assert not induce_hierarchy(cs).general
    # a hyphenated modifier is one unit: "test-time scaling" is a kind of scaling, never of "time scaling"
    cs = _in_papers(("test-time scaling", "METHOD", "p1"), ("inference-time scaling", "METHOD", "p2"))
    h = induce_hierarchy(cs)
    assert {c.label for c in h.general.values()} == {"scaling"}
    # a name's tail ("Pro" after a benchmark) is a version, not a head; generic heads stay out
    cs = _in_papers(
        ("HumanEval Pro", "DATASET", "p1"),
        ("LiveCodeBench Pro", "DATASET", "p2"),
        ("retrieval model", "METHOD", "p1"),
        ("reward model", "METHOD", "p2"),
    )
    assert induce_hierarchy(cs) == [] and not induce_hierarchy(cs).general
    # an adjective is no head; a spaced dash is no part of a general concept's name
    cs = _in_papers(("fully continuous", "METHOD", "p1"), ("piecewise continuous", "METHOD", "p2"))
    assert not induce_hierarchy(cs).general
    cs = _in_papers(("audio - driven talking", "METHOD", "p1"), ("speech - driven talking", "METHOD", "p2"))
    assert {c.label for c in induce_hierarchy(cs).general.values()} == {"driven talking", "talking"}
    # a nearer concept of the corpus wins: no general concept above it
    cs = _in_papers(
        ("4-bit integer quantization", "METHOD", "p1"),
        ("8-bit integer quantization", "METHOD", "p2"),
        ("integer quantization", "METHOD", "p3"),
        ("quantization", "METHOD", "p3,p4"),
    )
    h = induce_hierarchy(cs)
    assert not h.general
    assert ("8-bit integer quantization", "integer quantization", "head") in _pairs(cs, h)


def test_versions_of_names():
    cs = _concepts("EfficientNet-B4", ("EfficientNet", "METHOD", 3), "GPT-4 Turbo", "GPT-4", "Turbo")
    pairs = _pairs(cs, induce_hierarchy(cs))
    assert ("EfficientNet-B4", "EfficientNet", "family") in pairs
    assert ("GPT-4 Turbo", "GPT-4", "family") in pairs
    assert not any(p == "Turbo" for _, p, _ in pairs)  # a flavour of GPT-4, not a kind of "Turbo"
    cs = _concepts("GPT-4.0", "GPT-4", "Natural Language Processing (NLP)", "natural language processing")
    next(c for c in cs.values() if c.label == "natural language processing").aliases["NLP"] = 2
    assert induce_hierarchy(cs) == []  # the same model, the same concept: no narrower one


def test_general_concepts_in_the_rdf():
    from rdflib import Graph
    from rdflib.namespace import SKOS

    from kg.export.rdf import concept_iri, hierarchy_triples
    from kg.namespace import KG

    cs = _in_papers(("semantic segmentation", "TASK", "p1"), ("instance segmentation", "TASK", "p2"))
    h = induce_hierarchy(cs)
    g = Graph()
    for t in hierarchy_triples(h, h.general):
        g.add(t)
    seg = concept_iri("segmentation")
    assert str(g.value(seg, SKOS.prefLabel)) == "segmentation"
    assert int(g.value(seg, KG.paperCount)) == 2 and int(g.value(seg, KG.mentionCount)) == 2
    assert (concept_iri("semantic-segmentation"), SKOS.broader, seg) in g


# ------------------------------------------------------------------ published: RDF, query, page, neighbors


def _build_rows(tmp_path_factory, name: str, rows: list[tuple[str, str, str]]):
    """``kg build`` of (id, title, abstract) rows; the output folder."""
    import json

    from kg.build import build

    src = tmp_path_factory.mktemp(name) / "corpus.jsonl"
    src.write_text(
        "".join(json.dumps({"id": i, "title": t, "abstract": a, "date": "2024-01-01"}) + "\n" for i, t, a in rows),
        encoding="utf-8",
    )
    out = tmp_path_factory.mktemp(f"{name}out") / "out"
    build([src], out)
    return out


@pytest.fixture(scope="module")
def hier_build(tmp_path_factory):
    """A small build whose concepts form a hierarchy through every rule."""
    rows = [
        ("h1", "Quantization of LLMs", "We study quantization for large language models (LLMs) such as LLaMA."),
        ("h2", "4-bit Integer Quantization", "We propose 4-bit integer quantization for LLaMA-3.1 8B."),
        ("h3", "Sparse Mixture of Experts", "Sparse Mixture of Experts scales Mixture-of-Experts models."),
        ("h4", "Quantization for inference", "Post-training quantization speeds up LLaMA inference."),
    ]
    return _build_rows(tmp_path_factory, "hier", rows)


def _store(out):
    from kg.store import open_store

    return open_store(out / "store")


def test_rdf_broader_narrower_and_evidence(hier_build):
    from kg.namespace import PREFIXES

    store = _store(hier_build)
    rows = list(
        store.query(
            """SELECT ?cl ?pl ?rule ?ev WHERE { ?c skos:broader ?p . ?p skos:narrower ?c .
        ?l a kg:BroaderLink ; kg:narrowerConcept ?c ; kg:broaderConcept ?p ; kg:rule ?rule ; kg:evidence ?ev .
        ?c skos:prefLabel ?cl . ?p skos:prefLabel ?pl }""",
            prefixes=PREFIXES,
        )
    )
    got = {(r["cl"].value.lower(), r["pl"].value.lower(), r["rule"].value) for r in rows}
    assert any(c.startswith("4-bit") and p == "quantization" for c, p, _ in got), got
    assert all(r["ev"].value for r in rows)


def test_rdf_hierarchy_conforms_to_shacl(hier_build):
    from pathlib import Path

    from pyshacl import validate
    from rdflib import Graph

    root = Path(__file__).parent.parent
    data = Graph().parse(hier_build / "kg.ttl", format="turtle")
    shapes = Graph().parse(root / "ontology" / "shapes.ttl", format="turtle")
    ont = Graph().parse(root / "ontology" / "kg.ttl", format="turtle")
    conforms, _, text = validate(data, shacl_graph=shapes, ont_graph=ont, inference="rdfs")
    assert conforms, text


def test_named_query_counts_narrower_papers(hier_build):
    from kg.store import collect, get_named_query, run_named

    store = _store(hier_build)
    res = collect(run_named(store, get_named_query("papers-with-narrower"), {"concept": "Quantization"}))
    row = dict(zip(res.variables, [x.value if x is not None else None for x in res.rows[0]], strict=True))
    assert int(row["papers"]) >= int(row["own_papers"]) >= 1
    assert int(row["papers"]) > int(row["own_papers"])  # the 4-bit paper counts through its narrower concept
    assert int(row["narrower"]) >= 1


def test_concept_page_and_neighbors_show_the_hierarchy(hier_build):
    from kg.store.neighbors import neighbourhood
    from kg.web.data import concept_page

    store = _store(hier_build)
    page = concept_page(store, "quantization")
    assert page is not None and page.narrower
    assert all({"id", "label", "papers", "rule", "evidence"} <= set(n) for n in page.narrower)
    child = page.narrower[0]["id"]
    up = concept_page(store, child)
    assert up is not None and "quantization" in {b["id"] for b in up.broader}
    nb = neighbourhood(store, "quantization")
    assert nb.narrower and all(n["label"] for n in nb.narrower)


def test_concept_page_renders_the_hierarchy(hier_build):
    import urllib.request

    from kg.web.testing import running_server

    with (
        running_server(hier_build / "store") as base,
        urllib.request.urlopen(f"{base}/concept/quantization", timeout=20) as r,
    ):
        html = r.read().decode()
    assert "Narrower" in html and "4-bit" in html.lower()


@pytest.fixture(scope="module")
def general_build(tmp_path_factory):
    """Three papers whose segmentation tasks share the head "segmentation", which no paper names alone."""
    rows = [
        ("g1", "Fast Semantic Segmentation", "We propose a network for semantic segmentation on Cityscapes."),
        ("g2", "Instance Segmentation at Scale", "Instance segmentation on COCO improves with our detector."),
        ("g3", "Panoptic Segmentation with Transformers", "Panoptic segmentation unifies both tasks on COCO."),
    ]
    return _build_rows(tmp_path_factory, "gen", rows)


def test_neighbours_of_a_general_concept_come_through_its_narrower_ones(general_build):
    from kg.store.neighbors import neighbourhood

    nb = neighbourhood(_store(general_build), "segmentation")
    assert nb.through_narrower and len(nb.narrower) >= 2
    assert nb.paper_count >= 2  # the papers of its narrower concepts
    narrower = {n["concept"] for n in nb.narrower}
    assert nb.neighbours and not narrower & {n.concept for n in nb.neighbours}
