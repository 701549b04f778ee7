"""locate.py: the line a triple is written on, found by a second, line-fed parse."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from isecg_kg.builder.load import load_sources
from isecg_kg.builder.locate import lines_of, locate, long_line

E = "http://e/"
TTL = """@prefix e: <http://e/> .

e:a e:p e:b ;
    e:q "x" ,
        "y" .
e:c e:p [ e:q 1 ] .
e:d e:p \"\"\"two
lines\"\"\" .
e:f e:p e:g . e:h e:p e:i .
"""


def n(local: str) -> ox.NamedNode:
    return ox.NamedNode(E + local)


@pytest.fixture
def ttl(tmp_path):
    path = tmp_path / "x.ttl"
    path.write_text(TTL)
    return path


def test_each_triple_is_placed_on_the_line_that_completes_it(ttl):
    patterns = [(n("a"), n("p"), n("b")), (n("a"), n("q"), ox.Literal("y")),
                (None, n("q"), None), (n("d"), None, None), (n("h"), None, None)]
    assert lines_of(ttl, patterns) == [[3], [5], [4, 5, 6], [8], [9]]


def test_blank_nodes_in_a_pattern_match_any_node(ttl):
    assert lines_of(ttl, [(ox.BlankNode("whatever"), n("q"), ox.Literal(
        "1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))]) == [[6]]


def test_locate_tries_patterns_in_order_and_names_every_file(tmp_path):
    for d in ("ontology", "shapes"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "x.ttl").write_text("<http://e/o> <http://e/p> 1 .\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.ttl").write_text(TTL)
    (tmp_path / "data" / "b.ttl").write_text("\n\n<http://e/a> <http://e/p> <http://e/z> .\n")
    sources = load_sources(tmp_path)
    places = locate(sources, [
        [(n("a"), n("p"), n("z")), (n("a"), None, None)],   # the exact triple, in b.ttl
        [(n("a"), n("p"), n("nope")), (n("a"), n("p"), None)],  # falls back to the path
        [(n("nope"), None, None)],                            # nowhere
        [(n("a"), None, None)],                               # focus only: once per file
    ])
    assert places == [[("data/b.ttl", 3)], [("data/a.ttl", 3), ("data/b.ttl", 3)], [],
                      [("data/a.ttl", 3), ("data/b.ttl", 3)]]


def test_long_line_finds_the_first_line_over_the_limit():
    assert long_line(b"ab\n" + b"x" * 10 + b"\ncd", 5) == 2
    assert long_line(b"ab\ncd", 5) is None
    assert long_line(b"x" * 6, 5) == 1
