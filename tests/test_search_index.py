"""The explorer's search index (kg.export.search): what it finds equals the store's own search, and it
ranks, escapes and fails over as the store's would."""

from __future__ import annotations

from kg.export.search import SEARCH_FILE, search_index, write_search_index
from kg.records import Concept, Paper
from kg.web import data


def _concept(cid: str, label: str, n: int, *aliases: str) -> Concept:
    return Concept(cid, label, "METHOD", aliases={a: 1 for a in aliases}, papers={f"p{i}" for i in range(n)})


def test_ranks_prefix_then_papers_then_label(tmp_path):
    path = tmp_path / SEARCH_FILE
    concepts = {
        "a": _concept("a", "sparse attention", 3),
        "b": _concept("b", "attention", 1, "self-attention"),
        "c": _concept("c", "flash attention", 9),
        "d": _concept("d", "Attention Sink", 1),
    }
    write_search_index(path, [Paper("p1", "Attention is all you need", ""), Paper("p2", "Other", "")], concepts)
    found, papers = search_index(path, "Attention")  # type: ignore[misc]
    # names starting with the key first (then by label, code point order as SPARQL's: "Attention Sink"
    # before "attention"), then the most papers (flash 9, sparse 3)
    assert [c["cid"] for c in found] == ["d", "b", "c", "a"]
    assert found[1] == {"cid": "b", "label": "attention", "type": "METHOD", "papers": 1}
    assert papers == [{"pid": "p1", "title": "Attention is all you need"}]
    assert [c["cid"] for c in search_index(path, "self-att")[0]] == ["b"]  # type: ignore[index]  # aliases are names
    assert search_index(path, "at")[0]  # type: ignore[index]  # two characters: a scan, still found


def test_like_wildcards_are_text(tmp_path):
    path = tmp_path / SEARCH_FILE
    write_search_index(path, [], {"a": _concept("a", "100% recall", 1), "b": _concept("b", "top_k", 1)})
    assert [c["cid"] for c in search_index(path, "0%")[0]] == ["a"]  # type: ignore[index]
    assert search_index(path, "p%k")[0] == []  # type: ignore[index]
    assert [c["cid"] for c in search_index(path, "p_k")[0]] == ["b"]  # type: ignore[index]
    assert search_index(path, "o_k")[0] == []  # type: ignore[index]


def test_no_index_means_none(tmp_path):
    assert search_index(tmp_path / SEARCH_FILE, "x") is None
    (tmp_path / SEARCH_FILE).write_text("not a database")
    assert search_index(tmp_path / SEARCH_FILE, "x") is None


def test_the_build_writes_it_and_the_explorer_finds_the_same(mini_build, mini_store):
    index = mini_build / SEARCH_FILE
    assert index.is_file()
    for text in ("de", "decoding", "Human", "bench", "zzz-none"):
        assert data.search(mini_store, text, limit=50, index=index) == data.search(mini_store, text, limit=50), text
