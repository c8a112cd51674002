"""The main command on the bundled sample corpus, end to end (about a minute on 2 cores)."""

from __future__ import annotations

import json

import pytest

from kg.store import collect, get_named_query, open_store, run_named


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory):
    from kg.build import build

    out = tmp_path_factory.mktemp("sample") / "outputs"
    report = build(None, out)
    return out, report


@pytest.mark.slow
def test_build_sample_counts(sample_build):
    out, report = sample_build
    assert report.read.entries == 444 and report.read.papers == 396 and report.read.duplicates == 48
    papers = (out / "papers.jsonl").read_text().splitlines()
    assert len(papers) == 396
    marker = json.loads((out / ".kg-build.json").read_text())
    assert marker["papers"] == 396
    assert set(report.mentions_by_type) == {"METHOD", "TASK", "DATASET", "METRIC"}
    assert report.edges_by_kind["mentions"] > 3000 and report.edges_by_kind["similar"] > 500


@pytest.mark.slow
def test_build_sample_answers_researcher_questions(sample_build):
    out, _ = sample_build
    store = open_store(out / "store")

    def rows(name, **params):
        res = collect(run_named(store, get_named_query(name), params))
        return [
            dict(zip(res.variables, [x.value if x is not None else None for x in r], strict=True)) for r in res.rows
        ]

    assert any("Speculative" in r["title"] for r in rows("papers-mentioning", concept="speculative decoding"))
    hits = rows("papers-dataset-metric", dataset="HumanEval", metric="latency")
    assert hits, "some sample papers evaluate on HumanEval and report latency"
    mesa = rows("paper-proposes", paper="MESA: Effective Matching Redundancy Reduction by Semantic Area Segmentation")
    assert "MESA" in {r["label"] for r in mesa}
    top = [r["label"] for r in rows("top-concepts", type="Method")]
    assert top[0].lower() == "large language model"
