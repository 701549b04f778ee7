"""The SPARQL 1.1 Protocol at /sparql, read-only and honest about its limits, and the query page.

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
import json
import math
import secrets
import sys
from urllib.parse import parse_qsl

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from isecg_kg.config import DATASET_IRI, GRAPHS, PREDECLARED, PREFIXES
from isecg_kg.errors import QueryError, QueryRefused, QueryTimeout
from isecg_kg.query import (
    GRAPH_FORMATS,
    QueryAborted,
    QueryBusy,
    QueryEngine,
    QueryFailed,
    QueryRequest,
    QueryServiceFailed,
    QueryTooLarge,
    QueryUnsupported,
    check_graphs,
    check_query,
    named_queries,
    write_triples,
)
from isecg_kg.web import conneg
from isecg_kg.web.body import BodyTooLarge, read_body
from isecg_kg.web.cache import AnswerCache
from isecg_kg.web.context import Site
from isecg_kg.web.templates import STATIC, environment

ALLOW = "GET, HEAD, POST, OPTIONS"
# Media type -> format name, in the server's order of preference.
RESULT_OFFER = {**{m: n for n, m in conneg.RESULT_FORMATS.items()}, "application/json": "json"}
GRAPH_OFFER = {GRAPH_FORMATS[n][0]: n for n in ("turtle", "jsonld", "nt", "xml")}
GRAPH_OFFER_JSON = {**GRAPH_OFFER, "application/json": "jsonld"}  # Accept, not format= lists
# format= values (names or media types) -> format name, per kind of query. Clients send either:
# SPARQLWrapper sends a short name and the media types of its Accept header together
# (format=tsv&format=text/tab-separated-values, format=json-ld&format=application/ld+json,...).
RESULT_FORMAT_PARAM = {**{n: n for n in conneg.RESULT_FORMATS}, **RESULT_OFFER,
                       "application/json": "json", "application/xml": "xml", "text/xml": "xml",
                       "srj": "json", "srx": "xml"}
# N3 is answered as Turtle, which every N3 parser reads.
GRAPH_FORMAT_PARAM = {**{n: n for n in GRAPH_FORMATS}, **GRAPH_OFFER, "ttl": "turtle",
                      "n3": "turtle", "text/n3": "turtle", "text/rdf+n3": "turtle",
                      "application/n3": "turtle", "application/turtle": "turtle",
                      "application/x-turtle": "turtle", "ntriples": "nt", "n-triples": "nt",
                      "text/plain": "nt", "json": "jsonld", "json-ld": "jsonld",
                      "application/x-json+ld": "jsonld", "rdfxml": "xml", "rdf+xml": "xml",
                      "rdf": "xml", "application/json": "jsonld", "application/xml": "xml",
                      "text/xml": "xml"}


def format_names(value: str, table: dict[str, str]) -> set[str]:
    """The format names one format= value stands for: a name, a media type, or a list of media
    types as an Accept header writes them (parameters and q-values ignored). A space inside a
    media type is read as the '+' an unencoded URL turned into one."""
    out = set()
    for part in value.split(","):
        key = part.split(";")[0].strip().lower().replace(" ", "+")
        if key in table:
            out.add(table[key])
    return out


LIMIT_HEADERS = ("ETag, Retry-After, Isecg-Row-Limit, Isecg-Byte-Limit, Isecg-Result-Truncated, "
                 "Isecg-Result-Rows, Content-Disposition")
# The query page's editor (CodeMirror) writes its theme into one <style> element carrying a
# nonce new with every response; scripts stay 'self' only.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
            "connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'")


def problem(status: int, title: str, detail: str, *, headers: dict | None = None,
            **extra) -> Response:
    """An RFC 9457 problem body; never a traceback or a path."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(json.dumps(body, ensure_ascii=False), status_code=status,
                    media_type="application/problem+json", headers=headers)


_SUBJECT, _PREDICATE = ox.NamedNode("urn:isecg:s"), ox.NamedNode("urn:isecg:p")


