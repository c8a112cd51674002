from __future__ import annotations

from kg.export.report import trends
from kg.records import Concept, Mention, Paper


def test_report_written_by_build(mini_build):
    page = (mini_build / "report.html").read_text()
    for section in ("Top concepts of each type", "Rising and falling", "Degree distribution", "Topics"):
        assert section in page
    for name in ("top_concepts", "degree_distribution", "topic_sizes"):
        assert (mini_build / "figures" / f"{name}.png").stat().st_size > 1000
        assert (mini_build / "figures" / f"{name}.svg").read_text().lstrip().startswith("<?xml")
    assert "https://" not in page.replace("https://w3id.org", "")  # readable offline: nothing fetched


def test_report_trends_rising_and_falling():
    papers = [Paper(f"p{i}", f"t{i}", "a", date=f"{2020 + i // 4}-01-01") for i in range(12)]
    mentions = []
    for i in range(12):
        year = 2020 + i // 4
        if year >= 2021:
            mentions.append(Mention(f"p{i}", 0, 1, "x", "METHOD", concept="new"))
        if year <= 2021:
            mentions.append(Mention(f"p{i}", 2, 3, "y", "METHOD", concept="old"))
    concepts = {"new": Concept("new", "new", "METHOD"), "old": Concept("old", "old", "METHOD")}
    years, change, shares = trends(papers, mentions, concepts)
    assert years == [2020, 2021, 2022]
    assert change[0][0] == "new" and change[-1][0] == "old"
    assert shares["new"] == [0.0, 1.0, 1.0] and shares["old"] == [1.0, 1.0, 0.0]
