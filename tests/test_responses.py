"""Responses every route writes (web/http/responses.py): problem bodies, If-None-Match read
once, and an external store's failure told without its address."""

from __future__ import annotations

import asyncio
import json

import pytest
from isecg_kg.errors import StoreError
from isecg_kg.web.http.responses import not_modified, problem, store_failed
from starlette.requests import Request


def request(inm: str | None = None) -> Request:
    headers = [(b"if-none-match", inm.encode())] if inm is not None else []
    return Request({"type": "http", "method": "GET", "path": "/x", "query_string": b"",
                    "headers": headers})


@pytest.mark.parametrize(("inm", "answer"), [
    (None, False), ('"a"', True), ('W/"a"', True), ('"b", "a"', True), ('"b"', False),
    ("*", True), ('"a-"', False)])
def test_if_none_match_names_the_representation_or_is_a_star(inm, answer):
    assert not_modified(request(inm), '"a"') is answer


def test_a_problem_is_rfc_9457_and_drops_empty_members():
    r = problem(413, "Query too large", "big", limit=10, line=None)
    assert r.status_code == 413 and r.media_type == "application/problem+json"
    assert json.loads(r.body) == {"type": "about:blank", "title": "Query too large",
                                  "status": 413, "detail": "big", "limit": 10}


@pytest.mark.parametrize(("status", "title", "retry"), [(502, "Bad gateway", False),
                                                        (503, "Store unavailable", True),
                                                        (504, "Gateway timeout", True)])
def test_a_store_that_failed_is_told_without_its_address(status, title, retry):
    exc = StoreError("http://secret.example:7878/query", "did not answer", status=status,
                     detail="/var/lib/store/db: corrupt")
    r = asyncio.run(store_failed(request(), exc))
    body = json.loads(r.body)
    assert r.status_code == status and body["title"] == title
    assert "secret.example" not in r.body.decode() and "/var/lib" not in r.body.decode()
    assert ("retry-after" in r.headers) is retry
