"""`kg serve` under load, bounded: a short run of the load generator (benchmarks/bench_load.py) against the
real server on 127.0.0.1, long queries that must not starve pages or short queries, and the page
queries' bound terms written into the text (same pages, faster)."""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pyoxigraph as ox

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _get(url: str, data: bytes | None = None) -> tuple[int, str, float]:
    req = urllib.request.Request(url, data=data)
    if data is not None:
        req.add_header("Content-Type", "application/sparql-query")
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode(), time.perf_counter() - t0
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), time.perf_counter() - t0


def test_short_load_run_has_no_errors_and_bounded_latency(mini_build):
    from benchmarks.bench_load import Workload, run_load
    from kg.web.testing import free_port, start_server, stop_server

    port = free_port()
    proc = start_server(mini_build / "store", port)
    try:
        res = run_load(port, proc.pid, Workload.from_output(mini_build), clients=8, duration=8)
    finally:
        stop_server(proc)
    assert res["errors"] == 0, res["error_kinds"]
    page, sparql = res["page"], res["sparql"]
    assert isinstance(page, dict) and isinstance(sparql, dict)
    assert page["n"] > 50 and sparql["n"] > 20
    assert page["p95_ms"] < 1000 and sparql["p95_ms"] < 2000, res
    rss = res["server_rss_mib"]
    assert isinstance(rss, dict) and rss["peak"] < 1024


def test_long_queries_cannot_starve_pages_or_short_queries(mini_build):
    from kg.web.testing import running_server

    with running_server(mini_build / "store", "--timeout", "5") as base:
        stop = threading.Event()
        slow_statuses: list[int] = []

        def hammer() -> None:  # sends the slow query again as soon as it is answered
            while not stop.is_set():
                try:
                    slow_statuses.append(_get(base + "/sparql", SLOW.encode())[0])
                except OSError:  # the server stopped at the end of the test
                    return

        threads = [threading.Thread(target=hammer, daemon=True) for _ in range(5)]
        for t in threads:
            t.start()
        try:
            # the server tells the slow query for what it is once it has used 0.5 s of CPU; after that
            # only the long lane (2 slots) runs it, and the other hammers are refused at once
            deadline = time.monotonic() + 20
            while slow_statuses.count(503) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            words = ["speculative", "decoding", "benchmark", "retrieval", "humaneval", "transformer"]
            pages = [f"/search?q={w}" for w in words] + [f"/api/suggest?q={w[:4]}" for w in words]
            for path in pages:  # not cached yet: each is rendered with its queries
                status, _, seconds = _get(base + path)
                assert status == 200 and seconds < 1.0, (path, seconds)
            for i in range(10):
                q = f"SELECT ?l WHERE {{ ?c a kg:Dataset ; skos:prefLabel ?l }} LIMIT {i + 1}"
                status, body, seconds = _get(base + "/sparql", q.encode())
                assert status == 200 and seconds < 2.0, (q, status, body[:200], seconds)
        finally:
            stop.set()
        for t in threads:
            t.join(20)
    # the long lane (2 slots) was full: the others were refused with 503 and a reason, not queued for ever
    assert 503 in slow_statuses


def test_long_lane_is_bounded_and_a_known_slow_query_keeps_out_of_the_short_lane(mini_build):
    import anyio

    from kg.web.serve import QueryPool, ServerConfig

    config = ServerConfig(mini_build / "store", timeout=6, max_concurrent=2, max_slow=1, slow_cpu=0.3)
    pool = QueryPool(config)
    pool.start()
    results: list[tuple[int, str]] = []

    async def one(query: str) -> None:
        out = await pool.run(query)
        results.append((out.status, out.body.decode()))

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(one, SLOW)
            tg.start_soon(one, SLOW)
        assert sorted(s for s, _ in results) == [503, 503]
        assert sum("long-running queries are already running" in b for _, b in results) == 1
        assert sum("time limit of 6 s" in b for _, b in results) == 1
        assert pool.is_known_slow(SLOW)
        results.clear()
        async with anyio.create_task_group() as tg:  # known slow: it waits for the long slot ...
            tg.start_soon(one, SLOW)
            await anyio.sleep(0.5)
            t0 = time.perf_counter()  # ... and both short slots stay free for short queries
            await anyio.to_thread.run_sync(
                lambda: [anyio.from_thread.run(pool.run, "ASK { ?s ?p ?o }") for _ in range(2)]
            )
            assert time.perf_counter() - t0 < 2
        assert results[0][0] == 503 and "time limit" in results[0][1]

    try:
        anyio.run(main)
    finally:
        pool.close()


