"""Fit the same-meaning decision (kg/normalise/meaning.py) on seed-train's alias groups.

    kg extract ../shared/gold/seed-train/papers.jsonl -o st.jsonl      # kg's concepts of each paper
    python -m training.same_concept cv --pred st.jsonl                  # 5-fold CV: cohesion, merged, F1
    python -m training.same_concept train --pred st.jsonl               # fit on all, write the model

Every pair of a paper's kg concepts that :func:`kg.normalise.meaning.candidate_pairs` proposes is a
training row when both concepts match gold concepts of that paper (a surface form equals a gold name or
alias, as the scorer matches): 1 when they match one gold concept, 0 when they match different ones.
Folds are those of ``training/seed_ner.py`` (a hash of the paper id). The threshold is chosen by the
cross-validated rates: the highest within-paper cohesion whose rate of different gold concepts merged
stays at or under ``--max-merged``. seed-dev (``--dev``) is scored with the model fitted on all folds.
"""

from __future__ import annotations

import argparse
import copy
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from kg.build.evaluate import concept_cohesion, load_jsonl, paper_norm, score_papers
from kg.normalise.meaning import (
    FEATURES,
    MODEL_PATH,
    PaperConcept,
    SameMeaningModel,
    candidate_pairs,
    load_vectors,
    pair_features,
    same_meaning_groups,
)
from kg.normalise.termstats import load_termstats
from training.concept_decision import FOLDS, GOLD, fold_of  # the folds every seed-train choice uses

C = 0.1


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [dict(r) for r in load_jsonl(path)]


def paper_concepts(rec: dict[str, Any], title_len: int) -> list[PaperConcept]:
    """A prediction record's concepts as :class:`PaperConcept` (the key read from the id, as kg does)."""
    by: dict[str, PaperConcept] = {}
    for m in rec.get("mentions", []):
        cid = m.get("concept") or paper_norm(m["text"])
        pc = by.get(cid)
        if pc is None:
            pc = by[cid] = PaperConcept(cid, cid.replace("-", " "), m["label"].upper(), [], 0)
            pc.extra["label"] = m.get("concept_label") or m["text"]
        if m["text"] not in pc.forms:
            pc.forms.append(m["text"])
        pc.n_mentions += 1
        pc.in_title = pc.in_title or m["start"] < title_len
        pc.first = min(pc.first, m["start"]) if pc.n_mentions > 1 else m["start"]
    return [by[k] for k in sorted(by)]


def gold_sets(g: dict[str, Any]) -> list[set[str]]:
    return [{paper_norm(a) for a in [e["name"], *e["aliases"]]} for e in g.get("entities", [])]


def matches(pc: PaperConcept, golds: list[set[str]]) -> set[int]:
    forms = {paper_norm(f) for f in pc.forms} | {paper_norm(pc.extra["label"])}
    return {i for i, s in enumerate(golds) if forms & s}


def dataset(pred: list[dict[str, Any]], gold: list[dict[str, Any]], papers: dict[str, dict[str, Any]]):  # type: ignore[no-untyped-def]
    """Rows (paper id, features, label) and how many gold-positive pairs the candidate filter missed."""
    stats, vectors = load_termstats(), load_vectors()
    gold_by = {g["id"]: g for g in gold}
    rows = []
    missed = found = 0
    for rec in pred:
        g = gold_by.get(rec["id"])
        if g is None:
            continue
        golds = gold_sets(g)
        cs = paper_concepts(rec, len(papers[rec["id"]].get("title") or ""))
        hits = [matches(c, golds) for c in cs]
        proposed = set(candidate_pairs(cs, vectors))
        for i in range(len(cs)):
            for j in range(i + 1, len(cs)):
                if not hits[i] or not hits[j]:
                    continue
                label = int(bool(hits[i] & hits[j]))
                if (i, j) not in proposed:
                    missed += label
                    continue
                found += label
                rows.append((rec["id"], pair_features(cs[i], cs[j], stats, vectors), label))
    return rows, missed, found


def fit(rows: list[tuple[str, dict[str, float], int]], c: float = C) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    x = np.array([[f[k] for k in FEATURES] for _, f, _ in rows], dtype=np.float64)
    y = np.array([label for _, _, label in rows])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=5000)
    lr.fit((x - mean) / scale, y)
    return {
        "kind": "logistic regression",
        "features": FEATURES,
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), 6),
        "threshold": 0.5,
        "C": c,
    }


