"""The whole job: corpus files → every output kg writes, in one call.

The CLI's ``kg build`` is a thin shell over :func:`build`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pyoxigraph as ox

from kg.corpus import ReadReport, read_corpus, sample_corpus_files
from kg.errors import OutputError
from kg.extract.pipeline import Extraction, build_pipeline, extract, extractor_version
from kg.graph import build_graph, concept_topics, graph_counts, paper_concepts, paper_similarities
from kg.io import atomic_write_lines, atomic_write_text, atomic_writer
from kg.normalise import normalise
from kg.rdf import triples, write_ntriples_stream
from kg.records import LABELS, Concept, Mention, Paper, Relation
from kg.relations import paper_relations
from kg.store import dump_store, load_store
from kg.views import write_overview

__all__ = ["BuildReport", "build", "MARKER", "check_output_dir", "extraction_cache_key"]

MARKER = ".kg-build.json"
OUTPUT_FILES = (
    "kg.ttl", "kg.nt", "kg.jsonld", "papers.jsonl", "mentions.jsonl", "relations.jsonl", "concepts.csv",
    "graph.graphml", "graph.html", "overview.json", "report.html", "figures", "store",
)


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
            "extractor": self.extractor,
            "cached_papers": self.cached_papers,
            "seconds": round(self.seconds, 2),
        }


def check_output_dir(out: Path, force: bool) -> None:
    """Refuse to write into a non-empty directory that kg did not make, unless ``force``."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a directory; choose another -o DIR")
    if not out.exists() or (out / MARKER).exists():
        return
    entries = [p for p in out.iterdir() if p.name not in (".gitkeep",)]
    if not entries:
        return
    if not force:
        raise OutputError(
            f"{out}: not empty and not a kg output directory; choose another -o DIR or pass --force to replace it"
        )
    shutil.rmtree(out)


def extraction_cache_key(text: str, version: str) -> str:
    return hashlib.sha1(f"{version}\x00{text}".encode()).hexdigest()


def _ex_to_json(ex: Extraction) -> dict[str, object]:
    return {
        "mentions": [[m.start, m.end, m.label, m.sentence, m.sentence_start, m.sentence_end,
                      m.confidence, m.producer, m.role] for m in ex.mentions],
        "abbreviations": ex.abbreviations,
    }


def _ex_from_json(pid: str, text: str, d: dict[str, list[list[object]]]) -> Extraction:
    ex = Extraction(pid)
    for s, e, lab, sent, ss, se, conf, prod, role in d["mentions"]:
        ex.mentions.append(Mention(pid, int(s), int(e), text[int(s):int(e)], str(lab), int(sent), int(ss), int(se),  # type: ignore[call-overload]
                                   float(conf), str(prod), str(role)))  # type: ignore[arg-type]
    ex.abbreviations = [(str(a), str(b)) for a, b in d["abbreviations"]]
    return ex


def run_extraction(
    papers: Sequence[Paper],
    cache_dir: Path | None,
    n_process: int = 1,
    model: str | None = "default",
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Extraction], int]:
    """Extract every paper, reusing cached results keyed by (text, extractor version)."""
    cache: dict[str, dict[str, list[list[object]]]] = {}
    version = extractor_version(model)
    cache_file = cache_dir / f"extract-{version}.jsonl" if cache_dir else None
    if cache_file and cache_file.exists():
        with cache_file.open(encoding="utf-8") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                    cache[rec["key"]] = rec["value"]
                except (json.JSONDecodeError, KeyError):
                    continue  # a damaged cache line only costs a re-extraction
    results: dict[str, Extraction] = {}
    todo = []
    for p in papers:
        hit = cache.get(extraction_cache_key(p.text, version))
        if hit is not None:
            results[p.id] = _ex_from_json(p.id, p.text, hit)
            if progress:
                progress(1)
        else:
            todo.append(p)
    cached = len(results)
    if todo:
        nlp = build_pipeline(model)
        by_id = {p.id: p for p in todo}
        for ex in extract(todo, nlp, n_process=n_process, progress=progress):
            results[ex.paper_id] = ex
            cache[extraction_cache_key(by_id[ex.paper_id].text, version)] = _ex_to_json(ex)  # type: ignore[assignment]
    if cache_file is not None:
        keep = {extraction_cache_key(p.text, version) for p in papers}
        atomic_write_lines(cache_file, ({"key": k, "value": v} for k, v in sorted(cache.items()) if k in keep))
    return [results[p.id] for p in papers], cached


