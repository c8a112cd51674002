"""Property tests (hypothesis): no input, flag or path makes kg fail other than with its own one-line error.

Over every reader (txt, jsonl, csv, tsv, gzip), merging, ``kg extract`` (the real CLI), the
extractor on odd text, a whole build on hostile records, and the IRI, slug and escaping functions.
The coverage-guided harness in ``fuzz/fuzz_kg.py`` drives the same targets for longer.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import xml.dom.minidom
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from kg.corpus import read_corpus, read_file
from kg.corpus.merge import merge_papers
from kg.errors import InputError, KGError
from kg.records import Paper

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# text that kg's inputs really contain, and what breaks parsers: quotes, separators, controls, odd Unicode
nasty_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list('",\t\n\r\x00\x07\x1b\x0b\x0c\x85\u2028\u2029\ufeff\ufffe{}[]:<>\\#%/ -')),
    ),
    max_size=300,
)
lone_surrogate = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


def _record() -> st.SearchStrategy[dict[str, object]]:
    value = st.one_of(
        nasty_text,
        st.integers(),
        st.none(),
        st.booleans(),
        st.lists(nasty_text, max_size=3),
        st.floats(allow_nan=True),
        st.dictionaries(nasty_text, nasty_text, max_size=2),
    )
    return st.dictionaries(
        st.sampled_from(["id", "title", "abstract", "text", "date", "authors", "summary", "TITLE", "x"]),
        value,
        max_size=6,
    )


def _check_read(path: Path, raw: bytes, fmt: str | None = None) -> None:
    path.write_bytes(raw)
    warnings: list[str] = []
    try:
        papers = read_file(path, fmt, warnings)
    except InputError as e:
        assert "\n" not in str(e) and str(path) in str(e)
        return
    assert papers
    for p in papers:
        assert p.title.strip() and isinstance(p.abstract, str)
        p.text.encode("utf-8")  # writable: no lone surrogates
        assert "\x00" not in p.text
    for w in warnings:
        assert "\n" not in w and (w.startswith(str(path)) or w.startswith(path.name))


@FAST
@given(raw=st.binary(max_size=600), fmt=st.sampled_from(["txt", "jsonl", "csv", "tsv"]))
def test_fuzz_any_bytes_in_any_format(tmp_path, raw, fmt):
    _check_read(tmp_path / f"c.{fmt}", raw)


@FAST
@given(text=nasty_text, fmt=st.sampled_from(["txt", "jsonl", "csv", "tsv"]))
def test_fuzz_any_text_in_any_format(tmp_path, text, fmt):
    _check_read(tmp_path / f"c.{fmt}", text.encode("utf-8"))


@FAST
@given(
    records=st.lists(st.one_of(_record(), nasty_text, st.integers()), max_size=6),
    junk=st.lists(st.binary(max_size=30), max_size=2),
)
def test_fuzz_jsonl_records(tmp_path, records, junk):
    lines = [json.dumps(r).encode("utf-8", "surrogatepass") for r in records] + junk
    random.Random(len(lines)).shuffle(lines)
    _check_read(tmp_path / "c.jsonl", b"\n".join(lines))


@FAST
@given(
    rows=st.lists(st.lists(nasty_text, min_size=1, max_size=5), max_size=6),
    header=st.sampled_from(["id,title,abstract", "title", "id,text", "ID,Title,Abstract,date", "a,b"]),
    gz=st.booleans(),
)
def test_fuzz_csv_rows(tmp_path, rows, header, gz):
    body = header + "\n" + "\n".join(",".join(r) for r in rows)
    raw = body.encode("utf-8", "surrogatepass")
    name = "c.csv.gz" if gz else "c.csv"
    _check_read(tmp_path / name, gzip.compress(raw, mtime=0) if gz else raw)


@FAST
@given(
    recs=st.lists(
        st.tuples(
            st.sampled_from(["1", "2", "x y"]),
            st.sampled_from(["A", "a!", "B", "C d"]),
            st.sampled_from(["", "t", "t u", "other"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_fuzz_merge_is_order_independent_and_never_mixes_records(recs):
    papers = [Paper(pid, title, abstract, sources=[f"f:{i}"]) for i, (pid, title, abstract) in enumerate(recs)]
    w1: list[str] = []
    a, dups = merge_papers(papers, w1)
    b, _ = merge_papers(list(reversed(papers)), [])
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]
    assert len({p.id for p in a}) == len(a)
    given_pairs = {(t, ab) for _, t, ab in recs}
    assert all((p.title, p.abstract) in given_pairs for p in a)  # one record's title with its own abstract
    assert dups + len(a) == len(papers)


@FAST
@given(
    parts=st.lists(st.one_of(nasty_text, st.text(lone_surrogate, max_size=3), st.integers()), min_size=1, max_size=3),
    other=st.lists(st.one_of(nasty_text, st.integers()), min_size=1, max_size=3),
)
def test_fuzz_minted_iris_are_valid_and_distinct(parts, other):
    from kg.export.rdf import mint

    iri = mint("mention", *parts)
    ox.NamedNode(str(iri))
    Graph().parse(data=f'<{iri}> <http://x/p> "o" .\n', format="nt")
    assert re.fullmatch(r"[A-Za-z0-9:/._~%-]+", str(iri))
    if len(parts) == len(other) and [str(p) for p in parts] != [str(p) for p in other]:
        assert mint("mention", *other) != iri


@FAST
@given(key=st.one_of(nasty_text, st.text(lone_surrogate, max_size=2)))
def test_fuzz_concept_slugs_are_valid_iris(key):
    from kg.export.rdf import concept_iri
    from kg.normalise import slug

    try:
        s = slug(key)
    except UnicodeEncodeError:  # a lone surrogate never reaches slug: readers replace it
        assume(False)
        return
    assert re.fullmatch(r"[a-z0-9-]+", s)
    assert str(concept_iri(s)).endswith("/concept/" + s)
    ox.NamedNode(str(concept_iri(s)))


@FAST
@given(s=st.one_of(nasty_text, st.text(st.characters(), max_size=50)))
def test_fuzz_xml_and_terminal_escaping(s):
    from kg.io import terminal_text, xml_text

    x = xml_text(s)
    doc = xml.dom.minidom.Document()
    el = doc.createElement("a")
    el.setAttribute("v", x)
    el.appendChild(doc.createTextNode(x))
    doc.appendChild(el)
    back = xml.dom.minidom.parseString(doc.toxml(encoding="utf-8"))
    text = "".join(n.data for n in back.documentElement.childNodes)
    assert text == x.replace("\r\n", "\n").replace("\r", "\n")
    t = terminal_text(s)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", t)
    assert terminal_text(t) == t  # escaping is idempotent on escaped text


@FAST
@given(text=st.text(st.sampled_from(list("ab .\n!?")), max_size=3000), limit=st.integers(4, 500))
def test_fuzz_split_long_text_covers_in_bounded_pieces(text, limit):
    from kg.extract.pipeline import split_long_text

    pieces = split_long_text(text, limit)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(b - a <= limit for a, b in pieces) and all(a < b for a, b in pieces[:-1])
    assert all(pieces[i][1] == pieces[i + 1][0] for i in range(len(pieces) - 1))


@pytest.fixture(scope="module")
def rules_nlp():
    from kg.extract.pipeline import build_pipeline

    return build_pipeline(None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=nasty_text, abstract=nasty_text)
def test_fuzz_extractor_offsets_point_into_the_text(rules_nlp, title, abstract):
    from kg.extract.pipeline import extract

    assume(title.strip())
    p = Paper("p", " ".join(title.split()), abstract)
    (ex,) = list(extract([p], rules_nlp))
    for m in ex.mentions:
        assert 0 <= m.start < m.end <= len(p.text) and p.text[m.start : m.end] == m.text


@SLOW
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.lists(_record(), min_size=1, max_size=4).map(
            lambda rs: "\n".join(json.dumps(r) for r in rs).encode("utf-8", "surrogatepass")
        ),
    ),
    fmt=st.sampled_from(["jsonl", "csv", "txt"]),
    out=st.sampled_from(["ok", "file-parent", "dir", "dev-null"]),
)
def test_fuzz_kg_extract_cli(tmp_path, data, fmt, out):
    from typer.testing import CliRunner

    from kg.cli import app

    src = tmp_path / f"in.{fmt}"
    src.write_bytes(data)
    (tmp_path / "blocker").write_text("x")
    target = {
        "ok": tmp_path / "o.jsonl",
        "file-parent": tmp_path / "blocker" / "o.jsonl",
        "dir": tmp_path,
        "dev-null": Path("/dev/null"),
    }[out]
    r = CliRunner().invoke(app, ["extract", str(src), "-o", str(target), "--model", "none", "-q"])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code in (0, 1)
    if r.exit_code == 1:
        assert "error:" in r.output and "Traceback" not in r.output
    elif out == "ok":
        lines = target.read_text(encoding="utf-8").splitlines()
        assert all(json.loads(line)["mentions"] is not None for line in lines)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    recs=st.lists(
        st.fixed_dictionaries({"id": nasty_text, "title": nasty_text.filter(str.strip), "abstract": nasty_text}),
        min_size=1,
        max_size=4,
    )
)
def test_fuzz_build_of_hostile_records_is_valid(tmp_path_factory, recs):
    from kg.build import build

    d = tmp_path_factory.mktemp("fb")
    f = d / "c.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    try:
        papers, _ = read_corpus([f])
    except KGError:
        return
    build([f], d / "out", model=None)
    Graph().parse(d / "out" / "kg.nt", format="nt")
    xml.dom.minidom.parse(str(d / "out" / "graph.graphml"))
    assert len(papers) >= 1


def test_fuzz_harness_short_run():
    """A few seconds of fuzz/fuzz_kg.py per fast target (the long run is reported in BENCHMARKS.md)."""
    import subprocess
    import sys

    harness = Path(__file__).parent.parent / "fuzz" / "fuzz_kg.py"
    for target, seconds in (("readers", 4),):
        r = subprocess.run(
            [sys.executable, str(harness), target, f"-max_total_time={seconds}"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        out = r.stdout + r.stderr
        assert r.returncode == 0, out[-4000:]
        assert re.search(r"Done \d+ runs|hypothesis fuzzing: \d+ executions", out), out[-2000:]
