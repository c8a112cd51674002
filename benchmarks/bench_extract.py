"""Extraction speed: `kg extract`'s pipeline against the plain `en_core_web_sm` pipeline.

Both run `nlp.pipe` over the same texts (the 396 sample abstracts, title + abstract) with the
same process count, in the same run, alternating, best of `--repeat`; the ratio is the number
that matters (these machines are noisy). Also: model size on disk and pipeline load time.

    python benchmarks/bench_extract.py [--repeat 2] [--processes 1,2]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import spacy
from _common import machine, save

from kg.corpus import read_corpus, sample_corpus_files
from kg.extract.pipeline import BASE_MODEL, build_pipeline, default_model_path


def _dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def _time(nlp, texts: list[str], n_process: int) -> float:
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=32, n_process=n_process):
        pass
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--processes", default="1,2")
    args = ap.parse_args()
    papers, _ = read_corpus(sample_corpus_files())
    texts = [p.text for p in papers]
    t0 = time.perf_counter()
    base = spacy.load(BASE_MODEL)
    base_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = build_pipeline()
    ours_load = time.perf_counter() - t0
    rows = {}
    for n in (int(x) for x in args.processes.split(",")):
        b, o = [], []
        for _ in range(args.repeat):
            b.append(_time(base, texts, n))
            o.append(_time(ours, texts, n))
        rows[f"{n}_process"] = {
            "en_core_web_sm_seconds": round(min(b), 2),
            "kg_seconds": round(min(o), 2),
            "en_core_web_sm_abstracts_per_s": round(len(texts) / min(b), 1),
            "kg_abstracts_per_s": round(len(texts) / min(o), 1),
            "ratio_kg_to_sm": round(min(o) / min(b), 2),
        }
        print(n, rows[f"{n}_process"], flush=True)
    model = default_model_path()
    result = {
        "machine": machine(),
        "command": "python benchmarks/bench_extract.py",
        "texts": len(texts),
        "pipeline": ours.pipe_names,
        "load_seconds": {"en_core_web_sm": round(base_load, 2), "kg": round(ours_load, 2)},
        "model_size_mb": round(_dir_size(model) / 1e6, 1) if model else None,
        "speed": rows,
        "hours_for_50k_abstracts_2_processes": round(50000 / rows.get("2_process", rows["1_process"])["kg_abstracts_per_s"] / 3600, 2),
    }
    save("extract", result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
