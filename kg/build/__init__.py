"""The whole job: corpus files → every output kg writes, in one call.

The CLI's ``kg build`` is a thin shell over :func:`build`.

Writing is crash-safe: the outputs are written into a staging folder inside the output folder
and swapped in file by file with renames at the end, so the previous complete outputs stay
usable until the new ones replace them; extraction is saved as it goes in an append-only cache
(:mod:`kg.build.cache`), so a build killed at any moment is finished by running it again; a lock
stops a second build into the same folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import resource
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from kg.build.cache import CACHE_FILE, LOCK_FILE, BuildLock, ExtractionCache
from kg.corpus import ReadReport, read_corpus, sample_corpus_files
from kg.errors import OutputError
from kg.export.rdf import aggregate_triples, hierarchy_triples, triples, write_ntriples_sorted
from kg.export.search import SEARCH_FILE, write_search_index
from kg.export.writers import WRITERS, store_formats
from kg.extract.pipeline import Extraction, build_pipeline, extract, extractor_version, model_text
from kg.graph import build_graph, concept_topics, graph_counts, paper_concepts, paper_similarities
from kg.graph.relations import paper_relations
from kg.graph.views import write_overview
from kg.io import atomic_write_lines, atomic_write_text, atomic_writer
from kg.normalise import normalise
from kg.normalise.corrections import Corrections, apply_corrections, find_corrections, load_corrections
from kg.normalise.decide import Decision, decide_in_chunks
from kg.normalise.hierarchy import induce_hierarchy
from kg.records import LABELS, Concept, Mention, Paper, Relation
from kg.store import load_store

__all__ = [
    "BuildReport",
    "build",
    "MARKER",
    "STAGING",
    "FORMATS",
    "build_formats",
    "output_files",
    "check_output_dir",
    "extraction_cache_key",
    "run_extraction",
    "changes_between",
]

MARKER = ".kg-build.json"
STAGING = ".kg-staging"
CHANGES = "changes.json"
#: the formats written without --formats (any format of :data:`kg.export.writers.WRITERS` that writes
#: from the store can be asked for); kg.nt is always written (the store is loaded from it)
FORMATS = ("nt", "ttl", "jsonld")
#: without --formats, Turtle and JSON-LD are written only up to this many papers (at 75k papers
#: each is several GB and minutes of serialising; the store and kg.nt hold the same triples)
AUTO_FORMATS_MAX_PAPERS = 20_000
RECORD_FILES = (
    "papers.jsonl",
    SEARCH_FILE,
    "mentions.jsonl",
    "relations.jsonl",
    "decisions.jsonl",
    "concepts.csv",
    "graph.graphml",
    "graph.html",
    "overview.json",
    "report.html",
    "figures",
    "store",
    CHANGES,
)


def output_files() -> list[str]:
    """Every file a build may leave in its folder: each format's (plug-ins' too) and the records."""
    return [*(w.file for name, w in WRITERS.items() if w.write is not None), *RECORD_FILES]


def build_formats() -> list[str]:
    """The formats ``kg build --formats`` accepts: the registered writers that write from the store."""
    return store_formats()


@dataclass
class BuildReport:
    read: ReadReport
    mentions_by_type: dict[str, int] = field(default_factory=dict)
    concepts_by_type: dict[str, int] = field(default_factory=dict)
    edges_by_kind: dict[str, int] = field(default_factory=dict)
    triples: int = 0
    topics: int = 0
    relations_by_type: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached_papers: int = 0
    extractor: str = ""
    formats: list[str] = field(default_factory=list)
    stages: dict[str, dict[str, float]] = field(default_factory=dict)  # seconds and peak RSS (MiB) after each
    changes: dict[str, Any] = field(default_factory=dict)
    corrections: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "files_read": self.read.files,
            "entries": self.read.entries,
            "papers": self.read.papers,
            "duplicates_merged": self.read.duplicates,
            "warnings": self.read.warnings,
            "mentions_by_type": self.mentions_by_type,
            "concepts_by_type": self.concepts_by_type,
            "edges_by_kind": self.edges_by_kind,
            "triples": self.triples,
            "topics": self.topics,
            "relations_by_type": self.relations_by_type,
            "files_written": self.files,
            "formats": self.formats,
            "corrections": self.corrections,
            "extractor": self.extractor,
            "cached_papers": self.cached_papers,
            "stages": self.stages,
            "seconds": round(self.seconds, 2),
        }


def _is_kg_dir(out: Path) -> bool:
    """A folder kg made: a finished build's marker, or what a killed build leaves (cache, staging, lock)."""
    return any((out / n).exists() for n in (MARKER, STAGING, LOCK_FILE, f".cache/{CACHE_FILE}"))


