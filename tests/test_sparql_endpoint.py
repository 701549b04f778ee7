"""The SPARQL endpoint of `isecg-kg serve`, driven over real HTTP by real clients (issue 3).

Every 200 body is parsed completely (`parsed`). Expected answers come from the sources: 27 member
agencies in the 2022 article, 14 in the lists of about 2010-2011.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
from answers import RDF_PARSERS, parsed
from conftest import ENDPOINT_MAX_BYTES as MAX_BYTES
from conftest import ENDPOINT_MAX_ROWS as MAX_ROWS
from conftest import ENDPOINT_TIMEOUT as TIMEOUT
from isecg_kg.config import GRAPH_DATA
from isecg_kg.sparql.catalogue import named_queries
from isecg_kg.sparql.guard import check_query
from isecg_kg.web.app import create_app
from isecg_kg.web.context import Site
from isecg_kg.web.options import ServerOptions
from queries import CARTESIAN, MEMBERS_2022
from servers import ROOT, app_server, isecg_server, oxigraph_server, query_workers

EARLY = MEMBERS_2022.replace("isecg-15th-anniversary", "nasa-about-isecg")
LIGHT = "ASK { ?s ?p ?o }"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")

@pytest.fixture(scope="module")
def oxigraph(dist, tmp_path_factory):
    with oxigraph_server(dist / "isecg.nq", tmp_path_factory.mktemp("oxigraph")) as url:
        yield url


def agencies(rows) -> list[str]:
    return sorted(r[0].value for r in rows)


# ---- real clients


# SPARQLWrapper's formats and methods. It sends format= twice for TSV, JSON-LD and RDF/XML (a
# short name and its Accept types), Accept lists for N3, and repeats the format as output= and
# results=; every combination must give the members of 2022 (as rows, or as triples), exactly
# the engine's own answer.
MEMBERS_GRAPH = MEMBERS_2022.replace("SELECT DISTINCT ?agency WHERE", "CONSTRUCT { ?agency "
                                     "org:memberOf <https://w3id.org/isecg/id/group/isecg> } "
                                     "WHERE")
SW_METHODS = ["GET", "POST", "POSTDIRECTLY"]


@pytest.fixture(scope="module")
def members_2022(store) -> set[str]:
    """The agencies MEMBERS_2022 finds, as the engine itself answers it over the build: what
    every client must get back, whatever the format."""
    found = {r["agency"].value for r in store.query(MEMBERS_2022, use_default_graph_as_union=True)}
    assert len(found) >= 27 and "https://w3id.org/isecg/id/agency/nasa" in found
    return found


def _sparqlwrapper(sparql_server, query, fmt, method):
    import SPARQLWrapper as S

    sw = S.SPARQLWrapper(sparql_server + "/sparql")
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    if method == "POSTDIRECTLY":
        sw.setMethod(S.POST)
        sw.setRequestMethod(S.POSTDIRECTLY)
    else:
        sw.setMethod(getattr(S, method))
    return sw.query()


@pytest.mark.parametrize("method", SW_METHODS)
@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_sparqlwrapper_select(sparql_server, method, fmt, members_2022):
    result = _sparqlwrapper(sparql_server, MEMBERS_2022, fmt, method)
    body = result.convert()
    if fmt == "json":
        values = [b["agency"]["value"] for b in body["results"]["bindings"]]
    elif fmt == "xml":
        ns = "http://www.w3.org/2005/sparql-results#"  # a minidom Document
        values = [u.firstChild.data for u in body.getElementsByTagNameNS(ns, "uri")]
    else:
        lines = body.decode("utf-8").splitlines()
        assert lines[0] == ("agency" if fmt == "csv" else "?agency")
        values = [v.strip("<>") for v in lines[1:]]
    assert sorted(values) == sorted(members_2022)


@pytest.mark.parametrize("method", SW_METHODS)
@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_sparqlwrapper_ask(sparql_server, method, fmt):
    body = _sparqlwrapper(sparql_server, "ASK { agency:nasa a isecg:SpaceAgency }", fmt,
                          method).convert()
    if fmt == "json":
        assert body["boolean"] is True
    elif fmt == "xml":
        assert body.getElementsByTagName("boolean")[0].firstChild.data == "true"
    else:
        assert body.strip() == b"true"


@pytest.mark.parametrize("method", SW_METHODS)
@pytest.mark.parametrize("fmt", ["turtle", "n3", "json-ld", "rdf+xml", "xml", "rdf", "json"])
def test_sparqlwrapper_construct(sparql_server, method, fmt, members_2022):
    import rdflib

    result = _sparqlwrapper(sparql_server, MEMBERS_GRAPH, fmt, method)
    media = result.response.headers["content-type"].split(";")[0]
    body = result.convert()
    if isinstance(body, bytes):  # Turtle and N3 come back as bytes; N3 is answered as Turtle
        assert media == "text/turtle"
        body = rdflib.Graph().parse(data=body, format="n3" if fmt == "n3" else "turtle")
    members = set(body.subjects(rdflib.URIRef("http://www.w3.org/ns/org#memberOf"), None))
    assert {str(m) for m in members} == members_2022


@pytest.mark.parametrize("params, status, media", [
    # a short name and a media type that agree (SPARQLWrapper's pairs), in either order
    ("format=tsv&format=text/tab-separated-values", 200, "text/tab-separated-values"),
    ("format=text/csv&format=csv", 200, "text/csv"),
    ("format=json&format=application/sparql-results+json", 200,
     "application/sparql-results+json"),
    ("format=json&format=json", 200, "application/sparql-results+json"),
    ("format=application/json", 200, "application/sparql-results+json"),
    ("format=json&format=xml", 400, None),                        # a true conflict
    ("format=csv&format=text/tab-separated-values", 400, None),
    ("format=turtle", 406, None),                                 # not a result format
])
def test_format_parameter_repeated(sparql_client, params, status, media):
    resp = sparql_client.get(f"/sparql?query=ASK%7B%7D&{params.replace('+', '%2B')}")
    assert resp.status_code == status, resp.text
    if media:
        assert resp.headers["content-type"].startswith(media)
    elif status == 400:  # the message names both values
        first, second = (p.split("=", 1)[1] for p in params.split("&"))
        detail = resp.json()["detail"]
        assert f"format={first}" in detail and f"format={second}" in detail


@pytest.mark.parametrize("params, media", [
    ("format=json-ld&format=application/ld+json,application/x-json+ld", "application/ld+json"),
    ("format=rdf+xml&format=application/rdf+xml", "application/rdf+xml"),
    ("format=n3", "text/turtle"), ("format=text/n3", "text/turtle"),
    ("format=json", "application/ld+json"), ("format=nt&format=application/n-triples",
                                             "application/n-triples"),
])
def test_format_parameter_for_graphs(sparql_client, params, media, members_2022):
    resp = sparql_client.get("/sparql", params={"query": MEMBERS_GRAPH}, headers={"Accept": "*/*"})
    assert resp.status_code == 200
    resp = sparql_client.get(f"/sparql?{params.replace('+', '%2B')}&query={quote(MEMBERS_GRAPH)}")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].split(";")[0] == media
    assert {t.subject.value for t in parsed(resp)} == members_2022


@pytest.mark.parametrize("accept, media", [
    ("text/n3", "text/turtle"), ("text/rdf+n3", "text/turtle"),
    ("application/json", "application/ld+json"), ("application/x-json+ld", "application/ld+json"),
])
def test_accept_aliases_for_graphs(sparql_client, accept, media):
    resp = sparql_client.get("/sparql", params={"query": MEMBERS_GRAPH}, headers={"Accept": accept})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].split(";")[0] == media


def test_predeclared_prefixes_answer_without_declaration(sparql_client, members_2022):
    undeclared = ("SELECT ?a WHERE { ?m org:member ?a ; dcterms:source "
                  "doc:isecg-15th-anniversary . ?a a isecg:SpaceAgency ; rdfs:label ?l }")
    rows = parsed(sparql_client.get("/sparql", params={"query": undeclared},
                             headers={"Accept": "application/sparql-results+json"}))
    assert {r[0].value for r in rows} == members_2022
    # the query's own PREFIX wins over the predeclared one
    own = "PREFIX rdfs: <http://example.org/not-rdfs#> ASK { ?s rdfs:label ?l }"
    assert parsed(sparql_client.get("/sparql", params={"query": own},
                             headers={"Accept": "application/sparql-results+json"})) is False



@pytest.mark.skipif(shutil.which("roqet") is None, reason="roqet (rasqal-utils) not installed")
def test_roqet(sparql_server):
    proc = subprocess.run(["roqet", "-p", sparql_server + "/sparql", "-e", EARLY, "-r", "csv"],
                          check=False, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) == 14


def test_cli_endpoint_matches_local(dist, sparql_server):
    from conftest import run_cli

    for fmt in ("table", "json"):
        local = run_cli("query", "--dist", str(dist), "--format", fmt, MEMBERS_2022, check=True)
        remote = run_cli("query", "--endpoint", sparql_server + "/sparql", "--format", fmt,
                         MEMBERS_2022, check=True)
        assert local.stdout == remote.stdout


# ---- differential: Oxigraph server on the same N-Quads


def _canonical(resp: httpx.Response):
    result = parsed(resp)
    if isinstance(result, bool):
        return result
    if result and isinstance(result[0], ox.Triple):
        return sorted(str(t) for t in result)
    return sorted(tuple("_:b" if isinstance(t, ox.BlankNode) else str(t) for t in row)
                  for row in result)


def _differential_queries():
    queries = {"members-2022": MEMBERS_2022, "early": EARLY, "ask": LIGHT,
               "count": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
               "graphs": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
               "describe": "DESCRIBE <https://w3id.org/isecg/id/agency/nsau>",
               "construct": "CONSTRUCT { ?a <http://x/label> ?l } WHERE { ?a a "
                            "<https://w3id.org/isecg/ontology#SpaceAgency> ; "
                            "<http://www.w3.org/2000/01/rdf-schema#label> ?l }",
               "optional": "PREFIX schema: <https://schema.org/> SELECT ?s ?m "
                           "WHERE { ?s a <https://w3id.org/isecg/ontology#SpaceAgency> "
                           "OPTIONAL { ?s schema:sameAs ?m } }"}
    for name, q in named_queries().items():
        if not check_query(q.text).services:  # SERVICE needs the network: not here
            queries["named:" + name] = q.text
    return queries


def test_differential_against_oxigraph(sparql_client, oxigraph):
    with httpx.Client(timeout=20) as ox_client:
        for name, query in _differential_queries().items():
            form = check_query(query).form
            accept = ("text/turtle" if form in ("CONSTRUCT", "DESCRIBE")
                      else "application/sparql-results+json")
            ours = sparql_client.post("/sparql", data={"query": query}, headers={"Accept": accept})
            theirs = ox_client.post(oxigraph + "/query", data={"query": query},
                                    headers={"Accept": accept})
            assert "isecg-result-truncated" not in ours.headers, name
            assert _canonical(ours) == _canonical(theirs), name


# ---- nothing leaves the machine unless allowed


def test_no_outbound_connection_for_refused_requests(sparql_client, canary):
    base = f"http://127.0.0.1:{canary.port}"
    attempts = [
        {"query": f"SELECT * WHERE {{ SERVICE <{base}/sparql2> {{ ?s ?p ?o }} }}"},
        {"query": f"SELECT * WHERE {{ SERVICE SILENT <{base}/x> {{ ?s ?p ?o }} }}"},
        {"query": f"SELECT * FROM <{base}/x> WHERE {{ ?s ?p ?o }}"},
        {"query": f"SELECT * FROM NAMED <{base}/x> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"},
        {"query": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"},
        {"query": LIGHT, "default-graph-uri": f"{base}/x"},
        {"query": LIGHT, "named-graph-uri": f"{base}/x"},
        {"query": f"LOAD <{base}/data.ttl>"},
        {"update": f"LOAD <{base}/data.ttl>"},
    ]
    before = canary.count
    for params in attempts:
        r = sparql_client.get("/sparql", params=params)
        assert r.status_code == 403, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert canary.settled() == before == 0
    # control: the allow-listed endpoint (Wikidata's, mapped to the canary) is really called
    r = sparql_client.get("/sparql", params={"query": "SELECT * WHERE { SERVICE "
                                      "<https://query.wikidata.org/sparql> { ?s ?p ?o } }"})
    assert r.status_code in (502, 503), r.text  # the canary is no SPARQL endpoint
    assert canary.count >= 1


# ---- protocol details


def test_get_post_form_post_direct_agree(sparql_client):
    a = parsed(sparql_client.get("/sparql", params={"query": MEMBERS_2022}))
    b = parsed(sparql_client.post("/sparql", data={"query": MEMBERS_2022}))
    c = parsed(sparql_client.post("/sparql", content=MEMBERS_2022.encode(),
                           headers={"Content-Type": "application/sparql-query"}))
    assert agencies(a) == agencies(b) == agencies(c) and len(a) == 27


@pytest.mark.parametrize("accept,media", [
    ("application/sparql-results+xml;q=0.5, text/csv", "text/csv"),
    ("text/tab-separated-values;q=0.9, application/sparql-results+json;q=0.1",
     "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("text/*;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    (None, "application/sparql-results+json"),
])
def test_accept_negotiation(sparql_client, accept, media):
    headers = {"Accept": accept} if accept else {}
    r = sparql_client.get("/sparql", params={"query": EARLY}, headers=headers)
    assert r.headers["content-type"].split(";")[0] == media
    assert len(parsed(r)) == 14


@pytest.mark.parametrize("fmt,media", [("csv", "text/csv"), ("tsv", "text/tab-separated-values"),
                                       ("xml", "application/sparql-results+xml"),
                                       ("json", "application/sparql-results+json")])
def test_format_parameter_overrides_accept(sparql_client, fmt, media):
    r = sparql_client.get("/sparql", params={"query": EARLY, "format": fmt},
                   headers={"Accept": "text/html"})
    assert r.headers["content-type"].split(";")[0] == media and len(parsed(r)) == 14


@pytest.mark.parametrize("accept", list(RDF_PARSERS))
def test_construct_formats(sparql_client, accept):
    r = sparql_client.get("/sparql", params={"query": "DESCRIBE <https://w3id.org/isecg/id/agency/nasa>"},
                   headers={"Accept": accept})
    assert r.headers["content-type"].split(";")[0] == accept
    assert len(parsed(r)) > 3


def test_unsupported_accept_is_406_listing_offers(sparql_client):
    r = sparql_client.get("/sparql", params={"query": LIGHT}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    body = r.json()
    assert "application/sparql-results+json" in body["offered"]


def test_malformed_query_is_400_with_parser_message(sparql_client):
    r = sparql_client.get("/sparql", params={"query": "SELECT * WHERE {\n ?s ?p ?o\n FILTER( }"})
    assert r.status_code == 400
    body = r.json()
    assert body["line"] == 3 and body["column"] >= 1
    assert "Traceback" not in r.text and ".py" not in r.text and "/work" not in r.text


def test_valid_query_with_an_unknown_function_is_501_not_malformed(sparql_client):
    q = "SELECT ?x WHERE { BIND(<http://example.org/fn#nope>(1) AS ?x) }"
    r = sparql_client.get("/sparql", params={"query": q})
    assert r.status_code == 501, r.text
    body = r.json()
    assert body["title"] == "Query uses an unsupported feature"
    assert "<http://example.org/fn#nope> is not supported" in body["detail"]
    # the same function in a syntax error is still the client's malformed query
    r = sparql_client.get("/sparql", params={"query": q.replace("(1)", "(1")})
    assert r.status_code == 400 and r.json()["title"] == "Malformed query"


def test_query_size_limit_is_413_before_parsing(sparql_client):
    junk = "{{{ not sparql " + "x" * MAX_BYTES
    assert sparql_client.get("/sparql", params={"query": junk}).status_code == 413
    assert sparql_client.post("/sparql", content=junk.encode(),
                       headers={"Content-Type": "application/sparql-query"}).status_code == 413
    assert sparql_client.post("/sparql", data={"query": junk}).status_code == 413


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_writes_refused_everywhere(sparql_client, method):
    for path in ("/sparql", "/id/agency/nasa", "/rdf-graph-store?default", "/"):
        r = sparql_client.request(method, path, content=b"<a> <b> <c> .",
                           headers={"Content-Type": "text/turtle"})
        assert r.status_code == 405, (method, path)


def test_updates_refused(sparql_client):
    r = sparql_client.post("/sparql", content=b"CLEAR ALL",
                    headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 403
    assert sparql_client.post("/sparql", data={"update": "CLEAR ALL"}).status_code == 403
    r = sparql_client.post("/sparql",
                           data={"query": "INSERT DATA { <http://a> <http://b> <http://c> }"})
    assert r.status_code == 403
    assert parsed(sparql_client.get("/sparql", params={"query": LIGHT})) is True  # data still there


def test_own_graphs_by_protocol_dataset(sparql_client):
    r = sparql_client.get("/sparql", params={"query": "ASK { ?s a <https://w3id.org/isecg/ontology#"
                                      "SpaceAgency> }", "default-graph-uri": GRAPH_DATA})
    assert parsed(r) is True
    r = sparql_client.get("/sparql", params={"query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } "
                                      "GROUP BY ?g", "named-graph-uri": GRAPH_DATA})
    assert [row[0].value for row in parsed(r)] == [GRAPH_DATA]




def test_cors(sparql_client):
    r = sparql_client.get("/sparql", params={"query": LIGHT}, headers={"Origin": "http://example.org"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "Isecg-Result-Truncated" in r.headers["access-control-expose-headers"]
    r = sparql_client.options("/sparql", headers={"Origin": "http://example.org",
                                           "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200 and "POST" in r.headers["access-control-allow-methods"]


def test_etag_and_conditional_get(sparql_client):
    r = sparql_client.get("/sparql", params={"query": EARLY})
    etag = r.headers["etag"]
    version = sparql_client.get("/healthz").json()["version"]
    assert etag.startswith(f'"{version}-')  # the release, then this representation
    r = sparql_client.get("/sparql", params={"query": EARLY}, headers={"If-None-Match": etag})
    assert r.status_code == 304 and not r.content and r.headers["etag"] == etag


def test_each_representation_has_its_own_etag(sparql_client):
    """Issue 21: a CSV request revalidating with the JSON answer's tag gets the CSV, not 304
    (a cache would otherwise serve the JSON body to a CSV client)."""
    tags = {}
    for fmt in ("json", "xml", "csv", "tsv"):
        r = sparql_client.get("/sparql", params={"query": EARLY, "format": fmt})
        assert r.status_code == 200
        tags[fmt] = r.headers["etag"]
    assert len(set(tags.values())) == 4
    r = sparql_client.get("/sparql", params={"query": EARLY, "format": "csv"},
                   headers={"If-None-Match": tags["json"]})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["etag"] == tags["csv"]
    r = sparql_client.get("/sparql", params={"query": EARLY}, headers={
        "Accept": "text/csv", "If-None-Match": f'{tags["json"]}, W/{tags["csv"]}'})
    assert r.status_code == 304 and r.headers["etag"] == tags["csv"]
    other = sparql_client.get("/sparql", params={"query": EARLY + " LIMIT 1", "format": "json"})
    assert other.headers["etag"] != tags["json"]  # another query, another tag
    r = sparql_client.get("/sparql", params={"query": EARLY + " LIMIT 1", "format": "json"},
                   headers={"If-None-Match": tags["json"]})
    assert r.status_code == 200
    # the service description: one tag per format too
    ttl = sparql_client.get("/sparql", headers={"Accept": "text/turtle"}).headers["etag"]
    nt = sparql_client.get("/sparql", headers={"Accept": "application/n-triples"}).headers["etag"]
    assert ttl != nt
    r = sparql_client.get("/sparql",
                          headers={"Accept": "application/n-triples", "If-None-Match": ttl})
    assert r.status_code == 200


def test_not_acceptable_varies_on_accept(sparql_client):
    for params, accept in (({"query": EARLY}, "image/png"), ({}, "image/png")):
        r = sparql_client.get("/sparql", params=params, headers={"Accept": accept})
        vary = [v.strip() for v in r.headers.get("vary", "").split(",")]
        assert r.status_code == 406 and "Accept" in vary, r.headers


def test_row_cap_signalled_in_header(sparql_client, store):
    assert len(store) > MAX_ROWS  # the graph is more than the cap
    r = sparql_client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert r.headers["isecg-row-limit"] == str(MAX_ROWS)
    assert r.headers["isecg-result-truncated"] == "true"
    assert len(parsed(r)) == MAX_ROWS == int(r.headers["isecg-result-rows"])
    r = sparql_client.get("/sparql", params={"query": EARLY})
    assert "isecg-result-truncated" not in r.headers


def test_wrong_method_and_bad_requests(sparql_client):
    assert sparql_client.post("/sparql", content=b"ASK {}",
                       headers={"Content-Type": "text/plain"}).status_code == 415
    assert sparql_client.get("/sparql",
                             params=[("query", LIGHT), ("query", LIGHT)]).status_code == 400
    assert sparql_client.post("/sparql", data={"format": "json"}).status_code == 400


# ---- limits under load


def test_timeout_is_503_and_light_queries_keep_answering(sparql_client, sparql_server):
    result = {}

    def heavy():
        t0 = time.monotonic()
        with httpx.Client(timeout=30) as c:
            result["resp"] = c.get(sparql_server + "/sparql", params={"query": CARTESIAN})
        result["seconds"] = time.monotonic() - t0

    t = threading.Thread(target=heavy)
    t.start()
    latencies = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and len(latencies) < 200:
        t0 = time.monotonic()
        assert parsed(sparql_client.get("/sparql", params={"query": EARLY}))
        latencies.append(time.monotonic() - t0)
    t.join(timeout=TIMEOUT + 30)
    resp = result["resp"]
    assert resp.status_code == 503
    assert resp.headers["content-type"] == "application/problem+json"
    assert int(resp.headers["retry-after"]) >= 1
    # stopped at the limit, not run to its end (hours): a deadline, held with a wide margin
    assert result["seconds"] < TIMEOUT + 15
    # every light query was answered meanwhile (starved, it would be a 503); their latency is
    # printed, not asserted: a timed bound on this shared machine would be a coin toss (bench)
    latencies.sort()
    print(f"light queries during a heavy one: n={len(latencies)} "
          f"p50={latencies[len(latencies) // 2]:.3f} s max={latencies[-1]:.3f} s")
    assert latencies


def test_too_many_heavy_queries_get_503_retry_after(sparql_client, sparql_server):
    def heavy(i):  # distinct texts: identical ones in flight together share one run
        with httpx.Client(timeout=30) as c:
            t0 = time.monotonic()
            r = c.get(sparql_server + "/sparql", params={"query": f"{CARTESIAN} # busy {i}"})
            return r, time.monotonic() - t0

    with cf.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(heavy, i) for i in range(4)]
        # the heavy slots fill (or the burst is over already): polled, with a generous deadline
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(f.done() for f in futures):
            status = sparql_client.get("/healthz").json()
            if status["heavy"] >= status["max_heavy"]:
                break
            time.sleep(0.02)
        # a light query is answered even then (it would wait out the admission wait, 503)
        assert parsed(sparql_client.get("/sparql", params={"query": LIGHT})) is True
        outcomes = [f.result(timeout=60) for f in futures]
    titles = sorted(r.json()["title"] for r, _ in outcomes)
    assert all(r.status_code == 503 and "retry-after" in r.headers for r, _ in outcomes)
    assert "Too busy" in titles and "Query time limit reached" in titles
    assert max(s for _, s in outcomes) < TIMEOUT + 15  # stopped at the limit, not run for hours


def test_identical_queries_in_flight_share_one_run(sparql_client, sparql_server):
    """Twenty requests for one uncached query at once: one worker runs it, all get its answer."""
    # about 0.1 s of work whatever the data holds (a product of 1,000 x 1,000 triples)
    query = ("SELECT (COUNT(*) AS ?n) WHERE { { SELECT ?a WHERE { ?a ?b ?c } LIMIT 1000 } "
             "{ SELECT ?d WHERE { ?d ?e ?f } LIMIT 1000 } } # shared")
    barrier = threading.Barrier(20)

    def ask(_):
        with httpx.Client(timeout=30) as c:
            barrier.wait()
            return c.get(sparql_server + "/sparql", params={"query": query})

    with cf.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(ask, range(20)))
    assert all(r.status_code == 200 for r in answers), [r.text[:200] for r in answers]
    assert len({r.content for r in answers}) == 1
    states = [r.headers["isecg-answer-cache"] for r in answers]
    assert states.count("miss") == 1 and states.count("shared") >= 10, states


def test_client_disconnect_frees_its_worker(dist):
    """A client that gives up on a query that would run for hours: once the grace (0.5 s) has
    passed, the run is cancelled and its worker freed (killed and replaced), long before the
    query's own time limit (60 s here, so the two cannot be mistaken on a busy machine)."""
    app = create_app(Site.from_dist(dist), ServerOptions(workers=2, query_timeout=60))
    with app_server(app) as url:
        engine = app.state.engine
        left = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(url + "/sparql", params={"query": CARTESIAN}, timeout=0.3)
        deadline = left + 30  # a deadline under test, held with a wide margin
        while engine.status()["running"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.status()["running"] == 0
        assert time.monotonic() < deadline


def test_a_query_that_ends_soon_after_its_client_left_is_kept(dist):
    """A client that hangs up as soon as its request is sent: the query, about a second of
    work, ends within the grace, its answer is cached and its worker is not killed (killing
    made every load test's end, with its hundred hung-up clients, kill every worker). The grace
    is 30 s here, so no load on the machine outlasts it; that a query outlasting it is stopped
    is test_client_disconnect_frees_its_worker's case."""
    query = ("SELECT (COUNT(*) AS ?n) WHERE { { SELECT ?a WHERE { ?a ?b ?c } LIMIT 3000 } "
             "{ SELECT ?d WHERE { ?d ?e ?f } LIMIT 3000 } } # left early")
    app = create_app(Site.from_dist(dist), ServerOptions(workers=2, disconnect_grace=30))
    with app_server(app) as url:
        endpoint, engine = app.state.endpoint, app.state.engine
        workers, kept = set(query_workers(os.getpid())), len(endpoint.answers)
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(f"GET /sparql?query={quote(query)} HTTP/1.1\r\nHost: {host}\r\n"
                      "Accept: application/sparql-results+json\r\n\r\n".encode())
        deadline = time.monotonic() + 120  # generous: only a failure waits it out
        while (len(endpoint.answers) == kept or engine.status()["running"]) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        again = httpx.get(url + "/sparql", params={"query": query},
                          headers={"Accept": "application/sparql-results+json"}, timeout=60)
        assert again.status_code == 200 and again.headers["isecg-answer-cache"] == "hit"
        assert parsed(again) == [(ox.Literal("9000000", datatype=XSD_INTEGER),)]
        assert set(query_workers(os.getpid())) == workers


def test_cold_start_many_first_queries_in_parallel(dist):
    """The pitfall of rdflib's parser: the first queries of a process arriving together."""
    with isecg_server(dist, "--workers", "2", "--query-timeout", "5") as url:
        def one(i):
            with httpx.Client(timeout=20) as c:
                q = MEMBERS_2022 if i % 2 else EARLY
                return i, c.post(url + "/sparql", data={"query": q})

        with cf.ThreadPoolExecutor(24) as pool:
            results = list(pool.map(one, range(48)))
    for i, r in results:
        assert len(parsed(r)) == (27 if i % 2 else 14)


def test_a_repeated_query_is_answered_from_the_cache_with_the_same_body(sparql_client):
    # A text no other test sends, so the first request is a miss.
    query = "SELECT (COUNT(*) AS ?cached) WHERE { ?s a ?o }"
    first = sparql_client.get("/sparql", params={"query": query},
                       headers={"Accept": "application/sparql-results+json"})
    second = sparql_client.get("/sparql", params={"query": query},
                        headers={"Accept": "application/sparql-results+json"})
    assert first.status_code == second.status_code == 200
    assert first.headers["isecg-answer-cache"] == "miss"
    assert second.headers["isecg-answer-cache"] == "hit"
    assert second.content == first.content
    assert json.loads(second.content)["results"]["bindings"][0]["cached"]["value"]
    csv = sparql_client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    assert csv.headers["isecg-answer-cache"] == "miss"  # another format, another answer


def test_a_refused_query_is_refused_every_time(sparql_client, canary):
    """Checked query texts are remembered; a refusal must never become an acceptance."""
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{canary.port}/again> {{ ?s ?p ?o }} }}"
    before = canary.count  # the module's server allows one other path of this canary
    for _ in range(3):
        resp = sparql_client.get("/sparql", params={"query": query})
        assert resp.status_code == 403 and "not allowed" in resp.json()["detail"]
    assert canary.count == before


