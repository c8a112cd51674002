"""Train the concept decision (kg/normalise/decide.py) on seed-train, cross-validated, chosen on seed-dev.

    python -m training.concept_decision cv       # 5-fold CV over seed-train + seed-dev, both modes
    python -m training.concept_decision train    # fit on all of seed-train, write kg/models/decision/model.json
    python -m training.concept_decision train --ner-folds training/seed_models   # as shipped: papers read by
        # kg/models/ner_papers, seed-train's folds by its out-of-fold versions (python -m training.seed_ner)

Each candidate is a concept as kg finds it in one paper (recognition + normalisation as shipped);
its class is the type of the seed gold concept it matches under the scorer's rule (one of its
normalised forms equals one of the gold name/aliases), or DROP. A multinomial gradient-boosted tree
model (scikit-learn, ``pip install 'kg[train]'``) learns the class from the features of
:mod:`kg.normalise.decide`; the keep threshold is the one with the best F1 over the cross-validated
predictions. Papers are assigned to folds by a hash of their id, so the folds are fixed.
Scores are the paper-level concept P/R/F1 of ``kg eval`` (``kg.build.evaluate.score_papers``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kg.build.evaluate import paper_norm, score_papers
from kg.extract.pipeline import Extraction, build_pipeline, extract, extractor_version
from kg.normalise import normalise
from kg.normalise.decide import (
    CLASSES,
    FEATURES,
    MODEL_PATH,
    PRIOR_FEATURES,
    Candidate,
    DecisionModel,
    candidates,
    count_priors,
    prior_features,
)
from kg.records import Paper

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT.parent / "shared" / "gold"
CACHE = Path("/tmp/kg-decision-cache")
FOLDS = 5
USE_PRIORS = True
PRODUCERS: list[str] | None = None  # the shipped rule producers; a list tries others
#: recognisers fine-tuned on seed-train by training/seed_ner.py: DIR/fold<k> never saw fold k's papers
#: (used for them: stacking), DIR/foldall saw all of seed-train (used for every other set)
NER_FOLDS: Path | None = None
PARAMS = {
    "max_iter": 120,
    "learning_rate": 0.12,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}


def load_split(split: str) -> tuple[list[Paper], dict[str, dict[str, Any]]]:
    papers = [
        Paper(id=d["id"], title=d["title"], abstract=d["abstract"])
        for d in map(json.loads, (GOLD / split / "papers.jsonl").read_text(encoding="utf-8").splitlines())
    ]
    gold = {d["id"]: d for d in map(json.loads, (GOLD / split / "gold.jsonl").read_text(encoding="utf-8").splitlines())}
    return papers, gold


def extractions(papers: Sequence[Paper], model: str, split: str) -> list[Extraction]:
    """The shipped recognisers' extractions of ``papers`` (cached in /tmp by model and split)."""
    from kg.build import _ex_from_json, _ex_to_json

    version = extractor_version(model) + ("" if NER_FOLDS is None else "+" + _folds_version(NER_FOLDS))
    path = CACHE / f"{split}.{version}{'+' + '+'.join(PRODUCERS) if PRODUCERS else ''}.json"
    if path.exists():
        d = json.loads(path.read_text(encoding="utf-8"))
        if set(d) == {p.id for p in papers}:
            strings: dict[str, str] = {}
            return [_ex_from_json(p.id, p.text, d[p.id], strings) for p in papers]
    if NER_FOLDS is None:
        exs = list(extract(papers, build_pipeline(model, rule_producers=PRODUCERS)))
    elif split == "seed-train":
        by_id: dict[str, Extraction] = {}
        for k in range(FOLDS):
            part = [p for p in papers if fold_of(p.id) == k]
            nlp = build_pipeline(model, rule_producers=PRODUCERS, papers_model=NER_FOLDS / f"fold{k}")
            by_id.update((ex.paper_id, ex) for ex in extract(part, nlp))
        exs = [by_id[p.id] for p in papers]
    else:
        nlp = build_pipeline(model, rule_producers=PRODUCERS, papers_model=NER_FOLDS / "foldall")
        exs = list(extract(papers, nlp))
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({ex.paper_id: _ex_to_json(ex) for ex in exs}), encoding="utf-8")
    return exs


