"""One concept per meaning within a paper (kg/normalise/meaning.py), and the acronym fixes beside it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.extract.abbreviation import find_abbreviations
from kg.extract.pipeline import Extraction
from kg.normalise import normalise
from kg.normalise.meaning import (
    FEATURES,
    PaperConcept,
    SameMeaningModel,
    candidate_pairs,
    load_meaning_model,
    load_vectors,
    pair_features,
    same_meaning_groups,
)
from kg.normalise.termstats import load_termstats
from kg.records import Mention


def pc(cid: str, forms: list[str], type_: str = "METHOD", n: int = 2, first: int = 0) -> PaperConcept:
    return PaperConcept(cid, cid.replace("-", " "), type_, forms, n, first=first)


def toy_model(**coef: float) -> SameMeaningModel:
    """A fixed logistic regression: only the named features count, unscaled."""
    return SameMeaningModel(
        {
            "features": FEATURES,
            "mean": [0.0] * len(FEATURES),
            "scale": [1.0] * len(FEATURES),
            "coef": [coef.get(f, 0.0) for f in FEATURES],
            "intercept": -2.0,
            "threshold": 0.5,
        }
    )


def test_pair_features_are_symmetric():
    a, b = pc("peak-memory", ["peak memory"], "METRIC"), pc("peak-memory-usage", ["peak memory usage"], "METRIC")
    stats, vectors = load_termstats(), load_vectors()
    assert pair_features(a, b, stats, vectors) == pair_features(b, a, stats, vectors)
    f = pair_features(a, b, stats, vectors)
    assert f["contains"] == 1.0 and f["prefix"] == 1.0 and f["same_head"] == 0.0 and f["min_words"] == 2.0


def test_a_fixed_model_gives_fixed_groups_complete_link():
    # joined when one's words hold the other's: A ⊂ B and B ⊂ C, and A ⊂ C too: one group of three
    model = toy_model(contains=5.0)
    cs = [
        pc("sparsity-regularization", ["sparsity regularization"], n=1),
        pc("explicit-sparsity-regularization", ["explicit sparsity regularization"], n=3),
        pc("object-detection", ["object detection"], "TASK"),
    ]
    joins = same_meaning_groups(cs, model, load_termstats(), load_vectors())
    assert joins == {"sparsity-regularization": ("explicit-sparsity-regularization", 0.9526)}
    # complete link: a ~ b and b ~ c but not a ~ c, so only the strongest pair joins
    model = toy_model(word_jaccard=6.0)
    cs = [pc("a-b", ["a b"]), pc("b-c", ["b c"], n=3), pc("c-d", ["c d"])]
    joins = same_meaning_groups(cs, model, load_termstats(), load_vectors())
    assert len(joins) == 1 and set(joins) <= {"a-b", "c-d"}


def test_numbers_and_distinct_names_stay_apart_with_the_shipped_model():
    model = load_meaning_model()
    assert model is not None and 0.0 < model.threshold < 1.0
    stats, vectors = load_termstats(), load_vectors()

    def p(a: PaperConcept, b: PaperConcept) -> float:
        return float(model.probability([pair_features(a, b, stats, vectors)])[0])

    thr = model.threshold
    assert p(pc("ttft", ["TTFT"], "METRIC"), pc("time-to-first-token", ["time to first token"], "METRIC")) >= thr
    assert (
        p(
            pc("latent-diffusion", ["latent diffusion"]),
            pc("latent-diffusion-model", ["latent diffusion models"], first=50),
        )
        >= thr
    )
    assert p(pc("aime-2024", ["AIME 2024"], "DATASET"), pc("aime-2025", ["AIME 2025"], "DATASET")) < thr
    assert (
        p(
            pc("process-reward-model", ["process reward models", "PRMs"]),
            pc("partial-reward-model", ["partial reward model"]),
        )
        < thr
    )
    assert p(pc("bert", ["BERT"]), pc("roberta", ["RoBERTa"])) < thr
    assert p(pc("object-detection", ["object detection"]), pc("semantic-segmentation", ["segmentation"])) < thr
    # unrelated concepts, or two of different types ("CLIP" and "CLIP score"), are not even scored
    assert candidate_pairs([pc("speedup", ["speedup"]), pc("latency", ["latency"])], vectors) == []
    assert candidate_pairs([pc("clip", ["CLIP"]), pc("clip-score", ["CLIP score"], "METRIC")], vectors) == []
    # opposites, and a name followed by a new head, are two things
    assert (
        candidate_pairs(
            [pc("linear-classifier", ["linear classifier"]), pc("non-linear-classifier", ["non-linear classifiers"])],
            vectors,
        )
        == []
    )
    assert (
        candidate_pairs(
            [pc("large-language-model", ["LLMs"]), pc("large-language-model-agent", ["LLM agents"])], vectors
        )
        == []
    )
    assert candidate_pairs(
        [pc("peak-memory", ["peak memory"]), pc("peak-memory-usage", ["peak memory usage"])], vectors
    ) == [(0, 1)]


def test_the_model_reads_only_known_features():
    spec = json.loads(json.dumps(toy_model().spec))
    spec["features"] = [*spec["features"], "no-such-feature"]
    with pytest.raises(ValueError, match="retrain"):
        SameMeaningModel(spec)


def _ex(pid: str, texts: list[str], abbrs: list[tuple[str, str]]) -> Extraction:
    ms, pos = [], 0
    for text in texts:
        ms.append(Mention(pid, pos, pos + len(text), text, "METRIC"))
        pos += len(text) + 1
    return Extraction(pid, ms, abbrs)


def test_an_acronym_inside_a_long_form_reads_the_same_for_the_acronym():
    """MFU takes the key its long form's mentions get, FLOPs inside it read as its long form."""
    exs = [
        _ex("a", ["Model FLOPs Utilization", "MFU"], [("Model FLOPs Utilization", "MFU")]),
        _ex("b", ["floating-point operations", "FLOPs"], [("floating-point operations", "FLOPs")]),
    ]
    _, mentions = normalise(exs)
    of = {m.text: m.concept for m in mentions}
    assert of["MFU"] == of["Model FLOPs Utilization"] == "model-floating-point-operation-utilization"


