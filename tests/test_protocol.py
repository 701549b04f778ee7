"""What a request to /sparql asks (web/endpoint/protocol.py), read from real ASGI requests:
the SPARQL 1.1 Protocol's parameters and bodies, what it refuses with which status, and the
``$NAME=TERM`` extension's one RDF term."""

from __future__ import annotations

import asyncio

import pyoxigraph as ox
import pytest
from isecg_kg.sparql.guard import check_query
from isecg_kg.web.endpoint.protocol import BadRequest, parse_term, read, substitutions
from starlette.requests import Request

LIMIT = 1000


def request(method: str = "GET", query: bytes = b"", body: bytes = b"",
            ctype: str | None = None) -> Request:
    headers = [(b"content-type", ctype.encode())] if ctype else []
    sent = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return sent.pop(0) if sent else {"type": "http.disconnect"}

    return Request({"type": "http", "method": method, "path": "/sparql", "query_string": query,
                    "headers": headers}, receive)


def asked(*args, **kwargs):
    return asyncio.run(read(request(*args, **kwargs), LIMIT))


def refused(*args, **kwargs) -> int:
    with pytest.raises(BadRequest) as exc:
        asked(*args, **kwargs)
    return exc.value.response.status_code


def test_the_query_comes_from_the_url_a_form_or_a_direct_post():
    assert asked(query=b"query=ASK%7B%7D&format=json").query == "ASK{}"
    form = asked("POST", body=b"query=ASK%7B%7D", ctype="application/x-www-form-urlencoded")
    assert form.query == "ASK{}"
    direct = asked("POST", b"format=csv", b"ASK {}", "application/sparql-query; charset=utf-8")
    assert direct.query == "ASK {}" and direct.formats == ["csv"]
    assert asked(query=b"graph=x").query is None


@pytest.mark.parametrize(("how", "status"), [
    ({"query": b"update=CLEAR+ALL"}, 403),
    ({"method": "POST", "body": b"CLEAR ALL", "ctype": "application/sparql-update"}, 403),
    ({"query": b"query=ASK%7B%7D&query=ASK%7B%7D"}, 400),
    ({"query": b"query=%FF"}, 400),
    ({"method": "POST", "body": b"ASK {}", "ctype": "text/plain"}, 415),
    ({"method": "POST", "body": b"ASK {}", "ctype": "application/sparql-query; charset=latin1"},
     415),
    ({"method": "POST", "body": b"\xff", "ctype": "application/sparql-query"}, 400),
    ({"method": "POST", "body": b"x" * (3 * LIMIT + 8193), "ctype": "application/sparql-query"},
     413),
])
def test_what_the_protocol_refuses(how, status):
    assert refused(**how) == status


def test_a_term_is_one_iri_or_literal_in_turtle():
    assert parse_term("agency:nasa") == ox.NamedNode("https://w3id.org/isecg/id/agency/nasa")
    assert parse_term('"2015-06-30"^^xsd:date').datatype.value.endswith("#date")
    assert parse_term("42").value == "42"
    for not_one in ("<a:b> . <c:d> <e:f> <g:h>", "[]", "_:b", "(1 2)", "", "x" * 5000,
                    "<a:b> ; <c:d> <e:f>"):
        assert parse_term(not_one) is None, not_one


def test_bindings_name_variables_of_the_query():
    checked = check_query("SELECT ?x WHERE { BIND(1 AS ?x) }")
    subs = substitutions(asked(query=b"query=q&%24x=42"), checked)
    assert subs == {"x": ox.Literal("42", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer"))}
    for wrong in (b"query=q&%24y=1", b"query=q&%24x=%5B%5D"):
        with pytest.raises(BadRequest):
            substitutions(asked(query=wrong), checked)