# ---- Comunica (npm @comunica/query-sparql, installed by scripts/test.sh into node_modules)

COMUNICA = ROOT / "node_modules" / ".bin" / "comunica-sparql"


def _comunica(sparql_server, query: str, media: str) -> str:
    if not COMUNICA.exists():
        pytest.fail("Comunica is not installed: run scripts/test.sh (npm ci) first")
    proc = subprocess.run([str(COMUNICA), f"sparql@{sparql_server}/sparql", query, "-t", media],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed")
@pytest.mark.parametrize("media", ["application/sparql-results+json",
                                   "application/sparql-results+xml", "text/csv"])
def test_comunica_select(sparql_server, media, members_2022):
    out = _comunica(sparql_server, MEMBERS_2022, media)
    if media == "text/csv":
        values = [v.strip().strip("<>") for v in out.strip().splitlines()[1:]]  # it writes <iri>
    elif media.endswith("json"):  # Comunica appends a "metadata" member pyoxigraph refuses
        values = [b["agency"]["value"] for b in json.loads(out)["results"]["bindings"]]
    else:
        values = [s["agency"].value for s in ox.parse_query_results(
            out.encode(), format=ox.QueryResultsFormat.XML)]
    assert sorted(values) == sorted(members_2022)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed")
@pytest.mark.parametrize("media, rdf", [("application/n-triples", ox.RdfFormat.N_TRIPLES),
                                        ("text/turtle", ox.RdfFormat.TURTLE)])
def test_comunica_construct(sparql_server, media, rdf, members_2022):
    out = _comunica(sparql_server, MEMBERS_GRAPH, media)
    triples = list(ox.parse(out.encode(), format=rdf))
    assert {t.subject.value for t in triples} == members_2022


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed")
def test_comunica_ask(sparql_server):
    # Comunica parses queries itself: it knows no predeclared prefixes
    ask = ("PREFIX isecg: <https://w3id.org/isecg/ontology#> "
           "ASK { <https://w3id.org/isecg/id/agency/nasa> a isecg:{} }")
    yes = _comunica(sparql_server, ask.replace("{}", "SpaceAgency"),
                    "application/sparql-results+json")
    no = _comunica(sparql_server, ask.replace("{}", "Country"), "application/sparql-results+json")
    assert '"boolean":true' in yes.replace(" ", "") and '"boolean":false' in no.replace(" ", "")


# ---- $NAME=TERM: parameters bound by the engine (the query page's named queries)


def test_parameters_are_bound_by_the_engine(sparql_client):
    from isecg_kg.sparql.catalogue import named_queries

    text = named_queries()["members-as-of"].text
    accept = {"Accept": "application/sparql-results+json"}
    early = parsed(sparql_client.post("/sparql", data={"query": text,
                                                "$date": '"2015-06-30"^^xsd:date'},
                               headers=accept))
    late = parsed(sparql_client.post("/sparql", data={"query": text,
                                               "$date": '"2022-12-31"^^xsd:date'},
                              headers=accept))
    def members(rows):  # ?status is the fifth column
        return sum(r[4].value == "member" for r in rows)

    assert members(early) == 14 and members(late) == 27  # founders (BNSC→UKSA); 2022 list
    claim = named_queries()["sources-of-claim"].text
    rows = parsed(sparql_client.get("/sparql", params={"query": claim, "$claim": "membership:nasa"},
                             headers=accept))
    assert rows


@pytest.mark.parametrize("name, value", [
    ("date", '"a" . <urn:isecg:s> <urn:isecg:p> "b"'),   # two triples: not one term
    ("date", "[]"), ("date", "nope:x"), ("nothere", '"1"'),
])
def test_bad_parameters_are_400(sparql_client, name, value):
    from isecg_kg.sparql.catalogue import named_queries

    r = sparql_client.post("/sparql", data={"query": named_queries()["members-as-of"].text,
                                     "$" + name: value})
    assert r.status_code == 400 and f"${name}" in r.json()["detail"]
