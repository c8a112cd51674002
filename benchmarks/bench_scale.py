"""`kg build` at scale: N papers of the arXiv cs corpus (shared/corpus/arxiv-cs/papers.jsonl.gz).

Measures, in one run on one machine:

- the full build of the first N papers (`kg build -j J`): wall seconds, peak RSS of the build
  process and of its largest child, seconds and peak RSS after each stage (from the build's
  marker), triples; papers per second end to end;
- extraction alone over the same texts with the same process count (`kg extract -j J`), for the
  ratio "everything after extraction / extraction";
- an incremental build adding the next `--add` papers into the same folder (the cache holds the
  first N): wall seconds against the full build;
- named queries on the built store, in process (``kg.open(DIR).query(name=...)``, so each time includes
  the API's look-up of the query and its rows' conversion to plain values): median and p95 of each over
  a few parameters;
- with `--dask-workers 1,2,8`: the same N papers built (``kg.build(..., scheduler=...)``) on a
  `distributed.LocalCluster` of that many worker processes (one thread each; no cache), extraction
  papers/s per worker count, and whether the outputs equal the local build's byte for byte.

    python -m benchmarks.bench_scale --papers 2000 -j 2 --add 1000
    python -m benchmarks.bench_scale --papers 2000 -j 2 --add 0 --dask-workers 1,2,8
    python -m benchmarks.bench_scale --incremental-on /tmp/kg75k --corpus /tmp/arxiv75k.jsonl --add 1000 -j 2

``--incremental-on DIR`` measures only the incremental build on a corpus already built in DIR (a
second full build of 75k papers takes over an hour): the last ``--add`` papers of ``--corpus`` are
taken out of DIR as if it had been built without them (their cached extractions deleted from
``DIR/.cache``, their records from ``DIR/papers.jsonl``), then ``kg build CORPUS -o DIR`` adds them
back, as a user adding new papers would. Its figures are compared with the full build's own, read
from DIR's marker before the run.

Results go to benchmarks/results/scale-N.json (and are printed).
"""

from __future__ import annotations

import argparse
import gzip
import json
import lzma
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import kg
from benchmarks._common import SHARED, machine, run_child, save

CORPUS = SHARED / "corpus" / "arxiv-cs" / "papers.jsonl.gz"
COMPARED = ("kg.nt", "papers.jsonl", "mentions.jsonl", "relations.jsonl", "concepts.csv", "graph.graphml")


def write_slice(src: Path, dst: Path, start: int, n: int) -> int:
    k = 0
    opener = {".gz": gzip.open, ".xz": lzma.open}.get(src.suffix, open)
    with opener(src, "rt", encoding="utf-8") as f, dst.open("w", encoding="utf-8") as out:
        for i, line in enumerate(f):
            if i < start:
                continue
            if k >= n:
                break
            out.write(line)
            k += 1
    return k


def query_times(folder: Path, repeats: int = 5) -> dict[str, dict[str, float]]:
    """Each named query through the Python API (rows as plain values), as a library user runs it."""
    g = kg.open(folder)
    top = g.query(name="top-concepts", type="Method")
    labels = [str(row["label"]) for row in top[:3]] or ["large language model"]
    papers = [str(row["id"]) for row in g.query("SELECT ?id WHERE { ?p dcterms:identifier ?id } LIMIT 3")]
    params = {
        "concept": [{"concept": x} for x in labels],
        "method": [{"method": x} for x in labels],
        "task": [{"task": "object detection"}, {"task": "question answering"}],
        "paper": [{"paper": p} for p in papers],
        "type": [{"type": t} for t in ("Method", "Dataset")],
        "dataset": [{"dataset": "ImageNet", "metric": "accuracy"}],
    }
    out = {}
    for name, nq in kg.named_queries().items():
        key = next(iter(nq.params), None)
        cases = params.get(key, [{}]) if key else [{}]
        times = []
        for case in cases:
            for _ in range(repeats):
                t0 = time.perf_counter()
                g.query(name=name, **case)
                times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[name] = {
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
        }
    return out


def dask_build(corpus: Path, out: Path, workers: int) -> dict[str, float]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        t0 = time.perf_counter()
        r = kg.build([corpus], out, scheduler=cluster.scheduler_address).report
        assert r is not None  # kg.build always sets it
        wall = time.perf_counter() - t0
    ext = r.stages["extract"]["seconds"]
    return {
        "workers": workers,
        "seconds": round(wall, 1),
        "extract_seconds": ext,
        "extract_papers_per_s": round(r.read.papers / ext, 1) if ext else 0.0,
    }


def take_out_last(built: Path, corpus: Path, n: int) -> dict[str, int]:
    """Make ``built`` (a finished build of ``corpus``) look built without ``corpus``'s last ``n`` papers:
    their cached extractions and their records go; the next build of ``corpus`` re-extracts them."""
    import os
    import sqlite3

    from kg.build import extraction_cache_key
    from kg.corpus.readers import read_file
    from kg.extract.pipeline import model_text

    new = read_file(corpus)[-n:]
    ids = {p.id for p in new}
    db = sqlite3.connect(str(built / ".cache" / "extract.sqlite"))
    with db:
        db.executemany(
            "DELETE FROM extraction WHERE text_hash = ?", [(extraction_cache_key(p.text, model_text(p)),) for p in new]
        )
    left = int(db.execute("SELECT COUNT(*) FROM extraction").fetchone()[0])
    db.close()
    src, tmp = built / "papers.jsonl", built / "papers.jsonl.tmp"
    kept = 0
    with src.open(encoding="utf-8") as f, tmp.open("w", encoding="utf-8") as g:
        for line in f:
            if json.loads(line)["id"] not in ids:
                g.write(line)
                kept += 1
    os.replace(tmp, src)
    return {"taken_out": len(ids), "previous_papers": kept, "cache_rows_left": left}


