"""The Python API (kg.api, re-exported from kg): each contract name, against the mini build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import kg
from kg.errors import ConceptNotFound, KGError, QueryError, StoreError

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def g(mini_build):
    return kg.open(mini_build)


def test_contract_names_are_exported():
    for name in ("build", "open", "extract", "KnowledgeGraph"):
        assert hasattr(kg, name), name
    for name in ("query", "papers", "concepts", "neighbours", "similar", "topics", "networkx", "store", "write"):
        assert hasattr(kg.KnowledgeGraph, name), name
    import inspect
    import pydoc

    assert list(inspect.signature(kg.build).parameters)[:4] == ["inputs", "out", "model", "processes"]
    assert "texts_or_records" in inspect.signature(kg.extract).parameters
    assert "build(inputs" in pydoc.render_doc(kg.build, renderer=pydoc.plaintext)  # help() shows the function


@pytest.mark.parametrize("first", ["package", "module"])
def test_build_function_and_module_in_either_order(first):
    """`kg.build` is the API function however `kg.build` the module is imported, before or after."""
    imports = ["import kg", "from kg.build import build as module_build, BuildReport"]
    if first == "module":
        imports.reverse()
    code = "\n".join(
        [
            *imports,
            "import sys, types, kg.api, kg.extract.pipeline",
            "import kg.build as via_package",
            "assert not isinstance(kg.build, types.ModuleType) and callable(kg.build), kg.build",
            "assert kg.build.__wrapped__ is kg.api.build",
            "assert module_build is sys.modules['kg.build'].build and module_build is not kg.build",
            "assert via_package.BuildReport is BuildReport and kg.build.check_output_dir",
            "assert kg.extract.__wrapped__ is kg.api.extract and kg.extract.pipeline is sys.modules['kg.extract.pipeline']",
            "from kg.extract import build_pipeline",
            "assert callable(build_pipeline) and kg.extract.build_pipeline is build_pipeline",
        ]
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def test_importing_kg_is_cheap():
    code = "import sys, kg; heavy = {'spacy', 'pyoxigraph', 'networkx', 'rdflib', 'torch'} & set(sys.modules); assert not heavy, heavy"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def test_build_returns_an_open_graph(tmp_path):
    """kg.build after `from kg.build import build` (conftest's mini build) in this process."""
    from kg.build import build as module_build  # noqa: F401 (imported first on purpose)

    src = tmp_path / "two.jsonl"
    src.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "id": "a",
                    "title": "Speculative decoding for code",
                    "abstract": "We evaluate on HumanEval and report pass@1.",
                },
                {
                    "id": "b",
                    "title": "Faster speculative decoding",
                    "abstract": "Speculative decoding on HumanEval, measured by latency.",
                },
            ]
        )
        + "\n"
    )
    out = tmp_path / "out"
    built = kg.build([src], out, model="none")
    assert isinstance(built, kg.KnowledgeGraph) and built.folder == out
    assert built.report is not None and built.report.read.papers == 2
    assert {p.id for p in built.papers()} == {"a", "b"}
    assert built.query("SELECT (COUNT(*) AS ?n) WHERE { ?p a schema:ScholarlyArticle }") == [{"n": 2}]
    again = kg.build(src, out, model="none")  # one path; incremental: nothing extracted again
    assert again.report is not None and again.report.cached_papers == 2


def test_build_writes_to_outputs_by_default(tmp_path, monkeypatch):
    src = tmp_path / "one.jsonl"
    src.write_text(json.dumps({"id": "a", "title": "Speculative decoding", "abstract": "On HumanEval."}) + "\n")
    monkeypatch.chdir(tmp_path)  # never the repo's outputs/
    built = kg.build([str(src)], model="none")
    assert built.folder == Path("outputs") and (tmp_path / "outputs" / "store").is_dir()
    assert [p.id for p in kg.open("outputs").papers()] == ["a"]


def test_open_accepts_the_folder_or_its_store(mini_build, tmp_path):
    assert kg.open(mini_build).folder == mini_build
    assert kg.open(mini_build / "store").folder == mini_build
    with pytest.raises(StoreError, match="no SPARQL store"):
        kg.open(tmp_path)


