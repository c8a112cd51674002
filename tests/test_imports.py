"""Imports follow the data: a module of kg imports only from its own layer or the layers before it.

The layers, first to last (CONTRIBUTING.md, "Architecture map"):

    base -> corpus -> extract -> normalise -> graph -> export/store -> build -> query -> app

Every import counts, at the top of a module or inside a function, and ``if TYPE_CHECKING:`` too.
A module is in the layer of the longest prefix of its name listed in :data:`LAYERS`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
KG = ROOT / "kg"

#: layer -> the modules (and packages) in it, first layer first
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # records, schema, errors and I/O helpers: what every stage shares
    ("base", ("kg.errors", "kg.schema", "kg.records", "kg.io", "kg.namespace", "kg.registry")),
    ("corpus", ("kg.corpus",)),
    ("extract", ("kg.extract",)),
    # mentions -> concepts (kg.normalise), then what is decided and derived from concepts alone:
    # the concept decision, corrections, the hierarchy
    ("normalise", ("kg.normalise",)),
    # relations, similarity, co-occurrence, topics, the networkx graph and its views
    ("graph", ("kg.graph",)),
    ("export", ("kg.export", "kg.store", "kg.queries")),
    # the pipelines that run the stages in order: `kg build` (local or Dask, with its cache), `kg extract`,
    # `kg eval`; kg.build.extraction is `kg extract`'s pipeline (extract, normalise, decide)
    ("build", ("kg.build",)),
    # reading a built graph: the Python API
    ("query", ("kg.api",)),
    ("app", ("kg", "kg.cli", "kg.web")),
]
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}


def layer_of(module: str) -> str:
    """The layer of a module: the one listing the longest prefix of its dotted name.

    >>> layer_of("kg.extract.rules"), layer_of("kg.build.extraction"), layer_of("kg.web.data"), layer_of("kg")
    ('extract', 'build', 'app', 'app')
    """
    best, found = -1, ""
    for name, prefixes in LAYERS:
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, found = len(p), name
    if not found:
        raise KeyError(f"{module} is in no layer: add it to LAYERS in tests/test_imports.py")
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def kg_imports(path: Path) -> set[tuple[str, int]]:
    """The kg modules that ``path`` imports, with the line: ``from kg import schema`` is kg.schema,
    a relative import is resolved against the module's package."""
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {(a.name, node.lineno) for a in node.names if a.name == "kg" or a.name.startswith("kg.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target != "kg" and not target.startswith("kg."):
                continue
            subs = [f"{target}.{a.name}" for a in node.names if _is_module(f"{target}.{a.name}")]
            out |= {(s, node.lineno) for s in subs} if subs else {(target, node.lineno)}
    return out


def test_every_module_has_a_layer():
    for path in KG.rglob("*.py"):
        layer_of(module_name(path))


def violations(paths: list[Path]) -> list[str]:
    """Each import in ``paths`` of a module of a later layer, as ``file:line: what``."""
    wrong = []
    for path in sorted(paths):
        mod = module_name(path)
        for target, line in sorted(kg_imports(path)):
            if target != mod and RANK[layer_of(target)] > RANK[layer_of(mod)]:
                rel = path.relative_to(ROOT)
                wrong.append(f"{rel}:{line}: {mod} ({layer_of(mod)}) imports {target} ({layer_of(target)})")
    return wrong


def test_imports_only_go_downstream():
    wrong = violations(list(KG.rglob("*.py")))
    assert not wrong, "imports against the data flow:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from kg.web import data\n", {"kg.web.data"}),
        ("from kg import schema, api\n", {"kg.schema", "kg.api"}),
        ("from kg.records import Paper\n", {"kg.records"}),
        ("def f():\n    import kg.build\n", {"kg.build"}),
        ("from . import components\n", {"kg.extract.components"}),
        ("from .rules import x\n", {"kg.extract.rules"}),
    ],
)
def test_import_reader(tmp_path, source, expected, monkeypatch):
    path = KG / "extract" / "_probe_imports.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    assert {t for t, _ in kg_imports(path)} == expected


def test_an_upstream_import_is_caught(monkeypatch):
    """The rule can fail: normalisation reading the store, or the extractor calling normalisation."""
    texts = {
        KG / "normalise.py": "def f():\n    from kg.store import open_store\n",
        KG / "extract" / "rules.py": "from kg.normalise import concept_key\n",
        KG / "graph.py": "from kg.records import Paper\n",
    }
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: texts[self])
    assert violations(list(texts)) == [
        "kg/extract/rules.py:1: kg.extract.rules (extract) imports kg.normalise (normalise)",
        "kg/normalise.py:2: kg.normalise (normalise) imports kg.store (export)",
    ]
