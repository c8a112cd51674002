"""The records passed between stages (the contracts of DESIGN.md)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from kg.schema import LABELS  # the concept types kg extracts, in display order (re-exported)

__all__ = ["LABELS", "Paper", "Mention", "Extraction", "Concept", "Relation", "paper_id", "title_key"]


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def title_key(title: str) -> str:
    """The normalised title used to recognise one paper across files.

    >>> title_key("MESA: Effective  Matching!")
    'mesa effective matching'
    """
    return _NON_ALNUM.sub(" ", title.lower()).strip()


def paper_id(title: str) -> str:
    """A stable paper id: the first 12 hex digits of SHA-1 of the normalised title.

    The same paper gets the same id whatever file or order it is read from.

    >>> paper_id("JaColBERTv2.5: Optimising Multi-Vector Retrievers to Create State-of-the-Art Japanese Retrievers with Constrained Resources")
    '213b37bc9a21'
    """
    return hashlib.sha1(title_key(title).encode("utf-8")).hexdigest()[:12]


@dataclass
class Paper:
    """One paper: title and abstract, with what the source says about it.

    ``date`` is ISO ``YYYY-MM-DD`` when the source gives a year, ``--MM-DD`` (an
    ``xsd:gMonthDay``) when it gives only month and day; a year is never invented.
    """

    id: str
    title: str
    abstract: str
    date: str | None = None
    authors: list[str] = field(default_factory=list)
    author_count: int | None = None
    organization: str | None = None
    urls: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # "file:line" of every occurrence
    raw_text: str | None = None  # a record given as one ``text`` field keeps it verbatim

    @property
    def text(self) -> str:
        """What the extractor reads and offsets point into.

        ``title + "\\n" + abstract``, or the record's own ``text`` when it came as one field.
        """
        if self.raw_text is not None:
            return self.raw_text
        return f"{self.title}\n{self.abstract}" if self.abstract else self.title

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "abstract": self.abstract,
            "date": self.date,
            "authors": self.authors,
            "author_count": self.author_count,
            "organization": self.organization,
            "urls": self.urls,
            "sources": self.sources,
        }


@dataclass(slots=True)
class Mention:
    """One span of a paper's text that names a concept."""

    paper_id: str
    start: int  # character offsets into Paper.text (end exclusive)
    end: int
    text: str
    label: str  # one of LABELS
    sentence: int = 0  # sentence index in Paper.text
    sentence_start: int = 0
    sentence_end: int = 0
    confidence: float = 1.0
    producer: str = ""  # the pipeline component that produced it
    role: str = "used"  # "proposed" where the paper introduces it
    concept: str = ""  # concept id, set by normalisation
    short_form: str | None = None  # the acronym given with this long form, if any

    def to_dict(self) -> dict[str, object]:
        return {
            "paper": self.paper_id,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "label": self.label,
            "sentence": self.sentence,
            "confidence": round(self.confidence, 4),
            "producer": self.producer,
            "role": self.role,
            "concept": self.concept,
        }


@dataclass
class Extraction:
    """What the extractor found in one paper (the record :mod:`kg.extract` hands to :mod:`kg.normalise`)."""

    paper_id: str
    mentions: list[Mention] = field(default_factory=list)
    abbreviations: list[tuple[str, str]] = field(default_factory=list)  # (long form, acronym)


@dataclass(slots=True)
class Concept:
    """One meaning, merged from its mentions across papers."""

    id: str
    label: str  # preferred label
    type: str  # one of LABELS
    aliases: dict[str, int] = field(default_factory=dict)  # surface form -> mention count
    papers: set[str] = field(default_factory=set)
    mention_count: int = 0
    ambiguous: bool = False  # an acronym whose sense could not be resolved

    @property
    def paper_count(self) -> int:
        return len(self.papers)


@dataclass(slots=True)
class Relation:
    """A typed link between two concepts found in one paper's sentence."""

    head: str  # concept id
    tail: str  # concept id
    type: str  # USED_FOR, EVALUATED_ON, MEASURED_BY, COMPARED_WITH, PART_OF
    paper_id: str
    sentence: int
    confidence: float = 1.0
    evidence: tuple[int, int, int, int] = (0, 0, 0, 0)  # head start/end, tail start/end in Paper.text
    cue: str = ""  # the words between the two mentions that decided it

    def to_dict(self) -> dict[str, object]:
        return {
            "paper": self.paper_id,
            "head": self.head,
            "type": self.type,
            "tail": self.tail,
            "sentence": self.sentence,
            "confidence": round(self.confidence, 4),
            "head_span": list(self.evidence[:2]),
            "tail_span": list(self.evidence[2:]),
            "cue": self.cue,
        }
