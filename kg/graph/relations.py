"""Relations between concepts, found within a sentence, with their evidence.

Types (head → tail): ``USED_FOR`` (method → task or method), ``EVALUATED_ON`` (method →
dataset), ``MEASURED_BY`` (method → metric), ``COMPARED_WITH`` (method ↔ method, stored once
with the earlier mention as head), ``PART_OF`` (component → method).

The finder is a pure function over a text, its typed mention spans and its sentence bounds:
cue words in the text *between* two mentions of one sentence decide the type and direction
(patterns as data in ``resources/relations.json``). Measured on SciERC's relation annotations
by ``benchmarks/bench_relations.py``.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from kg.schema import RELATION_NAMES

__all__ = ["RELATION_TYPES", "Span", "FoundRelation", "find_relations", "load_patterns", "paper_relations"]

RELATION_TYPES = RELATION_NAMES  # from kg.schema (re-exported)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str  # METHOD, TASK, DATASET, METRIC


@dataclass(frozen=True)
class FoundRelation:
    head: int  # index into the spans given
    tail: int
    type: str
    sentence: int
    confidence: float
    cue: str  # the words that decided it


@lru_cache(maxsize=1)
def load_patterns() -> list[dict[str, Any]]:
    """The relation patterns: for each (first label, second label), cue regexes with type and direction."""
    text = (resources.files("kg.graph") / "resources" / "relations.json").read_text(encoding="utf-8")
    rules = json.loads(text)["rules"]
    for r in rules:
        r["_rx"] = re.compile(r["between"], re.IGNORECASE)
    return rules


def find_relations(
    text: str,
    spans: Sequence[Span],
    sentences: Sequence[tuple[int, int]],
    max_gap: int = 120,
) -> list[FoundRelation]:
    """Relations between mentions of one sentence, decided by the words between them.

    >>> t = "We apply LoRA to code generation and evaluate LoRA on HumanEval."
    >>> s = [Span(9, 13, "METHOD"), Span(17, 32, "TASK"), Span(46, 50, "METHOD"), Span(54, 63, "DATASET")]
    >>> [(r.head, r.tail, r.type) for r in find_relations(t, s, [(0, len(t))])]
    [(0, 1, 'USED_FOR'), (2, 3, 'EVALUATED_ON')]
    """
    rules = load_patterns()
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start, spans[i].end))
    starts = [spans[i].start for i in order]
    out: list[FoundRelation] = []
    seen: set[tuple[int, int, str]] = set()
    for si, (s_start, s_end) in enumerate(sentences):
        # the sentence's mentions: a slice of the sorted ones (a scan per sentence is quadratic in a long text)
        idx = order[bisect.bisect_left(starts, s_start) : bisect.bisect_left(starts, s_end)]
        for a_pos, a in enumerate(idx):
            for b_pos in range(a_pos + 1, len(idx)):
                b = idx[b_pos]
                sa, sb = spans[a], spans[b]
                if sb.start < sa.end or text[sa.start : sa.end].lower() == text[sb.start : sb.end].lower():
                    continue
                gap = text[sa.end : sb.start]
                if len(gap) > max_gap:
                    break
                # the nearest pair takes it: no mention of either label stands between them
                if any(spans[k].label in (sa.label, sb.label) for k in idx[a_pos + 1 : b_pos]):
                    continue
                for rule in rules:
                    if rule["first"] != sa.label or rule["second"] != sb.label:
                        continue
                    m = rule["_rx"].search(gap)
                    if not m:
                        continue
                    head, tail = (a, b) if rule["direction"] == "forward" else (b, a)
                    key = (head, tail, rule["type"])
                    if key not in seen:
                        seen.add(key)
                        out.append(FoundRelation(head, tail, rule["type"], si, rule["confidence"], m.group(0).strip()))
                    break
    return out


def paper_relations(paper_id: str, text: str, mentions: Sequence[Any]) -> list[Any]:
    """:class:`~kg.records.Relation` records of one paper from its merged mentions.

    Relations between two mentions of the same concept are dropped; a relation found several
    times in one sentence is kept once, with its highest confidence.
    """
    from kg.records import Relation

    ms = sorted(mentions, key=lambda m: (m.start, m.end))
    sentences = sorted({(m.sentence_start, m.sentence_end) for m in ms})
    spans = [Span(m.start, m.end, m.label) for m in ms]
    best: dict[tuple[str, str, str, int], Relation] = {}
    for r in find_relations(text, spans, sentences):
        h, t = ms[r.head], ms[r.tail]
        if not h.concept or not t.concept or h.concept == t.concept:
            continue
        sent = h.sentence
        key = (h.concept, t.concept, r.type, sent)
        if key not in best or best[key].confidence < r.confidence:
            best[key] = Relation(
                h.concept,
                t.concept,
                r.type,
                paper_id,
                sent,
                r.confidence,
                evidence=(h.start, h.end, t.start, t.end),
                cue=r.cue,
            )
    return [best[k] for k in sorted(best)]
