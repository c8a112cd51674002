"""The server and `kg query` under hostile requests: no outbound connection (SERVICE), capped request
bodies and results, Host checked (DNS rebinding). A real `kg serve` (uvicorn) on 127.0.0.1 and a real
local TCP listener that must see no connection."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


class Listener:
    """A TCP server on 127.0.0.1 that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(1)
            try:
                self.connections.append(conn.recv(512))
            except OSError:
                self.connections.append(b"")
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def server(mini_build) -> Iterator[str]:
    from kg.web.testing import running_server

    with running_server(mini_build / "store", "--timeout", "5") as base:
        yield base


def _req(
    url: str, data: bytes | None = None, ctype: str | None = None, host: str | None = None, accept: str | None = None
) -> tuple[int, str]:
    req = urllib.request.Request(url, data=data)
    if ctype:
        req.add_header("Content-Type", ctype)
    if host:
        req.add_header("Host", host)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _service_queries(port: int) -> list[str]:
    url = f"http://127.0.0.1:{port}/sparql"
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",
        f"PREFIX x: <http://e/> # a comment\nSELECT * WHERE {{ ?a ?b ?c .Service<{url}>{{ ?s ?p ?o }} }} LIMIT 1",
        f"SELECT * WHERE {{ OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    ]


def test_service_is_refused_by_the_endpoint_and_nothing_is_contacted(server, listener):
    for q in _service_queries(listener.port):
        for status, body in (
            _req(server + "/sparql?" + urllib.parse.urlencode({"query": q})),
            _req(
                server + "/sparql", urllib.parse.urlencode({"query": q}).encode(), "application/x-www-form-urlencoded"
            ),
            _req(server + "/sparql", q.encode(), "application/sparql-query"),
        ):
            assert status == 403, body
            assert body.startswith("SERVICE (federated query) is refused") and "\n" not in body
    time.sleep(0.5)
    assert listener.connections == []


