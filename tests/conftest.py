"""Shared fixtures: small data under tests/data, one pipeline and one small build per session."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def nlp():
    from kg.extract import build_pipeline

    return build_pipeline()


@pytest.fixture(scope="session")
def mini_build(tmp_path_factory) -> Path:
    """`kg build` over tests/data/mini.jsonl, built once per session."""
    from kg.build import build

    out = tmp_path_factory.mktemp("mini") / "out"
    build([DATA / "mini.jsonl"], out)
    return out


@pytest.fixture(scope="session")
def mini_store(mini_build):
    from kg.store import open_store

    return open_store(mini_build / "store")
