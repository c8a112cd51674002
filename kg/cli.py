"""The ``kg`` command line: a thin shell over :mod:`kg.api` (progress, tables, one-line errors); ``kg serve`` runs :mod:`kg.web.serve`."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from kg.corpus.readers import READERS
from kg.corpus.readers import _extensions as _reader_extensions
from kg.errors import KGError
from kg.extract.presets import EXTRACTORS, resolve_model
from kg.io import output_error, terminal_text
from kg.store.results import FORMATS as SPARQL_RESULT_FORMATS

if TYPE_CHECKING:
    from kg.api import KnowledgeGraph

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="kg: build a knowledge graph of methods, tasks, datasets and metrics from paper abstracts.",
)
out = Console()
err = Console(stderr=True)

DEFAULT_OUT = Path("outputs")


def _t(value: object) -> Text:
    """User text for the terminal: never read as markup, control characters shown escaped."""
    return Text(terminal_text(str(value)))


def _fail(e: Exception) -> typer.Exit:
    err.print(Text("error:", style="bold red"), _t(e), highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _warn(msg: str) -> None:
    err.print(Text("warning:", style="yellow"), _t(msg), highlight=False, soft_wrap=True)


def _n(count: int, word: str, many: str = "") -> str:
    """``1 paper``, ``2 papers``."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def _note(msg: str) -> None:
    err.print(_t(msg), highlight=False, soft_wrap=True)


def _model(model: str) -> str | None:
    """``--model``: a preset's name (:data:`kg.extract.presets.EXTRACTORS`), or the directory of a
    trained spaCy pipeline, checked before any work."""
    return resolve_model(model)


def _or(names: Sequence[str]) -> str:
    """``a, b or c``: a list of choices for help texts and errors.

    >>> _or(["table", "json", "csv"])
    'table, json or csv'
    """
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


#: the help of --model: every preset (plug-ins' too) with what it is
_MODEL_HELP = ", ".join(f"'{n}' ({p.description})" for n, p in EXTRACTORS.items()) + " or a spaCy pipeline path."


def _write_out(data: str) -> None:
    """Query results to stdout: verbatim into a pipe or file, control characters escaped on a terminal."""
    sys.stdout.write(terminal_text(data) if sys.stdout.isatty() else data)


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
        transient=False,
    )


class _RateColumn(ProgressColumn):
    """Items per second of a stage that counts items (papers); blank for one-step stages."""

    def render(self, task: Any) -> Text:
        if task.total is None or task.total <= 1 or not task.speed:
            return Text("")
        return Text(f"{task.speed:,.1f}/s", style="progress.data.speed")


def _build_progress(quiet: bool) -> Progress:
    """Per stage: bar, done/total, rate, elapsed and time remaining (ETA)."""
    return Progress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=False,
        speed_estimate_period=60.0,
    )


def _formats_help() -> str:
    from kg.export.writers import store_formats

    return (
        f"RDF files to write, comma-separated: {','.join(store_formats())} (kg.nt is always written: the store "
        "loads from it; plug-in writers too). Default: nt,ttl,jsonld up to 20,000 papers, kg.nt alone above."
    )


_FORMATS_HELP = _formats_help()


def _formats(value: str | None) -> list[str] | None:
    return None if value is None else [f.strip().lower() for f in value.split(",") if f.strip()]


