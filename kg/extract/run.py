"""``kg extract``: run the extractor alone over one input file, one output line per record."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kg.corpus.readers import read_file
from kg.extract.pipeline import build_pipeline, extract
from kg.io import atomic_write_lines
from kg.normalise import normalise

__all__ = ["extract_file"]


def extract_file(
    input_path: Path,
    output_path: Path,
    fmt: str | None = None,
    model: str | None = "default",
    n_process: int = 1,
    warnings: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Extract every record of ``input_path`` into ``output_path`` (JSONL); return (records, mentions).

    Offsets are into the record's ``text``, or into ``title + "\\n" + abstract``.
    Mentions are merged into concepts across the whole file, so ``concept`` ids agree.
    """
    papers = read_file(input_path, fmt, warnings)
    nlp = build_pipeline(model)
    # records may repeat an id: key the extractions by position
    keyed = [p.__class__(**{**p.__dict__, "id": f"{i}"}) for i, p in enumerate(papers)]
    extractions = list(extract(keyed, nlp, n_process=n_process, progress=progress))
    concepts, _ = normalise(extractions)
    n_mentions = 0

    def lines() -> object:
        nonlocal n_mentions
        for p, ex in zip(papers, extractions, strict=True):
            ms = []
            for m in sorted(ex.mentions, key=lambda m: (m.start, m.end)):
                c = concepts.get(m.concept)
                ms.append({
                    "start": m.start, "end": m.end, "text": m.text, "label": m.label,
                    "concept": m.concept, "concept_label": c.label if c else m.text,
                    "confidence": round(m.confidence, 4), "role": m.role,
                })
            n_mentions += len(ms)
            yield {"id": p.id, "mentions": ms}

    atomic_write_lines(output_path, lines())  # type: ignore[arg-type]
    return len(papers), n_mentions
