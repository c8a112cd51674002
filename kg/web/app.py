"""Routes of the web explorer (HTML pages and their JSON), mounted by :func:`kg.serve.create_app`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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

__all__ = ["explorer_routes", "example_queries"]

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


def explorer_routes(store: ox.Store, store_dir: Path, timeout: float, max_rows: int) -> list[Any]:
    """Pages: / /search /concept/{id} /paper/{id} /overview /query /report; JSON under /api."""
    overview_cache: dict[str, Any] = {}

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
            return Response(status_code=303, headers={"Location": f"/{r['kind']}/{r['id']}"})
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
        return render("overview.html", n=120)

    def overview_json(request: Request) -> Response:
        if "graph" not in overview_cache:
            overview_cache["graph"] = data.overview_graph(store)
        return JSONResponse(overview_cache["graph"])

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

    return [
        Route("/", home),
        Route("/favicon.ico", favicon),
        Route("/search", search),
        Route("/api/suggest", suggest),
        Route("/concept/{cid}", concept),
        Route("/api/concept/{cid}/graph", concept_graph),
        Route("/paper/{pid:path}", paper),
        Route("/overview", overview),
        Route("/api/overview", overview_json),
        Route("/query", query_page),
        Route("/report", report),
        Route("/figures/{name}", figure),
        Mount("/static/vis", app=StaticFiles(directory=str(_vis_dir())), name="vis"),
        Mount("/static", app=StaticFiles(packages=[("kg.web", "static")]), name="static"),
    ]