@app.command()
def build(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(
            help=f"Corpus files ({', '.join(sorted(_reader_extensions()))}); default: the bundled sample corpus."
        ),
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output directory.")] = DEFAULT_OUT,
    force: Annotated[bool, typer.Option("--force", help="Replace an output directory kg did not make.")] = False,
    fmt: Annotated[
        str | None, typer.Option("--format", help=f"Input format for every file: {_or(READERS.names())}.")
    ] = None,
    processes: Annotated[int, typer.Option("-j", "--processes", min=1, help="Extraction processes.")] = 1,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help=_MODEL_HELP,
        ),
    ] = "default",
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
    formats: Annotated[
        str | None,
        typer.Option(
            "--formats",
            help=_FORMATS_HELP,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="A Dask scheduler address (tcp://host:8786): extraction and the counting run on that cluster (needs kg's dask extra).",
        ),
    ] = None,
    corrections: Annotated[
        Path | None,
        typer.Option(
            "--corrections", help="A corrections file (default: kg-corrections.toml in the output folder or here)."
        ),
    ] = None,
) -> None:
    """Read a corpus and write the knowledge graph: RDF, SPARQL store, records, GraphML and HTML."""
    from kg.api import build as run_build
    from kg.build import changes_line

    with _build_progress(quiet) as prog:
        tasks: dict[str, TaskID] = {}

        def on(step: str, done: int, total: int) -> None:
            if step not in tasks:
                for t in tasks.values():
                    prog.update(t, completed=prog.tasks[t].total)
                tasks[step] = prog.add_task(step, total=total or 1)
            prog.update(tasks[step], completed=done, total=total or 1)

        try:
            report = run_build(
                inputs,
                output,
                force=force,
                fmt=fmt,
                processes=processes,
                formats=_formats(formats),
                scheduler=scheduler,
                model=_model(model),
                progress=on,
                corrections=corrections,
            ).report
            assert report is not None  # kg.api.build always sets it
        except KGError as e:
            raise _fail(e) from e
        except OSError as e:  # the output directory cannot be made or written
            if not e.filename:
                raise _fail(KGError(f"{e}; check the paths given")) from e
            raise _fail(output_error(e.filename, e)) from e
        for t in tasks.values():
            prog.update(t, completed=prog.tasks[t].total)
    for w in report.read.warnings:
        _warn(w)
    r = report.read
    summary = Table(title="kg build", show_header=False, box=None)
    summary.add_row(
        "papers read",
        f"{_n(r.entries, 'entry', 'entries')} from {_n(len(r.files) - len(r.failed_files), 'file')} → {_n(r.papers, 'paper')}",
    )
    summary.add_row("duplicates merged", str(r.duplicates))
    summary.add_row(
        "mentions",
        ", ".join(f"{k.lower()} {v}" for k, v in report.mentions_by_type.items())
        + f" (total {sum(report.mentions_by_type.values())})",
    )
    summary.add_row(
        "concepts",
        ", ".join(f"{k.lower()} {v}" for k, v in report.concepts_by_type.items())
        + f" (total {sum(report.concepts_by_type.values())})",
    )
    summary.add_row("edges", ", ".join(f"{k} {v}" for k, v in report.edges_by_kind.items()))
    summary.add_row("relations", ", ".join(f"{k} {v}" for k, v in report.relations_by_type.items()) or "none")
    summary.add_row("topics", str(report.topics))
    if report.corrections:
        summary.add_row("corrections", _t("\n".join(report.corrections)))
    summary.add_row("triples", str(report.triples))
    summary.add_row("changes", _t(changes_line(report.changes)))
    summary.add_row("files written", _t("\n".join(report.files)))
    summary.add_row(
        "seconds",
        f"{report.seconds:.1f}"
        + (f" ({_n(report.cached_papers, 'paper')} from cache)" if report.cached_papers else ""),
    )
    out.print(summary)


def _graph(store: Path) -> KnowledgeGraph:
    """The built graph whose store is ``store`` (:class:`kg.api.KnowledgeGraph`); opened on first use."""
    from kg.api import KnowledgeGraph

    return KnowledgeGraph(store.parent, store=store)


_QUERY_FORMATS = ("table", *SPARQL_RESULT_FORMATS)


def _parse_params(params: list[str]) -> dict[str, str]:
    out_: dict[str, str] = {}
    for p in params:
        k, sep, v = p.partition("=")
        if not sep or not k.strip():
            raise KGError(f"bad --param {p!r}; write it as key=value")
        out_[k.strip()] = v
    return out_


