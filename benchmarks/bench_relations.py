"""Relation extraction measured on SciERC's relation annotations (dev and test).

Gold mapping (both endpoints must be Method, Task, Metric or Material):
USED-FOR → USED_FOR (head → tail); EVALUATE-FOR with a Metric head → MEASURED_BY (tail → head);
EVALUATE-FOR with a Material head → EVALUATED_ON (tail → head); COMPARE → COMPARED_WITH
(unordered); PART-OF → PART_OF (head → tail). SciERC's other types (FEATURE-OF, HYPONYM-OF,
CONJUNCTION) have no kg counterpart and are left out.

Two settings: *gold entities* (the relation finder alone, on SciERC's own typed spans) and
*end to end* (on the spans kg's extractor finds). Exact spans, type and direction.

    python -m benchmarks.bench_relations
"""

from __future__ import annotations

import json
import sys
from collections import Counter

from benchmarks._common import SHARED, machine, save
from kg.build.evaluate import PRF, load_jsonl
from kg.build.extraction import extract_records
from kg.extract.pipeline import build_pipeline
from kg.graph.relations import RELATION_TYPES, Span, find_relations
from kg.records import Paper

TYPES = {"Method": "METHOD", "Task": "TASK", "Metric": "METRIC", "Material": "DATASET"}


def gold_relations(doc: dict) -> set[tuple[int, int, int, int, str]]:
    ents = doc["entities"]
    out = set()
    for r in doc["relations"]:
        h, t = ents[r["head"]], ents[r["tail"]]
        if h["label"] not in TYPES or t["label"] not in TYPES:
            continue
        lab = r["label"]
        if lab == "USED-FOR":
            out.add(_key(h, t, "USED_FOR"))
        elif lab == "EVALUATE-FOR" and h["label"] == "Metric":
            out.add(_key(t, h, "MEASURED_BY"))
        elif lab == "EVALUATE-FOR" and h["label"] == "Material":
            out.add(_key(t, h, "EVALUATED_ON"))
        elif lab == "COMPARE":
            out.add(_key(h, t, "COMPARED_WITH"))
        elif lab == "PART-OF":
            out.add(_key(h, t, "PART_OF"))
    return out


def _key(h: dict, t: dict, typ: str) -> tuple[int, int, int, int, str]:
    a, b = (h["start"], h["end"]), (t["start"], t["end"])
    if typ == "COMPARED_WITH" and b < a:
        a, b = b, a
    return (*a, *b, typ)


def predicted(text: str, spans: list[Span], sentences: list[tuple[int, int]]) -> set[tuple[int, int, int, int, str]]:
    out = set()
    for r in find_relations(text, spans, sentences):
        h, t = spans[r.head], spans[r.tail]
        out.add(_key({"start": h.start, "end": h.end}, {"start": t.start, "end": t.end}, r.type))
    return out


def score(pairs: list[tuple[set, set]]) -> dict[str, dict[str, float]]:
    tp: Counter[str] = Counter()
    npred: Counter[str] = Counter()
    ngold: Counter[str] = Counter()
    for gold, pred in pairs:
        for typ in RELATION_TYPES:
            g = {x for x in gold if x[4] == typ}
            p = {x for x in pred if x[4] == typ}
            tp[typ] += len(g & p)
            npred[typ] += len(p)
            ngold[typ] += len(g)
    rows = {t: PRF(tp[t], npred[t], ngold[t]) for t in RELATION_TYPES}
    rows["micro"] = PRF(sum(tp.values()), sum(npred.values()), sum(ngold.values()))
    return {
        k: {"p": round(v.p, 3), "r": round(v.r, 3), "f1": round(v.f1, 3), "gold": v.gold, "predicted": v.predicted}
        for k, v in rows.items()
    }


def main() -> int:
    nlp = build_pipeline()
    results = {}
    for split in ("dev", "test"):
        docs = load_jsonl(SHARED / "gold" / "scierc" / f"{split}.jsonl")
        papers = [Paper(id=d["id"], title="", abstract="", raw_text=d["text"]) for d in docs]
        preds = extract_records(papers, nlp=nlp)
        gold_setting, e2e = [], []
        for d, p in zip(docs, preds, strict=True):
            sents = [tuple(s) for s in d["sentences"]]
            gold = gold_relations(d)
            gspans = [Span(e["start"], e["end"], TYPES[e["label"]]) for e in d["entities"] if e["label"] in TYPES]
            gold_setting.append((gold, predicted(d["text"], gspans, sents)))
            pspans = [Span(m["start"], m["end"], m["label"]) for m in p["mentions"]]
            e2e.append((gold, predicted(d["text"], pspans, sents)))
        results[split] = {"gold_entities": score(gold_setting), "end_to_end": score(e2e)}
        for setting, rows in results[split].items():
            m = rows["micro"]
            print(
                f"scierc-{split} {setting:14s} P={m['p']:.3f} R={m['r']:.3f} F1={m['f1']:.3f} (gold {m['gold']})",
                flush=True,
            )
    save("relations", {"machine": machine(), "command": "python -m benchmarks.bench_relations", "results": results})
    print(json.dumps(results["dev"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
