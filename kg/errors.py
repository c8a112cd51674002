"""One exception hierarchy for the package.

Every message says what was wrong, where (file, line, record) and how to fix it;
the CLI prints it as one line and exits non-zero.
"""

from __future__ import annotations

__all__ = [
    "KGError",
    "InputError",
    "UnknownFormatError",
    "OutputError",
    "StoreError",
    "QueryError",
    "ConceptNotFound",
    "UnknownNameError",
]


class KGError(Exception):
    """Base class of every error kg raises on purpose."""


class InputError(KGError):
    """An input file or record cannot be read."""


class UnknownFormatError(InputError):
    """No reader handles the file's format."""


class OutputError(KGError):
    """An output location cannot be written safely."""


class StoreError(KGError):
    """The SPARQL store is missing or unreadable."""


class QueryError(KGError):
    """A SPARQL query is malformed, unknown or lacks a parameter."""


class UnknownNameError(KGError, LookupError):
    """A name no registry entry has (a reader, writer, query folder or extractor preset)."""


class ConceptNotFound(KGError):
    """A concept name matches no concept; carries the closest labels."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f" Did you mean: {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"no concept matches {name!r}.{hint}")
