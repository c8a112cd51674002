"""``kg serve``: a read-only SPARQL 1.1 Protocol endpoint over the built store (Starlette on uvicorn).

- ``/sparql``: GET (``?query=``) and POST (form ``query=`` or ``application/sparql-query``);
  results as SPARQL JSON, XML, CSV or TSV, graphs as Turtle or N-Triples, by ``Accept`` (or a
  ``format`` parameter); SPARQL Update is refused with 403, and so is ``SERVICE`` (federation):
  the server never connects anywhere on a query's behalf.
- Queries run in a small pool of worker processes (lower CPU priority than the pages, a memory
  limit each) with a time limit (killed past it: 503), a row cap and a result-size cap (past
  either: 413); a malformed query gets 400 with the parser's message. A query that has used
  ``slow_cpu`` seconds of CPU moves to a separate lane of ``max_slow`` slots at the lowest CPU
  priority (stopped with 503 when that lane is full), so long queries cannot starve short ones;
  requests waiting for a slot form a bounded queue (503 when full).
- Request bodies and GET query strings are capped (413/414, refused before the body is read
  past the cap), and the ``Host`` header must name the address the server is bound to
  (127.0.0.1, localhost, [::1]) or a name allowed with ``--allow-host`` (400 otherwise): a web
  page cannot reach the server through DNS rebinding.
- ``/`` and below: the web explorer (:mod:`kg.web`): search, concept and paper pages, an
  overview graph, a SPARQL page and the build's report; every script and style served by kg.
  The pages never wait for a SPARQL slot.
- With ``allow_corrections`` (``kg serve --allow-corrections``) concept pages carry a small form
  that POSTs to ``/corrections``, which appends to ``kg-corrections.toml`` beside the store (the
  next ``kg build`` of that folder applies it). A POST needs the server's random token and an
  ``Origin`` (or ``Referer``) naming the server itself, or it gets 403; without the flag
  ``/corrections`` is 403 and the explorer is read-only. The store itself is never written.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import re
import resource
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import anyio
import pyoxigraph as ox
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kg.errors import QueryError, StoreError
from kg.namespace import PREFIXES
from kg.store import InliningStore, open_store, refuse_remote
from kg.store.results import MEDIA_TYPES, ask_results, select_results

__all__ = ["ServerConfig", "QueryPool", "create_app", "execute", "serve", "serve_folder", "DEFAULT_PORT"]

DEFAULT_PORT = 8077
GRAPH_TYPES = {"turtle": "text/turtle; charset=utf-8", "ntriples": "application/n-triples"}
_ACCEPT = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
_ACCEPT_GRAPH = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "ntriples",
    "text/plain": "ntriples",
}
_UPDATE = re.compile(
    r"^\s*(?:(?:#[^\n]*\n|PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*"
    r"(?:INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b",
    re.IGNORECASE,
)
_TEXT = "text/plain; charset=utf-8"
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class ServerConfig:
    store: Path
    timeout: float = 10.0  # seconds per query
    max_rows: int = 10_000  # result rows (or triples) per query
    max_concurrent: int = 4  # short-lane slots: SPARQL queries started at once
    max_slow: int = 2  # long-lane slots: long queries move there
    slow_cpu: float = 0.5  # seconds of CPU after which a query is long (waiting for a busy CPU does not count)
    slow_after: float = 1.0  # seconds after which a running query gives its short slot to the next one
    max_queued: int = 64  # SPARQL requests waiting for a slot (past it: 503 at once)
    max_body: int = 1 << 20  # bytes of a request body (POST)
    max_query_string: int = 64 << 10  # bytes of a GET request's query string
    max_result_bytes: int = 16 << 20  # bytes of one SPARQL result
    worker_memory: int = 2 << 30  # address space of a query process (bytes; 0: no limit)
    worker_nice: int = 2  # CPU priority of the query processes below the pages' (long queries: 15)
    host: str = "127.0.0.1"  # the address served: Host must name it (or one of allow_hosts)
    port: int = DEFAULT_PORT
    allow_hosts: tuple[str, ...] = ()  # more Host names accepted; "*" turns the check off
    cache_bytes: int = 32 << 20  # rendered explorer pages kept (the store is read-only)
    allow_corrections: bool = False  # concept pages offer a form that appends to kg-corrections.toml


@dataclass(frozen=True)
class Outcome:
    status: int
    media_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _negotiate(request: Request) -> tuple[str, str]:
    """(results format, graph format) from ``format=`` or the Accept header."""
    fmt = request.query_params.get("format", "").lower()
    if fmt in MEDIA_TYPES:
        return fmt, "turtle"
    if fmt in GRAPH_TYPES:
        return "json", fmt
    results, graph = "json", "turtle"
    found_r = found_g = False
    for part in request.headers.get("accept", "").split(","):
        mt = part.split(";")[0].strip().lower()
        if not found_r and mt in _ACCEPT:
            results, found_r = _ACCEPT[mt], True
        if not found_g and mt in _ACCEPT_GRAPH:
            graph, found_g = _ACCEPT_GRAPH[mt], True
    return results, graph


def _too_many(cap: int, what: str) -> tuple[int, str, bytes]:
    return (
        413,
        _TEXT,
        f"the result has more than {cap} {what} (the server's cap); "
        "add a LIMIT or make the query more selective".encode(),
    )


def _too_big(cap: int) -> tuple[int, str, bytes]:
    return (
        413,
        _TEXT,
        f"the result is larger than {cap / (1 << 20):g} MiB (the server's cap on result size); "
        "select fewer or shorter values (a GROUP_CONCAT or long literal?), or add a LIMIT".encode(),
    )


def _term_size(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> int:
    if t is None:
        return 0
    if isinstance(t, ox.Triple):
        return len(str(t))
    return len(t.value) + 8


def _answer(
    st: ox.Store, query: str, results_fmt: str, graph_fmt: str, max_rows: int, max_bytes: int
) -> tuple[int, str, bytes]:
    """Run one query on ``st``: (status, media type, body), the row and size caps applied as it streams."""
    try:
        res = st.query(query, prefixes=PREFIXES)
        if isinstance(res, ox.QueryBoolean):
            return 200, MEDIA_TYPES[results_fmt], ask_results(bool(res), results_fmt)
        size = 0
        if isinstance(res, ox.QuerySolutions):
            variables = [v.value for v in res.variables]
            rows: list[list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None]] = []
            for sol in res:
                if len(rows) >= max_rows:
                    return _too_many(max_rows, "rows")
                row = [sol[v] for v in variables]
                size += sum(_term_size(t) for t in row)
                if size > max_bytes:
                    return _too_big(max_bytes)
                rows.append(row)
            body = select_results(variables, rows, results_fmt)
            media = MEDIA_TYPES[results_fmt]
        else:
            triples: list[ox.Triple] = []
            for tr in res:
                if len(triples) >= max_rows:
                    return _too_many(max_rows, "triples")
                size += _term_size(tr)
                if size > max_bytes:
                    return _too_big(max_bytes)
                triples.append(tr)
            rdf_fmt = ox.RdfFormat.TURTLE if graph_fmt == "turtle" else ox.RdfFormat.N_TRIPLES
            body = ox.serialize(triples, format=rdf_fmt) or b""
            media = GRAPH_TYPES[graph_fmt]
        if len(body) > max_bytes:  # escaping can make the text longer than its values
            return _too_big(max_bytes)
        return 200, media, body
    except SyntaxError as err:
        return 400, _TEXT, f"malformed SPARQL query: {err}".encode()
    except MemoryError:
        return 413, _TEXT, b"the query needed more memory than a query process may use; make it more selective"
    except Exception as err:  # noqa: BLE001  (reported to the client, the server goes on)
        return 500, _TEXT, f"query failed: {err}".encode()


def _address_space() -> int:
    """This process's virtual memory size in bytes (VmSize)."""
    with open("/proc/self/status", encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize in /proc/self/status")


def _die_with_parent() -> None:
    """Have the kernel kill this process when its parent (the server) dies, however it dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _worker_main(
    conn: Connection, store: str, max_rows: int, max_bytes: int, memory: int, nice: int, server_pid: int
) -> None:
    """A query process: open the store read-only, then answer (query, format, format) jobs until the pipe closes."""
    _die_with_parent()
    if os.getppid() != server_pid:  # the server died before the line above
        os._exit(1)
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)
    if memory:  # the address space may grow by `memory` past what the fork inherited from the server
        with contextlib.suppress(ValueError, OSError):
            limit = _address_space() + memory
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    st = open_store(store)
    while True:
        try:
            query, results_fmt, graph_fmt = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(_answer(st, query, results_fmt, graph_fmt, max_rows, max_bytes))


class _Worker:
    def __init__(self, proc: Any, conn: Connection, generation: int = 0) -> None:
        self.proc, self.conn, self.jobs, self.reniced = proc, conn, 0, False
        self.generation = generation  # the store it opened: the pool's generation when it was forked

    def renice(self, nice: int) -> None:
        """Lower the process's CPU priority (for good: an unprivileged process cannot raise it back)."""
        self.reniced = True
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, nice)

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.join(2)
        with contextlib.suppress(Exception):
            self.conn.close()


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (inf where it cannot be read: not Linux)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return float("inf")  # unknown: judged by wall time, as if it had used it all