def _folds_version(folder: Path) -> str:
    """A cache key for the fold recognisers: a hash of their weights."""
    h = hashlib.sha1()
    for k in [*range(FOLDS), "all"]:
        h.update((folder / f"fold{k}" / "ner" / "model").read_bytes())
    return f"seedner-{h.hexdigest()[:12]}"


def gold_class(c: Candidate, gold: dict[str, Any]) -> str:
    """The type of the gold concept the candidate matches (its own type first), or DROP."""
    forms = {paper_norm(m.text) for m in c.mentions} | {paper_norm(c.label)}
    hits = [
        e["type"].upper()
        for e in gold.get("entities", [])
        if forms & {paper_norm(a) for a in [e["name"], *e["aliases"]]}
    ]
    if not hits:
        return "DROP"
    return c.type if c.type in hits else hits[0]


def split_candidates(split: str, model: str) -> tuple[list[Paper], dict[str, Any], list[Candidate], list[str]]:
    papers, gold = load_split(split)
    exs = extractions(papers, model, split)
    concepts, mentions = normalise(exs)
    cands = candidates(papers, {ex.paper_id: ex.abbreviations for ex in exs}, concepts, mentions)
    return papers, gold, cands, [gold_class(c, gold[c.paper_id]) for c in cands]


def fold_of(paper_id: str) -> int:
    return int(hashlib.sha1(paper_id.encode()).hexdigest(), 16) % FOLDS