def check_output_dir(out: Path, force: bool) -> None:
    """Refuse to write into a non-empty directory that kg did not make, unless ``force``.

    ``force`` empties such a directory, but never deletes an extraction cache (``.cache``).
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a directory; choose another -o DIR")
    if not out.exists() or _is_kg_dir(out):
        return
    entries = [p for p in out.iterdir() if p.name not in (".gitkeep", ".cache")]
    if not entries:
        return
    if not force:
        raise OutputError(
            f"{out}: not empty and not a kg output directory; choose another -o DIR or pass --force to replace it"
        )
    for p in entries:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def extraction_cache_key(text: str, mtext: str | None = None) -> str:
    """The text hash the cache keys a paper's extraction by (with the extractor version).

    The recogniser reads :func:`model_text`; when it differs from the text, both key it.
    """
    data = text if mtext is None or mtext == text else f"{text}\x00{mtext}"
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _ex_to_json(ex: Extraction) -> dict[str, object]:
    return {
        "mentions": [
            [m.start, m.end, m.label, m.sentence, m.sentence_start, m.sentence_end, m.confidence, m.producer, m.role]
            for m in ex.mentions
        ],
        "abbreviations": ex.abbreviations,
    }


def _shared(strings: dict[str, str], s: str) -> str:
    """One object for every equal string (a surface form, a label, a producer): mentions held for
    the whole corpus repeat a few hundred thousand distinct strings millions of times."""
    return strings.setdefault(s, s)


def _ex_from_json(pid: str, text: str, d: dict[str, list[list[Any]]], strings: dict[str, str]) -> Extraction:
    ex = Extraction(pid)
    for s, e, lab, sent, ss, se, conf, prod, role in d["mentions"]:
        ex.mentions.append(
            Mention(
                pid,
                int(s),
                int(e),
                _shared(strings, text[int(s) : int(e)]),
                _shared(strings, str(lab)),
                int(sent),
                int(ss),
                int(se),
                float(conf),
                _shared(strings, str(prod)),
                _shared(strings, str(role)),
            )
        )
    ex.abbreviations = [(str(a), str(b)) for a, b in d["abbreviations"]]
    return ex


def _compact(ex: Extraction, strings: dict[str, str]) -> Extraction:
    """A fresh extraction with its mentions' strings shared as :func:`_ex_from_json` shares them."""
    for m in ex.mentions:
        m.text = _shared(strings, m.text)
        m.label = _shared(strings, m.label)
        m.producer = _shared(strings, m.producer)
        m.role = _shared(strings, m.role)
    return ex


