"""Hostile input (issue 7): SPARQL text, HTTP requests and paths against one real server.

Every case must get a clear answer: the status it lists (a 4xx, or 200 where the input is odd but
legal), a body with no traceback and no file-system path, and a server still answering /healthz
afterwards. Requests go out through `raw_request` (http.client) so that paths and headers reach
the server byte for byte. Source data for the build has its own module: test_hostile_sources.py.
"""

from __future__ import annotations

import json

import pytest
from servers import isecg_server, leaks, raw_request

TIMEOUT = 2.0
MAX_BYTES = 16 * 1024


@pytest.fixture(scope="module")
def server(dist):
    with isecg_server(dist, "--query-timeout", str(TIMEOUT), "--workers", "2",
                      "--max-query-bytes", str(MAX_BYTES)) as url:
        yield url
        # the server survived everything the module threw at it
        status, _, body = raw_request(url, "GET", "/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"


def answer(server, method: str, path: str, headers: dict | None = None,
           body: bytes | None = None) -> tuple[int, dict, bytes]:
    status, head, content = raw_request(server, method, path, headers, body)
    assert not leaks(content), (method, path[:200], status, content[:500])
    assert status < 500 or status == 503 and "retry-after" in head, (path[:200], status, content)
    return status, head, content


def alive(server) -> None:
    status, _, body = raw_request(server, "GET", "/healthz")
    assert status == 200, body


# ---- paths: traversal in every spelling, and strings that are not IRIs ---------------------------

TRAVERSALS = [
    "/dumps/../pyproject.toml", "/dumps/%2e%2e/pyproject.toml", "/dumps/%2E%2E/pyproject.toml",
    "/dumps/..%2fpyproject.toml", "/dumps/..%2Fpyproject.toml", "/dumps/%2e%2e%2fpyproject.toml",
    "/dumps/%252e%252e%252fpyproject.toml", "/dumps/..%252fpyproject.toml",
    "/dumps/..%5cpyproject.toml", "/dumps/..\\pyproject.toml", "/dumps/.%2e/pyproject.toml",
    "/dumps/%c0%ae%c0%ae/pyproject.toml", "/dumps/%c0%ae%c0%ae%c0%afpyproject.toml",
    "/dumps/..;/pyproject.toml", "/dumps/%2fetc%2fpasswd", "/dumps//etc/passwd",
    "/dumps/isecg.nt%00.txt", "/dumps/isecg.nt/..", "/dumps/SHA256SUMS/../../pyproject.toml",
    "/id/..%2f..%2fpyproject.toml", "/id/%2e%2e/%2e%2e/pyproject.toml",
    "/id/../../pyproject.toml", "/id/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/ontology/..%2f..%2fpyproject.toml", "/static/ld-..%2f..%2f..%2fpyproject.toml",
    "/static/ld-%2e%2e%2fsparql.py", "/static/..%2fsparql.py", "/static/sparql-query.js/..%2f..%2fapp.py",
    "//etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
    "/reconcile/preview?id=file:///etc/passwd", "/void.%2e%2e%2fpyproject",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_never_reaches_a_file(server, path):
    status, _, body = answer(server, "GET", path)
    assert status in (400, 404), (path, status)
    assert b"[project]" not in body and b"root:x:0" not in body and b"import " not in body


# Decoded, these are strings no IRI may hold (a space, a NUL, '%ZZ', an invalid code point):
# pyoxigraph raised ValueError on them and the route answered 500.
NOT_IRIS = ["/id/%ZZ", "/id/%00", "/id/agency/nasa%00.html", "/id/agency/%ED%A0%80",
            "/id/agency/%C3%28", "/id/agency/a%20b", "/id/agency/%3Cscript%3E", "/id/%7B%7D",
            "/id/agency/%22", "/id/agency/%5C", "/id/agency/%60", "/id/agency/%7C.ttl",
            "/ontology/%ZZ", "/id/agency/nasa%0d%0aSet-Cookie:%20x=1"]


@pytest.mark.parametrize("path", NOT_IRIS)
def test_invalid_iri_characters_in_path_are_404_not_500(server, path):
    status, head, _ = answer(server, "GET", path)
    assert status == 404, (path, status)
    assert "set-cookie" not in head


def test_unknown_iris_are_not_remembered(dist, store):
    """The IRI-kind cache keeps only what the graph describes: misses cannot grow the server."""
    from isecg_kg.web.context import Site
    from isecg_kg.web.linkeddata import LinkedData

    ld = LinkedData(Site.from_dist(dist), store)
    assert ld.kind("https://w3id.org/isecg/id/agency/nasa") == "entity"
    for i in range(2000):
        assert ld.kind(f"https://w3id.org/isecg/id/agency/nobody-{i}") is None
    assert ld.kind("https://w3id.org/isecg/id/a b") is None
    assert len(ld._kinds) == 1
