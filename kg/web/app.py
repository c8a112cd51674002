"""Routes of the web explorer (HTML pages and their JSON), mounted by :func:`kg.web.serve.create_app`."""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import anyio
import pyoxigraph as ox
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kg.schema import ENTITY_TYPES, LABELS, type_css
from kg.web import data

__all__ = ["explorer_routes", "example_queries", "PageCache", "warm_up"]

_ENV = Environment(loader=PackageLoader("kg.web", "templates"), autoescape=select_autoescape(["html"]))
_ENV.globals["entity_types"] = ENTITY_TYPES  # kg.schema: legends and type lists in the templates
_ENV.globals["type_css"] = Markup(type_css())  # kg.schema: the types' colours, generated
_ENV.filters["plural"] = data.plural  # {{ n|plural("paper") }}: "1 paper", "2 papers"


def _vis_dir() -> Path:
    import pyvis

    return Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"


def example_queries() -> list[dict[str, str]]:
    """The named queries as editable examples: each parameter given an example value in the text.

    A label parameter is bound in lower case, as ``skos:hiddenLabel`` holds every label and alias
    (``kg query`` and the API lower-case what they are given): a constant in ``VALUES`` lets the
    store look the concept up in its index. Computing it in the query instead
    (``BIND(LCASE(...))``) hides the value from Oxigraph's optimiser, which then joins every
    concept's patterns first: 30 s instead of 7 ms for ``concept-relations`` at 10,000 papers.
    """
    from kg.store import named_queries

    out = []
    for q in named_queries().values():
        text = q.text
        values = []
        for name, help_ in q.params.items():
            m = re.search(r'e\.g\. "([^"]+)"', help_)
            example = (
                m.group(1)
                if m
                else {"type": "Method", "paper": "", "task": "object detection"}.get(name, "transformer")
            )
            example = example.replace(chr(34), "").replace("\\", "")
            if name in q.label_params:  # skos:hiddenLabel is lower case
                values.append(f'VALUES ?{name} {{ "{example.lower()}" }}  # a label or alias, in lower case')
            else:
                values.append(f'VALUES ?{name} {{ "{example}" }}')
        if values:
            text = re.sub(r"WHERE \{\n", "WHERE {\n  " + "\n  ".join(values) + "\n", text, count=1)
        out.append({"name": q.name, "description": q.description, "text": text})
    return out


