"""What keys cached extractions: a hash of everything an extraction depends on besides the text.

The rule resources (``kg/extract/resources/``), the extraction code (:data:`CODE_FILES`: the
``kg/extract`` modules a cached extraction comes from, and the records and schema they fill), the
recogniser's files and the pipeline's configuration (which rule producers run, the confidence
floors, the versions of spaCy and the base model) go into one SHA-256, so editing a gazetteer, a
rule or a component, or retraining the recogniser, redoes the cached extractions without anyone
bumping a version by hand. (:data:`kg.extract.pipeline.RULES_VERSION` stays in the version's
name, for people; the key no longer depends on remembering it.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

__all__ = ["RESOURCES_DIR", "CODE_FILES", "files_digest", "extraction_fingerprint"]

RESOURCES_DIR = Path(__file__).resolve().parent / "resources"
_KG = Path(__file__).resolve().parent.parent
#: the source files whose code decides a cached extraction: every ``kg/extract`` module, and the
#: records and schema the pipeline fills
CODE_FILES: tuple[Path, ...] = (
    *sorted(Path(__file__).resolve().parent.glob("*.py")),
    _KG / "records.py",
    _KG / "schema.py",
)


@cache
def _digest_of(files: tuple[tuple[str, str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for path, name, size, _mtime in files:
        h.update(f"{name}\0{size}\0".encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()


def files_digest(paths: Iterable[Path | str]) -> str:
    """SHA-256 over the files (folders: every file under them, by relative name) and their bytes;
    read again only when a file's size or modification time changed.

    >>> files_digest([]) == hashlib.sha256().hexdigest()
    True
    """
    files = []
    for root in (Path(p).resolve() for p in paths):
        found = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for f in found:
            if "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            st = f.stat()
            name = f"{root.name}/{f.relative_to(root).as_posix() if root.is_dir() else f.name}"
            files.append((str(f), name, st.st_size, st.st_mtime_ns))
    return _digest_of(tuple(files))


def extraction_fingerprint(model_dirs: Iterable[Path | str], config: Mapping[str, object]) -> str:
    """12 hex digits naming the rule resources, the extraction code, the recogniser folders and
    ``config`` together."""
    h = hashlib.sha256()
    h.update(files_digest([RESOURCES_DIR, *CODE_FILES, *model_dirs]).encode())
    h.update(json.dumps(config, sort_keys=True, default=str).encode())
    return h.hexdigest()[:12]
