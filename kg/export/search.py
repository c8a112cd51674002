"""The explorer's search index: concept names and paper titles in ``search.sqlite`` beside the store.

A substring search over every label and alias (``skos:hiddenLabel``) in SPARQL reads all of them:
at 74,675 papers (494,000 names) that is 15-45 s a keystroke. The build writes the same names,
lower-cased, into an SQLite FTS5 table with the trigram tokenizer, which answers ``LIKE '%key%'``
from its index (keys of three characters or more; shorter ones scan the table, in C). Its rows
rank as the SPARQL did: names starting with the key first, then the most papers, then the label.

The file is written to a temporary name and renamed; readers open it read-only.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kg.records import Concept, Paper

__all__ = ["SEARCH_FILE", "write_search_index", "search_index"]

SEARCH_FILE = "search.sqlite"


def write_search_index(path: Path, papers: Iterable[Paper], concepts: dict[str, Concept]) -> None:
    """Write the index of ``concepts`` (label and aliases, lower-cased) and ``papers`` (titles) to ``path``."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(str(tmp))
    try:
        db.executescript(
            "CREATE TABLE concept (cid TEXT PRIMARY KEY, label TEXT, type TEXT, papers INTEGER);"
            "CREATE TABLE paper (pid TEXT PRIMARY KEY, title TEXT);"
            "CREATE VIRTUAL TABLE names USING fts5(text, id UNINDEXED, kind UNINDEXED, tokenize='trigram');"
        )
        with db:
            db.executemany(
                "INSERT INTO concept VALUES (?, ?, ?, ?)",
                ((c.id, c.label, c.type, c.paper_count) for c in sorted(concepts.values(), key=lambda c: c.id)),
            )
            db.executemany(
                "INSERT INTO names VALUES (?, ?, 'c')",
                (
                    (key, c.id)
                    for c in sorted(concepts.values(), key=lambda c: c.id)
                    for key in sorted({c.label.lower(), *(a.lower() for a in c.aliases)})
                ),
            )
            ps = sorted(papers, key=lambda p: p.id)
            db.executemany("INSERT INTO paper VALUES (?, ?)", ((p.id, p.title) for p in ps))
            db.executemany("INSERT INTO names VALUES (?, ?, 'p')", ((p.title.lower(), p.id) for p in ps))
        db.execute("INSERT INTO names(names) VALUES ('optimize')")
        db.commit()
    finally:
        db.close()
    os.replace(tmp, path)


def _like(key: str) -> str:
    return "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_index(
    path: Path, text: str, concepts: int = 200, papers: int = 20
) -> tuple[list[dict[str, Any]], list[dict[str, str]]] | None:
    """Concepts whose label or alias contains ``text`` (any case) and papers whose title does:
    ([{cid, label, type, papers}], [{pid, title}]), ranked as the explorer shows them; ``None``
    when there is no index at ``path`` (a build from before it: the caller asks the store).
    """
    if not path.is_file():
        return None
    key = text.strip().lower()
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        rows = db.execute(
            "SELECT c.cid, c.label, c.type, c.papers, MAX(substr(n.text, 1, length(?1)) = ?1) AS starts"
            " FROM names n JOIN concept c ON c.cid = n.id"
            " WHERE n.kind = 'c' AND n.text LIKE ?2 ESCAPE '\\'"
            " GROUP BY c.cid ORDER BY starts DESC, c.papers DESC, c.label, c.cid LIMIT ?3",
            (key, _like(key), concepts),
        ).fetchall()
        found = [{"cid": r[0], "label": r[1], "type": r[2], "papers": r[3]} for r in rows]
        rows = db.execute(
            "SELECT p.pid, p.title FROM names n JOIN paper p ON p.pid = n.id"
            " WHERE n.kind = 'p' AND n.text LIKE ?1 ESCAPE '\\' ORDER BY p.title, p.pid LIMIT ?2",
            (_like(key), papers),
        ).fetchall()
        return found, [{"pid": r[0], "title": r[1]} for r in rows]
    except sqlite3.Error:
        return None
    finally:
        db.close()
