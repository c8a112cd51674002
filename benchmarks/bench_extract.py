"""Extraction speed: `kg extract`'s pipeline against the plain `en_core_web_sm` pipeline.

Both run `nlp.pipe` over the same texts (the 396 sample abstracts, title + abstract) with the
same process count, in the same run, alternating, best of `--repeat`; the ratio is the number
that matters (these machines are noisy). Also: model size on disk and pipeline load time.

    python -m benchmarks.bench_extract [--repeat 2] [--processes 1,2] [--no-accurate]

With the accurate extra installed, the accurate pipeline (``--model accurate``) is timed too,
against the same baseline runs. It always runs in one process (PyTorch does not survive a fork),
with PyTorch using every core, so its time is the same whatever the process count.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import spacy

from benchmarks._common import machine, save
from kg.corpus import read_corpus, sample_corpus_files
from kg.extract.pipeline import BASE_MODEL, build_pipeline, default_model_path


def _dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def _accurate_sizes() -> dict[str, float]:
    from kg.extract.encoder import base_model_dir, default_adapter_path

    adapters = default_adapter_path()
    return {
        "adapters_in_kg": round(_dir_size(adapters) / 1e6, 2) if adapters else 0.0,
        "base_encoder_from_pypi": round(_dir_size(base_model_dir()) / 1e6, 1),
    }


def _time(nlp, texts: list[str], n_process: int) -> float:
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=32, n_process=n_process):
        pass
    return time.perf_counter() - t0


def _time_kg_extract(papers, nlp, n_process: int) -> float:
    """The whole of `kg extract`: the pipeline, normalisation and the concept decision."""
    # not kg.extract(): it loads the pipeline on every call, and load time is reported apart
    from kg.build.extraction import extract_records

    t0 = time.perf_counter()
    extract_records(papers, n_process=n_process, nlp=nlp)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--processes", default="1,2")
    ap.add_argument("--no-accurate", action="store_true", help="skip the accurate (transformer) pipeline")
    args = ap.parse_args()
    papers, _ = read_corpus(sample_corpus_files())
    texts = [p.text for p in papers]
    t0 = time.perf_counter()
    base = spacy.load(BASE_MODEL)
    base_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = build_pipeline()
    ours_load = time.perf_counter() - t0
    accurate = None
    acc_load = None
    if not args.no_accurate:
        try:
            t0 = time.perf_counter()
            accurate = build_pipeline("accurate")
            accurate("Warm-up: load the encoder.")
            acc_load = time.perf_counter() - t0
        except Exception as err:  # noqa: BLE001  (the extra is optional)
            print(f"accurate pipeline skipped: {err}")
    rows = {}
    acc_times: list[float] = []
    for n in (int(x) for x in args.processes.split(",")):
        b, o, full = [], [], []
        for _ in range(args.repeat):
            b.append(_time(base, texts, n))
            o.append(_time(ours, texts, n))
            full.append(_time_kg_extract(papers, ours, n))
            if accurate is not None:
                acc_times.append(_time(accurate, texts, 1))
        rows[f"{n}_process"] = {
            "en_core_web_sm_seconds": round(min(b), 2),
            "kg_seconds": round(min(o), 2),
            "en_core_web_sm_abstracts_per_s": round(len(texts) / min(b), 1),
            "kg_abstracts_per_s": round(len(texts) / min(o), 1),
            "ratio_kg_to_sm": round(min(o) / min(b), 2),
            "kg_extract_seconds": round(min(full), 2),
            "ratio_kg_extract_to_sm": round(min(full) / min(b), 2),
        }
        if accurate is not None:
            rows[f"{n}_process"].update(
                {
                    "accurate_seconds": round(min(acc_times), 2),
                    "accurate_abstracts_per_s": round(len(texts) / min(acc_times), 1),
                    "ratio_accurate_to_sm": round(min(acc_times) / min(b), 2),
                }
            )
        print(n, rows[f"{n}_process"], flush=True)
    model = default_model_path()
    result = {
        "machine": machine(),
        "command": "python -m benchmarks.bench_extract",
        "texts": len(texts),
        "pipeline": ours.pipe_names,
        "load_seconds": {
            "en_core_web_sm": round(base_load, 2),
            "kg": round(ours_load, 2),
            "accurate": round(acc_load, 2) if acc_load is not None else None,
        },
        "model_size_mb": round(_dir_size(model) / 1e6, 1) if model else None,
        "accurate_size_mb": _accurate_sizes() if accurate is not None else None,
        "speed": rows,
        "hours_for_50k_abstracts_2_processes": round(
            50000 / rows.get("2_process", rows["1_process"])["kg_abstracts_per_s"] / 3600, 2
        ),
    }
    save("extract", result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
