"""Static word vectors for the default recogniser, learnt from unlabelled arXiv cs abstracts.

    python -m training.vectors [--corpus ../shared/corpus/arxiv-cs/papers.jsonl.gz] [--out training/vectors]

The CNN recogniser learns word identity only from hash embeddings trained on the labelled and silver
data; word2vec vectors learnt from all 74,675 abstracts of ``shared/corpus/arxiv-cs`` (CC0 arXiv
metadata, no annotations, the evaluation sets' papers removed upstream) tell it which unseen words
behave like seen ones. Texts are tokenised by kg's own tokenizer and lowercased (the vectors are
keyed by ``LOWER``, so a true-cased title finds the same row); word2vec CBOW, 96 dimensions; at
most ``--words`` of the most frequent words are kept (40,010 here) and pruned to ``--rows`` rows by
``spacy init vectors`` (a pruned word maps to its nearest kept row), so the table stays a few MB.

Output: ``OUT/vectors.txt`` (word2vec text format) and ``OUT/nlp`` (a blank pipeline holding the
vectors, for ``python -m training.train --vectors OUT/nlp``). Needs ``gensim``
(``pip install -e '.[train]'``; training only, never at run time).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def paper_texts(corpus: Path) -> Iterator[str]:
    """Title and abstract of every paper of a gzipped JSON-lines corpus, as one text."""
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            yield rec["title"] + "\n" + rec["abstract"]


def sentences(corpus: Path) -> Iterator[list[str]]:
    """Title and abstract of every paper as one lowercased token list, tokenised as kg tokenises."""
    from kg.extract import build_pipeline

    tokenizer = build_pipeline(model=None).tokenizer
    for doc in tokenizer.pipe(paper_texts(corpus)):
        yield [t.lower_ for t in doc if not t.is_space]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "arxiv-cs" / "papers.jsonl.gz")
    ap.add_argument("--out", type=Path, default=HERE / "vectors")
    ap.add_argument("--dim", type=int, default=96)
    ap.add_argument("--words", type=int, default=50_000)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--epochs", type=int, default=5)
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"error: {args.corpus}: corpus not found; pass --corpus FILE", file=sys.stderr)
        return 1
    from gensim.models import Word2Vec

    t0 = time.perf_counter()
    sents = list(sentences(args.corpus))
    print(f"{len(sents)} texts, {sum(map(len, sents))} tokens, {time.perf_counter() - t0:.0f} s", flush=True)
    w2v = Word2Vec(
        sentences=sents,
        vector_size=args.dim,
        window=5,
        min_count=5,
        sg=0,
        workers=2,
        epochs=args.epochs,
        seed=13,
        max_final_vocab=args.words,
    )
    print(f"word2vec: {len(w2v.wv)} words, {time.perf_counter() - t0:.0f} s", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    txt = args.out / "vectors.txt"
    w2v.wv.save_word2vec_format(str(txt), binary=False)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "spacy",
            "init",
            "vectors",
            "en",
            str(txt),
            str(args.out / "nlp"),
            "--prune",
            str(args.rows),
            "--attr",
            "LOWER",
            "--name",
            "kg_arxiv_cs.vectors",
        ],
        check=True,
    )
    print(f"→ {args.out / 'nlp'} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
