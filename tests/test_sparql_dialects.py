"""What external stores do differently, evened out (sparql/dialects.py), read from the checks'
verdict: the request's dataset replaces the query's FROM (lines and columns kept), bindings go
in as a VALUES block opening the WHERE clause, an ASK answered as Virtuoso 7 answers it is a
boolean, and Virtuoso's blank nodes and booleans are written as the embedded engine writes them."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from isecg_kg.errors import QueryError
from isecg_kg.sparql import dialects
from isecg_kg.sparql.guard import check_query

DATA = "https://w3id.org/isecg/graph/data"


def test_the_query_s_from_clauses_are_blanked_where_they_stand():
    checked = check_query(f"SELECT * FROM <{DATA}>\nFROM NAMED\n<{DATA}> WHERE {{ ?s ?p ?o }}")
    text = dialects.without_from(checked)
    assert "FROM" not in text and DATA not in text
    assert text.count("\n") == checked.text.count("\n")  # line numbers stay
    assert len(text) == len(checked.text) and text.endswith("WHERE { ?s ?p ?o }")
    ox.Store().query(text)  # what is left parses


def test_bindings_open_the_where_clause_and_the_query_sees_them():
    checked = check_query("SELECT ?x ?y WHERE { BIND(?x + 1 AS ?y) }")
    text = dialects.with_values(checked, {ox.Variable("x"): ox.Literal("41", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer"))})
    [row] = list(ox.Store().query(text))
    assert row["y"].value == "42"
    with pytest.raises(QueryError, match="SELECT or ASK"):
        dialects.with_values(check_query("CONSTRUCT WHERE { ?s ?p ?o }"), {"x": ox.Literal("1")})


@pytest.mark.parametrize(("form", "media"), [("SELECT", dialects.SOLUTIONS),
                                             ("ASK", dialects.SOLUTIONS),
                                             ("CONSTRUCT", dialects.NTRIPLES),
                                             ("DESCRIBE", dialects.NTRIPLES),
                                             (None, dialects.ACCEPT)])
def test_one_media_type_is_asked_by_the_query_form(form, media):
    assert dialects.accept(form) == media


def virtuoso_ask(value: str | None):
    rows = "" if value is None else f'{{"__ASK_RETVAL": {{"type": "literal", "value": "{value}"}}}}'
    body = ('{"head": {"vars": ["__ASK_RETVAL"]}, "results": {"bindings": [' + rows + "]}}")
    return ox.parse_query_results(body.encode(), format=ox.QueryResultsFormat.JSON)


def test_virtuoso_s_ask_as_one_row_is_a_boolean():
    assert dialects.ask_answer("ASK", virtuoso_ask("1")) is True
    assert dialects.ask_answer("ASK", virtuoso_ask("0")) is False
    assert dialects.ask_answer("ASK", virtuoso_ask(None)) is False
    solutions = virtuoso_ask("1")
    assert dialects.ask_answer("SELECT", solutions) is solutions  # only an ASK is read so


def test_virtuoso_s_blank_nodes_are_plain_labels_even_across_chunks():
    body = b'{"value": "nodeID://b10005"}'
    for cut in range(1, len(body)):
        assert b"".join(dialects.virtuoso_bnodes([body[:cut], body[cut:]])) == \
            b'{"value": "b10005"}', cut


def test_a_boolean_stored_as_a_number_is_written_as_the_embedded_engine_writes_it():
    boolean = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
    assert dialects.canonical(ox.Literal("1", datatype=boolean)) == ox.Literal("true",
                                                                              datatype=boolean)
    assert dialects.canonical(ox.Literal("1")) == ox.Literal("1")
