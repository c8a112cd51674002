"""The distillation data (training/silver.py): token spans survive the trip, sure tags teach, unsure ones are missing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
silver = pytest.importorskip("training.silver")


def test_token_spans_pack_and_unpack(nlp):
    text = "MESA: Effective Matching\nWe propose MESA, a (sparse) matcher on ScanNet-1500."
    doc = nlp.make_doc(text)
    packed = silver._pack(doc)
    assert silver._unpack(packed) == [(t.idx, t.idx + len(t.text)) for t in doc]


def test_convert_keeps_sure_entities_and_marks_unsure_ones_missing(nlp, tmp_path):
    from spacy.tokens import DocBin

    text = "Fast Matching\nWe evaluate MESA on ScanNet with accuracy."
    doc = nlp.make_doc(text)
    words = [t.text for t in doc]
    mesa, scannet, acc = words.index("MESA"), words.index("ScanNet"), words.index("accuracy")
    tokens, labels, out = tmp_path / "t.jsonl.gz", tmp_path / "l.jsonl.gz", tmp_path / "s.spacy"
    with gzip.open(tokens, "wt") as f:
        f.write(json.dumps({"id": "p1", "text": text, "t": silver._pack(doc)}) + "\n")
        f.write(
            json.dumps({"id": "p2", "text": "No tags here.", "t": silver._pack(nlp.make_doc("No tags here."))}) + "\n"
        )
    with gzip.open(labels, "wt") as f:
        f.write(
            json.dumps(
                {
                    "id": "p1",
                    "ents": [
                        [mesa, mesa + 1, "METHOD", 0.95],
                        [scannet, scannet + 1, "DATASET", 0.4],
                        [acc, acc + 1, "METRIC", 0.8],
                    ],
                }
            )
            + "\n"
        )
    silver.convert(tokens, labels, out, limit=None)
    (d,) = list(DocBin().from_disk(out).get_docs(nlp.vocab))  # p2 has no tags: left out
    assert d.text == text
    assert [(e.text, e.label_) for e in d.ents] == [("MESA", "METHOD"), ("accuracy", "METRIC")]
    assert d[scannet].ent_iob_ == ""  # unsure: missing, no loss either way
    assert d[0].ent_iob_ == "O"
