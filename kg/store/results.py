"""SPARQL 1.1 query results in the W3C formats (JSON, XML, CSV, TSV), written from plain rows.

The one serialiser of query results: the HTTP endpoint (which caps result rows, so it serialises
the rows it kept instead of handing pyoxigraph's whole result stream over) and ``kg query
--format`` both write through it. A SELECT result is written byte for byte as Oxigraph writes it
(``tests/test_sparql_results.py`` compares them).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

__all__ = ["MEDIA_TYPES", "FORMATS", "select_results", "ask_results", "serialize"]

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None

MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}
#: the result formats, by name
FORMATS: tuple[str, ...] = tuple(MEDIA_TYPES)
_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING = _XSD + "string"
#: TSV writes these literals in their short Turtle form (``30``, ``1.5``, ``true``)
_TSV_BARE = {_XSD + "integer", _XSD + "decimal", _XSD + "boolean"}


def escape(text: str) -> str:
    """XML text with quotes escaped too, as Oxigraph writes it."""
    return _escape(text, {'"': "&quot;", "'": "&apos;"})


def _json_term(t: Term) -> dict[str, str]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != _XSD_STRING:
            out["datatype"] = t.datatype.value
        return out
    return {"type": "triple", "value": str(t)}


def _xml_term(t: Term) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{escape(t.value)}</literal>"
        if t.datatype.value != _XSD_STRING:
            return f"<literal datatype={quoteattr(t.datatype.value)}>{escape(t.value)}</literal>"
        return f"<literal>{escape(t.value)}</literal>"
    return f"<literal>{escape(str(t))}</literal>"


def _csv_term(t: Term) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        return f"_:{t.value}"
    return t.value if isinstance(t, ox.NamedNode | ox.Literal) else str(t)


def _tsv_term(t: Term) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.Literal) and t.datatype.value in _TSV_BARE and not t.language:
        return t.value
    return str(t)


def select_results(variables: Sequence[str], rows: Sequence[Sequence[Term]], fmt: str) -> bytes:
    """Serialise SELECT rows (``None`` = unbound) in ``fmt`` (json, xml, csv, tsv)."""
    if fmt == "json":
        bindings = [{v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in rows]
        return json.dumps(
            {"head": {"vars": list(variables)}, "results": {"bindings": bindings}},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
    if fmt == "xml":
        parts = ['<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
        parts += [f"<variable name={quoteattr(v)}/>" for v in variables]
        parts.append("</head><results>")
        for row in rows:
            parts.append("<result>")
            parts += [
                f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                for v, t in zip(variables, row, strict=True)
                if t is not None
            ]
            parts.append("</result>")
        parts.append("</results></sparql>")
        return "".join(parts).encode("utf-8")
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(variables)
        for row in rows:
            w.writerow([_csv_term(t) for t in row])
        return buf.getvalue().encode("utf-8")
    if fmt == "tsv":
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines += ["\t".join(_tsv_term(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"unknown results format {fmt!r}")


def ask_results(value: bool, fmt: str) -> bytes:
    """Serialise an ASK result in ``fmt`` (CSV and TSV, which the W3C leaves undefined for ASK, as
    a ``_askResult`` column)."""
    if fmt == "xml":
        return (
            '<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{'true' if value else 'false'}</boolean></sparql>"
        ).encode()
    if fmt in ("csv", "tsv"):
        return (("_askResult\n" if fmt == "csv" else "?_askResult\n") + ("true" if value else "false") + "\n").encode()
    return json.dumps({"head": {}, "boolean": value}, separators=(",", ":")).encode("utf-8")


def serialize(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples, fmt: str) -> bytes:
    """A whole pyoxigraph result in ``fmt``: SELECT and ASK results as above, graphs (CONSTRUCT,
    DESCRIBE) as N-Triples."""
    if isinstance(result, ox.QueryBoolean):
        return ask_results(bool(result), fmt)
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        return select_results(variables, [[sol[v] for v in variables] for sol in result], fmt)
    return ox.serialize(result, format=ox.RdfFormat.N_TRIPLES) or b""
