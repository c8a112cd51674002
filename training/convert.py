"""Convert ../shared/gold into spaCy DocBin files for training the kg recogniser.

Usage: python -m training.convert [--gold ../shared/gold] [--out training/corpus]

Label mapping (each corpus annotates only some of the four types):

| corpus  | METHOD | TASK | DATASET           | METRIC |
|---------|--------|------|-------------------|--------|
| SciERC  | Method | Task | — (Material: missing) | Metric |
| SciREX  | Method | Task | Material          | Metric |
| SciER   | Method | Task | Dataset           | —      |
| TDMSci  | —      | Task | Dataset           | Metric |

Partial annotation: a type a corpus does not annotate must not be learnt as "no
entity". Tokens that may hold an unannotated type are marked *missing* (spaCy's
``-`` tag, no loss) instead of ``O``: SciERC's Material spans; in SciER, spans the
kg rules type as METRIC; in TDMSci, spans the kg rules type as METHOD. Everything
else outside an annotated entity is ``O``.

Splits: SciERC train/dev as given; SciER train/dev as given; SciREX (train only
here) and TDMSci (train only here): a fixed 85/15 split by record id hash, the 15%
held out as dev. Test splits are never read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import spacy
from spacy.tokens import Doc, DocBin

from training.splits import held_out

MAPS = {
    "scierc": {"Method": "METHOD", "Task": "TASK", "Metric": "METRIC"},
    "scirex": {"Method": "METHOD", "Task": "TASK", "Material": "DATASET", "Metric": "METRIC"},
    "scier": {"Method": "METHOD", "Task": "TASK", "Dataset": "DATASET"},
    "tdmsci": {"Task": "TASK", "Dataset": "DATASET", "Metric": "METRIC"},
}
MISSING_GOLD = {"scierc": {"Material"}}
MISSING_RULE_TYPES = {"scier": {"METRIC"}, "tdmsci": {"METHOD"}, "scierc": {"DATASET"}}


def to_doc(nlp_rules: spacy.Language, rec: dict, corpus: str, stats: Counter) -> Doc:
    text = rec["text"]
    doc = nlp_rules(text)
    mapping = MAPS[corpus]
    tags = ["O"] * len(doc)
    # 1. rule-typed spans of types this corpus does not annotate: missing
    unannotated = MISSING_RULE_TYPES.get(corpus, set())
    for m in doc._.kg_mentions or []:
        if m["label"] in unannotated:
            span = doc.char_span(m["start"], m["end"], alignment_mode="expand")
            if span is not None:
                for i in range(span.start, span.end):
                    tags[i] = "-"
                stats[f"{corpus}:missing_rule_tokens"] += len(span)
    for e in rec["entities"]:
        if e["label"] in MISSING_GOLD.get(corpus, set()):
            span = doc.char_span(e["start"], e["end"], alignment_mode="expand")
            if span is not None:
                for i in range(span.start, span.end):
                    tags[i] = "-"
    # 2. gold entities (outermost first; overlapping ones skipped)
    ents = sorted(
        (e for e in rec["entities"] if e["label"] in mapping), key=lambda e: (e["start"], -(e["end"] - e["start"]))
    )
    taken = [False] * len(doc)
    for e in ents:
        span = doc.char_span(e["start"], e["end"], alignment_mode="contract")
        if span is None or len(span) == 0:
            stats[f"{corpus}:misaligned"] += 1
            continue
        if any(taken[i] for i in range(span.start, span.end)):
            stats[f"{corpus}:overlap_skipped"] += 1
            continue
        lab = mapping[e["label"]]
        for k, i in enumerate(range(span.start, span.end)):
            taken[i] = True
            tags[i] = f"B-{lab}" if k == 0 else f"I-{lab}"
        stats[f"{corpus}:{lab}"] += 1
    iob = [None if t == "-" else t for t in tags]  # None: missing, no loss on that token
    out = Doc(nlp_rules.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc], ents=iob)
    return out


CORPORA = ("scierc", "scirex", "scier", "tdmsci")


def gold_records(gold: Path) -> Iterator[tuple[str, dict, bool]]:
    """(corpus, record, is_dev) for every train and dev record of the four corpora; test is never read."""
    for corpus in CORPORA:
        for split in ("train", "dev"):
            path = gold / corpus / f"{split}.jsonl"
            if not path.exists():
                continue
            with path.open(encoding="utf-8") as f:
                recs = [json.loads(line) for line in f if line.strip()]
            for rec in recs:
                yield corpus, rec, split == "dev" or (corpus in ("scirex", "tdmsci") and held_out(rec["id"]))


def command_line(default_out: Path) -> tuple[argparse.Namespace, spacy.Language] | None:
    """``--gold`` and ``--out`` of a conversion script, and the rules-only pipeline it tokenises with."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "gold")
    ap.add_argument("--out", type=Path, default=default_out)
    args = ap.parse_args()
    if not args.gold.is_dir():
        print(f"error: {args.gold}: gold data not found; pass --gold DIR", file=sys.stderr)
        return None
    from kg.extract import build_pipeline

    args.out.mkdir(parents=True, exist_ok=True)
    return args, build_pipeline(model=None)


def main() -> int:
    setup = command_line(Path(__file__).resolve().parent / "corpus")
    if setup is None:
        return 1
    args, nlp_rules = setup
    stats: Counter = Counter()
    train, dev = DocBin(), DocBin()
    for corpus, rec, is_dev in gold_records(args.gold):
        doc = to_doc(nlp_rules, rec, corpus, stats)
        (dev if is_dev else train).add(doc)
        stats[f"{corpus}:{'dev' if is_dev else 'train'}_docs"] += 1
    train.to_disk(args.out / "train.spacy")
    dev.to_disk(args.out / "dev.spacy")
    (args.out / "stats.json").write_text(json.dumps(dict(sorted(stats.items())), indent=1))
    print(json.dumps(dict(sorted(stats.items())), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
