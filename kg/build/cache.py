"""The extraction cache and the output folder's lock.

The cache is one SQLite file (write-ahead log) keyed by (text hash, extractor version), appended
to as extraction goes and committed in small batches: a build killed at any moment loses at most
the last few seconds of extraction, and the next build reuses everything committed before. It is
never rewritten whole, and a changed extractor (a new version string) simply misses it.

The lock is an ``fcntl`` lock on a file holding the builder's pid: the kernel drops it when the
process dies (even by ``kill -9``), so a stale lock never blocks a rerun.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kg.errors import OutputError

__all__ = ["ExtractionCache", "BuildLock", "text_hash", "CACHE_FILE", "LOCK_FILE"]

CACHE_FILE = "extract.sqlite"
LOCK_FILE = ".kg-build.lock"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ExtractionCache:
    """Extractions by (text hash, extractor version), as JSON values.

    ``put`` buffers; the buffer is committed every ``commit_seconds`` or ``commit_rows`` rows,
    whichever comes first, and on ``close``.
    """

    def __init__(self, path: Path, commit_seconds: float = 2.0, commit_rows: int = 500) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS extraction ("
            " text_hash TEXT NOT NULL, version TEXT NOT NULL, value TEXT NOT NULL,"
            " added REAL NOT NULL, PRIMARY KEY (text_hash, version)) WITHOUT ROWID"
        )
        self.commit_seconds = commit_seconds
        self.commit_rows = commit_rows
        self._pending: list[tuple[str, str, str, float]] = []
        self._last = time.monotonic()

    def get_many(self, hashes: Iterable[str], version: str, chunk: int = 500) -> Iterator[tuple[str, Any]]:
        """(hash, value) for the given hashes that are cached under ``version``."""
        hs = list(hashes)
        for i in range(0, len(hs), chunk):
            part = hs[i : i + chunk]
            q = (
                f"SELECT text_hash, value FROM extraction WHERE version = ? AND text_hash IN "
                f"({','.join('?' * len(part))})"
            )
            for h, v in self.db.execute(q, [version, *part]):
                yield h, json.loads(v)

    def put(self, h: str, version: str, value: Any) -> None:
        self._pending.append((h, version, json.dumps(value, separators=(",", ":")), time.time()))
        if len(self._pending) >= self.commit_rows or time.monotonic() - self._last >= self.commit_seconds:
            self.commit()

    def commit(self) -> None:
        if self._pending:
            with self.db:  # one transaction
                self.db.execute("BEGIN")
                self.db.executemany("INSERT OR REPLACE INTO extraction VALUES (?, ?, ?, ?)", self._pending)
            self._pending.clear()
        self._last = time.monotonic()

    def count(self, version: str | None = None) -> int:
        if version is None:
            return int(self.db.execute("SELECT COUNT(*) FROM extraction").fetchone()[0])
        return int(self.db.execute("SELECT COUNT(*) FROM extraction WHERE version = ?", (version,)).fetchone()[0])

    def close(self) -> None:
        self.commit()
        self.db.close()

    def __enter__(self) -> ExtractionCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BuildLock:
    """An exclusive lock on an output folder, held for the build's lifetime."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self.fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                pid = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            finally:
                os.close(fd)
            raise OutputError(
                f"{self.path.parent}: another kg build (pid {pid}) is writing there; "
                "wait for it to finish or choose another -o DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            import fcntl

            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
