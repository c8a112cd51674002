"""More candidate spans than the recognisers choose, for the concept decision to pick from.

The recognisers choose one span per stretch of text; a reader's concept is often a shorter or a
different stretch ("tensor parallelism" inside "multi-GPU tensor parallelism strategy") or a
phrase no recogniser marked ("functional correctness", "GPU hours"). Here every base noun phrase
(trimmed of determiners and vague modifiers) and the shorter spans inside it and inside each chosen
mention (one or two leading words dropped, the last word dropped) become candidates with producer
``kg_chunk`` or ``kg_variant``. They overlap the chosen mentions; :mod:`kg.normalise.decide` decides which
are listed, and the strongest of overlapping kept spans wins.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from spacy.tokens import Doc, Span

from kg.extract.resolve import Resolved, is_concept_text
from kg.extract.resources import RuleResources
from kg.extract.rules import trim_span

__all__ = ["CANDIDATE_PRODUCERS", "extra_candidates"]

#: producers of candidates that are not mentions until the concept decision keeps them
CANDIDATE_PRODUCERS = frozenset({"kg_chunk", "kg_variant"})

_CONTENT = ("NOUN", "PROPN")
_NO_START = ("ADP", "CCONJ", "SCONJ", "DET", "PRON", "PUNCT", "PART", "AUX", "VERB", "SYM")
_NO_END = ("ADP", "CCONJ", "SCONJ", "DET", "PRON", "PUNCT", "PART", "AUX", "ADJ", "ADV", "VERB", "SYM")
MAX_TOKENS = 6


def _ok(span: Span) -> bool:
    if not 0 < len(span) <= MAX_TOKENS:
        return False
    first, last = span[0], span[-1]
    if first.pos_ in _NO_START and not first.text[:1].isupper() or first.is_space or last.is_space:
        return False
    if last.pos_ in _NO_END and not last.text[:1].isupper() and not any(c.isdigit() for c in last.text):
        return False
    return any(t.pos_ in _CONTENT or t.text[:1].isupper() for t in span) and is_concept_text(span.text)


def _subspans(span: Span) -> list[Span]:
    """``span`` and what remains with one or two leading words and/or the last word dropped.

    Words are whitespace-separated ("multi-GPU" is one word of three tokens).
    """
    words: list[tuple[int, int]] = []
    for i in range(len(span)):
        if i == 0 or span[i - 1].whitespace_:
            words.append((i, i + 1))
        else:
            words[-1] = (words[-1][0], i + 1)
    n = len(words)
    out = []
    for left in range(0, min(3, n)):
        for right in (0, 1) if n - left >= 3 else (0,):
            sub = span[words[left][0] : words[n - 1 - right][1]]
            if len(sub) and _ok(sub):
                out.append(sub)
    return out


def extra_candidates(doc: Doc, chosen: Sequence[Resolved], res: RuleResources) -> list[Resolved]:
    """Candidates from noun phrases and from inside chosen mentions, none equal to a chosen span."""
    taken = {(m.start, m.end) for m in chosen}
    sent_bounds = (
        [(s.start_char, s.end_char) for s in doc.sents] if doc.has_annotation("SENT_START") else [(0, len(doc.text))]
    )
    sent_starts = [s for s, _ in sent_bounds]
    found: dict[tuple[int, int], tuple[str, str]] = {}

    def add(span: Span, producer: str, label: str | None) -> None:
        key = (span.start_char, span.end_char)
        if key in taken or key in found:
            return
        low = span.text.lower()
        if (
            low in res.generic
            or low in res.generic_concepts
            or (len(span) == 1 and span[0].lemma_.lower() in res.generic)
        ):
            return  # "method", "framework", "performance": never a concept alone
        head = span[-1].lower_
        lab = res.heads.get(head) or res.heads.get(span[-1].lemma_.lower()) or label or "METHOD"
        found[key] = (lab, producer)

    for m in chosen:
        span = doc.char_span(m.start, m.end, alignment_mode="contract")
        if span is not None and len(span) > 1:
            for sub in _subspans(span):
                add(sub, "kg_variant", m.label)
    if doc.has_annotation("DEP"):
        for chunk in doc.noun_chunks:
            t = trim_span(chunk, res)
            if t is None:
                continue
            for sub in _subspans(t):
                add(sub, "kg_chunk", None)
    out = []
    for (s, e), (lab, producer) in sorted(found.items()):
        si = max(0, bisect.bisect_right(sent_starts, s) - 1)
        ss, se = sent_bounds[si]
        out.append(Resolved(s, e, lab, producer, 0.0, "used", si, ss, se))
    return out
