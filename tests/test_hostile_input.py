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


# ---- reconciliation: JSON that is deep, huge or strangely typed ---------------------------------

def _q(obj) -> str:
    from urllib.parse import quote

    return "/reconcile?queries=" + quote(obj if isinstance(obj, str) else json.dumps(obj))


RECONCILE_CASES = [
    # deep JSON: json.loads raised RecursionError, answered 500
    (_q("[" * 5000), 400), (_q('{"q":' * 5000), 400), ("/reconcile?query=" + "%7B" * 5000, 400),
    # numbers JSON allows but int() does not: 1e999 raised OverflowError, answered 500
    (_q('{"q": {"query": "NASA", "limit": 1e999}}'), 200),
    (_q('{"q": {"query": "NASA", "limit": -1e999}}'), 200),
    (_q('{"q": {"query": "NASA", "limit": NaN}}'), 200),
    (_q({"q": {"query": "NASA", "limit": [1]}}), 200),
    (_q({"q": {"query": "NASA", "limit": 10 ** 400}}), 200),
    (_q({"q": {"query": "NASA", "type": [1, 2]}}), 200),
    (_q({"q": {"query": "NASA", "type": {"id": None}}}), 200),
    (_q({"q": {"query": ["NASA"]}}), 400), (_q({"q": 5}), 400), (_q([1, 2]), 400),
    (_q("null"), 400), (_q('"NASA"'), 400), (_q("{"), 400), (_q({"q": {"query": "x" * 501}}), 400),
    (_q({f"q{i}": {"query": "NASA"} for i in range(201)}), 400),
    ("/reconcile?query=%ZZ", 200), ("/reconcile?query=%C3%28", 200),
    ("/reconcile?query=%00%01%02", 200), ("/reconcile?query=%E2%80%AE%E2%80%8B", 200),
    ("/reconcile/suggest/entity?prefix=%ED%A0%80&limit=1e999", 200),
    ("/reconcile/suggest/entity?prefix=N&limit=-5&type=%5B%5D", 200),
    ("/reconcile/preview?id=%3Cscript%3E", 404), ("/reconcile/preview", 404),
]


@pytest.mark.parametrize("path,expected", RECONCILE_CASES, ids=lambda v: str(v)[:60])
def test_reconcile_hostile_json_is_4xx_not_500(server, path, expected):
    status, head, body = answer(server, "GET", path)
    assert status == expected, (path[:100], status, body[:300])
    if status == 200:
        json.loads(body)


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize("body,ctype,expected", [
    (b"[" * 100_000, "application/json", 400), (b"queries=" + b"%5B" * 50_000, FORM, 400),
    (b"\xff\xfe\x00", "application/json", 400),
    (b"\xff\xfe\x00", FORM, 200),  # no query in it: the manifest
    (b"queries=%7B%22q%22%3A%7B%22query%22%3A%22NASA%22%2C%22limit%22%3A1e999%7D%7D", FORM, 200),
], ids=lambda v: str(v)[:30])
def test_reconcile_hostile_posts(server, body, ctype, expected):
    status, _, _ = answer(server, "POST", "/reconcile", {"Content-Type": ctype}, body)
    assert status == expected


def test_reconcile_body_over_the_limit_is_413_without_reading_it(server):
    from isecg_kg.web.reconcile import MAX_BODY

    status, _, _ = answer(server, "POST", "/reconcile",
                          {"Content-Type": "application/json",
                           "Content-Length": str(MAX_BODY + 1)}, b"")
    assert status == 413
    status, _, _ = answer(server, "POST", "/reconcile", {"Content-Type": "application/json"},
                          b" " * (MAX_BODY + 1))
    assert status == 413


def test_a_costly_reconcile_batch_does_not_stall_other_requests(server):
    """200 queries of 500 random characters took 31 s of scoring on the event loop, and every
    other request waited; now scoring runs in a thread under a budget (503 past it)."""
    import random
    import string
    import threading
    import time

    import httpx

    rnd = random.Random(7)
    words = ["".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(5, 12)))
             for _ in range(2000)]
    batch = {f"q{i}": {"query": " ".join(rnd.choice(words) for _ in range(60))[:499], "limit": 25}
             for i in range(200)}
    result = {}

    def costly():
        t0 = time.monotonic()
        result["r"] = httpx.post(server + "/reconcile", data={"queries": json.dumps(batch)},
                                 timeout=60)
        result["s"] = time.monotonic() - t0

    t = threading.Thread(target=costly)
    t.start()
    time.sleep(0.3)
    worst = 0.0
    while t.is_alive():
        t0 = time.monotonic()
        assert raw_request(server, "GET", "/healthz")[0] == 200
        worst = max(worst, time.monotonic() - t0)
        time.sleep(0.05)
    t.join()
    from isecg_kg.web.reconcile import BATCH_BUDGET

    assert result["r"].status_code in (200, 503), result["r"].text[:300]
    assert result["s"] < BATCH_BUDGET + 2
    assert worst < 0.5, worst
