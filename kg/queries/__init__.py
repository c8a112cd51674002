"""SPARQL as files: the named queries (``*.rq`` here, listed by ``kg query --list``) and the
queries kg's own modules run (``lib/*.rq``: the explorer's pages, neighbourhoods).

A ``lib`` query is read once and run with bound parameters like any other; where SPARQL cannot
bind a value (``LIMIT``, a ``HAVING`` threshold) the text holds ``{{name}}``, which
:func:`lib_query` fills with an integer, never with text.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

__all__ = ["lib_query", "lib_query_names"]

_SLOT = re.compile(r"\{\{(\w+)\}\}")


@cache
def _lib_text(name: str) -> str:
    return (resources.files("kg.queries") / "lib" / f"{name}.rq").read_text(encoding="utf-8")


def lib_query(name: str, **ints: int) -> str:
    """The text of ``lib/NAME.rq``, its ``{{slot}}`` places filled with the integers given.

    >>> print(lib_query("concept-label"))
    SELECT ?c ?l WHERE { ?c skos:prefLabel ?l } LIMIT 1
    <BLANKLINE>
    >>> lib_query("concept-neighbours", min_papers=2, limit=5).count("{{")
    0
    >>> lib_query("concept-neighbours", limit=5)
    Traceback (most recent call last):
    ...
    KeyError: "concept-neighbours.rq needs {{min_papers}}"
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