def _query_key(query: str) -> str:
    return hashlib.blake2b(" ".join(query.split()).encode("utf-8", "replace"), digest_size=16).hexdigest()


class QueryPool:
    """SPARQL queries in worker processes, in two lanes so that long queries cannot starve short ones.

    - Short lane: ``max_concurrent`` slots and a queue of at most ``max_queued`` waiting requests
      (503 past it, or after waiting ``timeout``). Every new query starts here. One still running
      after ``slow_after`` seconds gives its slot to the next query (at most ``max_concurrent``
      such overdue queries at once), so that a machine too busy to tell long queries quickly does
      not hold the short ones back either.
    - Long lane: ``max_slow`` slots. A query that has used ``slow_cpu`` seconds of CPU (not of wall
      time: one that only waits for a busy machine is not long) moves there
      (its short slot is freed at once and its process drops to ``slow_nice`` CPU priority); when
      the long lane is full it is stopped (503, retry later). Its text is remembered for
      ``remember_slow`` seconds: sent again, it waits for a long slot (at most ``max_slow`` waiting,
      503 past that) and never takes a short one.

    A query past ``timeout`` is stopped (503); a stopped query's process is killed and replaced.
    """

    MAX_JOBS = 1000  # a worker is replaced after this many queries (bounds any slow growth)
    REMEMBER_SLOW = 600.0  # seconds a slow query's text is remembered
    SLOW_NICE = 15
    CHECK_EVERY = 0.2  # seconds between looks at a running query's CPU time

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        # forked from the server, so that the kernel can kill them with it (a forkserver's children
        # outlive a killed server); the child only opens its own store and answers on its pipe
        self._ctx = multiprocessing.get_context("fork")
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-query-spawner")
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._slow_running = 0
        self._overdue = 0  # queries past slow_after that gave their short slot back
        self._slow_waiting = 0
        self._known_slow: OrderedDict[str, float] = OrderedDict()
        self._slots: anyio.Semaphore | None = None
        self._threads: anyio.CapacityLimiter | None = None
        self._waiting = 0
        self._closed = False
        self.generation = 0  # bumped by reload(): workers of an older generation read an older store
        self.stopped_slow = 0  # queries stopped because the long lane was full

    def _spawn(self) -> _Worker:
        # forked from one long-lived thread: the kernel's parent-death signal follows the thread that
        # forked, and the thread pool's threads come and go
        return self._spawner.submit(self._fork).result()

    def _fork(self) -> _Worker:
        c = self.config
        generation = self.generation
        receiver, sender = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_worker_main,
            daemon=True,
            args=(sender, str(c.store), c.max_rows, c.max_result_bytes, c.worker_memory, c.worker_nice, os.getpid()),
        )
        proc.start()
        sender.close()
        w = _Worker(proc, receiver, generation)
        with self._lock:
            self._all.add(w)
        return w

    def start(self, n: int | None = None) -> None:
        """Start ``n`` workers now (default: one per short slot), so the first queries do not wait for them."""
        workers = [self._spawn() for _ in range(self.config.max_concurrent if n is None else n)]
        with self._lock:
            self._idle.extend(workers)

    def reload(self) -> None:
        """The store was rebuilt: idle workers (which hold the old one open) are killed now, running
        ones when their query ends; every query from now on runs in a worker that opens the new store."""
        with self._lock:
            self.generation += 1
            idle, self._idle = self._idle, []
        for w in idle:
            self._kill(w)

    def close(self) -> None:
        """Kill every worker, idle or running a query."""
        self._closed = True
        with self._lock:
            workers, self._idle = list(self._all), []
        for w in workers:
            self._kill(w)
        self._spawner.shutdown(wait=False)

    def _kill(self, w: _Worker) -> None:
        w.kill()
        with self._lock:
            self._all.discard(w)

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                w = self._idle.pop()
                if w.proc.is_alive() and w.generation == self.generation:
                    return w
                self._idle_kill(w)
        return self._spawn()

    def _idle_kill(self, w: _Worker) -> None:  # with the lock held
        w.kill()
        self._all.discard(w)

    def _give_back(self, w: _Worker) -> None:
        w.jobs += 1
        if self._closed or w.reniced or w.jobs >= self.MAX_JOBS or w.generation != self.generation:
            self._kill(w)
            return
        with self._lock:
            self._idle.append(w)

    def _try_slow_slot(self) -> bool:
        with self._lock:
            if self._slow_running >= max(1, self.config.max_slow):
                return False
            self._slow_running += 1
            return True

    def _release_slow_slot(self) -> None:
        with self._lock:
            self._slow_running -= 1

    def _remember_slow(self, key: str) -> None:
        with self._lock:
            self._known_slow[key] = time.monotonic() + self.REMEMBER_SLOW
            self._known_slow.move_to_end(key)
            while len(self._known_slow) > 10_000:
                self._known_slow.popitem(last=False)

    def is_known_slow(self, query: str) -> bool:
        key = _query_key(query)
        with self._lock:
            until = self._known_slow.get(key)
            if until is not None and until < time.monotonic():
                del self._known_slow[key]
                until = None
        return until is not None

    def run_blocking(
        self,
        query: str,
        results_fmt: str,
        graph_fmt: str,
        long_lane: bool = False,
        on_long: Callable[[], None] | None = None,
    ) -> Outcome:
        """Run one query in a worker and wait for it (the time limits applied); for a thread.

        ``long_lane``: the caller holds a long slot already. Otherwise, a query still running after
        ``slow_after`` seconds gives its short slot back (``on_long`` is called), if fewer than
        ``max_concurrent`` others are overdue; past ``slow_cpu`` seconds of CPU it takes a long
        slot (calling ``on_long`` if it has not yet) or is stopped.
        """
        c = self.config
        w = self._take()
        holds_long = overdue = False
        try:
            if long_lane:
                w.renice(self.SLOW_NICE)
            start, cpu0 = time.monotonic(), _cpu_seconds(w.proc.pid)
            w.conn.send((query, results_fmt, graph_fmt))
            while not w.conn.poll(min(self.CHECK_EVERY, max(0.0, start + c.timeout - time.monotonic()))):
                now = time.monotonic()
                if now >= start + c.timeout:
                    self._kill(w)
                    return _timed_out(c)
                if long_lane or holds_long:
                    continue
                # long: slow_cpu seconds of CPU used (a query that only waits for a busy CPU is not long)
                if _cpu_seconds(w.proc.pid) - cpu0 < c.slow_cpu:
                    if not overdue and now - start >= c.slow_after and self._count("_overdue", +1, c.max_concurrent):
                        overdue = True  # still running, without (yet) the CPU of a long query: its short
                        if on_long is not None:  # slot goes to the next query meanwhile
                            on_long()
                    continue
                self._remember_slow(_query_key(query))
                if not self._try_slow_slot():
                    self._kill(w)
                    self.stopped_slow += 1
                    return _long_lane_full(c, stopped=True)
                holds_long = True
                w.renice(self.SLOW_NICE)
                if on_long is not None:
                    on_long()
            status, media, body = w.conn.recv()
        except (EOFError, OSError):
            self._kill(w)
            return Outcome(
                500,
                _TEXT,
                b"the query process ended without an answer (past its memory limit?); make the query more selective",
            )
        finally:
            if holds_long:
                self._release_slow_slot()
            if overdue:
                self._count("_overdue", -1)
        self._give_back(w)
        return Outcome(status, media, body)

    def _count(self, name: str, step: int, cap: int = 0) -> bool:
        """Add ``step`` to the counter ``name`` (not past ``cap`` when adding); whether it was added."""
        with self._lock:
            value = getattr(self, name) + step
            if step > 0 and value > cap:
                return False
            setattr(self, name, value)
            return True

    async def run(self, query: str, results_fmt: str = "json", graph_fmt: str = "turtle") -> Outcome:
        """Queue for a slot (bounded), then run the query in a worker without blocking the event loop."""
        c = self.config
        if self._slots is None or self._threads is None:
            self._slots = anyio.Semaphore(c.max_concurrent)
            self._threads = anyio.CapacityLimiter(2 * c.max_concurrent + max(1, c.max_slow))
        if self.is_known_slow(query):
            return await self._run_long(query, results_fmt, graph_fmt)
        busy = Outcome(
            503,
            _TEXT,
            (
                f"the server is busy: {c.max_concurrent} queries are running and {c.max_queued} are waiting; "
                "retry in a few seconds"
            ).encode(),
            {"Retry-After": "2"},
        )
        if self._waiting >= c.max_queued:
            return busy
        self._waiting += 1
        try:
            with anyio.move_on_after(c.timeout) as waited:
                await self._slots.acquire()
            if waited.cancelled_caught:
                return busy
        finally:
            self._waiting -= 1
        slots = self._slots
        freed = threading.Event()

        def free_short_slot() -> None:  # from the worker thread, when the query moves to the long lane
            if not freed.is_set():
                freed.set()
                anyio.from_thread.run_sync(slots.release)

        try:
            return await anyio.to_thread.run_sync(
                self.run_blocking, query, results_fmt, graph_fmt, False, free_short_slot, limiter=self._threads
            )
        finally:
            if not freed.is_set():
                freed.set()
                slots.release()

    async def _run_long(self, query: str, results_fmt: str, graph_fmt: str) -> Outcome:
        """A query known to be slow: wait (bounded) for a long slot; never take a short one."""
        c = self.config
        if self._slow_waiting >= max(1, c.max_slow):
            return _long_lane_full(c, stopped=False)
        self._slow_waiting += 1
        try:
            deadline = time.monotonic() + c.timeout
            while not self._try_slow_slot():
                if time.monotonic() > deadline:
                    return _long_lane_full(c, stopped=False)
                await anyio.sleep(0.1)
        finally:
            self._slow_waiting -= 1
        try:
            return await anyio.to_thread.run_sync(
                self.run_blocking, query, results_fmt, graph_fmt, True, limiter=self._threads
            )
        finally:
            self._release_slow_slot()


