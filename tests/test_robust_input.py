"""Bad input, faults of the output path, hostile text: each finding of issue 20 (points 2 and 6), for real.

Builds run the rules-only extractor (``model=None``) over tiny corpora written here.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import xml.dom.minidom
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef

from kg.corpus import read_corpus, read_file
from kg.errors import InputError, OutputError

ROOT = Path(__file__).parent.parent
KG = [sys.executable, "-c", "import sys; from kg.cli import main; sys.argv[0] = 'kg'; main()"]

HOSTILE_IDS = ["a b", 'x"<y>', "q-1", "q", "1-x", "p/../%41#frag?x=1", "é 中文", "tab\there"]


def _abstract(i: int) -> str:
    return (
        f"We propose Method{i}Net, a speculative decoding method. On the HumanEval benchmark it improves "
        f"pass@1 accuracy and latency. We use LoRA and BERT for code generation."
    )


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory) -> Path:
    """A build whose ids and titles hold spaces, quotes, angle brackets, slashes, control characters."""
    from kg.build import build

    d = tmp_path_factory.mktemp("hostile")
    f = d / "c.jsonl"
    recs = [
        {"id": pid, "title": f"Title {i} \x1b[31mred\x07 <b>&amp;", "abstract": _abstract(i)}
        for i, pid in enumerate(HOSTILE_IDS)
    ]
    f.write_text("\n".join(json.dumps(r) for r in recs) + "\n", encoding="utf-8")
    out = d / "out"
    build([f], out, model=None)
    return out


# ---------------------------------------------------------------------------- IRIs


def test_hostile_ids_build_and_every_iri_is_valid(hostile_build):
    nt = (hostile_build / "kg.nt").read_text(encoding="utf-8")
    g = Graph().parse(data=nt, format="nt")  # rdflib checks every IRI
    store = ox.Store()
    store.load(nt.encode(), format=ox.RdfFormat.N_TRIPLES)  # so does Oxigraph
    assert len(store) == len(g) > 0
    iris = {str(t) for triple in g for t in triple if isinstance(t, URIRef)}
    bad = [i for i in iris if any(c in i for c in ' "<>{}|\\^`') or any(ord(c) < 0x21 for c in i)]
    assert bad == []
    ids = {str(o) for o in g.objects(None, URIRef("http://purl.org/dc/terms/identifier"))}
    assert ids == set(HOSTILE_IDS)


def test_mint_is_injective_across_compound_ids():
    from kg.export.rdf import mint, paper_iri

    assert mint("similarity", "x-y", "z") != mint("similarity", "x", "y-z")
    assert mint("mention", "q-1", 0) != mint("mention", "q", "1-0")
    assert str(paper_iri("2401.12345")).endswith("/paper/2401.12345")  # readable ids stay readable
    assert str(mint("concept", "large-language-model")).endswith("/concept/large-language-model")


def test_graphml_is_valid_xml_with_control_characters(hostile_build):
    text = (hostile_build / "graph.graphml").read_text(encoding="utf-8")
    xml.dom.minidom.parseString(text.encode("utf-8"))
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[31mred\\x07" in text  # escaped visibly, not lost


def test_explorer_pages_answer_hostile_ids_without_500(hostile_build):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from kg.web import data
    from kg.web.app import explorer_routes

    store = ox.Store.read_only(str(hostile_build / "store"))
    assert data.concept_page(store, "a b") is None
    assert data.neighbour_graph(store, 'x"<y>')["nodes"] == []
    page = data.paper_page(store, 'x"<y>')
    assert page is not None and page.title.startswith("Title 1")
    client = TestClient(Starlette(routes=explorer_routes(store, hostile_build / "store", 5.0, 100)))
    for url in [
        "/concept/a%20b",
        "/concept/%22%3C%3E",
        "/api/concept/a%20b/graph",
        "/api/concept/%3C/graph",
        "/paper/a%20b",
        "/paper/x%22%3Cy%3E",
        "/paper/%C3%A9%20%E4%B8%AD%E6%96%87",
        "/concept/%00",
    ]:
        r = client.get(url)
        assert r.status_code in (200, 404), (url, r.status_code)
    assert client.get("/paper/a%20b").status_code == 200
    r = client.get("/search?q=title 6", follow_redirects=False)  # one hit: a redirect to the paper
    assert r.status_code == 303 and r.headers["location"] == "/paper/%C3%A9%20%E4%B8%AD%E6%96%87"
    assert client.get(r.headers["location"]).status_code == 200
    listing = client.get("/search?q=title").text
    assert 'href="/paper/p/../%2541%23frag%3Fx%3D1"' in listing or 'href="/paper/p/../%2541%23frag%3Fx=1"' in listing
    cid = data.top_concepts(store)["DATASET"][0]["id"]
    assert client.get(f"/concept/{cid}").status_code == 200


# ---------------------------------------------------------------------------- long texts


def test_long_text_is_extracted_in_pieces_with_right_offsets():
    from kg.extract.pipeline import MAX_PIECE_CHARS, build_pipeline, extract, split_long_text
    from kg.records import Paper

    paras = [f"Paragraph {i}. " + _abstract(i) for i in range(300)]
    abstract = "\n\n".join(paras)
    assert len(abstract) > 2 * MAX_PIECE_CHARS
    short = Paper("short", "A Short Paper", _abstract(7))
    long = Paper("long", "Method0Net: Speculative Decoding", abstract)
    exs = list(extract([short, long, short], build_pipeline(None)))
    assert [e.paper_id for e in exs] == ["short", "long", "short"]
    text = long.text
    ms = exs[1].mentions
    assert all(text[m.start : m.end] == m.text for m in ms)
    assert all(m.sentence_start <= m.start < m.end <= m.sentence_end for m in ms)
    # one sentence index, one span; indices grow with the text
    spans: dict[int, tuple[int, int]] = {}
    for m in ms:
        assert spans.setdefault(m.sentence, (m.sentence_start, m.sentence_end)) == (m.sentence_start, m.sentence_end)
    order = sorted(spans.items())
    assert [s for _, s in order] == sorted(s for _, s in order)
    # mentions are found all the way to the end, in every piece
    last = len(paras) - 1
    tail = text.index(f"Paragraph {last}.")
    assert any(m.start > tail and m.text == f"Method{last}Net" for m in ms)
    for a, b in split_long_text(text):
        assert any(a <= m.start < b for m in ms)
    assert exs[0].mentions and [(m.start, m.text) for m in exs[0].mentions] == [
        (m.start, m.text) for m in exs[2].mentions
    ]


@pytest.mark.parametrize("text", ["x" * 50_001, ("word " * 9_000), ("A sentence here. " * 4_000), "a\n" * 30_000])
def test_split_long_text_covers_the_text_within_the_bound(text):
    from kg.extract.pipeline import split_long_text

    pieces = split_long_text(text, 10_000)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(b - a <= 10_000 and a < b for a, b in pieces)
    assert all(pieces[i][1] == pieces[i + 1][0] for i in range(len(pieces) - 1))


# ---------------------------------------------------------------------------- readers


def test_one_invalid_utf8_line_is_skipped_with_its_line(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_bytes(
        b'{"id": "a", "title": "T1", "abstract": "A1"}\n'
        b'{"id": "b", "title": "caf\xe9", "abstract": "A2"}\n'
        b'{"id": "c", "title": "T3", "abstract": "A3"}\n'
    )
    w: list[str] = []
    assert [p.id for p in read_file(f, warnings=w)] == ["a", "c"]
    assert w == [f"{f}:2: not UTF-8 (byte 26 of the line); line skipped"]


def test_invalid_utf8_in_csv_and_txt_skips_only_that_record(tmp_path, data_dir):
    f = tmp_path / "c.csv"
    f.write_bytes(b'id,title,abstract\n1,T1,A1\n2,"caf\xe9\nmore",A2\n3,T3,A3\n')
    w: list[str] = []
    assert [p.id for p in read_file(f, warnings=w)] == ["1", "3"]
    assert w == [f"{f}:3: not UTF-8 (byte 7 of the line); record skipped"]
    good = read_file(data_dir / "dailypapers_compact.txt")
    raw = (data_dir / "dailypapers_compact.txt").read_bytes().split(b"\n")
    k = next(i for i, line in enumerate(raw) if good[1].abstract[:30].encode() in line)
    raw[k] = raw[k][:20] + b"\xff" + raw[k][20:]
    t = tmp_path / "listing.txt"
    t.write_bytes(b"\n".join(raw))
    w = []
    got = read_file(t, warnings=w)
    assert [p.id for p in got] == [p.id for p in good if p.id != good[1].id]
    assert w == [f"{t}:{k + 1}: not UTF-8 (byte 21 of the line); paper at line {k} skipped"]


def test_a_stray_nul_is_not_binary_but_a_binary_file_is(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_bytes(b'{"id": "a", "title": "T\x001", "abstract": "A1"}\n{"id": "b", "title": "T2", "abstract": "A2"}\n')
    w: list[str] = []
    assert [(p.id, p.title) for p in read_file(f, warnings=w)] == [("a", "T1"), ("b", "T2")]
    assert w == [f"{f}:1: NUL characters removed"]
    png = tmp_path / "fig.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match="binary file"):
        read_file(png)
    utf16 = tmp_path / "u.jsonl"
    utf16.write_bytes('{"id": "a", "title": "T"}\n'.encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        read_file(utf16)


def test_unterminated_csv_quote_is_reported_and_the_next_row_kept(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text(
        'id,title,abstract\n1,"Broken title,abs one\n2,Title two,abs two\n3,"Quoted, fine","multi\nline"\n',
        encoding="utf-8",
    )
    w: list[str] = []
    papers = read_file(f, warnings=w)
    assert [(p.id, p.title) for p in papers] == [("2", "Title two"), ("3", "Quoted, fine")]
    assert papers[1].abstract == "multi line"
    assert len(w) == 1 and w[0].startswith(f"{f}:2: malformed CSV record (a stray or unclosed quote")
    f.write_text('id,title,abstract\n1,T1,A1\n2,"Broken title,abs two\n3,Title three,abs three\n', encoding="utf-8")
    w = []
    assert [p.id for p in read_file(f, warnings=w)] == ["1", "3"]
    assert w == [f"{f}:3: malformed CSV record (unterminated quote); record skipped, check its quotes"]


def test_csv_stray_quote_closing_later_does_not_swallow_rows(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text('id,title,abstract\n1,"Broken,abs\n2,x,y"\n3,T3,A3\n', encoding="utf-8")
    w: list[str] = []
    assert [p.id for p in read_file(f, warnings=w)] == ["2", "3"]
    assert len(w) == 1 and w[0].startswith(f"{f}:2: malformed CSV record")


def test_one_id_with_different_titles_is_kept_apart_and_reported(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"id": "42", "title": "Paper One", "abstract": "About one."}) + "\n", encoding="utf-8")
    b.write_text(json.dumps({"id": "42", "title": "Paper Two", "abstract": "About two."}) + "\n", encoding="utf-8")
    papers, report = read_corpus([a, b])
    assert sorted((p.title, p.abstract) for p in papers) == [("Paper One", "About one."), ("Paper Two", "About two.")]
    assert all(p.id.startswith("42~") for p in papers) and len({p.id for p in papers}) == 2
    assert report.duplicates == 0
    assert any("id '42' is given to 2 papers with different titles" in w for w in report.warnings)
    again, _ = read_corpus([b, a])
    assert [p.to_dict() for p in again] == [p.to_dict() for p in papers]  # order-independent


def test_identical_duplicates_still_merge_and_never_a_chimera(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    rec = {"id": "7", "title": "Same Paper", "abstract": "Same text."}
    a.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    b.write_text(
        json.dumps(rec)
        + "\n"
        + json.dumps({**rec, "title": "SAME PAPER!", "abstract": "Revised text, longer."})
        + "\n",
        encoding="utf-8",
    )
    papers, report = read_corpus([a, b])
    (p,) = papers
    assert (p.id, p.title, p.abstract) == ("7", "SAME PAPER!", "Revised text, longer.")  # one record's title and text
    assert report.duplicates == 2
    assert any("different abstract" in w for w in report.warnings)


def test_bad_dates_and_lone_surrogates_do_not_reach_the_rdf(tmp_path):
    from kg.build import build

    f = tmp_path / "c.jsonl"
    f.write_text(
        '{"id": "s", "title": "Lone \\ud800 surrogate", "abstract": "We use BERT.", "date": "Mon, 2 Jan"}\n'
        '{"id": "t", "title": "Dated", "abstract": "We use BERT.", "date": "2024-02-30"}\n',
        encoding="utf-8",
    )
    w: list[str] = []
    papers = read_file(f, warnings=w)
    assert papers[0].title == "Lone \ufffd surrogate" and papers[0].date is None and papers[1].date is None
    assert len([x for x in w if "date" in x]) == 2
    build([f], tmp_path / "out", model=None)
    Graph().parse(tmp_path / "out" / "kg.nt", format="nt")


# ---------------------------------------------------------------------------- output paths


def test_special_files_are_written_in_place_never_replaced(tmp_path):
    from kg.io import atomic_write_lines, atomic_write_text, atomic_writer

    atomic_write_text(Path("/dev/null"), "x")
    atomic_write_lines(Path("/dev/null"), [{"a": 1}])
    with atomic_writer(Path("/dev/null")) as p:
        p.write_text("y")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    atomic_write_lines(fifo, [{"a": 1}, {"b": 2}])
    reader.join(10)
    assert got == [b'{"a": 1}\n{"b": 2}\n']
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_stays_a_link_and_a_regular_file_keeps_its_mode(tmp_path):
    from kg.io import atomic_write_text

    target = tmp_path / "real.txt"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_impossible_outputs_are_one_line_errors(tmp_path):
    from kg.io import atomic_write_text, check_writable

    blocker = tmp_path / "file"
    blocker.write_text("x")
    for bad in (blocker / "sub" / "out.jsonl", tmp_path):
        with pytest.raises(OutputError) as e:
            check_writable(bad)
        assert str(bad) in str(e.value) and "\n" not in str(e.value)
        with pytest.raises(OutputError):
            atomic_write_text(bad, "x")


def _cli(*args: str, cwd: Path | None = None, user: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*KG, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300, user=user)


def test_kg_extract_bad_output_fails_before_extracting_in_one_line(tmp_path, data_dir):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = _cli("extract", str(data_dir / "mini.jsonl"), "-o", str(blocker / "x.jsonl"), "--model", "none", "-q")
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert f"{blocker / 'x.jsonl'}" in r.stderr and "choose another path" in r.stderr
    r = _cli("build", str(data_dir / "mini.jsonl"), "-o", str(blocker / "out"), "--model", "none", "-q")
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
    assert str(blocker / "out") in r.stderr and "choose another" in r.stderr


def test_kg_extract_to_dev_null_keeps_the_device(data_dir):
    before = os.stat("/dev/null")
    r = _cli("extract", str(data_dir / "mini.jsonl"), "-o", "/dev/null", "--model", "none", "-q")
    assert r.returncode == 0, r.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to run as another user")
def test_permission_denied_is_one_line(tmp_path, data_dir):
    base = Path("/tmp") / f"kg-perm-{os.getpid()}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(mode=0o755)
    try:
        locked = base / "locked"
        locked.mkdir(mode=0o555)
        corpus = base / "mini.jsonl"
        shutil.copy(data_dir / "mini.jsonl", corpus)
        corpus.chmod(0o644)
        try:
            probe = subprocess.run(
                [sys.executable, "-c", "import kg.cli"], cwd=base, user=65534, capture_output=True, timeout=120
            )
        except OSError as e:
            pytest.skip(f"cannot run as nobody: {e}")
        if probe.returncode != 0:
            pytest.skip("kg's environment is not readable by another user here")
        r = _cli("extract", str(corpus), "-o", str(locked / "x.jsonl"), "--model", "none", "-q", cwd=base, user=65534)
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
        assert "no permission to write there" in r.stderr and str(locked / "x.jsonl") in r.stderr
        r = _cli("build", str(corpus), "-o", str(locked / "out"), "--model", "none", "-q", cwd=base, user=65534)
        assert r.returncode == 1 and "Traceback" not in r.stderr and "ermission" in r.stderr, r.stderr
        assert str(locked / "out") in r.stderr and r.stderr.strip().count("\n") == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------------------- the terminal


def test_kg_query_shows_control_characters_escaped(hostile_build):
    r = _cli(
        "query", "SELECT ?t WHERE { ?p dcterms:title ?t } ORDER BY ?t LIMIT 3", "--store", str(hostile_build / "store")
    )
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "\\x1b[31mred\\x07" in r.stdout


def test_markup_like_text_in_errors_is_printed_as_it_is(tmp_path):
    f = tmp_path / "[red]x[/]"
    r = _cli("extract", str(f), "-o", str(tmp_path / "o.jsonl"), "--format", "jsonl", "-q")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "[red]x[/]" in r.stderr and "file not found" in r.stderr


# ---------------------------------------------------------------------------- figures (point 6)


def test_report_figures_are_byte_identical_across_builds(tmp_path):
    script = """
