"""``kg eval``: precision, recall and F1 of the extractor against gold annotations.

Two measures, both as in ``shared/gold/seed-dev/score.py`` (the reference; a test
checks that the numbers agree):

- *mention level*: exact character span and type, per label and micro;
- *paper level*: a predicted concept (its mentions' texts and ``concept_label``,
  normalised) matches a gold concept of the same type when they share a form.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import InputError
from kg.records import LABELS

__all__ = [
    "PRF",
    "Scores",
    "default_mapping",
    "parse_mapping",
    "score_mentions",
    "score_papers",
    "paper_norm",
    "load_jsonl",
]

Record = dict[str, Any]


@dataclass(frozen=True)
class PRF:
    tp: int
    predicted: int
    gold: int

    @property
    def p(self) -> float:
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def r(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.p * self.r / (self.p + self.r) if self.p + self.r else 0.0


@dataclass
class Scores:
    per_label: dict[str, PRF] = field(default_factory=dict)
    micro: PRF = PRF(0, 0, 0)
    documents: int = 0
    missing_docs: int = 0

    def to_dict(self) -> dict[str, Any]:
        def row(x: PRF) -> dict[str, float | int]:
            return {
                "p": round(x.p, 4),
                "r": round(x.r, 4),
                "f1": round(x.f1, 4),
                "tp": x.tp,
                "predicted": x.predicted,
                "gold": x.gold,
            }

        return {
            "micro": row(self.micro),
            **{k: row(v) for k, v in self.per_label.items()},
            "documents": self.documents,
            "missing_docs": self.missing_docs,
        }


def load_jsonl(path: Path) -> list[Record]:
    out = []
    with Path(path).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise InputError(f"{path}:{n}: invalid JSON ({err.msg}); fix or remove the line") from err
    return out


def default_mapping(gold: Iterable[Record]) -> dict[str, str]:
    """Gold labels that name one of kg's types (any case) map to it; the others are dropped."""
    labels = {e["label"] for d in gold for e in d.get("entities", [])}
    return {lab: lab.upper() for lab in sorted(labels) if lab.upper() in LABELS}


def parse_mapping(text: str) -> dict[str, str]:
    """``"Material=DATASET,Method=METHOD"`` → a dict; labels are checked."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        gold, sep, ours = part.partition("=")
        if not sep or ours.strip().upper() not in LABELS:
            raise InputError(f"bad --map entry {part!r}; write Gold=LABEL with LABEL one of {', '.join(LABELS)}")
        out[gold.strip()] = ours.strip().upper()
    return out


def score_mentions(gold: Sequence[Record], pred: Sequence[Record], mapping: dict[str, str]) -> Scores:
    """Exact span + type: gold labels mapped (unmapped dropped); predictions outside the mapped types dropped."""
    pred_by_id = {d["id"]: d for d in pred}
    keep = set(mapping.values())
    tp: Counter[str] = Counter()
    ng: Counter[str] = Counter()
    np_: Counter[str] = Counter()
    missing = 0
    for g in gold:
        gs = {(e["start"], e["end"], mapping[e["label"]]) for e in g.get("entities", []) if e["label"] in mapping}
        p = pred_by_id.get(g["id"])
        if p is None:
            missing += 1
        ps = {
            (m["start"], m["end"], m["label"].upper())
            for m in (p or {}).get("mentions", [])
            if m["label"].upper() in keep
        }
        for lab in keep:
            g_l = {x for x in gs if x[2] == lab}
            p_l = {x for x in ps if x[2] == lab}
            tp[lab] += len(g_l & p_l)
            ng[lab] += len(g_l)
            np_[lab] += len(p_l)
    per = {lab: PRF(tp[lab], np_[lab], ng[lab]) for lab in sorted(keep)}
    micro = PRF(sum(tp.values()), sum(np_.values()), sum(ng.values()))
    return Scores(per, micro, len(gold), missing)


def paper_norm(s: str) -> str:
    """The scorer's normal form: lower case, punctuation to spaces, a plural ``s`` dropped."""
    s = s.lower().replace("’", "'")
    s = re.sub(r"[^a-z0-9+#.]+", " ", s).strip()
    words = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in s.split()]
    return " ".join(words)