def _long_lane_full(c: ServerConfig, stopped: bool) -> Outcome:
    what = f"the query was stopped after {c.slow_cpu:g} s of CPU" if stopped else "this query ran long before and"
    return Outcome(
        503,
        _TEXT,
        (
            f"{what}: {c.max_slow} long-running queries are already running (the slots kept for long queries "
            f"are full, so that short ones keep moving); retry later, or make it more selective"
        ).encode(),
        {"Retry-After": str(max(1, round(c.timeout)))},
    )


def _timed_out(c: ServerConfig) -> Outcome:
    return Outcome(
        503,
        _TEXT,
        f"the query ran past the server's time limit of {c.timeout:g} s and was stopped; "
        "make it more selective or add a LIMIT".encode(),
    )


def _refused(query: str) -> Outcome | None:
    """403 for SPARQL Update and for anything that would fetch from another server; None if the query may run."""
    if _UPDATE.match(query):
        return Outcome(
            403, _TEXT, b"this endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, ...) is refused"
        )
    try:
        refuse_remote(query)
    except QueryError as err:
        return Outcome(403, _TEXT, str(err).encode())
    return None


def execute(config: ServerConfig, query: str, results_fmt: str = "json", graph_fmt: str = "turtle") -> Outcome:
    """Run one query in a fresh worker process under the server's limits (blocking; for scripts and tests)."""
    refused = _refused(query)
    if refused is not None:
        return refused
    pool = QueryPool(config)
    try:
        return pool.run_blocking(query, results_fmt, graph_fmt)
    finally:
        pool.close()


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def allowed_host_names(config: ServerConfig) -> frozenset[str] | None:
    """Host names (lower case, IPv6 in brackets) the server answers to; None when any is allowed."""
    if "*" in config.allow_hosts:
        return None
    names = set(_LOOPBACK)
    bound = config.host.strip().lower()
    if bound and bound not in ("0.0.0.0", "::", "[::]"):
        names.add(f"[{bound}]" if ":" in bound and not bound.startswith("[") else bound)
    return frozenset(names)


