"""Train kg's scientific entity recogniser and package it into kg/models/ner — one command.

    python -m training.train [--gold ../shared/gold] [--max-epochs N] [--silver training/silver/silver.spacy]
    python -m training.train --vectors training/vectors/nlp --silver training/silver/silver.spacy
    python -m training.train --vectors training/vectors/nlp --silver training/silver/silver.spacy \
        --init-tok2vec training/pretrain/weights/model0.bin       # tok2vec pretrained by training/pretrain.py

Steps: convert the gold sets (training/convert.py) → `spacy train training/config.cfg`
→ copy the best model's `ner` into kg/models/ner with its model card. With ``--silver`` the
gold-trained model is then fine-tuned on gold (repeated) + silver (``config_distil.cfg``); with
``--vectors`` (``training/vectors.py``) a recogniser with static word vectors is instead trained
from scratch on gold (repeated) + silver (``config.cfg`` with the ``VECTORS`` overrides). The data itself
stays in training/corpus (ignored by git); only the trained weights are committed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = ROOT / "kg" / "models" / "ner"


def package(best: Path, target: Path = TARGET) -> None:
    """Copy a trained pipeline (``model-best``) into the package, dropping training-only files."""
    import spacy
    from thinc.api import Config

    nlp = spacy.load(best)
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    # the shipped config names no training-time callback (only training/pretrain.py registers it)
    cfg = Config().from_disk(target / "config.cfg", interpolate=False)
    if cfg["initialize"].get("after_init"):
        cfg["initialize"]["after_init"] = None
        cfg.to_disk(target / "config.cfg")
    meta = json.loads((target / "meta.json").read_text())
    meta.update(
        {
            "name": "kg_ner",
            "version": "1.2.0",
            "license": "GPL-3.0-or-later",
            "description": "kg scientific entity recogniser: METHOD, TASK, DATASET, METRIC",
        }
    )
    (target / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.copyfile(HERE / "MODEL_CARD.md", target / "MODEL_CARD.md")


def spacy_train(config: Path, output: Path, train: Path, dev: Path, *overrides: str) -> None:
    """``python -m spacy train config`` from the repository root: trained on ``train`` (a DocBin or a folder
    of them), scored on ``dev``, written to ``output``; ``overrides`` are more ``--section.key value`` pairs."""
    cmd = [
        sys.executable,
        "-m",
        "spacy",
        "train",
        str(config),
        "--output",
        str(output),
        "--paths.train",
        str(train),
        "--paths.dev",
        str(dev),
        *overrides,
    ]
    subprocess.run(cmd, check=True, cwd=ROOT)


#: ``config.cfg`` overrides for the recogniser with static vectors: the same network reading the vectors
#: beside its hash embeddings, a fixed 10,000 steps over gold + silver (BENCHMARKS.md, session 6)
VECTORS = [
    "--components.ner.model.tok2vec.embed.include_static_vectors",
    "true",
    "--training.max_epochs",
    "0",
    "--training.max_steps",
    "10000",
    "--training.patience",
    "0",
    "--training.eval_frequency",
    "1000",
]


def mixed_corpus(silver: Path, gold_copies: int) -> Path:
    """A folder of DocBins spaCy reads as one training corpus: the gold train set ``gold_copies`` times + silver."""
    corpus = HERE / "distil_corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir()
    for i in range(gold_copies):
        shutil.copyfile(HERE / "corpus" / "train.spacy", corpus / f"gold{i + 1}.spacy")
    shutil.copyfile(silver, corpus / "silver.spacy")
    return corpus


def distil(silver: Path, gold_copies: int, init: Path) -> Path:
    """Fine-tune the gold-trained recogniser on gold (repeated) + silver abstracts: config_distil.cfg."""
    spacy_train(
        HERE / "config_distil.cfg",
        HERE / "output_distil",
        mixed_corpus(silver, gold_copies),
        HERE / "corpus" / "dev.spacy",
        "--paths.init_model",
        str(init),
    )
    return HERE / "output_distil" / "model-best"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", type=Path, default=ROOT.parent / "shared" / "gold")
    ap.add_argument("--max-epochs", type=int, default=None)
    ap.add_argument("--package-only", type=Path, default=None, help="package an already trained model-best")
    ap.add_argument(
        "--silver",
        type=Path,
        default=None,
        help="then fine-tune on gold + this silver DocBin (training/silver.py) before packaging",
    )
    ap.add_argument(
        "--gold-copies", type=int, default=4, help="with --silver: how often the gold train set is repeated"
    )
    ap.add_argument(
        "--vectors",
        type=Path,
        default=None,
        help="static vectors (training/vectors.py): train with them on gold + --silver from scratch",
    )
    ap.add_argument(
        "--init-tok2vec",
        type=Path,
        default=None,
        help="with --vectors: start the tok2vec from these pretrained weights (training/pretrain.py)",
    )
    args = ap.parse_args()
    if args.package_only:
        package(args.package_only)
        return 0
    if args.vectors and not args.silver:
        ap.error("--vectors needs --silver (training/silver.py)")
    if args.init_tok2vec and not args.vectors:
        ap.error("--init-tok2vec needs --vectors (the pretrained tok2vec reads the static vectors)")
    py = sys.executable
    subprocess.run([py, str(HERE / "convert.py"), "--gold", str(args.gold)], check=True)
    if args.vectors:
        out = HERE / "output_vectors"
        pretrained = []
        if args.init_tok2vec:
            callback = {"@callbacks": "kg.ner_tok2vec.v1", "path": str(args.init_tok2vec)}
            pretrained = ["--code", str(HERE / "pretrain.py"), "--initialize.after_init", json.dumps(callback)]
        spacy_train(
            HERE / "config.cfg",
            out,
            mixed_corpus(args.silver, args.gold_copies),
            HERE / "corpus" / "dev.spacy",
            "--paths.vectors",
            str(args.vectors),
            *VECTORS,
            *pretrained,
        )
        package(out / "model-best")
        print(f"packaged {TARGET}")
        return 0
    epochs = ["--training.max_epochs", str(args.max_epochs)] if args.max_epochs else []
    spacy_train(
        HERE / "config.cfg", HERE / "output", HERE / "corpus" / "train.spacy", HERE / "corpus" / "dev.spacy", *epochs
    )
    best = HERE / "output" / "model-best"
    if args.silver:
        best = distil(args.silver, args.gold_copies, best)
    package(best)
    print(f"packaged {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
