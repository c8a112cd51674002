"""Teach kg's CNN recogniser the seed convention: fine-tune it on seed-train's alias spans.

    python -m training.seed_ner data                 # gold DocBins (convert.py) + seed-train spans per fold
    python -m training.seed_ner train --fold 0       # one out-of-fold model (seed-train less fold 0) ...
    python -m training.seed_ner train --fold all     # ... or the model on all of seed-train
    python -m training.seed_ner package              # copy the "all" model into kg/models/ner_papers

seed-train (``../shared/gold/seed-train``) lists, per paper, the concepts a reader would name with
every surface form as an alias; every alias is an exact substring of ``title + "\\n" + abstract``
and every occurrence counts. So each paper becomes a fully annotated document in the seed
convention: alias occurrences (longest first, token-aligned) are entities of the concept's type and
every other token is ``O``. The shipped recogniser (``kg/models/ner``) is fine-tuned on these
documents (repeated ``--seed-copies`` times) beside the gold train sets of the four mention-level
corpora (``training/corpus/train.spacy``, as made by ``convert.py``), which keep their own
conventions from drifting, for a fixed number of steps (no model selection on any test part).

Folds are those of ``training/concept_decision.py`` (a hash of the paper id): the model for fold
``k`` never sees fold ``k``'s papers, so the concept decision is trained and cross-validated on
out-of-fold recognitions (stacking) and a fold's score is never a score on training papers.
seed-dev is never trained on. The text the recogniser reads is ``kg.extract.pipeline.model_text``
(a title-case title true-cased; same offsets).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from kg.schema import ENTITY_TYPES
from training.train import spacy_train

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOLD = ROOT.parent / "shared" / "gold"
CORPUS = HERE / "corpus"
SEED = HERE / "seed_corpus"
MODELS = HERE / "seed_models"
BASE = ROOT / "kg" / "models" / "ner"
TARGET = ROOT / "kg" / "models" / "ner_papers"
LABELS = {t.local: t.name for t in ENTITY_TYPES}  # the gold's class names -> kg's types (kg.schema)
FOLDS = 5
#: the fine-tuning recipe chosen by cross-validated concept F1 (BENCHMARKS.md)
STEPS = 2500
SEED_COPIES = 8
LEARN_RATE = 0.0005


def fold_of(paper_id: str) -> int:
    import hashlib

    return int(hashlib.sha1(paper_id.encode()).hexdigest(), 16) % FOLDS


def seed_doc(nlp, paper, gold: dict, stats: Counter):  # type: ignore[no-untyped-def]
    """The paper as a spaCy Doc whose entities are every token-aligned occurrence of a gold alias."""
    from spacy.tokens import Doc

    from kg.extract.pipeline import model_text

    text = paper.text
    doc = nlp.make_doc(model_text(paper))
    forms = sorted(
        {(a, LABELS[e["type"]]) for e in gold.get("entities", []) for a in {e["name"], *e["aliases"]} if a.strip()},
        key=lambda f: (-len(f[0]), f[0], f[1]),
    )
    tags = ["O"] * len(doc)
    for form, label in forms:
        start = text.find(form)
        while start >= 0:
            span = doc.char_span(start, start + len(form), alignment_mode="strict")
            if span is None:
                stats["unaligned"] += 1
            elif any(tags[i] != "O" for i in range(span.start, span.end)):
                stats["overlap_skipped"] += 1
            else:
                for k, i in enumerate(range(span.start, span.end)):
                    tags[i] = f"{'B' if k == 0 else 'I'}-{label}"
                stats[label] += 1
            start = text.find(form, start + 1)
    return Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc], ents=tags)


def data(gold: Path) -> None:
    import spacy
    from spacy.tokens import DocBin

    from kg.records import Paper

    if not (CORPUS / "train.spacy").exists():
        subprocess.run([sys.executable, "-m", "training.convert", "--gold", str(gold)], check=True, cwd=ROOT)
    nlp = spacy.load(BASE)
    papers = [json.loads(x) for x in (gold / "seed-train" / "papers.jsonl").read_text(encoding="utf-8").splitlines()]
    golds = {
        d["id"]: d
        for d in map(json.loads, (gold / "seed-train" / "gold.jsonl").read_text(encoding="utf-8").splitlines())
    }
    stats: Counter = Counter()
    docs = []
    for d in papers:
        p = Paper(id=d["id"], title=d["title"], abstract=d["abstract"])
        docs.append((fold_of(p.id), seed_doc(nlp, p, golds[p.id], stats)))
    SEED.mkdir(parents=True, exist_ok=True)
    for k in [*range(FOLDS), "all"]:
        DocBin(docs=[doc for f, doc in docs if f != k]).to_disk(SEED / f"train-{k}.spacy")
    print(json.dumps(dict(sorted(stats.items())), indent=1))


def train(fold: str, steps: int, seed_copies: int, learn_rate: float, models: Path = MODELS) -> Path:
    """Fine-tune the shipped recogniser on seed-train less ``fold`` (repeated) + the gold train sets."""
    mixed = models / f"corpus-{fold}"
    if mixed.exists():
        shutil.rmtree(mixed)
    mixed.mkdir(parents=True)
    for i in range(seed_copies):
        shutil.copyfile(SEED / f"train-{fold}.spacy", mixed / f"seed{i}.spacy")
    shutil.copyfile(CORPUS / "train.spacy", mixed / "gold.spacy")
    out = models / f"out-{fold}"
    spacy_train(
        HERE / "config_distil.cfg",
        out,
        mixed,
        CORPUS / "dev.spacy",
        "--paths.init_model",
        str(BASE),
        "--paths.vectors",
        str(BASE),
        "--training.max_epochs",
        "0",
        "--training.max_steps",
        str(steps),
        "--training.eval_frequency",
        str(steps),
        "--training.optimizer.learn_rate",
        str(learn_rate),
    )
    target = models / f"fold{fold}"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(out / "model-last", target)
    shutil.rmtree(mixed)
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("step", choices=["data", "train", "package"])
    ap.add_argument("--gold", type=Path, default=GOLD)
    ap.add_argument("--fold", default="all", help="0..4 (seed-train less that fold) or all")
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--seed-copies", type=int, default=SEED_COPIES)
    ap.add_argument("--learn-rate", type=float, default=LEARN_RATE)
    ap.add_argument("--models", type=Path, default=MODELS, help="where the fold models go")
    args = ap.parse_args()
    if args.step == "data":
        data(args.gold)
    elif args.step == "train":
        print(train(args.fold, args.steps, args.seed_copies, args.learn_rate, args.models))
    else:
        from training.train import package

        package(args.models / "foldall", TARGET)
        # the static vectors are kg/models/ner's (it was fine-tuned from it): kg reads them from there
        import spacy
        from spacy.vectors import Vectors

        nlp = spacy.load(TARGET)
        nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, shape=(0, nlp.vocab.vectors.shape[1]))
        nlp.to_disk(TARGET)
        shutil.copyfile(HERE / "PAPERS_MODEL_CARD.md", TARGET / "MODEL_CARD.md")
        meta = json.loads((TARGET / "meta.json").read_text())
        meta["version"] = "1.3.0"
        meta["seed_train"] = {"folds": FOLDS, "steps": args.steps, "seed_copies": args.seed_copies}
        meta.update({"name": "kg_ner_papers", "description": "kg recogniser for papers, in the seed convention"})
        (TARGET / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        print(f"packaged {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