import sys
from pathlib import Path
from kg.graph import Topic
from kg.records import Concept, Mention, Paper
from kg.export.report import write_report
papers = [Paper(f"p{i}", f"T{i}", "a", date=f"{2020 + i % 3}-01-0{1 + i % 9}") for i in range(30)]
types = ["METHOD", "TASK", "DATASET", "METRIC"]
concepts = {f"c{j}": Concept(f"c{j}", f"concept $x{j}", types[j % 4], papers={f"p{k}" for k in range(1 + j)},
                             mention_count=2 + j) for j in range(12)}
mentions = [Mention(f"p{i}", 0, 1, "a", concepts[f"c{(i * j) % 12}"].type, concept=f"c{(i * j) % 12}")
            for i in range(30) for j in range(4)]
write_report(Path(sys.argv[1]), papers, concepts, mentions, [Topic("topic-c0", "c0, c1", ("c0", "c1"))])
"""
    for k in (1, 2):
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / str(k))],
            check=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": str(k)},
        )
    names = sorted(p.name for p in (tmp_path / "1" / "figures").iterdir())
    assert {n.rsplit(".", 1)[1] for n in names} == {"png", "svg"} and len(names) == 8
    for n in names:
        assert (tmp_path / "1" / "figures" / n).read_bytes() == (tmp_path / "2" / "figures" / n).read_bytes(), n


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs a read-only /sys")
def test_permission_denied_under_sys_is_one_line(data_dir):
    target = "/sys/kg-robust-test.jsonl"
    r = _cli("extract", str(data_dir / "mini.jsonl"), "-o", target, "--model", "none", "-q")
    if r.returncode == 0:  # pragma: no cover - /sys writable here
        Path(target).unlink(missing_ok=True)
        pytest.skip("/sys is writable here")
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
    assert target in r.stderr and ("no permission" in r.stderr or "not permitted" in r.stderr)


def test_long_csv_fields_and_unicode_line_separators_are_read(tmp_path):
    f = tmp_path / "big.csv"
    f.write_text("id,title,abstract\n1,T," + "word " * 40_000 + "\n2,T2,We use BERT.\n", encoding="utf-8")
    assert [p.id for p in read_file(f)] == ["1", "2"]  # a field over csv's 128 KB default limit
    j = tmp_path / "u.jsonl"
    j.write_text(
        '{"id": "u", "title": "Line\u2028sep\u0085x\x0cy", "abstract": "A"}\n{"id": "v", "title": "V"}\n',
        encoding="utf-8",
    )
    w: list[str] = []
    assert [p.id for p in read_file(j, warnings=w)] == ["u", "v"] and w == []  # only \n ends a line
