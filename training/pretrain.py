"""Pretrain the default recogniser's tok2vec on unlabelled abstracts (`spacy pretrain`, masked-word vectors).

    python -m training.pretrain --vectors training/vectors/nlp [--corpus ../shared/corpus/arxiv-cs/papers.jsonl.gz]
                                [--out training/pretrain] [--epochs 4] [--gpu-id -1]

The recogniser is a self-contained spaCy NER: its tok2vec sits inside the NER model, where `spacy pretrain`
cannot reach it (the NER's ``tok2vec`` reference ends in a projection). So the pretraining config is derived
from ``training/config.cfg``: a one-component pipeline whose ``tok2vec`` is exactly the NER's (same
embedding tables, same static vectors, same encoder), with the masked-language objective of spaCy's
``PretrainVectors`` (15% of the words masked; predict each masked word's static vector from its context).
The weights (``OUT/model<N>.bin``) are loaded into the NER's own tok2vec after initialisation by the
``kg.ner_tok2vec.v1`` callback below (``python -m training.train --init-tok2vec OUT/model<N>.bin``).
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
from pathlib import Path

import spacy
from thinc.api import Config

from training.vectors import paper_texts

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PRETRAINING = {
    "max_epochs": 4,
    "dropout": 0.2,
    "n_save_every": None,
    "n_save_epoch": None,
    "component": "tok2vec",
    "layer": "",
    "corpus": "corpora.pretrain",
    "batcher": {
        "@batchers": "spacy.batch_by_words.v1",
        "size": 3000,
        "discard_oversize": False,
        "tolerance": 0.2,
        "get_length": None,
    },
    "objective": {
        "@architectures": "spacy.PretrainVectors.v1",
        "maxout_pieces": 3,
        "hidden_size": 300,
        "loss": "cosine",
    },
    "optimizer": {
        "@optimizers": "Adam.v1",
        "beta1": 0.9,
        "beta2": 0.999,
        "L2_is_weight_decay": True,
        "L2": 0.01,
        "grad_clip": 1.0,
        "use_averages": True,
        "eps": 1e-8,
        "learn_rate": 0.001,
    },
}


def pretrain_config(base: Path = HERE / "config.cfg") -> Config:
    """``base`` with its NER's tok2vec (static vectors on) as a standalone ``tok2vec`` component to pretrain."""
    cfg = Config().from_disk(base, interpolate=False)
    tok2vec = copy.deepcopy(cfg["components"]["ner"]["model"]["tok2vec"])
    tok2vec["embed"]["include_static_vectors"] = True
    cfg["nlp"]["pipeline"] = ["tok2vec"]
    cfg["components"] = {"tok2vec": {"factory": "tok2vec", "model": tok2vec}}
    cfg["paths"]["raw_text"] = None
    cfg["corpora"]["pretrain"] = {
        "@readers": "spacy.JsonlCorpus.v1",
        "path": "${paths.raw_text}",
        "min_length": 5,
        "max_length": 500,
        "limit": 0,
    }
    cfg["pretraining"] = copy.deepcopy(PRETRAINING)
    return cfg


@spacy.registry.callbacks("kg.ner_tok2vec.v1")
def ner_tok2vec(path: str | None):  # type: ignore[no-untyped-def]
    """After initialisation, load pretrained tok2vec weights into the NER's own tok2vec (no-op without a path)."""

    def load(nlp):  # type: ignore[no-untyped-def]
        if path:
            inner = nlp.get_pipe("ner").model.get_ref("tok2vec").layers[0]
            inner.from_bytes(Path(path).read_bytes())
            print(f"loaded pretrained tok2vec weights from {path}")
        return nlp

    return load


def raw_texts(corpus: Path, out: Path) -> int:
    """Title and abstract of every paper as ``{"text": ...}`` lines, the input `spacy pretrain` reads."""
    n = 0
    with out.open("w", encoding="utf-8") as o:
        for text in paper_texts(corpus):
            o.write(json.dumps({"text": text}) + "\n")
            n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "arxiv-cs" / "papers.jsonl.gz")
    ap.add_argument("--vectors", type=Path, default=HERE / "vectors" / "nlp")
    ap.add_argument("--out", type=Path, default=HERE / "pretrain")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--gpu-id", type=int, default=-1)
    args = ap.parse_args()
    for p in (args.corpus, args.vectors):
        if not p.exists():
            print(f"error: {p}: not found (vectors: python -m training.vectors)", file=sys.stderr)
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    cfg_path = args.out / "pretrain.cfg"
    pretrain_config().to_disk(cfg_path)
    raw = args.out / "raw.jsonl"
    print(f"{raw_texts(args.corpus, raw)} texts → {raw}")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "spacy",
            "pretrain",
            str(cfg_path),
            str(args.out / "weights"),
            "--gpu-id",
            str(args.gpu_id),
            "--paths.raw_text",
            str(raw),
            "--paths.vectors",
            str(args.vectors),
            "--pretraining.max_epochs",
            str(args.epochs),
        ],
        check=True,
        cwd=ROOT,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
