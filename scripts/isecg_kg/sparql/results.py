"""The answer writers: SPARQL results as JSON, XML, CSV, TSV or a table; graphs in every RDF
syntax that answers CONSTRUCT and DESCRIBE; and the caps (rows, bytes) that cut an answer at a
row. Which formats there are is the registry's (isecg_kg/formats.py).

Results have our own writers (``writes``, one per format the registry marks ``own_writer``), so
that a row cap can cut the solutions before writing; graphs are cut (``take``), then written
by pyoxigraph. The CLI, the endpoint and the external-store engine all write through these,
so they give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import orjson
import pyoxigraph as ox

from isecg_kg import formats
from isecg_kg.config import PREFIXES
from isecg_kg.errors import QueryError
from isecg_kg.rdf import XSD_STRING, literal_text

# The formats of each query form's answers, by name: "table" is for people, the others are the
# W3C formats
SOLUTION_FORMATS: dict[str, formats.Format] = {f.name: f for f in formats.answers("SELECT")}
GRAPH_FORMATS: dict[str, formats.Format] = {f.name: f for f in formats.answers("CONSTRUCT")}

# Our writers of results, by format name: (write solutions, write a boolean)
WRITERS: dict[str, tuple[Callable[[list[str], list[tuple]], bytes], Callable[[bool], bytes]]] = {}


def writes(name: str, boolean: Callable[[bool], bytes]):
    """Register the decorated function as the writer of solutions in format NAME (a registry
    entry marked own_writer), and BOOLEAN as its writer of an ASK's answer."""
    def register(write):
        WRITERS[name] = (write, boolean)
        return write
    return register


def _json_term(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        d = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
        elif t.datatype.value != XSD_STRING:
            d["datatype"] = t.datatype.value
        return d
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(t.subject),
                                            "predicate": _json_term(t.predicate),
                                            "object": _json_term(t.object)}}
    raise QueryError(f"cannot write a {type(t).__name__} as a SPARQL result")


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(s: str) -> str:
    if _XML_INVALID.search(s):
        raise QueryError("a result holds a control character XML cannot carry; ask for JSON")
    return xml_escape(s)


def _xml_term(t) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{_xml_text(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{_xml_text(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{_xml_text(t.value)}</literal>"
        if t.datatype.value != XSD_STRING:
            return (f"<literal datatype={quoteattr(t.datatype.value)}>{_xml_text(t.value)}"
                    "</literal>")
        return f"<literal>{_xml_text(t.value)}</literal>"
    if isinstance(t, ox.Triple):
        return (f"<triple><subject>{_xml_term(t.subject)}</subject><predicate>"
                f"{_xml_term(t.predicate)}</predicate><object>{_xml_term(t.object)}</object>"
                "</triple>")
    raise QueryError(f"cannot write a {type(t).__name__} as a SPARQL result")


def _nt_term(t) -> str:
    """N-Triples form of a term (pyoxigraph's, whose escaping keeps a tab from splitting a TSV
    field)."""
    if isinstance(t, ox.Literal):
        return literal_text(t)
    if isinstance(t, ox.Triple):
        return f"<< {_nt_term(t.subject)} {_nt_term(t.predicate)} {_nt_term(t.object)} >>"
    return str(t)


def _plain(t) -> str:
    if t is None:
        return ""
    if isinstance(t, (ox.NamedNode, ox.Literal)):
        return t.value
    if isinstance(t, ox.BlankNode):
        return "_:" + t.value
    return _nt_term(t)


def _short(t) -> str:
    """Table cell: prefixed names where a prefix fits, lexical forms for literals."""
    if isinstance(t, ox.NamedNode):
        best = max((p for p in PREFIXES.items() if t.value.startswith(p[1])),
                   key=lambda p: len(p[1]), default=None)
        if best and re.fullmatch(r"[\w\-.]*", t.value[len(best[1]):]):
            return f"{best[0]}:{t.value[len(best[1]):]}"
        return f"<{t.value}>"
    if isinstance(t, ox.Literal) and t.language:
        return f"{t.value}@{t.language}"
    return _plain(t).replace("\n", "\\n").replace("\t", " ")


def _word(value: bool) -> bytes:
    """An ASK's answer where the format has no form for it: the word, as Oxigraph and Jena
    write it."""
    return (str(value).lower() + "\n").encode()


@writes("json", lambda value: json.dumps({"head": {}, "boolean": value},
                                          separators=(",", ":")).encode())
def _json(variables: list[str], rows: list[tuple]) -> bytes:
    """The bytes of json.dumps(..., ensure_ascii=False, separators=(",", ":")), UTF-8, by orjson
    (a test holds them equal over every character): its encoder in Python took 255 of the
    members-2022 answer's 330 µs in the worker, orjson 10 (documents: 3.6 → 1.4 ms)."""
    bindings = [{v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None}
                for row in rows]
    return orjson.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}})


@writes("xml", lambda value: ('<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://'
                              'www.w3.org/2005/sparql-results#">\n<head/>\n<boolean>'
                              f"{str(value).lower()}</boolean>\n</sparql>\n").encode())
def _xml(variables: list[str], rows: list[tuple]) -> bytes:
    out = [('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>')]
    out += [f"<variable name={quoteattr(v)}/>" for v in variables]
    out.append("</head>\n<results>\n")
    for row in rows:
        out.append("<result>")
        out += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                for v, t in zip(variables, row, strict=True) if t is not None]
        out.append("</result>\n")
    out.append("</results>\n</sparql>\n")
    return "".join(out).encode()


