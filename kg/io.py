"""Safe file writing and safe text for other media.

Regular files are written aside, then renamed onto the target, so a failure never leaves a
half-written file. A special file (``/dev/null``, a FIFO, a terminal, a socket) is written in
place: it is never replaced by a regular file. A failure to write says which path and what to
do about it in one line (:class:`~kg.errors.OutputError`), never a traceback.

:func:`xml_text` and :func:`terminal_text` make any string safe for XML 1.0 and for a terminal.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kg.errors import OutputError

__all__ = [
    "atomic_write_text",
    "atomic_write_bytes",
    "atomic_write_lines",
    "atomic_writer",
    "check_writable",
    "output_error",
    "is_special",
    "xml_text",
    "terminal_text",
    "new_file_mode",
]


# ---------------------------------------------------------------------------- safe text

#: characters XML 1.0 cannot hold (even as character references)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: characters a terminal may act on: C0 controls but tab and newline, DEL, C1 controls (CSI
#: 0x9b ...), and the bidirectional overrides that reorder what is shown
_NOT_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def xml_text(s: str) -> str:
    """``s`` with every character XML 1.0 forbids written as a visible escape (``\\x1b``).

    >>> xml_text("a\\x07b\\x1b[31mc")
    'a\\\\x07b\\\\x1b[31mc'
    """
    return _NOT_XML.sub(_escape, s)


def terminal_text(s: str) -> str:
    """``s`` with control characters (escape sequences, carriage returns, bidi overrides) made visible.

    >>> terminal_text("red \\x1b[31mX\\r")
    'red \\\\x1b[31mX\\\\x0d'
    """
    return _NOT_TERMINAL.sub(_escape, s)


# ---------------------------------------------------------------------------- errors

_REMEDY = {
    errno.EACCES: "no permission to write there; choose another path or change its permissions",
    errno.EPERM: "not permitted to write there; choose another path or change its permissions",
    errno.EROFS: "the file system is read-only; choose a path on a writable disk",
    errno.ENOSPC: "the disk is full; free some space or choose another disk",
    errno.EDQUOT: "the disk quota is exceeded; free some space or choose another disk",
    errno.ENOTDIR: "a part of the path is a file, not a directory; choose another path",
    errno.EISDIR: "it is a directory; give a file path",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter path",
    errno.ENOENT: "a directory on the way does not exist and could not be made; check the path",
    errno.ELOOP: "too many symbolic links on the way; check the path",
    errno.EEXIST: "a file is in the way of a directory; choose another path",
}


def output_error(path: Path | str, err: OSError) -> OutputError:
    """One line naming the path, what went wrong and the remedy."""
    remedy = _REMEDY.get(err.errno or 0, f"{err.strerror or err}; choose another path")
    where = str(err.filename) if err.filename else ""
    shown = where and where != str(path) and not Path(where).name.startswith(f".{Path(path).name}.")
    return OutputError(f"{path}: cannot write{f' ({where})' if shown else ''}: {remedy}")


def is_special(path: Path) -> bool:
    """Whether ``path`` exists and is not a regular file or directory (a device, FIFO, socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _target(path: Path) -> Path:
    """The file to write: a symbolic link is followed (the link stays a link)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _prepare(path: Path) -> None:
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise output_error(path, err) from err
    if not path.parent.is_dir():
        raise OutputError(f"{path}: {path.parent} is not a directory; choose another path")


def check_writable(path: Path | str) -> None:
    """Raise :class:`OutputError` now if ``path`` cannot be written, before any long work.

    The directory is made if missing and a scratch file is created and removed in it; a special
    file only has to be writable.
    """
    path = _target(Path(path))
    if is_special(path):
        if not os.access(path, os.W_OK):
            raise OutputError(f"{path}: cannot write: {_REMEDY[errno.EACCES]}")
        return
    _prepare(path)
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{path}: cannot write: {_REMEDY[errno.EACCES]}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise output_error(path, err) from err


@contextmanager
def _writing(path: Path, newline: str | None) -> Iterator[object]:
    """An open file (text; binary for ``newline=None``) whose content lands at ``path`` only if the block succeeds."""
    path = _target(path)
    if is_special(path):
        try:
            with open(path, "wb") if newline is None else open(path, "w", encoding="utf-8", newline=newline) as f:
                yield f
        except OSError as err:
            raise output_error(path, err) from err
        return
    _prepare(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as err:
        raise output_error(path, err) from err
    try:
        with os.fdopen(fd, "wb") if newline is None else os.fdopen(fd, "w", encoding="utf-8", newline=newline) as f:
            yield f
        if path.exists():  # keep the mode of the file replaced (mkstemp makes it 0600)
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        else:
            os.chmod(tmp, new_file_mode())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise output_error(path, err) from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask now (read each time: a caller may set it after kg is imported).

    Linux shows it in /proc/self/status; elsewhere it is read by setting and restoring it (under a
    lock, so two threads writing files at once cannot see each other's temporary value)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode a file created now with ``open()`` gets: 0666 less the umask (mkstemp's 0600 is not it)."""
    return 0o666 & ~_umask()


def atomic_write_text(path: Path, text: str) -> None:
    with _writing(Path(path), "") as f:
        f.write(text)  # type: ignore[attr-defined]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with _writing(Path(path), None) as f:
        f.write(data)  # type: ignore[attr-defined]


def atomic_write_lines(path: Path, records: Iterable[dict[str, object]]) -> int:
    """Write JSON Lines atomically; return the number of lines."""
    n = 0
    with _writing(Path(path), "\n") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")  # type: ignore[attr-defined]
            n += 1
    return n


class atomic_writer:  # noqa: N801  (used as a context manager, like open())
    """``with atomic_writer(path) as tmp_path: write to tmp_path`` — renamed onto ``path`` on success.

    A special file (``/dev/null``, a FIFO) is handed out as it is, to be written in place.
    """

    def __init__(self, path: Path) -> None:
        self.path = _target(Path(path))
        self.special = is_special(self.path)
        self.tmp = self.path if self.special else self.path.with_name(f".{self.path.name}.tmp")

    def __enter__(self) -> Path:
        if not self.special:
            _prepare(self.path)
        return self.tmp

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self.special:
            return
        if exc_type is None:
            try:
                os.replace(self.tmp, self.path)
            except OSError as err:
                self.tmp.unlink(missing_ok=True)
                raise output_error(self.path, err) from err
        else:
            self.tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and not isinstance(exc, OutputError):
                raise output_error(self.path, exc) from exc
