"""Readers: one per format, chosen by extension or an explicit format name."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from kg.corpus.dailypapers import parse_daily_papers
from kg.corpus.merge import merge_papers
from kg.errors import InputError, UnknownFormatError
from kg.records import Paper, paper_id

__all__ = ["FORMATS", "ReadReport", "read_file", "read_corpus", "sample_corpus_files", "detect_format"]

_EXTENSIONS = {
    ".txt": "txt",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
}
_TITLE_KEYS = ("title",)
_ABSTRACT_KEYS = ("abstract", "summary")
_DATE_KEYS = ("date", "published", "update_date", "created")


@dataclass
class ReadReport:
    """What reading a corpus saw: counts and the warnings for skipped records."""

    files: list[str] = field(default_factory=list)
    entries: int = 0  # records read, before merging
    papers: int = 0  # distinct papers after merging
    duplicates: int = 0  # records merged into an earlier one
    warnings: list[str] = field(default_factory=list)
    failed_files: list[str] = field(default_factory=list)


def detect_format(path: Path) -> str:
    """The format name for ``path`` by its extension (``.gz`` is looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext not in _EXTENSIONS:
        raise UnknownFormatError(
            f"{path}: unknown format {ext or '(no extension)'!r}; "
            f"use a .txt, .jsonl or .csv file, or pass --format {'|'.join(sorted(FORMATS))}"
        )
    return _EXTENSIONS[ext]


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give the corpus files inside it")
    try:
        raw = path.read_bytes()
        if path.suffix.lower() == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as err:
        raise InputError(f"{path}: cannot be read ({err}); check the file") from err
    if b"\x00" in raw[:8192]:
        raise InputError(f"{path}: binary file, not UTF-8 text; give a .txt, .jsonl or .csv corpus file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path}: not UTF-8 text (byte {err.start}); convert it to UTF-8 first"
        ) from err
    if not text.strip():
        raise InputError(f"{path}: empty file, no papers to read; check that it is the right file")
    return text


def _first(rec: dict[str, object], keys: Iterable[str]) -> str | None:
    lowered = {str(k).lower(): v for k, v in rec.items()}
    for k in keys:
        v = lowered.get(k)
        if v is not None and str(v).strip():
            return " ".join(str(v).split()) if k != "text" else str(v)
    return None


def _record_to_paper(rec: dict[str, object], where: str, warnings: list[str]) -> Paper | None:
    title = _first(rec, _TITLE_KEYS)
    abstract = _first(rec, _ABSTRACT_KEYS) or ""
    text = rec.get("text")
    raw_text: str | None = None
    if isinstance(text, str) and text.strip() and title is None:
        raw_text = text
        title = " ".join(text.strip().split("\n", 1)[0].split())[:300]
        abstract = text.strip().split("\n", 1)[1].strip() if "\n" in text.strip() else ""
    if not title:
        warnings.append(f"{where}: record has no 'title' or 'text' field; skipped")
        return None
    rid = rec.get("id")
    pid = str(rid) if rid is not None and str(rid).strip() else paper_id(title)
    authors = rec.get("authors")
    author_list = [str(a) for a in authors] if isinstance(authors, list) else []
    date = _first(rec, _DATE_KEYS)
    return Paper(
        id=pid,
        title=title,
        abstract=abstract,
        date=date[:10] if date else None,
        authors=author_list,
        author_count=len(author_list) or None,
        sources=[where],
        raw_text=raw_text,
    )


def _read_txt(path: Path, text: str, warnings: list[str]) -> list[Paper]:
    out = []
    for e in parse_daily_papers(text):
        if not e.abstract:
            warnings.append(f"{path}:{e.line}: title without an abstract ({e.title[:60]!r}); kept title only")
        out.append(Paper(
            id=paper_id(e.title), title=e.title, abstract=e.abstract, date=e.date,
            author_count=e.author_count, organization=e.organization, urls=list(e.urls),
            sources=[f"{path.name}:{e.line}"],
        ))
    return out


def _read_jsonl(path: Path, text: str, warnings: list[str]) -> list[Paper]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as err:
            warnings.append(f"{path}:{n}: invalid JSON ({err.msg}); line skipped")
            continue
        if not isinstance(rec, dict):
            warnings.append(f"{path}:{n}: a JSON object was expected, got {type(rec).__name__}; line skipped")
            continue
        p = _record_to_paper(rec, f"{path.name}:{n}", warnings)
        if p is not None:
            out.append(p)
    return out


def _read_delimited(path: Path, text: str, warnings: list[str], delimiter: str) -> list[Paper]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    fields = {f.lower() for f in (reader.fieldnames or [])}
    if "title" not in fields and "text" not in fields:
        raise InputError(
            f"{path}: no 'title' (or 'text') column in the header {sorted(fields)}; "
            "name the columns id,title,abstract"
        )
    out = []
    for rec in reader:
        line = reader.line_num
        p = _record_to_paper(dict(rec), f"{path.name}:{line}", warnings)
        if p is not None:
            out.append(p)
    return out


FORMATS: dict[str, Callable[[Path, str, list[str]], list[Paper]]] = {
    "txt": _read_txt,
    "jsonl": _read_jsonl,
    "csv": lambda p, t, w: _read_delimited(p, t, w, ","),
    "tsv": lambda p, t, w: _read_delimited(p, t, w, "\t"),
}


def read_file(path: Path | str, fmt: str | None = None, warnings: list[str] | None = None) -> list[Paper]:
    """Read one corpus file into papers, in file order, unmerged.

    Records that cannot be read are skipped with a warning naming file and line
    (appended to ``warnings``); a file that cannot be read at all raises
    :class:`~kg.errors.InputError`.
    """
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise UnknownFormatError(f"unknown format {fmt!r}; use one of {', '.join(sorted(FORMATS))}")
    name = fmt or detect_format(path)
    text = _read_text(path)
    sink: list[str] = [] if warnings is None else warnings
    papers = FORMATS[name](path, text, sink)
    if not papers:
        raise InputError(f"{path}: no papers found in this {name} file; check its format")
    return papers


def read_corpus(paths: Iterable[Path | str], fmt: str | None = None) -> tuple[list[Paper], ReadReport]:
    """Read several files, merge papers seen more than once, and report.

    A file that cannot be read is reported in ``report.warnings`` and
    ``report.failed_files``; the other files are still read. Raises
    :class:`~kg.errors.InputError` only when no paper at all could be read.
    """
    report = ReadReport()
    papers: list[Paper] = []
    for path in paths:
        p = Path(path)
        report.files.append(str(p))
        try:
            got = read_file(p, fmt, report.warnings)
        except InputError as err:
            report.warnings.append(str(err))
            report.failed_files.append(str(p))
            continue
        papers.extend(got)
    report.entries = len(papers)
    if not papers:
        detail = f": {report.warnings[-1]}" if report.warnings else ""
        raise InputError(f"no papers could be read from the input{detail}")
    merged, report.duplicates = merge_papers(papers)
    report.papers = len(merged)
    return merged, report


def sample_corpus_files() -> list[Path]:
    """The bundled sample corpus (four Daily Papers listings), sorted by name."""
    root = resources.files("kg") / "data" / "samples"
    return sorted(Path(str(root)) / p.name for p in root.iterdir() if p.name.endswith(".txt"))