def parse_term(text: str):
    """The one IRI or literal ``text`` spells in Turtle (predeclared prefixes known), or None.
    Parsed as the object of one triple: anything that makes more or other triples is refused."""
    if len(text) > 4096:
        return None
    doc = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREDECLARED.items())
    doc += f"<{_SUBJECT.value}> <{_PREDICATE.value}> {text} .\n"
    try:
        triples = list(ox.parse(doc.encode("utf-8", "surrogatepass"),
                                format=ox.RdfFormat.TURTLE))
    except (SyntaxError, ValueError, UnicodeEncodeError):
        return None
    if len(triples) != 1:
        return None
    t = triples[0]
    if (t.subject, t.predicate) != (_SUBJECT, _PREDICATE) or not isinstance(
            t.object, (ox.NamedNode, ox.Literal)):
        return None
    return t.object


class _BadRequest(Exception):
    def __init__(self, response: Response):
        self.response = response


class SparqlService:
    """The /sparql endpoint and the /query page over one QueryEngine."""

    def __init__(self, site: Site, engine: QueryEngine, store: ox.Store, *, max_rows: int | None,
                 max_query_bytes: int, service_allow: tuple[str, ...],
                 service_map: dict[str, str], timeout: float):
        self.site = site
        self.engine = engine
        self.store = store
        self.max_rows = max_rows
        self.max_query_bytes = max_query_bytes
        self.service_allow = service_allow
        self.service_map = service_map
        self.timeout = timeout
        self.endpoint_iri = site.base.rstrip("/") + "/sparql"
        self._etag = f'"{site.version}"'
        self.answers = AnswerCache()
        self._inflight: dict = {}  # answer key -> [task of the engine run, requests awaiting it]
        # check_query is ~0.15 ms of Python per request; its verdict on a text never changes
        self.checked = AnswerCache(max_entries=1024, max_bytes=16 << 20)
        self._page = None
        self._description = None
        from isecg_kg.web.documents import Graphs

        self.graphs = Graphs(store, site.version)

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
            raise _BadRequest(problem(400, "Bad request", "the query string is not UTF-8"))
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
            raise _BadRequest(problem(400, "Bad request", "the body is not valid UTF-8"))
        if media == "application/sparql-query":
            return params, text
        try:
            return params + parse_qsl(text, keep_blank_values=True, errors="strict"), None
        except UnicodeDecodeError:
            raise _BadRequest(problem(400, "Bad request", "the form is not UTF-8"))

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
                checked = check_query(text, max_bytes=self.max_query_bytes,
                                      service_allow=self.service_allow,
                                      service_map=self.service_map, base_iri=self.endpoint_iri)
                self.checked.put(text, checked, sys.getsizeof(checked.text))
        except QueryError as exc:
            return self._query_error(exc)
        subs = self._substitutions(params, checked)
        if isinstance(subs, Response):
            return subs
        graph_kind = checked.form in ("CONSTRUCT", "DESCRIBE")
        choice = self._format(checked.form, fmt_param, accept)
        if isinstance(choice, Response):
            return choice
        if choice == "html":
            return self.page(request, query=text)
        if request.method in ("GET", "HEAD") and self._not_modified(request):
            return Response(status_code=304, headers=self._cache_headers())
        req = QueryRequest(
            checked.text,
            solution_format="json" if graph_kind else choice,
            graph_format=choice if graph_kind else "turtle",
            default_graphs=tuple(default_graphs) if default_graphs or named else None,
            named_graphs=tuple(named) if default_graphs or named else None,
            max_rows=self.max_rows, base_iri=self.endpoint_iri, prefixes=checked.prefixes,
            substitutions=subs)
        key = (req.text, req.solution_format, req.graph_format, req.default_graphs,
               req.named_graphs, req.max_rows, tuple(sorted((k, str(v)) for k, v in subs.items())))
        result = self.answers.get(key)
        cache_state = "hit" if result is not None else "miss"
        if result is None:
            if key in self._inflight:
                cache_state = "shared"  # joins the run another request started
            try:
                result = await self._run_shared(key, req, request)
            except _ClientGone:
                return Response(status_code=499)
            except QueryError as exc:
                # a SERVICE that failed: named as the query wrote it (a mirror's address stays
                # private); the engine's other verdicts (501, 500) stand
                if checked.services and exc.line is None and (
                        isinstance(exc, QueryServiceFailed) or type(exc) is QueryError
                        or isinstance(exc, QueryFailed) and "Parser error" in str(exc)):
                    return self._service_failed(exc, checked.services)
                return self._query_error(exc)
            if not checked.services:  # a remote endpoint's answers may change: never kept
                self.answers.put(key, result, sys.getsizeof(result.body) + 200)
        if checked.form is None and (result.form == "GRAPH") != graph_kind:
            # the tokenizer could not tell the form: negotiate again now that it is known
            again = self._format("CONSTRUCT" if result.form == "GRAPH" else "SELECT", fmt_param,
                                 accept)
            if isinstance(again, Response):
                return again
        headers = self._cache_headers()
        headers["Isecg-Row-Limit"] = str(self.max_rows) if self.max_rows is not None else "none"
        max_bytes = getattr(self.engine, "max_bytes", None)
        headers["Isecg-Byte-Limit"] = str(max_bytes) if max_bytes is not None else "none"
        headers["Isecg-Answer-Cache"] = cache_state
        if result.truncated:
            headers["Isecg-Result-Truncated"] = "true"
            headers["Isecg-Result-Rows"] = str(result.rows)
        if fmt_param:
            ext = {"json": "srj", "xml": "srx", "csv": "csv", "tsv": "tsv", "turtle": "ttl",
                   "nt": "nt", "jsonld": "jsonld"}.get(result.format, "rdf")
            headers["Content-Disposition"] = f'inline; filename="query-result.{ext}"'
        return Response(result.body, media_type=result.media_type, headers=headers)

    async def _run_shared(self, key, req: QueryRequest, request: Request):
        """One engine run for all the requests of the same query in flight at once (a burst of
        one uncached query took every worker and queued the rest past the admission wait). The
        run is cancelled, freeing its worker, when the last request waiting for it is gone."""
        shared = self._inflight.get(key)
        if shared is None or shared[0].cancelling():  # a run being cancelled is not joined
            shared = self._inflight[key] = [asyncio.ensure_future(self.engine.run(req)), 0]

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

    def _cache_headers(self) -> dict:
        return {"ETag": self._etag, "Vary": "Accept", "Cache-Control": "no-cache"}

    def _not_modified(self, request: Request) -> bool:
        inm = request.headers.get("if-none-match")
        if not inm:
            return False
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or any(t.removeprefix("W/") == self._etag for t in tags)

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

    @staticmethod
    def _format_param(values: list[str], table: dict[str, str], offer: dict[str, str],
                      what: str):
        """The one format all format= values agree on, or a 406 (none offered) / 400 (they ask
        for different formats, each named)."""
        agreed: set[str] | None = None
        for value in values:
            names = format_names(value, table)
            if not names:
                return problem(406, "Not acceptable", f"format={value} is not offered for "
                               f"{what}; offered: {', '.join(dict.fromkeys(offer.values()))}",
                               offered=list(offer))
            if agreed is not None and not agreed & names:
                first = next(v for v in values if format_names(v, table) & agreed)
                return problem(400, "Conflicting formats", f"format={first} and format={value} "
                               f"ask for different formats ({', '.join(sorted(agreed))} and "
                               f"{', '.join(sorted(names))}); send one")
            agreed = names if agreed is None else agreed & names
        # a value listing several types leaves a choice: the server's order of preference
        return next(n for n in dict.fromkeys(table.values()) if n in agreed)

    def _format(self, form: str | None, fmt_param: list[str] | None, accept: str | None):
        """The format name to answer in, "html" for the page, or a 406 response."""
        graph_kind = form in ("CONSTRUCT", "DESCRIBE")
        table = GRAPH_FORMAT_PARAM if graph_kind else RESULT_FORMAT_PARAM
        offer = GRAPH_OFFER if graph_kind else RESULT_OFFER
        if fmt_param:
            return self._format_param(fmt_param, table, offer, f"{form or 'these'} queries")
        if graph_kind:
            offer = GRAPH_OFFER_JSON
        media = conneg.negotiate(accept, [*offer, "text/html"])
        if media is None:
            return problem(406, "Not acceptable", f"nothing in Accept: {accept} is offered for "
                           f"{form or 'this'} queries; offered: {', '.join(offer)}",
                           offered=list(offer))
        return "html" if media == "text/html" else offer[media]

    def _query_error(self, exc: QueryError) -> Response:
        if isinstance(exc, QueryTooLarge):
            return problem(413, "Query too large", str(exc), limit=self.max_query_bytes)
        if isinstance(exc, QueryRefused):
            return problem(403, "Query refused", str(exc))
        if isinstance(exc, (QueryTimeout, QueryBusy, QueryAborted)):
            retry = getattr(exc, "retry_after", None) or max(1, math.ceil(self.timeout))
            title = {QueryTimeout: "Query time limit reached", QueryBusy: "Too busy",
                     QueryAborted: "Query aborted"}[type(exc)]
            return problem(503, title, str(exc), headers={"Retry-After": str(retry)},
                           timeLimit=self.timeout)
        if isinstance(exc, QueryUnsupported):  # valid SPARQL: not the client's syntax
            return problem(501, "Query uses an unsupported feature", str(exc))
        if isinstance(exc, QueryFailed):
            return problem(500, "Query could not be evaluated", str(exc))
        if isinstance(exc, QueryServiceFailed):
            return problem(502, "SERVICE endpoint failed", str(exc))
        return problem(400, "Malformed query", str(exc), line=exc.line, column=exc.column)

    def _graph_store(self, request: Request, params, names, fmt_param, accept) -> Response:
        """The read-only SPARQL 1.1 Graph Store Protocol: GET ?graph=IRI or ?default."""
        from isecg_kg.web.documents import DOC_FORMATS, FORMAT_PARAM

        if request.method == "POST":
            return self._read_only()
        graphs = [v for k, v in params if k == "graph"]
        if len(graphs) + names.count("default") != 1:
            return problem(400, "Bad request", "name exactly one graph: graph=IRI or default")
        graph = graphs[0] if graphs else None
        if graph is not None and graph not in GRAPHS:
            return problem(404, "No such graph", f"<{graph}> is not a graph of this dataset; "
                           f"its graphs are {', '.join(GRAPHS)}, or ask for ?default")
        if fmt_param:
            fmt = self._format_param(fmt_param, FORMAT_PARAM, {
                m: n for n, (m, _) in DOC_FORMATS.items()}, "graphs")
            if isinstance(fmt, Response):
                return fmt
        else:
            fmt = conneg.negotiate_rdf(accept, DOC_FORMATS)
        return self.graphs.response(request, graph, fmt, vary=True)

    def _service_failed(self, exc: QueryError, services: tuple[str, ...]) -> Response:
        """A SERVICE endpoint failed (502) or timed out (504): a gateway error, not a
        malformed query."""
        from isecg_kg.sparql_errors import service_failure

        status, detail = service_failure(str(exc), services, self.service_map)
        return problem(status, "Bad gateway" if status == 502 else "Gateway timeout", detail)

    # ---- service description and page

    def _no_query(self, request: Request, accept: str | None,
                  fmt_param: list[str] | None) -> Response:
        offer = {m: n for m, n in GRAPH_OFFER.items()}
        if fmt_param:
            name = self._format_param(fmt_param, GRAPH_FORMAT_PARAM, offer,
                                      "the service description")
            if isinstance(name, Response):
                return name
        else:
            media = conneg.negotiate(accept, ["text/turtle", *list(offer)[1:], "text/html"])
            if media is None:
                return problem(406, "Not acceptable", f"nothing in Accept: {accept} is offered; "
                               f"the service description is {', '.join(offer)}",
                               offered=[*offer, "text/html"])
            if media == "text/html":
                return self.page(request)
            name = offer[media]
        if request.method in ("GET", "HEAD") and self._not_modified(request):
            return Response(status_code=304, headers=self._cache_headers())
        body = (self.description_turtle().encode() if name == "turtle"
                else write_triples(self.description(), name))
        return Response(body, media_type=GRAPH_FORMATS[name][0], headers=self._cache_headers())

    def description(self) -> list:
        """The SPARQL 1.1 Service Description of this endpoint (as triples)."""
        if self._description is None:
            self._description = list(ox.parse(self.description_turtle().encode(),
                                              format=ox.RdfFormat.TURTLE))
        return self._description

    def description_turtle(self) -> str:
        counts = {}
        for g in GRAPHS:
            res = self.store.query(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")
            counts[g] = int(next(iter(res))["n"].value)
        named = ",\n".join(
            f"""        [ a sd:NamedGraph ; sd:name <{g}> ;
          sd:graph [ a sd:Graph ; void:triples {counts[g]} ] ]""" for g in GRAPHS)
        allow = ", ".join(f"<{s}>" for s in self.service_allow) or "none"
        declare = " ,\n        ".join(
            f'[ sh:prefix "{p}" ; sh:namespace "{ns}"^^xsd:anyURI ]'
            for p, ns in sorted(PREDECLARED.items()))
        limits = (f"Read-only. Each query is stopped after {self.timeout:g} s (HTTP 503 with "
                  f"Retry-After, never a partial 200). At most "
                  f"{self.max_rows if self.max_rows is not None else 'unlimited'} rows or triples "
                  "per answer; a capped answer carries the header Isecg-Result-Truncated: true. "
                  f"Queries up to {self.max_query_bytes} bytes. SERVICE only to {allow}. FROM, "
                  "FROM NAMED, default-graph-uri and named-graph-uri accept only the graphs "
                  "listed here; nothing is ever fetched.")
        release_note = (f"Queries are always answered from the current release, "
                        f"{self.site.release_version}; earlier releases are not queryable "
                        "here, they are kept as downloads under /release/VERSION/ (listed at "
                        "/releases).")
        return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix formats: <http://www.w3.org/ns/formats/> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<{self.endpoint_iri}> a sd:Service ;
    rdfs:comment "Queries may use these prefixes without declaring them (sh:declare); a PREFIX in the query overrides one."@en ;
    sh:declare {declare} ;
    sd:endpoint <{self.endpoint_iri}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:feature sd:UnionDefaultGraph , sd:BasicFederatedQuery ;
    sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> ;
    sd:resultFormat formats:SPARQL_Results_JSON , formats:SPARQL_Results_XML ,
        formats:SPARQL_Results_CSV , formats:SPARQL_Results_TSV , formats:Turtle ,
        formats:N-Triples , formats:JSON-LD , formats:RDF_XML ;
    rdfs:comment {json.dumps(limits)}@en ;
    sd:defaultDataset [
        a sd:Dataset ;
        dcterms:source <{DATASET_IRI}> ;
        dcat:version {json.dumps(self.site.release_version)} ;
        rdfs:comment "The default graph is the union of the named graphs (sd:UnionDefaultGraph). The inferred graph holds entailments materialized by the build, so queries are evaluated under simple entailment."@en ;
        rdfs:comment {json.dumps(release_note)}@en ;
        sd:defaultGraph [ a sd:Graph ; void:triples {sum(counts.values())} ] ;
        sd:namedGraph
{named}
    ] .
"""

    def _examples(self) -> list[dict]:
        try:
            queries = named_queries().values()
        except QueryError:
            return []
        out = []
        for q in queries:
            # a parameter is required unless its description starts with "optional" or the
            # query says what it does "without the parameter"
            optional_query = "without the parameter" in q.description.lower()
            params = [{"name": p.name, "type": p.type, "description": p.description,
                       "required": not (optional_query or
                                        p.description.lower().startswith("optional"))}
                      for p in q.params.values()]
            out.append({"name": q.name, "title": q.title or q.name,
                        "description": q.description, "query": q.text, "params": params})
        return out

    def page(self, request: Request, query: str | None = None) -> Response:
        if self._page is None:
            self._page = environment(LICENCE="https://creativecommons.org/publicdomain/zero/1.0/"
                                     ).get_template("sparql_query.html")
        examples = self._examples()
        if query is None:
            query = request.query_params.get("query")
        name = request.query_params.get("name")
        chosen = next((e for e in examples if e["name"] == name), None)
        autorun = bool(query) or chosen is not None
        if not query:
            chosen = chosen or (examples[0] if examples else None)
            query = chosen["query"] if chosen else (
                "SELECT ?s ?label WHERE {\n  ?s rdfs:label ?label\n}\nLIMIT 20\n")
        vocabulary = self._vocabulary()
        nonce = secrets.token_urlsafe(18)
        csp = PAGE_CSP.format(nonce=nonce)
        data = {"nonce": nonce, "examples": examples, "dataBase": self.site.data_base,
                "ontology": self.site.data_base + "ontology#", "prefixes": PREFIXES,
                "predeclared": PREDECLARED, "vocabulary": vocabulary,
                "chosen": chosen["name"] if chosen else ""}
        # JSON inside <script>: escape <, > and & so no label can close the element
        page_json = (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
                     .replace(">", "\\u003e").replace("&", "\\u0026"))
        html = self._page.render(query=query, autorun=autorun, examples=examples,
                                 chosen=chosen["name"] if chosen else "", page_json=page_json,
                                 endpoint="/sparql", version=self.site.version,
                                 max_rows=self.max_rows, timeout=self.timeout,
                                 predeclared=PREDECLARED, link=_PageLink(), csp=csp,
                                 editor=(STATIC / "editor" / "editor.js").is_file())
        return HTMLResponse(html, headers={"Content-Security-Policy": csp, "Vary": "Accept",
                                           "X-Content-Type-Options": "nosniff",
                                           "Referrer-Policy": "no-referrer",
                                           "Cache-Control": "no-store"})

    def _vocabulary(self) -> list[str]:
        """Prefixed names of the classes and properties the data uses, for completion."""
        if getattr(self, "_vocab", None) is None:
            from isecg_kg.web.describe import compact

            terms = set()
            try:
                for row in self.store.query(
                        "SELECT DISTINCT ?t WHERE { { ?s a ?t } UNION { ?s ?t ?o } }",
                        use_default_graph_as_union=True):
                    terms.add(compact(row["t"].value))
            except (OSError, RuntimeError, SyntaxError):  # an external store may refuse
                pass
            self._vocab = sorted(t for t in terms if ":" in t and "://" not in t)
        return self._vocab

    async def query_page(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return problem(405, "Method not allowed", "the query page answers GET only",
                           headers={"Allow": "GET, HEAD"})
        return self.page(request)


class _PageLink:
    """What the site's base template asks of ``link``: the query page is served live only."""

    @staticmethod
    def path(path: str) -> str:
        return path


class _ClientGone(Exception):
    pass


# A query whose client hangs up may finish within this many seconds (its answer is cached and
# its worker kept); past it, the query is cancelled and its worker killed and replaced. Killing at
# once made a load generator's end, 100 clients hanging up on cheap queries, kill every worker.
DISCONNECT_GRACE = 0.5


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


def static_file(name: str, media_type: str):
    path = STATIC / name

    async def handler(request: Request) -> Response:
        if not path.is_file():
            return Response("404 Not Found\n", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type=media_type,
                            headers={"Cache-Control": "public, max-age=3600",
                                     "X-Content-Type-Options": "nosniff"})

    return handler


async def healthz_payload(site: Site, engine: QueryEngine) -> JSONResponse:
    withheld = dict(site.release.problems) if site.release is not None else {}
    status = engine.status()
    body = {"status": "degraded" if withheld or not status["workers"] else "ok",
            "version": site.version, **status}
    if withheld:
        body["withheld"] = withheld  # files of the build that failed their SHA-256 check
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
