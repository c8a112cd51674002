"""Broader/narrower concepts (kg.normalise.hierarchy) measured on a finished build.

Reads a build's records (papers.jsonl, mentions.jsonl, concepts.csv), induces the hierarchy
and reports:

- links by rule, and the time to induce them;
- **gain**: the share of single-paper concepts that get a broader concept seen in >= 2 papers
  (directly, and through any ancestor; and directly through the corpus's own concepts only, not
  the general concepts the hierarchy names);
- a sample of links (``--sample N`` with ``--seed``) printed for judging by hand; with
  ``--judged FILE`` (lines ending ``=> correct (why)`` or ``=> incorrect (why)``) the sample's precision.

    OMP_NUM_THREADS=1 .venv/bin/kg build -o /tmp/hier/out -q
    python -m benchmarks.bench_hierarchy /tmp/hier/out --sample 100 --seed 18
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import kg
from benchmarks._common import machine, save
from kg.normalise.hierarchy import induce_hierarchy
from kg.records import Concept, Mention, Paper


def load(out: Path) -> tuple[dict[str, Concept], list[Mention], list[Paper]]:
    """The build's concepts, mentions and papers, read through the Python API (``kg.open``)."""
    g = kg.open(out)
    papers = list(g.papers())
    concepts = {
        c.id: Concept(c.id, c.label, c.type, c.aliases, mention_count=c.mentions, ambiguous=c.ambiguous)
        for c in g.concepts()
    }
    mentions = list(g.mentions())
    for m in mentions:
        if m.concept in concepts:
            concepts[m.concept].papers.add(m.paper_id)
    return concepts, mentions, papers


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path, help="a finished build's output folder")
    ap.add_argument("--sample", type=int, default=100)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument(
        "--judged", type=Path, help="the sample judged: lines ending '=> correct (why)' or '=> incorrect (why)'"
    )
    args = ap.parse_args()
    concepts, mentions, papers = load(args.out)
    t = time.perf_counter()
    links = induce_hierarchy(concepts, mentions, papers)
    seconds = time.perf_counter() - t
    general = links.general  # the concepts the hierarchy named (heads shared across papers)
    corpus_ids = set(concepts)
    concepts = {**concepts, **general}
    by_rule: dict[str, int] = defaultdict(int)
    parents: dict[str, list[str]] = defaultdict(list)
    for ln in links:
        by_rule[ln.rule] += 1
        parents[ln.child].append(ln.parent)

    def ancestors(c: str) -> set[str]:
        seen: set[str] = set()
        stack = list(parents.get(c, ()))
        while stack:
            p = stack.pop()
            if p not in seen:
                seen.add(p)
                stack.extend(parents.get(p, ()))
        return seen

    single = [c for c in concepts.values() if c.paper_count == 1 and c.id in corpus_ids]
    direct = sum(any(concepts[p].paper_count >= 2 for p in parents.get(c.id, ())) for c in single)
    transitive = sum(any(concepts[p].paper_count >= 2 for p in ancestors(c.id)) for c in single)
    # the same through the corpus's own concepts only (no general concept as the broader one)
    direct_corpus = sum(
        any(concepts[p].paper_count >= 2 and p in corpus_ids for p in parents.get(c.id, ())) for c in single
    )
    rng = random.Random(args.seed)
    sample = rng.sample(links, min(args.sample, len(links)))
    result: dict[str, object] = {
        "build": str(args.out),
        "papers": len(papers),
        "concepts": len(concepts),
        "links": len(links),
        "links_by_rule": dict(sorted(by_rule.items())),
        "seconds": round(seconds, 3),
        "single_paper_concepts": len(single),
        "gain_direct": round(direct / max(1, len(single)), 4),
        "gain_transitive": round(transitive / max(1, len(single)), 4),
        "gain_direct_corpus_concepts_only": round(direct_corpus / max(1, len(single)), 4),
        "general_concepts": len(general),
        "links_to_general": sum(ln.parent in general for ln in links),
        "concepts_with_broader": len(parents),
        "machine": machine(),
    }
    print(json.dumps(result, indent=1))
    print(f"\nsample of {len(sample)} links (seed {args.seed}):")
    for i, ln in enumerate(sample, 1):
        c, p = concepts[ln.child], concepts[ln.parent]
        ev = ln.evidence if ln.rule != "hearst" else f'"{ln.evidence[:160]}"'
        print(f"{i:3d}. {c.label} -> {p.label} [{ln.rule}] {ev}")
    if args.judged:
        judged = {
            m.group(1): m.group(2)
            for ln in args.judged.read_text(encoding="utf-8").splitlines()
            if (m := re.match(r"\s*\d+\. (.*?) => (correct|incorrect)\b", ln))
        }
        shown = [f"{concepts[ln.child].label} -> {concepts[ln.parent].label} [{ln.rule}]" for ln in sample]
        unjudged = [x for x in shown if x not in judged]
        if unjudged:  # the sample changed (other concepts, other rules): judge these too
            print(f"\n{len(unjudged)} links of this sample are not in {args.judged}, e.g. {unjudged[0]}")
        verdicts = [judged[x] for x in shown if x in judged]
        ok = sum(v == "correct" for v in verdicts)
        result["judged"] = len(verdicts)
        result["precision"] = round(ok / max(1, len(verdicts)), 3)
        print(f"\nprecision {ok}/{len(verdicts)} = {result['precision']}")
    save("hierarchy", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
