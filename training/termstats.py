"""Corpus statistics for the concept decision: in how many arXiv abstracts each phrase occurs.

``python -m training.termstats [CORPUS] [-o kg/normalise/resources/termstats.npz]`` reads the
74,675 titles + abstracts of ``shared/corpus/arxiv-cs/papers.jsonl.gz`` and counts, for every
phrase of one to four words (in kg's concept-key form: lower case, hyphens as spaces, the last word
singular), the number of papers naming it. Phrases that start or end with a function word are
skipped. Phrases in at least ``--min-df`` papers are kept, as a sorted array of 32-bit hashes
(:func:`kg.normalise.termstats.phrase_hash`) with their document frequencies: a few MB that
:class:`kg.normalise.termstats.TermStats` reads. The output is deterministic for the same corpus.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

from kg.normalise.termstats import STOP, phrase_hash, phrase_words, sentence_pieces

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "arxiv-cs" / "papers.jsonl.gz"
DEFAULT_OUT = ROOT / "kg" / "normalise" / "resources" / "termstats.npz"


def doc_hashes(text: str, max_n: int = 4) -> set[int]:
    """The hashes of every phrase of ``text`` this resource counts, once each."""
    out: set[int] = set()
    for piece in sentence_pieces(text):
        words = phrase_words(piece)
        n = len(words)
        for i in range(n):
            if words[i] in STOP:
                continue
            for j in range(i + 1, min(n, i + max_n) + 1):
                if words[j - 1] in STOP:
                    continue
                out.add(phrase_hash(words[i:j]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--min-df", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0, help="read only the first N papers")
    args = ap.parse_args(argv)
    t0 = time.time()
    chunks: list[np.ndarray] = []
    buf: list[int] = []
    n_docs = 0
    with gzip.open(args.corpus, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            buf.extend(doc_hashes(f"{rec.get('title', '')}. {rec.get('abstract', '')}"))
            n_docs += 1
            if len(buf) > 5_000_000:
                chunks.append(np.array(buf, dtype=np.uint32))
                buf = []
            if n_docs % 5000 == 0:
                print(f"{n_docs} papers, {time.time() - t0:.0f} s", file=sys.stderr)
            if args.limit and n_docs >= args.limit:
                break
    chunks.append(np.array(buf, dtype=np.uint32))
    allh = np.concatenate(chunks)
    keys, counts = np.unique(allh, return_counts=True)
    keep = counts >= args.min_df
    keys, counts = keys[keep], np.minimum(counts[keep], 65535).astype(np.uint16)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as out:
        np.savez_compressed(out, keys=keys, df=counts, n_docs=np.array([n_docs], dtype=np.uint32))
    print(
        f"{n_docs} papers -> {len(keys)} phrases with df >= {args.min_df}; "
        f"{args.out.stat().st_size / 1e6:.1f} MB, {time.time() - t0:.0f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
