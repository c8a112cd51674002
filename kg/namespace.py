"""Closed namespaces: ``KG`` mirrors ``ontology/kg.ttl`` (a test keeps them equal).

An unknown term raises ``AttributeError`` instead of minting a new IRI.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

from kg import schema

__all__ = ["KG", "DATA", "ONTOLOGY_IRI", "PREFIXES"]

ONTOLOGY_IRI = schema.ONTOLOGY.rstrip("#")


class KG(DefinedNamespace):
    """Terms of the kg ontology."""

    _NS = Namespace(ONTOLOGY_IRI + "#")
    _fail = True

    # classes
    Method: URIRef
    Task: URIRef
    Dataset: URIRef
    Metric: URIRef
    Mention: URIRef
    Sentence: URIRef
    Extractor: URIRef
    PaperSimilarity: URIRef
    # paper -> concept
    mentions: URIRef
    proposes: URIRef
    uses: URIRef
    addresses: URIRef
    evaluatesOn: URIRef
    reports: URIRef
    # statistics and metadata
    paperCount: URIRef
    mentionCount: URIRef
    ambiguous: URIRef
    authorCount: URIRef
    # evidence
    inPaper: URIRef
    inSentence: URIRef
    denotes: URIRef
    startOffset: URIRef
    endOffset: URIRef
    surfaceForm: URIRef
    entityType: URIRef
    role: URIRef
    confidence: URIRef
    sentenceIndex: URIRef
    # relations between concepts
    RelationMention: URIRef
    usedFor: URIRef
    evaluatedOn: URIRef
    measuredBy: URIRef
    comparedWith: URIRef
    partOf: URIRef
    cue: URIRef
    # similarity
    similarTo: URIRef
    paper: URIRef
    sharedConcept: URIRef
    score: URIRef
    # materialised aggregates (what the ranking queries read)
    ConceptYear: URIRef
    Cooccurrence: URIRef
    concept: URIRef
    year: URIRef
    papersInYear: URIRef
    sharedPaperCount: URIRef
    strength: URIRef
    topOfType: URIRef
    topOfYear: URIRef
    RecentWindow: URIRef
    firstMonth: URIRef
    lastMonth: URIRef
    recentPaperCount: URIRef
    datedPaperCount: URIRef
    risingRank: URIRef
    # broader and narrower concepts (skos:broader with its evidence)
    BroaderLink: URIRef
    narrowerConcept: URIRef
    broaderConcept: URIRef
    rule: URIRef
    evidence: URIRef
    support: URIRef


#: Where kg mints IRIs for papers, concepts, mentions, ...
DATA = Namespace(schema.DATA)

PREFIXES: dict[str, str] = {
    "kg": str(KG._NS),
    "kgd": str(DATA),
    "schema": "https://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
