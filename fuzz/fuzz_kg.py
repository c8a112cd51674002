"""Coverage-guided fuzzing of kg's input side: the readers, merging, IRI minting, escaping, the extractor.

    python fuzz/fuzz_kg.py [readers|iri|extract|all] [libFuzzer flags, e.g. -max_total_time=600] [CORPUS_DIR ...]

With atheris installed (``pip install -e '.[dev]'`` on Linux x86-64) the kg modules are instrumented
and libFuzzer mutates towards new coverage; without it the same targets run under hypothesis for
the time given by ``-max_total_time`` (or ``-runs``). Seeds come from ``tests/data`` when no corpus
directory is given. Any exception other than kg's own one-line errors (``KGError``), and any broken
invariant (an offset that does not point at its text, an IRI Oxigraph refuses, two ids minting one
IRI, a control character left in escaped text), is a crash: libFuzzer saves the input as
``crash-<sha1>`` and the run exits non-zero. Re-run one input with ``python fuzz/fuzz_kg.py TARGET crash-...``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

try:
    import atheris
except ImportError:  # pragma: no cover - the fallback is exercised where atheris does not install
    atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["kg"]):
        import kg.corpus.dailypapers  # noqa: F401
        import kg.corpus.merge
        import kg.corpus.readers
        import kg.export.rdf
        import kg.extract.pipeline
        import kg.io
        import kg.normalise
else:
    import kg.corpus.merge
    import kg.corpus.readers
    import kg.export.rdf
    import kg.extract.pipeline
    import kg.io
    import kg.normalise

import pyoxigraph as ox  # noqa: E402  (after the instrumented imports)

from kg.errors import KGError  # noqa: E402

FORMATS = ["txt", "jsonl", "csv", "tsv"]
_WORK = Path(tempfile.mkdtemp(prefix="kg-fuzz-"))
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# ---------------------------------------------------------------------------- targets


def _strings(data: bytes, n: int) -> list[str]:
    """``n`` strings cut from ``data`` (a 0xFF byte separates them), decoded leniently."""
    parts = data.split(b"\xff")
    parts += [b""] * (n - len(parts))
    return [
        p.decode("utf-8", "surrogateescape").encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        for p in parts[:n]
    ]


def target_readers(data: bytes) -> None:
    """First byte: the format and whether the file is gzipped; the rest: the file's bytes."""
    if not data:
        return
    fmt = FORMATS[data[0] % 4]
    gz = data[0] & 0x80
    body = data[1:]
    path = _WORK / f"in.{fmt}{'.gz' if gz else ''}"
    if gz:
        import gzip

        body = gzip.compress(body, mtime=0) if data[0] & 0x40 else body  # sometimes a broken gzip
    path.write_bytes(body)
    warnings: list[str] = []
    try:
        papers = kg.corpus.readers.read_file(path, None, warnings)
    except KGError as e:
        assert "\n" not in str(e), str(e)
        return
    for w in warnings:
        assert "\n" not in w, w
    merged, dups = kg.corpus.merge.merge_papers(papers + papers[::-1], [])
    assert dups + len(merged) == 2 * len(papers)
    assert len({p.id for p in merged}) == len(merged)
    for p in merged:
        assert p.title.strip()
        p.text.encode("utf-8")
        ox.NamedNode(str(kg.export.rdf.paper_iri(p.id)))
        ox.NamedNode(str(kg.export.rdf.mint("mention", p.id, 3)))
        assert "\x1b" not in kg.io.terminal_text(p.title)


def target_iri(data: bytes) -> None:
    """Strings → minted IRIs (valid, and distinct for distinct parts), slugs, escapes."""
    a, b, c, d = _strings(data, 4)
    i1 = kg.export.rdf.mint("similarity", a, b)
    ox.NamedNode(str(i1))
    if (a, b) != (c, d):
        assert kg.export.rdf.mint("similarity", c, d) != i1, (a, b, c, d)
    ox.NamedNode(str(kg.export.rdf.mint("sentence", a + c, len(b))))
    s = kg.normalise.slug(a)
    assert re.fullmatch(r"[a-z0-9-]+", s), s
    ox.NamedNode(str(kg.export.rdf.concept_iri(s)))
    x = kg.io.xml_text(b + d)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]", x)
    t = kg.io.terminal_text(c)
    assert not _CONTROL.search(t) and kg.io.terminal_text(t) == t


