from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.corpus import read_corpus, read_file, sample_corpus_files
from kg.corpus.dailypapers import parse_daily_papers, parse_date
from kg.errors import InputError, UnknownFormatError
from kg.records import paper_id


def test_corpus_blocks_layout_reads_titles_abstracts_and_meta(data_dir):
    papers = read_file(data_dir / "dailypapers_blocks.txt")
    assert [p.title for p in papers][:2] == [
        "MESA: Effective Matching Redundancy Reduction by Semantic Area Segmentation",
        "IA-RED$^2$: Interpretability-Aware Redundancy Reduction for Vision Transformers",
    ]
    assert papers[0].abstract.startswith("We propose MESA and DMESA")
    assert papers[0].author_count == 3
    assert papers[0].date == "2024-08-01"
    assert papers[1].date == "2021-06-23"
    # the listing's own date ("Jun 5") is not a paper date, and no header line is a paper
    assert all(p.title not in ("Daily Papers", "Jun 5", "new") for p in papers)
    assert papers[0].urls == ["https://github.com/Easonyesheng/A2PM-MESA"]


def test_corpus_blocks_layout_without_meta(data_dir):
    papers = read_file(data_dir / "dailypapers_blocks_nometa.txt")
    assert papers[0].title.startswith("Parameter and Computation Efficient Transfer Learning")
    assert all(p.date is None for p in papers)
    assert all(len(p.abstract) > 200 for p in papers)


def test_corpus_compact_layout_strips_boilerplate(data_dir):
    papers = read_file(data_dir / "dailypapers_compact.txt")
    assert papers[0].title == "Towards Scalable Foundation Model for Multi-modal and Hyperspectral Geospatial Data"
    assert papers[0].abstract.startswith("Geospatial raster data")
    assert len(papers) == 4
    assert papers[3].title == "Enabling Autoregressive Models to Fill In Masked Tokens"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Aug 1, 2024", "2024-08-01"),
        ("Oct 13 2", "--10-13"),
        ("Jun 18, 2025 3", "2025-06-18"),
        ("Oct 6", "--10-06"),
        ("Gensyn Gensyn", None),
        ("Mar 45", None),
    ],
)
def test_corpus_parse_date_never_invents_a_year(text, expected):
    assert parse_date(text) == expected


def test_corpus_sample_gives_exactly_396_papers():
    papers, report = read_corpus(sample_corpus_files())
    assert report.entries == 444
    assert report.papers == len(papers) == 396
    assert report.duplicates == 48
    assert len({p.id for p in papers}) == 396


def test_corpus_ids_stable_across_input_order():
    files = sample_corpus_files()
    a, _ = read_corpus(files)
    b, _ = read_corpus(list(reversed(files)))
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]


def test_corpus_paper_id_matches_seed_gold_ids():
    title = (
        "JaColBERTv2.5: Optimising Multi-Vector Retrievers to Create State-of-the-Art "
        "Japanese Retrievers with Constrained Resources"
    )
    assert paper_id(title) == "213b37bc9a21"
    assert paper_id(title.upper() + "  ") == "213b37bc9a21"


def test_corpus_jsonl_broken_line_is_skipped_with_warning(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text('{"id": "a", "title": "T1", "abstract": "A1"}\n{broken\n{"id": "b", "text": "T2\\nbody"}\n')
    warnings: list[str] = []
    papers = read_file(f, warnings=warnings)
    assert [p.id for p in papers] == ["a", "b"]
    assert warnings == [f"{f}:2: invalid JSON (Expecting property name enclosed in double quotes); line skipped"]
    assert papers[1].text == "T2\nbody"  # a text record keeps its text verbatim


def test_corpus_csv_arxiv_columns(tmp_path):
    f = tmp_path / "arxiv.csv"
    f.write_text('id,title,abstract,update_date\n2401.1,"A, title","An abstract.",2024-01-02\n')
    (p,) = read_file(f)
    assert (p.id, p.title, p.abstract, p.date) == ("2401.1", "A, title", "An abstract.", "2024-01-02")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "file not found"),
        ("empty.txt", b"  \n", "empty file"),
        ("binary.txt", b"\x00\x01\x02PNG", "binary file"),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
    ],
)
def test_corpus_bad_files_raise_clear_errors(tmp_path, name, content, message):
    f = tmp_path / name
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(InputError, match=message) as exc:
        read_file(f)
    assert str(f) in str(exc.value)


def test_corpus_unknown_format(tmp_path):
    f = tmp_path / "paper.pdf"
    f.write_bytes(b"%PDF")
    with pytest.raises(UnknownFormatError, match="unknown format '.pdf'"):
        read_file(f)


def test_corpus_one_bad_file_does_not_stop_the_rest(tmp_path, data_dir):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    papers, report = read_corpus([bad, data_dir / "mini.jsonl"])
    assert len(papers) == 6
    assert report.failed_files == [str(bad)]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_corpus_daily_papers_parser_never_crashes(text):
    for e in parse_daily_papers(text):
        assert e.title.strip()


def test_corpus_jsonl_roundtrip_of_sample(tmp_path):
    papers, _ = read_corpus(sample_corpus_files()[:1])
    f = tmp_path / "x.jsonl"
    f.write_text("\n".join(json.dumps({"id": p.id, "title": p.title, "abstract": p.abstract}) for p in papers))
    again = read_file(f)
    assert [(p.id, p.text) for p in again] == [(p.id, p.text) for p in papers]
    assert Path(f).exists()
