"""Topics: communities of the concepts that link papers, named by their most distinctive members."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from kg.graph import concept_topics, topic_coverage, topic_names, topic_papers


def _graph(papers: dict[str, list[str]], types: dict[str, str] | None = None) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    df: dict[str, int] = {}
    for cs in papers.values():
        for c in cs:
            df[c] = df.get(c, 0) + 1
    for c, n in sorted(df.items()):
        g.add_node(
            f"concept:{c}", kind="concept", label=c.replace("-", " "), type=(types or {}).get(c, "METHOD"), papers=n
        )
    for p, cs in sorted(papers.items()):
        g.add_node(f"paper:{p}", kind="paper", label=p)
        for c in cs:
            g.add_edge(f"paper:{p}", f"concept:{c}", key="mentions", kind="mentions")
    return g


def _corpus() -> dict[str, list[str]]:
    """Three fields of 8 papers each; every paper also mentions 'accuracy' and half mention 'latency'."""
    fields = {
        "spec": ["speculative-decoding", "draft-model", "acceptance-rate", "token-tree", "verification-step"],
        "quant": ["quantization", "int4-weights", "outlier-channel", "calibration-set", "gptq"],
        "code": ["code-generation", "humaneval", "mbpp", "pass-at-k", "unit-test"],
    }
    papers = {}
    for f, cs in fields.items():
        for i in range(8):
            ms = [cs[i % 5], cs[(i + 1) % 5], cs[(i + 2) % 5], "accuracy"]
            if i % 2:
                ms.append("latency")
            papers[f"{f}{i}"] = ms
    return papers


def test_topics_are_the_fields_named_by_distinctive_concepts_not_corpus_wide_ones():
    g = _graph(_corpus())
    topics = concept_topics(g)
    named = {t.label.split(", ")[0] for t in topics}
    assert len(topics) == 3, [t.label for t in topics]
    fields = [
        {"speculative decoding", "draft model", "acceptance rate", "token tree", "verification step"},
        {"quantization", "int4 weights", "outlier channel", "calibration set", "gptq"},
        {"code generation", "humaneval", "mbpp", "pass at k", "unit test"},
    ]
    for t in topics:
        names = t.label.split(", ")
        assert "accuracy" not in names and "latency" not in names, t.label
        assert any(set(names) <= f for f in fields), t.label
    assert len(named) == 3
    # the corpus-wide concepts still belong to a topic (coverage), they just do not name it
    assert topic_coverage(g) == (17, 17)


def test_topics_are_disjoint_deterministic_and_cover_the_linking_concepts():
    papers = _corpus()
    papers["lonely"] = ["one-off-concept", "quantization"]  # a concept in one paper links nothing
    a = concept_topics(_graph(papers))
    b = concept_topics(_graph(dict(reversed(list(papers.items())))))
    assert [(t.id, t.label, t.members) for t in a] == [(t.id, t.label, t.members) for t in b]
    seen: list[str] = [m for t in a for m in t.members]
    assert len(seen) == len(set(seen))
    assert "one-off-concept" not in seen
    assert all(t.id == f"topic-{t.names[0]}" and t.members[: len(t.names)] == t.names for t in a)


def test_papers_go_to_the_topic_their_rarer_concepts_point_to():
    pc = {"p": {"a", "b", "wide"}, "q": {"wide", "x"}, "r": {"wide"}}
    df = {"a": 1, "b": 1, "wide": 3, "x": 1}
    assert topic_papers([{"wide", "x"}, {"a", "b"}], pc, df) == [["q", "r"], ["p"]]  # type: ignore[arg-type]


def test_topic_names_rank_a_concept_mostly_outside_the_topic_last():
    pc = {f"p{i}": {"a", "b", "wide"} for i in range(4)} | {f"q{i}": {"wide", "x"} for i in range(20)}
    df = {"a": 4, "b": 4, "wide": 24, "x": 20}
    ranked = topic_names(["a", "b", "wide"], [f"p{i}" for i in range(4)], pc, df)  # type: ignore[arg-type]
    assert [c for c, _ in ranked][-1] == "wide"  # in every topic paper, but 20 of its 24 papers are elsewhere


@pytest.fixture(scope="module")
def sample_topics(mini_build):
    from typer.testing import CliRunner

    from kg.cli import app

    r = CliRunner().invoke(app, ["topics", "--store", str(mini_build / "store"), "--json", "--limit", "1000"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_cli_topics_json_lists_members(sample_topics, mini_build):
    assert sample_topics
    ids = [m["id"] for t in sample_topics for m in t["members"]]
    assert len(ids) == len(set(ids))  # disjoint
    for t in sample_topics:
        assert t["size"] == len(t["members"]) >= 1
        assert {"id", "label", "type", "papers"} <= set(t["members"][0])
        assert t["members"][0]["type"] in {"METHOD", "TASK", "DATASET", "METRIC"}
        assert t["topic"].startswith("topic-")
    # every member is in the RDF as skos:member of its skos:Collection
    nt = (mini_build / "kg.nt").read_text()
    assert nt.count("<http://www.w3.org/2004/02/skos/core#member>") == len(ids)
    # coverage: the concepts seen in >= 2 papers that belong to a topic (the mini corpus is a
    # dozen papers, where a lone pair of concepts can be unlinked; the sample reaches 99.8%)
    import csv

    rows = list(csv.DictReader((mini_build / "concepts.csv").open()))
    linking = {r["id"] for r in rows if int(r["papers"]) >= 2}
    assert len(linking & set(ids)) >= 0.75 * len(linking)