@app.command()
def query(
    sparql: Annotated[str | None, typer.Argument(help="SPARQL text, or @file.rq to read it from a file.")] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="Run a named query (see --list).")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Bind a parameter: key=value (repeatable).")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the named queries and their parameters.")] = False,
    store: Annotated[Path, typer.Option("--store", help="The Oxigraph store directory.")] = DEFAULT_OUT / "store",
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"{_or(_QUERY_FORMATS)} (SPARQL 1.1 Query Results formats).")
    ] = "table",
) -> None:
    """Run SPARQL against the store; the usual prefixes (kg:, schema:, dcterms:, skos:, prov:, ...) are predeclared."""
    from kg.store import collect, get_named_query, named_queries, term_text
    from kg.store.results import serialize

    try:
        if list_:
            t = Table(title="named queries")
            t.add_column("name")
            t.add_column("parameters")
            t.add_column("description")
            for q in named_queries().values():
                t.add_row(q.name, "\n".join(f"{k}: {v}" for k, v in q.params.items()) or "-", q.description)
            out.print(t)
            return
        if fmt not in _QUERY_FORMATS:
            raise KGError(f"unknown --format {fmt!r}; use {_or(_QUERY_FORMATS)}")
        params = _parse_params(param or [])
        text: str | None = None  # with --name, the named query's own
        if name:
            if sparql:
                raise KGError("give either SPARQL text or --name, not both")
            get_named_query(name)  # an unknown name fails before the store is opened
        elif sparql:
            from kg.api import read_query

            text = read_query(sparql)
        else:
            raise KGError("no query given; pass SPARQL text, @file.rq or --name NAME (see --list)")
        graph = _graph(store)
        result = graph.results(text, name=name, params=params)
        if fmt != "table":
            _write_out(serialize(result, fmt).decode("utf-8", "replace"))
            if fmt == "json":
                sys.stdout.write("\n")
            return
        res = collect(result)
        if res.boolean is not None:
            out.print("true" if res.boolean else "false")
            return
        if res.triples is not None:
            for tr in res.triples:
                _write_out(f"{tr.subject} {tr.predicate} {tr.object} .\n")
            return
        t = Table(show_lines=False)
        for v in res.variables:
            t.add_column(v, overflow="fold")
        for row in res.rows:
            t.add_row(*[_t(term_text(x)) for x in row])
        out.print(t)
        err.print(f"{len(res.rows)} row" + ("" if len(res.rows) == 1 else "s"))
        if name and not res.rows:  # say why: a label no concept is written as, and the close ones
            for problem in graph.label_problems(name, **params):
                _note(problem)
    except KGError as e:
        raise _fail(e) from e


