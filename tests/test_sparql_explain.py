"""SPARQL syntax errors a person can act on (sparql/explain.py): for each malformed query, the
position of the likeliest cause and one plain sentence, the same from the library, the CLI and
the endpoint (whose text the query page shows). And a SERVICE whose remote end fails is a
gateway error (502/504), never a malformed query."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler

import httpx
import pyoxigraph as ox
import pytest
from conftest import run_cli
from isecg_kg.errors import QueryError
from isecg_kg.sparql.engine import QueryRequest, execute
from isecg_kg.sparql.explain import in_source
from isecg_kg.sparql.guard import check_query
from servers import LoopbackHTTP, isecg_server

# (query, line, column, words the message must contain)
CASES = [
    ("SELEC ?x WHERE { ?x ?p ?o }", 1, 1, "unknown keyword `SELEC` — did you mean `SELECT`?"),
    ("SELECT ?x WHERE { ?x foo:p ?o }", 1, 22, "undeclared prefix `foo:`"),
    ("SELECT ?x WHERE {\n ?x ?p ?o .\n OPTIONAL {\n ?x ?q ?r \n}", 5, 2,
     "the `{` opened at line 1, column 17 is never closed"),
    ("SELECT * WHERE {\n  ?s ?p ?o .\n  { ?s ?q ?r\n}", 4, 2,
     "the `{` opened at line 1, column 16 is never closed"),
    ("SELECT ?x WHERE { ?x ?p ?o }}", 1, 29, "this `}` closes nothing"),
    ("SELECT ?x WHERE { ?x ?p ?o ", 1, 28, "never closed; add `}`"),
    ('SELECT ?x WHERE { ?x ?p "abc }', 1, 25, "a string opened here is never closed"),
    ("SELECT ?x WHERE { ?x ?p 'abc }", 1, 25, "a string opened here is never closed"),
    ("ASK { ?s ?p 'x\n' }", 1, 13, "a string opened here is never closed"),
    ("SELECT ?x WHERE { ?x ?p ?o } LIMT 3", 1, 30, "did you mean `LIMIT`?"),
    ("SELECT ?x WHERE { ?x ?p ?o FILTR(?o) }", 1, 28, "did you mean `FILTER`?"),
    ("SELECT ?x WHERE { ?x rdfs:label ?l OPTIONL { ?x ?p ?o } }", 1, 36,
     "did you mean `OPTIONAL`?"),
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 10 OFSET 5", 1, 38, "did you mean `OFFSET`?"),
    ("SELECT ?x WHERE { ?x rdfs:label ?l } ORDER BY DESK(?l)", 1, 47, "did you mean `DESC`?"),
    ("SELECT ?x WHERE { ?x a isecg:Foo } LIMIT ten", 1, 42, "LIMIT takes a whole number"),
    ("SELECT (COUNT(?x) AS ?n WHERE { ?x ?p ?o }", 1, 25,
     "the `(` opened at line 1, column 8 is never closed"),
    ('SELECT ?x WHERE { ?x ?p ?o FILTER regex(?o, "a" }', 1, 49,
     "does not match the `(` opened at line 1, column 40"),
    ("SELECT * WHERE {\n  ?s ?p ?o\n  FILTER(\n}", 4, 1,
     "does not match the `(` opened at line 3, column 9"),
    ("ASK { ?s ?p ?o ] }", 1, 16, "this `]` does not match the `{`"),
    ("SELECT * {}}", 1, 12, "closes nothing"),
    ("SELECT ?x WHERE { ?x <http://a b> ?o }", 1, 22, "contains a space"),
    ("SELECT ?x WHERE { ?x a <http://x/A }", 1, 24, "never closed with >"),
    ("SELECT * WHERE { ?s ?p }", 1, 18, "a subject and a predicate but no object"),
    ("PREFIX : <http://x/> SELECT * { :a :b }", 1, 33, "but no object"),
    ("SELECT * WHERE { ?s ?p ?o ; ?q }", 1, 29, "after `;` this predicate needs its object"),
    ("CONSTRUCT ?x WHERE { ?x ?p ?o }", 1, 11, "CONSTRUCT needs a template in braces"),
    ("SELECT ?x WHERE { ?x ?p ?o } UNION { ?x ?p ?o }", 1, 30,
     "UNION joins two groups inside the WHERE clause"),
    ("SELECT ?x WHERE { ?x ?p ?o . BIND(1 AS ?x) }", 1, 40, "BIND assigns ?x"),
    ("select ?x where { ?x ?p ?o } limit 1 limit 2", 1, 38, "`LIMIT` appears a second time"),
    ("SELECT ?x WHERE { ?x ?p ?o } ORDER ?x", 1, 38, "expected `BY`"),
    ("SELECT ?x { ?x ?p ?o } GROUP BY", 1, 32, "expected a variable"),
    ("SELECT * { ?s ?p ?o } OFFSET -1", 1, 30, "expected a number"),
    ("SELECT ?x WHERE ?x ?p ?o", 1, 17, "unexpected `?x`; expected `{`"),
    ("SELECT ?x (1 AS ?x) {}", 1, 23, "duplicated variable name in SELECT"),
    ("SELECT DISTINCT DISTINCT ?x { ?x ?p ?o }", 1, 17, "unexpected `DISTINCT`"),
    ("DESCRIBE", 1, 9, "expected a variable, `*`, a prefixed name, an IRI"),
    ("SELECT ?x WHERE { ?x ?p ?o . FILTER(?o > ) }", 1, 45, "an expression"),
    ("PREFIX x <http://x/> SELECT * {}", 1, 8, "a prefix name ends with a colon"),
    ("SELECT ?x FROM WHERE { ?x ?p ?o }", 1, 16, "FROM must be followed by an IRI"),
    ("SELECT * WHERE { SERVICE nope:x { ?s ?p ?o } }", 1, 26, "undeclared prefix `nope:`"),
    # a grouping SELECT names the variable it neither groups nor aggregates, where it is used
    ("SELECT ?x (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s", 1, 8,
     "the SELECT selects `?x`, which is neither grouped nor aggregated"),
    ("SELECT ?label (COUNT(*) AS ?n)\nWHERE { ?s rdfs:label ?label }", 1, 8,
     "`?label`, which is neither grouped nor aggregated"),
    ("SELECT ?s (SAMPLE(?p) AS ?q) ?o WHERE { ?s ?p ?o } GROUP BY ?s LIMIT 3", 1, 30,
     "add ?o to GROUP BY"),
    ("SELECT (?o + 1 AS ?y) (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s", 1, 9,
     "the expression uses `?o`"),
    ("SELECT ?s WHERE {\n  { SELECT ?x (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s }\n}",
     2, 12, "the SELECT selects `?x`"),
    ("SELECT * WHERE { ?s ?p ?o } GROUP BY ?s", 1, 40, "SELECT * is not authorized"),
    ("", 1, 1, "the query is empty"),
    ("# only a comment", 1, 1, "the query is empty"),
]
NOT_THERE = ("\\u{", "..=", "[_]", "Prefix not found")  # the parser's internals, never shown


def message(query: str) -> QueryError:
    checked = None
    try:
        checked = check_query(query)
        execute(ox.Store(), QueryRequest(checked.text, prefixes=checked.prefixes))
    except QueryError as exc:  # the engine's, worded for the query as written (as the endpoint)
        return exc if checked is None else in_source(exc, checked)
    raise AssertionError(f"no error for {query!r}")


def test_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("query, line, column, words", CASES)
def test_syntax_error_names_position_and_cause(query, line, column, words):
    exc = message(query)
    text = str(exc)
    assert text.startswith(f"syntax error at line {line}, column {column}: "), text
    assert words in text, text
    assert (exc.line, exc.column) == (line, column)
    assert not any(n in text for n in NOT_THERE), text
    assert "\n" not in text and len(text) < 300


@pytest.fixture(scope="module")
def server(dist):
    with isecg_server(dist, "--workers", "2") as url:
        yield url


@pytest.mark.parametrize("query, line, column, words", CASES[::4])
def test_cli_and_endpoint_say_the_same(dist, server, query, line, column, words):
    resp = httpx.post(server + "/sparql", data={"query": query}, timeout=10)
    assert resp.status_code == 400
    body = resp.json()
    assert body["title"] == "Malformed query"
    assert (body["line"], body["column"]) == (line, column)
    cli = run_cli("query", "--dist", str(dist), query)
    assert cli.returncode == 2
    assert cli.stderr.strip() == f"isecg-kg query: {body['detail']}"


# ---- a SERVICE whose remote end fails is not a malformed query


class Fails(BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(500)
        self.end_headers()
        self.wfile.write(b"internal error")

    do_GET = do_POST


class Garbage(Fails):
    def do_POST(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.end_headers()
        self.wfile.write(b"{not json")

    do_GET = do_POST


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    return port


@pytest.mark.parametrize("remote", ["error-status", "garbage", "unreachable"])
def test_failing_service_endpoint_is_502_not_malformed(dist, remote):
    stand_in = None
    if remote == "unreachable":
        url = f"http://127.0.0.1:{_closed_port()}/sparql"
    else:
        stand_in = LoopbackHTTP(Fails if remote == "error-status" else Garbage, "/sparql")
        url = stand_in.url
    query = ("SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> "
             "{ ?s ?p ?o } } LIMIT 1")
    try:
        with isecg_server(dist, "--workers", "2", "--wikidata-endpoint", url) as base:
            resp = httpx.post(base + "/sparql", data={"query": query}, timeout=20)
        cli = run_cli("query", "--dist", str(dist), "--wikidata-endpoint", url, query)
    finally:
        if stand_in is not None:
            stand_in.close()
    assert resp.status_code == 502, resp.text
    body = resp.json()
    assert body["title"] == "Bad gateway" and "Malformed" not in resp.text
    assert "SERVICE <https://query.wikidata.org/sparql> failed" in body["detail"]
    assert url not in resp.text  # the mirror's address stays private
    assert cli.returncode == 2 and "SERVICE <https://query.wikidata.org/sparql> failed" in \
        cli.stderr and "syntax" not in cli.stderr
