"""RDF stage: records → an rdflib ``Graph`` under the kg ontology, and its serialisations.

Every node has an IRI (no blank nodes), so the same input gives byte-identical
sorted N-Triples.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyoxigraph as ox
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from kg.graph import Similarity, Topic
from kg.namespace import DATA, KG, PREFIXES
from kg.records import Concept, Mention, Paper, Relation
from kg.schema import ENTITY_TYPES, RELATION_TYPES

if TYPE_CHECKING:
    from kg.normalise.hierarchy import BroaderLink

__all__ = [
    "TYPE_CLASS",
    "ROLE_PROPERTY",
    "mint",
    "iri_segment",
    "paper_iri",
    "concept_iri",
    "build_rdf",
    "write_ntriples",
    "write_ntriples_stream",
    "triples",
    "aggregate_triples",
    "write_ntriples_sorted",
    "paper_year",
    "paper_month",
    "month_label",
    "rising_ranking",
    "hierarchy_triples",
]

SCHEMA_ARTICLE = URIRef("https://schema.org/ScholarlyArticle")
SCHEMA_URL = URIRef("https://schema.org/url")
SCHEMA_TEXT = URIRef("https://schema.org/text")
SCHEME = DATA["scheme"]

# from kg.schema: each entity type's class and role property, each relation type's property
TYPE_CLASS = {t.name: getattr(KG, t.local) for t in ENTITY_TYPES}
#: the role property a paper→concept link gets when the paper does not propose it
ROLE_PROPERTY = {t.name: getattr(KG, t.role) for t in ENTITY_TYPES}
RELATION_PROPERTY = {r.name: getattr(KG, r.local) for r in RELATION_TYPES}
RELATION_EXTRACTOR = "kg_relations"


def iri_segment(value: object) -> str:
    """``value`` as one IRI path segment: percent-encoded UTF-8, valid for any string.

    Letters, digits and ``-._~`` stay as they are, so ids such as ``2401.12345``, ``p1`` or a
    concept slug keep their readable IRIs; everything else (space, ``"``, ``<``, ``/``, ``#``,
    ``%``, control characters, non-ASCII, lone surrogates) is ``%XX``.

    >>> iri_segment("a b/<c>"), iri_segment("2401.12345v2")
    ('a%20b%2F%3Cc%3E', '2401.12345v2')
    """
    return quote(str(value), safe="", encoding="utf-8", errors="surrogatepass")


def mint(kind: str, *parts: object) -> URIRef:
    """The one place kg mints a data IRI: ``DATA/<kind>/<part>-<part>...``, valid for any parts.

    Each part is percent-encoded (:func:`iri_segment`); in a compound IRI a ``-`` inside a part is
    encoded too (``%2D``), so ``("x-y", "z")`` and ``("x", "y-z")`` never give the same IRI.

    >>> str(mint("mention", "p 1", 0)).rsplit("/", 1)[-1], str(mint("similarity", "x-y", "z")).rsplit("/", 1)[-1]
    ('p%201-0', 'x%2Dy-z')
    """
    if len(parts) == 1:
        return DATA[f"{kind}/{iri_segment(parts[0])}"]
    return DATA[f"{kind}/" + "-".join(iri_segment(p).replace("-", "%2D") for p in parts)]


def paper_iri(pid: str) -> URIRef:
    return mint("paper", pid)


def concept_iri(cid: str) -> URIRef:
    return mint("concept", cid)


def _dec(x: float) -> Literal:
    return Literal(Decimal(f"{x:.4f}").normalize() if x else Decimal("0"), datatype=XSD.decimal)


def _date(d: str) -> Literal:
    if d.startswith("--"):
        return Literal(d, datatype=XSD.gMonthDay)
    return Literal(d, datatype=XSD.date)


def triples(
    papers: Sequence[Paper],
    concepts: dict[str, Concept],
    mentions: Sequence[Mention],
    similarities: Sequence[Similarity] = (),
    topics: Sequence[Topic] = (),
    relations: Sequence[Relation] = (),
) -> Iterator[tuple[URIRef, URIRef, Literal | URIRef]]:
    """All triples of the knowledge graph, as rdflib terms."""
    yield SCHEME, RDF.type, SKOS.ConceptScheme
    yield SCHEME, SKOS.prefLabel, Literal("kg concepts")
    by_paper: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_paper[m.paper_id].append(m)
    producers = sorted({m.producer for m in mentions if m.producer} | ({RELATION_EXTRACTOR} if relations else set()))
    for prod in producers:
        agent = mint("extractor", prod)
        yield agent, RDF.type, KG.Extractor
        yield agent, RDF.type, PROV.SoftwareAgent
        yield agent, DCTERMS.title, Literal(prod)
    for p in papers:
        s = paper_iri(p.id)
        yield s, RDF.type, SCHEMA_ARTICLE
        yield s, DCTERMS.identifier, Literal(p.id)
        yield s, DCTERMS.title, Literal(p.title)
        if p.abstract:
            yield s, DCTERMS.abstract, Literal(p.abstract)
        if p.date:
            yield s, DCTERMS.date, _date(p.date)
        if p.author_count:
            yield s, KG.authorCount, Literal(p.author_count)
        for author in p.authors:
            yield s, DCTERMS.creator, Literal(author)
        if p.organization:
            yield s, DCTERMS.contributor, Literal(p.organization)
        for u in p.urls:
            yield s, SCHEMA_URL, Literal(u, datatype=XSD.anyURI)
        for src in p.sources:
            yield s, DCTERMS.source, Literal(src)
        ms = by_paper.get(p.id, [])
        links: dict[str, set[URIRef]] = defaultdict(set)
        sentences: dict[int, tuple[int, int]] = {}
        text = p.text
        for i, m in enumerate(ms):
            c = concepts.get(m.concept)
            if c is None:
                continue
            ci = concept_iri(c.id)
            links[c.id].add(KG.mentions)
            links[c.id].add(KG.proposes if m.role == "proposed" else ROLE_PROPERTY[c.type])
            sentences[m.sentence] = (m.sentence_start, m.sentence_end)
            mi = mint("mention", p.id, i)
            yield mi, RDF.type, KG.Mention
            yield mi, KG.inPaper, s
            yield mi, KG.inSentence, mint("sentence", p.id, m.sentence)
            yield mi, KG.denotes, ci
            yield mi, KG.startOffset, Literal(m.start)
            yield mi, KG.endOffset, Literal(m.end)
            yield mi, KG.surfaceForm, Literal(m.text)
            yield mi, KG.entityType, TYPE_CLASS[c.type]
            yield mi, KG.role, Literal(m.role)
            yield mi, KG.confidence, _dec(m.confidence)
            yield mi, PROV.wasAttributedTo, mint("extractor", m.producer or "unknown")
        for cid, props in links.items():
            for prop in props:
                yield s, prop, concept_iri(cid)
        for idx, (s_start, s_end) in sentences.items():
            si = mint("sentence", p.id, idx)
            yield si, RDF.type, KG.Sentence
            yield si, DCTERMS.isPartOf, s
            yield si, KG.sentenceIndex, Literal(idx)
            yield si, KG.startOffset, Literal(s_start)
            yield si, KG.endOffset, Literal(s_end)
            yield si, SCHEMA_TEXT, Literal(text[s_start:s_end].strip())
    if any(m.producer == "unknown" or not m.producer for m in mentions):
        yield mint("extractor", "unknown"), RDF.type, KG.Extractor
    for c in concepts.values():
        yield from _concept_triples(c)
    for sim in similarities:
        a, b = paper_iri(sim.a), paper_iri(sim.b)
        si = mint("similarity", sim.a, sim.b)
        yield a, KG.similarTo, b
        yield b, KG.similarTo, a
        yield si, RDF.type, KG.PaperSimilarity
        yield si, KG.paper, a
        yield si, KG.paper, b
        yield si, KG.score, _dec(sim.score)
        for cid in sim.shared:
            yield si, KG.sharedConcept, concept_iri(cid)
    by_paper_rel: dict[str, int] = defaultdict(int)
    for r in relations:
        n = by_paper_rel[r.paper_id]
        by_paper_rel[r.paper_id] += 1
        prop = RELATION_PROPERTY[r.type]
        head, tail = concept_iri(r.head), concept_iri(r.tail)
        yield head, prop, tail
        ri = mint("relation", r.paper_id, n)
        yield ri, RDF.type, KG.RelationMention
        yield ri, RDF.subject, head
        yield ri, RDF.predicate, prop
        yield ri, RDF.object, tail
        yield ri, KG.inPaper, paper_iri(r.paper_id)
        yield ri, KG.inSentence, mint("sentence", r.paper_id, r.sentence)
        yield ri, KG.confidence, _dec(r.confidence)
        if r.cue:
            yield ri, KG.cue, Literal(r.cue)
        yield ri, PROV.wasAttributedTo, mint("extractor", RELATION_EXTRACTOR)
    for t in topics:
        ti = mint("topic", t.id)
        yield ti, RDF.type, SKOS.Collection
        yield ti, SKOS.prefLabel, Literal(t.label)
        for cid in t.members:
            yield ti, SKOS.member, concept_iri(cid)


def _concept_triples(c: Concept) -> Iterator[tuple[URIRef, URIRef, Literal | URIRef]]:
    ci = concept_iri(c.id)
    yield ci, RDF.type, SKOS.Concept
    yield ci, RDF.type, TYPE_CLASS[c.type]
    yield ci, SKOS.inScheme, SCHEME
    yield ci, SKOS.prefLabel, Literal(c.label)
    for alias in c.aliases:
        if alias != c.label:
            yield ci, SKOS.altLabel, Literal(alias)
    # lower-cased label and aliases: the lookup keys queries match a user's text against
    for key in sorted({c.label.lower(), *(a.lower() for a in c.aliases)}):
        yield ci, SKOS.hiddenLabel, Literal(key)
    yield ci, KG.paperCount, Literal(c.paper_count)
    yield ci, KG.mentionCount, Literal(c.mention_count)
    if c.ambiguous:
        yield ci, KG.ambiguous, Literal(True)


def hierarchy_triples(
    links: Iterable[BroaderLink], general: dict[str, Concept] | None = None
) -> Iterator[tuple[URIRef, URIRef, Literal | URIRef]]:
    """Broader and narrower concepts (:mod:`kg.normalise.hierarchy`): ``skos:broader``/``skos:narrower`` between
    the concepts, and a ``kg:BroaderLink`` per link with its rule and evidence (paper and sentence
    for a sentence's); the ``general`` concepts the hierarchy named are concepts like the others
    (their counts: the papers and mentions of the concepts they head; by default a
    :class:`kg.normalise.hierarchy.Hierarchy`'s own)."""
    if general is None:
        general = getattr(links, "general", None)
    for c in (general or {}).values():
        yield from _concept_triples(c)
    for ln in links:
        child, parent = concept_iri(ln.child), concept_iri(ln.parent)
        yield child, SKOS.broader, parent
        yield parent, SKOS.narrower, child
        node = mint("broader", ln.child, ln.parent)
        yield node, RDF.type, KG.BroaderLink
        yield node, KG.narrowerConcept, child
        yield node, KG.broaderConcept, parent
        yield node, KG.rule, Literal(ln.rule)
        yield node, KG.evidence, Literal(ln.evidence)
        yield node, KG.support, Literal(ln.support)
        if ln.paper is not None:
            yield node, KG.inPaper, paper_iri(ln.paper)
            if ln.sentence is not None:
                yield node, KG.inSentence, mint("sentence", ln.paper, ln.sentence)


def build_rdf(
    papers: Sequence[Paper],
    concepts: dict[str, Concept],
    mentions: Sequence[Mention],
    similarities: Sequence[Similarity] = (),
    topics: Sequence[Topic] = (),
    relations: Sequence[Relation] = (),
) -> Graph:
    """The knowledge graph as an rdflib ``Graph`` with the usual prefixes bound."""
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    for t in triples(papers, concepts, mentions, similarities, topics, relations):
        g.add(t)
    return g


def write_ntriples(g: Graph, path: Path) -> int:
    """Write an rdflib graph as sorted N-Triples (byte-identical for the same graph); return the count."""
    return write_ntriples_stream(iter(g), path)


def _ox(term: URIRef | Literal) -> ox.NamedNode | ox.Literal:
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    return ox.NamedNode(str(term))


def write_ntriples_stream(items: Iterable[tuple[Any, Any, Any]], path: Path) -> int:
    """Write triples as sorted, de-duplicated N-Triples without building a graph in memory.

    The same triples give byte-identical output; returns the number of triples written.
    """
    lines = sorted({f"{_ox(s)} {_ox(p)} {_ox(o)} ." for s, p, o in items})
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")
    return len(lines)


# ---------------------------------------------------------------- materialised aggregates
#: how many concepts of each type, and concept-years of each year, carry the kg:topOfType /
#: kg:topOfYear flag the ranking named queries start from (their LIMIT is at most this)
TOP_OF_TYPE = 100
TOP_OF_YEAR = 500
#: how many rising concepts carry kg:risingRank (the rising-concepts query's LIMIT is at most this; the
#: explorer's /rising page reads them for its default window while enough have its minimum of papers)
RISING_TOP = 500


def _decimal_point(x: float) -> Literal:
    """An ``xsd:decimal`` whose lexical form always has a point (``2.0``, not ``2``), as Turtle writes it back."""
    text = format(Decimal(f"{x:.4f}").normalize(), "f")
    return Literal(text if "." in text else f"{text}.0", datatype=XSD.decimal)


def paper_year(date: str | None) -> int | None:
    """The year of an ``xsd:date`` paper date (``YYYY-MM-DD``); none for ``--MM-DD`` or no date."""
    if date and len(date) >= 10 and date[:4].isdigit() and date[4] == "-":
        return int(date[:4])
    return None


_MONTH = re.compile(r"^(\d{4})-(\d{2})")


def paper_month(date: str | None) -> int | None:
    """A paper date's month as a count (year * 12 + month - 1); none for ``--MM-DD``, a bad month or no date.

    >>> paper_month("2025-03-14"), paper_month("--03-14"), paper_month(None)
    (24302, None, None)
    """
    m = _MONTH.match(date or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_label(index: int) -> str:
    """The ``YYYY-MM`` of a :func:`paper_month` count."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def rising_ranking(
    concept_months: dict[str, list[int]], paper_months: Sequence[int], months: int = 12, min_papers: int = 2
) -> tuple[tuple[int, int], list[tuple[str, int, int, float, float]]]:
    """Concepts whose dated papers lie more in the latest ``months`` months than the corpus's do.

    ``concept_months``: each concept's dated papers' months; ``paper_months``: every dated paper's.
    Returns the window (first and last month) and the rising concepts ranked, each as
    (concept, recent, dated, expected, lift): ``recent`` papers in the window, ``expected`` = its
    dated papers x the window's share of all dated papers, ``lift`` = (recent + 1) / (expected + 1),
    rounded to 2 places; kept when recent >= ``min_papers`` and recent > expected; ranked by lift,
    then recent, then the caller's order of equal keys (give ``concept_months`` sorted by label).

    >>> rising_ranking({"new": [10, 11], "old": [1, 2, 11]}, [1, 2, 5, 10, 11], months=3)
    ((9, 11), [('new', 2, 2, 0.8, 1.67)])
    """
    if not paper_months:
        return (0, -1), []
    last = max(paper_months)
    first = last - months + 1
    share = sum(1 for m in paper_months if m >= first) / len(paper_months)
    out = []
    for cid, ms in concept_months.items():
        recent = sum(1 for m in ms if m >= first)
        expected = len(ms) * share
        if recent >= min_papers and recent > expected:
            out.append((cid, recent, len(ms), round(expected, 1), round((recent + 1) / (expected + 1), 2)))
    out.sort(key=lambda r: (-r[4], -r[1]))
    return (first, last), out


def aggregate_triples(
    papers: Sequence[Paper],
    concepts: dict[str, Concept],
    mentions: Sequence[Mention],
    cooccurrences: Iterable[tuple[str, str, int, float]] = (),
    min_year_papers: int = 2,
) -> Iterator[tuple[URIRef, URIRef, Literal | URIRef]]:
    """The counts the ranking queries read, materialised at build time so each answers from an index.

    - ``kg:topOfType true`` on each type's ``TOP_OF_TYPE`` concepts with the most papers (ties by
      label, then id); the concepts' ``kg:paperCount`` is already there;
    - a ``kg:ConceptYear`` per concept and year with at least ``min_year_papers`` papers
      (``kg:concept``, ``kg:year``, ``kg:papersInYear``), ``kg:topOfYear true`` on each year's
      ``TOP_OF_YEAR`` largest;
    - a ``kg:Cooccurrence`` per concept pair sharing at least two papers (``kg:concept`` twice,
      ``kg:sharedPaperCount``, ``kg:strength``), as the graph's ``cooccurs`` edges;
    - the ``RISING_TOP`` rising concepts of the latest 12 months (:func:`rising_ranking`, at least
      2 papers in the window): ``kg:risingRank`` (1 = most), ``kg:recentPaperCount`` and
      ``kg:datedPaperCount``, and one ``kg:RecentWindow`` with the corpus's own two counts and
      ``kg:firstMonth`` / ``kg:lastMonth``.
    """
    by_type: dict[str, list[Concept]] = defaultdict(list)
    for c in concepts.values():
        by_type[c.type].append(c)
    for cs in by_type.values():
        cs.sort(key=lambda c: (-c.paper_count, c.label, c.id))
        for c in cs[:TOP_OF_TYPE]:
            yield concept_iri(c.id), KG.topOfType, Literal(True)
    year_of = {p.id: y for p in papers if (y := paper_year(p.date)) is not None}
    seen: set[tuple[str, int, str]] = set()
    for m in mentions:
        y = year_of.get(m.paper_id)
        if y is not None and m.concept in concepts:
            seen.add((m.concept, y, m.paper_id))
    per_year: dict[int, Counter[str]] = defaultdict(Counter)
    for cid, y, _ in seen:
        per_year[y][cid] += 1
    del seen
    for y in sorted(per_year):
        rows = sorted(
            ((n, cid) for cid, n in per_year[y].items() if n >= min_year_papers),
            key=lambda x: (-x[0], concepts[x[1]].label, x[1]),
        )
        for rank, (n, cid) in enumerate(rows):
            node = mint("concept-year", cid, y)
            yield node, RDF.type, KG.ConceptYear
            yield node, KG.concept, concept_iri(cid)
            yield node, KG.year, Literal(y)
            yield node, KG.papersInYear, Literal(n)
            if rank < TOP_OF_YEAR:
                yield node, KG.topOfYear, Literal(True)
    month_of = {p.id: mo for p in papers if (mo := paper_month(p.date)) is not None}
    concept_months: dict[str, dict[str, int]] = defaultdict(dict)
    for m in mentions:
        mo = month_of.get(m.paper_id)
        if mo is not None and m.concept in concepts:
            concept_months[m.concept][m.paper_id] = mo
    ordered = sorted(concept_months, key=lambda cid: (concepts[cid].label, cid))
    window, rising = rising_ranking(
        {cid: list(concept_months[cid].values()) for cid in ordered}, list(month_of.values())
    )
    del concept_months
    if month_of:
        node = mint("window", "recent")
        yield node, RDF.type, KG.RecentWindow
        yield node, KG.firstMonth, Literal(month_label(window[0]))
        yield node, KG.lastMonth, Literal(month_label(window[1]))
        yield node, KG.recentPaperCount, Literal(sum(1 for mo in month_of.values() if mo >= window[0]))
        yield node, KG.datedPaperCount, Literal(len(month_of))
    for rank, (cid, recent, dated, _, _) in enumerate(rising[:RISING_TOP], start=1):
        yield concept_iri(cid), KG.risingRank, Literal(rank)
        yield concept_iri(cid), KG.recentPaperCount, Literal(recent)
        yield concept_iri(cid), KG.datedPaperCount, Literal(dated)
    for a, b, n, strength in cooccurrences:
        node = mint("cooccurrence", a, b)
        yield node, RDF.type, KG.Cooccurrence
        yield node, KG.concept, concept_iri(a)
        yield node, KG.concept, concept_iri(b)
        yield node, KG.sharedPaperCount, Literal(n)
        yield node, KG.strength, _decimal_point(strength)


def write_ntriples_sorted(items: Iterable[tuple[Any, Any, Any]], path: Path, chunk_lines: int = 500_000) -> int:
    """:func:`write_ntriples_stream` in bounded memory: byte-identical output, sorted in runs.

    Up to ``chunk_lines`` distinct lines are held at once; larger outputs are sorted in runs on
    disk beside ``path`` and merged. Returns the number of triples written.
    """
    import heapq
    import tempfile

    runs: list[Path] = []
    buf: set[str] = set()
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.runs.", dir=path.parent))

    def spill() -> None:
        run = tmpdir / f"{len(runs):05d}"
        with run.open("w", encoding="utf-8", newline="\n") as f:
            for line in sorted(buf):
                f.write(line + "\n")
        runs.append(run)
        buf.clear()

    try:
        for s, p, o in items:
            buf.add(f"{_ox(s)} {_ox(p)} {_ox(o)} .")
            if len(buf) >= chunk_lines:
                spill()
        n = 0
        with path.open("w", encoding="utf-8", newline="\n") as out:
            if not runs:
                for line in sorted(buf):
                    out.write(line + "\n")
                return len(buf)
            spill()
            files = [r.open(encoding="utf-8", newline="\n") for r in runs]
            try:
                last = None
                for line in heapq.merge(*((ln.rstrip("\n") for ln in f) for f in files)):
                    if line != last:
                        out.write(line + "\n")
                        n += 1
                        last = line
            finally:
                for f in files:
                    f.close()
        return n
    finally:
        import shutil

        shutil.rmtree(tmpdir, ignore_errors=True)