def run_extraction(
    papers: Sequence[Paper],
    cache_dir: Path | None,
    n_process: int = 1,
    model: str | None = "default",
    progress: Callable[[int], None] | None = None,
    scheduler: str | None = None,
) -> tuple[list[Extraction], int]:
    """Extract every paper, reusing cached results keyed by (text, extractor version).

    New extractions are appended to the cache as they arrive (committed every couple of
    seconds); ``scheduler`` (a Dask scheduler address) runs the extraction on that cluster.
    """
    version = extractor_version(model)
    keys = [extraction_cache_key(p.text, model_text(p)) for p in papers]
    cache = ExtractionCache(cache_dir / CACHE_FILE) if cache_dir is not None else None
    strings: dict[str, str] = {}
    try:
        results: dict[str, Extraction] = {}
        if cache is not None:  # each cached value becomes an Extraction as it is read (no parsed JSON held)
            papers_of: dict[str, list[Paper]] = {}
            for p, k in zip(papers, keys, strict=True):
                papers_of.setdefault(k, []).append(p)
            for k, hit in cache.get_many(papers_of, version):
                for p in papers_of[k]:
                    results[p.id] = _ex_from_json(p.id, p.text, hit, strings)
            del papers_of
        todo = [p for p in papers if p.id not in results]
        cached = len(results)
        if progress and cached:
            progress(cached)
        if todo:
            key_of = {p.id: k for p, k in zip(papers, keys, strict=True)}
            stream: Iterator[Extraction]
            if scheduler:
                from kg.build.dask import extract_on_cluster

                stream = extract_on_cluster(todo, model, scheduler)
            else:
                stream = extract(todo, build_pipeline(model), n_process=n_process)
            for ex in stream:
                results[ex.paper_id] = _compact(ex, strings)
                if cache is not None:
                    cache.put(key_of[ex.paper_id], version, _ex_to_json(ex))
                if progress:
                    progress(1)
    finally:
        if cache is not None:
            cache.close()
    return [results[p.id] for p in papers], cached


def find_all_relations(papers: Sequence[Paper], mentions: Sequence[Mention]) -> list[Relation]:
    """Relations of every paper, from its merged mentions (see :mod:`kg.graph.relations`)."""
    by_paper: dict[str, list[Mention]] = {}
    for m in mentions:
        by_paper.setdefault(m.paper_id, []).append(m)
    out: list[Relation] = []
    for p in papers:
        out.extend(paper_relations(p.id, p.text, by_paper.get(p.id, [])))
    return out


def _concepts_csv(concepts: dict[str, Concept]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "label", "type", "papers", "mentions", "ambiguous", "aliases"])
    for c in sorted(concepts.values(), key=lambda c: (-c.paper_count, c.id)):
        w.writerow(
            [
                c.id,
                c.label,
                c.type,
                c.paper_count,
                c.mention_count,
                str(c.ambiguous).lower(),
                "|".join(f"{a}={n}" for a, n in sorted(c.aliases.items())),
            ]
        )
    return buf.getvalue()


