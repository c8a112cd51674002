"""Latency of every named query through HTTP (`kg serve`), and time until a concept page's graph is drawn.

Graphs: the sample corpus, and a larger one made of the first N papers of
../shared/corpus/arxiv-cs (`--large N`, 0 to skip). Each named query (with the example values
of the SPARQL page) is POSTed `--repeat` times to /sparql; median and p95 in ms. The browser
figure is Debian's chromium (Playwright): from navigation start to vis-network's first
`afterDrawing` on /concept/<most-mentioned concept>, median of 5 loads. The explorer's pages (front
page, search, suggestions, the most-mentioned concept's page and graph, /rising, a paper, the
overview) are each fetched twice: the first request renders it (cold), the second comes from the
server's page cache.

    python -m benchmarks.bench_http [--large 3000] [--repeat 20]
    python -m benchmarks.bench_http --built DIR [--repeat 20]   # an existing build (e.g. the 75k one)
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from benchmarks._common import CHROMIUM, SHARED, launch_chromium, machine, save
from kg.web.app import example_queries
from kg.web.testing import running_server


def _kg() -> str:
    exe = shutil.which("kg", path=str(Path(sys.executable).parent))
    assert exe
    return exe


def measure(out: Path, repeat: int) -> dict[str, object]:
    t0 = time.perf_counter()
    # a large store takes a while to open and warm up
    with running_server(out / "store", "--timeout", "60", start_timeout=600) as base:
        print(f"  server ready in {time.perf_counter() - t0:.1f} s", flush=True)
        rows: dict[str, dict[str, float]] = {}
        for ex in example_queries():
            data = urllib.parse.urlencode({"query": ex["text"]}).encode()
            times = []
            for _ in range(repeat):
                req = urllib.request.Request(
                    base + "/sparql", data=data, headers={"Accept": "application/sparql-results+json"}
                )
                t0 = time.perf_counter()
                try:
                    with urllib.request.urlopen(req, timeout=120) as r:
                        body = r.read()
                except urllib.error.HTTPError as err:  # e.g. 503: stopped at the server's time limit
                    print(f"  {ex['name']:24s} HTTP {err.code} after {time.perf_counter() - t0:.1f} s", flush=True)
                    rows[ex["name"]] = {"error": err.code, "seconds": round(time.perf_counter() - t0, 1)}
                    break
                times.append((time.perf_counter() - t0) * 1000)
            if ex["name"] in rows:
                continue
            n = len(json.loads(body)["results"]["bindings"])
            times.sort()
            rows[ex["name"]] = {
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
                "rows": n,
            }
            print(
                f"  {ex['name']:24s} median {rows[ex['name']]['median_ms']:7.1f} ms  p95 {rows[ex['name']]['p95_ms']:7.1f} ms  ({n} rows)",
                flush=True,
            )
        pages = page_times(base, out)
        drawn: dict[str, object] | None = None
        if CHROMIUM.exists():
            try:
                drawn = browser_draw_ms(base, out)
            except Exception as err:  # e.g. the page does not load in time at a large build: a figure too
                drawn = {"error": str(err).splitlines()[0]}
                print(f"  concept page: {drawn['error']}", flush=True)
        return {"queries": rows, "pages": pages, "concept_graph_drawn_ms": drawn}


def page_times(base: str, out: Path) -> dict[str, dict[str, float]]:
    """The explorer's pages over HTTP: the first request (cold: the server renders it) and the next
    (its page cache), for the front page, search, a suggestion, the most-mentioned concept's page
    and graph JSON, /rising, a topic, a paper and the overview."""
    import csv

    with (out / "concepts.csv").open() as f:
        top = next(csv.DictReader(f))
    with (out / "papers.jsonl").open() as f:
        paper = json.loads(f.readline())["id"]
    word = top["label"].split()[0][:6]
    urls = {
        "front page": "/",
        "search": "/search?q=" + urllib.parse.quote(word + "x"),
        "suggest": "/api/suggest?q=" + urllib.parse.quote(word),
        "concept page (most papers)": "/concept/" + urllib.parse.quote(top["id"]),
        "concept graph JSON": f"/api/concept/{urllib.parse.quote(top['id'])}/graph",
        "rising": "/rising",
        "paper page": "/paper/" + urllib.parse.quote(paper),
        "overview JSON": "/api/overview",
    }
    out_: dict[str, dict[str, float]] = {}
    for name, url in urls.items():
        ms = []
        for _ in range(2):
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(base + url, timeout=300) as r:
                    r.read()
            except urllib.error.HTTPError as err:
                ms.append(-float(err.code))
                continue
            ms.append(round((time.perf_counter() - t0) * 1000, 1))
        out_[name] = {"cold_ms": ms[0], "cached_ms": ms[1]}
        print(f"  page {name:28s} cold {ms[0]:9.1f} ms  cached {ms[1]:7.1f} ms", flush=True)
    return out_


def browser_draw_ms(base: str, out: Path) -> dict[str, object]:
    import csv

    from playwright.sync_api import sync_playwright

    with (out / "concepts.csv").open() as f:
        top = next(csv.DictReader(f))["id"]
    times = []
    with sync_playwright() as p:
        b = launch_chromium(p)
        page = b.new_page()
        for _ in range(5):
            page.goto(f"{base}/concept/{top}")
            page.wait_for_selector("#graph[data-drawn='1']", timeout=60000)
            times.append(page.evaluate("window.kgGraphDrawn"))
        b.close()
    return {"concept": top, "median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--large", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--built", type=Path, help="measure this finished build's folder only (nothing is built)")
    args = ap.parse_args()
    if args.built:
        marker = json.loads((args.built / ".kg-build.json").read_text())
        print(f"{args.built} ({marker['papers']} papers, {marker['triples']} triples)")
        built = {
            "machine": machine(),
            "command": f"python -m benchmarks.bench_http --built {args.built} --repeat {args.repeat}",
            "papers": marker["papers"],
            "triples": marker["triples"],
            **measure(args.built, args.repeat),
        }
        save(f"http-built-{marker['papers']}", built)
        return 0
    tmp = Path(tempfile.mkdtemp())
    results: dict[str, object] = {
        "machine": machine(),
        "command": f"python -m benchmarks.bench_http --large {args.large} --repeat {args.repeat}",
    }
    try:
        subprocess.run([_kg(), "build", "-o", str(tmp / "sample"), "-q"], check=True, stdout=subprocess.DEVNULL)
        print("sample corpus (396 papers)")
        results["sample"] = measure(tmp / "sample", args.repeat)
        src = SHARED / "corpus" / "arxiv-cs" / "papers.jsonl.gz"
        if args.large and src.exists():
            sub = tmp / f"arxiv-{args.large}.jsonl"
            with gzip.open(src, "rt", encoding="utf-8") as f, sub.open("w", encoding="utf-8") as g:
                for i, line in enumerate(f):
                    if i >= args.large:
                        break
                    g.write(line)
            t0 = time.perf_counter()
            subprocess.run(
                [_kg(), "build", str(sub), "-o", str(tmp / "large"), "-q", "-j", "2"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            build_s = time.perf_counter() - t0
            marker = json.loads((tmp / "large" / ".kg-build.json").read_text())
            print(f"arxiv-cs first {args.large} papers ({marker['triples']} triples, built in {build_s:.0f} s)")
            results["large"] = {
                "papers": marker["papers"],
                "triples": marker["triples"],
                "build_seconds": round(build_s, 1),
                **measure(tmp / "large", args.repeat),
            }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    save("http", results)
    print(json.dumps({k: v for k, v in results.items() if k in ("machine",)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
