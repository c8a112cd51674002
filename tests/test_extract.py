from __future__ import annotations

import pytest

from kg.extract import extract
from kg.extract.abbreviation import find_abbreviations, is_short_form, match_long_form
from kg.extract.candidates import CANDIDATE_PRODUCERS
from kg.extract.resolve import proposal_spans
from kg.normalise import normalise
from kg.records import Paper


def _run(nlp, title: str, abstract: str):
    p = Paper(id="x", title=title, abstract=abstract)
    (ex,) = list(extract([p], nlp))
    concepts, mentions = normalise([ex])
    # the recognisers' mentions; the concept decision's extra candidates (kg_chunk, kg_variant) aside
    ex.mentions = [m for m in ex.mentions if m.producer not in CANDIDATE_PRODUCERS]
    return p, ex, concepts, mentions


MESA_TITLE = "MESA: Effective Matching Redundancy Reduction by Semantic Area Segmentation"
MESA_ABSTRACT = (
    "We propose MESA and DMESA as novel feature matching methods, which utilize Segment Anything "
    "Model (SAM) to effectively mitigate matching redundancy. The key insight of our methods is to "
    "establish implicit-semantic area matching prior to point matching, based on advanced image "
    "understanding of SAM."
)


def test_extract_mesa_is_a_proposed_method(nlp):
    _, _, concepts, mentions = _run(nlp, MESA_TITLE, MESA_ABSTRACT)
    mesa = [m for m in mentions if m.text == "MESA"]
    assert mesa and all(m.label == "METHOD" and m.role == "proposed" for m in mesa)
    assert any(m.text == "DMESA" and m.role == "proposed" for m in mentions)


def test_extract_sam_long_and_short_form_are_one_concept(nlp):
    _, _, concepts, mentions = _run(nlp, MESA_TITLE, MESA_ABSTRACT)
    sam = {m.concept for m in mentions if m.text in ("SAM", "Segment Anything Model")}
    assert len(sam) == 1
    c = concepts[sam.pop()]
    assert c.label == "Segment Anything Model" and c.type == "METHOD"
    assert set(c.aliases) == {"Segment Anything Model", "SAM"}


def test_extract_humaneval_mbpp_are_datasets_and_flops_a_metric(nlp):
    _, _, _, mentions = _run(
        nlp,
        "Fast code LLMs",
        "We evaluate on HumanEval and MBPP, where our method cuts FLOPs by 30% and improves pass@1.",
    )
    labels = {m.text: m.label for m in mentions}
    assert labels["HumanEval"] == "DATASET"
    assert labels["MBPP"] == "DATASET"
    assert labels["FLOPs"] == "METRIC"


def test_extract_offsets_point_into_title_newline_abstract(nlp):
    p, ex, _, _ = _run(nlp, MESA_TITLE, MESA_ABSTRACT)
    for m in ex.mentions:
        assert p.text[m.start : m.end] == m.text
        assert m.sentence_start <= m.start < m.end <= m.sentence_end
    assert ex.mentions[0].sentence == 0  # the title is its own sentence


def test_extract_generic_heads_alone_are_not_mentions(nlp):
    _, ex, _, _ = _run(nlp, "A study", "Our method and the framework improve performance of the model.")
    assert not {m.text.lower() for m in ex.mentions} & {"method", "framework", "performance", "model"}


@pytest.mark.parametrize(("short", "ok"), [("SAM", True), ("LLMs", True), ("i.e.", False), ("5%", False), ("x", False)])
def test_abbreviation_short_forms(short, ok):
    assert is_short_form(short) is ok


def test_abbreviation_pairs_and_long_form_boundary():
    t = "Recent work on parameter efficient transfer learning (PETL) for vision-language pre-trained (VLP) models."
    pairs = [(t[a:b], t[c:d]) for (a, b), (c, d) in find_abbreviations(t)]
    assert ("parameter efficient transfer learning", "PETL") in pairs
    assert match_long_form("RL", "a reinforcement learning") == 2


def test_a_long_form_keeps_the_word_its_acronym_starts_with(nlp):
    """ "You" and "Only" are words trimming drops from a phrase, but YOLO's letters start there."""
    _, _, concepts, mentions = _run(nlp, "Fast detectors", "We build on You Only Look Once (YOLO) for detection.")
    yolo = {m.concept for m in mentions if m.text in ("YOLO", "You Only Look Once")}
    assert len(yolo) == 1 and concepts[yolo.pop()].label == "You Only Look Once"
    assert not [m for m in mentions if m.text == "Look Once" and m.producer not in CANDIDATE_PRODUCERS]


def test_abbreviation_rejects_unrelated_parenthesis():
    t = "Results on five datasets (see MNIST) and {99.38% accuracy} (MNIST)."
    assert find_abbreviations(t) == []


