"""Responses more than one route writes: RFC 9457 problems, files checked against their
SHA256SUMS, and the read-only routes of a router."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.routing import Route

from isecg_kg.formats import media_type_of
from isecg_kg.web.templates import STATIC

READ = ["GET", "HEAD"]


def problem(status: int, title: str, detail: str, *, headers: dict | None = None,
            **extra) -> Response:
    """An RFC 9457 problem body; never a traceback or a path."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(json.dumps(body, ensure_ascii=False), status_code=status,
                    media_type="application/problem+json", headers=headers)


def checked_file(files, directory: Path, name: str, *, media_type: str, headers: dict,
                 missing: Callable[[], Response], withheld: Callable[[str], Response],
                 request=None) -> Response:
    """The file ``name`` of a build or a kept release (``files``: its context.Release), served
    inline only if its SHA256SUMS lists it and only while it still matches; else ``missing()``
    (not listed) or ``withheld(reason)``. SHA256SUMS itself is served while it holds what was
    read at start-up. Its ETag is its SHA-256, so ``If-None-Match`` (of ``request``) gets 304;
    a Range past its end gets 416 with ``headers`` (``Isecg-Release`` says whose file)."""
    if name != "SHA256SUMS" and name not in files.sums:
        return missing()
    reason = files.problem(name)
    if reason is not None:
        return withheld(reason)
    digest = files.expected(name)
    etag = f'"{digest}"' if digest else None
    if etag is not None and request is not None:
        inm = request.headers.get("if-none-match")
        if inm and ("*" in inm or etag in [t.strip().removeprefix("W/")
                                           for t in inm.split(",")]):
            return Response(status_code=304, headers={**headers, "ETag": etag})
    return _CheckedFile(Path(directory) / name, media_type=media_type,
                        headers={**headers, **({"ETag": etag} if etag else {})},
                        content_disposition_type="inline")


class _CheckedFile(FileResponse):
    """Starlette's FileResponse, whose own 416 (a Range past the end) also carries the
    route's ``Isecg-Release`` and ``X-Content-Type-Options``."""

    _KEEP = (b"isecg-release", b"x-content-type-options", b"cache-control")

    async def __call__(self, scope, receive, send):
        keep = [(k, v) for k, v in self.raw_headers if k in self._KEEP]

        async def sending(message):
            if message["type"] == "http.response.start" and message["status"] == 416:
                names = {k for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *[(k, v) for k, v in keep if k not in names]]}
            await send(message)

        await super().__call__(scope, receive, sending)


def read_routes(*routes: tuple[str, Callable]) -> list[Route]:
    """GET and HEAD routes from (path, handler) pairs, in order."""
    return [Route(path, handler, methods=READ) for path, handler in routes]


def static_file(name: str):
    """A handler serving one file of the web layer's static files (404 while it is absent)."""
    path = STATIC / name
    media_type = media_type_of(name)

    async def handler(request) -> Response:
        if not path.is_file():
            return Response("404 Not Found\n", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type=media_type,
                            headers={"Cache-Control": "public, max-age=3600",
                                     "X-Content-Type-Options": "nosniff"})

    return handler
