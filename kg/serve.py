"""``kg serve``: a read-only SPARQL 1.1 Protocol endpoint over the built store (Starlette on uvicorn).

- ``/sparql``: GET (``?query=``) and POST (form ``query=`` or ``application/sparql-query``);
  results as SPARQL JSON, XML, CSV or TSV, graphs as Turtle or N-Triples, by ``Accept`` (or a
  ``format`` parameter); SPARQL Update is refused with 403.
- Every query runs in a child process with a time limit (killed past it: 503 with a message)
  and a row cap (past it: 413 with a message); a malformed query gets 400 with the parser's
  message. The store is opened read-only.
- ``/`` and below: the web explorer (:mod:`kg.web`): search, concept and paper pages, an
  overview graph, a SPARQL page and the build's report; every script and style served by kg.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pyoxigraph as ox
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kg.errors import StoreError
from kg.namespace import PREFIXES
from kg.sparql_results import MEDIA_TYPES, ask_results, select_results

__all__ = ["ServerConfig", "create_app", "execute", "running_server", "free_port", "DEFAULT_PORT"]

DEFAULT_PORT = 8077
GRAPH_TYPES = {"turtle": "text/turtle; charset=utf-8", "ntriples": "application/n-triples"}
_ACCEPT = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
_ACCEPT_GRAPH = {"text/turtle": "turtle", "application/x-turtle": "turtle", "application/n-triples": "ntriples",
                 "text/plain": "ntriples"}
_UPDATE = re.compile(
    r"^\s*(?:(?:#[^\n]*\n|PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*"
    r"(?:INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b",
    re.IGNORECASE,
)
_FORK = multiprocessing.get_context("fork")
T = TypeVar("T")


@dataclass(frozen=True)
class ServerConfig:
    store: Path
    timeout: float = 10.0  # seconds per query
    max_rows: int = 10_000  # result rows (or triples) per query
    max_concurrent: int = 4


@dataclass(frozen=True)
class Outcome:
    status: int
    media_type: str
    body: bytes


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


def _capped(items: Iterator[T], cap: int) -> list[T] | None:
    """The items as a list, or ``None`` when there are more than ``cap``."""
    out = list(itertools.islice(items, cap + 1))
    return None if len(out) > cap else out


def _too_many(cap: int, what: str) -> tuple[int, str, bytes]:
    return (413, "text/plain; charset=utf-8",
            f"the result has more than {cap} {what} (the server's cap); "
            "add a LIMIT or make the query more selective".encode())


def _child(conn: Connection, store: str, query: str, results_fmt: str, graph_fmt: str, max_rows: int) -> None:
    try:
        st = ox.Store.read_only(store)
        res = st.query(query, prefixes=PREFIXES)
        if isinstance(res, ox.QueryBoolean):
            conn.send((200, MEDIA_TYPES[results_fmt], ask_results(bool(res), results_fmt)))
        elif isinstance(res, ox.QuerySolutions):
            variables = [v.value for v in res.variables]
            rows = _capped(([sol[v] for v in variables] for sol in res), max_rows)
            if rows is None:
                conn.send(_too_many(max_rows, "rows"))
                return
            conn.send((200, MEDIA_TYPES[results_fmt], select_results(variables, rows, results_fmt)))
        else:
            triples = _capped(iter(res), max_rows)
            if triples is None:
                conn.send(_too_many(max_rows, "triples"))
                return
            rdf_fmt = ox.RdfFormat.TURTLE if graph_fmt == "turtle" else ox.RdfFormat.N_TRIPLES
            body = ox.serialize(triples, format=rdf_fmt) or b""
            conn.send((200, GRAPH_TYPES[graph_fmt], body))
    except SyntaxError as err:
        conn.send((400, "text/plain; charset=utf-8", f"malformed SPARQL query: {err}".encode()))
    except Exception as err:  # noqa: BLE001  (reported to the client, the server goes on)
        conn.send((500, "text/plain; charset=utf-8", f"query failed: {err}".encode()))
    finally:
        conn.close()


def execute(config: ServerConfig, query: str, results_fmt: str = "json", graph_fmt: str = "turtle") -> Outcome:
    """Run one query in a child process under the time limit and row cap (blocking)."""
    if _UPDATE.match(query):
        return Outcome(403, "text/plain; charset=utf-8",
                       b"this endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, ...) is refused")
    receiver, sender = _FORK.Pipe(duplex=False)
    proc = _FORK.Process(target=_child, args=(sender, str(config.store), query, results_fmt, graph_fmt,
                                              config.max_rows), daemon=True)
    proc.start()
    sender.close()
    try:
        if receiver.poll(config.timeout):
            status, media, body = receiver.recv()
            return Outcome(status, media, body)
        if proc.is_alive():
            return Outcome(503, "text/plain; charset=utf-8",
                           f"the query ran past the server's time limit of {config.timeout:g} s and was stopped; "
                           "make it more selective or add a LIMIT".encode())
        return Outcome(500, "text/plain; charset=utf-8", b"the query process ended without an answer")
    except EOFError:
        return Outcome(500, "text/plain; charset=utf-8", b"the query process ended without an answer")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(1)
        receiver.close()


def create_app(config: ServerConfig) -> Starlette:
    """The ASGI application: ``/sparql`` and ``/``."""
    store_dir = Path(config.store)
    if not (store_dir.is_dir()):
        raise StoreError(f"{store_dir}: no SPARQL store there; run `kg build` first or pass --store DIR")
    try:
        page_store = ox.Store.read_only(str(store_dir))  # fail now, not at the first query, if it is no store
    except OSError as err:
        raise StoreError(f"{store_dir}: not a readable Oxigraph store ({err}); rebuild it with `kg build --force`") from err
    limiter = anyio.Semaphore(config.max_concurrent)

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
                    "POST a query as application/sparql-query or as the form field 'query'", status_code=415)
        if not query:
            return PlainTextResponse("no query: pass ?query=... (GET) or a query body (POST)", status_code=400)
        results_fmt, graph_fmt = _negotiate(request)
        async with limiter:
            outcome = await anyio.to_thread.run_sync(execute, config, query, results_fmt, graph_fmt)
        return Response(outcome.body, status_code=outcome.status, media_type=outcome.media_type,
                        headers={"Cache-Control": "no-store"})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "store": str(store_dir)})

    from kg.web.app import explorer_routes

    return Starlette(routes=[
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/health", health),
        *explorer_routes(page_store, store_dir, config.timeout, config.max_rows),
    ])


def _refuse_update() -> Response:
    return PlainTextResponse(
        "this endpoint is read-only: SPARQL Update is refused", status_code=403)


def serve(config: ServerConfig, host: str = "127.0.0.1", port: int = DEFAULT_PORT, **uvicorn_args: Any) -> None:
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", **uvicorn_args)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(store: Path | str, *args: str, start_timeout: float = 30.0) -> Iterator[str]:
    """Run ``kg serve --store STORE ARGS`` in a child process on a free local port; yield its base URL.

    For notebooks, tests and benchmarks: the real server, stopped on leaving the block.
    """
    port = free_port()
    exe = shutil.which("kg", path=str(Path(sys.executable).parent)) or "kg"
    proc = subprocess.Popen([exe, "serve", "--store", str(store), "--port", str(port), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"kg serve did not start: {err.strip()}") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