def test_a_long_form_ends_where_its_parenthesis_starts():
    text = "It integrates both Feed-Forward Network~(FFN) and zero-computation experts."
    from kg.extract.pipeline import build_pipeline

    [((a, b), (c, d))] = find_abbreviations(text)
    assert text[a:b] == "Feed-Forward Network" and text[c:d] == "FFN"
    doc = build_pipeline()(text)
    assert [(text[x:y], text[u:v]) for (x, y), (u, v) in doc._.kg_abbreviations] == [("Feed-Forward Network", "FFN")]


def test_extract_joins_a_papers_variants_and_explains_it(tmp_path):
    """Through `kg extract` and `kg explain`: a paper that writes TTFT without defining it there."""
    paper = {
        "id": "tt",
        "title": "Prefill Caching Reduces Time to First Token",
        "abstract": (
            "Serving large language models is limited by the time to first token of long prompts. We cache "
            "prefill states across requests. On chat workloads, TTFT falls by 2.1x and TTFT tails shrink, while "
            "throughput is unchanged."
        ),
    }
    src = tmp_path / "p.jsonl"
    src.write_text(json.dumps(paper) + "\n")
    out = tmp_path / "m.jsonl"
    r = CliRunner().invoke(app, ["extract", str(src), "-o", str(out), "--explain"])
    assert r.exit_code == 0, r.output
    rec = json.loads(out.read_text().splitlines()[0])
    assert {m["concept"] for m in rec["mentions"] if m["text"] in ("TTFT", "time to first token")} == {
        "time-to-first-token"
    }
    [joined] = [d for d in rec["decisions"] if d.get("joins")]
    assert joined["concept"] == "ttft" and joined["joins"] == "time-to-first-token" and joined["kept"]
    assert joined["reason"] == "same meaning" and joined["join_probability"] >= 0.5
