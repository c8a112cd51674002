"""Load on `kg serve`: N concurrent clients for a fixed time against 127.0.0.1, then it stops by itself.

Each client loops without think time (a closed loop: the next request leaves when the answer is in),
choosing 70% explorer pages and 30% small SPARQL queries (``--page-share``):

- pages: home 10%, search 10%, suggestions 15%, concept page 35%, concept graph JSON 10%, paper
  page 15%, overview JSON 3%, SPARQL page 2%; concepts are drawn with probability proportional to
  their paper count (what following links does), papers and search words uniformly;
- SPARQL: the named queries with the SPARQL page's example values (those that take under 100 ms
  alone on the store: "small"; the others are listed in the results) and look-ups bound to a random
  concept or paper, POSTed as application/sparql-query.

``--slow K`` adds K clients that only send a slow query (a cross product that runs into the time
limit), to show that they cannot starve the rest. Reported: requests/s, p50/p95/p99/max per class,
errors (any status but 200/303, or a failed connection), and the server's memory (RSS of the server
and its query processes, sampled every second). Results in benchmarks/results/load-*.json.

    python -m benchmarks.bench_load [--store DIR] [--clients 50] [--duration 60] [--slow 0]
    python -m benchmarks.bench_load --store DIR --port 8077 --server-pid PID   # a server started elsewhere

Without ``--store`` the sample corpus is built first (`kg build`, about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@dataclass
class Workload:
    concepts: list[str]
    weights: list[float]
    papers: list[str]
    words: list[str]
    queries: list[str]
    skipped: list[str] = field(default_factory=list)  # named queries not small on this store

    @classmethod
    def from_output(cls, out: Path) -> Workload:
        import pyoxigraph as ox

        from kg.namespace import PREFIXES
        from kg.web.app import example_queries

        with (out / "concepts.csv").open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        concepts = [r["id"] for r in rows]
        count_col = next((c for c in ("papers", "paper_count", "n_papers") if c in rows[0]), None)
        weights = [float(r[count_col] or 1) if count_col else 1.0 for r in rows]
        with (out / "papers.jsonl").open(encoding="utf-8") as f:
            papers = [json.loads(line)["id"] for line in f if line.strip()]
        words = sorted({w for r in rows for w in r.get("label", "").lower().split() if len(w) >= 4})
        queries: list[dict[str, str]] = []
        skipped: list[dict[str, str]] = []
        store = ox.Store.read_only(str(out / "store"))
        for ex in example_queries():  # small ones only: under 100 ms alone on this store
            t0 = time.perf_counter()
            res = store.query(ex["text"], prefixes=PREFIXES)
            if not isinstance(res, ox.QueryBoolean):
                list(res)
            (queries if time.perf_counter() - t0 < 0.1 else skipped).append(ex)
        del store
        return cls(concepts, weights, papers, words, [ex["text"] for ex in queries], [ex["name"] for ex in skipped])

    def pick(self, rng: random.Random, page_share: float) -> tuple[str, str, str, bytes | None]:
        """(class, method, path, body)."""
        if rng.random() < page_share:
            r = rng.random()
            concept = rng.choices(self.concepts, self.weights)[0]
            quoted = urllib.parse.quote(concept, safe="")
            if r < 0.10:
                return "page", "GET", "/", None
            if r < 0.20:
                return "page", "GET", "/search?" + urllib.parse.urlencode({"q": rng.choice(self.words)}), None
            if r < 0.35:
                w = rng.choice(self.words)
                return "page", "GET", "/api/suggest?" + urllib.parse.urlencode({"q": w[: rng.randint(2, len(w))]}), None
            if r < 0.70:
                return "page", "GET", f"/concept/{quoted}", None
            if r < 0.80:
                return "page", "GET", f"/api/concept/{quoted}/graph", None
            if r < 0.95:
                return "page", "GET", "/paper/" + urllib.parse.quote(rng.choice(self.papers), safe=""), None
            if r < 0.98:
                return "page", "GET", "/api/overview", None
            return "page", "GET", "/query", None
        r = rng.random()
        if r < 0.5:
            q = rng.choice(self.queries)
        elif r < 0.75:
            iri = "https://w3id.org/kg-lit/id/concept/" + urllib.parse.quote(
                rng.choices(self.concepts, self.weights)[0], safe=""
            )
            q = f"SELECT ?label ?n WHERE {{ <{iri}> skos:prefLabel ?label ; kg:paperCount ?n }}"
        else:
            pid = json.dumps(rng.choice(self.papers))
            q = (
                f"SELECT ?c ?label WHERE {{ ?p dcterms:identifier {pid} ; kg:mentions ?c . "
                "?c skos:prefLabel ?label } ORDER BY ?label LIMIT 50"
            )
        return "sparql", "POST", "/sparql", q.encode()


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))


async def _request(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    method: str,
    path: str,
    body: bytes | None,
    accept: str,
) -> tuple[int, bytes]:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\n"
    if body is not None:
        head += f"Content-Type: application/sparql-query\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"\r\n" + (body or b""))
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, chunked, close = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and "close" in value.lower():
            close = True
    if chunked:
        data = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            data += await reader.readexactly(size)
            await reader.readline()
    else:
        data = await reader.readexactly(length)
    if close:
        raise _Closed(status, data)
    return status, data


class _Closed(Exception):
    def __init__(self, status: int, data: bytes) -> None:
        super().__init__(status)
        self.status, self.data = status, data


async def _client(
    port: int, deadline: float, workload: Workload | None, page_share: float, seed: int, stats: Stats, slow: bool
) -> None:
    rng = random.Random(seed)
    host = f"127.0.0.1:{port}"
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    body: bytes | None
    while time.monotonic() < deadline:
        if slow:
            kind, method, path, body = "slow", "POST", "/sparql", SLOW_QUERY.encode()
        else:
            assert workload is not None
            kind, method, path, body = workload.pick(rng, page_share)
        accept = "application/sparql-results+json" if kind != "page" else "text/html,application/json"
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = await asyncio.open_connection("127.0.0.1", port)
            status, _ = await asyncio.wait_for(
                _request(*conn, host, method, path, body, accept),
                timeout=max(0.05, deadline - time.monotonic()) if slow else None,
            )
        except _Closed as c:
            status = c.status
            conn[1].close() if conn else None
            conn = None
        except TimeoutError:  # a slow client's request cut at the end of the run
            if conn:
                conn[1].close()
            break
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
            stats.errors[f"{kind}: {type(e).__name__}"] += 1
            if conn:
                conn[1].close()
            conn = None
            await asyncio.sleep(0.05)
            continue
        elapsed = time.perf_counter() - t0
        stats.statuses[f"{kind} {status}"] += 1
        if slow:
            continue
        stats.latencies[kind].append(elapsed)
        if status not in (200, 303):
            stats.errors[f"{kind}: HTTP {status} {path[:60]}"] += 1
    if conn:
        conn[1].close()


def _tree_rss_mib(pid: int) -> tuple[float, float]:
    """(server process RSS, server + all its children) in MiB."""
    import psutil

    try:
        p = psutil.Process(pid)
        main = p.memory_info().rss
        kids = sum(c.memory_info().rss for c in p.children(recursive=True) if c.is_running())
    except psutil.Error:
        return 0.0, 0.0
    return main / 2**20, (main + kids) / 2**20


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run_load(
    port: int,
    server_pid: int | None,
    workload: Workload,
    clients: int,
    duration: float,
    page_share: float = 0.7,
    slow: int = 0,
    seed: int = 1,
) -> dict[str, object]:
    """Run the load; return the figures (also used by tests/test_load.py)."""
    stats = Stats()
    rss: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample() -> None:
        while server_pid and not stop.wait(1.0):
            rss.append(_tree_rss_mib(server_pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if server_pid:
        rss.append(_tree_rss_mib(server_pid))

    async def main() -> float:
        deadline = time.monotonic() + duration
        t0 = time.perf_counter()
        tasks = [_client(port, deadline, workload, page_share, seed * 1000 + i, stats, False) for i in range(clients)]
        tasks += [_client(port, deadline, None, page_share, 0, stats, True) for _ in range(slow)]
        await asyncio.gather(*tasks)
        return time.perf_counter() - t0

    wall = asyncio.run(main())
    stop.set()
    sampler.join(2)
    if server_pid:
        rss.append(_tree_rss_mib(server_pid))
    n = sum(len(v) for v in stats.latencies.values())
    out: dict[str, object] = {
        "clients": clients,
        "slow_clients": slow,
        "duration_s": round(wall, 1),
        "page_share": page_share,
        "requests": n,
        "requests_per_s": round(n / wall, 1),
        "errors": sum(stats.errors.values()),
        "error_kinds": dict(stats.errors),
        "statuses": dict(stats.statuses),
    }
    for kind, xs in sorted(stats.latencies.items()):
        out[kind] = {
            "n": len(xs),
            "p50_ms": round(_pct(xs, 0.5) * 1000, 1),
            "p95_ms": round(_pct(xs, 0.95) * 1000, 1),
            "p99_ms": round(_pct(xs, 0.99) * 1000, 1),
            "max_ms": round(max(xs) * 1000, 1),
            "mean_ms": round(statistics.fmean(xs) * 1000, 1),
        }
    if rss:
        out["server_rss_mib"] = {
            "start": round(rss[0][0], 1),
            "peak": round(max(r[0] for r in rss), 1),
            "end": round(rss[-1][0], 1),
        }
        out["server_and_query_processes_rss_mib"] = {
            "start": round(rss[0][1], 1),
            "peak": round(max(r[1] for r in rss), 1),
            "end": round(rss[-1][1], 1),
        }
    return out


def _print(res: dict[str, object]) -> None:
    print(
        f"{res['clients']} clients (+{res['slow_clients']} slow) for {res['duration_s']} s: {res['requests']} requests, "
        f"{res['requests_per_s']} req/s, {res['errors']} errors"
    )
    for kind in ("page", "sparql"):
        if kind in res:
            d = res[kind]
            assert isinstance(d, dict)
            print(
                f"  {kind:6s} n={d['n']:6d}  p50 {d['p50_ms']:7.1f} ms  p95 {d['p95_ms']:7.1f} ms  "
                f"p99 {d['p99_ms']:7.1f} ms  max {d['max_ms']:7.1f} ms"
            )
    if "server_rss_mib" in res:
        print(
            f"  server RSS MiB {res['server_rss_mib']}; with query processes {res['server_and_query_processes_rss_mib']}"
        )
    if res["error_kinds"]:
        print(f"  errors: {res['error_kinds']}")
    if res.get("named_queries_not_small"):
        print(f"  named queries left out (over 100 ms alone): {res['named_queries_not_small']}")


def main() -> int:
    from benchmarks._common import machine, save

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=Path, help="a built store (DIR/store of a kg build); default: build the sample")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--page-share", type=float, default=0.7)
    ap.add_argument("--slow", type=int, default=0, help="extra clients sending only slow queries")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--serve-arg", action="append", default=[], help="extra `kg serve` argument (repeatable)")
    ap.add_argument("--port", type=int, help="load a server already running on 127.0.0.1:PORT (not started here)")
    ap.add_argument("--server-pid", type=int, help="with --port: the server's process, for its memory")
    args = ap.parse_args()
    tmp = None
    if args.store is None:
        tmp = Path(tempfile.mkdtemp())
        print("building the sample corpus ...", flush=True)
        # `kg build` in a child rather than kg.build(): the load generator's process must not keep the build's heap
        subprocess.run(
            [shutil.which("kg", path=str(Path(sys.executable).parent)) or "kg", "build", "-o", str(tmp / "out"), "-q"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        args.store = tmp / "out" / "store"
    try:
        workload = Workload.from_output(args.store.parent)
        if args.port:
            res = run_load(
                args.port, args.server_pid, workload, args.clients, args.duration, args.page_share, args.slow, args.seed
            )
        else:
            from kg.web.testing import free_port, start_server, stop_server

            port = free_port()
            # start_server, not running_server: the load samples the server process's memory (its pid)
            proc = start_server(args.store, port, *args.serve_arg, start_timeout=60)
            try:
                res = run_load(
                    port, proc.pid, workload, args.clients, args.duration, args.page_share, args.slow, args.seed
                )
            finally:
                stop_server(proc, 10)  # under load, shutdown may take longer than the default 5 s
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    res["named_queries_not_small"] = workload.skipped
    res["machine"] = machine()
    res["command"] = "python -m benchmarks.bench_load " + " ".join(sys.argv[1:])
    _print(res)
    save(f"load-{args.clients}c-{args.slow}slow" + ("-attached" if args.port else ""), res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
