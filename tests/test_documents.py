"""RDF documents (web/documents.py): the named graphs at /graph/{ontology,data,inferred} and the
read-only Graph Store Protocol on /sparql, in every RDF format, over real HTTP; every body is
parsed completely and compared with the graph of isecg.nq it stands for."""

from __future__ import annotations

import httpx
import pyoxigraph as ox
import pytest
from isecg_kg.config import GRAPHS
from servers import isecg_server

PARSERS = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
           "application/ld+json": ox.RdfFormat.JSON_LD, "application/rdf+xml": ox.RdfFormat.RDF_XML,
           "application/trig": ox.RdfFormat.TRIG, "application/n-quads": ox.RdfFormat.N_QUADS}
SUFFIXES = {"ttl": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json",
            "rdf": "application/rdf+xml", "trig": "application/trig",
            "nq": "application/n-quads"}


@pytest.fixture(scope="module")
def server(dist):
    with isecg_server(dist, "--workers", "2") as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server, timeout=20) as c:
        yield c


def quads(resp: httpx.Response) -> list[ox.Quad]:
    assert resp.status_code == 200, resp.text[:300]
    media = resp.headers["content-type"].split(";")[0]
    return list(ox.parse(resp.content, format=PARSERS[media]))


def graph_of(store, graph: str | None) -> set[ox.Triple]:
    g = ox.NamedNode(graph) if graph else None
    return {q.triple for q in store.quads_for_pattern(None, None, None, g)}


def same(got, expected) -> bool:
    """Equal graphs up to blank-node labels (a parser mints its own)."""
    from rdflib import Graph
    from rdflib.compare import isomorphic

    def g(triples):
        return Graph().parse(data=ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES),
                             format="nt")

    return len(set(got)) == len(set(expected)) and isomorphic(g(set(got)), g(set(expected)))


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("graph", GRAPHS)
def test_graph_iris_are_documents_in_every_format(client, store, graph, suffix):
    name = graph.rsplit("/", 1)[-1]
    resp = client.get(f"/graph/{name}.{suffix}")
    assert resp.headers["content-type"].split(";")[0] == SUFFIXES[suffix]
    got = quads(resp)
    assert same({q.triple for q in got}, graph_of(store, graph))
    if suffix in ("trig", "nq", "jsonld"):  # quad formats keep the graph's name
        assert {q.graph_name for q in got} == {ox.NamedNode(graph)}


@pytest.mark.parametrize("accept, media", [
    (None, "text/turtle"), ("application/n-quads", "application/n-quads"),
    ("application/trig", "application/trig"), ("application/json", "application/ld+json"),
    ("text/n3", "text/turtle"), ("application/rdf+xml;q=1, text/turtle;q=0.5",
                                 "application/rdf+xml"),
])
def test_graph_iri_negotiates(client, store, accept, media):
    resp = client.get("/graph/inferred", headers={"Accept": accept} if accept else {})
    assert resp.headers["content-type"].split(";")[0] == media
    assert "Accept" in resp.headers["vary"]
    assert same({q.triple for q in quads(resp)}, graph_of(store, GRAPHS[2]))
    again = client.get("/graph/inferred", headers={
        **({"Accept": accept} if accept else {}), "If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path, status", [
    ("/graph/nothing", 404), ("/graph/data.xyz", 404), ("/graph/data?format=html", 406),
])
def test_graph_iri_errors(client, path, status):
    resp = client.get(path)
    assert resp.status_code == status
    assert "/graph/" in resp.text or "offered" in resp.text


@pytest.mark.parametrize("fmt", ["turtle", "nt", "jsonld", "xml", "trig", "nq"])
def test_graph_store_protocol_get(client, store, fmt):
    for graph in GRAPHS:
        resp = client.get("/sparql", params={"graph": graph, "format": fmt})
        assert same({q.triple for q in quads(resp)}, graph_of(store, graph))
    union = client.get(f"/sparql?default&format={fmt}")
    assert same({q.triple for q in quads(union)}, graph_of(store, None))


def test_graph_store_protocol_refusals(client):
    assert client.get("/sparql", params={"graph": "http://example.org/g"}).status_code == 404
    assert client.get("/sparql", params={"graph": GRAPHS[0], "default": ""}).status_code == 400
    assert client.post("/sparql?default", content=b"<a:b> <a:c> <a:d> .",
                       headers={"Content-Type": "text/turtle"}).status_code // 100 == 4
    assert client.put("/sparql?default", content=b"").status_code // 100 == 4
    assert client.delete(f"/sparql?graph={GRAPHS[1]}").status_code // 100 == 4


def test_rdflib_reads_the_graph_iris(server, store):
    import rdflib

    for graph in GRAPHS:
        g = rdflib.Graph()
        g.parse(server + "/graph/" + graph.rsplit("/", 1)[-1])
        assert len(g) == len(graph_of(store, graph))
