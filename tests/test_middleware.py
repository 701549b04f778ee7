"""What every request passes (web/http/middleware.py), in front of a route that would answer
anything: writes refused, over-long or badly escaped URIs refused, the memory cap, the headers
every response carries, and a client gone mid-body."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from isecg_kg.web.defaults import MAX_PATH_BYTES, PAGE_CSP
from isecg_kg.web.http.middleware import MemoryGuard, ReadOnly, ResponseHeaders, UriLimit
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

EVERY = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]


async def anything(request):
    if request.url.path.endswith(".html"):
        return HTMLResponse("<p>page</p>")
    return PlainTextResponse("ok")


def app(*middleware) -> Starlette:
    return Starlette(routes=[Route("/{rest:path}", anything, methods=EVERY)],
                     middleware=list(middleware))


def get(application, method: str, url: str, **kwargs) -> httpx.Response:
    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                     base_url="http://test") as c:
            return await c.request(method, url, **kwargs)

    return asyncio.run(go())


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_writes_are_refused_on_every_path(method):
    r = get(app(Middleware(ReadOnly)), method, "/sparql")
    assert r.status_code == 405 and "read-only" in r.json()["detail"]
    assert r.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert get(app(Middleware(ReadOnly)), "GET", "/sparql").status_code == 200


def test_a_uri_over_its_limit_is_414_naming_the_limit():
    guarded = app(Middleware(UriLimit, max_query_bytes=100))
    r = get(guarded, "GET", "/" + "a" * MAX_PATH_BYTES)
    assert r.status_code == 414 and r.json()["limit"] == MAX_PATH_BYTES
    r = get(guarded, "GET", "/sparql?query=" + "a" * (3 * 100 + 8192))
    assert r.status_code == 414 and "send long queries by POST" in r.json()["detail"]
    assert get(guarded, "GET", "/sparql?query=" + "a" * 300).status_code == 200


@pytest.mark.parametrize("path", ["/id/%ZZ", "/id/%", "/id/%FF%FE"])
def test_a_path_whose_escapes_are_no_utf_8_is_400(path):
    r = get(app(Middleware(UriLimit, max_query_bytes=100)), "GET", path)
    assert r.status_code == 400 and "the request's path" in r.json()["detail"]


def test_every_response_says_its_release_and_an_html_one_its_policy():
    with_headers = app(Middleware(ResponseHeaders, release="9.9.9"))
    r = get(with_headers, "GET", "/page.html")
    assert r.headers["isecg-release"] == "9.9.9" and r.headers["x-content-type-options"] == \
        "nosniff"
    assert r.headers["content-security-policy"] == PAGE_CSP
    r = get(with_headers, "GET", "/plain")
    assert "content-security-policy" not in r.headers


def test_over_its_memory_limit_the_server_refuses_all_but_healthz():
    guard: list[MemoryGuard] = []

    def remember(application, limit):
        guard.append(MemoryGuard(application, limit))
        return guard[0]

    guarded = app(Middleware(remember, limit=64 << 20))
    assert get(guarded, "GET", "/sparql").status_code == 200
    guard[0].over = 100 << 20  # what the watchdog saw
    r = get(guarded, "GET", "/sparql")
    assert r.status_code == 503 and "64 MiB" in r.json()["detail"]
    assert int(r.headers["retry-after"]) >= 1
    assert get(guarded, "GET", "/healthz").status_code == 200