def score_papers(gold: Sequence[Record], pred: Sequence[Record], types: Sequence[str] = LABELS) -> Scores:
    """Paper-level concept P/R/F1 against concept-level gold (``name`` + ``aliases`` per concept)."""
    pred_by_id = {d["id"]: d for d in pred}
    tp_g = tp_p = ng = np_ = 0
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp_g, ng, tp_p, np
    missing = 0
    for g in gold:
        gconcepts = []
        for e in g.get("entities", []):
            t = e["type"].upper()
            if t in types:
                gconcepts.append((t, {paper_norm(a) for a in [e["name"], *e["aliases"]]}))
        p = pred_by_id.get(g["id"])
        if p is None:
            missing += 1
        groups: dict[tuple[str, str], set[str]] = defaultdict(set)
        for m in (p or {}).get("mentions", []):
            t = m["label"].upper()
            if t in types:
                key = (t, m.get("concept") or paper_norm(m["text"]))
                groups[key].add(paper_norm(m["text"]))
                if m.get("concept_label"):
                    groups[key].add(paper_norm(m["concept_label"]))
        pconcepts = [(k[0], v) for k, v in groups.items()]
        matched_g = [any(pt == gt and pa & ga for pt, pa in pconcepts) for gt, ga in gconcepts]
        matched_p = [any(pt == gt and pa & ga for gt, ga in gconcepts) for pt, pa in pconcepts]
        tp_g += sum(matched_g)
        ng += len(gconcepts)
        tp_p += sum(matched_p)
        np_ += len(pconcepts)
        for (gt, _), hit in zip(gconcepts, matched_g, strict=True):
            per[gt][0] += hit
            per[gt][1] += 1
        for (pt, _), hit in zip(pconcepts, matched_p, strict=True):
            per[pt][2] += hit
            per[pt][3] += 1
    # precision counts matched predictions, recall matched gold concepts (as score.py does)
    out = Scores(documents=len(gold), missing_docs=missing)
    out.micro = _two_sided(tp_p, np_, tp_g, ng)
    for t, (a, b, c, d) in sorted(per.items()):
        out.per_label[t] = _two_sided(c, d, a, b)
    return out


def concept_cohesion(gold: Sequence[Record], pred: Sequence[Record]) -> dict[str, float | int]:
    """Does one gold concept end up as one kg concept, and do two stay two?

    ``cohesion``: of the gold concepts of a paper whose mentions kg found under two or more of their
    surface forms, the share whose found mentions all share one kg concept. ``merged``: of the kg
    concepts of a paper that match a gold concept, the share that match two or more different ones.
    Matching is the scorer's: a mention's normal form equals one of the gold name/aliases.
    """
    pred_by_id = {d["id"]: d for d in pred}
    eligible = cohesive = matched = merged = 0
    for g in gold:
        ms = (pred_by_id.get(g["id"]) or {}).get("mentions", [])
        golds = [{paper_norm(a) for a in [e["name"], *e["aliases"]]} for e in g.get("entities", [])]
        for aliases in golds:
            found = [(paper_norm(m["text"]), m.get("concept")) for m in ms if paper_norm(m["text"]) in aliases]
            if len({t for t, _ in found}) >= 2:
                eligible += 1
                cohesive += len({c for _, c in found}) == 1
        by_concept: dict[str, set[str]] = defaultdict(set)
        for m in ms:
            by_concept[m.get("concept") or paper_norm(m["text"])].add(paper_norm(m["text"]))
        for texts in by_concept.values():
            hits = sum(bool(texts & aliases) for aliases in {frozenset(a) for a in golds})
            if hits:
                matched += 1
                merged += hits >= 2
    return {
        "cohesion": cohesive / eligible if eligible else 1.0,
        "cohesion_n": eligible,
        "merged": merged / matched if matched else 0.0,
        "merged_n": matched,
    }


def _two_sided(tp_pred: int, n_pred: int, tp_gold: int, n_gold: int) -> PRF:
    """A PRF whose p is tp_pred/n_pred and r is tp_gold/n_gold (matches may be many-to-one)."""
    return _PaperPRF(tp_pred, n_pred, n_gold, tp_gold)


@dataclass(frozen=True)
class _PaperPRF(PRF):
    tp_gold: int = 0

    @property
    def r(self) -> float:
        return self.tp_gold / self.gold if self.gold else 0.0


def evaluate(
    gold_path: Path,
    mapping: dict[str, str] | None = None,
    paper_level: bool = False,
    papers_path: Path | None = None,
    model: str | None = "default",
    n_process: int = 1,
    predictions_out: Path | None = None,
) -> Scores:
    """Run the extractor over a gold file's texts and score it (see the module docstring)."""
    from kg.build.extraction import extract_records
    from kg.corpus.readers import read_file
    from kg.io import atomic_write_lines
    from kg.records import Paper

    gold_path = Path(gold_path)
    if not gold_path.is_file():
        raise InputError(f"{gold_path}: gold file not found; check the path")
    gold = load_jsonl(gold_path)
    if not gold:
        raise InputError(f"{gold_path}: no records; a gold file has one JSON object per line")
    if paper_level:
        src = Path(papers_path) if papers_path else gold_path.with_name("papers.jsonl")
        if not src.is_file():
            raise InputError(f"{src}: the papers of the paper-level gold were not found; pass --papers FILE")
        papers = read_file(src, "jsonl")
    else:
        if "text" not in gold[0] or "entities" not in gold[0]:
            raise InputError(
                f"{gold_path}: records need 'id', 'text' and 'entities' for mention-level scoring "
                "(use --paper for concept-level gold)"
            )
        papers = [Paper(id=str(g["id"]), title="", abstract="", raw_text=g["text"]) for g in gold]
    preds = extract_records(papers, model, n_process)
    if predictions_out is not None:
        atomic_write_lines(predictions_out, preds)
    if paper_level:
        return score_papers(gold, preds)
    return score_mentions(gold, preds, mapping or default_mapping(gold))
