"""The queries kg's own modules run live in kg/queries/lib/*.rq: each parses, each is used, and
the explorer's data module holds no SPARQL of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.namespace import PREFIXES
from kg.queries import _SLOT, lib_query, lib_query_names

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("name", lib_query_names())
def test_lib_query_parses(name):
    text = (ROOT / "kg" / "queries" / "lib" / f"{name}.rq").read_text(encoding="utf-8")
    slots = {m.group(1): 3 for m in _SLOT.finditer(text)}
    res = ox.Store().query(lib_query(name, **slots), prefixes=PREFIXES)
    assert isinstance(res, ox.QuerySolutions)


def test_every_lib_query_is_used():
    code = "\n".join(p.read_text(encoding="utf-8") for p in ROOT.glob("kg/**/*.py"))
    unused = [n for n in lib_query_names() if f'"{n}"' not in code]
    assert not unused


def test_slots_take_integers_only():
    assert "LIMIT 7" in lib_query("topic-papers", limit=7)
    with pytest.raises(ValueError):
        lib_query("topic-papers", limit="7 } UNION { ?s ?p ?o")  # type: ignore[arg-type]


def test_no_inline_sparql_in_the_explorer():
    for path in ("kg/web/data.py", "kg/web/app.py"):
        text = (ROOT / path).read_text(encoding="utf-8")
        assert not re.search(r"\bSELECT\s+[?(*]", text), path
