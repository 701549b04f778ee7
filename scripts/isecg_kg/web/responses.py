"""Responses more than one route writes: RFC 9457 problems, files checked against their
SHA256SUMS, and the read-only routes of a router."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.routing import Route

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
                 missing: Callable[[], Response],
                 withheld: Callable[[str], Response]) -> Response:
    """The file ``name`` of a build or a kept release (``files``: its context.Release), served
    inline only if its SHA256SUMS lists it and only while it still matches; else ``missing()``
    (not listed) or ``withheld(reason)``. SHA256SUMS itself is always served."""
    if name != "SHA256SUMS" and name not in files.sums:
        return missing()
    reason = None if name == "SHA256SUMS" else files.problem(name)
    if reason is not None:
        return withheld(reason)
    return FileResponse(Path(directory) / name, media_type=media_type, headers=headers,
                        content_disposition_type="inline")


def read_routes(*routes: tuple[str, Callable]) -> list[Route]:
    """GET and HEAD routes from (path, handler) pairs, in order."""
    return [Route(path, handler, methods=READ) for path, handler in routes]


def static_file(name: str, media_type: str):
    """A handler serving one file of the web layer's static files (404 while it is absent)."""
    path = STATIC / name

    async def handler(request) -> Response:
        if not path.is_file():
            return Response("404 Not Found\n", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type=media_type,
                            headers={"Cache-Control": "public, max-age=3600",
                                     "X-Content-Type-Options": "nosniff"})

    return handler
