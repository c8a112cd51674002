"""The append-only extraction cache, incremental builds and changes.json."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from kg.build import build, check_output_dir
from kg.build.cache import CACHE_FILE, ExtractionCache
from tests.outputs import COMPARED


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_cache_appends_commits_and_keys_by_version(tmp_path):
    c = ExtractionCache(tmp_path / CACHE_FILE, commit_seconds=3600, commit_rows=2)
    c.put("h1", "v1", {"a": 1})
    # not committed yet: another connection does not see it
    other = sqlite3.connect(tmp_path / CACHE_FILE)
    assert other.execute("SELECT COUNT(*) FROM extraction").fetchone()[0] == 0
    c.put("h2", "v1", {"a": 2})  # the second row commits the batch
    assert other.execute("SELECT COUNT(*) FROM extraction").fetchone()[0] == 2
    c.put("h1", "v2", {"a": 3})
    c.close()
    c = ExtractionCache(tmp_path / CACHE_FILE)
    assert dict(c.get_many(["h1", "h2", "h3"], "v1")) == {"h1": {"a": 1}, "h2": {"a": 2}}
    assert dict(c.get_many(["h1"], "v2")) == {"h1": {"a": 3}}
    assert c.count() == 3 and c.count("v1") == 2
    assert c.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    c.close()


def test_cache_force_never_deletes_the_cache(tmp_path):
    out = tmp_path / "out"
    (out / ".cache").mkdir(parents=True)
    (out / ".cache" / "keep").write_text("x")
    (out / "stray.txt").write_text("y")
    check_output_dir(out, force=True)
    assert (out / ".cache" / "keep").exists() and not (out / "stray.txt").exists()


@pytest.fixture(scope="module")
def mini_records(data_dir) -> list[dict]:
    return _records(data_dir / "mini.jsonl")


def test_cache_incremental_equals_full_build_of_the_union(tmp_path, mini_records):
    """Build a part, then add, change and remove papers: the same bytes as one build of the end state."""
    first = _write(tmp_path / "first.jsonl", mini_records[:4])
    changed = [dict(r) for r in mini_records[1:]]  # p1 removed, p5 and p6 added
    changed[0]["abstract"] = changed[0]["abstract"] + " We also evaluate on MBPP."  # p2 changed
    final = _write(tmp_path / "final.jsonl", changed)

    inc = tmp_path / "inc"
    r1 = build([first], inc)
    assert r1.changes["previous_build"] is False and r1.cached_papers == 0
    r2 = build([final], inc)
    assert r2.cached_papers == 2  # p3 and p4 from the cache; p2 changed, p5 and p6 new
    full = tmp_path / "full"
    build([final], full)
    for name in COMPARED:
        assert (inc / name).read_bytes() == (full / name).read_bytes(), name

    ch = json.loads((inc / "changes.json").read_text())
    assert ch == r2.changes and ch["previous_build"] is True
    assert ch["papers"]["added_ids"] == ["p5", "p6"] and ch["papers"]["removed_ids"] == ["p1"]
    assert ch["papers"]["changed_ids"] == ["p2"]
    assert "fastspec" in ch["concepts"]["gone_ids"]  # only p1 proposed FastSpec
    assert ch["concepts"]["new"] == len(ch["concepts"]["new_ids"]) > 0
    assert all(g["growth"] > 0 for g in ch["most_grown"])
    assert not (inc / ".kg-staging").exists()
    # a rebuild of the same input re-extracts nothing and reports no change
    r3 = build([final], inc)
    assert r3.cached_papers == 5 and r3.changes["papers"]["added"] == 0 and r3.changes["concepts"]["new"] == 0


def test_cache_changed_extractor_misses(tmp_path, mini_records):
    part = _write(tmp_path / "part.jsonl", mini_records[:2])
    out = tmp_path / "out"
    build([part], out, model=None)  # the rules alone: another extractor version
    r = build([part], out)
    assert r.cached_papers == 0
    db = sqlite3.connect(out / ".cache" / CACHE_FILE)
    assert db.execute("SELECT COUNT(DISTINCT version) FROM extraction").fetchone()[0] == 2


def test_cache_formats_opt_in(tmp_path, mini_records):
    from kg.errors import OutputError

    part = _write(tmp_path / "part.jsonl", mini_records[:2])
    out = tmp_path / "out"
    r = build([part], out)
    assert r.formats == ["nt", "ttl", "jsonld"] and (out / "kg.ttl").exists()
    r = build([part], out, formats=["nt"])  # a later build without Turtle removes the old one
    assert r.formats == ["nt"] and not (out / "kg.ttl").exists() and not (out / "kg.jsonld").exists()
    assert (out / "kg.nt").exists() and (out / "store").is_dir()
    with pytest.raises(OutputError, match="unknown format 'png' in --formats; choose from nt, ttl, jsonld, xml"):
        build([part], out, formats=["nt", "png"])
    assert (out / "kg.nt").exists()
    r = build([part], out, formats=["xml"])  # any registered writer (kg.export.writers.WRITERS); kg.nt always
    assert r.formats == ["nt", "xml"] and (out / "kg.rdf").read_text(encoding="utf-8").startswith("<?xml")


def test_cache_changes_report_merged_concepts():
    from kg.build import changes_between, changes_line
    from kg.records import Concept, Paper

    llm = Concept(
        id="large-language-model",
        label="large language model",
        type="METHOD",
        aliases={"LLMs": 2, "large language models": 3},
    )
    llm.papers.update({"a", "b", "c"})
    before = (
        {"a": "x", "b": "y"},
        {
            "llm": ("LLM", 2, ("LLMs",)),
            "gone-one": ("Gone", 1, ("gone",)),
            "large-language-model": ("large language model", 1, ()),
        },
    )
    papers = [Paper(id=i, title=i, abstract="t") for i in ("a", "b", "c")]
    ch = changes_between(before, papers, {"large-language-model": llm})
    assert ch["concepts"]["gone_ids"] == ["llm", "gone-one"] and ch["concepts"]["merged"] == 1
    assert ch["concepts"]["merged_into"] == [
        {"id": "llm", "label": "LLM", "into": "large-language-model", "into_label": "large language model"}
    ]
    assert ch["most_grown"][0]["growth"] == 2 and ch["papers"]["added_ids"] == ["c"]
    assert "1 of them merged" in changes_line(ch)