def _split_host(value: str) -> tuple[str, str]:
    """(name, port) of a Host header value; port '' when absent."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value.partition("]")
        return name + "]", rest[1:] if rest.startswith(":") else rest
    name, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    return name, port


class Guard:
    """ASGI middleware run before any route: the Host check and the caps on request size.

    - ``Host`` must be one of :func:`allowed_host_names` with the bound port (or no port), or a name
      given with ``--allow-host`` (any port): 400 otherwise. This is what stops DNS rebinding, where
      a web page on an attacker's name that resolves to 127.0.0.1 sends requests to the server.
    - A GET query string longer than ``max_query_string``: 414. A body declared (Content-Length) or
      streamed past ``max_body``: 413, answered as soon as the cap is passed (the rest is not read).
      A body under the cap is read here and handed on, so no route reads more than the cap.
    """

    def __init__(self, app: ASGIApp, config: ServerConfig) -> None:
        self.app, self.config = app, config
        self.names = allowed_host_names(config)
        self.extra = frozenset(h.strip().lower().rstrip(".") for h in config.allow_hosts)

    def host_ok(self, value: str) -> bool:
        if self.names is None:
            return True
        name, port = _split_host(value)
        name = name.rstrip(".")
        if name in self.extra:
            return True
        return name in self.names and port in ("", str(self.config.port))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        host = headers.get(b"host")
        if host is not None and not self.host_ok(host.decode("latin-1")):
            shown = host.decode("latin-1")[:100].encode("unicode_escape").decode()
            await _reply(
                send,
                400,
                (
                    f"Host {shown!r} is not served here: this server answers to {', '.join(sorted(self.names or ()))} "
                    f"on port {self.config.port}; to allow another name start it with `kg serve --allow-host NAME`"
                ),
            )
            return
        c = self.config
        if len(scope.get("query_string", b"")) > c.max_query_string:
            await _reply(
                send,
                414,
                f"the URL's query string is longer than {c.max_query_string} bytes (the "
                "server's cap); POST the query instead (application/sparql-query or a form)",
            )
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        too_big = f"the request body is larger than {c.max_body} bytes (the server's cap); send a shorter query"
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > c.max_body):
            await _reply(send, 413, too_big)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > c.max_body:
                await _reply(send, 413, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _reply(send: Send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", _TEXT.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


MARKER = ".kg-build.json"  # kg.build.MARKER: written last by every build, beside the store


class BuildWatch:
    """Notices a new build of the served folder and reopens the store, so pages and ``/sparql`` agree
    with it without a restart.

    ``kg build`` replaces the store by renaming a new one in, and writes its marker (``.kg-build.json``
    beside the store) last. When the marker's mtime, size or inode has changed (looked at, at most every
    ``every`` seconds, when a request comes), the store is opened again (read-only), the pages switch to
    it, the page cache is cleared and the SPARQL pool's workers are replaced (idle ones at once, busy
    ones when their query ends). While a build is swapping files in (no marker) the open store is kept.
    """

    def __init__(
        self, store_dir: Path, page_store: InliningStore, pool: QueryPool, cache: Any, every: float = 0.5
    ) -> None:
        self.store_dir, self.page_store, self.pool, self.cache, self.every = store_dir, page_store, pool, cache, every
        self.marker = store_dir.parent / MARKER
        self.stamp = self._stamp()
        self.checked = time.monotonic()
        self.reloads = 0
        self._lock = threading.Lock()

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.marker)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def due(self) -> bool:
        return time.monotonic() - self.checked >= self.every

    def check(self) -> bool:
        """Reopen the store if a new build has finished since the last look; whether it did."""
        self.checked = time.monotonic()
        stamp = self._stamp()
        if stamp is None or stamp == self.stamp:
            return False
        with self._lock:
            if stamp == self.stamp:
                return False
            try:
                new = open_store(self.store_dir)
            except StoreError:
                return False  # not a whole store yet: looked at again at the next request
            self.page_store._store = new
            self.pool.reload()
            if self.cache is not None:
                self.cache.clear()
            self.stamp = stamp
            self.reloads += 1
        return True


def create_app(config: ServerConfig) -> Any:
    """The ASGI application: ``/sparql``, ``/health`` and the explorer under ``/``, behind :class:`Guard`.

    A :class:`BuildWatch` reopens the store when ``kg build`` rewrites it."""
    store_dir = Path(config.store)
    page_store = open_store(store_dir)  # fail now, not at the first query, if it is no store
    pool = QueryPool(config)

    async def sparql(request: Request) -> Response:
        query: str | None = None
        if request.method == "GET":
            if "update" in request.query_params:
                return _refuse_update()
            query = request.query_params.get("query")
        else:
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype == "application/sparql-update":
                return _refuse_update()
            if ctype == "application/sparql-query":
                query = (await request.body()).decode("utf-8", errors="replace")
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.form()
                if "update" in form:
                    return _refuse_update()
                value = form.get("query")
                query = value if isinstance(value, str) else None
            else:
                return PlainTextResponse(
                    "POST a query as application/sparql-query or as the form field 'query'", status_code=415
                )
        if not query:
            return PlainTextResponse("no query: pass ?query=... (GET) or a query body (POST)", status_code=400)
        results_fmt, graph_fmt = _negotiate(request)
        outcome = _refused(query) or await pool.run(query, results_fmt, graph_fmt)
        return Response(
            outcome.body,
            status_code=outcome.status,
            media_type=outcome.media_type,
            headers={"Cache-Control": "no-store", **outcome.headers},
        )

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "store": str(store_dir), "reloads": watch.reloads})

    from kg.web.app import PageCache, explorer_routes, warm_up

    cache = PageCache(config.cache_bytes) if config.cache_bytes > 0 else None
    inlining = InliningStore(page_store)
    watch = BuildWatch(store_dir, inlining, pool, cache)
    pages = explorer_routes(
        cast(ox.Store, inlining),
        store_dir,
        config.timeout,
        config.max_rows,
        cache_bytes=config.cache_bytes,
        allow_corrections=config.allow_corrections,
        page_cache=cache,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(pool.start)
        if config.cache_bytes:
            await warm_up(pages)
        try:
            yield
        finally:
            pool.close()

    app = Starlette(
        routes=[
            Route("/sparql", sparql, methods=["GET", "POST"]),
            Route("/health", health),
            *pages,
        ],
        lifespan=lifespan,
    )

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and watch.due():
            await anyio.to_thread.run_sync(watch.check)
        await app(scope, receive, send)

    return Guard(watched, config)


def _refuse_update() -> Response:
    return PlainTextResponse("this endpoint is read-only: SPARQL Update is refused", status_code=403)


def serve(config: ServerConfig, app: Any = None, **uvicorn_args: Any) -> None:
    """Run the server (``app``, default ``create_app(config)``) on ``config.host:config.port`` until interrupted."""
    import uvicorn

    uvicorn.run(
        app or create_app(config),
        host=config.host,
        port=config.port,
        log_level="warning",
        h11_max_incomplete_event_size=config.max_query_string + (64 << 10),
        timeout_graceful_shutdown=3,
        **uvicorn_args,
    )


def serve_folder(
    folder: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    timeout: float = 10.0,
    max_rows: int = 10_000,
    max_queries: int = 4,
    allow_hosts: Sequence[str] = (),
    allow_corrections: bool = False,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a build over HTTP until interrupted: the read-only SPARQL 1.1 endpoint at
    ``/sparql`` and the explorer at ``/`` (``kg serve``; re-exported as ``kg.serve``).

    ``folder``: a build's output folder, or its ``store/`` itself. ``timeout`` (seconds) and
    ``max_rows`` bound each query; ``max_queries`` queries run at once (long ones in half as many
    slots of their own); requests must name ``host`` (or one of ``allow_hosts``).
    ``allow_corrections`` gives concept pages a form that appends to ``kg-corrections.toml``
    beside the store. ``ready(url)`` is called once the store is open and the server is about to
    listen (a wrong folder fails before it, with a one-line error).
    """
    path = Path(folder)
    store = path / "store" if (path / "store").is_dir() else path
    config = ServerConfig(
        store,
        timeout,
        max_rows,
        max_concurrent=max_queries,
        max_slow=max(1, max_queries // 2),
        host=host,
        port=DEFAULT_PORT if port is None else port,
        allow_hosts=tuple(allow_hosts),
        allow_corrections=allow_corrections,
    )
    app = create_app(config)
    if ready is not None:
        shown = f"[{host}]" if ":" in host else "127.0.0.1" if host in ("0.0.0.0", "::") else host
        ready(f"http://{shown}:{config.port}")
    serve(config, app)
