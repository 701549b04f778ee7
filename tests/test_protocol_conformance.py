"""The W3C SPARQL 1.1 Protocol tests, read at test time from ../shared or $ISECG_SHARED (never
copied here; without them the tests skip, saying what to set).

Our endpoint is read-only and never fetches remote graphs, so: query tests on our own data pass;
update tests get a 4xx; tests naming remote graphs (default-graph-uri / named-graph-uri / FROM to
kasei.us) are refused with a 4xx, and run again without those graphs they pass; bad_* tests 4xx.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pyoxigraph as ox
import pytest
from conftest import SHARED, shared_missing
from servers import isecg_server

PROTOCOL = "conformance/sparql11-protocol/manifest.ttl"
MANIFEST = SHARED / PROTOCOL
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
HTS = "http://www.w3.org/2011/http-statusCodes#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DATASET_PARAMS = ("default-graph-uri", "named-graph-uri")


def _load():
    if not MANIFEST.is_file():
        return []
    store = ox.Store()
    store.load(path=str(MANIFEST), format=ox.RdfFormat.TURTLE,
               base_iri="http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/")

    def one(s, p):
        return next((q.object for q in store.quads_for_pattern(s, ox.NamedNode(p), None)), None)

    def items(head):
        out = []
        while head is not None and head != ox.NamedNode(RDF + "nil"):
            out.append(one(head, RDF + "first"))
            head = one(head, RDF + "rest")
        return out

    manifest = next(store.quads_for_pattern(None, ox.NamedNode(RDF + "type"),
                                            ox.NamedNode(MF + "Manifest"))).subject
    tests = []
    for test in items(one(manifest, MF + "entries")):
        name = test.value.rsplit("#", 1)[-1]
        first = items(one(one(test, MF + "action"), HT + "requests"))[0]
        body = one(first, HT + "body")
        headers = {one(h, HT + "fieldName").value: one(h, HT + "fieldValue").value
                   for h in items(one(first, HT + "headers"))}
        resp = one(first, HT + "resp")
        statuses = {q.object.value.rsplit("#", 1)[-1]
                    for q in store.quads_for_pattern(resp, ox.NamedNode(MF + "expectedStatus"),
                                                     None)}
        boolean = one(resp, MF + "expectedBoolean")
        fmt = one(resp, MF + "expectedFormat")
        tests.append(pytest.param({
            "name": name,
            "method": one(first, HT + "methodName").value,
            "path": one(first, HT + "absolutePath").value,
            "body": None if body is None else one(body, CNT + "chars").value,
            "encoding": None if body is None else one(body, CNT + "characterEncoding").value,
            "headers": headers, "statuses": statuses,
            "boolean": None if boolean is None else boolean.value == "true",
            "format": None if fmt is None else fmt.value,
        }, id=name))
    return tests


TESTS = _load()


@pytest.fixture(scope="module")
def endpoint(dist):
    with isecg_server(dist, "--query-timeout", "5") as url:
        yield url


def _remote_graphs(t) -> bool:
    query = dict(parse_qsl(urlsplit(t["path"]).query))
    if any(p in query for p in DATASET_PARAMS):
        return True
    return (bool(t["body"] and re.search(r"\bFROM\b", t["body"], re.IGNORECASE))
            or "FROM%20" in t["path"])


def _send(client, t, path, body):
    content = None
    if body is not None:
        content = body.encode("utf-16" if (t["encoding"] or "").upper() == "UTF-16" else "utf-8")
    return client.request(t["method"], path, content=content, headers=t["headers"])


def _check_success(t, resp):
    assert resp.status_code // 100 in (2, 3), (t["name"], resp.status_code, resp.text[:300])
    media = resp.headers["content-type"].split(";")[0]
    if t["format"] in ("boolean", "tabular"):
        result = ox.parse_query_results(resp.content,
                                        format=ox.QueryResultsFormat.from_media_type(media))
        if t["format"] == "boolean":
            assert isinstance(result, ox.QueryBoolean)
            if t["boolean"] is not None:
                assert bool(result) == t["boolean"], t["name"]
        else:
            assert isinstance(result, ox.QuerySolutions) and list(result) is not None
    elif t["format"] == "RDF":
        list(ox.parse(resp.content, format=ox.RdfFormat.from_media_type(media)))


@pytest.mark.skipif(not TESTS, reason=shared_missing(PROTOCOL))
@pytest.mark.parametrize("t", TESTS)
def test_protocol(endpoint, t):
    with httpx.Client(base_url=endpoint, timeout=10) as client:
        resp = _send(client, t, t["path"], t["body"])
        if t["name"].startswith(("update_", "bad_")) or _remote_graphs(t):
            assert resp.status_code // 100 == 4, (t["name"], resp.status_code, resp.text[:300])
            assert "Traceback" not in resp.text
        else:
            _check_success(t, resp)
        if t["name"].startswith("query_") and _remote_graphs(t):
            # the same request over our own dataset passes: strip the remote graphs
            parts = urlsplit(t["path"])
            kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in DATASET_PARAMS]
            body = t["body"]
            if body:
                body = re.sub(r"FROM\s*<[^>]*>", "", body, flags=re.IGNORECASE)
            mentions_remote = "kasei.us" in (body or "") + str(kept)
            resp = _send(client, t, parts.path + ("?" + urlencode(kept) if kept else ""), body)
            _check_success({**t, "boolean": None if mentions_remote else t["boolean"]}, resp)
