"""The overview map in a real browser: time to interactive, nodes drawn, label overlap, nodes flung out.

Opens the explorer's /overview (through `kg serve`) and the offline graph.html of a build in
Debian's chromium (Playwright, 1400x900) and reports, for each:

- time to interactive: ms from navigation start until the map is drawn with its handlers
  attached (the layout comes from the build: nothing is simulated in the page), median of 3 loads;
- nodes drawn, topics, and labels visible in the first view;
- the share of visible labels whose box overlaps another's (target <= 2%); labels cut by the
  canvas's edge (target 0) and labels lying on another topic's disc (target 0);
- nodes farther from the centre than the main component reaches (target 0): the main
  component is the largest connected piece of the drawn graph, the centre its centroid.

Screenshots of the first view go to docs/ (overview-<name>.png, graph-html-<name>.png).

    python -m benchmarks.bench_browser                       # builds the sample corpus first
    python -m benchmarks.bench_browser --out outputs --name sample
    python -m benchmarks.bench_browser --out /tmp/big --name arxiv-10k
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import kg
from benchmarks._common import ROOT, launch_chromium, machine, save

#: run in the page once the map is drawn: what it drew, measured from the drawn label boxes
MEASURE = """() => {
  const o = window.kgOverview, d = o.data, L = o.labels();
  const cv = document.querySelector("#overview canvas"), W = cv.clientWidth, H = cv.clientHeight;
  const discs = d.topics.map((_, i) => o.topicScreen(i));
  const onDisc = (l, c) => Math.hypot(Math.max(l.x0, Math.min(c.x, l.x1)) - c.x,
                                      Math.max(l.y0, Math.min(c.y, l.y1)) - c.y) < c.r - 0.5;
  const clipped = L.filter((l) => l.x0 < 0 || l.y0 < 0 || l.x1 > W || l.y1 > H).length;
  const offDisc = L.filter((l) => {
    const own = l.kind === "topic" ? l.index : d.nodes[l.index].topic;
    return discs.some((c, k) => k !== own && onDisc(l, c));
  }).length;
  let overlapping = 0;
  for (let i = 0; i < L.length; i++) {
    for (let j = 0; j < L.length; j++) {
      if (i === j) continue;
      const a = L[i], b = L[j];
      if (a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1) { overlapping++; break; }
    }
  }
  const n = d.nodes.length, parent = Array.from({length: n}, (_, i) => i);
  const find = (i) => { while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; } return i; };
  d.edges.forEach((e) => { parent[find(e[0])] = find(e[1]); });
  const size = {};
  for (let i = 0; i < n; i++) size[find(i)] = (size[find(i)] || 0) + 1;
  let main = -1;
  Object.keys(size).forEach((k) => { if (main < 0 || size[k] > size[main]) main = +k; });
  const pts = d.nodes.map((_, i) => o.screen(i));
  const inMain = d.nodes.map((_, i) => find(i) === main);
  let cx = 0, cy = 0, m = 0;
  pts.forEach((p, i) => { if (inMain[i]) { cx += p.x; cy += p.y; m++; } });
  cx /= Math.max(1, m); cy /= Math.max(1, m);
  let reach = 0;
  pts.forEach((p, i) => { if (inMain[i]) reach = Math.max(reach, Math.hypot(p.x - cx, p.y - cy)); });
  const far = pts.filter((p, i) => !inMain[i] && Math.hypot(p.x - cx, p.y - cy) > reach + 0.5).length;
  return {nodes: n, nodes_drawn: o.nodesDrawn(), topics: d.topics.length, edges: d.edges.length,
          main_component: m, labels_visible: L.length,
          topic_labels_visible: L.filter((l) => l.kind === "topic").length,
          labels_overlapping: overlapping, overlap_share: L.length ? overlapping / L.length : 0,
          labels_clipped: clipped, labels_on_other_topics: offDisc,
          nodes_beyond_main: far};
}"""


def measure_page(page: Any, url: str, shot: Path | None, loads: int = 3) -> dict[str, Any]:
    times = []
    for _ in range(loads):
        page.goto(url)
        page.wait_for_selector("#overview[data-drawn='1']", timeout=60000)
        times.append(page.evaluate("window.kgGraphDrawn"))
    page.wait_for_timeout(300)
    res: dict[str, Any] = page.evaluate(MEASURE)
    res["interactive_ms"] = round(statistics.median(times), 1)
    res["interactive_ms_max"] = round(max(times), 1)
    res["overlap_share"] = round(res["overlap_share"], 4)
    if shot:
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        res["screenshot"] = str(shot.relative_to(ROOT)) if shot.is_relative_to(ROOT) else str(shot)
    return res


def measure_build(out: Path, name: str, shots: Path | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from kg.web.testing import running_server

    results: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        results["graph_html"] = measure_page(
            page, (out / "graph.html").resolve().as_uri(), shots / f"graph-html-{name}.png" if shots else None
        )
        with running_server(out / "store") as base:
            results["explorer_overview"] = measure_page(
                page, base + "/overview", shots / f"overview-{name}.png" if shots else None
            )
        browser.close()
        results["page_errors"] = errors
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="a kg build directory (default: build the sample corpus)")
    ap.add_argument("--name", default="sample")
    ap.add_argument("--shots", type=Path, default=ROOT / "docs", help="where the screenshots go ('' for none)")
    args = ap.parse_args()
    tmp = None
    out = args.out
    if out is None:
        tmp = Path(tempfile.mkdtemp())
        out = kg.build(out=tmp / "sample").folder
    try:
        papers = json.loads((out / ".kg-build.json").read_text()).get("papers")
        res = measure_build(out, args.name, args.shots if str(args.shots) else None)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    data = {
        "machine": machine(),
        "command": " ".join(["python", "-m", "benchmarks.bench_browser", *sys.argv[1:]]),
        "corpus": args.name,
        "papers": papers,
        **res,
    }
    save(f"browser-{args.name}", data)
    print(json.dumps(data, indent=1))
    ok = all(
        v["overlap_share"] <= 0.02
        and v["nodes_beyond_main"] == 0
        and v["labels_clipped"] == 0
        and v["interactive_ms"] <= 3000
        for k, v in res.items()
        if isinstance(v, dict)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
