"""One content-negotiation table and one Accept parser, reused by every route.

RFC 9110 §12.5.1: media ranges with q-values; the most specific range that matches an offered
type decides its quality; ties go to the server's order of preference. A malformed element is
ignored (as browsers do), never an error; an Accept header that matches nothing offered gives
None, which routes answer with 406 listing what is offered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from isecg_kg.rdf import RESULT_FORMATS  # SPARQL results of SELECT / ASK, in preference order

# Linked-data representations: format name -> (media type, file suffix), in preference order.
RDF_FORMATS: dict[str, tuple[str, str]] = {
    "html": ("text/html", "html"),
    "turtle": ("text/turtle", "ttl"),
    "jsonld": ("application/ld+json", "jsonld"),
    "nt": ("application/n-triples", "nt"),
    "xml": ("application/rdf+xml", "rdf"),
}
# Every RDF document (no HTML), Turtle first: the linked-data syntaxes, then TriG and N-Quads,
# which keep inferred statements in their own named graph (web/documents.py).
DOC_FORMATS: dict[str, tuple[str, str]] = {
    **{name: f for name, f in RDF_FORMATS.items() if name != "html"},
    "trig": ("application/trig", "trig"),
    "nq": ("application/n-quads", "nq"),
}
# Aliases clients send for the same representations. application/json is not one: it means
# SPARQL JSON results to a SELECT and JSON-LD to an entity or a CONSTRUCT, so routes offer it.
# N3 is answered as Turtle (every N3 parser reads Turtle).
ALIASES: dict[str, str] = {
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/rdf+xml",
    "application/x-turtle": "text/turtle",
    "application/turtle": "text/turtle",
    "text/n3": "text/turtle",
    "text/rdf+n3": "text/turtle",
    "application/n3": "text/turtle",
    "application/x-json+ld": "application/ld+json",
    "text/plain": "application/n-triples",
    "application/xhtml+xml": "text/html",
}
SUFFIXES: dict[str, str] = {suffix: name for name, (_, suffix) in RDF_FORMATS.items()}
SUFFIXES["json"] = "jsonld"

MAX_ACCEPT_LENGTH = 4096
MAX_ACCEPT_ELEMENTS = 64


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def matches(self, media_type: str) -> int:
        """Specificity of the match (3 exact, 2 type/*, 1 */*), or 0 for no match."""
        t, _, s = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type == t and self.subtype == "*":
            return 2
        if self.type == t and self.subtype == s:
            return 3
        return 0


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; an absent or empty header accepts anything."""
    if not header or not header.strip():
        return [MediaRange("*", "*", 1.0)]
    ranges = []
    for element in header[:MAX_ACCEPT_LENGTH].split(",")[:MAX_ACCEPT_ELEMENTS]:
        parts = [p.strip() for p in element.split(";")]
        media = parts[0].lower()
        if media == "*":
            media = "*/*"
        t, sep, s = media.partition("/")
        if not sep or not t or not s or (t == "*" and s != "*") or " " in media:
            continue
        q = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if math.isnan(q) or not 0.0 <= q <= 1.0:
                    q = 0.0
        media = ALIASES.get(media, media)
        t, _, s = media.partition("/")
        ranges.append(MediaRange(t, s, q))
    return ranges


def negotiate(header: str | None, offered: list[str]) -> str | None:
    """The offered media type the client prefers most, or None when it accepts none of them."""
    ranges = parse_accept(header)
    best, best_q = None, 0.0
    for media_type in offered:
        specificity, q = 0, 0.0
        for r in ranges:
            m = r.matches(media_type)
            if m > specificity:
                specificity, q = m, r.q
            elif m == specificity and m and r.q > q:
                q = r.q
        if specificity and q > best_q:
            best, best_q = media_type, q
    return best


def negotiate_rdf(header: str | None, formats: dict | None = None) -> str | None:
    """A format name of RDF_FORMATS (or ``formats``) for an entity request, or None (406).
    application/json, offered last, is answered as JSON-LD."""
    formats = formats or RDF_FORMATS
    media = negotiate(header, [m for m, _ in formats.values()] + ["application/json"])
    if media == "application/json" and "jsonld" in formats:
        return "jsonld"
    return next((n for n, (m, _) in formats.items() if m == media), None)


def negotiate_results(header: str | None) -> str | None:
    """A format name of RESULT_FORMATS for SELECT/ASK results, or None (406)."""
    media = negotiate(header, [*RESULT_FORMATS.values(), "application/json"])
    if media == "application/json":
        return "json"
    return next((n for n, m in RESULT_FORMATS.items() if m == media), None)
