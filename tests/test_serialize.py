"""The dump writers that replaced whole-document library calls write exactly what those calls
wrote: JSON-LD node by node (by orjson) equals json.dumps of the whole document, N-Quads made
by joined chunks equal line-by-line N-Quads, the sorted graphs with the triples given equal the
sorted lines parsed back."""

from __future__ import annotations

import json

import pyoxigraph as ox
from hypothesis import given
from hypothesis import strategies as st
from isecg_kg.builder import serialize as ser

EX = "http://example.org/"
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)))
json_ld = st.recursive(text, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(text, inner, max_size=4), max_leaves=12)


@given(json_ld)
def test_json_encoder_equals_json_dumps(value):
    assert ser.dump_json(value) == json.dumps(value, indent=2, sort_keys=True,
                                              ensure_ascii=False).encode()


def test_json_encoder_escapes_every_character_as_json_dumps_does():
    every = "".join(map(chr, [*range(0xD800), *range(0xE000, 0x110000)]))  # no surrogates
    value = {every: [every[i:i + 4096] for i in range(0, len(every), 4096)]}
    assert ser.dump_json(value) == json.dumps(value, indent=2, sort_keys=True,
                                              ensure_ascii=False).encode()


def _graph() -> list[ox.Triple]:
    s, b = ox.NamedNode(EX + "s"), ox.BlankNode("b1")
    p = ox.NamedNode(EX + "p")
    rdf_type = ox.NamedNode(ser.RDF_TYPE)
    triples = [
        ox.Triple(s, rdf_type, ox.NamedNode(EX + "C")),
        ox.Triple(s, rdf_type, ox.NamedNode("http://www.w3.org/ns/org#Organization")),
        ox.Triple(s, p, ox.Literal('two\nlines, a "quote" and a dot .', language="en")),
        ox.Triple(s, p, ox.Literal("7", datatype=ox.NamedNode(
            "http://www.w3.org/2001/XMLSchema#integer"))),
        ox.Triple(s, p, b),
        ox.Triple(b, p, ox.Literal("é \\ \t")),
    ]
    return ser.parse_lines(ser.graph_lines(triples))


def _whole_document(triples: list[ox.Triple]) -> str:
    context = ser.context_document()["@context"]
    nodes = list(ser.jsonld_nodes(triples, ser.Compactor(context)))
    return json.dumps({"@context": context, "@graph": nodes}, indent=2, sort_keys=True,
                      ensure_ascii=False) + "\n"


def test_jsonld_written_node_by_node_equals_the_whole_document(tmp_path):
    for triples in (_graph(), []):
        ser.write_jsonld(triples, tmp_path / "g.jsonld")
        assert (tmp_path / "g.jsonld").read_text(encoding="utf-8") == _whole_document(triples)


def test_nquads_by_chunks_equal_nquads_by_line(tmp_path, monkeypatch):
    monkeypatch.setattr(ser, "CHUNK", 2)
    lines = ser.graph_lines(_graph())
    ser.write_nquads([(EX + "g1", lines), (EX + "g2", lines[:3])], tmp_path / "g.nq")
    expected = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
                for g, part in ((EX + "g1", lines), (EX + "g2", lines[:3]))
                for t in ser.parse_lines(part)]
    assert (tmp_path / "g.nq").read_bytes() == b"".join(
        ox.serialize([q], format=ox.RdfFormat.N_QUADS) for q in expected)


def test_sorted_graphs_keep_the_given_triples_in_the_order_of_their_sorted_lines():
    triples = list(reversed(_graph()))
    big = triples + triples[:2]  # duplicates within a graph and across graphs
    small = triples[3:5] + [ox.Triple(ox.NamedNode(EX + "z"), ox.NamedNode(EX + "p"),
                                      ox.Literal("only here"))]
    graphs = [(ser.ntriples_lines(t), t) for t in (small, big)]
    (small_lines, big_lines), union, in_order = ser.sorted_graphs(graphs)
    assert small_lines == ser.graph_lines(small) and big_lines == ser.graph_lines(big)
    assert union == sorted(set(small_lines) | set(big_lines))
    assert in_order == ser.parse_lines(union)