@app.command()
def neighbors(
    name: Annotated[str, typer.Argument(help="A concept label or alias, e.g. 'speculative decoding'.")],
    hops: Annotated[int, typer.Option("--hops", min=1, max=3, help="How many hops out.")] = 1,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Neighbours kept per concept and hop.")] = 15,
    store: Annotated[Path, typer.Option("--store", help="The Oxigraph store directory.")] = DEFAULT_OUT / "store",
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Also write an interactive view to this file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show a concept's neighbourhood: related concepts and the papers that link them, strongest first."""
    try:
        nb = _graph(store).neighbours(name, hops=hops, limit=limit)
    except KGError as e:
        raise _fail(e) from e
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "concept": nb.concept,
                    "label": nb.label,
                    "type": nb.type,
                    "papers": nb.paper_count,
                    "through_narrower": nb.through_narrower,
                    "neighbours": [n.__dict__ for n in nb.neighbours],
                    "broader": nb.broader,
                    "narrower": nb.narrower,
                }
            )
        )
    else:
        count = _n(nb.paper_count, "paper") + (" through its narrower concepts" if nb.through_narrower else "")
        t = Table(title=_t(f"{nb.label} ({nb.type.lower()}, {count})"))
        for col in ("hop", "concept", "type", "papers", "via", "linking papers"):
            t.add_column(col, overflow="fold")
        for n in nb.neighbours:
            shown = "; ".join(n.papers[:2]) + (f" (+{len(n.papers) - 2} more)" if len(n.papers) > 2 else "")
            t.add_row(str(n.hop), _t(n.label), n.type.lower(), str(len(n.papers)), _t(n.via_label), _t(shown))
        out.print(t)
        for title, rows in (("broader", nb.broader), ("narrower", nb.narrower)):
            if rows:
                shown = "; ".join(f"{r['label']} ({_n(int(r['papers']), 'paper')}, {r['rule']})" for r in rows[:12])
                more = f" (+{len(rows) - 12} more)" if len(rows) > 12 else ""
                out.print(_t(f"{title}: {shown}{more}"))
    if html_file is not None:
        from kg.graph.views import neighbourhood_data, render_html

        data = neighbourhood_data(
            nb.concept,
            nb.label,
            nb.type,
            [(n.concept, n.label, n.type, len(n.papers), n.score, n.via, n.hop) for n in nb.neighbours],
        )
        try:
            render_html(data, html_file)
        except KGError as e:
            raise _fail(e) from e
        except OSError as e:
            raise _fail(output_error(html_file, e)) from e
        _note(f"wrote {html_file}")


@app.command()
def extract(
    input_file: Annotated[Path, typer.Argument(help="A corpus file, or JSONL with id and text (or title + abstract).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output JSONL, one line per input record.")],
    fmt: Annotated[str | None, typer.Option("--format", help=f"Input format: {_or(READERS.names())}.")] = None,
    model: Annotated[
        str,
        typer.Option("--model", help=_MODEL_HELP),
    ] = "default",
    processes: Annotated[int, typer.Option("-j", "--processes", min=1)] = 1,
    quiet: Annotated[bool, typer.Option("-q", "--quiet")] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Add each record's decisions: every candidate concept, kept or dropped, with score and features.",
        ),
    ] = False,
    all_mentions: Annotated[
        bool,
        typer.Option("--all-mentions", help="Keep every recognised mention (no concept decision): span-level output."),
    ] = False,
) -> None:
    """Run the extractor alone: mentions with offsets, labels, concepts and roles."""
    from kg.api import extract_file
    from kg.io import check_writable

    warnings: list[str] = []
    try:
        model_ = _model(model)
        check_writable(output)  # before the extraction, not after it
        with _progress(quiet) as prog:
            task = prog.add_task("extract", total=None)
            n, m = extract_file(
                input_file,
                output,
                model_,
                fmt=fmt,
                processes=processes,
                warnings=warnings,
                progress=lambda k: prog.advance(task, k),
                decision=not all_mentions,
                explain=explain,
            )
    except KGError as e:
        for w in warnings:
            _warn(w)
        raise _fail(e) from e
    for w in warnings:
        _warn(w)
    _note(f"{n} records, {m} mentions → {output}")


@app.command()
def explain(
    paper: Annotated[str, typer.Argument(help="A paper id or exact title of the build.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The build's output directory.")] = DEFAULT_OUT,
    features: Annotated[int, typer.Option("--features", help="How many features to show per candidate.")] = 6,
    as_json: Annotated[bool, typer.Option("--json", help="Every decision as JSON.")] = False,
) -> None:
    """Why each candidate concept of a paper was kept or dropped: score, type, features."""
    from kg.api import KnowledgeGraph

    try:
        title, rows = KnowledgeGraph(output).explain(paper)
    except KGError as e:
        raise _fail(e) from e
    if as_json:
        typer.echo(json.dumps({"paper": paper, "title": title, "decisions": rows}, indent=1))
        return
    out = Console()
    table = Table(title=_t(f"{title} — candidate concepts"), show_lines=False)
    for col in ("", "concept", "type", "P(listed)", "why (strongest evidence)"):
        table.add_column(col)
    for r in rows:
        why = ", ".join(f"{k}={v:g}" for k, v in list(r["evidence"].items())[:features])
        table.add_row(
            "kept" if r["kept"] else "dropped",
            _t(r["label"]),
            r["type"],
            f"{r['score']:.2f}",
            _t(
                f"same meaning as {r['joins']} in this paper (p={r['join_probability']:.2f}); {why}"
                if r.get("joins")
                else why
                if r["reason"] == "model"
                else f"{r['reason']}; {why}"
            ),
        )
    out.print(table)


