"""Output formats as a registry: what :meth:`kg.api.KnowledgeGraph.write` (and ``kg export``) can write.

A :class:`Writer` names the file it writes in an output folder and how it writes it from a built
store; kg registers the RDF serialisations (``nt``, ``ttl``, ``jsonld``, ``xml``) and ``graphml``
(written by ``kg build`` only). A package adds a format through the entry-point group
``kg.writers``, e.g. ``csvw = "kg_csvw:writer"`` where ``writer = Writer("kg.csvw", write_csvw)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kg.errors import OutputError
from kg.registry import Registry

__all__ = ["Writer", "WRITERS", "rdf_writer", "store_formats"]

#: (store folder, destination file) -> None; writes aside and renames, streaming from the store
WriteFunction = Callable[[Path, Path], None]


@dataclass(frozen=True)
class Writer:
    """One output format: the file it writes into a folder, and how (``None``: only ``kg build``
    writes it, from what it holds in memory)."""

    file: str
    write: WriteFunction | None = None
    description: str = ""


def rdf_writer(fmt: str) -> WriteFunction:
    """A writer dumping the store's default graph in the Oxigraph format named ``fmt`` (``TURTLE``, ...)."""

    def write(store_dir: Path, path: Path) -> None:
        import pyoxigraph as ox

        from kg.store import dump_store

        dump_store(store_dir, path, getattr(ox.RdfFormat, fmt))

    return write


#: the output formats, by name (entry-point group ``kg.writers``)
WRITERS: Registry[Writer] = Registry(
    "output format", "kg.writers", check=lambda o: isinstance(o, Writer), error=OutputError
)
WRITERS.register("nt", Writer("kg.nt", rdf_writer("N_TRIPLES"), "N-Triples (the build's is sorted)"))
WRITERS.register("ttl", Writer("kg.ttl", rdf_writer("TURTLE"), "Turtle"))
WRITERS.register("jsonld", Writer("kg.jsonld", rdf_writer("JSON_LD"), "JSON-LD"))
WRITERS.register("xml", Writer("kg.rdf", rdf_writer("RDF_XML"), "RDF/XML"))
WRITERS.register("graphml", Writer("graph.graphml", None, "the networkx graph as GraphML (kg build only)"))


def store_formats() -> list[str]:
    """The formats written from a built store (``kg build --formats`` accepts these), plug-ins' too."""
    return [name for name, w in WRITERS.items() if w.write is not None]
