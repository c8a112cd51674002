"""Extractor quality on every gold set and split we have: rules alone, model alone, combined.

Exact-span micro and per-label P/R/F1 (as `kg eval`), and paper-level concept F1 on
shared/gold/seed-dev. SciREX and TDMSci ship only a train split here: their fixed 15% held-out
part (training/splits.py) is scored, never trained on. SciERC test is reported, never tuned on.

    python -m benchmarks.bench_quality [--modes rules,model,combined,encoder,ensemble,accurate] [--sets scierc-dev,...]

Modes: rules alone; the CNN recogniser alone ("model") and with the rules ("combined", the
default extractor); the transformer recogniser alone ("encoder"), checked by the CNN ("ensemble":
its less confident entities kept only where the CNN agrees) and that with the rules ("accurate",
``--model accurate``; needs ``pip install 'kg[accurate]'``).
"""

from __future__ import annotations

import argparse
import json
import time

from benchmarks._common import RESULTS, ROOT, SHARED, machine, save
from kg.build.evaluate import concept_cohesion, load_jsonl, score_mentions, score_papers
from kg.build.extraction import extract_records  # not kg.extract(): modes use pipelines it cannot build (no rules, ...)
from kg.extract.pipeline import build_pipeline, default_model_path, papers_model_path
from kg.records import Paper
from training import seed_arxiv
from training.splits import held_out

GOLD = SHARED / "gold"
SETS = {
    "scierc-dev": ("scierc/dev.jsonl", {"Method": "METHOD", "Task": "TASK", "Metric": "METRIC"}, None),
    "scierc-test": ("scierc/test.jsonl", {"Method": "METHOD", "Task": "TASK", "Metric": "METRIC"}, None),
    "scier-dev": ("scier/dev.jsonl", {"Dataset": "DATASET", "Method": "METHOD", "Task": "TASK"}, None),
    "scirex-heldout": (
        "scirex/train.jsonl",
        {"Method": "METHOD", "Task": "TASK", "Material": "DATASET", "Metric": "METRIC"},
        True,
    ),
    "tdmsci-heldout": ("tdmsci/train.jsonl", {"Task": "TASK", "Dataset": "DATASET", "Metric": "METRIC"}, True),
    "seed-dev": ("seed-dev/gold.jsonl", None, None),
    "seed-train-cv": ("seed-train/gold.jsonl", None, None),  # the concept decision, 5-fold cross-validated
    "seed-arxiv": ("(training/seed_arxiv)", None, None),  # the developers' own seed-style annotations
}


def pipeline(mode: str):
    model = default_model_path()
    if mode == "rules":
        return build_pipeline(None)
    if mode == "encoder":  # the optional transformer recogniser alone
        return build_pipeline("accurate", use_rules=False, agreement=False)
    if mode == "ensemble":  # the transformer recogniser checked by the CNN, no rules
        return build_pipeline("accurate", use_rules=False)
    if mode == "accurate":  # the transformer checked by the CNN, with the rules
        return build_pipeline("accurate")
    if model is None:
        raise SystemExit("no packaged model at kg/models/ner: train it first (python -m training.train)")
    # "default", as `kg extract` and `kg eval` build it, not the model's path: only "default" adds the
    # papers' recogniser (kg/models/ner_papers) for records with a title and abstract (seed-dev,
    # seed-arxiv); records given as one text (the mention-level sets) go to kg/models/ner either way
    return build_pipeline("default", use_rules=(mode == "combined"))