class PageCache:
    """Rendered responses by URL, the least recently used dropped past ``max_bytes`` (thread-safe).

    The store is opened read-only and does not change while it is served (a rebuild is a new store:
    the server reopens it and calls :meth:`clear`), so a page rendered once is the same page for everyone after: a hit costs a dictionary look-up instead of the page's
    queries, which keeps popular pages fast under load.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.generation = 0  # bumped by clear(): a page rendered from an older store is not kept
        self._items: OrderedDict[str, tuple[int, bytes, list[tuple[bytes, bytes]]]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> Response | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
        status, body, headers = item
        response = Response(body, status_code=status)
        response.raw_headers = list(headers)
        return response

    def clear(self) -> None:
        """Forget every page (the store was rebuilt); pages being rendered now are not kept either."""
        with self._lock:
            self._items.clear()
            self._size = 0
            self.generation += 1

    def put(self, key: str, response: Response, generation: int | None = None) -> None:
        body = getattr(response, "body", None)
        if not isinstance(body, bytes) or response.status_code not in (200, 303, 404):
            return
        if generation is not None and generation != self.generation:
            return
        cost = len(body) + len(key) + 200
        if cost > self.max_bytes // 8:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old[1]) + len(key) + 200
            self._items[key] = (response.status_code, body, list(response.raw_headers))
            self._size += cost
            while self._size > self.max_bytes and self._items:
                k, (_, b, _) = self._items.popitem(last=False)
                self._size -= len(b) + len(k) + 200


def same_origin(request: Request) -> bool:
    """Whether the request's ``Origin`` (or, without one, its ``Referer``) names this server.

    "This server" is the ``Host`` the request was sent to, which :class:`kg.web.serve.Guard` has already
    checked; a page on any other origin (another port, name or scheme of host) fails, and so does a
    request that carries neither header (or ``Origin: null``).
    """
    host = request.headers.get("host", "").strip().lower()
    origin = request.headers.get("origin")
    if origin is None:
        origin = request.headers.get("referer")
    if not host or not origin:
        return False
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host


def _concepts_named(entry: dict[str, Any], action: str) -> list[str]:
    return [str(x) for x in entry.get("concepts", [])] if action == "merge" else [str(entry.get("concept", ""))]


def pending_corrections(path: Path, names: set[str]) -> tuple[list[dict[str, str]], int, str]:
    """(the corrections in ``path`` that name one of ``names`` (lower case), how many in all, an error)."""
    from kg.errors import KGError
    from kg.normalise.corrections import load_corrections

    if not path.is_file():
        return [], 0, ""
    try:
        fixes = load_corrections(path)
    except KGError as err:
        return [], 0, str(err)
    mine = []
    for action, entries in fixes.entries.items():
        for e in entries:
            if any(n.lower() in names for n in _concepts_named(e, action)):
                detail = {
                    "merge": lambda e: "with " + ", ".join(map(str, e["concepts"][1:])),
                    "split": lambda e: f"split off {e['alias']!r}",
                    "drop": lambda e: "drop" + (f" in paper {e['paper']}" if e.get("paper") else ""),
                    "retype": lambda e: f"type {str(e['type']).upper()}",
                    "rename": lambda e: f"label {e['label']!r}",
                }[action](e)
                mine.append({"action": action, "detail": detail})
    return mine, len(fixes), ""


_FORM_FIELDS = {"rename": "label", "merge": "other", "split": "alias", "retype": "type"}
_MAX_TEXT = 300


def explorer_routes(
    store: ox.Store,
    store_dir: Path,
    timeout: float,
    max_rows: int,
    cache_bytes: int = 32 << 20,
    renderers: int = 4,
    allow_corrections: bool = False,
    page_cache: PageCache | None = None,
) -> list[Any]:
    """Pages: / /search /concept/{id} /paper/{id} /overview /topic/{id} /rising /matrix /papers /query
    /report; JSON under /api.

    ``allow_corrections``: concept pages carry a form that POSTs to ``/corrections``, which appends
    the correction to ``kg-corrections.toml`` beside the store (see :mod:`kg.normalise.corrections`); a POST
    needs this server's random token and a same-origin ``Origin``/``Referer`` (403 otherwise).
    Without it ``/corrections`` answers 403. Concept pages are then not cached (they show the
    pending corrections, which change), and may not be framed by another page.

    Pages and their JSON are kept in a :class:`PageCache` of ``cache_bytes`` (0: none): a hit is
    answered on the event loop; a miss is rendered in a thread, at most ``renderers`` at once (more
    threads would only contend for the interpreter lock, and delay the SPARQL endpoint's own threads),
    and once per URL however many requests ask for it meanwhile (they wait for that one rendering).
    ``warm_up(routes)`` renders the pages every visitor starts from. ``page_cache``: the cache to use
    (the server passes its own, to clear it when the store is rebuilt); default a new one.
    """
    cache = page_cache if page_cache is not None else PageCache(cache_bytes) if cache_bytes > 0 else None
    limiter = anyio.CapacityLimiter(max(1, renderers))
    rendering: dict[str, anyio.Event] = {}
    token = secrets.token_urlsafe(32)
    from kg.export.search import SEARCH_FILE
    from kg.normalise.corrections import FILENAME

    corrections_file = store_dir.parent / FILENAME
    search_file = store_dir.parent / SEARCH_FILE  # the build's search index (kg.export.search)

    def cached(
        handler: Callable[[Request], Response], cacheable: bool = True, params: tuple[str, ...] = ("q",)
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if cache is None or not cacheable:
                return await anyio.to_thread.run_sync(handler, request, limiter=limiter)
            # a page reads no query parameter but its ``params`` (each cut to 200 characters): any
            # other, or more of one, is the same page, and must not fill the cache with copies
            key = (
                request.url.path
                + "?"
                + "&".join(f"{p}={'|'.join(v[:200] for v in request.query_params.getlist(p)[:4])}" for p in params)
            )
            while True:
                hit = cache.get(key)
                if hit is not None:
                    return hit
                busy = rendering.get(key)
                if busy is None:
                    break
                await busy.wait()  # the same page is being rendered for another request
                if cache.get(key) is None:  # not cacheable: render it here
                    return await anyio.to_thread.run_sync(handler, request, limiter=limiter)
            done = rendering[key] = anyio.Event()
            generation = cache.generation
            try:
                response = await anyio.to_thread.run_sync(handler, request, limiter=limiter)
                cache.put(key, response, generation)
            finally:
                del rendering[key]
                done.set()
            return response

        return endpoint

    def render(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(_ENV.get_template(name).render(**ctx), status_code=status)

    def not_found(what: str, q: str = "") -> HTMLResponse:
        return render(
            "search.html",
            status=404,
            q=q,
            results=data.search(store, q, index=search_file) if q else [],
            message=f"no {what}",
        )

    def home(request: Request) -> Response:
        n = len(list(store.quads_for_pattern(None, ox.NamedNode("http://purl.org/dc/terms/identifier"), None)))
        return render("home.html", top=data.top_concepts(store), n_papers=n)

    def search(request: Request) -> Response:
        q = request.query_params.get("q", "")[:200]
        results = data.search(store, q, limit=50, index=search_file)
        if len(results) == 1:
            r = results[0]
            return Response(status_code=303, headers={"Location": f"/{r['kind']}/{quote(r['id'], safe='')}"})
        return render("search.html", q=q, results=results)

    def suggest(request: Request) -> Response:
        return JSONResponse(data.search(store, request.query_params.get("q", "")[:200], limit=10, index=search_file))

    def concept(request: Request) -> Response:
        page = data.concept_page(store, request.path_params["cid"])
        if page is None:
            return not_found("concept", request.path_params["cid"].replace("-", " "))
        timeline = data.concept_timeline(store, page.id)
        time_ctx: dict[str, Any] = {"timeline": timeline, "timeline_svg": Markup(data.timeline_svg(timeline))}  # noqa: S704 (escaped)
        if not allow_corrections:
            return render("concept.html", c=page, **time_ctx)
        names = {page.id.lower(), page.label.lower(), *(a.lower() for a in page.aliases)}
        pending, n_pending, problem = pending_corrections(corrections_file, names)
        saved = request.query_params.get("saved", "")
        response = render(
            "concept.html",
            c=page,
            **time_ctx,
            corrections={
                "token": token,
                "pending": pending,
                "total": n_pending,
                "problem": problem,
                "file": str(corrections_file),
                "saved": saved if saved in _ACTIONS else "",
                "types": _TYPES,
                "aliases": page.aliases,
            },
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"  # no clicking the form through another site's frame
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        return response

    def refuse(status: int, text: str) -> Response:
        return PlainTextResponse(text, status_code=status, headers={"Cache-Control": "no-store"})

    async def corrections(request: Request) -> Response:
        if not allow_corrections:
            return refuse(
                403,
                "this explorer is read-only: start it with `kg serve --allow-corrections` to "
                "write corrections from the concept pages",
            )
        if not same_origin(request):
            return refuse(
                403,
                "refused: a correction must come from this explorer's own concept page "
                "(the Origin or Referer header names another site, or neither was sent)",
            )
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return refuse(415, "POST the concept page's form (application/x-www-form-urlencoded)")
        form = await request.form()
        sent = form.get("token")
        if not isinstance(sent, str) or not secrets.compare_digest(sent.encode(), token.encode()):
            return refuse(
                403,
                "refused: the form's token is missing or not this server's (reload the concept "
                "page: a restarted server has a new token)",
            )

        def text(name: str) -> str:
            value = form.get(name)
            if not isinstance(value, str):
                return ""
            # an alias is matched as written; other text has its runs of white space made one space
            return (value.strip() if name == "alias" else " ".join(value.split()))[:_MAX_TEXT]

        cid, action = text("concept"), text("action")
        if action not in _ACTIONS:
            return refuse(400, f"unknown correction {action!r}; use one of {', '.join(_ACTIONS)}")
        fields: dict[str, Any] = {}
        if action in _FORM_FIELDS:
            value = text(_FORM_FIELDS[action])
            if not value:
                return refuse(400, f"a {action} needs a {_FORM_FIELDS[action]}: fill it in on the concept page")
            if action == "retype":
                value = value.upper()
                if value not in _TYPES:
                    return refuse(400, f"type must be one of {', '.join(_TYPES)}")
            fields = {
                "merge": lambda v: {"concepts": [cid, v]},
                "split": lambda v: {"concept": cid, "alias": v},
                "retype": lambda v: {"concept": cid, "type": v},
                "rename": lambda v: {"concept": cid, "label": v},
            }[action](value)
        else:
            fields = {"concept": cid}
        problem = await anyio.to_thread.run_sync(_check_names, store, cid, action, fields, limiter=limiter)
        if problem:
            return refuse(404 if problem.startswith("no concept ") else 400, f"not saved: {problem}")
        from kg.errors import KGError
        from kg.normalise.corrections import add_correction

        try:  # no await between reading the file and writing it back: posts cannot interleave
            add_correction(corrections_file, action, **fields)
        except KGError as err:
            return refuse(400, f"not saved: {err}")
        except OSError as err:
            return refuse(500, f"not saved: cannot write {corrections_file} ({err.strerror or err})")
        return RedirectResponse(f"/concept/{quote(cid, safe='')}?saved={action}#corrections", status_code=303)

    def concept_graph(request: Request) -> Response:
        min_papers = _int_param(request, "min_papers", 1, 1, 1000)
        return JSONResponse(data.neighbour_graph(store, request.path_params["cid"], min_papers=min_papers))

    def rising(request: Request) -> Response:
        months = _int_param(request, "months", 12, 1, 240)
        min_papers = _int_param(request, "min_papers", 2, 1, 1000)
        return render("rising.html", r=data.rising_concepts(store, months=months, min_papers=min_papers, limit=50))

    def matrix(request: Request) -> Response:
        qp = request.query_params
        task, topic = qp.get("task", "")[:300], qp.get("topic", "")[:300]
        rows, cols = qp.get("rows", "method"), qp.get("cols", "dataset")
        if rows not in _KINDS or cols not in _KINDS or rows == cols:
            return PlainTextResponse(f"rows and cols must be two different of: {', '.join(_KINDS)}", status_code=400)
        if not task and not topic:
            tasks = data.top_concepts(store, per_type=20).get("TASK", [])
            return render("matrix.html", m=None, tasks=tasks, rows=rows, cols=cols)
        m = data.matrix(store, task=task, topic=topic, rows=rows, cols=cols)
        if m is None:
            return not_found("task or topic", task.replace("-", " "))
        return render("matrix.html", m=m, tasks=[], rows=rows, cols=cols, kinds=_KINDS)

    def papers(request: Request) -> Response:
        cids = [c[:300] for c in request.query_params.getlist("c")[:4] if c]
        found = data.papers_with(store, cids)
        labels = [{"id": c, "label": data.concept_label(store, c) or c} for c in cids]
        return render("papers.html", papers=found, concepts=labels)

    def paper(request: Request) -> Response:
        page = data.paper_page(store, request.path_params["pid"])
        if page is None:
            return not_found("paper")
        return render("paper.html", p=page)

    def overview(request: Request) -> Response:
        return render("overview.html")

    def overview_json(request: Request) -> Response:
        return JSONResponse(data.overview_graph(store, store_dir))

    def topic(request: Request) -> Response:
        page = data.topic_page(store, request.path_params["tid"])
        if page is None:
            return not_found("topic")
        return render("topic.html", t=page)

    def query_page(request: Request) -> Response:
        ex = example_queries()
        return render("query.html", examples=ex, examples_json=ex, timeout=f"{timeout:g}", max_rows=max_rows)

    def report(request: Request) -> Response:
        path = store_dir.parent / "report.html"
        if not path.is_file():
            return PlainTextResponse("no report.html beside the store: run `kg build` to make it", status_code=404)
        return FileResponse(path, media_type="text/html")

    def figure(request: Request) -> Response:
        name = request.path_params["name"]
        path = store_dir.parent / "figures" / name
        if not re.fullmatch(r"[\w.-]+\.(png|svg)", name) or not path.is_file():
            return PlainTextResponse("no such figure", status_code=404)
        return FileResponse(path)

    def favicon(request: Request) -> Response:
        return Response(status_code=204)

    routes = [
        Route("/", cached(home)),
        Route("/favicon.ico", favicon),
        Route("/search", cached(search)),
        Route("/api/suggest", cached(suggest)),
        Route("/concept/{cid}", cached(concept, cacheable=not allow_corrections)),
        Route("/corrections", corrections, methods=["POST"]),
        Route("/api/concept/{cid}/graph", cached(concept_graph, params=("min_papers",))),
        Route("/rising", cached(rising, params=("months", "min_papers"))),
        Route("/matrix", cached(matrix, params=("task", "topic", "rows", "cols"))),
        Route("/papers", cached(papers, params=("c",))),
        Route("/paper/{pid:path}", cached(paper)),
        Route("/overview", cached(overview)),
        Route("/api/overview", cached(overview_json)),
        Route("/topic/{tid:path}", cached(topic)),
        Route("/query", cached(query_page)),
        Route("/report", report),
        Route("/figures/{name}", figure),
        Mount("/static/vis", app=StaticFiles(directory=str(_vis_dir())), name="vis"),
        Mount("/static", app=StaticFiles(packages=[("kg.web", "static")]), name="static"),
    ]
    return routes


_KINDS = tuple(t.singular for t in ENTITY_TYPES)  # kg.schema: the matrix's rows and cols


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter, clamped to [low, high]; ``default`` when absent or not a number."""
    try:
        value = int(request.query_params.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


_ACTIONS = ("drop", "retype", "rename", "merge", "split")
_TYPES = LABELS  # from kg.schema


def _check_names(store: ox.Store, cid: str, action: str, fields: dict[str, Any]) -> str:
    """Why the correction names something this graph lacks ('' when it names what exists)."""
    node = data._concept_node(cid) if cid else None
    if node is None or next(store.quads_for_pattern(node, _PREF_LABEL, None), None) is None:
        return f"no concept {cid[:100]!r} in this graph"
    if action == "merge":
        other = fields["concepts"][1]
        found = next(store.quads_for_pattern(data._concept_node(other), _PREF_LABEL, None), None)
        if found is None:
            rows = data._q(store, "concept-named", name=other)
            if not rows:
                return f"no concept named {other[:100]!r} to merge with (give its id, label or one of its aliases)"
            if data._cid(rows[0]["c"]) == cid:
                return f"{other[:100]!r} is this concept already"
        elif other == cid:
            return "a concept cannot be merged with itself"
    if action == "split":
        alias = fields["alias"]
        rows = data._q(store, "concept-has-name", c=node, name=alias)
        if not rows:
            return f"{alias[:100]!r} is not a way this concept is written; pick one of its aliases"
    return ""


_PREF_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")

WARM_PATHS = ("/", "/overview", "/api/overview", "/query")


async def warm_up(routes: list[Any], paths: tuple[str, ...] = WARM_PATHS) -> None:
    """Render ``paths`` once through their routes (so into the page cache) before the first visitor."""
    for path in paths:
        for route in routes:
            if isinstance(route, Route) and route.path == path:
                scope = {
                    "type": "http",
                    "method": "GET",
                    "path": path,
                    "raw_path": path.encode(),
                    "query_string": b"",
                    "headers": [],
                    "path_params": {},
                    "root_path": "",
                    "scheme": "http",
                    "server": ("127.0.0.1", 80),
                }
                await route.endpoint(Request(scope))
                break