def _graphml(g: nx.MultiDiGraph, path: Path) -> None:
    """GraphML of the graph; characters XML cannot hold (control characters) are written as visible escapes.

    Streamed element by element (networkx's writer without lxml builds the whole document as an
    ElementTree, several times the graph's memory), byte for byte what ``nx.write_graphml(g,
    prettyprint=True, named_key_ids=True)`` writes: the keys (found in a first pass) in its order,
    then the graph, indented as its writer indents.
    """
    from xml.etree.ElementTree import _escape_attrib, _escape_cdata  # type: ignore[attr-defined]

    from networkx.readwrite.graphml import GraphMLWriter

    from kg.io import xml_text

    def clean(v: object) -> object:
        return xml_text(v) if isinstance(v, str) else v

    if g.graph:  # graph-level data (the build sets none): networkx's writer, on a cleaned copy
        h = nx.MultiDiGraph()
        h.graph.update({k: clean(v) for k, v in g.graph.items()})
        h.add_nodes_from((clean(n), {k: clean(v) for k, v in d.items()}) for n, d in g.nodes(data=True))
        h.add_edges_from(
            (clean(u), clean(v), clean(k), {a: clean(b) for a, b in d.items()})
            for u, v, k, d in g.edges(keys=True, data=True)
        )
        with atomic_writer(path) as tmp:
            nx.write_graphml(h, tmp, encoding="utf-8", prettyprint=True, named_key_ids=True)
        return
    xml_type = GraphMLWriter().get_xml_type
    keys: dict[tuple[str, str, str], None] = {}  # (name, type, scope), in the order first used
    for scope, items in (
        ("node", (d for _, d in g.nodes(data=True))),
        ("edge", (d for *_, d in g.edges(keys=True, data=True))),
    ):
        for d in items:
            for k, v in d.items():
                keys.setdefault((str(k), xml_type(type(clean(v))), scope), None)

    def element(tag: str, attrs: dict[str, str], data: dict[str, object], indent: str) -> str:
        head = indent + f"<{tag}" + "".join(f' {a}="{_escape_attrib(v)}"' for a, v in attrs.items())
        if not data:
            return head + " />"
        inner = indent + "  "
        rows = [
            f'{inner}<data key="{_escape_attrib(str(k))}">{_escape_cdata(str(v))}</data>'
            if str(v) != ""
            else f'{inner}<data key="{_escape_attrib(str(k))}" />'
            for k, v in ((k, clean(v)) for k, v in data.items())
        ]
        return head + ">" + "".join(rows) + indent + f"</{tag}>"

    w = GraphMLWriter()
    root = {"xmlns": w.NS_GRAPHML, "xmlns:xsi": w.NS_XSI, "xsi:schemaLocation": w.SCHEMALOCATION}
    with atomic_writer(path) as tmp, Path(tmp).open("w", encoding="utf-8", newline="\n") as f:
        f.write("<?xml version='1.0' encoding='utf-8'?>\n<graphml")
        f.write("".join(f' {a}="{_escape_attrib(v)}"' for a, v in root.items()) + ">")
        for name, typ, scope in reversed(keys):  # networkx inserts each new key first
            attrs = {"id": name, "for": scope, "attr.name": name, "attr.type": typ}
            f.write(element("key", attrs, {}, "\n  "))
        f.write('\n  <graph edgedefault="directed"' if g.is_directed() else '\n  <graph edgedefault="undirected"')
        if g.number_of_nodes() == 0:  # an element without children closes itself
            f.write(" />\n</graphml>\n")
            return
        f.write(">")
        for n, d in g.nodes(data=True):
            f.write(element("node", {"id": str(clean(n))}, d, "\n    "))
        for u, v, k, d in g.edges(keys=True, data=True):
            attrs = {"source": str(clean(u)), "target": str(clean(v)), "id": str(clean(k))}
            f.write(element("edge", attrs, d, "\n    "))
        f.write("\n  </graph>\n</graphml>\n")


# --- what changed since the last build -------------------------------------------------------


def _paper_hash(rec: dict[str, Any]) -> str:
    """What a paper says, without where it was read (``sources``: file and line)."""
    body = {k: v for k, v in rec.items() if k != "sources"}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


Before = tuple[dict[str, str], dict[str, tuple[str, int, tuple[str, ...]]]]