@writes("csv", _word)
def _csv(variables: list[str], rows: list[tuple]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(variables)
    w.writerows([_plain(t) for t in row] for row in rows)
    return buf.getvalue().encode()


@writes("tsv", _word)
def _tsv(variables: list[str], rows: list[tuple]) -> bytes:
    lines = ["\t".join("?" + v for v in variables)]
    lines += ["\t".join("" if t is None else _nt_term(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


@writes("table", _word)
def _table(variables: list[str], rows: list[tuple]) -> bytes:
    cells = [[_short(t) if t is not None else "" for t in row] for row in rows]
    widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(variables)]

    def line(vals):
        return "  ".join(s.ljust(w) for s, w in zip(vals, widths, strict=True)).rstrip()

    out = [line(variables), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return ("\n".join(out) + "\n").encode()


def _writer(fmt: str):
    if fmt not in WRITERS:
        raise QueryError(f"unknown result format {fmt!r}; use one of "
                         f"{', '.join(SOLUTION_FORMATS)}")
    return WRITERS[fmt]


def write_solutions(variables: list[str], rows: list[tuple], fmt: str) -> bytes:
    return _writer(fmt)[0](variables, rows)


def write_boolean(value: bool, fmt: str) -> bytes:
    return _writer(fmt)[1](value)


def write_triples(triples: list, fmt: str) -> bytes:
    if fmt not in GRAPH_FORMATS:
        raise QueryError(f"unknown RDF format {fmt!r}; use one of {', '.join(GRAPH_FORMATS)}")
    prefixes = None if fmt == "jsonld" else {
        p: iri for p, iri in PREFIXES.items()
        if any(isinstance(x, ox.NamedNode) and x.value.startswith(iri)
               for t in triples for x in (t.subject, t.predicate, t.object))}
    return ox.serialize(triples, format=GRAPH_FORMATS[fmt].oxigraph_format(), prefixes=prefixes)


# The caps


def _term_size(t) -> int:
    """About the bytes a term takes written out (a lower bound for every format)."""
    if t is None:
        return 0
    if isinstance(t, ox.Literal):
        return len(t.value) + len(t.language or t.datatype.value)
    if isinstance(t, ox.Triple):
        return _term_size(t.subject) + _term_size(t.predicate) + _term_size(t.object)
    return len(t.value)


def take(items, max_rows: int | None, max_bytes: int | None = None) -> tuple[list, bool]:
    """The rows (tuples of terms) or triples of ``items`` up to the row cap and, by the size of
    their terms, the byte cap; and whether any were left out. A row is read to its end only
    once: a single row of 100 MB is measured, not kept."""
    out, size = [], 0
    for item in items:
        if max_rows is not None and len(out) >= max_rows:
            return out, True
        if max_bytes is not None:
            size += sum(map(_term_size, item if isinstance(item, tuple)
                            else (item.subject, item.predicate, item.object)))
            if size > max_bytes:
                return out, True
        out.append(item)
    return out, False


def fit(items: list, write, max_bytes: int | None) -> tuple[bytes, list, bool]:
    """``write(items)``, with fewer items while the written answer is over ``max_bytes`` (the
    markup of XML or JSON adds to the terms' size); the body, the items kept, whether cut."""
    body = write(items)
    cut = False
    while max_bytes is not None and len(body) > max_bytes and items:
        keep = min(len(items) - 1, len(items) * max_bytes // len(body))
        items, cut = items[:keep], True
        body = write(items)
    return body, items, cut
