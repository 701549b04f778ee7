"""What external SPARQL stores say and do differently, and how the remote engine evens it out.

The remote engine (sparql.remote) sends each query with its dataset and reads the answer back as
the embedded engine would have written it. These functions are the rewriting on the way out
(``with_values``: bindings as a VALUES block; ``without_from``: the query's own FROM clauses, which
the request's dataset replaces; ``accept``: one media type by the query's form) and the reading
on the way back (``virtuoso_bnodes``, ``canonical``, ``ask_answer``, ``store_syntax_error``),
each for a store met in practice (Oxigraph server, Virtuoso 7). They read the query as the checks
left it (guard.CheckedQuery: its form, where its FROM clauses and its WHERE clause's brace
stand), never the text again.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from isecg_kg import formats
from isecg_kg.config import PREDECLARED
from isecg_kg.errors import QueryError
from isecg_kg.sparql.catalogue import without_defaults
from isecg_kg.sparql.explain import syntax_error
from isecg_kg.sparql.guard import CheckedQuery

# What a store is asked for: SPARQL JSON results or N-Triples, one by the query's form
SOLUTIONS = formats.RESULTS["json"].media_type
NTRIPLES = formats.SYNTAXES["nt"].media_type
ACCEPT = f"{SOLUTIONS}, {NTRIPLES};q=0.9"


VIRTUOSO_BNODE = b'"nodeID://'


def virtuoso_bnodes(chunks):
    """JSON results with Virtuoso 7's blank node values ("nodeID://b10005", which no SPARQL
    JSON parser takes as a blank node label) written as plain labels ("b10005"). A string
    value beginning with those 10 bytes loses them too; none of the release's does."""
    keep = len(VIRTUOSO_BNODE) - 1  # a match may straddle two chunks
    tail = b""
    for chunk in chunks:
        data = (tail + chunk).replace(VIRTUOSO_BNODE, b'"')
        tail, data = data[-keep:], data[:-keep]
        if data:
            yield data
    if tail:
        yield tail


def with_values(checked: CheckedQuery, substitutions: dict) -> str:
    """The query's text with ``VALUES (?v ...) { (term ...) }`` first in its WHERE clause, so the
    query (BINDs, FILTERs, the projection) sees the variables bound as pyoxigraph's
    substitutions; a named query's own value of a bound variable goes
    (``catalogue.without_defaults``, which keeps every offset)."""
    if checked.where_open is None:
        raise QueryError("variables can be bound only in a SELECT or ASK query sent to a store")
    names = [v.value if isinstance(v, ox.Variable) else str(v).lstrip("?$")
             for v in substitutions]
    block = (f"VALUES ({' '.join('?' + n for n in names)}) "
             f"{{ ({' '.join(str(t) for t in substitutions.values())}) }} ")
    text, at = without_defaults(checked.text, names), checked.where_open
    return text[:at] + " " + block + text[at:]


def without_from(checked: CheckedQuery) -> str:
    """The query's text without its FROM / FROM NAMED clauses. Every request names its dataset,
    which the SPARQL Protocol says replaces them; Virtuoso 7 keeps the query's FROM graphs beside
    the request's, so they are not sent. Lines and columns stay where they were."""
    text = checked.text
    for start, end in reversed(checked.from_spans):
        text = text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]
    return text


XSD_BOOLEAN = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
_BOOLEANS = {"1": "true", "0": "false"}


def canonical(term):
    """A term as the embedded engine writes it: Virtuoso 7 stores an xsd:boolean as 1 or 0, and
    answers "1"^^xsd:boolean for "true"^^xsd:boolean (the same value, another lexical form)."""
    if isinstance(term, ox.Literal) and term.value in _BOOLEANS and term.datatype == XSD_BOOLEAN:
        return ox.Literal(_BOOLEANS[term.value], datatype=XSD_BOOLEAN)
    return term


def canonical_triple(triple: ox.Triple) -> ox.Triple:
    obj = canonical(triple.object)
    return triple if obj is triple.object else ox.Triple(triple.subject, triple.predicate, obj)


def accept(form: str | None) -> str:
    """The one media type a query of this form is answered in (both, when unknown)."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        return NTRIPLES
    return SOLUTIONS if form in ("SELECT", "ASK") else ACCEPT


def ask_answer(form: str | None, parsed):
    """An ASK's answer: the QueryBoolean, or Virtuoso 7's one row of one 0/1 value as a bool."""
    if isinstance(parsed, ox.QueryBoolean) or form != "ASK":
        return parsed
    if len(parsed.variables) != 1:
        raise ValueError("an ASK query was answered with solutions of "
                         f"{len(parsed.variables)} variables")
    rows = [row[0] for row in parsed]
    if len(rows) > 1:
        raise ValueError(f"an ASK query was answered with {len(rows)} rows")
    return bool(rows) and rows[0] is not None and rows[0].value in ("1", "true")


def local_syntax_error(text: str, base: str | None) -> QueryError | None:
    """What the embedded engine says of ``text``, if it is a syntax error there: parsed here on
    an empty store (a SELECT or CONSTRUCT is not evaluated until read, and is never read)."""
    try:
        ox.Store().query(text, base_iri=base, prefixes=dict(PREDECLARED))
    except SyntaxError as exc:
        return syntax_error(exc, text)
    except (OSError, RuntimeError, ValueError):  # an ASK's evaluation failed: no verdict here
        return None
    return None


def store_syntax_error(detail: str, prologue: str, text: str | None = None) -> QueryError:
    """The store's parse error as the embedded engine words it, columns of line 1 put back."""
    m = re.search(r"error at (\d+):(\d+): (.*)", detail, re.DOTALL)
    if not m:
        return QueryError(f"the store refused the query: {detail[:300]}")
    line, col = int(m.group(1)), int(m.group(2))
    if line == 1:
        col = max(1, col - len(prologue))
    return syntax_error(SyntaxError(f"error at {line}:{col}: {m.group(3)}"), text)
