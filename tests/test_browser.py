"""The web explorer in a real headless browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks._common import CHROMIUM, launch_chromium

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)

EVIL_TITLES = ["<script>alert(1)</script> Attention Tricks", '"><img src=x onerror=alert(1)> Token Pruning Redux']


_STORES: dict[str, str] = {}


def site_store(base: str) -> str:
    return _STORES[base]


@pytest.fixture(scope="module")
def site(tmp_path_factory, data_dir):
    from kg.build import build

    out = tmp_path_factory.mktemp("web") / "out"
    src = out.parent / "corpus.jsonl"
    lines = (data_dir / "mini.jsonl").read_text().splitlines()
    lines.append(
        json.dumps(
            {
                "id": "x1",
                "title": EVIL_TITLES[0],
                "abstract": "We study speculative decoding with LoRA on HumanEval and report latency.",
            }
        )
    )
    lines.append(
        json.dumps(
            {
                "id": "x2",
                "title": EVIL_TITLES[1],
                "abstract": "Token pruning for Vision Transformers (ViTs) reduces FLOPs on ImageNet.",
            }
        )
    )
    src.write_text("\n".join(lines) + "\n")
    build([src], out)
    from kg.web.testing import running_server

    with running_server(out / "store") as base:
        _STORES[base] = str(out / "store")
        yield base


@pytest.fixture()
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        pg.kg_errors = []  # type: ignore[attr-defined]
        pg.kg_requests = []  # type: ignore[attr-defined]
        pg.kg_dialogs = []  # type: ignore[attr-defined]
        pg.on("console", lambda m: pg.kg_errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
        pg.on("pageerror", lambda e: pg.kg_errors.append(str(e)))  # type: ignore[attr-defined]
        pg.on("request", lambda r: pg.kg_requests.append(r.url))  # type: ignore[attr-defined]
        pg.on("dialog", lambda d: (pg.kg_dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
        pg.shots = tmp_path  # type: ignore[attr-defined]
        yield pg
        browser.close()


def _clean(pg) -> None:
    assert pg.kg_errors == [], pg.kg_errors
    assert pg.kg_dialogs == [], pg.kg_dialogs
    outside = [u for u in pg.kg_requests if not u.startswith("http://127.0.0.1:")]
    assert outside == [], outside


def test_browser_search_concept_paper_and_back(site, page):
    page.goto(site + "/")
    page.screenshot(path=str(page.shots / "home.png"))
    page.fill("#search", "specul")
    page.wait_for_selector("#suggestions a")
    page.click("#suggestions a >> text=speculative decoding")
    page.wait_for_url("**/concept/speculative-decoding")
    page.wait_for_selector("#graph[data-drawn='1']", timeout=20000)
    page.screenshot(path=str(page.shots / "concept.png"))
    assert "HumanEval" in page.inner_text(".neighbours")
    page.click(".evidence a.paper >> nth=0")
    page.wait_for_url("**/paper/**")
    page.wait_for_selector(".abstract mark")
    page.screenshot(path=str(page.shots / "paper.png"))
    assert page.locator(".abstract a[href='/concept/speculative-decoding']").count() >= 1
    page.go_back()
    page.wait_for_url("**/concept/speculative-decoding")
    page.goto(site + "/overview")
    page.wait_for_selector("#overview[data-drawn='1']", timeout=20000)
    page.screenshot(path=str(page.shots / "overview.png"))
    page.goto(site + "/search?q=token")
    page.screenshot(path=str(page.shots / "search.png"))
    page.goto(site + "/report")
    page.wait_for_selector("img")
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(page.shots / "report.png"), full_page=True)
    _clean(page)


def test_browser_sparql_page_runs_a_named_query(site, page):
    page.goto(site + "/query")
    page.select_option("#examples", "top-concepts")
    assert "VALUES ?type" in page.input_value("#sparql")
    page.click("#run")
    page.wait_for_selector("table.results tr >> nth=1")
    page.screenshot(path=str(page.shots / "query.png"))
    assert (
        "HumanEval" in page.inner_text("table.results")
        or "large language model" in page.inner_text("table.results").lower()
    )
    page.fill("#sparql", "SELEC nonsense")
    page.click("#run")
    page.wait_for_selector(".error")
    assert "400" in page.inner_text(".error")
    # a bad query is not a console error of the page's own script: the 400 response itself is
    page.kg_errors = [e for e in page.kg_errors if "400" not in e]
    _clean(page)


def test_browser_user_text_is_shown_as_text_everywhere(site, page):
    for pid, title in (("x1", EVIL_TITLES[0]), ("x2", EVIL_TITLES[1])):
        page.goto(f"{site}/paper/{pid}")
        assert page.inner_text("h1") == title
        assert page.locator("h1 script, h1 img").count() == 0
    page.goto(site + "/concept/speculative-decoding")
    page.wait_for_selector("#graph[data-drawn='1']", timeout=20000)
    assert EVIL_TITLES[0] in page.inner_text(".evidence")
    page.fill("#search", "alert")
    page.wait_for_selector("#suggestions a")
    assert "<script>" in page.inner_text("#suggestions")
    assert page.locator("#suggestions img, #suggestions script").count() == 0
    # graph tooltips are plain text: hover every node of the neighbourhood
    positions = page.evaluate(
        "Object.values(window.kgNetwork.getPositions()).map(p => window.kgNetwork.canvasToDOM(p))"
    )
    box = page.locator("#graph").bounding_box()
    for pos in positions[:12]:
        page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
        page.wait_for_timeout(150)
    page.screenshot(path=str(page.shots / "xss.png"))
    _clean(page)


def test_browser_search_results_and_offline_views_escape_titles(site, page, tmp_path):
    page.goto(site + "/search?q=alert")
    assert "<script>alert(1)</script>" in page.inner_text(".results")
    assert page.locator(".results script, .results img").count() == 0
    # the standalone pyvis view of `kg similar --html`: paper titles in node tooltips
    from typer.testing import CliRunner

    from kg.cli import app

    store = site_store(site)
    view = tmp_path / "similar.html"
    r = CliRunner().invoke(app, ["similar", "x1", "--store", store, "--html", str(view)])
    assert r.exit_code == 0, r.output
    page.goto(view.as_uri())
    page.wait_for_function("typeof network !== 'undefined'")
    positions = page.evaluate("Object.values(network.getPositions()).map(p => network.canvasToDOM(p))")
    box = page.locator("#mynetwork").bounding_box()
    seen = []
    for pos in positions:
        page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
        page.wait_for_timeout(300)
        tip = page.locator("div.vis-tooltip")
        if tip.count() and tip.is_visible():
            seen.append(tip.inner_text())
    page.screenshot(path=str(page.shots / "similar.png"))
    assert any(EVIL_TITLES[0] in s for s in seen), seen
    assert page.kg_dialogs == []
    assert [u for u in page.kg_requests if not u.startswith(("http://127.0.0.1:", "file://"))] == []


def test_browser_overview_map_reads_and_clicks_through(site, page):
    """The overview map: drawn at once, labels not overlapping, topics zoom then open, concepts open."""
    page.goto(site + "/overview")
    page.wait_for_selector("#overview[data-drawn='1']", timeout=20000)
    assert page.evaluate("window.kgGraphDrawn") < 3000
    labels = page.evaluate("window.kgOverview.labels()")
    assert labels
    over = sum(
        1
        for i, a in enumerate(labels)
        for j, b in enumerate(labels)
        if i != j and a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]
    )
    assert over == 0, over
    data = page.evaluate("window.kgOverview.data")
    assert data["topics"] and data["nodes"]
    # every label whole inside the canvas, none on another topic's disc
    size = page.evaluate(
        "[document.querySelector('#overview canvas').clientWidth, document.querySelector('#overview canvas').clientHeight]"
    )
    assert all(a["x0"] >= 0 and a["y0"] >= 0 and a["x1"] <= size[0] and a["y1"] <= size[1] for a in labels)
    discs = [page.evaluate(f"window.kgOverview.topicScreen({i})") for i in range(len(data["topics"]))]
    for a in labels:
        own = a["index"] if a["kind"] == "topic" else data["nodes"][a["index"]]["topic"]
        for k, c in enumerate(discs):
            qx, qy = max(a["x0"], min(c["x"], a["x1"])), max(a["y0"], min(c["y"], a["y1"]))
            assert k == own or ((qx - c["x"]) ** 2 + (qy - c["y"]) ** 2) ** 0.5 >= c["r"] - 0.5, (a, k)
    assert sum(a["kind"] == "topic" for a in labels) == len(data["topics"])  # every topic named
    assert {n["type"] for n in data["nodes"]} <= {"METHOD", "TASK", "DATASET", "METRIC"}
    box = page.locator("#overview canvas").bounding_box()
    # a topic: the first click zooms into it and lists it, the second opens its page
    t = page.evaluate("window.kgOverview.topicScreen(0)")
    members = [i for i, n in enumerate(data["nodes"]) if n["topic"] == 0]
    spot = (t["x"], t["y"])
    for dx, dy in ((0.0, 0.9), (0.9, 0.0), (0.0, -0.9), (-0.9, 0.0), (0.6, 0.6)):
        x, y = t["x"] + dx * t["r"], t["y"] + dy * t["r"]
        if all(
            abs(page.evaluate(f"window.kgOverview.screen({i})")["x"] - x) > 15
            or abs(page.evaluate(f"window.kgOverview.screen({i})")["y"] - y) > 15
            for i in members
        ):
            spot = (x, y)
            break
    s0 = page.evaluate("window.kgOverview.view().s")
    page.mouse.click(box["x"] + spot[0], box["y"] + spot[1])
    page.wait_for_timeout(600)
    assert page.evaluate("window.kgOverview.view().s") > s0
    assert data["topics"][0]["label"] in page.inner_text("#overview .panel")
    t = page.evaluate("window.kgOverview.topicScreen(0)")
    page.screenshot(path=str(page.shots / "overview-topic.png"))
    page.click("#overview .panel a >> text=open the topic's page")
    page.wait_for_url("**/topic/**")
    assert page.inner_text("h1").startswith("Topic:")
    assert page.locator(".members a[href^='/concept/']").count() >= 1
    assert page.locator(".topic-papers a[href^='/paper/']").count() >= 1
    page.screenshot(path=str(page.shots / "topic.png"))
    # a concept: a click opens its page
    page.goto(site + "/overview")
    page.wait_for_selector("#overview[data-drawn='1']", timeout=20000)
    p = page.evaluate("window.kgOverview.screen(0)")
    page.mouse.click(box["x"] + p["x"], box["y"] + p["y"])
    page.wait_for_url("**/concept/**")
    _clean(page)


def test_browser_offline_graph_html_is_the_same_map(site, page):

    out = Path(site_store(site)).parent
    page.goto((out / "graph.html").as_uri())
    page.wait_for_selector("#overview[data-drawn='1']", timeout=20000)
    offline = page.evaluate("window.kgOverview.data")
    assert offline == __import__("json").loads((out / "overview.json").read_text())
    # offline, a concept click focuses it and shows its details instead of leaving the page
    box = page.locator("#overview canvas").bounding_box()
    p = page.evaluate("window.kgOverview.screen(0)")
    page.mouse.click(box["x"] + p["x"], box["y"] + p["y"])
    page.wait_for_timeout(600)
    assert offline["nodes"][0]["label"] in page.inner_text("#overview .panel")
    assert page.kg_errors == [] and page.kg_dialogs == []
    assert [u for u in page.kg_requests if not u.startswith("file://")] == []
