"""Concepts on the sample corpus: how much merging does, the largest alias sets, singletons.

"Before merging" counts distinct surface forms (exact text) among the mentions; "after" the
concepts `kg build` writes. Also: the share of concepts seen in only one paper.

    python -m benchmarks.bench_concepts
"""

from __future__ import annotations

import json
from collections import Counter

from benchmarks._common import RESULTS, machine, save
from kg.build import run_extraction
from kg.corpus import read_corpus, sample_corpus_files
from kg.normalise import normalise


def main() -> int:
    papers, _ = read_corpus(sample_corpus_files())
    extractions, _ = run_extraction(papers, RESULTS / ".cache")
    surfaces = {m.text for ex in extractions for m in ex.mentions}
    surfaces_ci = {m.text.lower() for ex in extractions for m in ex.mentions}
    concepts, mentions = normalise(extractions)
    kept_surfaces = {m.text for m in mentions}
    by_type = Counter(c.type for c in concepts.values())
    singletons = sum(1 for c in concepts.values() if c.paper_count == 1)
    largest = sorted(concepts.values(), key=lambda c: (-len(c.aliases), -c.paper_count, c.id))[:10]
    ambiguous = sorted(c.label for c in concepts.values() if c.ambiguous)
    result = {
        "machine": machine(),
        "command": "python -m benchmarks.bench_concepts",
        "papers": len(papers),
        "mentions": len(mentions),
        "mentions_dropped_as_generic": sum(len(ex.mentions) for ex in extractions) - len(mentions),
        "distinct_surface_forms": len(surfaces),
        "distinct_surface_forms_ignoring_case": len(surfaces_ci),
        "surface_forms_kept": len(kept_surfaces),
        "concepts": len(concepts),
        "concepts_by_type": dict(sorted(by_type.items())),
        "singleton_concepts": singletons,
        "singleton_share": round(singletons / len(concepts), 3),
        "ambiguous_acronyms": ambiguous,
        "largest_alias_sets": [
            {"concept": c.label, "type": c.type, "papers": c.paper_count, "aliases": c.aliases} for c in largest
        ],
    }
    save("concepts", result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
