"""Reading a request body without ever holding more than a limit."""

from __future__ import annotations

from starlette.requests import Request

from isecg_kg.errors import BodyTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body; BodyTooLarge as soon as Content-Length or the bytes read pass `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(int(declared))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(size)
        chunks.append(chunk)
    return b"".join(chunks)
