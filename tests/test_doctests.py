"""The examples in kg's docstrings run: every module of kg/ is imported and its doctests executed
(a module whose optional dependency is missing, such as PyTorch for the accurate recogniser, is
skipped)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

KG = Path(__file__).parent.parent / "kg"
MODULES = sorted(
    ".".join(p.relative_to(KG.parent).with_suffix("").parts).removesuffix(".__init__") for p in KG.rglob("*.py")
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    try:
        module = importlib.import_module(name)
    except ImportError as err:  # an optional extra (kg[accurate]) not installed
        pytest.skip(f"{name}: {err}")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples]
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest examples of {name} failed (output above)"


def test_doctests_are_found():
    """The collector sees the docstring examples (so a silent zero would fail here)."""
    from kg import schema

    assert sum(len(t.examples) for t in doctest.DocTestFinder().find(schema)) >= 5
