"""Readers: one per format, chosen by extension or an explicit format name.

The readers are a registry (:data:`READERS`, entry-point group ``kg.readers``): a package adds a
format by declaring a :class:`Reader` there, and ``kg build --format`` and the error messages
list it.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import gzip
import io
import itertools
import json
import re
import stat
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from kg.corpus.dailypapers import parse_daily_papers, parse_date
from kg.corpus.merge import merge_papers
from kg.errors import InputError, UnknownFormatError
from kg.records import Paper, paper_id
from kg.registry import Registry

__all__ = [
    "READERS",
    "FORMATS",
    "Reader",
    "ReadReport",
    "read_file",
    "read_corpus",
    "sample_corpus_files",
    "detect_format",
    "record_to_paper",
]

ReadFunction = Callable[[Path, str, list[str], dict[int, int]], list[Paper]]


@dataclass(frozen=True)
class Reader:
    """One input format: ``read(path, text, warnings, bad_lines) -> papers`` and the file
    extensions it claims (``.gz`` is looked through). ``read`` gets the decoded text and the lines
    that failed to decode; it reports every record it skips, with ``file:line``, in ``warnings``."""

    read: ReadFunction
    extensions: tuple[str, ...] = ()
    description: str = ""


#: the input formats, by name (entry-point group ``kg.readers``)
READERS: Registry[Reader] = Registry(
    "format", "kg.readers", check=lambda o: isinstance(o, Reader), error=UnknownFormatError
)
#: the same registry under its old name
FORMATS = READERS


def _extensions() -> dict[str, str]:
    """File extension -> format name, over every registered reader."""
    return {ext: name for name, r in READERS.items() for ext in r.extensions}


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
    extensions = _extensions()
    if ext not in extensions:
        raise UnknownFormatError(
            f"{path}: unknown format {ext or '(no extension)'!r}; "
            f"use a {', '.join(extensions)} file, or pass --format {'|'.join(READERS.names())}"
        )
    return extensions[ext]


#: leading bytes of common binary formats
_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x7fELF",
    b"SQLite format 3\x00",
    b"BZh",
    b"\xfd7zXZ",
    b"7z\xbc\xaf",
)
#: bytes that plain text does not contain (form feed and escape do occur in scraped text)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
#: the most a special file (a pipe, a device) is read; a regular file is read whole
MAX_STREAM_BYTES = 1 << 30
#: the most a .gz file may unpack to
MAX_GUNZIP_BYTES = 4 << 30


def looks_binary(head: bytes) -> bool:
    """Whether a file's first bytes are a binary format rather than text with a stray NUL.

    A known magic number, or more than a tenth of the bytes being control bytes, is binary; one
    NUL in a text file is not.

    >>> looks_binary(b"%PDF-1.4"), looks_binary(b"\\x00\\x01\\x02PNG"), looks_binary(b"title\\n" * 50 + b"\\x00")
    (True, True, False)
    """
    if head.startswith(_MAGIC):
        return True
    n_control = len(head) - len(head.translate(None, _CONTROL))
    return n_control > max(1, len(head) // 10)


def _read_bytes(path: Path) -> bytes:
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError) as err:
        raise InputError(f"{path}: file not found; check the path") from err
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot be read ({err}); check the path") from err
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory; give the corpus files inside it")
    try:
        with path.open("rb") as f:
            if stat.S_ISREG(st.st_mode):
                raw = f.read()
            else:
                raw = f.read(MAX_STREAM_BYTES + 1)
                if len(raw) > MAX_STREAM_BYTES:
                    raise InputError(
                        f"{path}: more than {MAX_STREAM_BYTES >> 20} MiB from a stream; write it to a file first"
                    )
        if path.suffix.lower() == ".gz":
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as g:
                raw = g.read(MAX_GUNZIP_BYTES + 1)
            if len(raw) > MAX_GUNZIP_BYTES:
                raise InputError(f"{path}: unpacks to more than {MAX_GUNZIP_BYTES >> 30} GiB; split the corpus")
    except (OSError, EOFError, zlib.error) as err:
        raise InputError(f"{path}: cannot be read ({err}); check the file") from err
    return raw


def _decode(path: Path, raw: bytes, warnings: list[str]) -> tuple[str, dict[int, int]]:
    """The file's text and its lines that are not UTF-8 (1-based line → byte in the line).

    Lines that are not UTF-8 are decoded with U+FFFD in place of the bad bytes; the readers
    skip the records they belong to. A file most of whose lines are not UTF-8 is refused.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: UTF-16 text, not UTF-8; convert it to UTF-8 first")
    if looks_binary(raw[:8192]):
        raise InputError(
            f"{path}: binary file, not UTF-8 text; give a corpus file ({', '.join(sorted(_extensions()))})"
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    bad: dict[int, int] = {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        parts = raw.split(b"\n")
        lines = []
        for n, line in enumerate(parts, 1):
            try:
                lines.append(line.decode("utf-8"))
            except UnicodeDecodeError as err:
                bad[n] = err.start
                lines.append(line.decode("utf-8", "replace"))
        text = "\n".join(lines)
        non_blank = sum(1 for line in parts if line.strip())
        if 2 * len(bad) >= non_blank:
            n, col = min(bad.items())
            raise InputError(f"{path}: not UTF-8 text (line {n}, byte {col + 1}); convert it to UTF-8 first") from None
    if "\x00" in text:
        nul_lines = [n for n, line in enumerate(text.split("\n"), 1) if "\x00" in line]
        more = f" (and {len(nul_lines) - 1} more lines)" if len(nul_lines) > 1 else ""
        warnings.append(f"{path}:{nul_lines[0]}: NUL characters removed{more}")
        text = text.replace("\x00", "")
    if not text.strip():
        raise InputError(f"{path}: empty file, no papers to read; check that it is the right file")
    return text, bad


def _bad_line(path: Path, n: int, col: int, what: str) -> str:
    return f"{path}:{n}: not UTF-8 (byte {col + 1} of the line); {what} skipped"


def _lines(text: str) -> list[str]:
    """Physical lines (``\\n`` or ``\\r\\n``): never the other breaks ``str.splitlines`` knows (U+2028 ...)."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(s: str) -> str:
    """Lone surrogates (from JSON escapes such as ``\\ud800``) cannot be written as UTF-8: U+FFFD; NUL
    characters (``\\u0000`` escapes; raw NUL bytes are dropped when the file is read) are dropped too.
    """
    return _SURROGATE.sub("\ufffd", s).replace("\x00", "")


def _first(rec: dict[str, object], keys: Iterable[str]) -> str | None:
    lowered = {str(k).lower(): v for k, v in rec.items()}
    for k in keys:
        v = lowered.get(k)
        if v is not None and str(v).strip():
            return " ".join(_clean(str(v)).split())
    return None


def _date_of(value: str | None, where: str, warnings: list[str]) -> str | None:
    """An ISO date (``YYYY-MM-DD``, a time after it is dropped) or a listing's ``Aug 1, 2024``; else ``None``."""
    if value is None:
        return None
    iso = value[:10]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
        try:
            return datetime.date.fromisoformat(iso).isoformat()
        except ValueError:
            pass
    elif (d := parse_date(value)) is not None:
        return d
    warnings.append(f"{where}: date {value[:40]!r} not understood (write it as YYYY-MM-DD); left out")
    return None


def record_to_paper(rec: dict[str, object], where: str, warnings: list[str]) -> Paper | None:
    """One record (``id``, ``title`` + ``abstract``/``summary``, or ``text``; ``date``, authors, urls)
    as a :class:`~kg.records.Paper`; none, with a line in ``warnings`` naming ``where``, when it
    has no text to read. Every reader and ``kg.extract(records)`` go through it."""
    title = _first(rec, _TITLE_KEYS)
    abstract = _first(rec, _ABSTRACT_KEYS) or ""
    text = rec.get("text")
    raw_text: str | None = None
    if isinstance(text, str) and text.strip() and title is None:
        raw_text = _clean(text)
        title = " ".join(raw_text.strip().split("\n", 1)[0].split())[:300]
        abstract = raw_text.strip().split("\n", 1)[1].strip() if "\n" in raw_text.strip() else ""
    if not title:
        warnings.append(f"{where}: record has no 'title' or 'text' field; skipped")
        return None
    rid = rec.get("id")
    pid = _clean(str(rid)) if rid is not None and str(rid).strip() else paper_id(title)
    authors = rec.get("authors")
    author_list = [_clean(str(a)) for a in authors] if isinstance(authors, list) else []
    return Paper(
        id=pid,
        title=title,
        abstract=abstract,
        date=_date_of(_first(rec, _DATE_KEYS), where, warnings),
        authors=author_list,
        author_count=len(author_list) or None,
        sources=[where],
        raw_text=raw_text,
    )


def _read_txt(path: Path, text: str, warnings: list[str], bad: dict[int, int]) -> list[Paper]:
    entries = parse_daily_papers(text)
    starts = [e.line for e in entries]
    skip: set[int] = set()
    for n, col in sorted(bad.items()):
        k = bisect.bisect_right(starts, n) - 1  # the entry the bad line belongs to
        if k < 0:
            warnings.append(_bad_line(path, n, col, "line"))
        else:
            skip.add(k)
            warnings.append(_bad_line(path, n, col, f"paper at line {starts[k]}"))
    out = []
    for k, e in enumerate(entries):
        if k in skip:
            continue
        if not e.abstract:
            warnings.append(f"{path}:{e.line}: title without an abstract ({e.title[:60]!r}); kept title only")
        out.append(
            Paper(
                id=paper_id(e.title),
                title=e.title,
                abstract=e.abstract,
                date=e.date,
                author_count=e.author_count,
                organization=e.organization,
                urls=list(e.urls),
                sources=[f"{path.name}:{e.line}"],
            )
        )
    return out


def _read_jsonl(path: Path, text: str, warnings: list[str], bad: dict[int, int]) -> list[Paper]:
    out = []
    for n, line in enumerate(_lines(text), 1):
        if n in bad:
            warnings.append(_bad_line(path, n, bad[n], "line"))
            continue
        if not line.strip():
            continue
        try:
            rec = json.loads(line, strict=False)  # raw tabs and controls inside strings are common
        except (json.JSONDecodeError, RecursionError) as err:
            msg = err.msg if isinstance(err, json.JSONDecodeError) else "nested too deeply"
            warnings.append(f"{path}:{n}: invalid JSON ({msg}); line skipped")
            continue
        if not isinstance(rec, dict):
            warnings.append(f"{path}:{n}: a JSON object was expected, got {type(rec).__name__}; line skipped")
            continue
        p = record_to_paper(rec, f"{path.name}:{n}", warnings)
        if p is not None:
            out.append(p)
    return out


#: after this many malformed records the rest of a CSV file is not read
MAX_CSV_ERRORS = 100
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # an abstract may be longer than csv's 128 KB default


def _csv_records(
    path: Path, lines: list[str], delimiter: str, warnings: list[str]
) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, fields) of each well-formed record; malformed ones are reported.

    An unterminated quote (or a quote inside an unquoted field) makes the record starting there
    malformed: it is reported with its line and reading starts again on the next line, so the
    records after it are not swallowed into one field.
    """
    pos = 0  # lines consumed, 0-based
    errors = 0
    width: int | None = None
    while pos < len(lines):
        reader = csv.reader(itertools.islice(lines, pos, None), delimiter=delimiter, strict=True)
        start = pos
        try:
            for row in reader:
                end = pos + reader.line_num
                first, last = start + 1, end
                if row and width is not None and len(row) != width and last > first:
                    raise csv.Error(
                        f"a quoted field runs over {last - first + 1} lines and the record has "
                        f"{len(row)} fields, the header {width}"
                    )
                start = end
                if not row or not any(f.strip() for f in row):
                    continue
                if width is None:
                    width = len(row)
                yield first, last, row
            return
        except csv.Error as err:
            if width is None:
                raise InputError(f"{path}:1: the header is not valid CSV ({err}); fix its quoting") from err
            reason = (
                "unterminated quote"
                if "unexpected end of data" in str(err)
                else str(err)
                if "quoted field" in str(err)
                else f"a stray or unclosed quote: {err}"
            )
            warnings.append(f"{path}:{start + 1}: malformed CSV record ({reason}); record skipped, check its quotes")
            errors += 1
            if errors >= MAX_CSV_ERRORS:
                warnings.append(
                    f"{path}: {errors} malformed CSV records; the rest of the file is skipped, "
                    "check its quoting and delimiter"
                )
                return
            pos = start + 1


def _read_delimited(path: Path, text: str, warnings: list[str], bad: dict[int, int], delimiter: str) -> list[Paper]:
    lines = [line + "\n" for line in _lines(text)]
    records = _csv_records(path, lines, delimiter, warnings)
    header_at = next(records, None)
    if header_at is None:
        raise InputError(f"{path}: no header line; name the columns id,title,abstract")
    header = [h.strip() for h in header_at[2]]
    fields = {f.lower() for f in header}
    if "title" not in fields and "text" not in fields:
        raise InputError(
            f"{path}: no 'title' (or 'text') column in the header {sorted(fields)[:20]}; "
            "name the columns id,title,abstract"
        )
    out = []
    for first, last, row in records:
        if bad_here := [n for n in range(first, last + 1) if n in bad]:
            warnings.append(_bad_line(path, bad_here[0], bad[bad_here[0]], "record"))
            continue
        if len(row) > len(header):
            warnings.append(
                f"{path}:{first}: {len(row)} fields, the header has {len(header)}; record skipped, "
                "check its delimiters and quotes"
            )
            continue
        p = record_to_paper(dict(zip(header, row, strict=False)), f"{path.name}:{first}", warnings)
        if p is not None:
            out.append(p)
    return out


READERS.register("txt", Reader(_read_txt, (".txt",), "Hugging Face Daily Papers listings"))
READERS.register("jsonl", Reader(_read_jsonl, (".jsonl", ".ndjson", ".json"), "one JSON record per line"))
READERS.register("csv", Reader(lambda p, t, w, b: _read_delimited(p, t, w, b, ","), (".csv",), "a header row"))
READERS.register("tsv", Reader(lambda p, t, w, b: _read_delimited(p, t, w, b, "\t"), (".tsv",), "a header row"))


def read_file(path: Path | str, fmt: str | None = None, warnings: list[str] | None = None) -> list[Paper]:
    """Read one corpus file into papers, in file order, unmerged.

    Records that cannot be read are skipped with a warning naming file and line
    (appended to ``warnings``); a file that cannot be read at all raises
    :class:`~kg.errors.InputError`.
    """
    path = Path(path)
    reader = READERS[fmt] if fmt is not None else None  # an unknown name fails here, listing the formats
    name = fmt or detect_format(path)
    reader = reader or READERS[name]
    sink: list[str] = [] if warnings is None else warnings
    text, bad = _decode(path, _read_bytes(path), sink)
    papers = reader.read(path, text, sink, bad)
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
    merged, report.duplicates = merge_papers(papers, report.warnings)
    report.papers = len(merged)
    return merged, report


def sample_corpus_files() -> list[Path]:
    """The bundled sample corpus (four Daily Papers listings), sorted by name."""
    root = resources.files("kg") / "data" / "samples"
    return sorted(Path(str(root)) / p.name for p in root.iterdir() if p.name.endswith(".txt"))
