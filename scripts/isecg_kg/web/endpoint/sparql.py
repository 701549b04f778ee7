"""The SPARQL 1.1 Protocol at /sparql, read-only and honest about its limits.

Status codes: 400 malformed query or request; 403 refused (update, SERVICE to a host not on the
allow-list, a graph that is not ours); 405 wrong method; 406 no acceptable format (the body lists
what is offered); 413 query larger than the limit (checked before parsing); 415 a POST body that
is neither a form nor application/sparql-query in UTF-8; 503 with Retry-After when the time limit
stopped the query or the workers are busy. Every error body is application/problem+json without
tracebacks or file paths. A 200 is always a complete result: when the row cap cut it, the response
says so in ``Isecg-Result-Truncated: true`` (the cap in force is always in ``Isecg-Row-Limit``).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import sys
import time
from urllib.parse import parse_qsl

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import Response

from isecg_kg import formats
from isecg_kg.config import GRAPHS
from isecg_kg.errors import (
    BodyTooLarge,
    QueryAborted,
    QueryBusy,
    QueryError,
    QueryFailed,
    QueryRefused,
    QueryServiceFailed,
    QueryTimeout,
    QueryTooLarge,
    QueryUnsupported,
)
from isecg_kg.sparql.engine import Engine, QueryRequest
from isecg_kg.sparql.explain import in_source, is_service_failure, service_failure
from isecg_kg.sparql.guard import check_graphs, check_query
from isecg_kg.sparql.results import write_triples
from isecg_kg.web.context import Site
from isecg_kg.web.defaults import ALLOW, DISCONNECT_GRACE
from isecg_kg.web.endpoint.cache import AnswerCache
from isecg_kg.web.endpoint.formats import (
    GRAPH_FORMAT_PARAM,
    GRAPH_OFFER,
    agreed_format,
    choose_format,
    parse_term,
)
from isecg_kg.web.endpoint.query_page import QueryPage
from isecg_kg.web.endpoint.service_description import ServiceDescription
from isecg_kg.web.http import conneg
from isecg_kg.web.http.body import read_body
from isecg_kg.web.http.budget import ClientBudgets
from isecg_kg.web.http.clients import Clients
from isecg_kg.web.http.responses import problem
from isecg_kg.web.pages.documents import Graphs


class _BadRequest(Exception):
    def __init__(self, response: Response):
        self.response = response


class SparqlService:
    """The /sparql endpoint and the /query page over one engine (and its limits)."""

    def __init__(self, site: Site, engine: Engine, store: ox.Store, *, max_query_bytes: int,
                 service_allow: tuple[str, ...], service_map: dict[str, str],
                 budgets: ClientBudgets | None = None, clients: Clients | None = None,
                 service_engine: Engine | None = None):
        self.site = site
        self.budgets = budgets
        self.clients = clients or Clients()
        self.engine = engine
        self.limits = engine.limits  # what every answer is under, and what the pages state
        # queries with an approved SERVICE run there (workers that may connect); the others on
        # ``engine``, whose workers cannot open a network socket (sparql/seal.py)
        self.service_engine = service_engine or engine
        self.store = store
        self.max_query_bytes = max_query_bytes
        self.service_allow = service_allow
        self.service_map = service_map
        self.endpoint_iri = site.base.rstrip("/") + "/sparql"
        self.answers = AnswerCache()
        self._inflight: dict = {}  # answer key -> [task of the engine run, requests awaiting it]
        # check_query is ~0.15 ms of Python per request; its verdict on a text never changes
        self.checked = AnswerCache(max_entries=1024, max_bytes=16 << 20)
        self.graphs = Graphs(store, site.version)
        self.pages = QueryPage(site, store, self.limits)
        self.description = ServiceDescription(site, store, self.endpoint_iri, self.limits,
                                              max_query_bytes, service_allow)

    # ---- request parsing

    async def _body(self, request: Request) -> bytes:
        limit = self.max_query_bytes * 3 + 8192  # room for percent-encoding and other fields
        try:
            return await read_body(request, limit)
        except BodyTooLarge as exc:
            raise _BadRequest(self._too_large(exc.size)) from None

    def _too_large(self, size: int) -> Response:
        return problem(413, "Query too large", f"the request carries {size} bytes; queries are "
                       f"limited to {self.max_query_bytes} bytes", limit=self.max_query_bytes)

    async def _params(self, request: Request) -> tuple[list[tuple[str, str]], str | None]:
        """All protocol parameters, and the query of a direct POST."""
        try:
            params = parse_qsl(request.url.query, keep_blank_values=True, strict_parsing=False,
                               errors="strict")
        except UnicodeDecodeError:
            raise _BadRequest(problem(400, "Bad request",
                                      "the query string is not UTF-8")) from None
        if request.method != "POST":
            return params, None
        ctype = request.headers.get("content-type", "")
        media, _, rest = ctype.partition(";")
        media = media.strip().lower()
        charset = None
        for p in rest.split(";"):
            k, _, v = p.partition("=")
            if k.strip().lower() == "charset":
                charset = v.strip().strip('"').lower()
        if media == "application/sparql-update":
            raise _BadRequest(self._read_only())
        if media not in ("application/x-www-form-urlencoded", "application/sparql-query"):
            raise _BadRequest(problem(
                415, "Unsupported media type",
                f"a POST must be application/x-www-form-urlencoded or application/sparql-query, "
                f"not {media or 'untyped'}", accepted=["application/x-www-form-urlencoded",
                                                       "application/sparql-query"]))
        if charset not in (None, "utf-8", "utf8"):
            raise _BadRequest(problem(415, "Unsupported charset",
                                      f"the body must be UTF-8, not {charset}"))
        body = await self._body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _BadRequest(problem(400, "Bad request", "the body is not valid UTF-8")) from None
        if media == "application/sparql-query":
            return params, text
        try:
            return params + parse_qsl(text, keep_blank_values=True, errors="strict"), None
        except UnicodeDecodeError:
            raise _BadRequest(problem(400, "Bad request", "the form is not UTF-8")) from None

    def _read_only(self) -> Response:
        return problem(403, "Read-only", "this endpoint answers queries only; SPARQL Update, LOAD "
                       "and Graph Store writes are refused")

    # ---- the endpoint

    async def endpoint(self, request: Request) -> Response:
        method = request.method
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ALLOW})
        if method not in ("GET", "HEAD", "POST"):
            return problem(405, "Method not allowed", f"{method} is not allowed here; use GET or "
                           "POST (this endpoint is read-only)", headers={"Allow": ALLOW})
        try:
            params, direct = await self._params(request)
            return await self._answer(request, params, direct)
        except _BadRequest as exc:
            return exc.response

    async def _answer(self, request: Request, params, direct: str | None) -> Response:
        names = [k for k, _ in params]
        if any(k in ("update", "using-graph-uri", "using-named-graph-uri") for k in names):
            return self._read_only()
        queries = [v for k, v in params if k == "query"] + ([direct] if direct is not None else [])
        if len(queries) > 1:
            return problem(400, "Bad request", "exactly one query per request, not "
                           f"{len(queries)}")
        fmt_param = [v for k, v in params if k == "format" and v.strip()] or None
        accept = request.headers.get("accept")
        if not queries and ("graph" in names or "default" in names):
            return self._graph_store(request, params, names, fmt_param, accept)
        if not queries:
            if request.method == "POST":
                return problem(400, "Bad request", "no query: send query= in the form or an "
                               "application/sparql-query body")
            return self._no_query(request, accept, fmt_param)
        text = queries[0]
        if len(text.encode("utf-8", "surrogatepass")) > self.max_query_bytes:
            return self._too_large(len(text.encode("utf-8", "surrogatepass")))
        default_graphs = [v for k, v in params if k == "default-graph-uri"]
        named = [v for k, v in params if k == "named-graph-uri"]
        try:
            check_graphs(default_graphs, named)
            checked = self.checked.get(text)
            if checked is None:
                checked = check_query(text, max_bytes=None,  # measured above
                                      service_allow=self.service_allow,
                                      service_map=self.service_map, base_iri=self.endpoint_iri)
                self.checked.put(text, checked, sys.getsizeof(checked.text)
                                 + sys.getsizeof(checked.source))
        except QueryError as exc:
            # a browser is shown the page with its query, malformed or not (the page says
            # why when it runs it); refusals stay refusals
            if type(exc) is QueryError and choose_format(None, fmt_param, accept) == "html":
                return self.pages.render(request, query=text)
            return self._query_error(exc)
        subs = self._substitutions(params, checked)
        if isinstance(subs, Response):
            return subs
        graph_kind = checked.form in ("CONSTRUCT", "DESCRIBE")
        choice = choose_format(checked.form, fmt_param, accept)
        if isinstance(choice, Response):
            return choice
        if choice == "html":
            return self.pages.render(request, query=text)
        req = QueryRequest.of(
            checked,
            solution_format="json" if graph_kind else choice,
            graph_format=choice if graph_kind else "turtle",
            default_graphs=tuple(default_graphs) if default_graphs or named else None,
            named_graphs=tuple(named) if default_graphs or named else None,
            max_rows=self.limits.max_rows, base_iri=self.endpoint_iri, substitutions=subs)
        key = req.key
        # one ETag per representation: the release, and this query's answer in this format
        # (a remote endpoint's answers may change: no ETag, no 304 for a query with SERVICE)
        etag = None if checked.services else self._tag(repr(key))
        if etag is not None and request.method in ("GET", "HEAD") and \
                self._not_modified(request, etag):
            return Response(status_code=304, headers=self._cache_headers(etag))
        result = self.answers.get(key)
        cache_state = "hit" if result is not None else "miss"
        if result is None:
            if key in self._inflight:
                cache_state = "shared"  # joins the run another request started
            client = self.clients.of_request(request)
            if self.budgets is not None and (retry := self.budgets.retry_after(client)) is not None:
                return self._over_budget(client, retry)
            started = time.monotonic()
            try:
                result = await self._run_shared(key, req, request, client)
            except _ClientGone:
                return Response(status_code=499)
            except QueryError as exc:
                # a SERVICE that failed: named as the query wrote it (a mirror's address stays
                # private); the engine's other verdicts (501, 500) stand
                if is_service_failure(exc, checked.services):
                    return self._service_failed(exc, checked.services)
                return self._query_error(in_source(exc, checked))
            finally:
                if self.budgets is not None:
                    self.budgets.charge(client, time.monotonic() - started)
            if not checked.services:  # a remote endpoint's answers may change: never kept
                self.answers.put(key, result, sys.getsizeof(result.body) + 200)
        headers = self._cache_headers(etag)
        limits = self.limits
        headers["Isecg-Row-Limit"] = str(limits.max_rows) if limits.max_rows is not None \
            else "none"
        headers["Isecg-Byte-Limit"] = str(limits.max_bytes) if limits.max_bytes is not None \
            else "none"
        headers["Isecg-Answer-Cache"] = cache_state
        if result.truncated:
            headers["Isecg-Result-Truncated"] = "true"
            headers["Isecg-Result-Rows"] = str(result.rows)
        if fmt_param:
            kind = formats.SYNTAXES if result.form == "GRAPH" else formats.RESULTS
            headers["Content-Disposition"] = ('inline; filename="query-result.'
                                              f'{kind[result.format].suffix}"')
        return Response(result.body, media_type=result.media_type, headers=headers)

    def _over_budget(self, client: str, retry: int) -> Response:
        b = self.budgets
        return problem(429, "Too many requests",
                       f"{client} has used its query time: {b.seconds:g} s in any {b.window:g} s "
                       f"(--client-budget, --budget-window); cached answers stay free. Retry "
                       f"after {retry} s.", headers={"Retry-After": str(retry)})

    async def _run_shared(self, key, req: QueryRequest, request: Request, client: str):
        """One engine run for all the requests of the same query in flight at once (a burst of
        one uncached query took every worker and queued the rest past the admission wait). The
        run is cancelled, freeing its worker, when the last request waiting for it is gone. The
        run takes heavy slots in the name of the client that started it."""
        shared = self._inflight.get(key)
        if shared is None or shared[0].cancelling():  # a run being cancelled is not joined
            engine = self.service_engine if req.services else self.engine
            shared = self._inflight[key] = [asyncio.ensure_future(engine.run(req, client)), 0]

            def forget(_, entry=shared):
                if self._inflight.get(key) is entry:
                    del self._inflight[key]

            shared[0].add_done_callback(forget)
        shared[1] += 1
        try:
            return await _unless_disconnected(request, asyncio.shield(shared[0]))
        finally:
            shared[1] -= 1
            if shared[1] == 0 and not shared[0].done():
                shared[0].cancel()

    def _tag(self, representation: str) -> str:
        """The ETag of one representation: the release and a digest of what makes it (the
        query as evaluated, its format and dataset, or a document's name)."""
        digest = hashlib.sha256(representation.encode("utf-8", "surrogatepass")).hexdigest()
        return f'"{self.site.version}-{digest[:16]}"'

    def _cache_headers(self, etag: str | None) -> dict:
        headers = {"Vary": "Accept", "Cache-Control": "no-cache"}
        if etag is not None:
            headers["ETag"] = etag
        return headers

    @staticmethod
    def _not_modified(request: Request, etag: str) -> bool:
        """If-None-Match names this representation's ETag (weakly compared), or is `*`."""
        inm = request.headers.get("if-none-match")
        if not inm:
            return False
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)

    @staticmethod
    def _substitutions(params, checked) -> dict | Response:
        """``$NAME=TERM`` parameters (an extension of the protocol, used by the query page for
        named queries): ?NAME is bound to TERM through the engine's substitutions, never by
        editing the text. TERM is one RDF term in Turtle syntax (``<iri>``, ``prefix:name``,
        ``"2015-06-30"^^xsd:date``, ``"text"@en``, ``42``)."""
        subs = {}
        for key, value in params:
            if not key.startswith("$"):
                continue
            name = key[1:]
            if name not in checked.variables:
                return problem(400, "Bad request", f"${name}: the query has no variable ?{name}")
            term = parse_term(value)
            if term is None:
                return problem(400, "Bad request", f"${name}={value[:200]} is not one RDF term; "
                               'write <http://...>, prefix:name, "text" or '
                               '"2015-06-30"^^xsd:date')
            subs[name] = term
        return subs

    def _query_error(self, exc: QueryError) -> Response:
        if isinstance(exc, QueryTooLarge):
            return problem(413, "Query too large", str(exc), limit=self.max_query_bytes)
        if isinstance(exc, QueryRefused):
            return problem(403, "Query refused", str(exc))
        if isinstance(exc, (QueryTimeout, QueryBusy, QueryAborted)):
            timeout = self.limits.timeout
            retry = getattr(exc, "retry_after", None) or max(1, math.ceil(timeout))
            title = {QueryTimeout: "Query time limit reached", QueryBusy: "Too busy",
                     QueryAborted: "Query aborted"}[type(exc)]
            return problem(503, title, str(exc), headers={"Retry-After": str(retry)},
                           timeLimit=timeout)
        if isinstance(exc, QueryUnsupported):  # valid SPARQL: not the client's syntax
            return problem(501, "Query uses an unsupported feature", str(exc))
        if isinstance(exc, QueryFailed):
            return problem(500, "Query could not be evaluated", str(exc))
        if isinstance(exc, QueryServiceFailed):
            return problem(502, "SERVICE endpoint failed", str(exc))
        return problem(400, "Malformed query", str(exc), line=exc.line, column=exc.column)

    def _graph_store(self, request: Request, params, names, fmt_param, accept) -> Response:
        """The read-only SPARQL 1.1 Graph Store Protocol: GET ?graph=IRI or ?default."""
        if request.method == "POST":
            return self._read_only()
        graphs = [v for k, v in params if k == "graph"]
        if len(graphs) + names.count("default") != 1:
            return problem(400, "Bad request", "name exactly one graph: graph=IRI or default")
        graph = graphs[0] if graphs else None
        if graph is not None and graph not in GRAPHS:
            return problem(404, "No such graph", f"<{graph}> is not a graph of this dataset; "
                           f"its graphs are {', '.join(GRAPHS)}, or ask for ?default")
        documents = formats.documents()
        if fmt_param:
            fmt = agreed_format(fmt_param, formats.param_names(documents),
                                {f.media_type: f.name for f in documents}, "graphs")
            if isinstance(fmt, Response):
                return fmt
        else:
            fmt = conneg.negotiate_rdf(accept, documents)
        return self.graphs.response(request, graph, fmt, vary=True)

    def _service_failed(self, exc: QueryError, services: tuple[str, ...]) -> Response:
        """A SERVICE endpoint failed (502) or timed out (504): a gateway error, not a
        malformed query."""
        status, detail = service_failure(str(exc), services, self.service_map)
        return problem(status, "Bad gateway" if status == 502 else "Gateway timeout", detail)

    # ---- the service description
    def _no_query(self, request: Request, accept: str | None,
                  fmt_param: list[str] | None) -> Response:
        offer = {m: n for m, n in GRAPH_OFFER.items()}
        if fmt_param:
            name = agreed_format(fmt_param, GRAPH_FORMAT_PARAM, offer,
                                      "the service description")
            if isinstance(name, Response):
                return name
        else:
            media = conneg.negotiate(accept, ["text/turtle", *list(offer)[1:], "text/html"])
            if media is None:
                return problem(406, "Not acceptable", f"nothing in Accept: {accept} is offered; "
                               f"the service description is {', '.join(offer)}",
                               offered=[*offer, "text/html"], headers={"Vary": "Accept"})
            if media == "text/html":
                return self.pages.render(request)
            name = offer[media]
        etag = self._tag(f"service description {name}")
        if request.method in ("GET", "HEAD") and self._not_modified(request, etag):
            return Response(status_code=304, headers=self._cache_headers(etag))
        body = (self.description.turtle().encode() if name == "turtle"
                else write_triples(self.description.triples(), name))
        return Response(body, media_type=formats.SYNTAXES[name].media_type,
                        headers=self._cache_headers(etag))


class _ClientGone(Exception):
    pass


async def _unless_disconnected(request: Request, work):
    """Run ``work`` but cancel it (freeing its worker) when the client hangs up and it does not
    end within DISCONNECT_GRACE."""
    task = asyncio.ensure_future(work)

    async def watch():
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                return

    watcher = asyncio.ensure_future(watch())
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        watcher.cancel()
        raise
    if task in done:
        watcher.cancel()
        return task.result()
    try:
        done, _ = await asyncio.wait({task}, timeout=DISCONNECT_GRACE)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task in done and not task.exception():
        return task.result()  # nobody will read it, but the cache will
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, QueryError):
        pass
    raise _ClientGone
