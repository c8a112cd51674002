"""The queries kg's own modules run live in kg/queries/lib/*.rq: each parses, each is used, and
the explorer's data module holds no SPARQL of its own."""

from __future__ import annotations

import ast
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
    assert isinstance(res, ox.QuerySolutions | ox.QueryBoolean)


def test_every_lib_query_is_used():
    code = "\n".join(p.read_text(encoding="utf-8") for p in ROOT.glob("kg/**/*.py"))
    unused = [n for n in lib_query_names() if f'"{n}"' not in code]
    assert not unused


def test_slots_take_integers_only():
    assert "LIMIT 7" in lib_query("topic-papers", limit=7)
    with pytest.raises(ValueError):
        lib_query("topic-papers", limit="7 } UNION { ?s ?p ?o")  # type: ignore[arg-type]


_SPARQL = re.compile(r"\b(SELECT\s+(DISTINCT\s+)?[?$(*]|ASK\s*(WHERE\s*)?\{|CONSTRUCT\s*(WHERE\s*)?\{)")


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings (doctests may show SPARQL)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


def test_no_inline_sparql_in_kg():
    """Every query kg's modules run is a .rq file (named queries, or lib/ for kg's own)."""
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(ROOT.glob("kg/**/*.py"))
        for line, text in _code_strings(path)
        if _SPARQL.search(text)
    ]
    assert not found, found


def test_the_inline_sparql_check_sees_a_query(tmp_path):
    mod = tmp_path / "m.py"
    mod.write_text('"""SELECT ?doc WHERE {}"""\nQ = "SELECT ?x WHERE { ?x ?p ?o }"\nA = "ASK { ?s ?p ?o }"\n')
    assert [line for line, t in _code_strings(mod) if _SPARQL.search(t)] == [2, 3]
