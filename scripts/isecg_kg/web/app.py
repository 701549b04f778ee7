"""The web application, wired: the engines and the store of one release, the SPARQL endpoint, the
pages' routes and the middleware every request passes. Nothing is decided here: the options are
ServerOptions' (options.py), each route its room's (endpoint/, pages/), each defence the HTTP
floor's (http/).

``create_app(site, options)`` is all a caller needs; the query workers start with the app's
lifespan (so /healthz answers only once they are loaded) and stop with it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route

from isecg_kg.config import SERVICE_WORKERS
from isecg_kg.errors import StoreError
from isecg_kg.sparql.engine import Engine, open_store
from isecg_kg.sparql.remote import RemoteEngine, RemoteStore, check_release
from isecg_kg.sparql.workers import QueryEngine
from isecg_kg.web.context import Site
from isecg_kg.web.defaults import EXPOSED_HEADERS
from isecg_kg.web.http.middleware import (
    ClientGone,
    MemoryGuard,
    ReadOnly,
    ResponseHeaders,
    UriLimit,
)
from isecg_kg.web.http.responses import store_failed
from isecg_kg.web.options import ServerOptions
from isecg_kg.web.templates import static_file

READ = ["GET", "HEAD"]
EVERY = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


@dataclass
class Engines:
    """What answers the queries of one release: the store the pages read, the engine /sparql
    runs queries on, and (embedded store only) the engine of queries with an approved SERVICE,
    whose workers alone may connect."""

    store: object
    engine: Engine
    service_engine: Engine | None = None

    def all(self) -> list[Engine]:
        return [e for e in (self.engine, self.service_engine) if e is not None]


def engines(site: Site, options: ServerOptions, allow: tuple[str, ...]) -> Engines:
    limits = options.limits()
    caps = {"timeout": limits.timeout, "max_rows": limits.max_rows,
            "max_bytes": limits.max_bytes}
    if options.store:
        store = RemoteStore(options.store, timeout=limits.timeout)
        check_release(store, site.dist)
        return Engines(store, RemoteEngine(store, slots=options.worker_count(),
                                           admission_wait=options.admission_wait,
                                           service_allow=allow, **caps))
    nq_sha256 = site.release.sums["isecg.nq"]
    engine = QueryEngine(site.dist, workers=options.worker_count(),
                         admission_wait=options.admission_wait, max_heavy=options.max_heavy,
                         heavy_after=options.heavy_after, memory_limit=options.worker_memory,
                         sha256=nq_sha256, **caps)
    service_engine = QueryEngine(
        site.dist, workers=SERVICE_WORKERS, admission_wait=options.admission_wait,
        memory_limit=options.worker_memory, sha256=nq_sha256, sealed=False,
        **caps) if allow else None
    return Engines(open_store(site.dist, nq_sha256), engine, service_engine)


def create_app(site: Site, options: ServerOptions | None = None) -> Starlette:
    from isecg_kg.web.endpoint.sparql import SparqlService
    from isecg_kg.web.pages import documents, linkeddata, reconcile, releases

    options = options or ServerOptions()
    if site.release is None:  # refuse a damaged build, withhold damaged dumps (context.py)
        site = site.verified()
    allow, service_map = options.services()
    run = engines(site, options, allow)
    service = SparqlService(site, run.engine, run.store, max_query_bytes=options.max_query_bytes,
                            service_allow=allow, service_map=service_map,
                            budgets=options.budgets(), clients=options.clients(),
                            service_engine=run.service_engine, grace=options.disconnect_grace)
    if options.store:  # asked on the event loop for GET /sparql: ask the store now, once
        service.description.turtle()
    guard: MemoryGuard | None = None

    async def healthz(request):
        withheld = dict(site.release.problems) if site.release is not None else {}
        status = run.engine.status()
        body = {"status": "degraded" if withheld or not status["workers"] else "ok",
                "version": site.version, **status}
        if withheld:
            body["withheld"] = withheld  # files of the build that failed their SHA-256 check
        if guard is not None and guard.over is not None:  # refusing requests: say why
            body.update(status="degraded", memory=guard.over, memoryLimit=guard.limit)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    routes = [
        Route("/healthz", healthz, methods=READ),
        Route("/sparql", service.endpoint, methods=EVERY),
        Route("/sparql/", service.endpoint, methods=EVERY),
        Route("/query", service.pages.handler, methods=EVERY),
        Route("/static/sparql-query.js", static_file("sparql-query.js"), methods=READ),
        Route("/static/sparql-query.css", static_file("sparql-query.css"), methods=READ),
        # the SPARQL editor, bundled from npm at set-up (404 until then; the page does without)
        Route("/static/editor/editor.js", static_file("editor/editor.js"), methods=READ),
        *documents.routes(site, run.store, service.graphs),  # /graph/{ontology,data,inferred}
        *linkeddata.routes(site, run.store),
        *releases.routes(site, run.store),
        *reconcile.routes(site, run.store, budgets=service.budgets, clients=service.clients),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            await asyncio.gather(*(asyncio.to_thread(e.start) for e in run.all()))
        except BaseException:
            for e in run.all():
                e.close()
            raise
        await asyncio.to_thread(run.engine.start_spare)
        watchdog = asyncio.ensure_future(guard.watch([service.answers, service.checked])
                                         if guard is not None else asyncio.sleep(0))
        try:
            yield
        finally:
            watchdog.cancel()
            for e in run.all():
                e.close()

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
    app.state.engine = run.engine
    app.state.endpoint = service
    app.state.service_engine = run.service_engine
    app.state.store = run.store
    app.state.site = site
    return app
