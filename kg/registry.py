"""Extension points as registries, pluggable through entry points (as rdflib and spaCy do).

Each registry maps a name to an object: a reader (``kg.readers``), a writer (``kg.writers``), a
folder of named queries (``kg.queries``) or an extractor preset (``kg.extractors``). kg registers
its own with :meth:`Registry.register`; another package adds its own by declaring an entry point
in the group, e.g. in its ``pyproject.toml``::

    [project.entry-points."kg.readers"]
    bibtex = "kg_bibtex:reader"        # a kg.corpus.readers.Reader

Entry points are read once, the first time a registry is asked for a name it has not got (or
for its names), so importing kg stays cheap. Help texts and error messages list
:meth:`Registry.names`, so a plugged-in name shows up in ``kg build --help`` and in errors.

>>> colours = Registry("colour", "kg.test-colours")
>>> colours.register("red", "#f00")
'#f00'
>>> colours["red"], "blue" in colours, colours.names()
('#f00', False, ['red'])
>>> colours["blue"]
Traceback (most recent call last):
...
kg.errors.UnknownNameError: unknown colour 'blue'; use one of: red
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

from kg.errors import KGError, UnknownNameError

__all__ = ["Registry", "entry_point_objects"]

T = TypeVar("T")


def entry_point_objects(group: str) -> Iterator[tuple[str, object]]:
    """(name, loaded object) of each entry point installed in ``group``."""
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        yield ep.name, ep.load()


class Registry(Generic[T]):
    """Named objects of one kind, in registration order; plug-ins come from the entry-point ``group``."""

    def __init__(
        self,
        kind: str,
        group: str,
        check: Callable[[object], bool] | None = None,
        error: type[KGError] = UnknownNameError,
    ) -> None:
        self.kind = kind  # what a name names, for messages: "input format"
        self.group = group
        self._error = error
        self._check = check
        self._items: dict[str, T] = {}
        self._plugins_loaded = False

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...
    @overload
    def register(self, name: str, obj: T) -> T: ...

    def register(self, name: str, obj: T | None = None) -> T | Callable[[T], T]:
        """Register ``obj`` as ``name`` (a later registration of a name replaces the earlier);
        without ``obj``, a decorator."""
        if obj is None:
            return lambda o: self.register(name, o)
        if self._check is not None and not self._check(obj):
            raise TypeError(f"{self.kind} {name!r}: {obj!r} is not one")
        self._items[name] = obj
        return obj

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for name, obj in entry_point_objects(self.group):
            if name not in self._items:  # kg's own names are not replaced by a plug-in
                self.register(name, obj)  # type: ignore[arg-type]

    def names(self) -> list[str]:
        """Every name, kg's own first (in registration order), then plug-ins'."""
        self._load_plugins()
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        if name not in self._items:
            self._load_plugins()
        return name in self._items

    def __getitem__(self, name: str) -> T:
        if name not in self:
            raise self._error(f"unknown {self.kind} {name!r}; use one of: {', '.join(self.names())}")
        return self._items[name]

    def items(self) -> list[tuple[str, T]]:
        self._load_plugins()
        return list(self._items.items())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
