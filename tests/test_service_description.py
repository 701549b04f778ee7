"""web/endpoint/service_description.py: what GET /sparql without a query says about the endpoint."""

from __future__ import annotations

import pyoxigraph as ox
from answers import parsed
from isecg_kg.config import GRAPH_DATA


def test_service_description(sparql_client):
    r = sparql_client.get("/sparql")
    assert r.headers["content-type"].startswith("text/turtle")
    triples = parsed(r)
    sd = "http://www.w3.org/ns/sparql-service-description#"
    preds = {(t.predicate.value, t.object.value) for t in triples}
    assert (sd + "feature", sd + "UnionDefaultGraph") in preds
    assert (sd + "defaultEntailmentRegime", "http://www.w3.org/ns/entailment/Simple") in preds
    names = {t.object.value for t in triples if t.predicate.value == sd + "name"}
    assert GRAPH_DATA in names
    assert parsed(sparql_client.get("/sparql", headers={"Accept": "application/ld+json"}))


def test_service_description_lists_predeclared_prefixes(sparql_client):
    from isecg_kg.config import PREDECLARED

    resp = sparql_client.get("/sparql", headers={"Accept": "text/turtle"})
    store = ox.Store()
    store.load(resp.content, format=ox.RdfFormat.TURTLE)
    rows = store.query("PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT ?p ?ns WHERE { "
                       "?service sh:declare [ sh:prefix ?p ; sh:namespace ?ns ] }")
    declared = {r["p"].value: r["ns"].value for r in rows}
    assert declared == PREDECLARED
    for name in ("rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "foaf", "org", "prov", "time",
                 "schema", "wd", "isecg"):
        assert name in declared
