"""Reading a request body (web/http/body.py): never more than the limit held, whether the
client declares its length or not."""

from __future__ import annotations

import asyncio

import pytest
from isecg_kg.errors import BodyTooLarge
from isecg_kg.web.http.body import read_body
from starlette.requests import Request


def request(chunks: list[bytes], length: int | None = None) -> tuple[Request, list]:
    headers = [(b"content-length", str(length).encode())] if length is not None else []
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
               for i, c in enumerate(chunks)]
    read: list = []

    async def receive():
        read.append(1)
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers},
                   receive), read


def test_a_body_within_the_limit_is_read_whole():
    r, _ = request([b"ab", b"cd"])
    assert asyncio.run(read_body(r, 4)) == b"abcd"


def test_a_declared_length_over_the_limit_is_refused_before_anything_is_read():
    r, read = request([b"x" * 10], length=10)
    with pytest.raises(BodyTooLarge) as exc:
        asyncio.run(read_body(r, 4))
    assert exc.value.size == 10 and read == []


def test_an_undeclared_body_is_refused_as_soon_as_it_passes_the_limit():
    r, read = request([b"abc", b"def", b"ghi", b"jkl"])
    with pytest.raises(BodyTooLarge) as exc:
        asyncio.run(read_body(r, 4))
    assert exc.value.size == 6 and len(read) == 2  # the rest is never read
