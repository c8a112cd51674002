"""``kg build --scheduler ADDRESS``: the stages whose cost grows with the corpus, as Dask tasks.

- extraction: papers in partitions; each worker process loads the spaCy pipeline once (kept in
  this module for the worker's lifetime) and extracts partition after partition; results
  stream back partition by partition and go into the build's cache at once;
- similarity: the inverted index is broadcast to the workers, each task ranks a range of papers
  (:func:`kg.graph.similarity_rows`), the rows are merged in paper order;
- co-occurrence: partitioned by concept key, each task counts the pairs of a contiguous range of
  concepts (:func:`kg.graph.cooccurrence_rows`); the ranges are concatenated in key order.

Every task runs the same functions as the local build over the same inputs and the results are
put back in a fixed order, so the output is byte-identical to a local build. Needs
``pip install 'kg[dask]'`` on the client and on the workers (with kg itself).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from kg.errors import KGError
from kg.extract.pipeline import Extraction, build_pipeline, extract
from kg.graph import (
    Similarity,
    cooccurrence_inputs,
    cooccurrence_rows,
    merge_similarities,
    similarity_inputs,
    similarity_rows,
)
from kg.records import Paper

__all__ = ["client_for", "extract_on_cluster", "similarities_on_cluster", "cooccurrences_on_cluster"]

#: papers per extraction task: small enough to spread and to stream into the cache, large
#: enough that spaCy batches well and the task overhead is negligible
PARTITION_PAPERS = 64

_pipelines: dict[str, Any] = {}
_pipelines_lock = threading.Lock()
_clients: dict[str, Any] = {}


def client_for(address: str) -> Any:
    """A ``distributed.Client`` connected to the scheduler at ``address`` (one per address and process)."""
    if address in _clients:
        return _clients[address]
    try:
        from distributed import Client
    except ImportError as err:
        raise KGError("--scheduler needs Dask: pip install 'kg[dask]' (on the workers too)") from err
    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise KGError(
            f"cannot reach the Dask scheduler at {address} ({err}); check the address and that it runs"
        ) from err
    _clients[address] = client
    return client


def _worker_pipeline(model: str | None) -> Any:
    """The worker process's pipeline for ``model``, loaded on its first task."""
    key = str(model)
    with _pipelines_lock:
        if key not in _pipelines:
            _pipelines[key] = build_pipeline(model)
        return _pipelines[key]


def _extract_partition(papers: list[Paper], model: str | None) -> list[Extraction]:
    return list(extract(papers, _worker_pipeline(model)))


def extract_on_cluster(
    papers: Sequence[Paper],
    model: str | None,
    address: str,
    partition: int = PARTITION_PAPERS,
) -> Iterator[Extraction]:
    """Extractions of ``papers`` from the cluster, partition after partition as they finish in order."""
    client = client_for(address)
    parts = [list(papers[i : i + partition]) for i in range(0, len(papers), partition)]
    futures = client.map(_extract_partition, parts, model=model, pure=False)
    try:
        for fut in futures:
            yield from fut.result()
            fut.release()
    finally:
        for f in futures:
            f.cancel()


def _ranges(n: int, parts: int) -> list[tuple[int, int]]:
    step = max(1, -(-n // parts))
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]


def _n_partitions(client: Any, per_worker: int = 4) -> int:
    return max(1, per_worker * sum(client.nthreads().values()))


def similarities_on_cluster(
    paper_concepts: dict[str, set[str]],
    n_papers: int,
    address: str,
    top_k: int = 10,
) -> list[Similarity]:
    """:func:`kg.graph.paper_similarities`, each task ranking a range of papers."""
    client = client_for(address)
    ids, linking, index, idf = similarity_inputs(paper_concepts, n_papers)
    shared = client.scatter([linking, index, idf], broadcast=True, hash=False)
    ranges = _ranges(len(ids), _n_partitions(client))
    futures = [client.submit(_similarity_task, shared, lo, hi, top_k, pure=False) for lo, hi in ranges]
    rows = (row for fut in futures for row in fut.result())  # in paper order
    return merge_similarities(ids, rows)


def _similarity_task(shared: list[Any], lo: int, hi: int, top_k: int) -> list[tuple[int, int, float, tuple[str, ...]]]:
    linking, index, idf = shared
    return similarity_rows(linking, index, idf, lo, hi, top_k)


def cooccurrences_on_cluster(
    paper_concepts: dict[str, set[str]],
    n_papers: int,
    address: str,
    min_papers: int = 2,
) -> list[tuple[str, str, int, float]]:
    """:func:`kg.graph.cooccurrences`, partitioned by concept key (contiguous ranges of sorted keys)."""
    client = client_for(address)
    df, kept, index = cooccurrence_inputs(paper_concepts, min_papers)
    keys = sorted(index)
    shared = client.scatter([df, kept, index], broadcast=True, hash=False)
    ranges = _ranges(len(keys), _n_partitions(client))
    futures = [
        client.submit(_cooccurrence_task, shared, keys[lo:hi], n_papers, min_papers, pure=False) for lo, hi in ranges
    ]
    return [row for fut in futures for row in fut.result()]


def _cooccurrence_task(
    shared: list[Any], keys: list[str], n_papers: int, min_papers: int
) -> list[tuple[str, str, int, float]]:
    df, kept, index = shared
    return cooccurrence_rows(df, kept, index, keys, n_papers, min_papers)