def _previous_state(out: Path) -> Before | None:
    """The last complete build's papers (id → hash of its record) and concepts (id → label, papers, aliases)."""
    pf, cf = out / "papers.jsonl", out / "concepts.csv"
    if not (out / MARKER).exists() or not pf.exists() or not cf.exists():
        return None
    papers: dict[str, str] = {}
    with pf.open(encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
                papers[str(rec["id"])] = _paper_hash(rec)
            except (ValueError, KeyError, TypeError):
                continue
    concepts: dict[str, tuple[str, int, tuple[str, ...]]] = {}
    with cf.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            try:
                aliases = tuple(a.rpartition("=")[0] for a in (row.get("aliases") or "").split("|") if "=" in a)
                concepts[row["id"]] = (row["label"], int(row["papers"]), aliases)
            except (KeyError, ValueError):
                continue
    return papers, concepts


def changes_between(
    before: Before | None,
    papers: Sequence[Paper],
    concepts: dict[str, Concept],
    listed: int = 1000,
    grown: int = 20,
) -> dict[str, Any]:
    """What changed since the previous build: papers added/removed/changed, concepts new/merged/gone, most grown.

    A gone concept is *merged* into the current concept (most papers first) that now carries its
    label or one of its surface forms.

    Lists are sorted and cut at ``listed`` entries (the counts are whole); no times, so the same
    two builds always give the same file.
    """
    now_p = {p.id: _paper_hash(p.to_dict()) for p in papers}
    old_p: dict[str, str] = before[0] if before is not None else {}
    old_c: dict[str, tuple[str, int, tuple[str, ...]]] = before[1] if before is not None else {}
    added = sorted(set(now_p) - set(old_p))
    removed = sorted(set(old_p) - set(now_p))
    changed = sorted(p for p in set(now_p) & set(old_p) if now_p[p] != old_p[p])
    new_c = sorted(set(concepts) - set(old_c), key=lambda c: (-concepts[c].paper_count, c))
    gone_c = sorted(set(old_c) - set(concepts), key=lambda c: (-old_c[c][1], c))
    holder: dict[str, str] = {}  # lower-cased label or surface form -> the current concept with most papers
    for cid, c in sorted(concepts.items(), key=lambda kv: (kv[1].paper_count, kv[0]), reverse=True):
        for form in (c.label, *c.aliases):
            holder[form.lower()] = cid
    merged = []
    for g in gone_c:
        label, _, forms = old_c[g]
        into = next((holder[f.lower()] for f in (label, *forms) if f.lower() in holder), None)
        if into is not None:
            merged.append({"id": g, "label": label, "into": into, "into_label": concepts[into].label})
    growth = sorted(
        ((c.paper_count - old_c.get(cid, ("", 0))[1], cid) for cid, c in concepts.items()),
        key=lambda x: (-x[0], x[1]),
    )
    return {
        "previous_build": before is not None,
        "papers": {
            "before": len(old_p),
            "after": len(now_p),
            "added": len(added),
            "removed": len(removed),
            "changed": len(changed),
            "added_ids": added[:listed],
            "removed_ids": removed[:listed],
            "changed_ids": changed[:listed],
        },
        "concepts": {
            "before": len(old_c),
            "after": len(concepts),
            "new": len(new_c),
            "gone": len(gone_c),
            "merged": len(merged),
            "new_ids": new_c[:listed],
            "gone_ids": gone_c[:listed],
            "merged_into": merged[:listed],
        },
        "most_grown": [
            {
                "id": cid,
                "label": concepts[cid].label,
                "papers_before": old_c.get(cid, ("", 0))[1],
                "papers_after": concepts[cid].paper_count,
                "growth": d,
            }
            for d, cid in growth[:grown]
            if d > 0
        ]
        if before is not None
        else [],
    }


def changes_line(ch: dict[str, Any]) -> str:
    """One line for the summary."""
    if not ch.get("previous_build"):
        return "first build here: " + f"{ch['papers']['after']} papers, {ch['concepts']['after']} concepts"
    p, c = ch["papers"], ch["concepts"]
    grown = ", ".join(f"{g['label']} +{g['growth']}" for g in ch["most_grown"][:3])
    return (
        f"papers +{p['added']} -{p['removed']} ~{p['changed']}; concepts +{c['new']} new, "
        f"-{c['gone']} gone ({c.get('merged', 0)} of them merged into others)"
        + (f"; most grown: {grown}" if grown else "")
    )


# --- staging and swapping ----------------------------------------------------------------------


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    elif p.exists() or p.is_symlink():
        p.unlink()


def _swap_in(stage: Path, out: Path, names: Sequence[str], marker_text: str) -> None:
    """Move each staged output over the old one with a rename; the marker goes last."""
    (out / MARKER).unlink(missing_ok=True)  # while files are swapped the folder is neither build
    for name in output_files():
        src, dst = stage / name, out / name
        if name not in names:
            _remove(dst)  # e.g. kg.ttl of a build that wrote it, now left out by --formats
            continue
        if src.is_dir():
            old = out / f".kg-old-{name}"
            _remove(old)
            if dst.exists():
                dst.rename(old)
            src.rename(dst)
            _remove(old)
        else:
            os.replace(src, dst)
    atomic_write_text(out / MARKER, marker_text)
    shutil.rmtree(stage, ignore_errors=True)


def _clean_leftovers(out: Path) -> None:
    """What a killed build leaves besides the cache: the staging folder and swapped-out folders."""
    _remove(out / STAGING)
    for p in out.glob(".kg-old-*"):
        _remove(p)
    for p in out.glob(".*.tmp"):
        _remove(p)


def _resolve_formats(formats: Sequence[str] | None, n_papers: int) -> list[str]:
    if formats is None:
        return list(FORMATS) if n_papers <= AUTO_FORMATS_MAX_PAPERS else ["nt"]
    known = build_formats()
    bad = sorted(set(formats) - set(known))
    if bad:
        raise OutputError(f"unknown format {bad[0]!r} in --formats; choose from {', '.join(known)}")
    return [f for f in known if f in formats or f == "nt"]


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (extraction workers, the store's loader)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class _Stages:
    """Seconds (wall and CPU) and peak RSS after each stage, and the progress callback's stage changes.

    CPU seconds make a stage's cost comparable between runs on a machine shared with other work.
    """

    def __init__(self, progress: Callable[[str, int, int], None] | None) -> None:
        self.progress = progress
        self.times: dict[str, dict[str, float]] = {}
        self.name = ""
        self.t = time.perf_counter()
        self.cpu = _cpu_seconds()

    def start(self, name: str, total: int = 1) -> None:
        self.finish()
        self.name, self.t, self.cpu = name, time.perf_counter(), _cpu_seconds()
        if self.progress:
            self.progress(name, 0, total)

    def finish(self) -> None:
        if self.name:
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            rss_mib = rss / 1024 / (1024 if sys.platform == "darwin" else 1)
            self.times[self.name] = {
                "seconds": round(time.perf_counter() - self.t, 2),
                "cpu_seconds": round(_cpu_seconds() - self.cpu, 2),
                "peak_rss_mib": round(rss_mib),
            }
            self.name = ""


def build(
    inputs: Sequence[Path] | None,
    out: Path,
    force: bool = False,
    fmt: str | None = None,
    n_process: int = 1,
    model: str | None = "default",
    progress: Callable[[str, int, int], None] | None = None,
    formats: Sequence[str] | None = None,
    scheduler: str | None = None,
    corrections: Path | None = None,
) -> BuildReport:
    """Read ``inputs`` (default: the sample corpus), build the graph and write every output to ``out``.

    ``progress(step, done, total)`` is called as the work advances. ``formats`` picks the RDF
    files besides ``kg.nt`` (default: all up to 20,000 papers, ``kg.nt`` alone above).
    ``scheduler``: a Dask scheduler address; extraction and the counting run on that cluster.
    ``corrections``: a corrections file (default: ``kg-corrections.toml`` in ``out`` or the cwd).
    """
    out = Path(out)
    _resolve_formats(formats, 0)  # a bad --formats fails before anything is read or written
    check_output_dir(out, force)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{out}: cannot create the output folder ({err.strerror}); choose another -o DIR") from err
    fixes = load_corrections(find_corrections(out, corrections))  # a bad file fails before any work
    with BuildLock(out):
        return _build(inputs, out, fmt, n_process, model, progress, formats, scheduler, fixes)


def _build(
    inputs: Sequence[Path] | None,
    out: Path,
    fmt: str | None,
    n_process: int,
    model: str | None,
    progress: Callable[[str, int, int], None] | None,
    formats: Sequence[str] | None,
    scheduler: str | None,
    fixes: Corrections | None = None,
) -> BuildReport:
    t0 = time.perf_counter()
    _clean_leftovers(out)
    stage = out / STAGING
    stage.mkdir()
    stages = _Stages(progress)
    stages.start("read")
    files = list(inputs) if inputs else sample_corpus_files()
    papers, read_report = read_corpus(files, fmt)
    report = BuildReport(read=read_report, extractor=extractor_version(model))
    report.formats = _resolve_formats(formats, len(papers))
    before = _previous_state(out)

    stages.start("extract", len(papers))
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("extract", done, len(papers))

    extractions, report.cached_papers = run_extraction(papers, out / ".cache", n_process, model, tick, scheduler)
    stages.start("normalise")
    concepts, mentions = normalise(extractions)
    # the decision goes chunk by chunk: what it drops (most mentions) and its decisions, written out
    # as they are made, leave memory with each chunk (the extractions' mentions are the same objects)
    abbreviations = {ex.paper_id: list(ex.abbreviations) for ex in extractions}
    del extractions
    by_paper: dict[str, list[Mention]] = {}
    for m in mentions:
        by_paper.setdefault(m.paper_id, []).append(m)
    del mentions
    with (stage / "decisions.jsonl").open("w", encoding="utf-8", newline="\n") as dec_file:

        def write_decisions(made: list[Decision]) -> None:
            dec_file.writelines(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in made)

        concepts, mentions = decide_in_chunks(
            papers, abbreviations, concepts, by_paper, write_decisions, processes=n_process
        )
    del abbreviations, by_paper
    concepts, mentions, report.corrections = apply_corrections(concepts, mentions, fixes or Corrections())
    report.mentions_by_type = {lab: n for lab in LABELS if (n := Counter(m.label for m in mentions)[lab])}
    report.concepts_by_type = {lab: n for lab in LABELS if (n := Counter(c.type for c in concepts.values())[lab])}
    hierarchy = induce_hierarchy(concepts, mentions, papers)  # broader/narrower concepts, with evidence

    stages.start("relations")
    relations = find_all_relations(papers, mentions)
    report.relations_by_type = dict(sorted(Counter(r.type for r in relations).items()))
    stages.start("similarity")
    pc = paper_concepts(mentions)
    if scheduler:
        from kg.build.dask import cooccurrences_on_cluster, similarities_on_cluster

        sims = similarities_on_cluster(pc, len(papers), scheduler)
        cooc = cooccurrences_on_cluster(pc, len(papers), scheduler)
    else:
        sims = paper_similarities(pc, len(papers))
        cooc = None
    stages.start("graph")
    g = build_graph(papers, concepts, mentions, relations=relations, similarities=sims, cooccurs=cooc)
    del pc
    topics = concept_topics(g)
    report.topics = len(topics)
    report.edges_by_kind = graph_counts(g)
    cooc_rows = [
        (a.split(":", 1)[1], b.split(":", 1)[1], d["papers"], d["strength"])
        for a, b, k, d in g.edges(keys=True, data=True)
        if k == "cooccurs"
    ]

    stages.start("rdf")
    # N-Triples streamed from the records (sorted in bounded memory), the rest by Oxigraph from the store
    items = triples(papers, concepts, mentions, sims, topics, relations)
    aggregates = aggregate_triples(papers, concepts, mentions, cooc_rows)
    report.triples = write_ntriples_sorted(
        (t for part in (items, aggregates, hierarchy_triples(hierarchy)) for t in part), stage / "kg.nt"
    )
    del sims, cooc_rows
    stages.start("store")
    load_store(stage / "kg.nt", stage / "store")
    for name in report.formats:  # kg.nt is written above; every other format from the store
        writer = WRITERS[name]
        if name != "nt" and writer.write is not None:
            stages.start({"ttl": "turtle"}.get(name, name))
            writer.write(stage / "store", stage / writer.file)

    stages.start("records")
    atomic_write_lines(stage / "papers.jsonl", (p.to_dict() for p in papers))
    atomic_write_lines(stage / "mentions.jsonl", (m.to_dict() for m in mentions))
    atomic_write_lines(stage / "relations.jsonl", (r.to_dict() for r in relations))
    atomic_write_text(stage / "concepts.csv", _concepts_csv(concepts))
    write_search_index(stage / SEARCH_FILE, papers, concepts)
    _graphml(g, stage / "graph.graphml")
    stages.start("views")
    write_overview(g, topics, stage)
    del g
    stages.start("report")
    from kg.export.report import write_report

    write_report(stage, papers, concepts, mentions, topics)
    report.changes = changes_between(before, papers, concepts)
    atomic_write_text(stage / CHANGES, json.dumps(report.changes, indent=1, ensure_ascii=False) + "\n")
    stages.start("swap")
    names = [*(WRITERS[f].file for f in report.formats), *RECORD_FILES]
    report.files = [str(out / f) for f in names]
    stages.finish()
    report.stages = stages.times
    report.seconds = time.perf_counter() - t0
    _swap_in(stage, out, names, json.dumps(report.to_dict(), indent=2) + "\n")
    return report
