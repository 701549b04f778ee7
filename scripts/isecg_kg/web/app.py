"""The web application: SPARQL endpoint and query page first, then the other helpers' routes.

``create_app(site, options)`` is all a caller needs; the query workers start with the app's
lifespan (so /healthz answers only once they are loaded) and stop with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from ipaddress import ip_address
from urllib.parse import unquote_to_bytes

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.routing import Route

from isecg_kg.config import (
    ADMISSION_WAIT,
    BODY_TIMEOUT,
    BUDGET_WINDOW,
    CLIENT_BUDGET,
    HEAD_TIMEOUT,
    MAX_ANSWER_BYTES,
    MAX_CLIENT_CONNECTIONS,
    MAX_CONNECTIONS,
    MAX_QUERY_BYTES,
    MAX_ROWS,
    QUERY_TIMEOUT,
    SERVER_MEMORY_MIB,
    SERVICE_WORKERS,
    WIKIDATA_SPARQL,
    WORKER_MEMORY,
)
from isecg_kg.errors import InputError, StoreError
from isecg_kg.sparql.engine import Engine, Limits, open_store
from isecg_kg.sparql.remote import RemoteEngine, RemoteStore, check_release
from isecg_kg.sparql.workers import QueryEngine
from isecg_kg.web.context import Site
from isecg_kg.web.defaults import (
    ALLOW,
    EXPOSED_HEADERS,
    MAX_PATH_BYTES,
    MEMORY_CHECK,
    MIN_WORKER_MEMORY,
    PAGE_CSP,
)
from isecg_kg.web.http.budget import ClientBudgets
from isecg_kg.web.http.clients import Clients
from isecg_kg.web.http.responses import problem, static_file

log = logging.getLogger(__name__)

WRITE_METHODS = {"PUT", "DELETE", "PATCH"}


@dataclass(frozen=True)
class ServerOptions:
    query_timeout: float = QUERY_TIMEOUT
    max_rows: int | None = MAX_ROWS
    max_query_bytes: int = MAX_QUERY_BYTES
    workers: int | None = None                    # None: one per core, at least two
    service_allow: tuple[str, ...] = (WIKIDATA_SPARQL,)
    wikidata_endpoint: str = WIKIDATA_SPARQL
    admission_wait: float = ADMISSION_WAIT
    max_heavy: int | None = None                  # None: the engine's default (per core)
    heavy_after: float | None = None
    worker_memory: int | None = WORKER_MEMORY  # bytes of address space per worker
    max_connections: int = MAX_CONNECTIONS
    max_client_connections: int = MAX_CLIENT_CONNECTIONS
    max_answer_bytes: int | None = MAX_ANSWER_BYTES
    server_memory: int | None = SERVER_MEMORY_MIB << 20
    head_timeout: float = HEAD_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    client_budget: float | None = CLIENT_BUDGET  # None: no per-client budget
    budget_window: float = BUDGET_WINDOW
    trust_proxy: tuple[str, ...] = ()             # proxies whose X-Forwarded-For is believed
    store: str | None = None                      # an external SPARQL store's query URL
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> ServerOptions:
        for name in ("query_timeout", "max_rows", "max_query_bytes", "workers", "max_heavy",
                     "heavy_after", "admission_wait", "worker_memory", "max_connections",
                     "max_answer_bytes", "server_memory", "head_timeout", "body_timeout",
                     "budget_window", "max_client_connections"):
            value = getattr(args, name, None)
            if value is not None and value <= 0:
                raise InputError(f"--{name.replace('_', '-')} must be positive, not {value}")
        if args.client_budget is not None and args.client_budget < 0:
            raise InputError("--client-budget must be 0 (none) or positive, not "
                             f"{args.client_budget}")
        for proxy in args.trust_proxy or ():
            try:
                ip_address(proxy)
            except ValueError:
                raise InputError(f"--trust-proxy takes an IP address, not {proxy!r}") from None
        if args.worker_memory < MIN_WORKER_MEMORY:
            raise InputError(f"--worker-memory must be at least {MIN_WORKER_MEMORY} MiB (a "
                             "worker's 256 MiB query stack, Python and the store), not "
                             f"{args.worker_memory}")
        return cls(query_timeout=args.query_timeout, max_rows=args.max_rows,
                   max_query_bytes=args.max_query_bytes, workers=args.workers,
                   service_allow=tuple(args.service_allow or (WIKIDATA_SPARQL,)),
                   wikidata_endpoint=args.wikidata_endpoint, admission_wait=args.admission_wait,
                   max_heavy=args.max_heavy, heavy_after=args.heavy_after,
                   worker_memory=args.worker_memory << 20, max_connections=args.max_connections,
                   max_client_connections=args.max_client_connections,
                   max_answer_bytes=args.max_answer_bytes, server_memory=args.server_memory << 20,
                   head_timeout=args.head_timeout, body_timeout=args.body_timeout,
                   client_budget=args.client_budget or None, budget_window=args.budget_window,
                   trust_proxy=tuple(args.trust_proxy or ()), store=args.store)

    def worker_count(self) -> int:
        return self.workers if self.workers else max(2, os.cpu_count() or 2)

    def clients(self) -> Clients:
        """Who the clients are: addresses, but behind a --trust-proxy its X-Forwarded-For."""
        return Clients(self.trust_proxy)

    def limits(self) -> Limits:
        """What each query may take and give (the engines hold it; the endpoint states it)."""
        return Limits(self.query_timeout, self.max_rows, self.max_answer_bytes)


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


STORE_FAILURES = {502: "Bad gateway", 503: "Store unavailable", 504: "Gateway timeout"}


async def store_failed(request, exc: StoreError):
    """An external store that failed (serve --store): 502, 503 or 504; its address goes to the
    log, not to the client."""
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": "5"} if exc.status in (503, 504) else None
    return problem(exc.status, STORE_FAILURES.get(exc.status, "Bad gateway"),
                   f"the SPARQL store behind this server {exc.reason}", headers=headers)


async def healthz_payload(site: Site, engine) -> JSONResponse:
    withheld = dict(site.release.problems) if site.release is not None else {}
    status = engine.status()
    body = {"status": "degraded" if withheld or not status["workers"] else "ok",
            "version": site.version, **status}
    if withheld:
        body["withheld"] = withheld  # files of the build that failed their SHA-256 check
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def create_app(site: Site, options: ServerOptions | None = None) -> Starlette:
    from isecg_kg.web.endpoint.sparql import SparqlService
    from isecg_kg.web.pages import documents, linkeddata, reconcile, releases

    options = options or ServerOptions()
    if site.release is None:  # refuse a damaged build, withhold damaged dumps (context.py)
        site = site.verified()
    allow = tuple(options.service_allow)
    service_map = {}
    if WIKIDATA_SPARQL in allow and options.wikidata_endpoint != WIKIDATA_SPARQL:
        allow = (*allow, options.wikidata_endpoint)
        service_map[WIKIDATA_SPARQL] = options.wikidata_endpoint
    service_engine: Engine | None = None
    limits = options.limits()
    caps = {"timeout": limits.timeout, "max_rows": limits.max_rows,
            "max_bytes": limits.max_bytes}
    if options.store:
        store = RemoteStore(options.store, timeout=limits.timeout)
        check_release(store, site.dist)
        engine: Engine = RemoteEngine(store, slots=options.worker_count(),
                                      admission_wait=options.admission_wait,
                                      service_allow=allow, **caps)
    else:
        nq_sha256 = site.release.sums["isecg.nq"]
        store = open_store(site.dist, nq_sha256)
        engine = QueryEngine(site.dist, workers=options.worker_count(),
                             admission_wait=options.admission_wait,
                             max_heavy=options.max_heavy, heavy_after=options.heavy_after,
                             memory_limit=options.worker_memory, sha256=nq_sha256, **caps)
        if allow:  # the only workers that may connect: queries with an approved SERVICE
            service_engine = QueryEngine(
                site.dist, workers=SERVICE_WORKERS, admission_wait=options.admission_wait,
                memory_limit=options.worker_memory, sha256=nq_sha256, sealed=False, **caps)
    service = SparqlService(site, engine, store,
                            max_query_bytes=options.max_query_bytes, service_allow=allow,
                            service_map=service_map,
                            budgets=ClientBudgets(options.client_budget, options.budget_window)
                            if options.client_budget else None, clients=options.clients(),
                            service_engine=service_engine)
    if options.store:  # asked on the event loop for GET /sparql: ask the store now, once
        service.description.turtle()
    every = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    guard: MemoryGuard | None = None

    async def healthz(request):
        response = await healthz_payload(site, engine)
        if guard is not None and guard.over is not None:  # refusing requests: say why
            body = json.loads(response.body)
            body.update(status="degraded", memory=guard.over, memoryLimit=guard.limit)
            return JSONResponse(body, headers={"Cache-Control": "no-store"})
        return response

    routes = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/sparql", service.endpoint, methods=every),
        Route("/sparql/", service.endpoint, methods=every),
        Route("/query", service.pages.handler, methods=every),
        Route("/static/sparql-query.js", static_file("sparql-query.js"),
              methods=["GET", "HEAD"]),
        Route("/static/sparql-query.css", static_file("sparql-query.css"),
              methods=["GET", "HEAD"]),
        # the SPARQL editor, bundled from npm at set-up (404 until then; the page does without)
        Route("/static/editor/editor.js", static_file("editor/editor.js"),
              methods=["GET", "HEAD"]),
    ]
    routes += documents.routes(site, store, service.graphs)  # /graph/{ontology,data,inferred}
    routes += list(linkeddata.routes(site, store))
    routes += list(releases.routes(site, store))
    routes += list(reconcile.routes(site, store, budgets=service.budgets,
                                    clients=service.clients))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        starting = [asyncio.to_thread(engine.start)]
        if service_engine is not None:
            starting.append(asyncio.to_thread(service_engine.start))
        try:
            await asyncio.gather(*starting)
        except BaseException:
            engine.close()
            if service_engine is not None:
                service_engine.close()
            raise
        await asyncio.to_thread(engine.start_spare)
        watchdog = asyncio.ensure_future(guard.watch([service.answers, service.checked])
                                         if guard is not None else asyncio.sleep(0))
        try:
            yield
        finally:
            watchdog.cancel()
            engine.close()
            if service_engine is not None:
                service_engine.close()

    def remember_guard(app, limit):
        nonlocal guard
        guard = MemoryGuard(app, limit)
        return guard

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        StoreError: store_failed}, middleware=[
        Middleware(ClientGone),
        Middleware(remember_guard, limit=options.server_memory),
        Middleware(ResponseHeaders, release=site.release_version),
        Middleware(UriLimit, max_query_bytes=options.max_query_bytes),
        Middleware(ReadOnly),
        Middleware(CORSMiddleware, allow_origins=["*"],
                   allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
                   allow_headers=["Accept", "Content-Type", "If-None-Match"],
                   expose_headers=EXPOSED_HEADERS,
                   max_age=86400),
    ])
    app.state.engine = engine
    app.state.service_engine = service_engine
    app.state.store = store
    app.state.site = site
    return app