def test_service_is_refused_by_kg_query_and_nothing_is_contacted(mini_build, listener):
    from kg.errors import QueryError
    from kg.store import open_store, run_query

    st = open_store(mini_build / "store")
    for q in _service_queries(listener.port):
        with pytest.raises(QueryError, match="SERVICE"):
            run_query(st, q)
    kg = str(Path(sys.executable).parent / "kg")
    r = subprocess.run(
        [kg, "query", "--store", str(mini_build / "store"), _service_queries(listener.port)[0]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "SERVICE (federated query) is refused" in lines[0]
    time.sleep(0.5)
    assert listener.connections == []


def test_from_and_from_named_read_only_the_local_store(server, listener):
    iri = f"http://127.0.0.1:{listener.port}/data.ttl"
    for q in (
        f"SELECT * FROM <{iri}> WHERE {{ ?s ?p ?o }} LIMIT 1",
        f"SELECT * FROM NAMED <{iri}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} LIMIT 1",
        f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}",
        f"DESCRIBE <{iri}>",
    ):
        status, body = _req(server + "/sparql?" + urllib.parse.urlencode({"query": q}))
        assert status == 200, body
    status, body = _req(server + "/sparql", f"LOAD <{iri}>".encode(), "application/sparql-query")
    assert status == 403
    time.sleep(0.5)
    assert listener.connections == []


def test_the_word_service_elsewhere_is_not_refused(server):
    q = (
        'PREFIX ex: <http://example.org/> SELECT ?service ("SERVICE <http://x>" AS ?s) WHERE {\n'
        "  # SERVICE <http://x> in a comment\n"
        "  OPTIONAL { ?service ex:SERVICE <http://example.org/SERVICE> } } LIMIT 1"
    )
    status, body = _req(server + "/sparql?" + urllib.parse.urlencode({"query": q}))
    assert status == 200, body


def _raw(port: int, head: bytes, body_chunks: Iterator[bytes] | None = None, wait: float = 10) -> tuple[bytes, int]:
    """Send a raw request (body chunk by chunk, stopping once the server answers); (response, body bytes sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(head)
        sent = 0
        s.setblocking(False)
        answer = b""
        for chunk in body_chunks or iter(()):
            with contextlib.suppress(BlockingIOError):
                answer += s.recv(65536)
            if answer:
                break
            try:
                s.setblocking(True)
                s.sendall(chunk)
                sent += len(chunk)
                s.setblocking(False)
            except OSError:  # the server closed the connection after answering
                break
        s.setblocking(True)
        s.settimeout(wait)
        try:  # the refusals close the connection: read to the end
            while more := s.recv(65536):
                answer += more
        except OSError:
            pass
        return answer, sent


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def test_declared_oversized_body_is_refused_before_it_is_sent(server):
    head = (
        f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1:{_port(server)}\r\nContent-Type: application/sparql-query\r\n"
        f"Content-Length: {200 << 20}\r\n\r\n"
    ).encode()
    t0 = time.perf_counter()
    answer, _ = _raw(_port(server), head)  # nothing of the 200 MB body is sent
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"larger than 1048576 bytes" in answer
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize("ctype", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_streamed_oversized_body_is_cut_off_at_the_cap(server, ctype):
    head = (
        f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1:{_port(server)}\r\nContent-Type: {ctype}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b"x" * 65536

    def chunks() -> Iterator[bytes]:
        first = b"query=" if "form" in ctype else b"SELECT "
        yield f"{len(first):x}\r\n".encode() + first + b"\r\n"
        for _ in range(200 * 16):  # 200 MB if nothing stopped it
            yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"

    answer, sent = _raw(_port(server), head, chunks())
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 16 << 20  # stopped long before 200 MB


def test_long_get_query_string_is_refused_with_414(server):
    q = "SELECT * WHERE { ?s ?p ?o } #" + "x" * (70 << 10)
    status, body = _req(server + "/sparql?" + urllib.parse.urlencode({"query": q}))
    assert status == 414 and "POST the query" in body


def test_huge_result_row_is_refused_not_returned(server):
    # one GROUP_CONCAT row of every sentence with each character replaced by 20,000 (tens of MB)
    x = "x" * 20_000
    q = f'SELECT (GROUP_CONCAT(?big) AS ?all) WHERE {{ ?s schema:text ?t . BIND(REPLACE(?t, ".", "{x}") AS ?big) }}'
    status, body = _req(server + "/sparql", q.encode(), "application/sparql-query")
    assert status == 413, body[:300]
    assert "larger than 16 MiB" in body and len(body) < 1000
    # the size of the answer is checked again after it is written (escaping grows it): same cap
    status, body = _req(
        server + "/sparql",
        b"SELECT (STRLEN(GROUP_CONCAT(?t)) AS ?n) WHERE { ?s schema:text ?t }",
        "application/sparql-query",
    )
    assert status == 200


def test_host_header_is_checked_against_the_bound_address(server):
    port = _port(server)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost", f"LOCALHOST.:{port}"):
        assert _req(server + "/health", host=host)[0] == 200, host
    for path in ("/health", "/", "/sparql?query=ASK%7B%7D"):
        for host in (f"evil.example:{port}", "evil.example", f"localhost:{port + 1}", f"127.0.0.1.evil.example:{port}"):
            status, body = _req(server + path, host=host)
            assert status == 400, (path, host)
            assert "--allow-host" in body


def test_allow_host_option(mini_build):
    from kg.web.testing import running_server

    with running_server(
        mini_build / "store", "--allow-host", "kg.example.org", "--allow-host", "other.example"
    ) as base:
        for host in ("kg.example.org", "kg.example.org:443", "other.example", f"localhost:{_port(base)}"):
            assert _req(base + "/health", host=host)[0] == 200, host
        assert _req(base + "/health", host="evil.example")[0] == 400
    with running_server(mini_build / "store", "--allow-host", "*") as base:
        assert _req(base + "/health", host="anything.example")[0] == 200


def test_host_check_unit():
    from kg.web.serve import Guard, ServerConfig

    g = Guard(lambda *a: None, ServerConfig(Path("."), host="0.0.0.0", port=9000, allow_hosts=("Kg.Example.org",)))  # type: ignore[arg-type,return-value]
    assert g.host_ok("127.0.0.1:9000") and g.host_ok("kg.example.org:80") and g.host_ok("[::1]:9000")
    assert not g.host_ok("0.0.0.0:9000") and not g.host_ok("10.0.0.5:9000") and not g.host_ok("127.0.0.1:9001")
    g = Guard(lambda *a: None, ServerConfig(Path("."), host="192.168.1.4", port=9000))  # type: ignore[arg-type,return-value]
    assert g.host_ok("192.168.1.4:9000") and not g.host_ok("192.168.1.5:9000")