def apply(
    pred: list[dict[str, Any]], papers: dict[str, dict[str, Any]], model: SameMeaningModel, threshold: float
) -> list[dict[str, Any]]:
    """The predictions with each paper's same-meaning groups joined (mentions moved to the group's concept)."""
    stats, vectors = load_termstats(), load_vectors()
    out = []
    for rec in pred:
        rec = copy.deepcopy(rec)
        cs = paper_concepts(rec, len(papers[rec["id"]].get("title") or ""))
        for c in cs:
            c.corpus_papers = 0
        joins = same_meaning_groups(cs, model, stats, vectors, threshold)
        labels = {c.concept: c.extra["label"] for c in cs}
        types = {c.concept: c.type for c in cs}
        for m in rec.get("mentions", []):
            cid = m.get("concept") or paper_norm(m["text"])
            if cid in joins:
                target = joins[cid][0]
                m["concept"], m["concept_label"], m["label"] = target, labels[target], types[target]
        out.append(rec)
    return out


def rates(gold: list[dict[str, Any]], pred: list[dict[str, Any]]) -> dict[str, float]:
    coh = concept_cohesion(gold, pred)
    s = score_papers(gold, pred).micro
    p = s.tp / s.predicted if s.predicted else 0.0
    r = s.tp_gold / s.gold if s.gold else 0.0
    return {
        "cohesion": round(float(coh["cohesion"]), 4),
        "cohesion_n": int(coh["cohesion_n"]),
        "merged": round(float(coh["merged"]), 4),
        "P": round(p, 4),
        "R": round(r, 4),
        "F1": round(2 * p * r / (p + r) if p + r else 0.0, 4),
    }


def cross_validate(pred, gold, papers, thresholds, c: float = C, extra=()):  # type: ignore[no-untyped-def]
    rows, missed, found = dataset(pred, gold, papers)
    for more in extra:  # more training rows (other readings of the same papers); folds stay by paper
        rows += dataset(more, gold, papers)[0]
    print(
        f"{len(rows)} pairs, {sum(r[2] for r in rows)} positive; positives the filter missed: {missed} (found {found})"
    )
    results: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for k in range(FOLDS):
        spec = fit([r for r in rows if fold_of(r[0]) != k], c)
        model = SameMeaningModel(spec)
        part = [p for p in pred if fold_of(p["id"]) == k]
        for t in thresholds:
            results[t].extend(apply(part, papers, model, t))
    table = {t: rates(gold, results[t]) for t in thresholds}
    return table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("step", choices=["cv", "train"])
    ap.add_argument("--pred", type=Path, required=True, help="kg extract's output on seed-train")
    ap.add_argument("--gold", type=Path, default=GOLD / "seed-train")
    ap.add_argument(
        "--extra-pred",
        type=Path,
        action="append",
        default=[],
        help="another reading of seed-train whose pairs are training rows too (not scored)",
    )
    ap.add_argument("--dev-pred", type=Path, help="kg extract's output on seed-dev (scored, never fitted)")
    ap.add_argument("--dev", type=Path, default=GOLD / "seed-dev")
    ap.add_argument("--max-merged", type=float, default=0.005)
    ap.add_argument("--C", type=float, default=C)
    args = ap.parse_args()
    pred = read_jsonl(args.pred)
    gold = read_jsonl(args.gold / "gold.jsonl")
    papers = {p["id"]: p for p in read_jsonl(args.gold / "papers.jsonl")}
    thresholds = [round(t, 2) for t in np.arange(0.2, 0.91, 0.05)]
    print("before:", rates(gold, pred))
    extra = [read_jsonl(p) for p in args.extra_pred]
    table = cross_validate(pred, gold, papers, thresholds, args.C, extra)
    for t, r in table.items():
        print(t, r)
    ok = [t for t, r in table.items() if r["merged"] <= args.max_merged] or [max(thresholds)]
    best = max(ok, key=lambda t: (table[t]["cohesion"], table[t]["F1"], t))
    print("chosen threshold", best, table[best])
    if args.step == "train":
        rows, _, _ = dataset(pred, gold, papers)
        for more in extra:
            rows += dataset(more, gold, papers)[0]
        spec = fit(rows, args.C)
        spec["threshold"] = best
        spec["cv"] = {"seed-train": table[best], "folds": FOLDS, "max_merged": args.max_merged}
        if args.dev_pred:
            dev_gold = read_jsonl(args.dev / "gold.jsonl")
            dev_papers = {p["id"]: p for p in read_jsonl(args.dev / "papers.jsonl")}
            dev_pred = read_jsonl(args.dev_pred)
            spec["cv"]["seed-dev before"] = rates(dev_gold, dev_pred)
            spec["cv"]["seed-dev"] = rates(dev_gold, apply(dev_pred, dev_papers, SameMeaningModel(spec), best))
            print("seed-dev:", spec["cv"]["seed-dev before"], "->", spec["cv"]["seed-dev"])
        MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
        MODEL_PATH.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
