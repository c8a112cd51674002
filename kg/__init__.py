"""kg: a knowledge-graph builder for scientific literature.

Stages (each a plain importable function):

- :mod:`kg.corpus` — files → :class:`~kg.records.Paper` records
- :mod:`kg.extract` — papers → :class:`~kg.records.Mention` records (a spaCy pipeline)
- :mod:`kg.normalise` — mentions → :class:`~kg.records.Concept` records
- :mod:`kg.graph` — records → ``networkx.MultiDiGraph``
- :mod:`kg.rdf` — records → RDF under ``ontology/kg.ttl``
- :mod:`kg.store` — RDF → an on-disk Oxigraph store, SPARQL
- :mod:`kg.views` — graph → self-contained HTML

Importing :mod:`kg` is cheap: heavy dependencies load where they are used.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
