"""Unit tests of kg.graph.views: view data, the offline pages, the overview layout."""

from __future__ import annotations

import json
import math

import pytest

from kg.graph.views import (
    TYPE_COLOURS,
    ViewData,
    neighbourhood_data,
    overview_layout,
    overview_page,
    render_html,
    similarity_data,
)
from kg.schema import COLOURS, PAPER_COLOUR


def test_type_colours_come_from_the_schema():
    assert TYPE_COLOURS == {**COLOURS, "PAPER": PAPER_COLOUR}


def test_neighbourhood_data():
    d = neighbourhood_data(
        "c", "LoRA", "METHOD", [("n1", "GLUE", "DATASET", 4, 2.5, "c", 1), ("n2", "x", "TASK", 1, 1.0, "n1", 2)]
    )
    assert [n.id for n in d.nodes] == ["c", "n1", "n2"]
    assert d.nodes[1].size == 10 + 3 * 2 and "4 shared papers · hop 1" in d.nodes[1].title
    assert [(e.source, e.target, e.weight) for e in d.edges] == [("c", "n1", 4.0), ("n1", "n2", 1.0)]
    assert d.heading == "Neighbourhood of LoRA"


def test_similarity_data_shortens_titles_and_lists_shared_concepts():
    long = "A very long title about many things that goes on and on"
    d = similarity_data("p1", "Paper one", [{"paper": "p2", "title": long, "score": 2.0, "shared": ["lora", "glue"]}])
    assert d.nodes[0].id == "paper:p1" and d.nodes[1].id == "paper:p2"
    assert d.nodes[1].label.endswith("…") and len(d.nodes[1].label) == 40
    assert d.edges[0].title == "shared: lora, glue" and d.edges[0].weight == 2.0


def test_render_html_is_offline_escaped_and_deterministic(tmp_path):
    d = neighbourhood_data("c", "<b>x</b>", "METHOD", [("n1", "GLUE", "DATASET", 4, 2.5, "c", 1)])
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    render_html(d, a)
    render_html(d, b)
    page = a.read_text(encoding="utf-8")
    assert a.read_bytes() == b.read_bytes()
    assert "<title>Neighbourhood of &lt;b&gt;x&lt;/b&gt;</title>" in page
    assert 'src="http' not in page and "cdn.jsdelivr" not in page  # vis-network inlined, no CDN
    assert COLOURS["METHOD"] in page and COLOURS["DATASET"] in page
    render_html(ViewData(heading="empty"), tmp_path / "e.html")  # no nodes: still a page
    assert (tmp_path / "e.html").stat().st_size > 0


def _overview(n_topics: int = 3, per: int = 6, budget: int = 320):
    concepts = {
        f"t{t}c{i}": {"label": f"concept {t}.{i}", "type": "METHOD" if i % 2 else "TASK", "papers": 10 - i}
        for t in range(n_topics)
        for i in range(per)
    }
    pairs = [(f"t{t}c{i}", f"t{t}c{i + 1}", 3) for t in range(n_topics) for i in range(per - 1)]
    pairs += [("t0c0", f"t{t}c0", 2) for t in range(1, n_topics)]
    topics = [
        (f"topic-{t}", f"concept {t}.0, concept {t}.1", [f"t{t}c{i}" for i in range(per)]) for t in range(n_topics)
    ]
    return overview_layout(concepts, pairs, topics, budget=budget)


def test_overview_layout():
    data = _overview()
    assert data == _overview()  # deterministic
    assert [t["id"] for t in data["topics"]] == ["topic-0", "topic-1", "topic-2"]
    assert len(data["nodes"]) == 18 and {n["topic"] for n in data["nodes"]} == {0, 1, 2}
    assert all(math.isfinite(n["x"]) and math.isfinite(n["y"]) for n in data["nodes"])
    for n in data["nodes"]:  # each concept inside its topic's disc
        t = data["topics"][n["topic"]]
        assert math.hypot(n["x"] - t["x"], n["y"] - t["y"]) <= t["r"] + 1
    assert [n["name"] for n in data["nodes"][:4]] == [True, True, True, False]  # the first three name it
    assert all(0 <= a < len(data["nodes"]) and 0 <= b < len(data["nodes"]) for a, b, _ in data["edges"])


def test_overview_budget_keeps_at_least_three_per_topic():
    data = _overview(n_topics=4, per=10, budget=8)
    assert len(data["nodes"]) == 12 and all(t["shown"] == 3 and t["size"] == 10 for t in data["topics"])


@pytest.mark.parametrize("label", ["</script><script>alert(1)</script>", "a & b"])
def test_overview_page_cannot_break_out_of_its_data(label):
    data = _overview()
    data["nodes"][0]["label"] = label
    page = overview_page(data)
    assert "</script><script>alert" not in page
    blob = page.split('<script id="kg-overview-data" type="application/json">', 1)[1].split("</script>", 1)[0]
    assert json.loads(blob)["nodes"][0]["label"] == label
