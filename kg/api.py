"""kg as a library: build or open a knowledge graph and ask it questions from Python.

The names re-exported from :mod:`kg` are the contract::

    import kg

    g = kg.build(["papers.jsonl"], "out")      # or kg.open("out") for a finished build
    g.query("SELECT ?l WHERE { ?c a kg:Dataset ; skos:prefLabel ?l } LIMIT 3")
    g.query(name="papers-mentioning", concept="speculative decoding")
    g.neighbours("speculative decoding", hops=2)
    g.networkx("speculative decoding")          # the neighbourhood as networkx
    kg.extract(["We fine-tune BERT on SQuAD and report F1."])

A :class:`KnowledgeGraph` is a handle over a build's folder: the Oxigraph store (``store/``) and the
record files (``papers.jsonl``, ``mentions.jsonl``, ``concepts.csv``, ``graph.graphml``). Nothing is
loaded when it is opened; each method reads what it is asked for (a query's rows, a stream of
records, one neighbourhood), so the handle works on graphs larger than memory. Only
:meth:`KnowledgeGraph.networkx` without a concept loads the whole graph, since that is what it is
asked for.

Importing this module is cheap: spaCy, networkx and the build load when a function needs them.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from kg.errors import InputError, KGError, OutputError, QueryError
from kg.export.writers import WRITERS
from kg.schema import LABELS, TYPE_OF_IRI

if TYPE_CHECKING:
    import networkx as nx
    import pyoxigraph as ox

    from kg.build import BuildReport
    from kg.build.evaluate import Scores
    from kg.records import Mention, Paper
    from kg.store.neighbors import Neighbourhood

__all__ = [
    "KnowledgeGraph",
    "ConceptRecord",
    "build",
    "open",
    "extract",
    "extract_file",
    "evaluate",
    "plain",
    "rows",
    "named_queries",
    "read_query",
    "DEFAULT_OUT",
    "WRITE_FORMATS",
]

#: where :func:`build` writes when no folder is given (as ``kg build`` does)
DEFAULT_OUT = Path("outputs")
#: what :meth:`KnowledgeGraph.write` can write: RDF serialisations and the GraphML graph
WRITE_FORMATS = WRITERS  # kg.export.writers: the registry (entry-point group kg.writers)

_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = frozenset(
    _XSD + t
    for t in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
)
_FLOAT_TYPES = frozenset(_XSD + t for t in ("decimal", "double", "float"))

Value = str | int | float | bool | None
"""A plain Python value of a result row (IRIs as ``str``, unbound variables as ``None``)."""


def plain(term: object) -> Value:
    """An RDF term as a plain Python value: IRIs and strings as ``str``, numbers as ``int`` or
    ``float``, booleans as ``bool``, other literals (dates, language strings) as their lexical
    ``str``, blank nodes as ``"_:id"``, an unbound variable as ``None``.

    >>> import pyoxigraph as ox
    >>> plain(ox.NamedNode("https://schema.org/Dataset")), plain(ox.Literal(3)), plain(ox.Literal("2.50", datatype=ox.NamedNode(_XSD + "decimal")))
    ('https://schema.org/Dataset', 3, 2.5)
    """
    if term is None:
        return None
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        try:
            if dt in _INTEGER_TYPES:
                return int(term.value)
            if dt in _FLOAT_TYPES:
                return float(term.value)
        except ValueError:  # an ill-typed literal keeps its text
            return term.value
        if dt == _XSD + "boolean":
            return term.value in ("true", "1")
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def rows(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> list[dict[str, Value]]:
    """A pyoxigraph query result as :meth:`KnowledgeGraph.query` returns it: dicts of plain values."""
    import pyoxigraph as ox

    if isinstance(result, ox.QueryBoolean):
        return [{"boolean": bool(result)}]
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return [{n: plain(sol[n]) for n in names} for sol in result]
    return [{"subject": plain(t.subject), "predicate": plain(t.predicate), "object": plain(t.object)} for t in result]


def _model(model: str | None) -> str | None:
    from kg.extract.presets import resolve_model

    return resolve_model(model)


@dataclass(frozen=True)
class ConceptRecord:
    """One concept of a build, as ``concepts.csv`` lists it (most papers first)."""

    id: str
    label: str
    type: str  # METHOD, TASK, DATASET or METRIC
    papers: int  # papers mentioning it
    mentions: int
    ambiguous: bool = False  # an acronym whose sense could not be resolved
    aliases: dict[str, int] = field(default_factory=dict)  # surface form -> mentions


class KnowledgeGraph:
    """A built knowledge graph: a handle over a ``kg build`` output folder.

    Open one with :func:`open` (or get one from :func:`build`). ``store`` overrides where the
    Oxigraph store is (default: ``folder/store``). Nothing is read until a method asks for it.
    """

    def __init__(self, folder: str | Path, *, store: str | Path | None = None) -> None:
        self.folder = Path(folder)
        self.store_dir = Path(store) if store is not None else self.folder / "store"
        self.report: BuildReport | None = None  # set by :func:`build`
        self._store: ox.Store | None = None

    def __repr__(self) -> str:
        return f"KnowledgeGraph({str(self.folder)!r})"

    # -- the store and SPARQL ------------------------------------------------------------------

    @property
    def store(self) -> ox.Store:
        """The build's Oxigraph store (``pyoxigraph.Store``), opened read-only on first use."""
        if self._store is None:
            from kg.store import open_store

            self._store = open_store(self.store_dir)
        return self._store

    def results(
        self,
        sparql: str | None = None,
        *,
        name: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Like :meth:`query`, but the pyoxigraph result itself (RDF terms, ready to serialise),
        and the parameters as a mapping (so a variable may be called ``name``)."""
        from kg.store import get_named_query, run_named, run_query

        params = dict(params or {})
        for k, v in params.items():
            if not isinstance(v, str | int | float | bool):
                raise QueryError(f"parameter {k!r}: {type(v).__name__} cannot be bound; pass a str, int, float or bool")
        if name is not None:
            if sparql is not None:
                raise QueryError("give either SPARQL text or name=..., not both")
            nq = get_named_query(name)
            return run_named(
                self.store, nq, {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in params.items()}
            )
        if sparql is None:
            raise QueryError("no query given; pass SPARQL text or name=NAME (kg.named_queries() lists them)")
        # str, int, float and bool become typed literals (xsd:string, integer, double, boolean)
        return run_query(self.store, sparql, cast(dict[str, str], params))

    def query(self, sparql: str | None = None, *, name: str | None = None, **params: object) -> list[dict[str, Value]]:
        """Run SPARQL (or the named query ``name``) and return its rows as dicts of plain values.

        The prefixes ``kg:``, ``kgd:``, ``schema:``, ``dcterms:``, ``skos:``, ``prov:``, ``rdf:``,
        ``rdfs:``, ``owl:`` and ``xsd:`` are predeclared. Each keyword parameter binds the variable
        of that name to an RDF literal (a ``str`` to a string, an ``int``, ``float`` or ``bool`` to
        a typed literal) by Oxigraph's substitutions; a named query's parameters are its declared
        string parameters, bound by a ``VALUES`` block whose literal Oxigraph writes and escapes
        (:func:`kg.store.values_first`). Either way no value is spliced in as text, so none can
        change the query.
        Named queries match their label parameters against any label or alias, in any case.

        Values are plain Python (:func:`plain`): IRIs and strings as ``str``, numbers as ``int``
        or ``float``, booleans as ``bool``; an unbound variable is ``None``. An ASK query gives
        ``[{"boolean": True}]`` (or ``False``); CONSTRUCT and DESCRIBE give one dict per triple
        with ``subject``, ``predicate`` and ``object``. ``SERVICE`` (federation) and updates are
        refused. A variable named ``name`` (or ``sparql``) is bound through :meth:`results`'s
        ``params`` mapping, then :func:`rows`.
        """
        return rows(self.results(sparql, name=name, params=params))

    def label_problems(self, name: str, **params: str) -> list[str]:
        """Why a named query found nothing: for each label parameter no concept is written as (any
        case), one line naming the closest labels (an unknown label is no error, only no rows)."""
        from kg.store import get_named_query, label_problems

        return label_problems(self.store, get_named_query(name), {k: str(v) for k, v in params.items()})

    # -- records, streamed from the build's files ------------------------------------------------

    def _file(self, name: str) -> Path:
        path = self.folder / name
        if not path.is_file():
            raise KGError(f"{path}: not found; is {self.folder} a `kg build` output folder?")
        return path

    def papers(self) -> Iterator[Paper]:
        """Every paper of the build (:class:`kg.records.Paper`), streamed from ``papers.jsonl``."""
        from dataclasses import fields

        from kg.records import Paper

        names = {f.name for f in fields(Paper)}
        with self._file("papers.jsonl").open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line, strict=False)
                    yield Paper(**{k: v for k, v in d.items() if k in names})

    def mentions(self, paper: str | None = None) -> Iterator[Mention]:
        """Every mention (:class:`kg.records.Mention`), or one paper's, streamed from ``mentions.jsonl``."""
        from kg.records import Mention

        with self._file("mentions.jsonl").open(encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                d = json.loads(line, strict=False)
                if paper is not None and d["paper"] != paper:
                    continue
                yield Mention(
                    d["paper"],
                    d["start"],
                    d["end"],
                    d["text"],
                    d["label"],
                    sentence=d.get("sentence", 0),
                    confidence=d.get("confidence", 1.0),
                    producer=d.get("producer", ""),
                    role=d.get("role", "used"),
                    concept=d.get("concept", ""),
                )

    def concepts(self, type: str | None = None) -> Iterator[ConceptRecord]:  # noqa: A002 (the contract's name)
        """Every concept (:class:`ConceptRecord`), most papers first, streamed from ``concepts.csv``;
        ``type`` (METHOD, TASK, DATASET or METRIC, any case) keeps one type."""
        want = type.upper() if type is not None else None
        if want is not None and want not in LABELS:
            raise KGError(f"unknown concept type {type!r}; use one of {', '.join(LABELS)}")
        with self._file("concepts.csv").open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if want is not None and row["type"] != want:
                    continue
                aliases: dict[str, int] = {}
                for part in row["aliases"].split("|") if row["aliases"] else ():
                    alias, _, n = part.rpartition("=")
                    aliases[alias] = int(n) if n.isdigit() else 0
                yield ConceptRecord(
                    row["id"],
                    row["label"],
                    row["type"],
                    int(row["papers"]),
                    int(row["mentions"]),
                    row["ambiguous"] == "true",
                    aliases,
                )

    # -- questions answered from the store -------------------------------------------------------

    def neighbours(self, concept: str, hops: int = 1, limit: int = 15) -> Neighbourhood:
        """The concept named ``concept`` (any label or alias, any case) and up to ``limit``
        neighbours per hop, strongest first (:class:`kg.store.neighbors.Neighbourhood`). A name that
        matches nothing raises :class:`kg.errors.ConceptNotFound` with the closest labels.

        Computed by :func:`kg.store.neighbors.neighbourhood`: it reads the concept's own papers and
        their concepts (:func:`kg.store.neighbors.ranked_neighbours`), never the whole store, so the
        work grows with the concept, not with the corpus.
        """
        from kg.store.neighbors import neighbourhood

        return neighbourhood(self.store, concept, hops=hops, limit=limit)

    neighbors = neighbours

    def paper(self, paper: str) -> tuple[str, str]:
        """``(id, title)`` of the paper whose id or title (any case) is ``paper``; close titles suggested if none."""
        from kg.store import find_paper

        return find_paper(self.store, paper)

    def similar(self, paper: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The papers most related to ``paper`` (an id or exact title), best first: dicts with
        ``paper`` (id), ``title``, ``score`` (the idf of the shared concepts, summed) and
        ``shared`` (the shared concepts' labels, rarer first)."""
        from kg.store import similar_papers

        pid, _ = self.paper(paper)
        found = similar_papers(self.store, pid)
        return found if limit is None else found[:limit]

    def explain(self, paper: str) -> tuple[str, list[dict[str, Any]]]:
        """Why each candidate concept of ``paper`` (an id or exact title) was kept or dropped:
        (its title, one dict per candidate with ``concept``, ``label``, ``kept``, ``type``,
        ``score``, ``reason``, ``probabilities`` and ``evidence``), kept ones first, by score.
        Reads the build's ``decisions.jsonl``, as ``kg explain`` does."""
        from kg.normalise.decide import explain_paper

        return explain_paper(self.folder, paper)

    def topics(self) -> list[dict[str, Any]]:
        """Topics, largest first: dicts with ``topic`` (id), ``label`` (its naming concepts),
        ``size`` and ``members`` (dicts with ``id``, ``label``, ``type``, ``papers``; most-mentioned first)."""
        from kg.store import lib_rows

        topics: dict[str, dict[str, Any]] = {}
        for r in lib_rows(self.store, "topics-with-members"):
            tid = _iri_id(r["t"], "topic")
            rec = topics.setdefault(tid, {"topic": tid, "label": r["label"], "size": 0, "members": []})
            rec["members"].append(
                {
                    "id": _iri_id(r["m"], "concept"),
                    "label": r["mlabel"],
                    "type": TYPE_OF_IRI.get(r["type"], ""),
                    "papers": int(r["n"]),
                }
            )
            rec["size"] += 1
        ranked = sorted(topics.values(), key=lambda x: (-x["size"], x["topic"]))
        for rec in ranked:
            rec["members"].sort(key=lambda m: (-m["papers"], m["label"], m["id"]))
        return ranked

    def networkx(self, concept: str | None = None, hops: int | None = None, limit: int = 15) -> nx.MultiDiGraph:
        """The graph as a ``networkx.MultiDiGraph``: the whole of it (read from ``graph.graphml``:
        paper and concept nodes, ``mentions``, ``similar``, ``cooccurs`` and relation edges), or
        the neighbourhood of ``concept`` out to ``hops`` (default 1), read from the store.

        Nodes are ``paper:<id>`` and ``concept:<id>`` in both; a neighbourhood's concept nodes
        carry ``label``, ``type`` and ``hop`` (0 for ``concept``), its ``cooccurs`` edges
        ``papers`` (the linking papers' count), ``titles`` and ``strength``.
        """
        import networkx as nx

        if concept is None:
            if hops is not None:
                raise KGError("hops needs a concept: networkx(concept, hops=N)")
            return nx.read_graphml(self._file("graph.graphml"), force_multigraph=True)
        nb = self.neighbours(concept, hops=hops or 1, limit=limit)
        g: nx.MultiDiGraph = nx.MultiDiGraph()
        center = f"concept:{_iri_id(nb.concept, 'concept')}"
        g.add_node(center, kind="concept", label=nb.label, type=nb.type, papers=nb.paper_count, hop=0)
        for n in nb.neighbours:
            node = f"concept:{_iri_id(n.concept, 'concept')}"
            g.add_node(node, kind="concept", label=n.label, type=n.type, hop=n.hop)
            g.add_edge(
                f"concept:{_iri_id(n.via, 'concept')}",
                node,
                key="cooccurs",
                kind="cooccurs",
                papers=len(n.papers),
                titles=list(n.papers),
                strength=n.score,
            )
        return g

    # -- writing -------------------------------------------------------------------------------

    def write(self, folder: str | Path, formats: Sequence[str] | str = ("nt", "ttl", "jsonld")) -> dict[str, Path]:
        """Write the graph into ``folder`` in each of ``formats`` and return the files by format.

        ``nt`` (sorted N-Triples), ``ttl``, ``jsonld``, ``xml`` (RDF/XML), ``graphml`` and any format
        a plug-in registers (:data:`kg.export.writers.WRITERS`). A file
        the build already wrote is copied; the others are serialised from the store by Oxigraph,
        streaming (the graph is never held in memory). Files are written aside and renamed.
        """
        wanted = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
        bad = [f for f in wanted if f not in WRITERS]
        if bad:
            raise KGError(f"unknown format {bad[0]!r}; use {', '.join(WRITERS.names())}")
        dest = Path(folder)
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"{dest}: cannot create the folder ({err.strerror}); choose another") from err
        written: dict[str, Path] = {}
        for f in dict.fromkeys(wanted):
            writer = WRITERS[f]
            src, path = self.folder / writer.file, dest / writer.file
            if src.is_file():
                if src.resolve() != path.resolve():
                    tmp = path.with_name(f".{path.name}.tmp")
                    shutil.copyfile(src, tmp)
                    tmp.replace(path)
            elif writer.write is None:
                raise KGError(f"{src}: not found; {f} is written by `kg build` only")
            else:
                self.store  # noqa: B018 (a missing store fails here, in one line)
                writer.write(self.store_dir, path)
            written[f] = path
        return written


def read_query(text: str) -> str:
    """SPARQL given as text, or as ``@path`` to read it from a UTF-8 file (as ``kg query`` takes it).

    >>> read_query("ASK { ?s ?p ?o }")
    'ASK { ?s ?p ?o }'
    """
    if not text.startswith("@"):
        return text
    path = Path(text[1:])
    if not path.is_file():
        raise QueryError(f"{path}: query file not found; check the path after @")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise QueryError(f"{path}: cannot be read as UTF-8 text ({e}); check the file after @") from e


def named_queries() -> dict[str, Any]:
    """The named queries shipped with kg (:class:`kg.store.NamedQuery`: ``description``, ``params``, ``text``), by name."""
    from kg.store import named_queries as shipped

    return dict(shipped())


def _iri_id(iri: str, kind: str) -> str:
    """The id a data IRI was minted from (``.../concept/a%20b`` -> ``a b``)."""
    return unquote(iri.rsplit(f"/{kind}/", 1)[-1])


def build(
    inputs: Iterable[str | Path] | str | Path | None = None,
    out: str | Path | None = None,
    *,
    model: str | None = "default",
    processes: int = 1,
    force: bool = False,
    formats: Sequence[str] | None = None,
    fmt: str | None = None,
    corrections: str | Path | None = None,
    scheduler: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> KnowledgeGraph:
    """Build a knowledge graph from corpus files and return it, opened.

    ``inputs``: corpus files (Daily Papers ``.txt``, ``.jsonl``, ``.csv``/``.tsv``; one path or
    several); ``None`` reads the bundled sample corpus. ``out``: the output folder (default
    ``outputs/``), written as ``kg build -o`` writes it: incremental (an unchanged paper is not
    extracted again), crash-safe, refusing a non-empty folder kg did not make unless ``force``.
    ``model``: ``"default"``, ``"accurate"``, ``"none"`` (rules only) or a spaCy pipeline folder;
    ``processes``: extraction processes. ``formats``, ``fmt``, ``corrections``, ``scheduler`` and
    ``progress(stage, done, total)`` are those of :func:`kg.build.build`. The build's summary is
    the result's ``report`` (:class:`kg.build.BuildReport`).
    """
    from kg.build import build as run_build

    if isinstance(inputs, str | Path):
        inputs = [inputs]
    files = [Path(p) for p in inputs] if inputs is not None else None
    folder = Path(out) if out is not None else DEFAULT_OUT
    report = run_build(
        files,
        folder,
        force=force,
        fmt=fmt,
        n_process=processes,
        model=_model(model),
        progress=progress,
        formats=formats,
        scheduler=scheduler,
        corrections=Path(corrections) if corrections is not None else None,
    )
    g = KnowledgeGraph(folder)
    g.report = report
    return g


def open(folder: str | Path) -> KnowledgeGraph:  # noqa: A001 (kg.open, as the contract names it)
    """Open a finished build: its output folder (the one holding ``store/``), or the store itself.

    Fails at once, in one line (:class:`kg.errors.StoreError`), when there is no store.
    """
    path = Path(folder)
    g = (
        KnowledgeGraph(path)
        if (path / "store").is_dir() or path.name != "store"
        else KnowledgeGraph(path.parent, store=path)
    )
    g.store  # noqa: B018 (open now: a wrong folder fails here rather than at the first query)
    return g


def _to_paper(item: object, i: int) -> Paper:
    from kg.corpus.readers import record_to_paper
    from kg.records import Paper

    if isinstance(item, Paper):
        return item
    if isinstance(item, str):
        rec: Mapping[str, object] = {"text": item}
    elif isinstance(item, Mapping):
        rec = item
    else:
        raise InputError(
            f"record {i}: a {type(item).__name__}; give a str, a dict (id, title, abstract or text) "
            "or a kg.records.Paper"
        )
    warnings: list[str] = []
    paper = record_to_paper(dict(rec), f"record {i}", warnings)
    if paper is None:
        raise InputError("; ".join(warnings) or f"record {i}: no text")
    return paper


def extract(
    texts_or_records: str | Iterable[str | Mapping[str, object] | Paper],
    model: str | None = "default",
    *,
    processes: int = 1,
    decision: bool = True,
    explain: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the extractor alone and return what ``kg extract`` writes: one ``{"id", "mentions"}``
    per input, in order.

    Inputs are texts (``str``; the first line is the title), records (dicts with ``id`` and
    ``title`` + ``abstract``, or ``text``) or :class:`kg.records.Paper`. Each mention has
    ``start``, ``end`` (offsets into the text, or ``title + "\\n" + abstract``), ``text``,
    ``label``, ``concept``, ``concept_label``, ``confidence`` and ``role`` (``proposed`` or
    ``used``). ``model`` as in :func:`build`; ``decision=False`` keeps every recognised mention;
    ``explain`` adds each record's candidate decisions; ``progress(n)`` is called as ``n`` more
    inputs are read.
    """
    from kg.build.extraction import extract_records

    items = [texts_or_records] if isinstance(texts_or_records, str) else list(texts_or_records)
    papers = [_to_paper(x, i) for i, x in enumerate(items)]
    return extract_records(papers, _model(model), processes, progress, decision=decision, explain=explain)


def extract_file(
    path: str | Path,
    out: str | Path,
    model: str | None = "default",
    *,
    fmt: str | None = None,
    processes: int = 1,
    decision: bool = True,
    explain: bool = False,
    warnings: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """:func:`extract` over a corpus file (any reader's format; ``fmt`` forces one), written to
    ``out`` as JSONL, one line per input record (aside, then renamed), as ``kg extract`` writes it.
    Skipped records are reported in ``warnings``. Returns (records, mentions)."""
    from kg.build.extraction import extract_file as run_extract_file

    return run_extract_file(
        Path(path), Path(out), fmt, _model(model), processes, warnings, progress, decision=decision, explain=explain
    )


def evaluate(
    gold: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    paper_level: bool = False,
    papers: str | Path | None = None,
    model: str | None = "default",
    processes: int = 1,
    predictions: str | Path | None = None,
) -> Scores:
    """Score the extractor against a gold file, as ``kg eval`` does: exact character spans
    (``mapping`` maps gold labels to kg's), or with ``paper_level`` the concepts of each paper
    against concept-level gold (``papers``: the papers' JSONL, default ``papers.jsonl`` beside
    it). ``predictions``: also write what the extractor found. See :mod:`kg.build.evaluate`."""
    from kg.build.evaluate import evaluate as run_evaluate

    return run_evaluate(
        Path(gold),
        dict(mapping) if mapping is not None else None,
        paper_level,
        Path(papers) if papers is not None else None,
        _model(model),
        processes,
        Path(predictions) if predictions is not None else None,
    )