@app.command()
def similar(
    paper: Annotated[str, typer.Argument(help="A paper id or its exact title.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many papers.")] = 10,
    store: Annotated[Path, typer.Option("--store", help="The Oxigraph store directory.")] = DEFAULT_OUT / "store",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Also write an interactive view to this file.")
    ] = None,
) -> None:
    """The papers most related to a paper, with a score and the shared concepts that make it."""
    try:
        g = _graph(store)
        pid, title = g.paper(paper)
        rows = g.similar(pid, limit=limit)
    except KGError as e:
        raise _fail(e) from e
    if html_file is not None:
        from kg.graph.views import render_html, similarity_data

        try:
            render_html(similarity_data(pid, title, rows), html_file)
        except KGError as e:
            raise _fail(e) from e
        except OSError as e:
            raise _fail(output_error(html_file, e)) from e
        _note(f"wrote {html_file}")
    if as_json:
        out.print_json(json.dumps({"paper": pid, "title": title, "similar": rows}))
        return
    t = Table(title=_t(f"papers related to {title} ({pid})"))
    for col in ("score", "paper", "title", "shared concepts (rarer first)"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(f"{r['score']:.2f}", _t(r["paper"]), _t(r["title"]), _t(", ".join(r["shared"])))
    out.print(t)


@app.command()
def topics(
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many topics.")] = 30,
    store: Annotated[Path, typer.Option("--store", help="The Oxigraph store directory.")] = DEFAULT_OUT / "store",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Topics: communities of the concepts that link papers, named by their most distinctive concepts, largest first.

    ``--json`` lists each topic's members (id, label, type, papers), most-mentioned first.
    """
    try:
        ranked = _graph(store).topics()
    except KGError as e:
        raise _fail(e) from e
    rows = ranked[:limit]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    t = Table(title=f"{len(ranked)} topics")
    for col in ("size", "topic", "named by", "most-mentioned members"):
        t.add_column(col, overflow="fold")
    for rec in rows:
        t.add_row(
            str(rec["size"]), _t(rec["topic"]), _t(rec["label"]), _t(", ".join(m["label"] for m in rec["members"][:5]))
        )
    out.print(t)


@app.command()
def serve(
    store: Annotated[Path, typer.Option("--store", help="The Oxigraph store directory.")] = DEFAULT_OUT / "store",
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (default: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8077,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds a query may run.")] = 10.0,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=1, help="Result rows (or triples) a query may return.")
    ] = 10_000,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Also answer requests whose Host header names NAME (repeatable; '*' for any). By default only the bound address, 127.0.0.1, localhost and [::1] are.",
            metavar="NAME",
        ),
    ] = None,
    max_queries: Annotated[
        int,
        typer.Option(
            "--max-queries",
            min=1,
            help="SPARQL queries started at once (query processes); long ones (0.5 s of CPU) move to half as many slots of their own.",
        ),
    ] = 4,
    allow_corrections: Annotated[
        bool,
        typer.Option(
            "--allow-corrections",
            help="Concept pages get a form (drop, retype, rename, merge, split) that appends to kg-corrections.toml beside the store; the next `kg build` of that folder applies it. Off: the explorer is read-only.",
        ),
    ] = False,
) -> None:
    """Serve the store over HTTP: a read-only SPARQL 1.1 endpoint at /sparql and the web explorer at /."""

    def ready(base: str) -> None:
        from kg.normalise.corrections import FILENAME

        writes = f"concept pages write corrections to {store.parent / FILENAME}; " if allow_corrections else ""
        _note(
            f"kg serving {store}: explorer at {base}/ , SPARQL (read-only) at {base}/sparql ; {writes}"
            "a new `kg build` there is picked up; Ctrl+C stops"
        )

    from kg.web.serve import serve_folder

    try:
        serve_folder(
            store,
            host=host,
            port=port,
            timeout=timeout,
            max_rows=max_rows,
            max_queries=max_queries,
            allow_hosts=allow_host or (),
            allow_corrections=allow_corrections,
            ready=ready,
        )
    except KGError as e:
        raise _fail(e) from e


@app.command(name="eval")
def eval_(
    gold: Annotated[
        Path, typer.Argument(help="Gold JSONL: id, text, entities (start, end, label), as in shared/gold.")
    ],
    mapping: Annotated[
        str | None, typer.Option("--map", help="Gold label to kg label, e.g. Material=DATASET,Method=METHOD.")
    ] = None,
    paper: Annotated[
        bool, typer.Option("--paper", help="Score concepts per paper against concept-level gold (seed-dev format).")
    ] = False,
    papers: Annotated[
        Path | None,
        typer.Option("--papers", help="With --paper: the papers' JSONL (default: papers.jsonl beside GOLD)."),
    ] = None,
    model: Annotated[
        str,
        typer.Option("--model", help=_MODEL_HELP),
    ] = "default",
    processes: Annotated[int, typer.Option("-j", "--processes", min=1)] = 1,
    predictions: Annotated[
        Path | None, typer.Option("--predictions", help="Also write the predictions (kg extract format).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Score the extractor: P/R/F1 per label and micro, exact character spans (or concepts per paper)."""
    from kg.api import evaluate
    from kg.build.evaluate import parse_mapping

    try:
        scores = evaluate(
            gold,
            mapping=parse_mapping(mapping) if mapping else None,
            paper_level=paper,
            papers=papers,
            model=_model(model),
            processes=processes,
            predictions=predictions,
        )
    except KGError as e:
        raise _fail(e) from e
    if as_json:
        out.print_json(json.dumps(scores.to_dict()))
        return
    t = Table(title=_t(f"{gold} ({'paper-level concepts' if paper else 'exact spans'}, {scores.documents} documents)"))
    for col in ("label", "P", "R", "F1", "gold", "predicted"):
        t.add_column(col, justify="right" if col != "label" else "left")
    for lab, s in [*scores.per_label.items(), ("micro", scores.micro)]:
        t.add_row(lab, f"{s.p:.3f}", f"{s.r:.3f}", f"{s.f1:.3f}", str(s.gold), str(s.predicted))
    out.print(t)
    if scores.missing_docs:
        _warn(f"{scores.missing_docs} gold documents had no prediction")


def main() -> None:
    """The ``kg`` command: every failure ends in one line on stderr and a non-zero exit, never a traceback.

    Set ``KG_DEBUG=1`` to see the traceback of an unexpected error.
    """
    import os

    try:
        app()
    except BrokenPipeError:  # `kg query ... | head`: the reader left; nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except KGError as e:
        _fail(e)
        sys.exit(1)
    except OSError as e:
        if os.environ.get("KG_DEBUG"):
            raise
        where = f"{e.filename}: " if e.filename else ""
        _fail(KGError(f"{where}{e.strerror or e}; check the path and its permissions"))
        sys.exit(1)
    except Exception as e:  # the last line of defence
        if os.environ.get("KG_DEBUG"):
            raise
        _fail(
            KGError(
                f"unexpected {type(e).__name__}: {e} — a bug in kg; please report it with the command "
                "that caused it (KG_DEBUG=1 shows the traceback)"
            )
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
