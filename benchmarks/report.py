"""Print the benchmark results (benchmarks/results/*.json) as the Markdown tables of BENCHMARKS.md.

python -m benchmarks.report
"""

from __future__ import annotations

import json

from benchmarks._common import RESULTS
from kg.schema import LABELS

#: the order of bench_quality's modes in the table (a mode not listed goes last)
MODES = ("combined", "rules", "model", "encoder", "ensemble", "accurate")


def quality() -> None:
    data = json.loads((RESULTS / "quality.json").read_text())
    print(f"Machine: {data['machine']}. Command: `{data['command']}`.\n")
    print("| gold set | mode | P | R | **F1 (micro)** | " + " | ".join(f"{lab} F1" for lab in LABELS) + " |")
    print("|---|---|---|---|---|" + "---|" * len(LABELS))
    for name, modes in data["results"].items():
        for mode, r in sorted(modes.items(), key=lambda kv: (MODES + (kv[0],)).index(kv[0])):
            m = r["micro"]
            per = " | ".join(f"{r[lab]['f1']:.3f}" if lab in r else "—" for lab in LABELS)
            print(f"| {name} | {mode} | {m['p']:.3f} | {m['r']:.3f} | **{m['f1']:.3f}** | {per} |")


def extract() -> None:
    d = json.loads((RESULTS / "extract.json").read_text())
    print(f"\nMachine: {d['machine']}. Command: `{d['command']}`. {d['texts']} texts.\n")
    acc = all("accurate_seconds" in v for v in d["speed"].values())
    print(
        "| processes | en_core_web_sm abstracts/s | kg abstracts/s | kg time / en_core_web_sm time |"
        + (" accurate abstracts/s | accurate time / en_core_web_sm time |" if acc else "")
    )
    print("|---|---|---|---|" + ("---|---|" if acc else ""))
    for k, v in d["speed"].items():
        row = f"| {k.split('_')[0]} | {v['en_core_web_sm_abstracts_per_s']} | {v['kg_abstracts_per_s']} | **{v['ratio_kg_to_sm']}** |"
        if acc:
            row += f" {v['accurate_abstracts_per_s']} | {v['ratio_accurate_to_sm']} |"
        print(row)
    print(
        f"\nModel size on disk: {d['model_size_mb']} MB. Load time: kg pipeline {d['load_seconds']['kg']} s, "
        f"en_core_web_sm {d['load_seconds']['en_core_web_sm']} s. 50,000 abstracts at the 2-process rate: "
        f"{d['hours_for_50k_abstracts_2_processes']} h."
    )
    if acc:
        sizes = d["accurate_size_mb"]
        rate = min(v["accurate_abstracts_per_s"] for v in d["speed"].values())
        print(
            f"Accurate mode: adapters in kg {sizes['adapters_in_kg']} MB + base encoder from PyPI "
            f"{sizes['base_encoder_from_pypi']} MB; load time (with the first text) "
            f"{d['load_seconds']['accurate']} s; 50,000 abstracts: {50000 / rate / 3600:.2f} h."
        )


def build() -> None:
    d = json.loads((RESULTS / "build.json").read_text())
    print(f"\nMachine: {d['machine']}. Command: `{d['command']}`.\n")
    print(
        f"- wall time: **{d['seconds']} s** (en_core_web_sm alone over the same texts: "
        f"{d['baseline_en_core_web_sm_seconds']} s; ratio {d['ratio_to_baseline']})"
    )
    print(f"- rebuild with the extraction cache: {d['rebuild_seconds_with_cache']} s")
    print(f"- peak memory (RSS): **{d['peak_rss_mib']} MiB**")
    c = d["counts"]
    print(
        f"- printed: {c['entries']} entries → {c['papers']} papers ({c['duplicates_merged']} duplicates merged); "
        f"mentions {c['mentions_by_type']}; concepts {c['concepts_by_type']}; edges {c['edges_by_kind']}; "
        f"{c['triples']} triples"
    )


def http() -> None:
    path = RESULTS / "http.json"
    if not path.exists():
        return
    d = json.loads(path.read_text())
    print(f"\nMachine: {d['machine']}. Command: `{d['command']}`.\n")
    graphs = [k for k in ("sample", "large") if k in d]
    head = " | ".join(f"{g} median ms | {g} p95 ms" for g in graphs)
    print(f"| named query | {head} |")
    print("|---|" + "---|---|" * len(graphs))
    for name in d["sample"]["queries"]:
        cells = " | ".join(f"{d[g]['queries'][name]['median_ms']} | {d[g]['queries'][name]['p95_ms']}" for g in graphs)
        print(f"| {name} | {cells} |")
    for g in graphs:
        drawn = d[g].get("concept_graph_drawn_ms")
        if drawn:
            print(
                f"\n- {g}: concept page `/concept/{drawn['concept']}` graph drawn {drawn['median_ms']} ms after "
                f"navigation start (median of 5; max {drawn['max_ms']} ms)"
            )
    if "large" in d:
        lg = d["large"]
        print(
            f"- large graph: first {lg['papers']} papers of arxiv-cs, {lg['triples']} triples, built in {lg['build_seconds']} s (2 processes)"
        )


if __name__ == "__main__":
    quality()
    extract()
    build()
    http()