def incremental_on(built: Path, corpus: Path, add: int, processes: int) -> dict[str, object]:
    full = json.loads((built / ".kg-build.json").read_text())
    prep = take_out_last(built, corpus, add)
    cli = [sys.executable, "-m", "kg.cli"]
    wall, rss, _ = run_child([*cli, "build", str(corpus), "-o", str(built), "-j", str(processes), "-q"])
    inc = json.loads((built / ".kg-build.json").read_text())
    changes = json.loads((built / "changes.json").read_text())
    return {
        "machine": machine(),
        "command": f"kg build {corpus.name} -o {built} -j {processes} -q (the last {add} papers taken out first)",
        "prepared": prep,
        "full_build_seconds": full.get("seconds"),
        "seconds": round(wall, 1),
        "share_of_full_build": round(wall / full["seconds"], 3) if full.get("seconds") else None,
        "cached_papers": inc["cached_papers"],
        "stages": inc["stages"],
        "peak_rss_mib": round(rss),
        "changes": {"papers_added": changes["papers"]["added"], "concepts_new": changes["concepts"]["new"]},
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="JSONL (.gz, .xz or plain) of arXiv-style records")
    ap.add_argument("--papers", type=int, default=2000)
    ap.add_argument("-j", "--processes", type=int, default=2)
    ap.add_argument("--add", type=int, default=1000, help="papers added for the incremental build (0: none)")
    ap.add_argument("--formats", default=None, help="passed to kg build --formats")
    ap.add_argument("--dask-workers", default="", help="e.g. 1,2,8: also build on LocalClusters of these sizes")
    ap.add_argument("--skip-local", action="store_true", help="only the Dask builds (and one local build to compare)")
    ap.add_argument("--note", default="", help="a note saved with the figures (e.g. 'machine shared with 4 others')")
    ap.add_argument(
        "--incremental-on", type=Path, default=None, help="a finished build of --corpus: time adding --add papers"
    )
    args = ap.parse_args()
    if args.incremental_on is not None:
        rec = incremental_on(args.incremental_on, args.corpus, args.add, args.processes)
        print(json.dumps(rec, indent=1))
        print(save(f"scale-incremental-{args.add}", rec))
        return 0
    # `kg build` and `kg extract` run as child processes: their wall time and peak RSS (run_child) are the figures
    cli = [sys.executable, "-m", "kg.cli"]  # works where kg is importable but not installed
    tmp = Path(tempfile.mkdtemp(prefix="kg-scale-"))
    n, j = args.papers, str(args.processes)
    result: dict[str, object] = {"machine": machine(), "note": args.note, "papers": n, "processes": args.processes}
    try:
        base = tmp / "base.jsonl"
        write_slice(args.corpus, base, 0, n)
        out = tmp / "out"
        fmt = ["--formats", args.formats] if args.formats else []
        wall, rss, _ = run_child([*cli, "build", str(base), "-o", str(out), "-j", j, "-q", *fmt])
        marker = json.loads((out / ".kg-build.json").read_text())
        stages = marker["stages"]
        after = round(wall - stages["extract"]["seconds"], 1)
        result["build"] = {
            "command": f"kg build base.jsonl -o DIR -j {j} -q {' '.join(fmt)}".strip(),
            "seconds": round(wall, 1),
            "papers_per_s": round(n / wall, 1),
            "peak_rss_mib_largest_process": round(rss),
            "peak_rss_mib_build_process": max(s["peak_rss_mib"] for s in stages.values()),
            "stages": stages,
            "triples": marker["triples"],
            "concepts": sum(marker["concepts_by_type"].values()),
            "after_extraction_seconds": after,
        }
        if not args.skip_local:
            x_wall, x_rss, _ = run_child([*cli, "extract", str(base), "-o", str(tmp / "x.jsonl"), "-j", j, "-q"])
            result["extract_alone"] = {
                "command": f"kg extract base.jsonl -o x.jsonl -j {j}",
                "seconds": round(x_wall, 1),
                "peak_rss_mib": round(x_rss),
            }
            result["after_extraction_over_extract_alone"] = round((wall - x_wall) / x_wall, 3)
            result["queries_in_process"] = query_times(out)
            if args.add:
                union = tmp / "union.jsonl"
                write_slice(args.corpus, union, 0, n + args.add)
                i_wall, i_rss, _ = run_child([*cli, "build", str(union), "-o", str(out), "-j", j, "-q", *fmt])
                inc = json.loads((out / ".kg-build.json").read_text())
                changes = json.loads((out / "changes.json").read_text())
                result["incremental"] = {
                    "command": f"kg build union.jsonl -o DIR -j {j} -q (same DIR; +{args.add} papers)",
                    "seconds": round(i_wall, 1),
                    "share_of_full_build": round(i_wall / wall, 3),
                    "cached_papers": inc["cached_papers"],
                    "stages": inc["stages"],
                    "peak_rss_mib": round(i_rss),
                    "changes": {"papers_added": changes["papers"]["added"], "concepts_new": changes["concepts"]["new"]},
                }
        if args.dask_workers:
            runs = []
            for w in [int(x) for x in args.dask_workers.split(",") if x]:
                d = tmp / f"dask-{w}"
                rec = dask_build(base, d, w)
                rec["identical_to_local"] = all((d / f).read_bytes() == (out / f).read_bytes() for f in COMPARED)
                runs.append(rec)
                print(json.dumps(rec), flush=True)
                shutil.rmtree(d, ignore_errors=True)
            result["dask"] = runs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=1))
    print(save(f"scale-{n}" + ("-dask" if args.dask_workers else ""), result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
