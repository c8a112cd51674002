"""`kg build --scheduler`: extraction and counting as Dask tasks on a real LocalCluster (2 worker processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.outputs import COMPARED

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
    ) as c:
        yield c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from kg.corpus import read_corpus, sample_corpus_files

    papers, _ = read_corpus(sample_corpus_files())
    p = tmp_path_factory.mktemp("dask") / "corpus.jsonl"
    p.write_text(
        "".join(
            json.dumps({"id": x.id, "title": x.title, "abstract": x.abstract, "date": x.date}) + "\n"
            for x in papers[:150]
        ),
        encoding="utf-8",
    )
    return p


@pytest.mark.slow
def test_dask_build_is_byte_identical_to_the_local_build(tmp_path, cluster, corpus):
    from kg.build import build

    local = tmp_path / "local"
    build([corpus], local)
    dist = tmp_path / "dask"
    r = build([corpus], dist, scheduler=cluster.scheduler_address)
    assert r.cached_papers == 0 and r.read.papers == 150
    for name in COMPARED:
        assert (dist / name).read_bytes() == (local / name).read_bytes(), name
    # both workers extracted (partitions of 64 papers: 3 tasks)
    from kg.build.dask import client_for

    logs = client_for(cluster.scheduler_address).run(
        lambda: __import__("importlib").import_module("kg.build.dask")._pipelines.keys()
    )
    assert len([w for w, keys in logs.items() if keys]) == 2


def test_dask_counting_matches_local(cluster):
    import random

    from kg.build.dask import cooccurrences_on_cluster, similarities_on_cluster
    from kg.graph import cooccurrences, paper_similarities

    rng = random.Random(5)
    names = [f"c{i:04d}" for i in range(800)]
    weights = [1 / (r + 1) for r in range(800)]
    pc = {f"p{i:04d}": set(rng.choices(names, weights, k=rng.randint(0, 20))) for i in range(400)}
    addr = cluster.scheduler_address
    assert similarities_on_cluster(pc, len(pc), addr) == paper_similarities(pc, len(pc))
    assert cooccurrences_on_cluster(pc, len(pc), addr) == cooccurrences(pc, len(pc))


def test_dask_unreachable_scheduler_is_one_line(tmp_path, data_dir):
    from kg.build import build
    from kg.errors import KGError

    with pytest.raises(KGError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:1"):
        build([data_dir / "mini.jsonl"], tmp_path / "out", scheduler="tcp://127.0.0.1:1")
