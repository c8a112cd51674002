"""kg.schema is the one source of entity types, roles and relation types: it agrees with the
ontology, and no other module, template or script keeps its own copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, URIRef

from kg import schema

ROOT = Path(__file__).parent.parent
KG = schema.ONTOLOGY


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ROOT / "ontology" / "kg.ttl")


def _local(iri: object) -> str:
    return str(iri).removeprefix(KG)


def test_entity_types_are_the_ontologys_concept_classes(ontology):
    classes = {_local(c) for c in ontology.subjects(RDFS.subClassOf, SKOS.Concept) if str(c).startswith(KG)}
    assert classes == {t.local for t in schema.ENTITY_TYPES}
    for t in schema.ENTITY_TYPES:
        assert (URIRef(t.iri), RDF.type, OWL.Class) in ontology
        assert str(ontology.value(URIRef(t.iri), RDFS.label)) == t.local
        assert t.singular == t.local.lower() and t.name == t.local.upper()


def test_roles_are_the_ontologys_mention_properties(ontology):
    refined = {_local(p) for p in ontology.subjects(RDFS.subPropertyOf, URIRef(schema.MENTIONS))}
    assert refined == {t.role for t in schema.ENTITY_TYPES} | {_local(schema.PROPOSES)}
    assert len({t.role for t in schema.ENTITY_TYPES}) == len(schema.ENTITY_TYPES)  # one role property per type


def test_relation_types_are_the_ontologys_concept_relations(ontology):
    props = {
        _local(p)
        for p in ontology.subjects(RDFS.domain, SKOS.Concept)
        if (p, RDFS.range, SKOS.Concept) in ontology and (p, RDF.type, OWL.ObjectProperty) in ontology
    }
    props.discard("concept")  # kg:concept (range only) is not a relation
    assert props == {r.local for r in schema.RELATION_TYPES}
    for r in schema.RELATION_TYPES:
        assert str(ontology.value(URIRef(r.iri), RDFS.label)) == r.label
        assert ((URIRef(r.iri), RDF.type, OWL.SymmetricProperty) in ontology) == r.symmetric


def test_namespace_and_rdf_are_built_from_the_schema():
    from kg.export import rdf
    from kg.namespace import DATA, KG, ONTOLOGY_IRI

    assert str(DATA) == schema.DATA and ONTOLOGY_IRI + "#" == schema.ONTOLOGY
    assert {k: str(v) for k, v in rdf.TYPE_CLASS.items()} == {t.name: t.iri for t in schema.ENTITY_TYPES}
    assert {k: str(v) for k, v in rdf.ROLE_PROPERTY.items()} == {t.name: t.role_iri for t in schema.ENTITY_TYPES}
    assert {k: str(v) for k, v in rdf.RELATION_PROPERTY.items()} == {r.name: r.iri for r in schema.RELATION_TYPES}
    assert str(KG.proposes) == schema.PROPOSES


def test_lookups():
    assert schema.entity_type("Dataset") is schema.entity_type("DATASET") is schema.entity_type("datasets")
    assert schema.entity_type(schema.ENTITY_TYPES[0].iri).name == schema.LABELS[0]
    with pytest.raises(KeyError):
        schema.entity_type("paper")
    assert schema.relation_type("USED_FOR") is schema.relation_type("usedFor")
    assert len(set(schema.COLOURS.values())) == len(schema.LABELS)  # each type its own colour


def _sources() -> list[Path]:
    files = [*ROOT.glob("kg/**/*.py"), *ROOT.glob("kg/web/templates/*.html")]
    files += [*ROOT.glob("training/*.py"), *ROOT.glob("benchmarks/*.py"), *ROOT.glob("kg/queries/**/*.rq")]
    files += [*ROOT.glob("notebooks/*.ipynb")]
    return [p for p in files if p.name != "schema.py"]


def test_no_copies_of_the_schema():
    """A type list, a class IRI or a type colour written out anywhere but kg/schema.py is a copy."""
    names = "|".join(schema.LABELS)
    type_list = re.compile(r"\s*,\s*".join([rf"[\"'](?:{names})[\"']"] * len(schema.LABELS)))  # all of them
    locals_ = "|".join(t.local for t in schema.ENTITY_TYPES)
    class_list = re.compile(r"[\s,()]*".join([rf"(?:kg:)?(?:{locals_})\b[^,)]*"] * len(schema.LABELS)))
    iris = [t.iri for t in schema.ENTITY_TYPES] + [r.iri for r in schema.RELATION_TYPES]
    colours = [c.lower() for c in schema.COLOURS.values()]
    found = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if type_list.search(text) or (path.suffix == ".rq" and class_list.search(text)):
            found.append(f"{rel}: a list of the types")
        for block in re.findall(r"\{[^{}]*\}", text):  # one dict literal holding every type's pair
            pairs = [
                t for t in schema.ENTITY_TYPES if re.search(rf"[\"']{t.local}[\"']\s*:\s*[\"']{t.name}[\"']", block)
            ]
            if len(pairs) == len(schema.ENTITY_TYPES):  # a gold set's own map (Material -> DATASET) is no copy
                found.append(f"{rel}: a map of class names to types")
        found += [f"{rel}: {iri}" for iri in iris if iri in text]
        found += [f"{rel}: colour {c}" for c in colours if c in text.lower()]
    assert not found, "copies of kg.schema:\n" + "\n".join(found)


def test_type_colours_are_generated_not_copied():
    """The explorer's CSS and scripts keep no type colour: the pages carry kg.schema's generated
    styles (``--kg-TYPE`` properties, ``.t-TYPE`` tints, ``.dot.t-TYPE`` dots), the scripts read
    the properties, and the offline graph.html inlines the same block."""
    from kg.graph.views import overview_page
    from kg.web.app import _ENV

    static = ROOT / "kg" / "web" / "static"
    for f in static.glob("*.*"):
        if f.suffix in (".css", ".js") and f.parent == static:
            text = f.read_text(encoding="utf-8").lower()
            assert not [c for c in schema.COLOURS.values() if c.lower() in text], f"{f.name} copies a type colour"
            assert not [t.tint for t in schema.ENTITY_TYPES if t.tint.lower() in text], f"{f.name} copies a tint"
    for script in ("graph.js", "overview.js"):
        assert '"--kg-" + String(type)' in (static / script).read_text(encoding="utf-8"), script
    css = schema.type_css()
    for t in schema.ENTITY_TYPES:
        assert f"--kg-{t.name}: {t.colour};" in css and f".t-{t.name} {{ background: {t.tint}; }}" in css
    page = _ENV.get_template("base.html").render(q="")
    assert css in page
    assert css in overview_page({"topics": [], "nodes": [], "edges": []})
