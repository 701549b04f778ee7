"""What every request passes on its way in, whatever route it is for: writes refused (the
service is read-only), over-long or badly escaped URIs refused, the server's memory cap, a client
gone mid-body logged in one line, and the headers every response carries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from urllib.parse import unquote_to_bytes

from starlette.requests import ClientDisconnect

from isecg_kg.web.defaults import ALLOW, MAX_PATH_BYTES, MEMORY_CHECK, PAGE_CSP
from isecg_kg.web.http.responses import problem

log = logging.getLogger(__name__)

WRITE_METHODS = {"PUT", "DELETE", "PATCH"}


class ReadOnly:
    """PUT, DELETE and PATCH are refused on every path (no Graph Store writes anywhere)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in WRITE_METHODS:
            response = problem(405, "Method not allowed", f"{scope['method']} is refused: this "
                               "service is read-only",
                               headers={"Allow": ALLOW})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class UriLimit:
    """414 for a path longer than MAX_PATH_BYTES or a query string longer than a query at the
    size limit can make it (percent-encoded), before any route reads them."""

    def __init__(self, app, max_query_bytes: int):
        self.app = app
        self.max_query_string = 3 * max_query_bytes + 8192

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = len(scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape"))
            query = len(scope.get("query_string", b""))
            if path > MAX_PATH_BYTES or query > self.max_query_string:
                what = "path" if path > MAX_PATH_BYTES else "query string"
                limit = MAX_PATH_BYTES if path > MAX_PATH_BYTES else self.max_query_string
                response = problem(414, "URI too long", f"the request's {what} is "
                                   f"{path if what == 'path' else query} bytes; the "
                                   f"limit is {limit} bytes (send long queries by POST)",
                                   limit=limit)
                await response(scope, receive, send)
                return
            raw = scope.get("raw_path") or b""
            if b"%" in raw:  # uvicorn decodes %FF and a stray % silently (to U+FFFD or as is)
                detail = _bad_escape(raw)
                if detail:
                    response = problem(400, "Bad request", f"the request's path {detail}")
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _bad_escape(raw_path: bytes) -> str | None:
    """Why a raw path's percent-encoding is unusable (a % not followed by two hex digits, or
    bytes that are not UTF-8), or None."""
    if _BAD_ESCAPE.search(raw_path):
        return "has a '%' not followed by two hexadecimal digits"
    try:
        unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 once percent-decoded (byte {exc.start + 1} of the decoded path)"
    return None


class ClientGone:
    """A client that hangs up while its request body is being read (Starlette raises
    ClientDisconnect in the route) is one line in the log, not a traceback: nobody is left to
    answer."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            client = "{}:{}".format(*scope["client"]) if scope.get("client") else "a client"
            log.warning("%s: %s %r: the client went away before its request body was complete",
                        client, scope.get("method"), scope.get("path", "")[:200])


def resident_bytes() -> int | None:
    """This process's resident memory, from /proc (None where there is no /proc)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class MemoryGuard:
    """The server process's memory cap: a watchdog reads its resident memory every
    ``MEMORY_CHECK`` seconds; above ``limit`` bytes it empties the answer caches, hands freed
    memory back to the system, and answers every request but /healthz 503 + Retry-After naming
    the limit until the process is below it again. A soft cap (an allocation between two checks
    is not stopped): the hard bounds are the per-answer byte cap, the cache budgets and the
    connection limit; this catches what they do not foresee, without letting an allocation
    failure (RLIMIT_AS) surface at a random place in the event loop."""

    def __init__(self, app, limit: int | None):
        self.app, self.limit = app, limit
        self.over: int | None = None  # the resident bytes last seen, while over the limit

    async def __call__(self, scope, receive, send):
        if self.over is not None and scope["type"] == "http" and scope["path"] != "/healthz":
            response = problem(503, "Server memory limit", f"the server process holds "
                               f"{self.over >> 20} MiB, over its limit of {self.limit >> 20} "
                               "MiB (--server-memory); retry shortly",
                               headers={"Retry-After": "5"}, limit=self.limit)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def watch(self, caches) -> None:
        while self.limit is not None:
            rss = resident_bytes()
            if rss is None:
                return
            if rss > self.limit:
                if self.over is None:
                    log.warning("the server process holds %d MiB, over its limit of %d MiB "
                                "(--server-memory): refusing requests until it is below",
                                rss >> 20, self.limit >> 20)
                    for cache in caches:
                        cache.clear()
                    _trim()
                self.over = resident_bytes() or rss
                if self.over <= self.limit:
                    self.over = None
            elif self.over is not None:
                log.warning("the server process is below its memory limit again (%d MiB)",
                            rss >> 20)
                self.over = None
            await asyncio.sleep(MEMORY_CHECK)


def _trim() -> None:
    """Give freed heap back to the system (glibc keeps it otherwise)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class ResponseHeaders:
    """Headers every response carries: ``Isecg-Release: VERSION``, the data release it comes
    from (the current one, unless a route about a kept release named that one), and
    ``X-Content-Type-Options: nosniff``; an HTML response that set no Content-Security-Policy of
    its own (an error page of the framework, say) gets the strict page policy, so no page of
    this server can run a script it did not ship."""

    def __init__(self, app, release: str):
        self.app = app
        self.release = (b"isecg-release", release.encode("ascii", "replace"))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"isecg-release" not in names:
                    headers.append(self.release)
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if ctype.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
