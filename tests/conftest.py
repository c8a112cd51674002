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


# ----------------------------------------------------------------------------- the slow tier

SLOW_ENV = "KG_SLOW"


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help=f"also run the slow tier (or set {SLOW_ENV}=1; CI does)")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` (whole sample builds) run with ``--slow``, ``KG_SLOW=1`` (``make test``
    and CI set it) or when ``-m`` names them; a plain ``pytest`` skips them."""
    import os

    if config.getoption("--slow") or os.environ.get(SLOW_ENV, "") not in ("", "0") or "slow" in config.option.markexpr:
        return
    skip = pytest.mark.skip(reason=f"slow tier: run with --slow, -m slow or {SLOW_ENV}=1 (make test and CI do)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
