"""The explorer stays true (issue 18, point 5): a rebuild is served without a restart, named-query
parameters say which values are valid, updates are refused in one line, suggestions take the arrow
keys, SPARQL result labels link to their pages, `kg serve` prints its URL, files follow the umask,
and counts read "1 paper"."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.errors import QueryError
from kg.store import collect, get_named_query, run_named, run_query

CHROMIUM = Path("/usr/bin/chromium")
PAPERS = "SELECT (COUNT(?p) AS ?n) WHERE { ?p a schema:ScholarlyArticle }"


def _http(url: str, data: bytes | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=data)
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    req.add_header("Accept", "application/sparql-results+json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _count(base: str) -> int:
    status, body = _http(f"{base}/sparql", urllib.parse.urlencode({"query": PAPERS}).encode())
    assert status == 200, body
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def _cli(*args: str):
    from kg.cli import app

    return CliRunner().invoke(app, list(args))


# --------------------------------------------------------------------------- reload after a rebuild


def test_a_rebuild_is_served_without_a_restart(mini_build, tmp_path, data_dir):
    from kg.build import build
    from kg.web.testing import running_server

    out = tmp_path / "out"
    shutil.copytree(mini_build, out)
    corpus = tmp_path / "more.jsonl"
    corpus.write_text(
        (data_dir / "mini.jsonl").read_text()
        + json.dumps(
            {
                "id": "p7",
                "title": "QuuxNet: Speculative Decoding on HumanEval",
                "abstract": "We propose QuuxNet, a speculative decoding method. On HumanEval it halves latency.",
                "date": "2025-02-03",
            }
        )
        + "\n"
    )
    with running_server(out / "store") as base:
        n0 = _count(base)
        assert _http(f"{base}/paper/p7")[0] == 404  # and cached: the cache must be dropped too
        home0 = _http(f"{base}/")[1]
        assert f"Concepts of {n0} papers" in home0
        build([corpus], out)
        deadline = time.monotonic() + 20
        while _count(base) == n0 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _count(base) == n0 + 1  # /sparql: its query processes read the new store
        status, page = _http(f"{base}/paper/p7")
        assert status == 200 and "QuuxNet" in page  # the pages too, past their cache
        assert f"Concepts of {n0 + 1} papers" in _http(f"{base}/")[1]
        assert json.loads(_http(f"{base}/health")[1])["reloads"] == 1
        for _ in range(3):  # and stay on it: no reload without a new build
            assert _count(base) == n0 + 1
        assert json.loads(_http(f"{base}/health")[1])["reloads"] == 1


def test_the_page_cache_drops_pages_rendered_from_the_old_store():
    from starlette.responses import Response

    from kg.web.app import PageCache

    cache = PageCache(1 << 20)
    cache.put("/a", Response(b"old"))
    generation = cache.generation
    cache.clear()
    assert cache.get("/a") is None
    cache.put("/b", Response(b"rendered before the clear"), generation)
    assert cache.get("/b") is None
    cache.put("/b", Response(b"new"), cache.generation)
    hit = cache.get("/b")
    assert hit is not None and hit.body == b"new"


# --------------------------------------------------------------------------- parameters and updates


def test_an_unknown_choice_says_which_values_are_valid(mini_store):
    nq = get_named_query("top-concepts")
    with pytest.raises(QueryError) as err:
        run_named(mini_store, nq, {"type": "Datasets"})
    assert "use one of: Method, Task, Dataset, Metric" in str(err.value) and "'Datasets'" in str(err.value)
    assert collect(run_named(mini_store, nq, {"type": "dataset"})).rows  # any case of a valid value


def test_an_unknown_label_names_close_ones(mini_build, mini_store):
    from kg.store import label_problems

    nq = get_named_query("papers-mentioning")
    assert collect(run_named(mini_store, nq, {"concept": "HumanEvl"})).rows == []  # no error: no rows
    (problem,) = label_problems(mini_store, nq, {"concept": "HumanEvl"})
    assert "no concept is labelled 'HumanEvl'" in problem and "'HumanEval'" in problem
    assert label_problems(mini_store, nq, {"concept": "HUMANEVAL"}) == []
    assert collect(run_named(mini_store, nq, {"concept": "HUMANEVAL"})).rows
    r = _cli("query", "--name", "papers-mentioning", "-p", "concept=HumanEvl", "--store", str(mini_build / "store"))
    assert r.exit_code == 0 and "0 rows" in r.stderr and "close: 'HumanEval'" in r.stderr, r.stderr


def test_kg_query_parameter_errors_are_one_line(mini_build):
    store = str(mini_build / "store")
    r = _cli("query", "--name", "top-concepts", "-p", "type=Datasets", "--store", store)
    assert r.exit_code != 0
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Method, Task, Dataset, Metric" in lines[0], r.stderr
    r = _cli("query", "--name", "top-concepts", "-p", "type=Dataset", "--store", store, "-f", "csv")
    assert r.exit_code == 0 and "HumanEval" in r.stdout


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "PREFIX ex: <urn:x#>\nDELETE WHERE { ?s ?p ?o }",
        "# a comment\nCLEAR ALL",
        "drop graph <urn:g>",
    ],
)
def test_kg_query_refuses_updates_in_one_line(mini_build, mini_store, update):
    with pytest.raises(QueryError, match="updates are not allowed"):
        run_query(mini_store, update)
    r = _cli("query", update, "--store", str(mini_build / "store"))
    assert r.exit_code != 0
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "updates are not allowed" in lines[0], r.stderr
    # a query that only names the words is no update
    assert collect(run_query(mini_store, 'SELECT ("INSERT" AS ?x) ?delete WHERE {}')).rows


def test_sparql_page_examples_bind_labels_as_index_constants(mini_store):
    """A label parameter is a lower-case constant in VALUES (skos:hiddenLabel holds labels in lower
    case), never computed in the query (BIND(LCASE(...)) makes the store join every concept first)."""
    from kg.web.app import example_queries

    ex = {q["name"]: q["text"] for q in example_queries()}
    text = ex["papers-mentioning"]
    assert 'VALUES ?concept { "speculative decoding" }  # a label or alias, in lower case' in text
    assert collect(run_query(mini_store, text)).rows
    for name, text in ex.items():  # every example still runs, and none computes its parameter
        assert "LCASE(STR(?" not in text.split("WHERE {", 1)[1].split("\n", 3)[1], name
        collect(run_query(mini_store, text))


# --------------------------------------------------------------------------- kg serve, files, wording


def test_kg_serve_prints_the_explorers_url(mini_build):
    from kg.web.testing import free_port

    port = free_port()
    exe = Path(sys.executable).parent / "kg"
    proc = subprocess.Popen(
        [str(exe), "serve", "--store", str(mini_build / "store"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    try:
        line = proc.stderr.readline() if proc.stderr else ""
        assert f"explorer at http://127.0.0.1:{port}/ " in line and f"http://127.0.0.1:{port}/sparql" in line, line
    finally:
        proc.terminate()
        proc.wait(10)


_WRITE = """
import os, sys
from pathlib import Path
from kg.io import atomic_write_text, atomic_write_lines
os.umask(int(sys.argv[1], 8))  # after kg is imported: read when the file is written
d = Path(sys.argv[2])
atomic_write_text(d / "a.txt", "x")
atomic_write_lines(d / "b.jsonl", [{"a": 1}])
print(oct(os.stat(d / "a.txt").st_mode & 0o777), oct(os.stat(d / "b.jsonl").st_mode & 0o777))
"""


@pytest.mark.parametrize("umask, mode", [("022", "0o644"), ("002", "0o664"), ("077", "0o600")])
def test_output_files_follow_the_umask(tmp_path, umask, mode):
    r = subprocess.run([sys.executable, "-c", _WRITE, umask, str(tmp_path)], capture_output=True, text=True, check=True)
    assert r.stdout.split() == [mode, mode]


def test_a_replaced_file_keeps_its_mode(tmp_path):
    from kg.io import atomic_write_text

    p = tmp_path / "x.txt"
    p.write_text("old")
    p.chmod(0o640)
    atomic_write_text(p, "new")
    assert p.read_text() == "new" and p.stat().st_mode & 0o777 == 0o640


def test_built_outputs_are_readable_by_others(mini_build):
    old = os.umask(0o022)
    os.umask(old)
    if old & 0o004:
        pytest.skip("this session's umask hides files from others")
    for name in ("kg.nt", "papers.jsonl", "concepts.csv", "graph.html", ".kg-build.json"):
        assert (mini_build / name).stat().st_mode & 0o044 == 0o044, name


def test_no_template_or_page_says_1_papers(mini_build):
    from starlette.testclient import TestClient

    from kg.web.serve import ServerConfig, create_app

    root = Path(__file__).parent.parent / "kg" / "web" / "templates"
    for t in root.glob("*.html"):
        assert not re.search(r"\}\}\s+(papers|concepts|mentions)\b", t.read_text()), t.name
    app = create_app(ServerConfig(mini_build / "store"))
    with TestClient(app, base_url="http://127.0.0.1:8077") as c:
        urls = ["/", "/rising?min_papers=1", "/matrix", "/search?q=de"]
        urls += [f"/concept/{x}" for x in ("speculative-decoding", "humaneval", "flops", "code-generation")]
        urls += [f"/matrix?task={x}" for x in ("code-generation",)]
        seen_one = False
        for u in urls:
            body = c.get(u).text
            assert not re.search(r"\b1 (papers|concepts|mentions|shared papers)\b", body), u
            seen_one = seen_one or bool(re.search(r"\b1 paper\b", body))
        assert seen_one
        graph = c.get("/api/concept/humaneval/graph").json()
        assert not any(re.search(r"\b1 shared papers\b", e["title"]) for e in graph["edges"])


# --------------------------------------------------------------------------- in the browser


@pytest.fixture(scope="module")
def server(mini_build):
    from kg.web.testing import running_server

    with running_server(mini_build / "store") as base:
        yield base


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_browser_arrow_keys_pick_a_suggestion_and_sparql_labels_link(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{server}/")
            page.fill("#search", "de")
            page.wait_for_function("document.querySelectorAll('#suggestions li').length >= 2")
            labels = page.eval_on_selector_all("#suggestions li a", "els => els.map(e => e.getAttribute('href'))")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowDown")
            assert (
                page.inner_text("#suggestions li.active")
                and page.get_attribute("#search", "aria-activedescendant") == "suggestion-1"
            )
            page.keyboard.press("ArrowUp")
            assert page.get_attribute("#search", "aria-activedescendant") == "suggestion-0"
            assert page.evaluate("document.activeElement.id") == "search"  # typing goes on in the box
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert urllib.parse.urlsplit(page.url).path == labels[0]

            page.goto(f"{server}/query")
            page.fill("#sparql", "SELECT ?c ?label WHERE { ?c a kg:Dataset ; skos:prefLabel ?label } ORDER BY ?label")
            page.click("#run")
            page.wait_for_selector("#results table")
            hrefs = page.eval_on_selector_all(
                "#results td a", "els => els.map(e => [e.textContent, e.getAttribute('href')])"
            )
            assert ["HumanEval", "/concept/humaneval"] in hrefs
            page.fill("#sparql", "SELECT ?label WHERE { ?c a kg:Dataset ; skos:prefLabel ?label } ORDER BY ?label")
            page.click("#run")
            page.wait_for_selector("#results td a[href^='/search?q=']")
            page.click("#results td a:text('HumanEval')")
            page.wait_for_url(re.compile(r"/concept/humaneval$"))  # search opens the single match
        finally:
            browser.close()
