"""Pretraining plumbing (training/pretrain.py): the pretrained tok2vec is the NER's own, and its weights arrive there."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest

ROOT = Path(__file__).resolve().parents[1]
pretrain = pytest.importorskip("training.pretrain")


def _vectors_vocab(tmp_path: Path) -> Path:
    """A blank pipeline holding a few static vectors (what training/vectors.py writes, in miniature)."""
    import spacy

    nlp = spacy.blank("en")
    rng = numpy.random.default_rng(0)
    nlp.vocab.vectors = spacy.vectors.Vectors(
        data=rng.normal(size=(3, 8)).astype("float32"),
        keys=[nlp.vocab.strings.add(w) for w in ("lora", "bleu", "mbpp")],
        attr="LOWER",
    )
    nlp.to_disk(tmp_path / "vec")
    return tmp_path / "vec"


def test_pretrain_config_is_the_ner_tok2vec_with_vectors():
    base = pretrain.Config().from_disk(pretrain.HERE / "config.cfg", interpolate=False)
    cfg = pretrain.pretrain_config()
    ner_t2v = base["components"]["ner"]["model"]["tok2vec"]
    t2v = cfg["components"]["tok2vec"]["model"]
    assert cfg["nlp"]["pipeline"] == ["tok2vec"]
    assert t2v["embed"]["include_static_vectors"] is True
    assert {k: v for k, v in t2v["embed"].items() if k != "include_static_vectors"} == {
        k: v for k, v in ner_t2v["embed"].items() if k != "include_static_vectors"
    }
    assert t2v["encode"] == ner_t2v["encode"]
    assert cfg["pretraining"]["component"] == "tok2vec" and cfg["pretraining"]["layer"] == ""
    assert cfg["pretraining"]["objective"]["@architectures"] == "spacy.PretrainVectors.v1"


def test_pretrained_weights_are_loaded_into_the_ner(tmp_path):
    """Weights saved from the pretraining pipeline's tok2vec replace the NER's freshly initialised ones."""
    import spacy
    from spacy.training import Example

    vec = _vectors_vocab(tmp_path)
    overrides = {"paths.vectors": str(vec), "components.ner.model.tok2vec.embed.include_static_vectors": True}
    nlp_pt = spacy.util.load_model_from_config(pretrain.pretrain_config(), auto_fill=True, validate=True)
    nlp_pt.config["initialize"]["vectors"] = str(vec)
    nlp_pt.initialize()
    weights = tmp_path / "model0.bin"
    weights.write_bytes(nlp_pt.get_pipe("tok2vec").model.to_bytes())

    cfg = pretrain.Config().from_disk(pretrain.HERE / "config.cfg", overrides=overrides)
    nlp = spacy.util.load_model_from_config(cfg, auto_fill=True, validate=True)
    doc = nlp.make_doc("We apply LoRA and report BLEU on MBPP.")
    examples = [
        Example.from_dict(doc, {"entities": ["O", "O", "U-METHOD", "O", "O", "U-METRIC", "O", "U-DATASET", "O"]})
    ]
    nlp.initialize(lambda: examples)
    inner = nlp.get_pipe("ner").model.get_ref("tok2vec").layers[0]
    before = inner.to_bytes()
    assert before != weights.read_bytes()
    pretrain.ner_tok2vec(str(weights))(nlp)
    assert inner.to_bytes() == weights.read_bytes()
    assert pretrain.ner_tok2vec(None)(nlp) is nlp  # no path: nothing changes
    assert inner.to_bytes() == weights.read_bytes()
    assert len(nlp(doc.text)) == len(doc)  # the NER still runs on the loaded weights
