"""Store and query stage: RDF → an on-disk Oxigraph store; SPARQL with bound parameters."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import QueryError, StoreError
from kg.namespace import PREFIXES

__all__ = [
    "NamedQuery",
    "QueryResult",
    "load_store",
    "dump_store",
    "open_store",
    "named_queries",
    "get_named_query",
    "run_query",
    "run_named",
    "refuse_remote",
    "refuse_update",
    "label_problems",
    "lib_rows",
    "values_first",
]

_HEADER = re.compile(r"^#\s*(description|param):\s*(.*)$")
# SPARQL text cut into tokens, so that a keyword is told apart from the same word inside a string,
# an IRI, a comment, a variable or a prefixed name (ex:service, ?service, "SERVICE", <.../SERVICE>).
_TOKENS = re.compile(
    r"""(?P<comment>\#[^\n]*)
      | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                  |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
      | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
      | (?P<var>[?$]\w+)
      | (?P<pname>(?:[^\W\d_][\w.\-\u00b7]*)?:[\w.:%\\\-\u00b7]*)
      | (?P<word>[^\W\d]\w*)
      | (?P<space>\s+)
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
# What makes the engine reach another server: SPARQL 1.1 federation (SERVICE) and, should it ever
# come through the query path, the update that fetches a document (LOAD).
_REMOTE = {"SERVICE": "SERVICE (federated query)", "LOAD": "LOAD"}


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    params: dict[str, str]  # name -> help
    text: str
    label_params: frozenset[str] = frozenset()  # matched against skos:hiddenLabel: lower-cased when bound
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> the values it may take


@dataclass
class QueryResult:
    """A SELECT result (``variables`` and ``rows`` of terms or ``None``), or an ASK/CONSTRUCT one."""

    variables: list[str] = field(default_factory=list)
    rows: list[list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] | None = None


def dump_store(store_dir: Path, path: Path, fmt: ox.RdfFormat) -> None:
    """Write the store's default graph as Turtle or JSON-LD (Oxigraph's serialisers; written aside, then renamed)."""
    st = ox.Store.read_only(str(store_dir))
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        st.dump(str(tmp), format=fmt, from_graph=ox.DefaultGraph(), prefixes=PREFIXES)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


#: triples per bulk-load call: Oxigraph's loader holds what one call gives it (about 1.5 KB a
#: triple), so loading in parts bounds its memory (10,000 papers, 4.3 M triples: 1,655 MiB in
#: one call, 374 MiB in parts of 250,000, no slower)
BULK_LOAD_LINES = 250_000

#: what the loading process runs: only pyoxigraph, so its memory is the bulk loader's alone.
#: N-Triples is one triple a line, so the file is loaded a part at a time; a file with blank
#: nodes (their labels hold across the whole document) is loaded in one call
_BULK_LOAD = """
import itertools
import sys
import pyoxigraph as ox
path, lines = sys.argv[1], int(sys.argv[3])
store = ox.Store(sys.argv[2])
with open(path, "rb") as f:
    blank, tail = False, b""
    while not blank and (block := f.read(1 << 24)):
        blank, tail = b"_:" in tail + block, block[-1:]
if blank:
    store.bulk_load(path=path, format=ox.RdfFormat.N_TRIPLES)
else:
    with open(path, "rb") as f:
        while part := list(itertools.islice(f, lines)):
            store.bulk_load(b"".join(part), format=ox.RdfFormat.N_TRIPLES)
            del part
store.optimize()
n = len(store)
store.flush()
print(n)
"""


def _bulk_load(nt_file: Path, store_path: Path) -> int:
    """Oxigraph's bulk loader in a fresh Python process; returns the triples loaded.

    The loader's buffers live and die in that process, so they never add to the build process's
    peak memory, which holds the records; they are bounded by :data:`BULK_LOAD_LINES`.
    """
    proc = subprocess.run(
        [sys.executable, "-c", _BULK_LOAD, str(nt_file), str(store_path), str(BULK_LOAD_LINES)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit status {proc.returncode}"
        raise StoreError(f"{nt_file}: loading it into the store at {store_path} failed ({why})")
    return int(proc.stdout.split()[-1])


def load_store(nt_file: Path, store_dir: Path) -> int:
    """Bulk-load N-Triples into a fresh store at ``store_dir`` (built aside, then renamed in).

    The load runs in a child process (:func:`_bulk_load`): memory of the build stays flat.
    """
    tmp = store_dir.with_name(store_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    n = _bulk_load(nt_file, tmp)
    old = store_dir.with_name(store_dir.name + ".old")
    if store_dir.exists():
        if old.exists():
            shutil.rmtree(old)
        store_dir.rename(old)
    tmp.rename(store_dir)
    if old.exists():
        shutil.rmtree(old)
    return n


def open_store(store_dir: Path | str) -> ox.Store:
    """Open a built store read-only."""
    p = Path(store_dir)
    if not p.is_dir():
        raise StoreError(f"{p}: no SPARQL store there; run `kg build` first or pass --store DIR")
    try:
        return ox.Store.read_only(str(p))
    except OSError as err:
        raise StoreError(f"{p}: not a readable Oxigraph store ({err}); rebuild it with `kg build --force`") from err


def _parse_query_file(name: str, text: str) -> NamedQuery:
    description = ""
    params: dict[str, str] = {}
    label_params: set[str] = set()
    choices: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        m = _HEADER.match(line)
        if not m:
            continue
        if m.group(1) == "description":
            description = m.group(2).strip()
        else:
            pname, _, help_ = m.group(2).partition("=")
            pname = pname.strip()
            if pname.endswith("(label)"):
                pname = pname[: -len("(label)")].strip()
                label_params.add(pname)
            one_of = re.fullmatch(r"(\w+)\s*\(one of:([^)]*)\)", pname)
            if one_of:  # `# param: type (one of: Method, Task) = help`
                pname = one_of.group(1)
                choices[pname] = tuple(v.strip() for v in one_of.group(2).split(",") if v.strip())
            params[pname] = help_.strip()
    return NamedQuery(name, description, params, text, frozenset(label_params), choices)


def named_queries() -> dict[str, NamedQuery]:
    """The named queries by name: kg's own, then plug-in folders' (:data:`kg.queries.QUERY_FOLDERS`)."""
    from kg.queries import query_files

    return {name: _parse_query_file(name, text) for name, text in query_files()}


def get_named_query(name: str) -> NamedQuery:
    qs = named_queries()
    if name not in qs:
        raise QueryError(f"no named query {name!r}; `kg query --list` shows them: {', '.join(qs)}")
    return qs[name]


def keywords(query: str) -> list[str]:
    """The bare words of a SPARQL text, upper-cased: not in strings, IRIs, comments, variables or prefixed names."""
    return [m.group("word").upper() for m in _TOKENS.finditer(query) if m.lastgroup == "word"]


_UPDATES = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}


def refuse_update(query: str) -> None:
    """Raise :class:`QueryError` (one line) for SPARQL Update: the store is read-only to queries."""
    words = [w for w in keywords(query) if w not in ("PREFIX", "BASE")]
    if words and words[0] in _UPDATES:
        raise QueryError(
            f"updates are not allowed: kg query only reads the store ({words[0]} is SPARQL Update); "
            "change the input and run `kg build` again"
        )


def refuse_remote(query: str) -> None:
    """Raise :class:`QueryError` if the query would make the store fetch from another server.

    Oxigraph evaluates ``SERVICE <iri>`` by sending the pattern to that address over HTTP, and
    pyoxigraph's ``Store.query`` has no option to turn it off, so without this any query could make
    kg connect to any host its machine can reach. ``FROM`` and ``FROM NAMED`` only pick graphs of
    the local store (checked against a listener: nothing is fetched), so they pass.
    """
    for word in keywords(query):
        if word in _REMOTE:
            raise QueryError(
                f"{_REMOTE[word]} is refused: kg answers from its own store and never fetches from another "
                "server; remove that clause (and query the other endpoint directly)"
            )


_Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def inline_bindings(query: str, bindings: dict[ox.Variable, _Term]) -> str | None:
    """The query with each bound variable written as its term, or ``None`` where that is not safe.

    pyoxigraph 0.5 evaluates ``substitutions`` as a join after the patterns: its optimiser never sees
    the value, so a page query bound to one concept reads every reified relation (56 ms; 0.3 ms with
    the IRI in the text) and a search filter scans with a variable (50 ms; 7.5 ms). The rewrite is
    done on tokens (never inside strings, IRIs or comments), terms are written by Oxigraph (escaped),
    and a bound variable keeps its name in the results: ``SELECT ?c`` becomes ``SELECT (<iri> AS ?c)``,
    ``GROUP BY ?c`` becomes ``GROUP BY (<iri> AS ?c)`` (and then stays ``?c`` in the projection),
    ``ORDER BY ?c`` becomes ``ORDER BY (<iri>)``. ``None`` (use ``substitutions``) for blank nodes or
    triples, sub-queries, MINUS, VALUES, a bound variable assigned by AS, or a form but SELECT and ASK.
    """
    names: dict[str, str] = {}
    for var, value in bindings.items():
        if not isinstance(value, ox.NamedNode | ox.Literal):
            return None
        names[var.value] = str(value)
    tokens = list(_TOKENS.finditer(query))
    words = [m.group("word").upper() for m in tokens if m.lastgroup == "word"]
    forms = [w for w in words if w in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")]
    if (
        not forms
        or forms[0] not in ("SELECT", "ASK")
        or words.count("SELECT") > 1
        or "MINUS" in words
        or "VALUES" in words
    ):
        return None
    places = list(_var_places(tokens, names))
    if any(after_as for _, _, _, after_as in places):
        return None
    grouped = {m.group()[1:] for m, clause, bare, _ in places if clause == "GROUP" and bare}
    out: list[str] = []
    pos = 0
    for m, clause, bare, _ in places:
        name = m.group()[1:]
        term = names[name]
        if clause == "SELECT" and bare:
            term = m.group() if name in grouped else f"({term} AS ?{name})"
        elif clause == "GROUP" and bare:
            term = f"({term} AS ?{name})"
        elif clause == "ORDER" and bare:
            term = f"({term})"
        out.append(query[pos : m.start()] + term)
        pos = m.end()
    out.append(query[pos:])
    return "".join(out)


def _var_places(tokens: list[re.Match[str]], names: dict[str, str]) -> Iterator[tuple[re.Match[str], str, bool, bool]]:
    """(token, clause, bare, after AS) for each occurrence of a bound variable.

    clause: SELECT (the projection), GROUP, ORDER or '' (anywhere else); bare: not inside brackets of
    the clause (``?c``, not ``COUNT(?c)``); after AS: the variable is being assigned.
    """
    depth = clause_depth = 0
    clause = prev = ""
    for m in tokens:
        kind, text = m.lastgroup, m.group()
        if kind in ("comment", "space"):
            continue
        if kind == "word":
            w = text.upper()
            if w == "SELECT":
                clause, clause_depth = "SELECT", depth
            elif w == "BY" and prev in ("GROUP", "ORDER"):
                clause, clause_depth = prev, depth
            elif w in ("WHERE", "FROM", "HAVING", "LIMIT", "OFFSET"):
                clause = ""
            prev = w
            continue
        if kind == "var" and text[1:] in names:
            yield m, clause, depth == clause_depth, prev == "AS"
        elif text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif text == "{":
            clause = ""
        prev = ""


class InliningStore:
    """A read-only store whose ``query`` writes bound terms into the text (:func:`inline_bindings`)
    where that is safe, so Oxigraph's optimiser sees them; any other call goes to the store itself.

    The explorer's page queries run through it (the same results, 5-200 times faster to evaluate);
    when a rewritten query does not parse, the original runs with ``substitutions``.
    """

    def __init__(self, store: ox.Store) -> None:
        self._store = store

    def query(
        self, query: str, *, substitutions: dict[ox.Variable, _Term] | None = None, **options: Any
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        if substitutions:
            text = inline_bindings(query, substitutions)
            if text is not None:
                try:
                    return self._store.query(text, **options)
                except SyntaxError:
                    pass
        return self._store.query(query, substitutions=substitutions, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _bind(params: dict[str, str]) -> dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]:
    return {ox.Variable(k): ox.Literal(v) for k, v in params.items()}


def run_named(
    store: ox.Store, nq: NamedQuery, params: dict[str, str]
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """Run a named query; label parameters are lower-cased to match ``skos:hiddenLabel``."""
    unknown = sorted(set(params) - set(nq.params))
    if unknown:
        raise QueryError(
            f"query {nq.name!r} has no parameter {unknown[0]!r}; it takes: {', '.join(nq.params) or 'none'}"
        )
    for k, v in params.items():
        allowed = nq.choices.get(k)
        if allowed and v.strip().lower() not in {a.lower() for a in allowed}:
            raise QueryError(
                f"{k}={v!r} is not a value of {nq.name!r}'s parameter {k}; use one of: {', '.join(allowed)}"
            )
    bound = {k: (v.strip().lower() if k in nq.label_params else v) for k, v in params.items()}
    missing = [p for p in nq.params if p not in bound]
    text = values_first(nq.text, bound) if not missing else None
    if text is None:  # run_query says what is missing
        return run_query(store, nq.text, bound, nq.params)
    return run_query(store, text)


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


Bound = str | ox.NamedNode | Sequence[ox.NamedNode]


def _values_terms(v: Bound) -> str:
    if isinstance(v, str):
        return str(ox.Literal(v))
    if isinstance(v, ox.NamedNode):
        return str(v)
    return " ".join(str(x) for x in v)


def values_first(query: str, params: Mapping[str, Bound]) -> str | None:
    """``query`` with each parameter bound by a ``VALUES`` block opening its outer ``WHERE`` group,
    the value written by Oxigraph as an escaped literal (a string) or an IRI (a ``NamedNode``; a
    sequence of them gives one row each); ``None`` when it has no ``WHERE {``.

    The named queries run this way (and the SPARQL page's examples are written this way): a
    constant at the top is what Oxigraph's optimiser plans around. ``substitutions`` join after
    the patterns, and a literal written into a pattern can change the plan for the worse:
    ``cooccurring`` at 10,000 papers takes 33 ms bound by VALUES, 11-14 s the other two ways.

    >>> print(values_first("SELECT ?x WHERE { ?c skos:hiddenLabel ?concept }", {"concept": 'say "hi"'}))
    SELECT ?x WHERE { VALUES ?concept { "say \\"hi\\"" } ?c skos:hiddenLabel ?concept }
    >>> print(values_first("SELECT ?x WHERE { ?x ?p ?c }", {"c": [ox.NamedNode("http://a/1"), ox.NamedNode("http://a/2")]}))
    SELECT ?x WHERE { VALUES ?c { <http://a/1> <http://a/2> } ?x ?p ?c }
    """
    m = _WHERE.search(query)
    if m is None:
        return None
    values = "".join(f" VALUES ?{k} {{ {_values_terms(v)} }}" for k, v in params.items())
    return query[: m.end()] + values + query[m.end() :]


def lib_rows(
    store: ox.Store, name: str, fill: dict[str, int] | None = None, /, **params: Bound
) -> list[dict[str, str]]:
    """Run ``kg/queries/lib/NAME.rq`` (its ``{{slots}}`` filled from ``fill``), each parameter
    bound by a ``VALUES`` block at its top (:func:`values_first`); rows of strings ('' for unbound).

    Every SPARQL text kg runs itself is such a file (``tests/test_lib_queries.py`` keeps inline
    queries out of ``kg/``).
    """
    from kg.queries import lib_query

    query = lib_query(name, **(fill or {}))
    if params:
        bound = values_first(query, params)
        if bound is None:
            raise QueryError(f"{name}.rq has no WHERE group to bind {sorted(params)} in")
        query = bound
    res = store.query(query, prefixes=PREFIXES)
    if isinstance(res, ox.QueryBoolean):
        return [{"boolean": "true" if bool(res) else ""}]
    assert isinstance(res, ox.QuerySolutions)
    names = [v.value for v in res.variables]
    return [{n: (sol[n].value if sol[n] is not None else "") for n in names} for sol in res]


def label_problems(store: ox.Store, nq: NamedQuery, params: dict[str, str]) -> list[str]:
    """For each label parameter that no concept is written as (any case): one line naming close labels.

    An unknown label is no error (the query has no rows); ``kg query`` shows these lines with them.
    """
    return [p for k in sorted(nq.label_params & set(params)) if (p := _label_problem(store, k, params[k]))]


def _label_problem(store: ox.Store, param: str, given: str) -> str:
    import difflib

    key = given.strip().lower()
    try:
        if lib_rows(store, "label-known", k=key)[0]["boolean"]:
            return ""
        labels = sorted({r["l"] for r in lib_rows(store, "pref-labels")})
    except (OSError, RuntimeError, SyntaxError):
        return ""  # the query itself says what is wrong
    by_lower = {lab.lower(): lab for lab in labels}
    close = [by_lower[c] for c in difflib.get_close_matches(key, list(by_lower), n=5, cutoff=0.6)]
    close += [lab for low, lab in by_lower.items() if key and key in low and lab not in close][: 5 - len(close)]
    hint = (
        f"; close: {', '.join(repr(c) for c in close)}"
        if close
        else "; `kg query --name top-concepts -p type=Method` lists some"
    )
    return f"no concept is labelled {given.strip()!r} (parameter {param}){hint}"


def run_query(
    store: ox.Store, query: str, params: dict[str, str] | None = None, required: dict[str, str] | None = None
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """Run SPARQL with the usual prefixes predeclared and ``params`` bound as literals.

    Parameters are substituted as RDF terms (SPARQL-dev SEP-0007), never pasted into the text;
    a bound variable must appear in the query's SELECT projection.
    """
    params = dict(params or {})
    missing = [p for p in (required or {}) if p not in params]
    if missing:
        raise QueryError(
            f"missing parameter {missing[0]!r} ({(required or {})[missing[0]]}); pass --param {missing[0]}=VALUE"
        )
    for k in params:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
            raise QueryError(f"bad parameter name {k!r}; use letters, digits and _")
    refuse_update(query)
    refuse_remote(query)
    try:
        return store.query(query, prefixes=PREFIXES, substitutions=_bind(params))
    except SyntaxError as err:
        raise QueryError(f"malformed SPARQL: {err}") from err
    except RuntimeError as err:  # e.g. a bound variable missing from the projection
        raise QueryError(f"cannot run the query: {err}") from err
    except OSError as err:
        raise StoreError(f"cannot read the store: {err}") from err


def collect(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> QueryResult:
    if isinstance(result, ox.QueryBoolean):
        return QueryResult(boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = [[sol[v] for v in variables] for sol in result]
        return QueryResult(variables=variables, rows=rows)
    return QueryResult(triples=list(result))


def term_text(term: object) -> str:
    """A term as a person reads it: literal values bare, IRIs shortened with the known prefixes."""
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.NamedNode):
        iri = term.value
        for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
            if iri.startswith(ns):
                return f"{prefix}:{iri[len(ns) :]}"
        return f"<{iri}>"
    return str(term)


def find_paper(store: ox.Store, paper: str) -> tuple[str, str]:
    """(id, title) of the paper whose id or title (any case) is ``paper``; suggests close titles if none."""
    import difflib

    from kg.errors import KGError

    rows = lib_rows(store, "paper-by-key", key=paper.strip())
    if rows:
        return rows[0]["id"], rows[0]["title"]
    titles = [r["t"] for r in lib_rows(store, "paper-titles")]
    close = difflib.get_close_matches(paper, titles, n=3, cutoff=0.5)
    close += [t for t in titles if paper.lower() in t.lower() and t not in close][: 3 - len(close)]
    hint = f" Did you mean: {'; '.join(repr(t) for t in close)}?" if close else ""
    raise KGError(f"no paper has the id or title {paper!r}.{hint}")


def similar_papers(store: ox.Store, paper_id: str) -> list[dict[str, Any]]:
    """Papers linked to ``paper_id`` by a ``kg:PaperSimilarity``, best first, shared concepts rarer first."""
    by_paper: dict[str, dict[str, Any]] = {}
    for sol in lib_rows(store, "similar-papers", pid=paper_id):
        other = sol["other"]
        rec = by_paper.setdefault(
            other, {"paper": other, "title": sol["title"], "score": float(sol["score"]), "shared": []}
        )
        rec["shared"].append((int(sol["n"]), sol["label"]))
    out = sorted(by_paper.values(), key=lambda r: (-r["score"], r["paper"]))
    for r in out:
        r["shared"] = [label for _, label in sorted(r["shared"])]
    return out
