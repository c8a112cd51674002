"""kg: a knowledge-graph builder for scientific literature.

The Python API (:mod:`kg.api`)::

    import kg

    g = kg.build(["papers.jsonl"], "out")   # -> KnowledgeGraph; kg.open("out") for a finished build
    g.query(name="top-concepts", type="Dataset")
    kg.extract(["We fine-tune BERT on SQuAD."])

Stages (each a plain importable function):

- :mod:`kg.corpus` — files → :class:`~kg.records.Paper` records
- :mod:`kg.extract` — papers → :class:`~kg.records.Mention` records (a spaCy pipeline)
- :mod:`kg.normalise` — mentions → :class:`~kg.records.Concept` records
- :mod:`kg.graph` — records → ``networkx.MultiDiGraph``
- :mod:`kg.export.rdf` — records → RDF under ``ontology/kg.ttl``
- :mod:`kg.store` — RDF → an on-disk Oxigraph store, SPARQL
- :mod:`kg.graph.views` — graph → self-contained HTML

Importing :mod:`kg` is cheap: heavy dependencies load where they are used.

``kg.build`` and ``kg.extract`` are the API's functions, although ``kg/build/`` and
``kg/extract/`` are packages of the same names: ``from kg.build import build`` and
``import kg.extract.pipeline`` keep working, and the package attribute stays the function (see
:class:`_Package`). ``import kg.build as m`` gives the function too, whose attributes reach the
module's (``m.BuildReport``).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg import api as _api
from kg.api import ConceptRecord, KnowledgeGraph, named_queries
from kg.api import open as open  # noqa: A004 (kg.open; a module attribute, not the builtin)

__version__ = "0.1.0"

__all__ = ["__version__", "KnowledgeGraph", "ConceptRecord", "build", "extract", "named_queries", "serve"]
# kg.open is left out of __all__: `from kg import *` must not shadow the builtin open


class _ApiFunction:
    """An API function that shares its name with a submodule (``kg.build``, ``kg.extract``).

    Calling it calls the function; any other attribute is the submodule's, so code that reaches
    the module through the package attribute (``import kg.build as m; m.BuildReport``,
    ``monkeypatch.setattr("kg.build.X", ...)``) keeps working.
    """

    def __init__(self, func: Any, module: str) -> None:
        object.__setattr__(self, "_func", func)
        object.__setattr__(self, "_module", module)
        for name in ("__doc__", "__name__", "__qualname__", "__annotations__"):
            object.__setattr__(self, name, getattr(func, name))
        object.__setattr__(self, "__wrapped__", func)
        object.__setattr__(self, "__module__", "kg")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._func(*args, **kwargs)

    def __get__(self, obj: object, objtype: type | None = None) -> _ApiFunction:
        # a (non-data) descriptor, as functions are: inspect.isroutine() is true, so help(kg.build)
        # and pydoc document the function (its signature and docstring), not this class
        return self

    def _mod(self) -> types.ModuleType:
        import importlib

        return importlib.import_module(self._module)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # introspection (copy, pickle, inspect) asks about the function
            raise AttributeError(name)
        return getattr(self._mod(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._mod(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._mod(), name)

    def __repr__(self) -> str:
        return f"<function kg.{self._func.__name__} (module {self._module} behind it)>"


_SHADOWED = {"build", "extract"}


class _Package(types.ModuleType):
    """The ``kg`` package: importing ``kg.build`` or ``kg.extract`` binds the submodule as an
    attribute of its parent package; here that binding is skipped, so ``kg.build`` stays the API
    function whatever is imported, in any order (the module is ``sys.modules["kg.build"]``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


def serve(folder: str | Path = "outputs", **options: Any) -> None:
    """Serve a build (its output folder or its ``store/``) over HTTP until interrupted: the
    read-only SPARQL endpoint at ``/sparql`` and the explorer at ``/``, as ``kg serve`` does.
    The options are :func:`kg.web.serve.serve_folder`'s (``host``, ``port``, ``timeout``, ...)."""
    from kg.web.serve import serve_folder

    serve_folder(folder, **options)


if TYPE_CHECKING:
    from kg.api import build, extract
else:
    build = _ApiFunction(_api.build, "kg.build")
    extract = _ApiFunction(_api.extract, "kg.extract")

sys.modules[__name__].__class__ = _Package
