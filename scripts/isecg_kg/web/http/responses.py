"""Responses more than one route writes: RFC 9457 problems (an external store's failure among
them), files checked against their SHA256SUMS, and the read-only routes of a router."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.routing import Route

from isecg_kg.errors import StoreError

log = logging.getLogger(__name__)

READ = ["GET", "HEAD"]


def problem(status: int, title: str, detail: str, *, headers: dict | None = None,
            **extra) -> Response:
    """An RFC 9457 problem body; never a traceback or a path."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(json.dumps(body, ensure_ascii=False), status_code=status,
                    media_type="application/problem+json", headers=headers)


def not_modified(request, etag: str) -> bool:
    """Whether the request's If-None-Match names this representation's ETag (compared weakly,
    RFC 9110 §13.1.2) or is ``*``: then the answer is 304."""
    inm = request.headers.get("if-none-match")
    if not inm:
        return False
    tags = [t.strip() for t in inm.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


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
    if etag is not None and request is not None and not_modified(request, etag):
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


STORE_FAILURES = {502: "Bad gateway", 503: "Store unavailable", 504: "Gateway timeout"}


async def store_failed(request, exc: StoreError):
    """An external store that failed (serve --store): 502, 503 or 504; its address goes to the
    log, not to the client."""
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": "5"} if exc.status in (503, 504) else None
    return problem(exc.status, STORE_FAILURES.get(exc.status, "Bad gateway"),
                   f"the SPARQL store behind this server {exc.reason}", headers=headers)
