"""SPARQL as files: the named queries (``*.rq`` here, listed by ``kg query --list``) and the
queries kg's own modules run (``lib/*.rq``: the explorer's pages, neighbourhoods).

Named queries come from folders registered in :data:`QUERY_FOLDERS` (entry-point group
``kg.queries``: a package, or a folder path, whose ``*.rq`` files are named queries). kg's own
folder comes first; a plug-in's query with a name kg already has is left out. A named query that
lists the entity types writes a :data:`SCHEMA_SLOTS` name in its place (``{{entity_classes}}``),
filled from :mod:`kg.schema` when the file is read, so a new type needs no query edited.

A ``lib`` query is read once and run with bound parameters like any other; where SPARQL cannot
bind a value (``LIMIT``, a ``HAVING`` threshold) the text holds ``{{name}}``, which
:func:`lib_query` fills with an integer, never with text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import ModuleType

from kg.registry import Registry
from kg.schema import ENTITY_TYPES

__all__ = ["QUERY_FOLDERS", "SCHEMA_SLOTS", "fill_schema_slots", "query_files", "lib_query", "lib_query_names"]


def _is_folder(obj: object) -> bool:
    return isinstance(obj, ModuleType | str | Path) or (isinstance(obj, Traversable) and obj.is_dir())


#: folders of named queries (entry-point group ``kg.queries``): a package, a path or a Traversable
QUERY_FOLDERS: Registry[ModuleType | str | Path | Traversable] = Registry(
    "query folder", "kg.queries", check=_is_folder
)
QUERY_FOLDERS.register("kg", resources.files("kg.queries"))


def _folder(obj: ModuleType | str | Path | Traversable) -> Traversable:
    if isinstance(obj, ModuleType):
        return resources.files(obj)
    return Path(obj) if isinstance(obj, str) else obj


#: what a named query's ``{{slot}}`` becomes: the entity types, from kg.schema
SCHEMA_SLOTS: dict[str, str] = {
    "entity_classes": ", ".join(f"kg:{t.local}" for t in ENTITY_TYPES),
    "entity_class_names": ", ".join(t.local for t in ENTITY_TYPES),
    "entity_class_names_or": ", ".join(t.local for t in ENTITY_TYPES[:-1]) + " or " + ENTITY_TYPES[-1].local,
    "entity_class_values": " ".join(f'(kg:{t.local} "{t.singular}")' for t in ENTITY_TYPES),
    # each type's ranked concepts, its class written as a constant (Oxigraph plans from a constant class;
    # a class bound by VALUES makes it read every concept first: 2.9 s instead of 12 ms at 74,675 papers)
    # ?c's type as ?type ("Method"), each class a constant: a union Oxigraph plans from ?c, where
    # `?c a ?class . FILTER(?class IN (...))` after other joins made paper-proposes 5 s at 74,675 papers
    "concept_type_union": " UNION ".join(f'{{ ?c a kg:{t.local} . BIND("{t.local}" AS ?type) }}' for t in ENTITY_TYPES),
    "top_of_type_union": " UNION ".join(
        f'{{ ?c kg:topOfType true ; a kg:{t.local} . BIND("{t.singular}" AS ?typeName) }}' for t in ENTITY_TYPES
    ),
    # the same with ?type the class itself (the explorer's front page)
    "top_of_type_class_union": " UNION ".join(
        f"{{ ?c kg:topOfType true ; a kg:{t.local} . BIND(kg:{t.local} AS ?type) }}" for t in ENTITY_TYPES
    ),
}


def fill_schema_slots(text: str) -> str:
    """``text`` with each ``{{slot}}`` of :data:`SCHEMA_SLOTS` filled.

    >>> fill_schema_slots("FILTER(?class IN ({{entity_classes}}))")
    'FILTER(?class IN (kg:Method, kg:Task, kg:Dataset, kg:Metric))'
    """
    return _SLOT.sub(lambda m: SCHEMA_SLOTS.get(m.group(1), m.group(0)), text)


def query_files() -> Iterator[tuple[str, str]]:
    """(name, text) of every named query, folder by folder (kg's first), each folder in name order;
    a name seen in an earlier folder is skipped."""
    seen: set[str] = set()
    for _, obj in QUERY_FOLDERS.items():
        for f in sorted(_folder(obj).iterdir(), key=lambda x: x.name):
            if f.name.endswith(".rq") and f.name[:-3] not in seen:
                seen.add(f.name[:-3])
                yield f.name[:-3], fill_schema_slots(f.read_text(encoding="utf-8"))


_SLOT = re.compile(r"\{\{(\w+)\}\}")


@cache
def _lib_text(name: str) -> str:
    return fill_schema_slots((resources.files("kg.queries") / "lib" / f"{name}.rq").read_text(encoding="utf-8"))


def lib_query(name: str, **ints: int) -> str:
    """The text of ``lib/NAME.rq``: its schema slots filled (:data:`SCHEMA_SLOTS`), its other ``{{slot}}``
    places with the integers given.

    >>> print(lib_query("concept-label"))
    SELECT ?c ?l WHERE { ?c skos:prefLabel ?l } LIMIT 1
    <BLANKLINE>
    >>> lib_query("topic-papers", limit=5).count("{{")
    0
    >>> lib_query("topic-papers")
    Traceback (most recent call last):
    ...
    KeyError: 'topic-papers.rq needs {{limit}}'
    """
    text = _lib_text(name)

    def fill(m: re.Match[str]) -> str:
        if m.group(1) not in ints:
            raise KeyError(f"{name}.rq needs {{{{{m.group(1)}}}}}")
        return str(int(ints[m.group(1)]))

    return _SLOT.sub(fill, text)


def lib_query_names() -> list[str]:
    """The ``lib`` queries there are."""
    root = resources.files("kg.queries") / "lib"
    return sorted(f.name[:-3] for f in root.iterdir() if f.name.endswith(".rq"))
