"""The answer writers (sparql/results.py): each result format the registry gives our own writer
written as its specification says, parsed back by the libraries the registry names."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest
from isecg_kg import formats
from isecg_kg.errors import QueryError
from isecg_kg.sparql.results import WRITERS, write_boolean, write_solutions, write_triples

XSD = "http://www.w3.org/2001/XMLSchema#"
ROW = (ox.NamedNode("https://w3id.org/isecg/id/agency/nasa"),
       ox.Literal('tab\there "quoted"\nnewline', language="en"),
       ox.Literal("42", datatype=ox.NamedNode(XSD + "integer")),
       None)
VARS = ["s", "label", "n", "unbound"]


@pytest.mark.parametrize("name", [f.name for f in formats.answers("SELECT", served_only=True)])
def test_each_served_result_format_reads_back_as_written(name):
    f = formats.RESULTS[name]
    body = write_solutions(VARS, [ROW], name)
    if name == "csv":  # lossy by design (no types): the csv module reads its fields
        rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
        assert rows == [VARS, [ROW[0].value, ROW[1].value, "42", ""]]
        assert body.endswith(b"\r\n")
        return
    [solution] = list(ox.parse_query_results(body, format=f.oxigraph_format()))
    assert tuple(solution[v] for v in VARS) == ROW


def test_tsv_escapes_what_would_split_a_field_or_a_line():
    body = write_solutions(VARS, [ROW], "tsv").decode()
    header, line = body.splitlines()
    assert header == "?s\t?label\t?n\t?unbound"
    assert line.count("\t") == 3 and "\\t" in line and "\\n" in line


def test_json_leaves_unbound_variables_out_and_keeps_types():
    doc = json.loads(write_solutions(VARS, [ROW], "json"))
    [binding] = doc["results"]["bindings"]
    assert set(binding) == {"s", "label", "n"}
    assert binding["label"]["xml:lang"] == "en" and binding["n"]["datatype"] == XSD + "integer"


def test_json_bytes_are_json_dumps_compact_over_every_character():
    """The JSON writer (orjson) gives json.dumps's compact, non-ASCII bytes: every code point but
    the surrogates, in IRIs, blank-node labels, plain, language-tagged and typed literals."""
    every = "".join(map(chr, [*range(0xD800), *range(0xE000, 0x110000)]))
    chunks = [every[i:i + 4096] for i in range(0, len(every), 4096)]
    rows = [(ox.NamedNode("http://example.org/" + str(i)), ox.Literal(c),
             ox.Literal(c, language="en") if i % 2 else ox.Literal(c, datatype=ox.NamedNode(
                 "http://example.org/dt")), ox.BlankNode(f"b{i}") if i % 3 else None)
            for i, c in enumerate(chunks)]
    value = {"head": {"vars": VARS}, "results": {"bindings": [
        {v: t for v, t in zip(VARS, [
            {"type": "uri", "value": row[0].value},
            {"type": "literal", "value": row[1].value},
            {"type": "literal", "value": row[2].value, "xml:lang": "en"} if i % 2 else
            {"type": "literal", "value": row[2].value, "datatype": "http://example.org/dt"},
            {"type": "bnode", "value": row[3].value} if row[3] is not None else None],
            strict=True) if t is not None}
        for i, row in enumerate(rows)]}}
    assert write_solutions(VARS, rows, "json") == json.dumps(
        value, ensure_ascii=False, separators=(",", ":")).encode()


def test_xml_refuses_a_character_xml_cannot_carry():
    with pytest.raises(QueryError, match="ask for JSON"):
        write_solutions(["x"], [(ox.Literal("bell \x07"),)], "xml")


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_an_ask_is_answered_in_every_result_format(name):
    yes, no = write_boolean(True, name), write_boolean(False, name)
    assert yes != no
    if formats.RESULTS[name].oxigraph in ("JSON", "XML"):
        assert bool(ox.parse_query_results(yes, format=formats.RESULTS[name].oxigraph_format()))
    else:  # no W3C form: the word, as Oxigraph and Jena write it
        assert yes == b"true\n"


def test_the_table_is_for_people():
    body = write_solutions(["s", "n"], [(ROW[0], ROW[2])], "table").decode()
    assert body.splitlines()[2].split() == ["agency:nasa", "42"]
    assert body.endswith("(1 row)\n")


def test_an_unknown_format_is_named_with_those_there_are():
    with pytest.raises(QueryError, match="use one of table, json, xml, csv, tsv"):
        write_solutions(["x"], [], "yaml")
    with pytest.raises(QueryError, match="unknown RDF format"):
        write_triples([], "trig")
