"""``kg extract``: run the extractor alone over records, one output record per input record."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language

from kg.corpus.readers import read_file
from kg.extract.candidates import CANDIDATE_PRODUCERS
from kg.extract.pipeline import build_pipeline, extract
from kg.io import atomic_write_lines
from kg.normalise import normalise
from kg.normalise.decide import decide_concepts
from kg.records import Paper

__all__ = ["extract_file", "extract_records"]


def extract_records(
    papers: Sequence[Paper],
    model: str | None = "default",
    n_process: int = 1,
    progress: Callable[[int], None] | None = None,
    nlp: Language | None = None,
    decision: bool = True,
    explain: bool = False,
) -> list[dict[str, Any]]:
    """``{"id", "mentions": [...]}`` per paper, in order; concepts merged across all of them.

    Offsets are into ``Paper.text``: the record's ``text``, or ``title + "\\n" + abstract``.
    ``decision=False`` keeps every recognised mention (no concept decision, :mod:`kg.normalise.decide`);
    ``explain`` adds each record's ``decisions``: every candidate concept, kept or dropped, with its
    score and features.
    """
    nlp = nlp or build_pipeline(model)
    # records may repeat an id: key the extractions by position
    keyed = [Paper(**{**p.__dict__, "id": str(i)}) for i, p in enumerate(papers)]
    extractions = list(extract(keyed, nlp, n_process=n_process, progress=progress))
    concepts, mentions = normalise(extractions)
    decisions: dict[str, list[dict[str, Any]]] = {}
    kept_ids: set[int] | None = None
    if not decision:  # the recognisers' mentions alone
        kept_ids = {id(m) for m in mentions if m.producer not in CANDIDATE_PRODUCERS}
    else:
        concepts, kept, made = decide_concepts(
            keyed, extractions, concepts, mentions, keep_features=explain, processes=n_process
        )
        kept_ids = {id(m) for m in kept}
        for d in made:
            decisions.setdefault(d.paper_id, []).append(
                {k: v for k, v in d.to_dict(features=True).items() if k != "paper"}
            )
    out = []
    for i, (p, ex) in enumerate(zip(papers, extractions, strict=True)):
        ms = []
        for m in sorted(ex.mentions, key=lambda m: (m.start, m.end)):
            c = concepts.get(m.concept)
            if c is None or id(m) not in kept_ids:  # dropped by normalisation or the concept decision
                continue
            ms.append(
                {
                    "start": m.start,
                    "end": m.end,
                    "text": m.text,
                    "label": m.label,
                    "concept": m.concept,
                    "concept_label": c.label,
                    "confidence": round(m.confidence, 4),
                    "role": m.role,
                }
            )
        rec: dict[str, Any] = {"id": p.id, "mentions": ms}
        if explain:
            rec["decisions"] = decisions.get(str(i), [])
        out.append(rec)
    return out


def extract_file(
    input_path: Path,
    output_path: Path,
    fmt: str | None = None,
    model: str | None = "default",
    n_process: int = 1,
    warnings: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    decision: bool = True,
    explain: bool = False,
) -> tuple[int, int]:
    """Extract every record of ``input_path`` into ``output_path`` (JSONL); return (records, mentions)."""
    papers = read_file(input_path, fmt, warnings)
    records = extract_records(papers, model, n_process, progress, decision=decision, explain=explain)
    atomic_write_lines(output_path, records)
    return len(records), sum(len(r["mentions"]) for r in records)
