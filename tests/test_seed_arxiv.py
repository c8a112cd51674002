"""The developers' seed-style annotations (training/seed_arxiv.py): parsed strictly, every alias found."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
seed_arxiv = pytest.importorskip("training.seed_arxiv")

TEXT = {
    "2501.00001": {
        "id": "2501.00001",
        "title": "CommVQ: Commutative Vector Quantization for KV Cache Compression",
        "abstract": "We propose Commutative Vector Quantization (CommVQ) for LLM inference. "
        "CommVQ beats KV cache quantization baselines on GSM8K.",
    }
}


def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "annotations.txt"
    p.write_text(body, encoding="utf-8")
    return p


def test_annotations_parse_to_seed_gold_and_mentions(tmp_path):
    path = _write(
        tmp_path,
        "# 2501.00001\nM|Commutative Vector Quantization|Commutative Vector Quantization;CommVQ|p\n"
        "M|KV cache quantization||\nT|KV cache compression|KV Cache Compression|\nD|GSM8K|GSM8K|\n",
    )
    papers = seed_arxiv.parse(path)
    assert seed_arxiv.check(papers, TEXT) == []
    (gold,) = seed_arxiv.paper_gold(papers)
    assert gold["entities"][0] == {
        "type": "Method",
        "name": "Commutative Vector Quantization",
        "aliases": ["Commutative Vector Quantization", "CommVQ"],
        "proposed": True,
    }
    assert gold["entities"][1]["aliases"] == ["KV cache quantization"]  # no alias: the name itself
    (rec,) = seed_arxiv.mention_gold(papers, TEXT)
    got = [(rec["text"][e["start"] : e["end"]], e["label"]) for e in rec["entities"]]
    # every occurrence; "CommVQ" inside the title's "CommVQ:" counts, "KV Cache" inside the task does not repeat
    assert got.count(("CommVQ", "METHOD")) == 3
    assert ("KV Cache Compression", "TASK") in got and ("GSM8K", "DATASET") in got
    assert ("KV cache quantization", "METHOD") in got


def test_a_bad_line_or_a_missing_alias_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"annotations.txt:2: expected"):
        seed_arxiv.parse(_write(tmp_path, "# 2501.00001\nX|thing|thing|\n"))
    path = _write(tmp_path, "# 2501.00001\nM|CommVQ|CommVQs|\n")
    (problem,) = seed_arxiv.check(seed_arxiv.parse(path), TEXT, path)
    assert problem == f"{path}:2: alias 'CommVQs' not found in paper 2501.00001"


def test_the_committed_annotations_parse():
    papers = seed_arxiv.parse()
    assert len(papers) >= 40 and len({p.id for p in papers}) == len(papers)
    assert all(p.entries for p in papers)


def test_training_part_becomes_spacy_docs_with_true_cased_titles(tmp_path):
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin

    text = {
        "2501.00002": {
            "id": "2501.00002",
            "title": "Sparse Attention for Long Context Inference",
            "abstract": "We study sparse attention for long context inference on RULER.",
        }
    }
    path = _write(
        tmp_path,
        "# 2501.00002\nM|sparse attention|Sparse Attention;sparse attention|\n"
        "T|long context inference|Long Context Inference;long context inference|\n"
        "D|RULER|RULER|\n",
    )
    out = tmp_path / "seed.spacy"
    assert seed_arxiv.to_docbin(seed_arxiv.parse(path), text, out) == 1
    (doc,) = DocBin().from_disk(out).get_docs(spacy.blank("en").vocab)
    # the title reads as the extractor reads it (true-cased), every alias occurrence is an entity
    assert doc.text.startswith("sparse attention for long context inference\n")
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("sparse attention", "METHOD"),
        ("long context inference", "TASK"),
        ("sparse attention", "METHOD"),
        ("long context inference", "TASK"),
        ("RULER", "DATASET"),
    ]
    # tokens outside the aliases are "no entity" (the seed convention annotates all four types)
    assert all(t.ent_iob_ in ("B", "I", "O") for t in doc)


def test_the_committed_training_part_is_disjoint_from_the_tuning_part():
    tune = {p.id for p in seed_arxiv.parse()}
    train = seed_arxiv.parse(seed_arxiv.TRAIN)
    assert len(train) >= 50 and len({p.id for p in train}) == len(train)
    assert not tune & {p.id for p in train}


def test_encoder_records_tag_every_alias_and_leave_the_rest_outside(tmp_path):
    """The encoder trainer's format: kg's tokens over the true-cased text, BIO tags, every other token O."""
    path = _write(
        tmp_path,
        "# 2501.00001\nM|Commutative Vector Quantization|Commutative Vector Quantization;CommVQ|p\n"
        "D|GSM8K|GSM8K|\nT|LLM inference|LLM inference|\n",
    )
    (rec,) = seed_arxiv.encoder_records(seed_arxiv.parse(path), TEXT, "train")
    assert rec["corpus"] == "seed" and rec["split"] == "train" and len(rec["tags"]) == len(rec["words"])
    tagged = [(rec["text"][s:e], t) for (s, e), t in zip(rec["words"], rec["tags"], strict=True) if t != "O"]
    assert tagged.count(("CommVQ", "B-METHOD")) == 3
    assert ("LLM", "B-TASK") in tagged and ("inference", "I-TASK") in tagged
    assert ("Commutative", "B-METHOD") in tagged and ("Quantization", "I-METHOD") in tagged
    assert ("KV", "O") in [(rec["text"][s:e], t) for (s, e), t in zip(rec["words"], rec["tags"], strict=True)]
    # a text-final "GSM8K." is one spaCy token (no split after a capital): an alias that does not
    # cover whole tokens is left out, as convert.py does for the gold corpora
    assert set(rec["tags"]) <= {"O", "B-METHOD", "I-METHOD", "B-TASK", "I-TASK"}
