"""Rule-based candidate finders, as pure functions over a parsed ``Doc``.

Each returns :class:`Candidate` tuples (character offsets into ``doc.text``);
the spaCy components in :mod:`kg.extract.components` only call these.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from spacy.tokens import Doc, Span

from kg.extract.abbreviation import find_abbreviations
from kg.extract.resources import RuleResources

__all__ = [
    "Candidate",
    "abbreviation_candidates",
    "cue_candidates",
    "gazetteer_candidates",
    "name_candidates",
    "noun_phrase_candidates",
    "build_gazetteer",
    "trim_span",
]


class Candidate(NamedTuple):
    start: int
    end: int
    label: str
    producer: str
    confidence: float
    role: str = "used"


_NAME = re.compile(r"(?<![\w$\\/.@-])[A-Za-z][A-Za-z0-9]*(?:[-.+/][A-Za-z0-9]+)*\+?(?![\w/@-])")
_URL = re.compile(r"(?:https?://|www\.)\S+|\S+\.(?:com|org|io|net|ai)/\S*")
_TITLE_WORDS = re.compile(r"[A-Z]?[a-z]+(?:[-/][A-Z]?[a-z]+)+")
_LIST_SPLIT = re.compile(r", and |, or |, | and | or ")


def looks_like_name(tok: str, res: RuleResources) -> bool:
    """A system/model/dataset name: capitals inside, or letters with digits (``DeiT``, ``YOLOv10``).

    >>> from kg.extract.resources import load_resources
    >>> r = load_resources()
    >>> [looks_like_name(t, r) for t in ["DeiT", "YOLOv10", "GPT-4", "The", "GPU", "model"]]
    [True, True, True, False, False, False]

    Title-case words joined by hyphens are words, not names (``Low-Bit``, ``Fine-Grained``).
    """
    if tok in res.not_names or len(tok) < 2 or _TITLE_WORDS.fullmatch(tok):
        return False
    upper = sum(c.isupper() for c in tok)
    digits = any(c.isdigit() for c in tok)
    if upper >= 2:
        return True
    return digits and tok[0].isupper() and any(c.isalpha() for c in tok[1:])


def trim_span(span: Span, res: RuleResources) -> Span | None:
    """Strip determiners, vague modifiers, numbers and punctuation from the edges of ``span``."""
    doc = span.doc
    start, end = span.start, span.end
    while start < end and (
        doc[start].lower_ in res.strip_modifiers
        or doc[start].pos_ in ("DET", "PRON", "NUM", "PUNCT", "SYM", "CCONJ", "ADP")
        or doc[start].like_num
        or doc[start].is_space
    ):
        start += 1
    while end > start and (doc[end - 1].is_punct or doc[end - 1].is_space) and doc[end - 1].text not in "+)":
        end -= 1
    # a parenthesis opened inside the span is an abbreviation: keep what precedes it
    for i in range(start, end):
        if doc[i].text == "(":
            end = i
            break
    while end > start and (doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    if start >= end:
        return None
    return doc[start:end]


def build_gazetteer(res: RuleResources) -> list[tuple[str, re.Pattern[str]]]:
    """One regex per label and case mode over the gazetteer terms, longest first.

    Terms with capitals match exactly (``MATH`` is not "math"); lower-case terms match any case.
    Matching is on characters, independent of how the tokenizer splits ``GSM8K.`` or ``GPT-4``.
    """
    out = []
    for label, terms in sorted(res.gazetteer.items()):
        for exact in (True, False):
            group = sorted({t for t in terms if any(c.isupper() for c in t) == exact}, key=lambda t: (-len(t), t))
            if not group:
                continue
            body = "|".join(re.escape(t) for t in group)
            flags = 0 if exact else re.IGNORECASE
            out.append((label, re.compile(rf"(?<![\w-])(?:{body})(?![\w-]|\+\w)", flags)))
    return out


def gazetteer_candidates(doc: Doc, patterns: list[tuple[str, re.Pattern[str]]]) -> list[Candidate]:
    out = []
    for label, rx in patterns:
        exact = not rx.flags & re.IGNORECASE
        for m in rx.finditer(doc.text):
            out.append(Candidate(m.start(), m.end(), label, "kg_gazetteer", 0.9 if exact else 0.85))
    return out


def _split_list(text: str, offset: int) -> Iterator[tuple[int, int]]:
    pos = 0
    for m in _LIST_SPLIT.finditer(text):
        yield offset + pos, offset + m.start()
        pos = m.end()
    yield offset + pos, offset + len(text)


def cue_candidates(doc: Doc, res: RuleResources) -> list[Candidate]:
    """Mentions found by the cue patterns (``on the X benchmark``, ``in terms of X``, ...)."""
    text = doc.text
    out = []
    for cue in res.cues:
        for m in cue.regex.finditer(text):
            groups = m.groupdict()
            if groups.get("list") is not None:
                spans = list(_split_list(groups["list"], m.start("list")))
            elif groups.get("x") is not None:
                spans = [(m.start("x"), m.end("x"))]
            else:
                continue
            for s, e in spans:
                piece = text[s:e].strip()
                if not piece:
                    continue
                s = s + (len(text[s:e]) - len(text[s:e].lstrip()))
                e = s + len(piece)
                span = doc.char_span(s, e, alignment_mode="expand")
                if span is None:
                    continue
                t = trim_span(span, res)
                if t is None or (len(t) == 1 and t[0].lower_ in res.generic and cue.label != "METRIC"):
                    continue
                out.append(Candidate(t.start_char, t.end_char, cue.label, "kg_cues", cue.confidence, cue.role))
    return out


def name_candidates(doc: Doc, res: RuleResources) -> list[Candidate]:
    """Name-like tokens (``MESA``, ``DeiT``, ``YOLOv10``): methods unless context says dataset."""
    text = doc.text
    urls = [(u.start(), u.end()) for u in _URL.finditer(text)]
    out = []
    for m in _NAME.finditer(text):
        tok = m.group(0)
        if not looks_like_name(tok, res) or any(s <= m.start() < e for s, e in urls):
            continue
        after = text[m.end() : m.end() + 12].lower()
        label = "DATASET" if re.match(r"\s?(?:benchmark|dataset|corpus|suite)", after) else "METHOD"
        out.append(Candidate(m.start(), m.end(), label, "kg_names", 0.6))
    return out


def abbreviation_candidates(
    doc: Doc, res: RuleResources
) -> tuple[list[Candidate], list[tuple[tuple[int, int], tuple[int, int]]]]:
    """Long forms of ``long form (SF)`` pairs typed by their head; returns them and the pairs."""
    pairs = find_abbreviations(doc.text)
    out = []
    kept = []
    for (ls, le), (ss, se) in pairs:
        span = doc.char_span(ls, le, alignment_mode="expand")
        if span is None:
            continue
        t = trim_span(span, res)
        if t is None:
            continue
        short = [c.lower() for c in doc.text[ss:se] if c.isalnum()]
        if t.start_char > ls and short and doc.text[ls].lower() == short[0]:
            # the acronym's letters start at the long form's first word: it is part of the name, even a
            # word trimming would drop ("You Only Look Once (YOLO)", not "Look Once")
            whole = doc.char_span(ls, t.end_char, alignment_mode="expand")
            t = whole if whole is not None else t
        label = _label_for_head(t, res) or "METHOD"
        # a token that runs into the parenthesis ("Network~(FFN)") ends the long form where the text's did
        end = min(t.end_char, le) if t.end_char > le else t.end_char
        out.append(Candidate(t.start_char, end, label, "kg_abbreviations", 0.85))
        out.append(Candidate(ss, se, label, "kg_abbreviations", 0.85))
        kept.append(((t.start_char, end), (ss, se)))
    return out, kept


def _label_for_head(span: Span, res: RuleResources) -> str | None:
    words = [t for t in span if not t.is_punct]
    if not words:
        return None
    last = words[-1]
    for key in (last.lower_, last.lemma_.lower(), last.lower_.rstrip("s")):
        if key in res.heads:
            return res.heads[key]
    return None


def noun_phrase_candidates(doc: Doc, res: RuleResources) -> list[Candidate]:
    """Base noun phrases typed by their head word (``feature matching`` → TASK)."""
    if not doc.has_annotation("DEP"):
        return []
    out = []
    for chunk in doc.noun_chunks:
        t = trim_span(chunk, res)
        if t is None:
            continue
        if len(t) > 1 and t[-1].lower_ in res.generic:
            prev = t[-2]
            if prev.lower_ in res.heads and prev.pos_ in ("NOUN", "VERB", "PROPN") and not prev.text[0].isupper():
                t = t.doc[t.start : t.end - 1]
        label = _label_for_head(t, res)
        if label is None:
            continue
        if len(t) == 1 and (t[0].lower_ in res.generic or t[0].lemma_.lower() in res.generic):
            continue
        if len(t) > 6:
            continue
        conf = 0.55 if len(t) > 1 else 0.45
        out.append(Candidate(t.start_char, t.end_char, label, "kg_noun_phrases", conf))
    return out