def find_all_relations(papers: Sequence[Paper], mentions: Sequence[Mention]) -> list[Relation]:
    """Relations of every paper, from its merged mentions (see :mod:`kg.relations`)."""
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
        w.writerow([c.id, c.label, c.type, c.paper_count, c.mention_count, str(c.ambiguous).lower(),
                    "|".join(f"{a}={n}" for a, n in sorted(c.aliases.items()))])
    return buf.getvalue()


def _graphml(g: nx.MultiDiGraph, path: Path) -> None:
    """GraphML of the graph; characters XML cannot hold (control characters) are written as visible escapes."""
    from kg.io import xml_text

    def clean(v: object) -> object:
        return xml_text(v) if isinstance(v, str) else v

    h = nx.MultiDiGraph()
    h.graph.update({k: clean(v) for k, v in g.graph.items()})
    for n, d in g.nodes(data=True):
        h.add_node(clean(n), **{k: clean(v) for k, v in d.items()})
    for u, v, k, d in g.edges(keys=True, data=True):
        h.add_edge(clean(u), clean(v), key=clean(k), **{a: clean(b) for a, b in d.items()})
    with atomic_writer(path) as tmp:
        nx.write_graphml(h, tmp, encoding="utf-8", prettyprint=True, named_key_ids=True)


def build(
    inputs: Sequence[Path] | None,
    out: Path,
    force: bool = False,
    fmt: str | None = None,
    n_process: int = 1,
    model: str | None = "default",
    progress: Callable[[str, int, int], None] | None = None,
) -> BuildReport:
    """Read ``inputs`` (default: the sample corpus), build the graph and write every output to ``out``.

    ``progress(step, done, total)`` is called as the work advances.
    """
    t0 = time.perf_counter()
    out = Path(out)
    check_output_dir(out, force)
    out.mkdir(parents=True, exist_ok=True)
    files = list(inputs) if inputs else sample_corpus_files()
    papers, read_report = read_corpus(files, fmt)
    report = BuildReport(read=read_report, extractor=extractor_version(model))

    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("extract", done, len(papers))

    extractions, report.cached_papers = run_extraction(papers, out / ".cache", n_process, model, tick)
    if progress:
        progress("normalise", 0, 1)
    concepts, mentions = normalise(extractions)
    report.mentions_by_type = {lab: n for lab in LABELS if (n := Counter(m.label for m in mentions)[lab])}
    report.concepts_by_type = {lab: n for lab in LABELS if (n := Counter(c.type for c in concepts.values())[lab])}

    relations = find_all_relations(papers, mentions)
    report.relations_by_type = dict(sorted(Counter(r.type for r in relations).items()))
    if progress:
        progress("graph", 0, 1)
    sims = paper_similarities(paper_concepts(mentions), len(papers))
    g = build_graph(papers, concepts, mentions, relations=relations, similarities=sims)
    topics = concept_topics(g)
    report.topics = len(topics)
    report.edges_by_kind = graph_counts(g)

    if progress:
        progress("rdf", 0, 1)
    marker = out / MARKER
    marker.unlink(missing_ok=True)  # an interrupted build is not mistaken for a finished one
    # streamed: N-Triples straight from the records, Turtle and JSON-LD by Oxigraph from the store
    with atomic_writer(out / "kg.nt") as tmp:
        report.triples = write_ntriples_stream(triples(papers, concepts, mentions, sims, topics, relations), tmp)
    if progress:
        progress("store", 0, 1)
    load_store(out / "kg.nt", out / "store")
    dump_store(out / "store", out / "kg.ttl", ox.RdfFormat.TURTLE)
    dump_store(out / "store", out / "kg.jsonld", ox.RdfFormat.JSON_LD)

    atomic_write_lines(out / "papers.jsonl", (p.to_dict() for p in papers))
    atomic_write_lines(out / "mentions.jsonl", (m.to_dict() for m in mentions))
    atomic_write_lines(out / "relations.jsonl", (r.to_dict() for r in relations))
    atomic_write_text(out / "concepts.csv", _concepts_csv(concepts))
    _graphml(g, out / "graph.graphml")
    if progress:
        progress("views", 0, 1)
    write_overview(g, topics, out)
    if progress:
        progress("report", 0, 1)
    from kg.report import write_report

    write_report(out, papers, concepts, mentions, topics)
    report.files = [str(out / f) for f in OUTPUT_FILES]
    report.seconds = time.perf_counter() - t0
    atomic_write_text(marker, json.dumps(report.to_dict(), indent=2) + "\n")
    return report