def test_query_rows_are_plain_values(g):
    rows = g.query("""SELECT ?c ?label ?n ?proposed ?score WHERE {
        ?c a kg:Dataset ; skos:prefLabel ?label ; kg:paperCount ?n . BIND(true AS ?proposed) BIND(2.5 AS ?score)
    } ORDER BY ?label""")
    assert rows and set(rows[0]) == {"c", "label", "n", "proposed", "score"}
    for r in rows:
        assert type(r["c"]) is str and r["c"].startswith("https://")  # IRIs as str
        assert type(r["label"]) is str and type(r["n"]) is int
        assert r["proposed"] is True and type(r["score"]) is float
    assert g.query("SELECT ?x WHERE { OPTIONAL { ?s kg:noSuchThing ?x } } LIMIT 1") == [{"x": None}]
    assert g.query("ASK { ?p a schema:ScholarlyArticle }") == [{"boolean": True}]
    triples = g.query("CONSTRUCT { ?c skos:prefLabel ?l } WHERE { ?c a kg:Dataset ; skos:prefLabel ?l }")
    assert triples and set(triples[0]) == {"subject", "predicate", "object"}


def test_query_named_and_bound_parameters(g):
    rows = g.query(name="papers-mentioning", concept="Speculative Decoding")  # labels match in any case
    assert {r["paper"] for r in rows} >= {"p1"} and all(type(r["mentions"]) is int for r in rows)
    q = "SELECT ?concept ?paper WHERE { ?c skos:hiddenLabel ?concept . ?p kg:mentions ?c ; dcterms:identifier ?paper }"
    assert {r["paper"] for r in g.query(q, concept="speculative decoding")} == {r["paper"] for r in rows}
    assert [r["v"] for r in g.query("SELECT ?v WHERE {}", v=3)] == [3]
    assert [r["v"] for r in g.query("SELECT ?v WHERE {}", v=False)] == [False]


def test_bound_parameter_injection_stays_a_literal(g):
    evil = 'x" } ?c ?p ?o . FILTER(true) } #'
    q = "SELECT ?label ?c WHERE { ?c skos:prefLabel ?label }"
    assert g.query(q, label=evil) == []
    rows = g.query("SELECT ?label WHERE {}", label=evil)
    assert rows == [{"label": evil}]
    try:
        rows = g.query(name="papers-mentioning", concept=evil)
    except QueryError as e:  # a named query may say that no concept has that label
        assert "no concept is labelled" in str(e)
    else:
        assert rows == []


