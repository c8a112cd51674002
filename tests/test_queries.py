from __future__ import annotations

import pytest

from kg.errors import QueryError
from kg.store import collect, get_named_query, named_queries, run_named, run_query


def _rows(store, name, **params):
    res = collect(run_named(store, get_named_query(name), params))
    return [
        dict(zip(res.variables, [x.value if x is not None else None for x in row], strict=True)) for row in res.rows
    ]


def test_queries_at_least_eight_named_and_documented():
    qs = named_queries()
    assert len(qs) >= 8
    for q in qs.values():
        assert q.description
        for p in q.params:
            assert f"?{p}" in q.text


def test_queries_papers_mentioning(mini_store):
    rows = _rows(mini_store, "papers-mentioning", concept="Speculative Decoding")
    assert {r["paper"] for r in rows} == {"p1", "p2"}


def test_queries_top_concepts(mini_store):
    rows = _rows(mini_store, "top-concepts", type="Dataset")
    labels = [r["label"] for r in rows]
    assert labels[:2] == ["HumanEval", "ImageNet"]
    assert {"MBPP", "GSM8K", "CIFAR-10"} <= set(labels)


def test_queries_cooccurring(mini_store):
    rows = _rows(mini_store, "cooccurring", concept="HumanEval")
    assert {"speculative decoding", "large language model"} <= {r["label"].lower() for r in rows}


def test_queries_similar_papers(mini_store):
    rows = _rows(mini_store, "similar-papers", paper="p1")
    assert rows[0]["other"] == "p2"
    assert "HumanEval" in rows[0]["shared_concepts"]


def test_queries_methods_for_task(mini_store):
    rows = _rows(mini_store, "methods-for-task", task="image classification")
    assert {"sharpness-aware minimization", "prunevit"} <= {r["method"].lower() for r in rows}


def test_queries_method_evaluation(mini_store):
    rows = _rows(mini_store, "method-evaluation", method="speculative decoding")
    got = {(r["kind"], r["label"]) for r in rows}
    assert ("Dataset", "HumanEval") in got and ("Metric", "latency") in got


def test_queries_paper_proposes(mini_store):
    rows = _rows(mini_store, "paper-proposes", paper="p1")
    assert [r["label"] for r in rows] == ["FastSpec"]
    assert rows[0]["evidence"]


def test_queries_concepts_by_year(mini_store):
    rows = _rows(mini_store, "concepts-by-year")
    assert ("2024", "HumanEval") in {(r["year"], r["label"]) for r in rows}
    assert all(r["year"] in ("2023", "2024") for r in rows)  # the "--06-05" paper has no year


def test_queries_papers_dataset_metric(mini_store):
    rows = _rows(mini_store, "papers-dataset-metric", dataset="humaneval", metric="Latency")
    assert {r["paper"] for r in rows} == {"p1", "p2"}


def test_queries_concept_evidence(mini_store):
    rows = _rows(mini_store, "concept-evidence", concept="Segment Anything Model")
    assert {r["surface"] for r in rows} == {"Segment Anything Model", "SAM"}
    assert all(r["surface"] in r["sentence"] for r in rows)
    # "SAM" is an alias of two concepts here: its evidence covers both senses
    both = _rows(mini_store, "concept-evidence", concept="SAM")
    assert {r["paper"] for r in both} == {"p3", "p4"}


def test_queries_parameters_are_bound_not_pasted(mini_store):
    evil = 'x" } ; DROP ALL ; SELECT * { ?s ?p "'
    assert _rows(mini_store, "papers-mentioning", concept=evil) == []


def test_queries_missing_and_unknown_parameters(mini_store):
    with pytest.raises(QueryError, match="missing parameter 'concept'"):
        run_named(mini_store, get_named_query("papers-mentioning"), {})
    with pytest.raises(QueryError, match="no parameter 'bogus'"):
        run_named(mini_store, get_named_query("papers-mentioning"), {"concept": "x", "bogus": "y"})
    with pytest.raises(QueryError, match="no named query"):
        get_named_query("nope")


def test_queries_malformed_sparql(mini_store):
    with pytest.raises(QueryError, match="malformed SPARQL"):
        run_query(mini_store, "SELEC ?x WHERE {")
