"""The accurate mode's confidence floors: mean F1 over the five dev sets for each setting.

The transformer's entities under ``--floors`` (each value in turn) are dropped unless the CNN found
the same span with the same label; ``--no-agreement`` runs the transformer alone at each floor
instead (the session-7 accurate mode). Rules included, as ``kg extract --model accurate``.

    python -m benchmarks.grid_accurate [--floors 0.6,0.7,0.8,0.85,0.9,1.01] [--no-agreement]

Prints one row per floor (the table in BENCHMARKS.md, "The accurate mode checked by the CNN") and
saves benchmarks/results/grid_accurate.json.
"""

from __future__ import annotations

import argparse

from benchmarks._common import machine, save
from benchmarks.bench_quality import run
from kg.extract.pipeline import build_pipeline

DEV_SETS = ("scierc-dev", "scier-dev", "scirex-heldout", "tdmsci-heldout", "seed-dev")
SETS = (*DEV_SETS, "seed-arxiv")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--floors", default="0.6,0.7,0.8,0.85,0.9,1.01")
    ap.add_argument("--no-agreement", action="store_true", help="the transformer alone at each floor")
    args = ap.parse_args()
    nlp = build_pipeline("accurate", agreement=not args.no_agreement)
    component = nlp.get_pipe("kg_encoder")
    rows = []
    print("| floor | " + " | ".join(SETS) + " | mean of 5 dev |")
    print("|---|" + "---|" * (len(SETS) + 1))
    for floor in (float(f) for f in args.floors.split(",")):
        component.min_confidence = floor
        f1 = {s: run(s, nlp)["micro"]["f1"] for s in SETS}  # type: ignore[index]
        mean = sum(f1[s] for s in DEV_SETS) / len(DEV_SETS)
        rows.append({"floor": floor, "f1": f1, "mean_dev": round(mean, 4)})
        print(f"| {floor} | " + " | ".join(f"{f1[s]:.3f}" for s in SETS) + f" | {mean:.3f} |", flush=True)
    save(
        "grid_accurate",
        {
            "machine": machine(),
            "agreement": not args.no_agreement,
            "command": "python -m benchmarks.grid_accurate",
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
