"""Term lists and cue patterns, kept as data files beside this module.

Loaded once per pipeline component (never mutated at module level) and saved
with the pipeline by the components' ``to_disk``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources as ilr
from pathlib import Path
from typing import Any

__all__ = ["Cue", "RuleResources", "load_resources", "RESOURCE_FILES"]

RESOURCE_FILES = ("heads.jsonl", "generic.json", "gazetteer.jsonl", "cues.jsonl")


@dataclass(frozen=True)
class Cue:
    """A cue pattern: a regex whose group ``x`` (one term) or ``list`` (a list) is the mention."""

    label: str
    regex: re.Pattern[str]
    confidence: float
    role: str = "used"


@dataclass
class RuleResources:
    heads: dict[str, str] = field(default_factory=dict)  # head word -> label
    generic: frozenset[str] = frozenset()
    strip_modifiers: frozenset[str] = frozenset()
    not_names: frozenset[str] = frozenset()
    generic_concepts: frozenset[str] = frozenset()  # normal forms never kept as concepts
    generic_tails: tuple[str, ...] = ()  # trailing heads cut when the rest is a concept
    name_tails: frozenset[str] = frozenset()  # trailing heads cut only after a name ("BERT model")
    gazetteer: dict[str, list[str]] = field(default_factory=dict)  # label -> terms
    cues: list[Cue] = field(default_factory=list)


def _default_dir() -> Path:
    return Path(str(ilr.files("kg.extract") / "resources"))


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_resources(directory: Path | None = None) -> RuleResources:
    """Read the rule data files from ``directory`` (default: the packaged ones)."""
    d = directory or _default_dir()
    res = RuleResources()
    for rec in _jsonl(d / "heads.jsonl"):
        for h in rec["heads"]:
            res.heads.setdefault(str(h).lower(), str(rec["label"]))
    generic = json.loads((d / "generic.json").read_text(encoding="utf-8"))
    res.generic = frozenset(w.lower() for w in generic["generic_heads"])
    res.strip_modifiers = frozenset(w.lower() for w in generic["strip_modifiers"])
    res.not_names = frozenset(generic["not_names"])
    res.generic_concepts = frozenset(w.lower() for w in generic.get("generic_concepts", []))
    res.generic_tails = tuple(generic.get("generic_tails", []))
    res.name_tails = frozenset(generic.get("name_tails", []))
    for rec in _jsonl(d / "gazetteer.jsonl"):
        res.gazetteer.setdefault(str(rec["label"]), []).extend(str(t) for t in rec["terms"])
    for rec in _jsonl(d / "cues.jsonl"):
        res.cues.append(
            Cue(
                label=str(rec["label"]),
                regex=re.compile(str(rec["regex"])),
                confidence=float(rec.get("confidence", 0.8)),
                role=str(rec.get("role", "used")),
            )
        )
    return res
