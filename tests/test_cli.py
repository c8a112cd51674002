from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.cli import app

runner = CliRunner()


def kg(*args: str):
    return runner.invoke(app, list(args))


def _error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_every_command_is_documented():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for cmd in ("build", "query", "neighbors", "extract", "eval", "similar", "topics", "serve"):
        assert f"kg {cmd}" in readme
        assert kg(cmd, "--help").exit_code == 0


def test_cli_build_writes_every_output_and_a_summary(tmp_path, data_dir):
    out = tmp_path / "out"
    r = kg("build", str(data_dir / "mini.jsonl"), "-o", str(out))
    assert r.exit_code == 0, r.output
    for name in (
        "kg.ttl",
        "kg.nt",
        "kg.jsonld",
        "papers.jsonl",
        "mentions.jsonl",
        "concepts.csv",
        "graph.graphml",
        "graph.html",
        "store",
        "search.sqlite",
        ".kg-build.json",
    ):
        assert (out / name).exists(), name
    for word in ("papers read", "duplicates merged", "mentions", "concepts", "edges", "files written", "seconds"):
        assert word in r.stdout
    rows = list(csv.DictReader(io.StringIO((out / "concepts.csv").read_text())))
    assert {"id", "label", "type", "papers", "aliases"} <= set(rows[0])
    page = (out / "graph.html").read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)  # nothing fetched from the network
    assert "kg-overview-data" in page and "kgOverview" in page  # the overview map, data and script inlined
    # a second build over a kg directory is fine and reuses the extraction cache
    r2 = kg("build", str(data_dir / "mini.jsonl"), "-o", str(out))
    assert r2.exit_code == 0 and "from cache" in r2.stdout


def test_cli_build_refuses_a_foreign_directory(tmp_path, data_dir):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    r = kg("build", str(data_dir / "mini.jsonl"), "-o", str(out))
    assert r.exit_code == 1
    assert "not a kg output directory" in _error_line(r) and "--force" in _error_line(r)
    assert (out / "thesis.tex").read_text() == "precious"
    r = kg("build", str(data_dir / "mini.jsonl"), "-o", str(out), "--force")
    assert r.exit_code == 0 and not (out / "thesis.tex").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nope.txt", None, "file not found"),
        ("empty.jsonl", b"", "empty file"),
        ("bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
        ("paper.docx", b"PK\x03\x04", "unknown format"),
    ],
)
def test_cli_extract_bad_input_gives_one_line_and_exit_1(tmp_path, name, content, message):
    f = tmp_path / name
    if content is not None:
        f.write_bytes(content)
    r = kg("extract", str(f), "-o", str(tmp_path / "o.jsonl"), "-q")
    assert r.exit_code == 1
    line = _error_line(r)
    assert message in line and str(f) in line
    assert not (tmp_path / "o.jsonl").exists()


def test_cli_build_with_only_bad_input_fails_cleanly(tmp_path):
    f = tmp_path / "empty.txt"
    f.write_text("")
    r = kg("build", str(f), "-o", str(tmp_path / "out"), "-q")
    assert r.exit_code == 1
    assert "no papers could be read" in _error_line(r)


def test_cli_extract_broken_jsonl_line_is_skipped_and_rest_processed(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_text(
        '{"id": "a", "title": "FastSpec", "abstract": "We evaluate on HumanEval and report latency."}\n'
        "not json\n"
        '{"id": "b", "text": "Nothing to see here."}\n'
        '{"id": "c", "text": "We use LoRA for fine-tuning on GSM8K."}\n'
    )
    out = tmp_path / "o.jsonl"
    r = kg("extract", str(f), "-o", str(out), "-q")
    assert r.exit_code == 0, r.output
    assert f"{f}:2: invalid JSON" in r.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["a", "b", "c"]
    assert lines[1]["mentions"] == []
    a = lines[0]
    text = "FastSpec\nWe evaluate on HumanEval and report latency."
    for m in a["mentions"]:
        assert set(m) == {"start", "end", "text", "label", "concept", "concept_label", "confidence", "role"}
        assert text[m["start"] : m["end"]] == m["text"]
        assert m["label"] in {"METHOD", "TASK", "DATASET", "METRIC"} and m["role"] in {"proposed", "used"}
    assert {m["text"]: m["label"] for m in a["mentions"]}["HumanEval"] == "DATASET"
    c = lines[2]["mentions"]
    assert "We use LoRA for fine-tuning on GSM8K."[c[0]["start"] : c[0]["end"]] == c[0]["text"]


def test_cli_query_formats(mini_build):
    store = str(mini_build / "store")
    q = "SELECT ?l WHERE { ?c a kg:Dataset ; skos:prefLabel ?l } ORDER BY ?l"
    r = kg("query", q, "--store", store, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["head"]["vars"] == ["l"]
    assert "HumanEval" in [b["l"]["value"] for b in data["results"]["bindings"]]
    r = kg("query", q, "--store", store, "--format", "csv")
    assert r.stdout.splitlines()[0] == "l" and "HumanEval" in r.stdout
    r = kg("query", q, "--store", store, "--format", "tsv")
    assert r.stdout.splitlines()[0] == "?l"
    r = kg("query", q, "--store", store)
    assert "HumanEval" in r.stdout


def test_cli_query_from_file_and_named(mini_build, tmp_path):
    store = str(mini_build / "store")
    f = tmp_path / "q.rq"
    f.write_text('ASK { ?p dcterms:identifier "p1" }')
    r = kg("query", f"@{f}", "--store", store)
    assert r.exit_code == 0 and r.stdout.strip() == "true"
    r = kg("query", "--name", "papers-mentioning", "--param", "concept=HumanEval", "--store", store, "-f", "csv")
    assert r.exit_code == 0
    assert {row["paper"] for row in csv.DictReader(io.StringIO(r.stdout))} == {"p1", "p2"}
    r = kg("query", "--list")
    assert r.exit_code == 0 and "methods-for-task" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["SELEC nonsense"], "malformed SPARQL"),
        (["--name", "nope"], "no named query 'nope'"),
        (["--name", "papers-mentioning"], "missing parameter 'concept'"),
        (["--name", "papers-mentioning", "--param", "concept"], "bad --param"),
        (["@/does/not/exist.rq"], "query file not found"),
    ],
)
def test_cli_query_errors(mini_build, args, message):
    r = kg("query", *args, "--store", str(mini_build / "store"))
    assert r.exit_code == 1
    assert message in _error_line(r)