def test_extract_proposal_chain_stops_at_other_words():
    t = "T\nWe propose A and B as C methods."
    got = proposal_spans(t, [(0, 1), (2, len(t))], [(13, 14), (19, 20), (24, 25)])
    assert got == {0, 1}


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("RNNs and", "RNNs"),
        ("manifold learning and", "manifold learning"),
        ("of the attention layer", "attention layer"),
        ("Segment Anything Model (SAM)", "Segment Anything Model (SAM)"),
        ("and", "and"),  # a lone function word is left for the generic filters
    ],
)
def test_resolver_trims_dangling_function_words(span, expected):
    from kg.extract.resolve import _trim
    from kg.extract.rules import Candidate

    text = f"We use {span}, here."
    c = _trim(Candidate(7, 7 + len(span), "METHOD", "ner", 0.9), text)
    assert text[c.start : c.end] == expected


def test_title_case_hyphenated_words_are_not_names():
    from kg.extract.resources import load_resources
    from kg.extract.rules import looks_like_name

    res = load_resources()
    assert not any(looks_like_name(t, res) for t in ["Low-Bit", "Fine-Grained", "Multi-Vector", "Perplexity-Based"])
    assert all(looks_like_name(t, res) for t in ["GPT-4", "ResNet-50", "Llama-2-70B", "BERT-Large"])


def test_urls_and_latex_markup_are_never_mentions(nlp):
    _, ex, _, _ = _run(
        nlp,
        "\\tool: Sparser Selection for Mixture-of-Experts",
        "We present \\tool, which reduces computation by 50\\% on machine translation. "
        "Code is at https://github.com/NX-AI/flashrnn and www.example.org/x.",
    )
    assert ex.mentions  # machine translation, Mixture-of-Experts ...
    assert not [m.text for m in ex.mentions if "\\" in m.text or "://" in m.text or "www." in m.text]


def test_known_dataset_opening_a_longer_span_is_its_own_mention(nlp):
    _, ex, concepts, _ = _run(
        nlp,
        "KV Prediction for Improved Time to First Token",
        "We demonstrate accuracy improvements of up to 30% on HumanEval python code completion.",
    )
    assert ("HumanEval", "DATASET") in {(m.text, m.label) for m in ex.mentions}
    assert not [m.text for m in ex.mentions if m.text.startswith("HumanEval ")]


def test_hardware_is_never_a_mention(nlp):
    _, ex, _, _ = _run(
        nlp,
        "SageAttention3: Microscaling FP4 Attention for Inference",
        "We leverage the new FP4 Tensor Cores in Blackwell GPUs to accelerate attention. "
        "It reaches 1038 TOPS on RTX5090 and runs a LLaMA-3.1 8B model on a single RTX 4090 GPU.",
    )
    texts = {m.text for m in ex.mentions}
    assert not texts & {"FP4 Tensor Cores", "Blackwell GPUs", "RTX5090", "RTX 4090 GPU", "GPU"}
    assert "SageAttention3" in texts


@pytest.mark.parametrize("name", ["Llama-2-70B", "Qwen2.5-7B-Instruct", "GPT-5.2", "BLOOM-1b7", "LLaMA-3.1 8B"])
def test_model_names_with_versions_or_sizes_are_methods(name):
    from kg.extract.resolve import _MODEL_NAME

    assert _MODEL_NAME.search(name)


@pytest.mark.parametrize("name", ["ImageNet-1k", "GSM8K", "MATH-500", "CIFAR-10", "SQuAD 2.0", "WikiText-103"])
def test_dataset_names_are_not_taken_for_models(name):
    from kg.extract.resolve import _MODEL_NAME

    assert not _MODEL_NAME.search(name)


def test_title_case_titles_are_true_cased_from_the_abstract():
    from kg.extract.pipeline import truecase_title

    title = "Unsupervised Hallucination Detection by Inspecting Reasoning Processes with Mamba and CommVQ"
    abstract = (
        "Unsupervised hallucination detection finds hallucinated content of Mamba and CommVQ models "
        "by inspecting reasoning processes, unlike unsupervised methods."
    )
    out = truecase_title(title, abstract)
    assert out == "unsupervised hallucination detection by inspecting reasoning processes with Mamba and CommVQ"
    assert len(out) == len(title)
    sentence_case = "Unsupervised hallucination detection by inspecting reasoning"
    assert truecase_title(sentence_case, abstract) == sentence_case


def test_mentions_keep_the_titles_own_case(nlp):
    title = "Efficient Document Parsing via Parallel Token Prediction"
    p, ex, _, _ = _run(
        nlp,
        title,
        "Document parsing is revolutionized by vision-language models. We propose "
        "parallel token prediction for efficient document parsing.",
    )
    assert all(m.text == p.text[m.start : m.end] for m in ex.mentions)
    assert any(m.end <= len(title) and m.text[0].isupper() for m in ex.mentions)


def test_a_name_shown_to_be_data_is_a_dataset_in_the_whole_paper(nlp):
    _, ex, _, _ = _run(
        nlp,
        "DischargeSim: A Simulation Benchmark for Doctor-Patient Communication",
        "We introduce DischargeSim, a novel benchmark that evaluates LLMs as discharge educators. "
        "DischargeSim simulates conversations. We also report results on TrustMH-Bench.",
    )
    labels = {(m.text, m.label) for m in ex.mentions if m.text in ("DischargeSim", "TrustMH-Bench")}
    assert labels == {("DischargeSim", "DATASET"), ("TrustMH-Bench", "DATASET")}
