"""One query evaluated and written (sparql/engine.py): the dataset it is answered over.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
from isecg_kg.sparql.engine import QueryRequest, execute


def test_a_query_with_its_own_from_is_answered_over_that_dataset_not_the_union():
    """Our default graph is the union of all graphs, but only for queries without FROM."""
    store = ox.Store()
    for g, s in (("http://example.org/g1", "a"), ("http://example.org/g2", "b")):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/{s}"), ox.NamedNode("http://p"),
                          ox.Literal(s), ox.NamedNode(g)))

    def subjects(q: str) -> set[str]:
        body = execute(store, QueryRequest(q, solution_format="json")).body
        return {b["s"]["value"] for b in json.loads(body)["results"]["bindings"]}

    assert subjects("SELECT ?s { ?s ?p ?o }") == {"http://example.org/a", "http://example.org/b"}
    assert subjects("SELECT ?s FROM <http://example.org/g1> { ?s ?p ?o }") == {
        "http://example.org/a"}
    assert subjects("SELECT ?s FROM NAMED <http://example.org/g1> { ?s ?p ?o }") == set()
    # a word FROM inside a string is not a dataset clause
    assert len(subjects('SELECT ?s { ?s ?p ?o FILTER(?o != "FROM") }')) == 2


def test_the_checks_verdict_on_from_gives_the_answer_execute_finds_by_itself():
    """The endpoint and the CLI pass CheckedQuery.from_graphs along (own_dataset), so the worker
    need not tokenize again; told or not, the answer is the same."""
    from isecg_kg.config import GRAPH_DATA, GRAPH_ONTOLOGY
    from isecg_kg.sparql.guard import check_query

    store = ox.Store()
    for g, s in ((GRAPH_ONTOLOGY, "a"), (GRAPH_DATA, "b")):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/{s}"), ox.NamedNode("http://p"),
                          ox.Literal(s), ox.NamedNode(g)))
    for q in (f"SELECT ?s FROM <{GRAPH_ONTOLOGY}> {{ ?s ?p ?o }}",
              f"SELECT ?s FROM NAMED <{GRAPH_DATA}> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
              'SELECT ?s { ?s ?p ?o } # from every graph: "FROM" in a comment',
              'SELECT ?s { ?s ?p "from" }'):
        checked = check_query(q)
        told = QueryRequest(checked.text, own_dataset=bool(checked.from_graphs))
        assert execute(store, told).body == execute(store, QueryRequest(checked.text)).body, q
    first = f"SELECT ?s FROM <{GRAPH_ONTOLOGY}> {{ ?s ?p ?o }}"  # the flag matters:
    assert execute(store, QueryRequest(first, own_dataset=False)).body != \
        execute(store, QueryRequest(first, own_dataset=True)).body
