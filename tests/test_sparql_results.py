"""kg.store.results is the one serialiser of query results (the endpoint and `kg query --format`):
a SELECT result comes out byte for byte as Oxigraph writes it."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.store import run_query
from kg.store.results import FORMATS, ask_results, select_results, serialize

_OX = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
QUERIES = [
    "SELECT ?c ?l ?n ?amb WHERE { ?c skos:prefLabel ?l ; kg:paperCount ?n . OPTIONAL { ?c kg:ambiguous ?amb } }"
    " ORDER BY ?l LIMIT 40",
    "SELECT ?p ?d ?t WHERE { ?p dcterms:title ?t . OPTIONAL { ?p dcterms:date ?d } } ORDER BY ?t",
    "SELECT ?i ?dec ?dbl ?b ?lang ?tab ?quote ?u WHERE { BIND(7 AS ?i) BIND(1.5 AS ?dec) BIND(2.5e0 AS ?dbl) "
    """BIND(false AS ?b) BIND("x"@en-GB AS ?lang) BIND("a\\tb" AS ?tab) BIND("say \\"hi\\", <b> & 'c'" AS ?quote) }""",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("query", QUERIES)
def test_select_results_are_oxigraphs_bytes(mini_store, query, fmt):
    expected = run_query(mini_store, query).serialize(format=_OX[fmt])
    res = run_query(mini_store, query)
    variables = [v.value for v in res.variables]
    assert select_results(variables, [[s[v] for v in variables] for s in res], fmt) == expected
    assert serialize(run_query(mini_store, query), fmt) == expected


def test_blank_nodes_in_csv_keep_their_prefix():
    assert select_results(["b"], [[ox.BlankNode("x1")]], "csv") == b"b\r\n_:x1\r\n"


def test_ask_and_graph_results(mini_store):
    assert serialize(run_query(mini_store, "ASK { ?s ?p ?o }"), "json") == b'{"head":{},"boolean":true}'
    assert ask_results(False, "csv") == b"_askResult\nfalse\n"
    nt = serialize(
        run_query(mini_store, "CONSTRUCT { ?p a schema:ScholarlyArticle } WHERE { ?p a schema:ScholarlyArticle }"),
        "json",
    )
    assert nt.count(b" .\n") >= 6


def test_unknown_format():
    with pytest.raises(ValueError):
        select_results(["a"], [], "yaml")
