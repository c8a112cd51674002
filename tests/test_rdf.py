from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.namespace import KG

ROOT = Path(__file__).parent.parent


def test_rdf_parses_in_rdflib_and_oxigraph(mini_build):
    g = Graph().parse(mini_build / "kg.ttl", format="turtle")
    nt = (mini_build / "kg.nt").read_text(encoding="utf-8")
    assert len(g) == len(nt.splitlines())
    store = ox.Store()
    store.load(path=str(mini_build / "kg.ttl"), format=ox.RdfFormat.TURTLE)
    assert len(store) == len(g)
    jsonld = Graph().parse(mini_build / "kg.jsonld", format="json-ld")
    assert len(jsonld) == len(g)


@pytest.mark.parametrize("fmt", ["turtle", "nt", "json-ld", "xml"])
def test_rdf_roundtrip_is_isomorphic(mini_build, fmt):
    g = Graph().parse(mini_build / "kg.nt", format="nt")
    again = Graph().parse(data=g.serialize(format=fmt), format=fmt)
    assert isomorphic(g, again)


def test_rdf_store_holds_the_same_triples(mini_build, mini_store):
    n = len((mini_build / "kg.nt").read_text(encoding="utf-8").splitlines())
    assert len(mini_store) == n


def test_rdf_conforms_to_shacl_shapes(mini_build):
    from pyshacl import validate

    data = Graph().parse(mini_build / "kg.ttl", format="turtle")
    shapes = Graph().parse(ROOT / "ontology" / "shapes.ttl", format="turtle")
    ont = Graph().parse(ROOT / "ontology" / "kg.ttl", format="turtle")
    conforms, _, text = validate(data, shacl_graph=shapes, ont_graph=ont, inference="rdfs")
    assert conforms, text


def test_rdf_shapes_catch_a_broken_mention(mini_build):
    from pyshacl import validate
    from rdflib import URIRef

    data = Graph().parse(mini_build / "kg.ttl", format="turtle")
    m = next(data.subjects(predicate=KG.denotes))
    data.remove((m, KG.startOffset, None))
    shapes = Graph().parse(ROOT / "ontology" / "shapes.ttl", format="turtle")
    conforms, _, _ = validate(data, shacl_graph=shapes, inference="none")
    assert not conforms
    assert isinstance(m, URIRef)


def test_rdf_every_mention_has_evidence(mini_store):
    q = """SELECT (COUNT(?m) AS ?n) WHERE { ?m a kg:Mention .
      FILTER NOT EXISTS { ?m kg:inPaper ?p ; kg:inSentence ?s ; kg:startOffset ?a ; kg:endOffset ?b ;
                          prov:wasAttributedTo ?x . ?s schema:text ?t } }"""
    from kg.namespace import PREFIXES

    (row,) = list(mini_store.query(q, prefixes=PREFIXES))
    assert row["n"].value == "0"


def test_rdf_namespace_matches_ontology():
    ont = Graph().parse(ROOT / "ontology" / "kg.ttl", format="turtle")
    ns = str(KG._NS)
    declared = {str(s)[len(ns) :] for s in ont.subjects() if str(s).startswith(ns)}
    assert declared == set(KG.__annotations__)
    with pytest.raises(AttributeError):
        KG.noSuchTerm  # noqa: B018  (closed namespace: a typo raises)


def test_rdf_build_is_deterministic(tmp_path, data_dir):
    from kg.build import build

    a, b = tmp_path / "a", tmp_path / "b"
    build([data_dir / "mini.jsonl"], a)
    build([data_dir / "mini.jsonl"], b)
    assert (a / "kg.nt").read_bytes() == (b / "kg.nt").read_bytes()
    assert (a / "concepts.csv").read_bytes() == (b / "concepts.csv").read_bytes()