def test_inline_bindings_rewrite():
    from kg.store import inline_bindings

    c = {ox.Variable("c"): ox.NamedNode("http://e/c")}
    q = (
        'SELECT ?c ?o (COUNT(?c) AS ?n) WHERE { ?c ?p ?o . FILTER(?o != "?c" && ?o != <http://e/?c>) } # ?c\n'
        "GROUP BY ?c ?o ORDER BY ?c DESC(?c)"
    )
    assert inline_bindings(q, c) == (
        'SELECT ?c ?o (COUNT(<http://e/c>) AS ?n) WHERE { <http://e/c> ?p ?o . FILTER(?o != "?c" && ?o != '
        "<http://e/?c>) } # ?c\nGROUP BY (<http://e/c> AS ?c) ?o ORDER BY (<http://e/c>) DESC(<http://e/c>)"
    )
    lit = {ox.Variable("k"): ox.Literal('a"b\\c\n')}
    assert (
        inline_bindings("SELECT ?k ?x WHERE { ?x ?p ?k }", lit)
        == 'SELECT ("a\\"b\\\\c\\n" AS ?k) ?x WHERE { ?x ?p "a\\"b\\\\c\\n" }'
    )
    for unsafe in (
        "SELECT ?x WHERE { BIND(1 AS ?c) }",
        "SELECT ?x WHERE { { SELECT ?c WHERE { ?c ?p ?o } } }",
        "SELECT ?x WHERE { ?x ?p ?o MINUS { ?c ?p ?o } }",
        "CONSTRUCT { ?c ?p ?o } WHERE { ?c ?p ?o }",
        "SELECT ?c WHERE { VALUES ?c { <http://x> } }",
    ):
        assert inline_bindings(unsafe, c) is None, unsafe
    assert inline_bindings("SELECT ?c WHERE { ?c ?p ?o }", {ox.Variable("c"): ox.BlankNode()}) is None


def test_inlined_page_queries_give_the_same_pages(mini_store):
    from kg.store import InliningStore
    from kg.web import data

    fast = InliningStore(mini_store)
    concepts = [
        r["c"].value.rsplit("/concept/", 1)[1]
        for r in mini_store.query("SELECT ?c WHERE { ?c a <http://www.w3.org/2004/02/skos/core#Concept> }")
    ]  # type: ignore[union-attr]
    papers = [
        r["id"].value for r in mini_store.query("SELECT ?id WHERE { ?p <http://purl.org/dc/terms/identifier> ?id }")
    ]  # type: ignore[union-attr]
    assert concepts and papers

    def tie_free(page: object) -> object:  # relations tied on papers and label come in any order
        if page is not None and hasattr(page, "relations"):
            page.relations = sorted(page.relations, key=lambda r: sorted(r.items()))
        return page

    for cid in [*concepts, "no-such-concept", 'a"b c<d']:
        assert repr(tie_free(data.concept_page(mini_store, cid))) == repr(tie_free(data.concept_page(fast, cid)))  # type: ignore[arg-type]
        assert data.neighbour_graph(mini_store, cid) == data.neighbour_graph(fast, cid)  # type: ignore[arg-type]
    for pid in [*papers, "nope"]:
        assert repr(data.paper_page(mini_store, pid)) == repr(data.paper_page(fast, pid))  # type: ignore[arg-type]
    for word in ["decoding", "spec", "human", 'x"y', "tr"]:
        assert data.search(mini_store, word, limit=50) == data.search(fast, word, limit=50)  # type: ignore[arg-type]


def test_pages_are_served_from_the_cache_after_the_first_time(mini_build):
    from kg.web.testing import running_server

    with running_server(mini_build / "store") as base:
        for path in ("/", "/api/overview", "/query", "/search?q=decoding", "/api/suggest?q=dec"):
            first = _get(base + path)
            again = _get(base + path)
            assert first[0] == again[0] == 200 and first[1] == again[1], path


def test_query_processes_die_with_the_server(mini_build):
    import os
    import signal

    import psutil

    from kg.web.testing import free_port, start_server

    port = free_port()
    proc = start_server(mini_build / "store", port, "--timeout", "30")
    try:

        def send_slow() -> None:
            with contextlib.suppress(OSError):  # the server is killed under it
                _get(f"http://127.0.0.1:{port}/sparql", SLOW.encode())

        threading.Thread(target=send_slow, daemon=True).start()  # one query process busy, the others idle
        time.sleep(1.5)
        workers = psutil.Process(proc.pid).children(recursive=True)
        assert len(workers) >= 4
        time.sleep(11)  # past the idle timeout of the thread pool's threads: workers must still be alive
        assert all(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown code runs
        proc.wait(10)
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []
