"""The SPARQL endpoint, served for real by uvicorn on a free local port."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest


@pytest.fixture(scope="module")
def server(mini_build):
    from kg.web.testing import running_server

    with running_server(mini_build / "store", "--timeout", "2", "--max-rows", "50") as base:
        yield base


def _get(url: str, accept: str | None = None, data: bytes | None = None, ctype: str | None = None):
    req = urllib.request.Request(url, data=data)
    if accept:
        req.add_header("Accept", accept)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


Q = "SELECT ?l WHERE { ?c a kg:Dataset ; skos:prefLabel ?l } ORDER BY ?l"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def test_serve_sparqlwrapper_client(server):
    from SPARQLWrapper import JSON, SPARQLWrapper

    sw = SPARQLWrapper(server + "/sparql")
    sw.setQuery(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX kg: <https://w3id.org/kg-lit/ontology#> " + Q
    )
    sw.setReturnFormat(JSON)
    res = sw.query().convert()
    labels = [b["l"]["value"] for b in res["results"]["bindings"]]  # type: ignore[index]
    assert "HumanEval" in labels and labels == sorted(labels)


def test_serve_rdflib_sparqlstore_client(server):
    from rdflib import Graph
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    g = Graph(store=SPARQLStore(server + "/sparql"))
    rows = list(
        g.query(
            'SELECT ?t WHERE { ?p <http://purl.org/dc/terms/identifier> "p1" ; <http://purl.org/dc/terms/title> ?t }'
        )
    )
    assert str(rows[0][0]).startswith("FastSpec")


@pytest.mark.parametrize(
    ("accept", "media", "check"),
    [
        (
            "application/sparql-results+json",
            "application/sparql-results+json",
            lambda b: json.loads(b)["head"]["vars"] == ["l"],
        ),
        ("application/sparql-results+xml", "application/sparql-results+xml", lambda b: '<variable name="l"/>' in b),
        ("text/csv", "text/csv", lambda b: b.splitlines()[0] == "l" and "HumanEval" in b),
        (
            "text/tab-separated-values",
            "text/tab-separated-values",
            lambda b: b.splitlines()[0] == "?l" and '"HumanEval"' in b,
        ),
    ],
)
def test_serve_content_negotiation_select(server, accept, media, check):
    status, ctype, body = _get(server + "/sparql?" + urllib.parse.urlencode({"query": Q}), accept)
    assert status == 200 and ctype.startswith(media) and check(body)


@pytest.mark.parametrize(
    ("accept", "media"), [("text/turtle", "text/turtle"), ("application/n-triples", "application/n-triples")]
)
def test_serve_construct_as_graph(server, accept, media):
    q = "CONSTRUCT { ?c skos:prefLabel ?l } WHERE { ?c a kg:Dataset ; skos:prefLabel ?l }"
    status, ctype, body = _get(
        server + "/sparql", accept, urllib.parse.urlencode({"query": q}).encode(), "application/x-www-form-urlencoded"
    )
    assert status == 200 and ctype.startswith(media)
    from rdflib import Graph

    g = Graph().parse(data=body, format="turtle" if "turtle" in media else "nt")
    assert len(g) >= 5


def test_serve_post_sparql_query_body(server):
    status, _, body = _get(
        server + "/sparql", "application/sparql-results+json", COUNT.encode(), "application/sparql-query"
    )
    assert status == 200 and int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) > 100


def test_serve_refuses_updates_and_leaves_the_store_alone(server):
    before = _get(server + "/sparql?" + urllib.parse.urlencode({"query": COUNT}))[2]
    drop = "DELETE WHERE { ?s ?p ?o }"
    for status, _, body in (
        _get(server + "/sparql?" + urllib.parse.urlencode({"update": drop})),
        _get(server + "/sparql?" + urllib.parse.urlencode({"query": drop})),
        _get(
            server + "/sparql",
            None,
            urllib.parse.urlencode({"update": drop}).encode(),
            "application/x-www-form-urlencoded",
        ),
        _get(server + "/sparql", None, drop.encode(), "application/sparql-update"),
    ):
        assert status == 403 and "read-only" in body
    assert _get(server + "/sparql?" + urllib.parse.urlencode({"query": COUNT}))[2] == before


def test_serve_time_limit_is_a_clear_error(server):
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    t0 = time.perf_counter()
    status, _, body = _get(server + "/sparql?" + urllib.parse.urlencode({"query": slow}))
    assert status == 503 and "time limit of 2 s" in body
    assert time.perf_counter() - t0 < 10


def test_serve_row_cap_is_a_clear_error(server):
    status, _, body = _get(server + "/sparql?" + urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o }"}))
    assert status == 413 and "more than 50 rows" in body


def test_serve_malformed_query_is_400_with_the_parser_message(server):
    status, _, body = _get(server + "/sparql?" + urllib.parse.urlencode({"query": "SELEC ?x WHERE {"}))
    assert status == 400 and body.startswith("malformed SPARQL query: error at 1:")


def test_serve_pages_answer(server):
    status, ctype, body = _get(server + "/")
    assert status == 200 and ctype.startswith("text/html") and "HumanEval" in body
    status, _, body = _get(server + "/query")
    assert status == 200 and "papers-mentioning" in body
    status, _, body = _get(server + "/concept/speculative-decoding")
    assert status == 200 and "FastSpec" in body
    status, _, body = _get(server + "/paper/p1")
    assert status == 200 and "FastSpec" in body
    status, _, body = _get(server + "/api/suggest?q=human")
    assert status == 200 and json.loads(body)[0]["label"] == "HumanEval"
    assert _get(server + "/concept/no-such-thing")[0] == 404
    assert _get(server + "/paper/nope")[0] == 404
