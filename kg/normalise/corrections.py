"""Corrections a user makes last: merge, split, drop, retype, rename concepts, applied by every build.

A researcher who sees a wrong call fixes it once, in ``kg-corrections.toml`` in the project folder
(where ``kg build`` runs) or in the output folder (where the explorer saves; both apply, the
project's first), or in ``--corrections FILE`` (then alone)::

    [[merge]]                        # these concepts are one (the first one's id and label stay)
    concepts = ["cot-reasoning", "Chain-of-Thought"]

    [[split]]                        # mentions written this way are a concept of their own
    concept = "sam"
    alias = "Segment Anything Model"

    [[drop]]                         # not a concept (everywhere, or only in one paper)
    concept = "student model"
    # paper = "9e38af12a599"

    [[retype]]
    concept = "LeetCode"
    type = "DATASET"

    [[rename]]
    concept = "speedup"
    label = "speed-up"

A concept is named by its id or by any of its labels and aliases (case does not matter).
Corrections are applied after the concept decision, in the order merge, split, drop, retype,
rename; each one that names nothing is reported, never an error, so the file survives a corpus
that changes under it.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import KGError
from kg.records import LABELS, Concept, Mention

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "FILENAME",
    "ACTIONS",
    "Corrections",
    "load_corrections",
    "apply_corrections",
    "add_correction",
    "find_corrections",
]

FILENAME = "kg-corrections.toml"
ACTIONS = ("merge", "split", "drop", "retype", "rename")
_FIELDS = {
    "merge": ("concepts",),
    "split": ("concept", "alias"),
    "drop": ("concept",),
    "retype": ("concept", "type"),
    "rename": ("concept", "label"),
}


@dataclass
class Corrections:
    path: Path | None = None
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {a: [] for a in ACTIONS})

    def __len__(self) -> int:
        return sum(len(v) for v in self.entries.values())


def find_corrections(out: Path, explicit: Path | None = None) -> list[Path]:
    """The corrections files a build of ``out`` applies, in order.

    ``explicit`` alone when given; else the project's (the cwd's) and then the output folder's
    (where the explorer saves), both when both exist.
    """
    if explicit is not None:
        if not explicit.is_file():
            raise KGError(f"{explicit}: no such corrections file; give an existing --corrections FILE")
        return [explicit]
    found: list[Path] = []
    for p in (Path.cwd() / FILENAME, out / FILENAME):
        if p.is_file() and all(p.resolve() != q.resolve() for q in found):
            found.append(p)
    return found


def load_corrections(path: Path | Sequence[Path] | None) -> Corrections:
    """Read and check corrections files; a malformed one is an error naming the file and entry."""
    if path is None:
        return Corrections()
    if not isinstance(path, Path):
        out = Corrections()
        for p in path:
            one = load_corrections(p)
            out.path = out.path or one.path
            for action in ACTIONS:
                out.entries[action].extend(one.entries[action])
        return out
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise KGError(f"{path}: cannot read the corrections ({err}); fix the file or move it away") from err
    out = Corrections(path)
    for key, items in data.items():
        if key not in ACTIONS:
            raise KGError(f"{path}: unknown correction [[{key}]]; use one of {', '.join(ACTIONS)}")
        if not isinstance(items, list):
            raise KGError(f"{path}: [{key}] must be an array of tables: write [[{key}]]")
        for i, item in enumerate(items, 1):
            missing = [f for f in _FIELDS[key] if f not in item]
            if missing:
                raise KGError(f"{path}: [[{key}]] number {i} lacks {', '.join(missing)}")
            if key == "retype" and str(item["type"]).upper() not in LABELS:
                raise KGError(f"{path}: [[retype]] number {i}: type must be one of {', '.join(LABELS)}")
            if key == "merge" and (not isinstance(item["concepts"], list) or len(item["concepts"]) < 2):
                raise KGError(f"{path}: [[merge]] number {i}: concepts must list two or more concepts")
            out.entries[key].append(dict(item))
    return out


def _index(concepts: dict[str, Concept]) -> dict[str, str]:
    """Names (ids, labels, aliases; lower case) → concept id; ids win, then labels, then aliases."""
    idx: dict[str, str] = {}
    for cid in sorted(concepts):
        c = concepts[cid]
        for alias in sorted(c.aliases):
            idx.setdefault(alias.lower(), cid)
    for cid in sorted(concepts):
        idx[concepts[cid].label.lower()] = cid
    for cid in sorted(concepts):
        idx[cid.lower()] = cid
    return idx


def apply_corrections(
    concepts: dict[str, Concept],
    mentions: Sequence[Mention],
    corrections: Corrections,
) -> tuple[dict[str, Concept], list[Mention], list[str]]:
    """Apply the corrections; return the concepts, mentions and a line per correction (applied or not)."""
    from kg.normalise import concept_id, concept_key

    report: list[str] = []
    ms = list(mentions)
    if not len(corrections):
        return concepts, ms, report

    def find(name: str) -> str | None:
        return _index(concepts).get(str(name).lower())

    for item in corrections.entries["merge"]:
        ids = [find(n) for n in item["concepts"]]
        found = [i for i in ids if i is not None]
        if len(set(found)) < 2:
            report.append(f"merge {item['concepts']}: fewer than two of these concepts exist; nothing merged")
            continue
        target = found[0]
        for other in dict.fromkeys(found[1:]):
            if other == target:
                continue
            for m in ms:
                if m.concept == other:
                    m.concept = target
            for alias, n in concepts[other].aliases.items():
                concepts[target].aliases[alias] = concepts[target].aliases.get(alias, 0) + n
            del concepts[other]
        report.append(f"merged {', '.join(dict.fromkeys(found))} into {target}")
    for item in corrections.entries["split"]:
        cid = find(item["concept"])
        alias = str(item["alias"])
        moved = [m for m in ms if m.concept == cid and m.text.lower() == alias.lower()]
        if cid is None or not moved:
            report.append(f"split {alias!r} from {item['concept']!r}: no such concept or form; nothing split")
            continue
        new = concept_id(concept_key(alias))
        if new == cid or new in concepts:
            new = f"{new}-split"
        for m in moved:
            m.concept = new
        concepts[new] = Concept(id=new, label=alias, type=concepts[cid].type, aliases={})
        report.append(f"split {alias!r} from {cid} as {new}")
    for item in corrections.entries["drop"]:
        cid = find(item["concept"])
        paper = item.get("paper")
        if cid is None:
            report.append(f"drop {item['concept']!r}: no such concept")
            continue
        ms = [m for m in ms if not (m.concept == cid and (paper is None or m.paper_id == str(paper)))]
        report.append(f"dropped {cid}" + (f" in paper {paper}" if paper else ""))
    for item in corrections.entries["retype"]:
        cid = find(item["concept"])
        if cid is None:
            report.append(f"retype {item['concept']!r}: no such concept")
            continue
        concepts[cid].type = str(item["type"]).upper()
        report.append(f"retyped {cid} as {concepts[cid].type}")
    for item in corrections.entries["rename"]:
        cid = find(item["concept"])
        if cid is None:
            report.append(f"rename {item['concept']!r}: no such concept")
            continue
        concepts[cid].label = str(item["label"])
        report.append(f"renamed {cid} to {item['label']!r}")
    # recount: papers, mentions, aliases, types
    papers: dict[str, set[str]] = defaultdict(set)
    forms: dict[str, dict[str, int]] = defaultdict(dict)
    for m in ms:
        papers[m.concept].add(m.paper_id)
        forms[m.concept][m.text] = forms[m.concept].get(m.text, 0) + 1
    out: dict[str, Concept] = {}
    for cid in sorted(concepts):
        if cid not in papers:
            continue
        c = concepts[cid]
        c.papers, c.mention_count = papers[cid], sum(forms[cid].values())
        c.aliases = dict(sorted(forms[cid].items()))
        out[cid] = c
    for m in ms:
        m.label = out[m.concept].type
    return out, ms, report


def _toml_string(s: str) -> str:
    return '"' + re.sub(r'["\\\x00-\x1f\x7f]', lambda m: f"\\u{ord(m.group()):04x}", s) + '"'


def add_correction(path: Path, action: str, **fields: Any) -> None:
    """Append one correction to ``path`` (created if missing), written atomically."""
    from kg.io import atomic_write_text

    if action not in ACTIONS:
        raise KGError(f"unknown correction {action!r}; use one of {', '.join(ACTIONS)}")
    missing = [f for f in _FIELDS[action] if f not in fields]
    if missing:
        raise KGError(f"correction {action} lacks {', '.join(missing)}")
    if action == "retype" and str(fields["type"]).upper() not in LABELS:
        raise KGError(f"type must be one of {', '.join(LABELS)}")
    old = (
        path.read_text(encoding="utf-8")
        if path.exists()
        else ("# kg corrections: applied by every kg build of this folder (see kg/normalise/corrections.py)\n")
    )
    lines = [f"\n[[{action}]]"]
    for k, v in fields.items():
        if isinstance(v, list):
            lines.append(f"{k} = [{', '.join(_toml_string(str(x)) for x in v)}]")
        else:
            lines.append(f"{k} = {_toml_string(str(v))}")
    text = old.rstrip("\n") + "\n" + "\n".join(lines) + "\n"
    tomllib.loads(text)  # never write a file the next build cannot read
    atomic_write_text(path, text)
