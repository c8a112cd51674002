"""bench_quality's seed-dev figure is the gold scorer's figure on `kg extract`'s output.

They once differed (0.729 against 0.754): not in the scoring, which agrees with
shared/gold/seed-dev/score.py on any predictions, but in the predictions. bench_quality built its
pipeline from kg/models/ner's path, and only ``build_pipeline("default")`` (what `kg extract` and
`kg eval` use) adds the papers' recogniser (kg/models/ner_papers) for title + abstract records.
No model is loaded here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from kg.build.evaluate import score_papers
from kg.extract.presets import resolve_model

SCORER = Path(__file__).resolve().parents[2] / "shared" / "gold" / "seed-dev" / "score.py"


@pytest.mark.parametrize(("mode", "rules"), [("combined", True), ("model", False)])
def test_bench_quality_builds_the_extractor_kg_extract_runs(monkeypatch, mode, rules):
    import benchmarks.bench_quality as bq

    calls = []
    monkeypatch.setattr(bq, "default_model_path", lambda: Path("kg/models/ner"))
    monkeypatch.setattr(bq, "build_pipeline", lambda *a, **k: calls.append((a, k)))
    bq.pipeline(mode)
    ((args, kwargs),) = calls
    # `kg extract` passes resolve_model("default") == "default"; a path would skip kg/models/ner_papers
    assert args == (resolve_model("default"),)
    assert kwargs.get("use_rules", True) is rules


GOLD = [
    {
        "id": "a",
        "entities": [
            {"name": "Large Language Models", "aliases": ["LLMs"], "type": "Method"},
            {"name": "perplexity", "aliases": [], "type": "Metric"},
            {"name": "question answering", "aliases": ["QA"], "type": "Task"},
            {"name": "SQuAD", "aliases": ["SQuAD 2.0"], "type": "Dataset"},
        ],
    },
    {"id": "b", "entities": [{"name": "BERT", "aliases": [], "type": "Method"}]},
    {"id": "c", "entities": [{"name": "ImageNet", "aliases": [], "type": "Dataset"}]},  # no prediction
]


def _m(text: str, label: str, concept: str | None = None, concept_label: str | None = None) -> dict:
    out = {"start": 0, "end": len(text), "text": text, "label": label}
    if concept is not None:
        out["concept"] = concept
    if concept_label is not None:
        out["concept_label"] = concept_label
    return out


PRED = [
    {
        "id": "a",
        "mentions": [
            _m("large language model", "METHOD", "c1", "LLM"),  # plural s, case
            _m("LLMs", "METHOD", "c1", "LLM"),
            _m("Perplexities", "METHOD", "c2"),  # right form, wrong type
            _m("QA", "task"),  # no concept id: keyed by its normal form
            _m("q.a.", "TASK"),
            _m("the benchmark", "DATASET", "c4", "SQuAD-2.0"),  # only its concept_label matches
            _m("hallucination", "TASK", "c5"),
            _m("Hallucination", "TASK", "c6"),  # same form, another concept: counted twice
            _m("something", "OTHER", "c7"),  # not one of the four types
        ],
    },
    {"id": "b", "mentions": [_m("BERT", "METHOD", "c8"), _m("bert", "METRIC", "c8")]},
    {"id": "zzz", "mentions": [_m("BERT", "METHOD", "c9")]},  # not in the gold
]


@pytest.mark.skipif(not SCORER.exists(), reason="shared/gold/seed-dev/score.py not beside the project")
def test_score_papers_agrees_with_the_gold_scorer(tmp_path):
    spec = importlib.util.spec_from_file_location("seed_dev_score", SCORER)
    assert spec and spec.loader
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    for name, rows in (("gold", GOLD), ("pred", PRED)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    want = ref.paper(str(tmp_path / "gold.jsonl"), str(tmp_path / "pred.jsonl"))
    got = score_papers(GOLD, PRED)
    assert want["missing_docs"] == got.missing_docs == 1
    for key, row in [("micro", got.micro), *got.per_label.items()]:
        assert (row.p, row.r, row.f1) == pytest.approx(want[key]), key
    assert set(got.per_label) == {k for k in want if k not in ("micro", "missing_docs")}
    # pinned by hand: 9 predicted concepts (paper "zzz" is not scored), 4 matched; 6 gold, 4 found
    assert (got.micro.tp, got.micro.predicted, got.micro.gold) == (4, 9, 6)
    assert got.micro.tp_gold == 4  # type: ignore[attr-defined]
