"""What a request to /sparql asks, read as the SPARQL 1.1 Protocol says: its parameters from
the query string and the body (a form, or a query sent as application/sparql-query), in UTF-8,
no SPARQL Update, at most one query; and this endpoint's extension ``$NAME=TERM``, a variable of
the query bound to one RDF term. A request that breaks the protocol raises BadRequest, which
carries its answer."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import Response

from isecg_kg.config import PREDECLARED
from isecg_kg.errors import BodyTooLarge
from isecg_kg.sparql.guard import CheckedQuery
from isecg_kg.web.endpoint import problems
from isecg_kg.web.http.body import read_body
from isecg_kg.web.http.responses import problem

POST_TYPES = ["application/x-www-form-urlencoded", "application/sparql-query"]
UPDATE_PARAMETERS = ("update", "using-graph-uri", "using-named-graph-uri")


class BadRequest(Exception):
    """A request the protocol refuses; ``response`` is the answer."""

    def __init__(self, response: Response):
        self.response = response


@dataclass(frozen=True)
class Asked:
    """What one request asks of /sparql."""

    params: list[tuple[str, str]]   # every parameter, the query string's and the form's
    query: str | None               # the query (query= or a direct POST), None for none
    formats: list[str] | None       # format= values (not blank), None for none
    accept: str | None

    @property
    def names(self) -> list[str]:
        return [k for k, _ in self.params]

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.params if k == name]


async def read(request: Request, max_query_bytes: int) -> Asked:
    """The request's question, or BadRequest (4xx)."""
    params, direct = await _params(request, max_query_bytes)
    if any(k in UPDATE_PARAMETERS for k, _ in params):
        raise BadRequest(problems.read_only())
    queries = [v for k, v in params if k == "query"] + ([direct] if direct is not None else [])
    if len(queries) > 1:
        raise BadRequest(problem(400, "Bad request", "exactly one query per request, not "
                                 f"{len(queries)}"))
    return Asked(params, queries[0] if queries else None,
                 [v for k, v in params if k == "format" and v.strip()] or None,
                 request.headers.get("accept"))


async def _body(request: Request, max_query_bytes: int) -> bytes:
    limit = max_query_bytes * 3 + 8192  # room for percent-encoding and other fields
    try:
        return await read_body(request, limit)
    except BodyTooLarge as exc:
        raise BadRequest(problems.too_large(exc.size, max_query_bytes)) from None


async def _params(request: Request, max_query_bytes: int
                  ) -> tuple[list[tuple[str, str]], str | None]:
    """All protocol parameters, and the query of a direct POST."""
    try:
        params = parse_qsl(request.url.query, keep_blank_values=True, strict_parsing=False,
                           errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(problem(400, "Bad request", "the query string is not UTF-8")) from None
    if request.method != "POST":
        return params, None
    ctype = request.headers.get("content-type", "")
    media, _, rest = ctype.partition(";")
    media = media.strip().lower()
    charset = None
    for p in rest.split(";"):
        k, _, v = p.partition("=")
        if k.strip().lower() == "charset":
            charset = v.strip().strip('"').lower()
    if media == "application/sparql-update":
        raise BadRequest(problems.read_only())
    if media not in POST_TYPES:
        raise BadRequest(problem(
            415, "Unsupported media type",
            f"a POST must be application/x-www-form-urlencoded or application/sparql-query, "
            f"not {media or 'untyped'}", accepted=POST_TYPES))
    if charset not in (None, "utf-8", "utf8"):
        raise BadRequest(problem(415, "Unsupported charset",
                                 f"the body must be UTF-8, not {charset}"))
    body = await _body(request, max_query_bytes)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(problem(400, "Bad request", "the body is not valid UTF-8")) from None
    if media == "application/sparql-query":
        return params, text
    try:
        return params + parse_qsl(text, keep_blank_values=True, errors="strict"), None
    except UnicodeDecodeError:
        raise BadRequest(problem(400, "Bad request", "the form is not UTF-8")) from None


def substitutions(asked: Asked, checked: CheckedQuery) -> dict:
    """``$NAME=TERM`` parameters (an extension of the protocol, used by the query page for
    named queries): ?NAME is bound to TERM through the engine's substitutions, never by
    editing the text. TERM is one RDF term in Turtle syntax (``<iri>``, ``prefix:name``,
    ``"2015-06-30"^^xsd:date``, ``"text"@en``, ``42``). BadRequest for any other."""
    subs = {}
    for key, value in asked.params:
        if not key.startswith("$"):
            continue
        name = key[1:]
        if name not in checked.variables:
            raise BadRequest(problem(400, "Bad request",
                                     f"${name}: the query has no variable ?{name}"))
        term = parse_term(value)
        if term is None:
            raise BadRequest(problem(400, "Bad request", f"${name}={value[:200]} is not one RDF "
                                     'term; write <http://...>, prefix:name, "text" or '
                                     '"2015-06-30"^^xsd:date'))
        subs[name] = term
    return subs


_SUBJECT, _PREDICATE = ox.NamedNode("urn:isecg:s"), ox.NamedNode("urn:isecg:p")


def parse_term(text: str):
    """The one IRI or literal ``text`` spells in Turtle (predeclared prefixes known), or None.
    Parsed as the object of one triple: anything that makes more or other triples is refused."""
    if len(text) > 4096:
        return None
    doc = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREDECLARED.items())
    doc += f"<{_SUBJECT.value}> <{_PREDICATE.value}> {text} .\n"
    try:
        triples = list(ox.parse(doc.encode("utf-8", "surrogatepass"),
                                format=ox.RdfFormat.TURTLE))
    except (SyntaxError, ValueError, UnicodeEncodeError):
        return None
    if len(triples) != 1:
        return None
    t = triples[0]
    if (t.subject, t.predicate) != (_SUBJECT, _PREDICATE) or not isinstance(
            t.object, (ox.NamedNode, ox.Literal)):
        return None
    return t.object