def test_query_refusals(g):
    with pytest.raises(QueryError, match="SERVICE"):
        g.query("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    with pytest.raises(QueryError, match="malformed"):
        g.query("SELECT WHERE")
    with pytest.raises(QueryError, match="not both"):
        g.query("ASK {}", name="top-concepts")
    with pytest.raises(QueryError, match="no named query"):
        g.query(name="nope")
    with pytest.raises(QueryError, match="cannot be bound"):
        g.query("SELECT ?v WHERE {}", v=[1])
    assert "top-concepts" in kg.named_queries()


def test_records_stream_from_the_build_files(g, mini_build):
    papers = g.papers()
    assert iter(papers) is papers  # a generator, not a list
    first = next(papers)
    from kg.records import Paper

    assert isinstance(first, Paper)
    assert first.id == "p1" and first.title.startswith("FastSpec")
    ids = [json.loads(line)["id"] for line in (mini_build / "papers.jsonl").open()]
    assert [p.id for p in g.papers()] == ids
    concepts = list(g.concepts())
    assert concepts and all(isinstance(c, kg.ConceptRecord) for c in concepts)
    assert [c.papers for c in concepts] == sorted((c.papers for c in concepts), reverse=True)
    datasets = list(g.concepts(type="dataset"))
    assert datasets and {c.type for c in datasets} == {"DATASET"}
    assert {c.label for c in datasets} >= {"HumanEval"}
    assert all(sum(c.aliases.values()) <= c.mentions for c in datasets)
    with pytest.raises(KGError, match="unknown concept type"):
        next(g.concepts(type="gadget"))
    ms = list(g.mentions("p1"))
    assert ms and {m.paper_id for m in ms} == {"p1"} and all(m.concept for m in ms)


def test_neighbours_similar_topics(g):
    nb = g.neighbours("speculative decoding", hops=2)
    assert nb.label == "speculative decoding" and nb.neighbours
    assert {n.hop for n in nb.neighbours} <= {1, 2}
    with pytest.raises(ConceptNotFound):
        g.neighbours("speculativ decodin")
    sim = g.similar("p1")
    assert sim and sim[0]["paper"] == "p2" and "speculative decoding" in sim[0]["shared"]
    assert g.similar("FastSpec: Speculative Decoding for Code Generation", limit=1) == sim[:1]
    topics = g.topics()
    assert topics and all(t["size"] == len(t["members"]) for t in topics)
    members = [m["id"] for t in topics for m in t["members"]]
    assert len(members) == len(set(members))  # disjoint
    assert all(m["type"] in ("METHOD", "TASK", "DATASET", "METRIC") for t in topics for m in t["members"])


def test_networkx_whole_graph_and_neighbourhood(g):
    whole = g.networkx()
    assert isinstance(whole, nx.MultiDiGraph)
    assert "paper:p1" in whole and "concept:speculative-decoding" in whole
    hood = g.networkx("speculative decoding", hops=2)
    assert isinstance(hood, nx.MultiDiGraph)
    assert hood.nodes["concept:speculative-decoding"]["hop"] == 0
    assert set(hood) < set(whole)  # the same node ids, fewer of them
    assert {d["hop"] for _, d in hood.nodes(data=True)} == {0, 1, 2}
    one = g.networkx("speculative decoding")
    assert {d["hop"] for _, d in one.nodes(data=True)} == {0, 1} and set(one) < set(hood)
    assert all(d["kind"] == "cooccurs" and d["papers"] >= 1 for _, _, d in hood.edges(data=True))
    assert nx.is_weakly_connected(hood)
    with pytest.raises(KGError, match="hops needs a concept"):
        g.networkx(hops=2)


def test_store_and_write(g, mini_build, tmp_path):
    import pyoxigraph as ox

    assert isinstance(g.store, ox.Store) and len(g.store) > 0
    files = g.write(tmp_path / "w", formats=("nt", "ttl", "xml", "graphml"))
    assert files["nt"].read_bytes() == (mini_build / "kg.nt").read_bytes()
    for fmt, rdf_format in (("ttl", ox.RdfFormat.TURTLE), ("xml", ox.RdfFormat.RDF_XML)):
        assert len(list(ox.parse(path=str(files[fmt]), format=rdf_format))) == len(g.store)
    assert nx.read_graphml(files["graphml"]).number_of_nodes() == g.networkx().number_of_nodes()
    with pytest.raises(KGError, match="unknown format"):
        g.write(tmp_path / "w", formats="png")


def test_extract_texts_records_and_papers():
    from kg.records import Paper

    text = "Speculative decoding for code\nWe evaluate on HumanEval and report pass@1."
    recs = kg.extract(
        [
            text,
            {
                "id": "r1",
                "title": "Speculative decoding for code",
                "abstract": "We evaluate on HumanEval and report pass@1.",
            },
            Paper("r2", "Speculative decoding for code", "We evaluate on HumanEval and report pass@1."),
        ],
        model="none",
    )
    assert [r["id"] for r in recs[1:]] == ["r1", "r2"]
    assert recs[0]["mentions"] == recs[1]["mentions"] == recs[2]["mentions"]
    labels = {(m["text"], m["label"]) for m in recs[0]["mentions"]}
    assert ("HumanEval", "DATASET") in labels
    for m in recs[0]["mentions"]:
        assert text[m["start"] : m["end"]] == m["text"]
    assert kg.extract(text, model="none") == recs[:1]
    with pytest.raises(KGError):
        kg.extract([{"abstract": "no title"}], model="none")


def test_extract_file_explain_and_evaluate_as_the_cli_does(g, mini_build, tmp_path):
    """The functions `kg extract`, `kg explain` and `kg eval` are shells over."""
    from kg.api import evaluate, extract_file

    src = Path(__file__).parent / "data" / "mini.jsonl"
    warnings: list[str] = []
    n, m = extract_file(src, tmp_path / "x.jsonl", "none", warnings=warnings)
    lines = [json.loads(line) for line in (tmp_path / "x.jsonl").open()]
    assert n == len(lines) == 6 and m == sum(len(r["mentions"]) for r in lines) > 0
    assert warnings == ["mini.jsonl:4: date '--06-05' not understood (write it as YYYY-MM-DD); left out"]
    pid = json.loads((mini_build / "papers.jsonl").open().readline())["id"]
    title, rows = g.explain(pid)
    assert title and rows and {"concept", "kept", "score", "evidence"} <= set(rows[0])
    assert [r["kept"] for r in rows] == sorted((r["kept"] for r in rows), reverse=True)  # kept first
    with pytest.raises(KGError, match="no paper"):
        g.explain("no such paper")
    gold = tmp_path / "gold.jsonl"
    text = "Speculative decoding for code\nWe evaluate on HumanEval and report pass@1."
    start = text.index("HumanEval")
    entity = {"start": start, "end": start + 9, "label": "DATASET"}
    gold.write_text(json.dumps({"id": "d1", "text": text, "entities": [entity]}) + "\n")
    scores = evaluate(gold, model="none")
    assert scores.documents == 1 and scores.per_label["DATASET"].r == 1.0


def test_api_docstring_examples_and_py_typed():
    import doctest

    import tomllib

    assert doctest.testmod(kg.api, optionflags=doctest.ELLIPSIS).failed == 0
    assert (Path(kg.__file__).parent / "py.typed").is_file()
    with (ROOT / "pyproject.toml").open("rb") as f:
        assert "py.typed" in tomllib.load(f)["tool"]["setuptools"]["package-data"]["kg"]