_NLP: list[object] = []


def target_extract(data: bytes) -> None:
    """Title and abstract → the rules-only extractor; every offset must point at its text."""
    if not _NLP:
        _NLP.append(kg.extract.pipeline.build_pipeline(None))
    title, abstract, piece = _strings(data[:4000], 3)
    if not title.strip():
        return
    from kg.records import Paper

    p = Paper("p", " ".join(title.split()), abstract)
    (ex,) = list(kg.extract.pipeline.extract([p], _NLP[0]))  # type: ignore[arg-type]
    for m in ex.mentions:
        assert 0 <= m.start < m.end <= len(p.text) and p.text[m.start : m.end] == m.text, (m, p.text)
        assert m.sentence_start <= m.start and m.end <= m.sentence_end
    limit = 4 + len(piece) % 64
    pieces = kg.extract.pipeline.split_long_text(abstract, limit)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(abstract)
    assert all(0 < b - a <= limit for a, b in pieces[:-1])


TARGETS: dict[str, Callable[[bytes], None]] = {"readers": target_readers, "iri": target_iri, "extract": target_extract}


def target_all(data: bytes) -> None:
    if not data:
        return
    TARGETS[["readers", "iri", "readers", "extract"][data[0] % 4]](data[1:])


TARGETS["all"] = target_all


# ---------------------------------------------------------------------------- seeds


def seed_corpus(target: str) -> Path:
    """A directory of seed inputs from tests/data: real files in every format, and odd strings."""
    d = _WORK / f"seeds-{target}"
    d.mkdir(exist_ok=True)
    data = ROOT / "tests" / "data"
    seeds: list[bytes] = []
    for name, fmt in [("mini.jsonl", 1), ("dailypapers_blocks.txt", 0), ("dailypapers_compact.txt", 0)]:
        if (data / name).exists():
            seeds.append(bytes([fmt]) + (data / name).read_bytes()[:3000])
    seeds.append(bytes([2]) + b'id,title,abstract\n1,"A, title","An abstract."\n2,"Broken,abs\n3,T,A\n')
    seeds.append(bytes([3]) + b"id\ttitle\tabstract\nx y\tT\tWe use BERT on SQuAD.\n")
    seeds.append(
        b"We propose FastSpec (FS) for code generation\xffOn the HumanEval benchmark FS improves pass@1."
        b"\n\nLarge language models (LLMs) are slow.\xffpiece"
    )
    seeds.append(b'a b\xffx"<y>\xffq-1\xff\x1b[31m')
    for i, s in enumerate(seeds):
        prefix = {"all": bytes([i % 4])}.get(target, b"")
        (d / f"seed-{i}").write_bytes(prefix + s)
    return d


# ---------------------------------------------------------------------------- main


def _hypothesis_run(fn: Callable[[bytes], None], seconds: float, runs: int | None) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    done = 0
    start = time.monotonic()

    @settings(max_examples=runs or 10**9, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=4096))
    def run(data: bytes) -> None:
        nonlocal done
        if time.monotonic() - start > seconds:
            return
        done += 1
        fn(data)

    run()
    print(f"hypothesis fuzzing: {done} executions in {time.monotonic() - start:.0f} s, no crash")
    return 0


def main(argv: list[str]) -> int:
    args = argv[1:]
    target = args.pop(0) if args and args[0] in TARGETS else "all"
    fn = TARGETS[target]
    flags = [a for a in args if a.startswith("-")]
    paths = [a for a in args if not a.startswith("-")]
    if paths and all(Path(p).is_file() for p in paths):  # re-run saved inputs
        for p in paths:
            fn(Path(p).read_bytes())
            print(f"{p}: no crash")
        return 0
    if atheris is None:
        seconds = next((float(a.split("=", 1)[1]) for a in flags if a.startswith("-max_total_time=")), 60.0)
        runs = next((int(a.split("=", 1)[1]) for a in flags if a.startswith("-runs=")), None)
        print("atheris is not installed: fuzzing with hypothesis instead (pip install atheris for coverage guidance)")
        return _hypothesis_run(fn, seconds, runs)
    corpus = [*paths, str(seed_corpus(target))]  # new inputs go to the first directory
    if not any(a.startswith("-max_len=") for a in flags):
        flags.append("-max_len=4096")
    atheris.Setup([argv[0], *flags, *corpus], fn)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main(sys.argv))
