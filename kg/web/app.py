"""Routes of the web explorer (HTML pages and their JSON), mounted by :func:`kg.serve.create_app`."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import pyoxigraph as ox
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kg.web import data

__all__ = ["explorer_routes", "example_queries", "PageCache", "warm_up"]

_ENV = Environment(loader=PackageLoader("kg.web", "templates"), autoescape=select_autoescape(["html"]))


def _vis_dir() -> Path:
    import pyvis

    return Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"


def example_queries() -> list[dict[str, str]]:
    """The named queries as editable examples: each parameter given an example value in the text."""
    from kg.store import named_queries

    out = []
    for q in named_queries().values():
        text = q.text
        values = []
        for name, help_ in q.params.items():
            m = re.search(r'e\.g\. "([^"]+)"', help_)
            example = m.group(1) if m else {"type": "Method", "paper": "", "task": "object detection"}.get(name, "transformer")
            if name in q.label_params:
                example = example.lower()
            values.append(f'VALUES ?{name} {{ "{example.replace(chr(34), "")}" }}')
        if values:
            text = re.sub(r"WHERE \{\n", "WHERE {\n  " + "\n  ".join(values) + "\n", text, count=1)
        out.append({"name": q.name, "description": q.description, "text": text})
    return out


class PageCache:
    """Rendered responses by URL, the least recently used dropped past ``max_bytes`` (thread-safe).

    The store is opened read-only and does not change while it is served, so a page rendered once
    is the same page for everyone after: a hit costs a dictionary look-up instead of the page's
    queries, which keeps popular pages fast under load.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
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

    def put(self, key: str, response: Response) -> None:
        body = getattr(response, "body", None)
        if not isinstance(body, bytes) or response.status_code not in (200, 303, 404):
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


def explorer_routes(store: ox.Store, store_dir: Path, timeout: float, max_rows: int,
                    cache_bytes: int = 32 << 20, renderers: int = 4) -> list[Any]:
    """Pages: / /search /concept/{id} /paper/{id} /overview /topic/{id} /query /report; JSON under /api.

    Pages and their JSON are kept in a :class:`PageCache` of ``cache_bytes`` (0: none): a hit is
    answered on the event loop; a miss is rendered in a thread, at most ``renderers`` at once (more
    threads would only contend for the interpreter lock, and delay the SPARQL endpoint's own threads),
    and once per URL however many requests ask for it meanwhile (they wait for that one rendering).
    ``warm_up(routes)`` renders the pages every visitor starts from.
    """
    cache = PageCache(cache_bytes) if cache_bytes > 0 else None
    limiter = anyio.CapacityLimiter(max(1, renderers))
    rendering: dict[str, anyio.Event] = {}

    def cached(handler: Callable[[Request], Response]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if cache is None:
                return await anyio.to_thread.run_sync(handler, request, limiter=limiter)
            # the pages read no query parameter but q (cut to 200 characters): any other, or more of
            # q, is the same page, and must not fill the cache with copies
            key = request.url.path + "?" + request.query_params.get("q", "")[:200]
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
            try:
                response = await anyio.to_thread.run_sync(handler, request, limiter=limiter)
                cache.put(key, response)
            finally:
                del rendering[key]
                done.set()
            return response

        return endpoint

    def render(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(_ENV.get_template(name).render(**ctx), status_code=status)

    def not_found(what: str, q: str = "") -> HTMLResponse:
        return render("search.html", status=404, q=q, results=data.search(store, q) if q else [],
                      message=f"no {what}")

    def home(request: Request) -> Response:
        n = len(list(store.quads_for_pattern(None, ox.NamedNode("http://purl.org/dc/terms/identifier"), None)))
        return render("home.html", top=data.top_concepts(store), n_papers=n)

    def search(request: Request) -> Response:
        q = request.query_params.get("q", "")[:200]
        results = data.search(store, q, limit=50)
        if len(results) == 1:
            r = results[0]
            return Response(status_code=303, headers={"Location": f"/{r['kind']}/{quote(r['id'], safe='')}"})
        return render("search.html", q=q, results=results)

    def suggest(request: Request) -> Response:
        return JSONResponse(data.search(store, request.query_params.get("q", "")[:200], limit=10))

    def concept(request: Request) -> Response:
        page = data.concept_page(store, request.path_params["cid"])
        if page is None:
            return not_found("concept", request.path_params["cid"].replace("-", " "))
        return render("concept.html", c=page)

    def concept_graph(request: Request) -> Response:
        return JSONResponse(data.concept_graph(store, request.path_params["cid"]))

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
        Route("/concept/{cid}", cached(concept)),
        Route("/api/concept/{cid}/graph", cached(concept_graph)),
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


WARM_PATHS = ("/", "/overview", "/api/overview", "/query")


async def warm_up(routes: list[Any], paths: tuple[str, ...] = WARM_PATHS) -> None:
    """Render ``paths`` once through their routes (so into the page cache) before the first visitor."""
    for path in paths:
        for route in routes:
            if isinstance(route, Route) and route.path == path:
                scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
                         "query_string": b"", "headers": [], "path_params": {}, "root_path": "",
                         "scheme": "http", "server": ("127.0.0.1", 80)}
                await route.endpoint(Request(scope))
                break