def test_cli_query_missing_store(tmp_path):
    r = kg("query", "ASK {}", "--store", str(tmp_path / "none"))
    assert r.exit_code == 1 and "run `kg build` first" in _error_line(r)


def test_cli_neighbors_and_html(mini_build, tmp_path):
    html_file = tmp_path / "n.html"
    r = kg(
        "neighbors",
        "speculative decoding",
        "--hops",
        "2",
        "--store",
        str(mini_build / "store"),
        "--html",
        str(html_file),
    )
    assert r.exit_code == 0, r.output
    assert "HumanEval" in r.stdout
    page = html_file.read_text()
    assert "vis.DataSet" in page and "Neighbourhood of" in page
    r = kg("neighbors", "speculative decoding", "--store", str(mini_build / "store"), "--json")
    data = json.loads(r.stdout)
    assert data["neighbours"][0]["hop"] == 1
    counts = [len(n["papers"]) for n in data["neighbours"]]
    assert counts == sorted(counts, reverse=True)


def test_cli_neighbors_unknown_name_suggests(mini_build):
    r = kg("neighbors", "speculativ decodin", "--store", str(mini_build / "store"))
    assert r.exit_code == 1
    line = _error_line(r)
    assert "no concept matches 'speculativ decodin'" in line and "speculative decoding" in line.lower()


def test_cli_console_script_runs_from_a_subprocess(tmp_path):
    exe = shutil.which("kg", path=str(Path(sys.executable).parent))
    assert exe, "the kg console script is installed beside the interpreter"
    r = subprocess.run([exe, "query", "ASK {}", "--store", str(tmp_path / "x")], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip().startswith("error:") and len(r.stderr.strip().splitlines()) == 1


def test_cli_similar_lists_related_papers_with_shared_concepts(mini_build):
    page = mini_build.parent / "similar.html"
    r = kg("similar", "p1", "--store", str(mini_build / "store"), "--json", "--html", str(page))
    assert r.exit_code == 0, r.output
    html_text = page.read_text()
    assert "DraftLite" in html_text and "shared: " in html_text
    data = json.loads(r.stdout)
    assert data["similar"][0]["paper"] == "p2"
    assert "HumanEval" in data["similar"][0]["shared"]
    scores = [s["score"] for s in data["similar"]]
    assert scores == sorted(scores, reverse=True)
    r = kg("similar", "FastSpec", "--store", str(mini_build / "store"))
    assert r.exit_code == 1 and "Did you mean" in _error_line(r) and "FastSpec: Speculative" in _error_line(r)


def test_cli_topics(mini_build):
    r = kg("topics", "--store", str(mini_build / "store"), "--json")
    assert r.exit_code == 0, r.output
    topics = json.loads(r.stdout)
    # a community linked to no other topic stays a small topic of its own (two concepts or more)
    assert topics and all(t["size"] >= 2 and t["size"] == len(t["members"]) for t in topics)
    # the vision papers (p4, p5: ImageNet, image classification) form a topic named by what they share
    vision = [t for t in topics if {"ImageNet", "image classification"} <= {m["label"] for m in t["members"]}]
    assert vision and set(vision[0]["label"].split(", ")) & {"ImageNet", "image classification"}
