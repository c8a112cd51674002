"""The build's summary report: ``report.html`` with PNG and SVG figures beside it (matplotlib).

Top concepts of each type, concepts rising and falling over time (where papers have a year),
the degree distribution of concepts, and topic sizes. The page is static: it reads well
without the server.
"""

from __future__ import annotations

import html
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from kg.graph import Topic
from kg.io import atomic_write_bytes, atomic_write_text, terminal_text
from kg.records import Concept, Mention, Paper
from kg.schema import COLOURS, LABELS

__all__ = ["write_report", "trends"]


def trends(
    papers: Sequence[Paper], mentions: Sequence[Mention], concepts: dict[str, Concept], min_papers: int = 3
) -> tuple[list[int], list[tuple[str, float]], dict[str, list[float]]]:
    """Years with dated papers, concepts by change of share (last year vs the years before), and shares.

    A concept's share in a year is the fraction of that year's papers that mention it.
    """
    year_of = {p.id: int(p.date[:4]) for p in papers if p.date and not p.date.startswith("--")}
    per_year: Counter[int] = Counter(year_of.values())
    years = sorted(y for y, n in per_year.items() if n >= min_papers)
    if len(years) < 2:
        return years, [], {}
    seen: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for m in mentions:
        y = year_of.get(m.paper_id)
        if y in years:
            seen[m.concept].add((y, m.paper_id))
    shares: dict[str, list[float]] = {}
    change = []
    for cid, hits in seen.items():
        if len({p for _, p in hits}) < min_papers:
            continue
        counts = Counter(y for y, _ in hits)
        s = [counts[y] / per_year[y] for y in years]
        shares[cid] = s
        before = sum(counts[y] for y in years[:-1]) / sum(per_year[y] for y in years[:-1])
        change.append((cid, s[-1] - before))
    change.sort(key=lambda x: (-x[1], x[0]))
    return years, change, shares


#: figures byte-identical across builds: SVG element ids hashed with a fixed salt (matplotlib
#: salts them with a random UUID by default), no creation date, one default font; labels are
#: plain text (a ``$`` in a concept's name is not TeX, and an unbalanced one is no error)
FIGURE_RC: dict[str, object] = {
    "svg.hashsalt": "kg-report",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "text.parse_math": False,
}
#: the metadata each format is written with: nothing that changes from build to build
_METADATA: dict[str, dict[str, str | None]] = {
    "svg": {"Date": None, "Creator": "kg (matplotlib)"},
    "png": {"Software": "kg (matplotlib)"},
}


