"""Similarity and co-occurrence: bounded work (linear in the corpus) and the same output as pairwise counting."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict

from kg.graph import cooccurrences, paper_similarities


def _corpus(n_papers: int, n_concepts: int, seed: int = 7) -> dict[str, set[str]]:
    rng = random.Random(seed)
    weights = [1 / (r + 1) for r in range(n_concepts)]  # Zipf-like, as concepts are
    names = [f"c{r:05d}" for r in range(n_concepts)]
    return {f"p{i:05d}": set(rng.choices(names, weights, k=rng.randint(0, 25))) for i in range(n_papers)}


def _reference_similarities(pc, n, top_k=10, max_df_share=0.2):
    """The former every-pair walk, kept as the specification."""
    df = Counter(c for cs in pc.values() for c in cs)
    cap = max(20, int(max_df_share * n))
    idf = {c: math.log(n / d) for c, d in df.items() if 2 <= d <= cap}
    index = defaultdict(list)
    for p in sorted(pc):
        for c in pc[p]:
            if c in idf:
                index[c].append(p)
    best = {}
    for p in sorted(pc):
        scores, shared = defaultdict(float), defaultdict(list)
        for c in sorted(pc[p]):
            if c in idf:
                for q in index[c]:
                    if q != p:
                        scores[q] += idf[c]
                        shared[q].append(c)
        for q, s in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]:
            a, b = (p, q) if p < q else (q, p)
            best[(a, b)] = (a, b, round(s, 4), tuple(sorted(shared[q], key=lambda c: (-idf[c], c))))
    return [best[k] for k in sorted(best)]


def _reference_cooccurrences(pc, n, min_papers=2):
    df = Counter(c for cs in pc.values() for c in cs)
    pairs = Counter()
    for cs in pc.values():
        o = sorted(cs)
        for i, a in enumerate(o):
            for b in o[i + 1:]:
                pairs[(a, b)] += 1
    return [(a, b, k, round(k * n / (df[a] * df[b]), 4)) for (a, b), k in sorted(pairs.items()) if k >= min_papers]


def test_scale_similarities_match_pairwise_walk():
    pc = _corpus(600, 3000)
    got = [(s.a, s.b, s.score, s.shared) for s in paper_similarities(pc, len(pc))]
    assert got == _reference_similarities(pc, len(pc))
    assert len(got) > 1000


def test_scale_cooccurrences_match_pairwise_count():
    pc = _corpus(600, 3000)
    got = cooccurrences(pc, len(pc))
    assert got == _reference_cooccurrences(pc, len(pc)) and len(got) > 1000


def test_scale_similarity_cap_is_absolute():
    # one concept in every paper and one in 30 of 100: with max_df=25 neither links papers
    pc = {f"p{i:03d}": {"common"} | ({"mid"} if i < 30 else set()) | {f"r{i // 2}"} for i in range(100)}
    sims = paper_similarities(pc, len(pc), max_df_share=1.0, max_df=25)
    assert all(s.shared == (f"r{int(s.a[1:]) // 2}",) for s in sims) and len(sims) == 50
    assert any("mid" in s.shared for s in paper_similarities(pc, len(pc), max_df_share=1.0, max_df=40))
