"""One Accept parser and one negotiation over the format registry's entries, for every route.

RFC 9110 §12.5.1: media ranges with q-values; the most specific range that matches an offered
type decides its quality; ties go to the server's order of preference. A malformed element is
ignored (as browsers do), never an error; an Accept header that matches nothing offered gives
None, which routes answer with 406 listing what is offered.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from isecg_kg import formats
from isecg_kg.formats import Format

# Media types clients send for the registry's own (N3 is answered as Turtle, every N3 parser
# reads Turtle; application/xml are SPARQL XML results). application/json is none: it means
# SPARQL JSON results to a SELECT and JSON-LD to an entity or a CONSTRUCT, so routes offer it.
ALIASES: dict[str, str] = {alias: f.media_type for f in formats.REGISTRY for alias in f.aliases}

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


def negotiate_rdf(header: str | None, offered: Iterable[Format] | None = None) -> str | None:
    """The name of the representation an entity request asks for (by default, among the page
    and the four RDF syntaxes every host negotiates), or None (406). application/json, offered
    last, is answered as JSON-LD."""
    offered = list(offered) if offered is not None else formats.representations(quads=False)
    media = negotiate(header, [f.media_type for f in offered] + ["application/json"])
    if media == "application/json" and any(f.name == "jsonld" for f in offered):
        return "jsonld"
    return next((f.name for f in offered if f.media_type == media), None)