def write_report(
    out: Path,
    papers: Sequence[Paper],
    concepts: dict[str, Concept],
    mentions: Sequence[Mention],
    topics: Sequence[Topic],
) -> list[Path]:
    """Write ``out/report.html`` and ``out/figures/*.png|svg``; return the files written."""
    import matplotlib

    matplotlib.use("Agg")

    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(cast(Any, FIGURE_RC)):
        import matplotlib.pyplot as plt

        written: list[Path] = []

        def save(fig: object, name: str) -> str:
            for ext in ("png", "svg"):
                path = fig_dir / f"{name}.{ext}"
                buf = io.BytesIO()
                fig.savefig(buf, format=ext, dpi=110, bbox_inches="tight", metadata=_METADATA[ext])  # type: ignore[attr-defined]
                atomic_write_bytes(path, buf.getvalue())
                written.append(path)
            plt.close(fig)  # type: ignore[arg-type]
            return f"figures/{name}.png"

        sections: list[str] = []
        # 1. top concepts of each type
        fig, axes = plt.subplots(1, 4, figsize=(18, 5))
        for ax, lab in zip(axes, LABELS, strict=True):
            top = sorted((c for c in concepts.values() if c.type == lab), key=lambda c: (-c.paper_count, c.label))[:12]
            ax.barh(
                [terminal_text(c.label)[:32] for c in reversed(top)],
                [c.paper_count for c in reversed(top)],
                color=COLOURS[lab],
            )
            ax.set_title(f"{lab.lower()}s")
            ax.set_xlabel("papers")
        fig.tight_layout()
        img = save(fig, "top_concepts")
        sections.append(f'<h2>Top concepts of each type</h2><img src="{img}" alt="top concepts of each type">')

        # 2. rising and falling over time
        years, change, shares = trends(papers, mentions, concepts)
        if change:
            rising, falling = change[:5], [c for c in change[::-1][:5] if c[1] < 0]
            fig, (a1, a2) = plt.subplots(1, 2, figsize=(14, 4.5), sharey=True)
            for ax, group, title in ((a1, rising, "rising"), (a2, falling, "falling")):
                for cid, _ in group:
                    ax.plot(
                        years, [100 * s for s in shares[cid]], marker="o", label=terminal_text(concepts[cid].label)[:30]
                    )
                ax.set_title(f"concepts {title} (share of the year's papers)")
                ax.set_xticks(years)
                ax.set_ylabel("% of papers")
                ax.legend(fontsize=8)
            img = save(fig, "trends")
            rows = "".join(
                f"<tr><td>{html.escape(concepts[c].label)}</td><td>{d:+.1%}</td></tr>" for c, d in rising + falling
            )
            sections.append(
                f'<h2>Rising and falling</h2><img src="{img}" alt="concepts over time">'
                f"<table><tr><th>concept</th><th>change of share, {years[-1]} vs before</th></tr>{rows}</table>"
            )
        else:
            sections.append("<h2>Rising and falling</h2><p>Too few papers with a year to show trends.</p>")

        # 3. degree distribution (papers per concept)
        deg = Counter(c.paper_count for c in concepts.values())
        fig, ax = plt.subplots(figsize=(6, 4))
        xs = sorted(deg)
        ax.loglog(xs, [deg[x] for x in xs], "o", color=COLOURS[LABELS[0]])
        ax.set_xlabel("papers mentioning the concept")
        ax.set_ylabel("concepts")
        ax.set_title("degree distribution of concepts")
        img = save(fig, "degree_distribution")
        single = deg.get(1, 0)
        sections.append(
            f'<h2>Degree distribution</h2><img src="{img}" alt="degree distribution">'
            f"<p>{single} of {len(concepts)} concepts ({single / max(1, len(concepts)):.0%}) appear in one paper only.</p>"
        )

        # 4. topic sizes
        if topics:
            fig, ax = plt.subplots(figsize=(10, 4))
            shown = topics[:25]
            ax.bar(range(len(shown)), [len(t.members) for t in shown], color=COLOURS["DATASET"])
            ax.set_xticks(
                range(len(shown)),
                [terminal_text(t.label.split(",")[0])[:18] for t in shown],
                rotation=60,
                ha="right",
                fontsize=8,
            )
            ax.set_ylabel("concepts")
            ax.set_title("topic (community) sizes")
            img = save(fig, "topic_sizes")
            rows = "".join(f"<tr><td>{len(t.members)}</td><td>{html.escape(t.label)}</td></tr>" for t in topics[:25])
            sections.append(
                f'<h2>Topics</h2><img src="{img}" alt="topic sizes"><table><tr><th>size</th><th>top concepts</th></tr>{rows}</table>'
            )

        by_type = Counter(c.type for c in concepts.values())
        summary = ", ".join(f"{by_type[lab]} {lab.lower()}s" for lab in LABELS)
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>kg report</title><link rel='icon' href='data:,'>"
            "<style>body{font-family:system-ui,sans-serif;max-width:75em;margin:1em auto;padding:0 1em}"
            "img{max-width:100%;border:1px solid #ddd}table{border-collapse:collapse}td,th{border:1px solid #ddd;"
            "padding:.2em .5em;text-align:left}</style></head><body>"
            f"<h1>kg report</h1><p>{len(papers)} papers · {len(concepts)} concepts ({summary}) · {len(mentions)} mentions · "
            f"{len(topics)} topics. Figures are also in <code>figures/</code> as SVG.</p>"
            + "".join(sections)
            + "</body></html>\n"
        )
        atomic_write_text(out / "report.html", page)
        written.append(out / "report.html")

        return written
