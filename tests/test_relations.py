from __future__ import annotations

import json

import pytest

from kg.graph.relations import Span, find_relations


def _rel(text: str, spans: list[tuple[str, str]]):
    out = []
    for surface, label in spans:
        start = text.index(surface, out[-1].end if out else 0)
        out.append(Span(start, start + len(surface), label))
    found = find_relations(text, out, [(0, len(text))])
    return {
        (text[out[r.head].start : out[r.head].end], r.type, text[out[r.tail].start : out[r.tail].end]) for r in found
    }


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        (
            "We apply LoRA to code generation.",
            [("LoRA", "METHOD"), ("code generation", "TASK")],
            ("LoRA", "USED_FOR", "code generation"),
        ),
        (
            "Object detection using YOLO is fast.",
            [("Object detection", "TASK"), ("YOLO", "METHOD")],
            ("YOLO", "USED_FOR", "Object detection"),
        ),
        (
            "FastSpec is evaluated on HumanEval.",
            [("FastSpec", "METHOD"), ("HumanEval", "DATASET")],
            ("FastSpec", "EVALUATED_ON", "HumanEval"),
        ),
        (
            "DraftLite reduces latency by 2x.",
            [("DraftLite", "METHOD"), ("latency", "METRIC")],
            ("DraftLite", "MEASURED_BY", "latency"),
        ),
        (
            "Our MESA outperforms LoFTR by a wide margin.",
            [("MESA", "METHOD"), ("LoFTR", "METHOD")],
            ("MESA", "COMPARED_WITH", "LoFTR"),
        ),
        (
            "The model consists of a sparse attention layer.",
            [("model", "METHOD"), ("sparse attention", "METHOD")],
            ("sparse attention", "PART_OF", "model"),
        ),
    ],
)
def test_relations_cues(text, spans, expected):
    assert expected in _rel(text, spans)


def test_relations_nearest_pair_only_and_same_surface_skipped():
    got = _rel(
        "We apply LoRA to summarization and evaluate LoRA on XSum.",
        [("LoRA", "METHOD"), ("summarization", "TASK"), ("LoRA", "METHOD"), ("XSum", "DATASET")],
    )
    assert got == {("LoRA", "USED_FOR", "summarization"), ("LoRA", "EVALUATED_ON", "XSum")}


def test_relations_stay_within_a_sentence():
    text = "We use LoRA. Summarization is hard."
    spans = [Span(7, 11, "METHOD"), Span(13, 26, "TASK")]
    assert find_relations(text, spans, [(0, 12), (13, len(text))]) == []


def test_relations_in_the_build_keep_their_evidence(mini_build, mini_store):
    rels = [json.loads(x) for x in (mini_build / "relations.jsonl").read_text().splitlines()]
    assert any(r["head"] == "fastspec" and r["type"] == "MEASURED_BY" and r["tail"] == "latency" for r in rels)
    papers = {json.loads(x)["id"]: json.loads(x) for x in (mini_build / "papers.jsonl").read_text().splitlines()}
    for r in rels:
        p = papers[r["paper"]]
        text = p["title"] + "\n" + p["abstract"]
        assert text[slice(*r["head_span"])] and text[slice(*r["tail_span"])]
    q = """SELECT ?txt WHERE { ?r a kg:RelationMention ; rdf:predicate kg:measuredBy ; rdf:subject ?h ;
             kg:inSentence ?s . ?h skos:prefLabel "FastSpec" . ?s schema:text ?txt }"""
    from kg.namespace import PREFIXES

    sentences = {row["txt"].value for row in mini_store.query(q, prefixes=PREFIXES)}
    assert any("latency" in s for s in sentences)
