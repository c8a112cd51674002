"""What the tests compare between two builds (imported as ``tests.outputs``; pytest collects no test here)."""

from __future__ import annotations

#: the outputs of `kg build` that come out byte-identical however the same input was built: incrementally,
#: on a Dask cluster, or rerun after a killed build
COMPARED = (
    "kg.nt",
    "kg.ttl",
    "kg.jsonld",
    "papers.jsonl",
    "mentions.jsonl",
    "relations.jsonl",
    "concepts.csv",
    "graph.graphml",
    "overview.json",
)
