"""The SPARQL 1.1 Protocol at /sparql, read-only and honest about its limits.

Status codes: 400 malformed query or request; 403 refused (update, SERVICE to a host not on the
allow-list, a graph that is not ours); 405 wrong method; 406 no acceptable format (the body lists
what is offered); 413 query larger than the limit (checked before parsing); 415 a POST body that
is neither a form nor application/sparql-query in UTF-8; 503 with Retry-After when the time limit
stopped the query or the workers are busy. Every error body is application/problem+json without
tracebacks or file paths. A 200 is always a complete result: when the row cap cut it, the response
says so in ``Isecg-Result-Truncated: true`` (the cap in force is always in ``Isecg-Row-Limit``).

A query's way: the request read (protocol.py), its text checked once (the guard's verdict,
remembered per text), the format chosen once (formats.py), then the answer: from the cache, from
a run another request started, or from a run of its own on the engine (runs.py), charged to the
client's budget; every refusal is worded in problems.py.
"""

from __future__ import annotations

import sys
import time

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import Response

from isecg_kg import formats
from isecg_kg.errors import QueryError
from isecg_kg.sparql.engine import Engine, QueryRequest
from isecg_kg.sparql.explain import in_source, is_service_failure
from isecg_kg.sparql.guard import CheckedQuery, check_graphs, check_query
from isecg_kg.sparql.results import write_triples
from isecg_kg.web.context import Site
from isecg_kg.web.defaults import ALLOW, DISCONNECT_GRACE
from isecg_kg.web.endpoint import graph_store, problems, protocol
from isecg_kg.web.endpoint.cache import AnswerCache, digest
from isecg_kg.web.endpoint.formats import (
    GRAPH_FORMAT_PARAM,
    GRAPH_OFFER,
    agreed_format,
    choose_format,
)
from isecg_kg.web.endpoint.protocol import Asked, BadRequest
from isecg_kg.web.endpoint.query_page import QueryPage
from isecg_kg.web.endpoint.runs import ClientLeft, Runs
from isecg_kg.web.endpoint.service_description import ServiceDescription
from isecg_kg.web.http import conneg
from isecg_kg.web.http.budget import ClientBudgets
from isecg_kg.web.http.clients import Clients
from isecg_kg.web.http.responses import not_modified, problem
from isecg_kg.web.pages.documents import Graphs


