"""RDF names and conventions every wing shares: the vocabularies' namespaces, the one IRI
shortener and the one "which prefixes do these triples use" function. (The RDF syntaxes are
entries of the format registry, formats.py.)

The namespaces are those of the project's prefix table (config.PREFIXES, what the dumps, the
JSON-LD context and the SPARQL service declare), named here once for code that builds IRIs.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

import pyoxigraph as ox

from isecg_kg.config import ONTOLOGY_NS, PREFIXES

# --- namespaces ---------------------------------------------------------------------------------

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
XSD = PREFIXES["xsd"]
SH = PREFIXES["sh"]
SKOS = PREFIXES["skos"]
DCT = PREFIXES["dcterms"]
DCAT = PREFIXES["dcat"]
VOID = PREFIXES["void"]
FOAF = PREFIXES["foaf"]
PROV = PREFIXES["prov"]
ORG = PREFIXES["org"]
TIME = PREFIXES["time"]
SCHEMA = PREFIXES["schema"]
ISECG = ONTOLOGY_NS
# Vocabularies the release descriptions use without a prefix of the project's table.
SPDX = "http://spdx.org/rdf/terms#"
ADMS = "http://www.w3.org/ns/adms#"
CS = "http://purl.org/vocab/changeset/schema#"  # Talis Changeset (the changelog)
VCARD = "http://www.w3.org/2006/vcard/ns#"
DCATAP = "http://data.europa.eu/r5r/"  # DCAT-AP's own terms (dcatap:availability)
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"  # EU controlled vocabularies

RDF_TYPE = RDF + "type"
XSD_STRING = XSD + "string"
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"  # the data's licence
IANA = "https://www.iana.org/assignments/media-types/"      # + a media type: its IRI

# --- prefixed names -----------------------------------------------------------------------------


def qname(iri: str, fits: Callable[[str], bool] | None = None,
          prefixes: dict[str, str] = PREFIXES) -> str | None:
    """``prefix:local`` for the longest namespace of ``prefixes`` that starts ``iri`` and whose
    local part passes ``fits`` (any local part, even an empty one, when None); None when no
    namespace does. Every place that shows an IRI short goes through here; each says what
    local parts it can print (``fits``) and what to show instead."""
    best = None
    for prefix, ns in prefixes.items():
        if iri.startswith(ns) and (best is None or len(ns) > len(prefixes[best])) \
                and (fits is None or fits(iri[len(ns):])):
            best = prefix
    return None if best is None else f"{best}:{iri[len(prefixes[best]):]}"


def plain_local(local: str) -> bool:
    """A local part that reads as a prefixed name in a message: letters, digits, - _ ."""
    return bool(local) and all(c.isalnum() or c in "-_." for c in local)


def shorten(iri: str) -> str:
    """A prefixed name for messages, or <iri> when no prefix fits."""
    return qname(iri, plain_local) or f"<{iri}>"


def literal_text(literal: ox.Literal, datatype: Callable[[str], str] | None = None) -> str:
    """A literal as Turtle and N-Triples write it, escaped as pyoxigraph's writers escape (the
    one escaping of every writer of ours): "text", "text"@lang, or "text"^^ and its datatype,
    an IRI in <> or as DATATYPE writes it (a prefixed name, for people)."""
    if datatype is None or literal.language or literal.datatype.value == XSD_STRING:
        return str(literal)
    return f"{ox.Literal(literal.value)}^^{datatype(literal.datatype.value)}"


def adder(out: list[ox.Triple]) -> Callable[[ox.NamedNode | ox.BlankNode, str, ox.Term], None]:
    """``add(subject, predicate IRI, object)``: a triple appended to OUT (the descriptions the
    build writes: VoID, DCAT, the changelog)."""
    def add(s, p: str, o) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))
    return add


def canonical(triples) -> list[ox.Triple]:
    """The triples with RDFC-1.0 blank-node labels, in sorted order: the same graph gives the
    same bytes however its blank nodes were labelled (a store relabels them on every load)."""
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted((q.triple for q in dataset), key=str)


def mentioned_prefixes(statements) -> dict[str, str]:
    """The prefixes whose namespace is written anywhere in the statements (triples or quads,
    literals included), in PREFIXES order: what the web's pages and documents declare. Looser
    than used_prefixes, which the dumps use."""
    text = " ".join(str(t) for t in statements)
    return {p: ns for p, ns in PREFIXES.items() if ns in text}


def used_prefixes(triples: list[ox.Triple],
                  prefixes: dict[str, str] = PREFIXES) -> dict[str, str]:
    """The prefixes whose namespace starts an IRI of the triples (or of a datatype), sorted by
    prefix."""
    iris = {t.predicate.value for t in triples}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            iris.add(t.subject.value)
        if isinstance(t.object, ox.NamedNode):
            iris.add(t.object.value)
        elif isinstance(t.object, ox.Literal):
            iris.add(t.object.datatype.value)
    iris = sorted(iris)

    def used(ns: str) -> bool:  # the first IRI not below ns is the one that would start with it
        i = bisect.bisect_left(iris, ns)
        return i < len(iris) and iris[i].startswith(ns)

    return {p: ns for p, ns in sorted(prefixes.items()) if used(ns)}
