"""The concept decision (kg/normalise/decide.py), variant merging, corrections and `kg explain`."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.extract.pipeline import Extraction
from kg.normalise import normalise, variant_key
from kg.normalise.decide import (
    CLASSES,
    FEATURES,
    Candidate,
    DecisionModel,
    apply_decisions,
    decide,
    load_decision_model,
)
from kg.records import Concept, Mention

DATA = Path(__file__).parent / "data"


def _tiny_model() -> DecisionModel:
    """One stage: DROP rises when n_mentions <= 1.5 and the phrase is common (df_key > 5)."""
    n = FEATURES.index("n_mentions")
    d = FEATURES.index("df_key")
    drop_tree = {
        "f": [n, d, -2, -2, -2],
        "t": [1.5, 5.0, -2.0, -2.0, -2.0],
        "l": [1, 2, -1, -1, -1],
        "r": [4, 3, -1, -1, -1],
        "v": [0.0, 2.5, -1.0, 6.0, -2.0],
    }
    flat = {"f": [-2], "t": [-2.0], "l": [-1], "r": [-1], "v": [0.0]}
    method = {"f": [-2], "t": [-2.0], "l": [-1], "r": [-1], "v": [1.0]}
    return DecisionModel(
        {
            "features": list(FEATURES),
            "classes": list(CLASSES),
            "learning_rate": 1.0,
            "init": [0.0] * 5,
            "threshold": 0.5,
            "trees": [[drop_tree, method, flat, flat, flat]],
        }
    )


def _cand(cid: str, n_mentions: float, df_key: float) -> Candidate:
    feats = dict.fromkeys(FEATURES, 0.0)
    feats.update(n_mentions=n_mentions, df_key=df_key)
    return Candidate("p", cid, cid, "METHOD", [], feats)


def test_fixed_model_gives_fixed_decisions():
    model = _tiny_model()
    ds = decide([_cand("rare", 3, 1), _cand("generic", 1, 9), _cand("once", 1, 2)], model)
    assert [(d.concept, d.kept, d.type) for d in ds] == [
        ("rare", True, "METHOD"),
        ("generic", False, "METHOD"),
        ("once", True, "METHOD"),
    ]
    # softmax of raw scores: rare -> DROP raw -2 + ... ; generic -> DROP raw +6
    generic = ds[1]
    assert generic.probabilities["DROP"] == pytest.approx(np.exp(6) / (np.exp(6) + np.exp(1) + 3))
    # the evidence names the features that decided, with the sign towards listing it
    assert set(generic.evidence) == {"n_mentions", "df_key"} and generic.evidence["df_key"] < 0
    assert ds[0].evidence["n_mentions"] > 0


def test_vectorised_trees_agree_with_one_at_a_time():
    model = load_decision_model()
    assert model is not None, "kg/models/decision/model.json ships with kg"
    rng = np.random.default_rng(0)
    rows = rng.uniform(0, 5, size=(40, len(model.features)))
    probs = model.predict_matrix(rows)
    for row, p in zip(rows, probs, strict=True):
        one = model.predict(dict(zip(model.features, row, strict=True)))
        assert all(abs(one[k] - p[k]) < 1e-12 for k in one)


def test_apply_decisions_drops_and_retypes():
    ms = [
        Mention("a", 0, 3, "foo", "METHOD", 0, 0, 3, 0.9, "ner", "used"),
        Mention("b", 0, 3, "foo", "METHOD", 0, 0, 3, 0.9, "ner", "used"),
        Mention("a", 4, 7, "bar", "METHOD", 0, 0, 7, 0.9, "ner", "used"),
    ]
    for m, c in zip(ms, ["foo", "foo", "bar"], strict=True):
        m.concept = c
    concepts = {"foo": Concept("foo", "foo", "METHOD", {"foo": 2}), "bar": Concept("bar", "bar", "METHOD", {"bar": 1})}
    model = _tiny_model()
    cands = [_cand("foo", 1, 9), _cand("foo", 3, 1), _cand("bar", 3, 1)]
    cands[0].paper_id, cands[1].paper_id, cands[2].paper_id = "a", "b", "a"
    out, kept = apply_decisions(concepts, ms, decide(cands, model))
    assert sorted(out) == ["bar", "foo"] and out["foo"].papers == {"b"}
    assert [(m.paper_id, m.concept) for m in kept] == [("b", "foo"), ("a", "bar")]


@pytest.mark.parametrize(
    "a,b",
    [
        ("speed-up", "speedup"),
        ("MATH-500", "MATH500"),
        ("GSM8K", "GSM-8K"),
        ("pre-training", "pretraining"),
        ("DeepSeek-R1", "DeepSeek R1"),
        ("GPT-2", "GPT- 2"),
        ("computation cost", "computational cost"),
        ("parameter count", "number of parameters"),
        ("φ-Decoding", "phi-Decoding"),
    ],
)
def test_variants_of_one_name_are_one_concept(a, b):
    def m(pid: str, t: str) -> Mention:
        return Mention(pid, 0, len(t), t, "METRIC", 0, 0, len(t), 0.9, "ner", "used")

    concepts, mentions = normalise([Extraction("p1", [m("p1", a)]), Extraction("p2", [m("p2", b)])])
    assert len(concepts) == 1, concepts
    assert {x.concept for x in mentions} == set(concepts)


def test_different_names_stay_apart():
    assert variant_key("gpt 4.5") != variant_key("gpt 45")

    def m(pid: str, t: str, label: str) -> Mention:
        return Mention(pid, 0, len(t), t, label, 0, 0, len(t), 0.9, "ner", "used")

    concepts, _ = normalise(
        [
            Extraction(
                "p1",
                [
                    m("p1", "Large Language Models", "METHOD"),
                    m("p1", "Large Language Model Benchmarks", "DATASET"),
                    m("p1", "GSM8K benchmark", "DATASET"),
                ],
            )
        ]
    )
    labels = {c.label for c in concepts.values()}
    assert "Large Language Model Benchmark" in labels  # a different thing from the models
    assert "GSM8K" in labels  # a name's tail is cut


def test_two_expansions_of_one_acronym_stay_two():
    def ex(pid: str, long: str) -> Extraction:
        text = f"{long} (SAM)"
        return Extraction(
            pid,
            [
                Mention(pid, 0, len(long), long, "METHOD", 0, 0, len(text), 0.9, "ner", "used"),
                Mention(
                    pid, len(long) + 2, len(long) + 5, "SAM", "METHOD", 0, 0, len(text), 0.9, "kg_abbreviations", "used"
                ),
            ],
            [(long, "SAM")],
        )

    concepts, _ = normalise([ex("p1", "Segment Anything Model"), ex("p2", "Sharpness-Aware Minimization")])
    assert {c.label for c in concepts.values()} == {"Segment Anything Model", "Sharpness-Aware Minimization"}


@pytest.mark.parametrize("dash", ["-", "–", "—", " "])
def test_x_based_model_names_x_whatever_the_dash(dash):
    t = f"Transformer{dash}based model"
    concepts, mentions = normalise(
        [Extraction("p", [Mention("p", 0, len(t), t, "METHOD", 0, 0, len(t), 0.9, "ner", "used")])]
    )
    assert list(concepts) == ["transformer"]


def test_acronym_forms_join_their_long_form(nlp):
    """Short form before its long form, a parenthesis glued to the word, a plural name-like acronym."""
    from kg.extract.pipeline import extract
    from kg.records import Paper

    text = (
        "We develop a theoretical model, BBAM (Bayesian Budget Allocation Model), for reasoning. "
        "Conventional Vision-Language Models(VLMs) use visual tokens. VLMs are large. "
        "We call this architecture a Pointer Net (Ptr-Net). We show Ptr-Nets can be trained. "
        "Multi-modal Large Language Models (MLLMs) see images."
    )
    ex = list(extract([Paper(id="p", title="", abstract="", raw_text=text)], nlp))[0]
    assert ("Bayesian Budget Allocation Model", "BBAM") in ex.abbreviations
    assert ("Vision-Language Models", "VLMs") in ex.abbreviations
    assert ("Multi-modal Large Language Models", "MLLMs") in ex.abbreviations  # the whole compound
    _, mentions = normalise([ex])
    concept = {m.text: m.concept for m in mentions}
    assert concept["BBAM"] == concept["Bayesian Budget Allocation Model"]
    assert concept["VLMs"] == concept["Vision-Language Models"]
    assert concept["Ptr-Nets"] == concept["Ptr-Net"] == concept["Pointer Net"]


@pytest.fixture(scope="module")
def corrected_build(tmp_path_factory, mini_build):
    out = tmp_path_factory.mktemp("corr") / "out"
    shutil.copytree(mini_build, out)
    return out


def test_explain_shows_every_candidate_with_its_evidence(mini_build):
    r = CliRunner().invoke(app, ["explain", "p1", "-o", str(mini_build), "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["decisions"]
    decisions = [json.loads(line) for line in (mini_build / "decisions.jsonl").read_text().splitlines()]
    assert len(rows) == sum(d["paper"] == "p1" for d in decisions) > 0
    assert all({"kept", "score", "type", "evidence"} <= set(row) for row in rows)
    assert any(row["label"] == "FastSpec" and row["kept"] for row in rows)
    table = CliRunner().invoke(
        app, ["explain", "FastSpec: Speculative Decoding for Code Generation", "-o", str(mini_build)]
    )
    assert table.exit_code == 0 and "kept" in table.output and "P(listed)" in table.output
    missing = CliRunner().invoke(app, ["explain", "no-such-paper", "-o", str(mini_build)])
    assert missing.exit_code != 0 and "no paper" in missing.output
    # a concept joined to another of its paper (kg/normalise/meaning.py) says so, with its probability
    joined = [d for d in decisions if d.get("joins")]
    assert joined and all(d["kept"] and d["reason"] == "same meaning" for d in joined)
    d = joined[0]
    shown = CliRunner().invoke(app, ["explain", d["paper"], "-o", str(mini_build)], env={"COLUMNS": "400"})
    assert f"same meaning as {d['joins']}" in shown.output


def test_extract_explain_and_all_mentions(tmp_path):
    out, full, allm = tmp_path / "x.jsonl", tmp_path / "e.jsonl", tmp_path / "a.jsonl"
    runner = CliRunner()
    assert runner.invoke(app, ["extract", str(DATA / "mini.jsonl"), "-o", str(out), "-q"]).exit_code == 0
    assert runner.invoke(app, ["extract", str(DATA / "mini.jsonl"), "-o", str(full), "-q", "--explain"]).exit_code == 0
    assert (
        runner.invoke(app, ["extract", str(DATA / "mini.jsonl"), "-o", str(allm), "-q", "--all-mentions"]).exit_code
        == 0
    )
    plain = [json.loads(x) for x in out.read_text().splitlines()]
    expl = [json.loads(x) for x in full.read_text().splitlines()]
    every = [json.loads(x) for x in allm.read_text().splitlines()]
    assert [r["mentions"] for r in plain] == [r["mentions"] for r in expl]
    # a kept concept that joins another of its paper (same meaning) names that one's mentions
    kept = {(r["id"], d.get("joins") or d["concept"]) for r in expl for d in r["decisions"] if d["kept"]}
    assert kept == {(r["id"], m["concept"]) for r in plain for m in r["mentions"]}
    assert all("features" in d for r in expl for d in r["decisions"])
    assert sum(len(r["mentions"]) for r in every) >= sum(len(r["mentions"]) for r in plain)


def test_corrections_survive_rebuild_and_change_rdf_pages_and_counts(corrected_build):
    from kg.build import build
    from kg.normalise.corrections import FILENAME, add_correction
    from kg.store import open_store
    from kg.web.data import concept_page

    out = corrected_build
    before = {r["concept"]: r for r in map(json.loads, (out / "decisions.jsonl").read_text().splitlines())}
    assert "fastspec" in before and "humaneval" in before
    add_correction(out / FILENAME, "rename", concept="FastSpec", label="FastSpec decoder")
    add_correction(out / FILENAME, "retype", concept="HumanEval", type="METRIC")
    add_correction(out / FILENAME, "drop", concept="latency")
    for _ in range(2):  # applied by every build, the file kept across rebuilds
        report = build([DATA / "mini.jsonl"], out)
        assert any("renamed fastspec" in line for line in report.corrections)
        assert any("dropped latency" in line for line in report.corrections)
        assert (out / FILENAME).exists()
    nt = (out / "kg.nt").read_text()
    assert '"FastSpec decoder"' in nt
    assert "/concept/latency>" not in nt
    store = open_store(out / "store")
    page = concept_page(store, "humaneval")
    assert page is not None and page.type.upper() == "METRIC"
    assert concept_page(store, "latency") is None
    assert report.concepts_by_type.get("METRIC", 0) >= 1
    del store


def test_bad_corrections_file_is_one_line_error(tmp_path):
    from kg.errors import KGError
    from kg.normalise.corrections import load_corrections

    bad = tmp_path / "kg-corrections.toml"
    bad.write_text("[[retype]]\nconcept = 'x'\ntype = 'Gadget'\n")
    with pytest.raises(KGError, match="type must be one of"):
        load_corrections(bad)
    bad.write_text("[[explode]]\nconcept = 'x'\n")
    with pytest.raises(KGError, match="unknown correction"):
        load_corrections(bad)


def test_passages_keep_the_recognisers_mentions():
    """A record given as one text (no title and abstract) is not decided: the model never saw such input."""
    from kg.build.extraction import extract_records
    from kg.records import Paper

    text = "We propose FastSpec, a speculative decoding method evaluated on HumanEval with pass@1."
    as_paper = Paper(id="a", title="FastSpec", abstract=text)
    as_passage = Paper(id="b", title="", abstract="", raw_text=text)
    every = extract_records([as_passage], decision=False, explain=False)[0]["mentions"]
    passage = extract_records([as_passage], explain=True)[0]
    assert [m["start"] for m in passage["mentions"]] == [m["start"] for m in every]
    assert {d["reason"] for d in passage["decisions"]} == {"passage"}
    paper = extract_records([as_paper], explain=True)[0]
    assert {d["reason"] for d in paper["decisions"]} <= {"model", "overlap"}


def test_an_acronym_inside_a_name_reads_as_its_long_form():
    def m(pid: str, t: str) -> Mention:
        return Mention(pid, 0, len(t), t, "METHOD", 0, 0, len(t), 0.9, "ner", "used")

    concepts, _ = normalise(
        [
            Extraction(
                "a",
                [m("a", "Multimodal Large Language Models"), m("a", "Chain-of-Thought"), m("a", "CoT")],
                [("Chain-of-Thought", "CoT"), ("Large Language Models", "LLMs")],
            ),
            Extraction("b", [m("b", "Multimodal LLMs"), m("b", "CoT quality"), m("b", "Chain-of-Thought quality")]),
        ]
    )
    by_label = {c.label: sorted(c.aliases) for c in concepts.values()}
    assert by_label["Multimodal Large Language Model"] == ["Multimodal LLMs", "Multimodal Large Language Models"]
    assert by_label["Chain-of-Thought quality"] == ["Chain-of-Thought quality", "CoT quality"]


def test_decision_in_worker_processes_equals_one_process(nlp):
    """`decide_in_chunks(processes=2)` (forked workers, chunk by chunk) gives what one process gives."""
    from kg.corpus.readers import read_corpus
    from kg.extract.pipeline import extract
    from kg.normalise.decide import decide_in_chunks

    papers, _ = read_corpus([DATA / "mini.jsonl"], None)
    extractions = list(extract(papers, nlp))

    def run(processes: int) -> tuple[list[dict], list[tuple], dict[str, tuple]]:
        concepts, mentions = normalise(copy.deepcopy(extractions))
        by_paper: dict[str, list[Mention]] = {}
        for m in mentions:
            by_paper.setdefault(m.paper_id, []).append(m)
        seen: list[dict] = []
        kept_concepts, kept = decide_in_chunks(
            papers,
            {ex.paper_id: list(ex.abbreviations) for ex in extractions},
            concepts,
            by_paper,
            lambda made: seen.extend(d.to_dict() for d in made),
            chunk=2,
            processes=processes,
        )
        rows = [(m.paper_id, m.start, m.end, m.concept, m.label, m.confidence) for m in kept]
        return seen, rows, {c: (k.type, sorted(k.papers), k.aliases) for c, k in kept_concepts.items()}

    one, two = run(1), run(2)
    assert one[0] and one[1] and len(papers) > 4  # several chunks, something kept
    assert one == two