def fit(cands: Sequence[Candidate], labels: Sequence[str], params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A model spec (kg.normalise.decide's JSON) fitted on the candidates."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    priors, base = count_priors([c.lexicon for c in cands], labels)
    names = [*FEATURES, *(PRIOR_FEATURES if USE_PRIORS else ())]
    # a training candidate's priors come from the other papers' folds (out-of-fold target encoding),
    # as they will for papers never seen
    inner = [int(hashlib.sha1(f"inner:{c.paper_id}".encode()).hexdigest(), 16) % FOLDS for c in cands]
    oof = []
    for k in range(FOLDS):
        idx = [i for i in range(len(cands)) if inner[i] != k]
        oof.append(count_priors([cands[i].lexicon for i in idx], [labels[i] for i in idx])[0])
    rows = []
    for c, k in zip(cands, inner, strict=True):
        feats = {**c.features, **prior_features(oof[k], base, c.lexicon)}
        rows.append([feats[f] for f in names])
    x = np.array(rows)
    present = [k for k in CLASSES if k in set(labels)]
    y = np.array([present.index(lab) for lab in labels])
    clf = HistGradientBoostingClassifier(**{**PARAMS, **(params or {})})
    clf.fit(x, y)
    lr = clf.learning_rate
    init = [float(v) for v in np.ravel(clf._baseline_prediction)]
    if len(present) == 2:
        raise SystemExit("the decision needs more than two classes")
    trees = []
    for stage in clf._predictors:  # leaves are already shrunk by the learning rate; inner nodes are not
        out = []
        for t in stage:
            nd = t.nodes
            leaf = nd["is_leaf"].astype(bool)
            out.append(
                {
                    "f": np.where(leaf, -2, nd["feature_idx"]).tolist(),
                    "t": np.where(leaf, -2.0, nd["num_threshold"]).tolist(),
                    "l": np.where(leaf, -1, nd["left"].astype(np.int64)).tolist(),
                    "r": np.where(leaf, -1, nd["right"].astype(np.int64)).tolist(),
                    "v": np.where(leaf, nd["value"], nd["value"] * lr).tolist(),
                }
            )
        trees.append(out)
    spec = {
        "features": names,
        "classes": present,
        "priors": priors if USE_PRIORS else {},
        "prior_base": base,
        "learning_rate": 1.0,
        "init": init,
        "threshold": 0.5,
        "trees": trees,
        "params": {**PARAMS, **(params or {})},
    }
    # the JSON evaluator must agree with scikit-learn
    ours = DecisionModel(spec)
    sk = clf.predict_proba(x[:50])
    mine = np.array([[ours.predict(dict(zip(names, row, strict=True)))[k] for k in present] for row in x[:50]])
    if not np.allclose(sk, mine, atol=1e-6):
        raise SystemExit(f"exported trees disagree with scikit-learn (max diff {abs(sk - mine).max():.2e})")
    return spec


def predictions(
    papers: Sequence[Paper],
    cands: Sequence[Candidate],
    probs: Sequence[dict[str, float]],
    threshold: float,
    corpus_type: bool = True,
    join: bool = False,
) -> list[dict[str, Any]]:
    """``kg extract``-style records of the kept candidates, overlaps resolved as kg.normalise.decide does;
    with ``join``, a paper's concepts of one meaning joined by the shipped same-meaning model."""
    from kg.normalise.decide import Decision, corpus_types, join_same_meaning, select_mentions

    ds = [Decision.of(c, p, threshold, c.features) for c, p in zip(cands, probs, strict=True)]
    kept = select_mentions(ds, [m for c in cands for m in c.mentions])
    joins = join_same_meaning(papers, ds, kept) if join else {}
    types = corpus_types(ds) if corpus_type else {}
    own = {(d.paper_id, d.concept): d.type for d in ds}
    label = {c.concept: c.label for c in cands}
    recs: dict[str, list[dict[str, Any]]] = {p.id: [] for p in papers}
    for m in kept:
        cid = joins.get((m.paper_id, m.concept), m.concept)
        t = types.get(cid) or own.get((m.paper_id, cid)) or own[(m.paper_id, m.concept)]
        recs[m.paper_id].append(
            {"text": m.text, "start": m.start, "label": t, "concept": cid, "concept_label": label[cid]}
        )
    return [{"id": pid, "mentions": ms} for pid, ms in recs.items()]


def recognised_only(cands: Sequence[Candidate]) -> list[dict[str, float]]:
    """What the pipeline gave before the decision: the recognisers' mentions, their own types."""
    return [{t: float(t == c.type) if c.features["recognised"] else float(t == "DROP") for t in CLASSES} for c in cands]


def scores(gold: dict[str, Any], recs: list[dict[str, Any]]) -> tuple[float, float, float]:
    m = score_papers(list(gold.values()), recs).micro
    return (round(m.p, 4), round(m.r, 4), round(m.f1, 4))


def cv(model: str, params: dict[str, Any] | None = None, quiet: bool = False) -> dict[str, Any]:
    papers, gold, cands, labels = split_candidates("seed-train", model)
    probs: list[dict[str, float]] = [{}] * len(cands)
    for k in range(FOLDS):
        tr = [i for i, c in enumerate(cands) if fold_of(c.paper_id) != k]
        te = [i for i, c in enumerate(cands) if fold_of(c.paper_id) == k]
        m = DecisionModel(fit([cands[i] for i in tr], [labels[i] for i in tr], params))
        for i in te:
            probs[i] = m.predict(cands[i].features, cands[i].lexicon)
    base = scores(gold, predictions(papers, cands, recognised_only(cands), 0.5, corpus_type=False))
    grid = {}
    for thr in np.arange(0.2, 0.75, 0.05):
        grid[round(float(thr), 2)] = scores(gold, predictions(papers, cands, probs, float(thr)))
    best = max(grid, key=lambda t: grid[t][2])
    per_fold = []
    for k in range(FOLDS):
        ids = [p for p in papers if fold_of(p.id) == k]
        sub = {p.id: gold[p.id] for p in ids}
        idx = [i for i, c in enumerate(cands) if fold_of(c.paper_id) == k]
        per_fold.append(scores(sub, predictions(ids, [cands[i] for i in idx], [probs[i] for i in idx], best)))
    out = {
        "model": model,
        "baseline": base,
        "grid": grid,
        "threshold": best,
        "cv": grid[best],
        "folds": per_fold,
        "records": predictions(papers, cands, probs, best),
        "candidates": len(cands),
        "positives": sum(lab != "DROP" for lab in labels),
    }
    if not quiet:
        print(json.dumps({k: v for k, v in out.items() if k != "records"}, indent=1))
    return out


def dev_score(model: str, spec: dict[str, Any]) -> dict[str, Any]:
    papers, gold, cands, labels = split_candidates("seed-dev", model)
    m = DecisionModel(spec)
    probs = [m.predict(c.features, c.lexicon) for c in cands]
    return {
        "baseline": scores(gold, predictions(papers, cands, recognised_only(cands), 0.5, corpus_type=False)),
        "decided": scores(gold, predictions(papers, cands, probs, spec["threshold"])),
    }


def train(model: str = "default", out: Path = MODEL_PATH) -> dict[str, Any]:
    """Cross-validate (for the threshold and the figure), then fit on all of seed-train and write the model."""
    res = cv(model, quiet=True)
    _, _, cands, labels = split_candidates("seed-train", model)
    spec = fit(cands, labels)
    spec["threshold"] = res["threshold"]
    spec["trained_on"] = {
        "set": "seed-train",
        "papers": 296,
        "candidates": len(cands),
        "recogniser": model,
        "cv_f1": res["cv"],
        "date": time.strftime("%Y-%m-%d"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(spec, separators=(",", ":")) + "\n", encoding="utf-8")
    print(json.dumps({"cv": res["cv"], "threshold": res["threshold"], "dev": dev_score(model, spec)}, indent=1))
    return spec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["cv", "train", "dev", "mentions"])
    ap.add_argument("--model", default="default")
    ap.add_argument("--producers", help="comma-separated rule producers to try instead of the shipped ones")
    ap.add_argument("--no-priors", action="store_true", help="leave the learnt lexicon features out")
    ap.add_argument(
        "--ner-folds",
        type=Path,
        help="recognisers of training/seed_ner.py (DIR/fold0..4, DIR/foldall): out-of-fold recognition",
    )
    ap.add_argument("--records", type=Path, help="cv: write the cross-validated records (JSONL) here")
    args = ap.parse_args(argv)
    global PRODUCERS, USE_PRIORS, NER_FOLDS
    NER_FOLDS = args.ner_folds
    USE_PRIORS = not args.no_priors
    PRODUCERS = args.producers.split(",") if args.producers else None
    if args.command == "cv":
        res = cv(args.model)
        if args.records:  # the cross-validated records (e.g. for training/same_concept.py)
            args.records.write_text("".join(json.dumps(r) + "\n" for r in res["records"]), encoding="utf-8")
    elif args.command == "train":
        train(args.model)
    elif args.command == "mentions":
        mention_sets_sweep([0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35], args.model)
    else:
        print(json.dumps(dev_score(args.model, json.loads(MODEL_PATH.read_text())), indent=1))
    return 0


def mention_sets_sweep(thresholds: Sequence[float], model: str = "default") -> dict[str, dict[float, float]]:
    """Exact-span F1 of the mention-level dev sets when the decision keeps candidates above each threshold.

    The decision must not cost these sets more than 0.01 (issue 17); threshold 0 keeps every candidate
    (only the corpus-wide retyping acts).
    """
    from benchmarks.bench_quality import SETS
    from kg.build.evaluate import load_jsonl, score_mentions
    from kg.normalise.decide import apply_decisions, decide
    from training.splits import held_out

    spec = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    dm = DecisionModel(spec)
    out: dict[str, dict[float, float]] = {}
    for name in ("scierc-dev", "scier-dev", "scirex-heldout", "tdmsci-heldout"):
        rel, mapping, heldout = SETS[name]
        gold = load_jsonl(GOLD / rel)
        if heldout:
            gold = [g for g in gold if held_out(g["id"])]
        papers = [Paper(id=str(g["id"]), title="", abstract="", raw_text=g["text"]) for g in gold]
        exs = extractions(papers, model, name)
        out[name] = {}
        for thr in [None, *thresholds]:
            concepts, mentions = normalise(exs)
            if thr is not None:
                cands = candidates(papers, {ex.paper_id: ex.abbreviations for ex in exs}, concepts, mentions)
                concepts, mentions = apply_decisions(concepts, mentions, decide(cands, dm, thr))
            recs: dict[str, list[dict[str, Any]]] = {p.id: [] for p in papers}
            for m in mentions:
                recs[m.paper_id].append({"start": m.start, "end": m.end, "label": m.label})
            s = score_mentions(gold, [{"id": k, "mentions": v} for k, v in recs.items()], mapping)
            out[name][-1.0 if thr is None else thr] = round(s.micro.f1, 4)
        print(name, out[name], flush=True)
    return out


if __name__ == "__main__":
    sys.exit(main())