def run(set_name: str, nlp) -> dict[str, object]:
    rel, mapping, heldout = SETS[set_name]
    t0 = time.perf_counter()
    if set_name == "seed-arxiv":
        annotated = seed_arxiv.parse()
        texts = seed_arxiv.load_texts({a.id for a in annotated})
        papers = [Paper(id=a.id, title=texts[a.id]["title"], abstract=texts[a.id]["abstract"]) for a in annotated]
        scores = score_papers(seed_arxiv.paper_gold(annotated), extract_records(papers, nlp=nlp))
    elif set_name == "seed-train-cv":
        # the concept decision cross-validated over seed-train (5 folds by paper; the recognisers never
        # saw these papers); the cohesion figures need no training, so they come from the whole set
        from training import concept_decision

        # a recogniser fine-tuned on seed-train (training/seed_ner.py) must not tag the papers it was
        # trained on: each fold is tagged by the recogniser that never saw it (stacking)
        papers_model = papers_model_path()
        if papers_model is not None and json.loads((papers_model / "meta.json").read_text()).get("seed_train"):
            folds = ROOT / "training" / "seed_models"
            if not (folds / "fold0").is_dir():
                raise SystemExit(
                    f"{folds}: make the out-of-fold recognisers first: python -m training.seed_ner train --fold K"
                )
            concept_decision.NER_FOLDS = folds
        res = concept_decision.cv("default", quiet=True)
        gold = load_jsonl(GOLD / "seed-train" / "gold.jsonl")
        papers = [
            Paper(id=str(p["id"]), title=p["title"], abstract=p["abstract"])
            for p in load_jsonl(GOLD / "seed-train" / "papers.jsonl")
        ]
        p_, r_, f_ = res["cv"]
        out = {
            "micro": {"p": p_, "r": r_, "f1": f_},
            "folds": res["folds"],
            "threshold": res["threshold"],
            "recognisers_alone": res["baseline"],
            "cohesion": concept_cohesion(gold, res["records"]),
        }
        # then a paper's concepts of one meaning joined (kg/normalise/meaning.py), that decision
        # cross-validated over the same folds and records (training/same_concept.py)
        from kg.normalise.meaning import load_meaning_model
        from training import same_concept

        meaning = load_meaning_model()
        if meaning is not None:
            by_id = {str(p["id"]): p for p in load_jsonl(GOLD / "seed-train" / "papers.jsonl")}
            table = same_concept.cross_validate(res["records"], gold, by_id, [meaning.threshold])
            out["joined"] = table[meaning.threshold]
        out["seconds"] = round(time.perf_counter() - t0, 1)
        return out
    elif mapping is None:
        gold = load_jsonl(GOLD / rel)
        papers = [
            Paper(id=str(p["id"]), title=p["title"], abstract=p["abstract"])
            for p in load_jsonl(GOLD / "seed-dev" / "papers.jsonl")
        ]
        pred = extract_records(papers, nlp=nlp)
        scores = score_papers(gold, pred)
        out = scores.to_dict()
        out["cohesion"] = concept_cohesion(gold, pred)
        out["seconds"] = round(time.perf_counter() - t0, 1)
        return out
    else:
        gold = load_jsonl(GOLD / rel)
        if heldout:
            gold = [g for g in gold if held_out(g["id"])]
        papers = [Paper(id=str(g["id"]), title="", abstract="", raw_text=g["text"]) for g in gold]
        scores = score_mentions(gold, extract_records(papers, nlp=nlp), mapping)
    out = scores.to_dict()
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--modes", default="rules,model,combined")
    ap.add_argument("--sets", default=",".join(SETS))
    args = ap.parse_args()
    if not GOLD.is_dir():
        raise SystemExit(f"{GOLD}: gold data not found beside the project")
    # results of other modes from an earlier run are kept; the modes run now replace theirs
    previous = RESULTS / "quality.json"
    results: dict[str, dict[str, object]] = json.loads(previous.read_text())["results"] if previous.exists() else {}
    for mode in args.modes.split(","):
        nlp = pipeline(mode)
        for s in args.sets.split(","):
            if s == "seed-train-cv" and mode != "combined":
                continue  # the shipped decision is trained on the default recognisers' candidates
            r = run(s, nlp)
            results.setdefault(s, {})[mode] = r
            micro = r["micro"]
            print(f"{s:15s} {mode:9s} P={micro['p']:.3f} R={micro['r']:.3f} F1={micro['f1']:.3f}", flush=True)  # type: ignore[index]
    save("quality", {"machine": machine(), "command": "python -m benchmarks.bench_quality", "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
