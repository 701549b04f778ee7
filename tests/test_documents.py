"""RDF documents (web/pages/documents.py): the named graphs at /graph/{ontology,data,inferred}
and the read-only Graph Store Protocol on /sparql, in every RDF format, over real HTTP; every
body is parsed completely and compared with the graph of isecg.nq it stands for."""

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


# ---- entity documents: one description per IRI

ONT = "https://w3id.org/isecg/ontology#"
ORG_MEMBER_OF = ox.NamedNode("http://www.w3.org/ns/org#memberOf")
NASA = "https://w3id.org/isecg/id/agency/nasa"
ISECG = ox.NamedNode("https://w3id.org/isecg/id/group/isecg")
INFERRED = ox.NamedNode(GRAPHS[2])


def one_entity_per_class(store) -> list[str]:
    rows = store.query(f"""SELECT ?cls (MIN(STR(?s)) AS ?e) WHERE {{
        GRAPH <{GRAPHS[1]}> {{ ?s a ?cls }} FILTER(STRSTARTS(STR(?cls), "{ONT}")) }}
        GROUP BY ?cls""")
    return sorted({r["e"].value for r in rows})


def test_every_kind_of_entity_is_read_by_rdflib_from_its_iri(server, store):
    """rdflib dereferences the IRI itself (303 to a document it negotiated) and gets what the
    graph asserts about the entity and what was inferred."""
    import rdflib

    entities = one_entity_per_class(store)
    assert len(entities) >= 20
    for iri in entities:
        g = rdflib.Graph()
        g.parse(server + iri.removeprefix("https://w3id.org/isecg"))
        subject = rdflib.URIRef(iri)
        asserted = {q.triple for q in store.quads_for_pattern(ox.NamedNode(iri), None, None)}
        got = {(str(p), str(o)) for p, o in g.predicate_objects(subject)}
        assert {(t.predicate.value, t.object.value) for t in asserted} <= got, iri


@pytest.mark.parametrize("suffix", ["trig", "nq", "jsonld"])
def test_inferred_statements_are_in_their_named_graph(client, store, suffix):
    got = quads(client.get(f"/id/agency/nasa.{suffix}"))
    nasa = ox.NamedNode(NASA)
    inferred = {q.triple for q in got if q.graph_name == INFERRED}
    default = {q.triple for q in got if q.graph_name == ox.DefaultGraph()}
    expected = {q.triple for q in store.quads_for_pattern(nasa, None, None, INFERRED)}
    assert ox.Triple(nasa, ORG_MEMBER_OF, ISECG) in inferred
    assert inferred == expected - {q.triple for q in store.quads_for_pattern(nasa, None, None)
                                   if q.graph_name != INFERRED}
    assert ox.Triple(nasa, ORG_MEMBER_OF, ISECG) not in default
    # the membership record the page shows: its organization and sources
    membership = ox.NamedNode("https://w3id.org/isecg/id/membership/nasa")
    assert ox.Triple(membership, ox.NamedNode("http://www.w3.org/ns/org#organization"),
                     ISECG) in default


@pytest.mark.parametrize("suffix", ["ttl", "nt", "rdf"])
def test_single_graph_formats_merge_inferred_and_point_to_trig(client, suffix):
    resp = client.get(f"/id/agency/nasa.{suffix}")
    triples = {q.triple for q in quads(resp)}
    assert ox.Triple(ox.NamedNode(NASA), ORG_MEMBER_OF, ISECG) in triples
    assert '/id/agency/nasa.trig>; rel="alternate"' in resp.headers["link"]


def test_entity_page_shows_the_same_inferred_statements(client):
    html = client.get("/id/agency/nasa.html").text
    section = html[html.index('id="inferred"'):]
    section = section[:section.index("</table>")]
    assert "org:memberOf" in section and "/id/group/isecg" in section


def test_entity_jsonld_is_compacted_with_the_published_context(client, dist):
    import json

    from pyld import jsonld

    doc = client.get("/id/agency/nasa.jsonld").json()
    published = json.loads((dist / "context.jsonld").read_text())["@context"]
    assert doc["@context"] == published
    node = next(n for n in doc["@graph"] if n.get("@id") == "agency:nasa")
    assert "skos:prefLabel" in node and "isecg:SpaceAgency" in node["@type"]

    def no_fetch(url, options=None):
        raise AssertionError(f"pyld tried to fetch {url}")

    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": no_fetch})
    from_pyld = set(ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS))
    assert from_pyld == set(quads(client.get("/id/agency/nasa.nq")))


@pytest.mark.parametrize("accept", ["application/json", "application/ld+json",
                                    "application/json;q=0.9, text/html;q=0.1"])
def test_application_json_is_answered_with_jsonld(client, accept):
    resp = client.get("/id/agency/nasa", headers={"Accept": accept}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/id/agency/nasa.jsonld"
    doc = client.get(resp.headers["location"])
    assert doc.headers["content-type"].startswith("application/ld+json")
    assert "@context" in doc.json()
