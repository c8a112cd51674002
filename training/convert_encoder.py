"""Export the gold sets as token-tagged JSON lines for training the transformer recogniser.

Usage: python -m training.convert_encoder [--gold ../shared/gold] [--out training/encoder_data]
→ training/encoder_data/data.jsonl.gz

The same conversion as ``convert.py`` (label map, partial-annotation "missing" tokens, the fixed
SciREX/TDMSci held-out split), written as one record per line:

    {"id", "corpus", "split": "train"|"dev", "text",
     "words": [[start, end], ...],      # spaCy token character spans
     "tags":  ["O" | "B-X" | "I-X" | "-", ...]}   # "-": missing (no loss)

The trainer (``train_encoder.py``) needs no spaCy, so it runs on a GPU machine that has only
PyTorch and transformers.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

from training.convert import command_line, gold_records, to_doc


def main() -> int:
    setup = command_line(Path(__file__).resolve().parent / "encoder_data")
    if setup is None:
        return 1
    args, nlp_rules = setup
    stats: Counter = Counter()
    with gzip.open(args.out / "data.jsonl.gz", "wt", encoding="utf-8") as out:
        for corpus, rec, is_dev in gold_records(args.gold):
            doc = to_doc(nlp_rules, rec, corpus, stats)
            tags = [
                "-" if t.ent_iob_ == "" else ("O" if t.ent_iob_ == "O" else f"{t.ent_iob_}-{t.ent_type_}") for t in doc
            ]
            out.write(
                json.dumps(
                    {
                        "id": rec["id"],
                        "corpus": corpus,
                        "split": "dev" if is_dev else "train",
                        "text": doc.text,
                        "words": [[t.idx, t.idx + len(t.text)] for t in doc],
                        "tags": tags,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            stats[f"{corpus}:{'dev' if is_dev else 'train'}_docs"] += 1
    print(json.dumps(dict(sorted(stats.items())), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