class SparqlService:
    """The /sparql endpoint and the /query page over one engine (and its limits)."""

    def __init__(self, site: Site, engine: Engine, store: ox.Store, *, max_query_bytes: int,
                 service_allow: tuple[str, ...], service_map: dict[str, str],
                 budgets: ClientBudgets | None = None, clients: Clients | None = None,
                 service_engine: Engine | None = None, grace: float = DISCONNECT_GRACE):
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
        self.runs = Runs(grace)
        # check_query is ~0.15 ms of Python per request; its verdict on a text never changes
        self.checked = AnswerCache(max_entries=1024, max_bytes=16 << 20)
        self.graphs = Graphs(store, site.version)
        self.pages = QueryPage(site, store, self.limits)
        self.description = ServiceDescription(site, store, self.endpoint_iri, self.limits,
                                              max_query_bytes, service_allow)

    async def endpoint(self, request: Request) -> Response:
        method = request.method
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ALLOW})
        if method not in ("GET", "HEAD", "POST"):
            return problem(405, "Method not allowed", f"{method} is not allowed here; use GET or "
                           "POST (this endpoint is read-only)", headers={"Allow": ALLOW})
        try:
            asked = await protocol.read(request, self.max_query_bytes)
            if graph_store.asks_for_a_graph(asked):
                return graph_store.graph(request, asked, self.graphs)
            if asked.query is None:
                if method == "POST":
                    return problem(400, "Bad request", "no query: send query= in the form or an "
                                   "application/sparql-query body")
                return self._description(request, asked)
            return await self._answer(request, asked)
        except BadRequest as exc:
            return exc.response

    def _check(self, text: str) -> CheckedQuery:
        """The checks' verdict on a query text (remembered: it never changes)."""
        hashed = digest(text)
        checked = self.checked.get(None, hashed=hashed)
        if checked is None:
            checked = check_query(text, max_bytes=None,  # measured already
                                  service_allow=self.service_allow,
                                  service_map=self.service_map, base_iri=self.endpoint_iri)
            self.checked.put(None, checked, sys.getsizeof(checked.text)
                             + sys.getsizeof(checked.source), hashed=hashed)
        return checked

    async def _answer(self, request: Request, asked: Asked) -> Response:
        text = asked.query
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > self.max_query_bytes:
            return problems.too_large(size, self.max_query_bytes)
        default_graphs, named = asked.values("default-graph-uri"), asked.values("named-graph-uri")
        try:
            check_graphs(default_graphs, named)
            checked = self._check(text)
        except QueryError as exc:
            # a browser is shown the page with its query, malformed or not (the page says
            # why when it runs it); refusals stay refusals
            if type(exc) is QueryError and \
                    choose_format(None, asked.formats, asked.accept) == "html":
                return self.pages.render(request, query=text)
            return problems.query_error(exc, self.limits, self.max_query_bytes)
        subs = protocol.substitutions(asked, checked)
        graph_kind = checked.form in formats.GRAPH_FORMS
        choice = choose_format(checked.form, asked.formats, asked.accept)
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
        # one ETag per representation: the release, and this query's answer in this format
        # (a remote endpoint's answers may change: no ETag, no 304 for a query with SERVICE);
        # the key's one digest makes the ETag and finds the answer kept (it was made three times)
        hashed = digest(req.key)
        etag = None if checked.services else self._etag(hashed)
        if etag is not None and request.method in ("GET", "HEAD") and \
                not_modified(request, etag):
            return Response(status_code=304, headers=self._cache_headers(etag))
        result = self.answers.get(None, hashed=hashed)
        cache_state = "hit" if result is not None else "miss"
        if result is None:
            if req.key in self.runs:
                cache_state = "shared"  # joins the run another request started
            client = self.clients.of_request(request)
            if self.budgets is not None and (retry := self.budgets.retry_after(client)) is not None:
                return problems.over_budget(client, retry, self.budgets)
            engine = self.service_engine if req.services else self.engine
            # charged: the time the query held an engine (a wait for a worker is not the
            # client's spending); a client that left, all the time since it asked
            started, spent = time.monotonic(), None
            try:
                result = await self.runs.run(engine, req, request, client)
                spent = result.seconds
            except ClientLeft:
                return Response(status_code=499)
            except QueryError as exc:
                spent = exc.seconds
                # a SERVICE that failed: named as the query wrote it (a mirror's address stays
                # private); the engine's other verdicts (501, 500) stand
                if is_service_failure(exc, checked.services):
                    return problems.service_failed(exc, checked.services, self.service_map)
                return problems.query_error(in_source(exc, checked), self.limits,
                                            self.max_query_bytes)
            finally:
                if self.budgets is not None:
                    self.budgets.charge(client, time.monotonic() - started if spent is None
                                        else spent)
            if not checked.services:  # a remote endpoint's answers may change: never kept
                self.answers.put(None, result, sys.getsizeof(result.body) + 200, hashed=hashed)
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
        if asked.formats:
            kind = formats.SYNTAXES if result.form == "GRAPH" else formats.RESULTS
            headers["Content-Disposition"] = ('inline; filename="query-result.'
                                              f'{kind[result.format].suffix}"')
        return Response(result.body, media_type=result.media_type, headers=headers)

    def _etag(self, hashed: bytes) -> str:
        """The ETag of one representation: the release and the digest of what makes it (the
        query as evaluated, its format and dataset: cache.digest of its answer key)."""
        return f'"{self.site.version}-{hashed.hex()[:16]}"'

    @staticmethod
    def _cache_headers(etag: str | None) -> dict:
        headers = {"Vary": "Accept", "Cache-Control": "no-cache"}
        if etag is not None:
            headers["ETag"] = etag
        return headers

    def _description(self, request: Request, asked: Asked) -> Response:
        """GET /sparql without a query: the service description, or the query page for HTML."""
        offer = GRAPH_OFFER
        if asked.formats:
            name = agreed_format(asked.formats, GRAPH_FORMAT_PARAM, offer,
                                 "the service description")
            if isinstance(name, Response):
                return name
        else:
            media = conneg.negotiate(asked.accept, [*offer, "text/html"])
            if media is None:
                return problem(406, "Not acceptable", f"nothing in Accept: {asked.accept} is "
                               f"offered; the service description is {', '.join(offer)}",
                               offered=[*offer, "text/html"], headers={"Vary": "Accept"})
            if media == "text/html":
                return self.pages.render(request)
            name = offer[media]
        etag = self._etag(digest(f"service description {name}"))
        if request.method in ("GET", "HEAD") and not_modified(request, etag):
            return Response(status_code=304, headers=self._cache_headers(etag))
        body = (self.description.turtle().encode() if name == "turtle"
                else write_triples(self.description.triples(), name))
        return Response(body, media_type=formats.SYNTAXES[name].media_type,
                        headers=self._cache_headers(etag))
