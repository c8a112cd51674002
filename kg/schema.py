"""The schema of kg: entity types, roles and relation types, with their IRIs, colours and labels.

The single source of truth for what kinds of things kg extracts and links. Every module, template
and script that needs a type name, its ontology class, its role property, its colour or its label
reads it from here (``tests/test_schema.py`` checks this module against ``ontology/kg.ttl`` and
that no other module keeps a copy). Adding an entity type is one :class:`EntityType` entry in
:data:`ENTITY_TYPES` (plus the class and role property in the ontology, and retraining).

The module is plain Python (no rdflib, no spaCy) so that the lowest layer can import it.

>>> LABELS
('METHOD', 'TASK', 'DATASET', 'METRIC')
>>> TYPE_OF_IRI["https://w3id.org/kg-lit/ontology#Dataset"]
'DATASET'
>>> entity_type("task").role_iri
'https://w3id.org/kg-lit/ontology#addresses'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ONTOLOGY",
    "DATA",
    "EntityType",
    "RelationType",
    "ENTITY_TYPES",
    "LABELS",
    "TYPE_OF_IRI",
    "COLOURS",
    "PAPER_COLOUR",
    "OTHER_COLOUR",
    "PROPOSED",
    "USED",
    "ROLES",
    "PROPOSES",
    "MENTIONS",
    "RELATION_TYPES",
    "RELATION_NAMES",
    "entity_type",
    "relation_type",
    "type_css",
]

#: the ontology's namespace (classes and properties are ``ONTOLOGY + local name``)
ONTOLOGY = "https://w3id.org/kg-lit/ontology#"
#: where kg mints IRIs for papers, concepts, mentions, ...
DATA = "https://w3id.org/kg-lit/id/"


@dataclass(frozen=True)
class EntityType:
    """One kind of concept kg extracts."""

    name: str  # the label in records, spaCy entities and URLs: "METHOD"
    local: str  # the ontology class's local name: "Method"
    role: str  # the local name of the paper -> concept property when the paper does not propose it
    colour: str  # its colour in graphs, figures and legends
    tint: str  # the light background of its highlighted mentions
    singular: str  # "method"
    plural: str  # "methods"

    @property
    def iri(self) -> str:
        """The ontology class: ``https://w3id.org/kg-lit/ontology#Method``."""
        return ONTOLOGY + self.local

    @property
    def role_iri(self) -> str:
        """The role property a paper -> concept link gets when the paper does not propose it."""
        return ONTOLOGY + self.role


#: The entity types, in display order.
ENTITY_TYPES: tuple[EntityType, ...] = (
    EntityType("METHOD", "Method", "uses", "#4e79a7", "#c9d9ef", "method", "methods"),
    EntityType("TASK", "Task", "addresses", "#f28e2b", "#fbd7b0", "task", "tasks"),
    EntityType("DATASET", "Dataset", "evaluatesOn", "#59a14f", "#c8e3c3", "dataset", "datasets"),
    EntityType("METRIC", "Metric", "reports", "#b07aa1", "#e3cde0", "metric", "metrics"),
)

#: The entity type names, in display order.
LABELS: tuple[str, ...] = tuple(t.name for t in ENTITY_TYPES)
#: ontology class IRI -> entity type name
TYPE_OF_IRI: dict[str, str] = {t.iri: t.name for t in ENTITY_TYPES}
#: entity type name -> colour
COLOURS: dict[str, str] = {t.name: t.colour for t in ENTITY_TYPES}
#: papers' colour in graphs
PAPER_COLOUR = "#9c9c9c"
#: the colour of anything without a type
OTHER_COLOUR = "#777777"

#: a mention's role: the paper introduces the concept, or uses it
PROPOSED = "proposed"
USED = "used"
ROLES: tuple[str, ...] = (PROPOSED, USED)
#: the paper -> concept property of a proposed concept, and the one every role property refines
PROPOSES = ONTOLOGY + "proposes"
MENTIONS = ONTOLOGY + "mentions"


@dataclass(frozen=True)
class RelationType:
    """One typed relation between two concepts found in a sentence."""

    name: str  # "USED_FOR", as in relations.jsonl and the relation patterns
    local: str  # the ontology property's local name: "usedFor"
    label: str  # "used for"
    symmetric: bool = False

    @property
    def iri(self) -> str:
        return ONTOLOGY + self.local


#: The relation types.
RELATION_TYPES: tuple[RelationType, ...] = (
    RelationType("USED_FOR", "usedFor", "used for"),
    RelationType("EVALUATED_ON", "evaluatedOn", "evaluated on"),
    RelationType("MEASURED_BY", "measuredBy", "measured by"),
    RelationType("COMPARED_WITH", "comparedWith", "compared with", symmetric=True),
    RelationType("PART_OF", "partOf", "part of"),
)
#: The relation type names.
RELATION_NAMES: tuple[str, ...] = tuple(r.name for r in RELATION_TYPES)

_BY_NAME = {t.name: t for t in ENTITY_TYPES}
_BY_ANY = {k: t for t in ENTITY_TYPES for k in (t.name.lower(), t.local.lower(), t.singular, t.plural, t.iri.lower())}


def entity_type(name: str) -> EntityType:
    """The entity type called ``name``: its type name, class name, IRI, singular or plural, any case.

    >>> entity_type("Metric").name, entity_type("datasets").local
    ('METRIC', 'Dataset')
    >>> entity_type("paper")
    Traceback (most recent call last):
    ...
    KeyError: "unknown entity type 'paper' (one of METHOD, TASK, DATASET, METRIC)"
    """
    t = _BY_NAME.get(name) or _BY_ANY.get(name.strip().lower())
    if t is None:
        raise KeyError(f"unknown entity type {name!r} (one of {', '.join(LABELS)})")
    return t


def relation_type(name: str) -> RelationType:
    """The relation type by its name (``USED_FOR``) or property local name (``usedFor``).

    >>> relation_type("partOf").label
    'part of'
    """
    for r in RELATION_TYPES:
        if name in (r.name, r.local, r.iri):
            return r
    raise KeyError(f"unknown relation type {name!r} (one of {', '.join(RELATION_NAMES)})")


def type_css() -> str:
    """The entity types' styles, generated here so that no stylesheet or script keeps a copy: each
    type's colour as a custom property (``--kg-METHOD``, read by the explorer's scripts and the
    offline overview), a highlighted mention's tint (``.t-METHOD``) and a legend dot (``.dot.t-METHOD``).

    >>> type_css().splitlines()[0]
    ':root { --kg-METHOD: #4e79a7; --kg-TASK: #f28e2b; --kg-DATASET: #59a14f; --kg-METRIC: #b07aa1; --kg-OTHER: #777777; }'
    """
    props = " ".join(f"--kg-{t.name}: {t.colour};" for t in ENTITY_TYPES)
    rules = [
        f".t-{t.name} {{ background: {t.tint}; }} .dot.t-{t.name} {{ background: {t.colour}; }}" for t in ENTITY_TYPES
    ]
    return "\n".join([f":root {{ {props} --kg-OTHER: {OTHER_COLOUR}; }}", *rules]) + "\n"
