"""What ``isecg-kg query`` and ``isecg-kg queries`` run: the query checked, then evaluated in a
forked one-shot child killed at the deadline, or sent to a SPARQL endpoint (``--endpoint``);
either answer written by the same writers.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from isecg_kg import children, formats
from isecg_kg.config import QUERY_TIMEOUT, WIKIDATA_SPARQL
from isecg_kg.errors import (
    QueryAborted,
    QueryError,
    QueryTimeout,
    RemoteError,
)
from isecg_kg.sparql.catalogue import (
    Param,
    bind_params,
    load_named_query,
    named_queries,
    parse_header,
)
from isecg_kg.sparql.engine import (
    QueryRequest,
    QueryResult,
    answer,
    error_reply,
    execute,
    from_reply,
    on_big_stack,
    open_store,
)
from isecg_kg.sparql.explain import (
    in_source,
    is_service_failure,
    service_failure,
    syntax_error,
)
from isecg_kg.sparql.guard import (
    GRAPH_FORMS,
    SOLUTION_FORMS,
    CheckedQuery,
    check_query,
)
from isecg_kg.sparql.results import (
    GRAPH_FORMATS,
    SOLUTION_FORMATS,
)
from isecg_kg.sparql.seal import confirm_services, deny_network, sealed_syntax_error


def run_remote(endpoint: str, checked: CheckedQuery, *, solution_format: str = "table",
               graph_format: str = "turtle", timeout: float = QUERY_TIMEOUT) -> QueryResult:
    """Run a checked query on a SPARQL endpoint over HTTP, as the client wrote it (the endpoint
    has its own rules) with our predeclared prefixes spelled out; the answer is parsed
    completely and written by the same writers as a local answer (garbage or a cut-off body is
    a RemoteError).

    The answer is untrusted: XML with a DTD is refused, JSON-LD remote contexts are never
    fetched (pyoxigraph has no document loader), and parsing runs on a big stack."""
    from isecg_kg.sparql import http  # httpx only where a query goes over HTTP

    t0 = time.perf_counter()
    media, body = http.fetch(endpoint, checked.spelled_out(), formats.remote_accept(), timeout)
    fmt = formats.remote_answer(media)
    if fmt is None:
        raise RemoteError(f"{endpoint} answered with an unexpected media type {media!r}")
    if media.endswith("xml"):
        http.refuse_dtd(body, endpoint)

    def parse() -> QueryResult:
        if fmt.kind == "results":
            result = ox.parse_query_results(body, format=fmt.oxigraph_format())
        else:
            result = [q.triple for q in ox.parse(body, format=fmt.oxigraph_format())]
        return answer(result, solution_format, graph_format, started=t0)

    try:
        return on_big_stack(parse)
    except (SyntaxError, ValueError) as exc:
        raise RemoteError(f"{endpoint} answered a {media} body that does not parse: "
                          f"{' '.join(str(exc).split())[:300]}") from None


def _query_text(args) -> tuple[str, dict[str, Param]]:
    if args.name:
        queries = named_queries()
        if args.name not in queries:
            raise QueryError(f"no named query {args.name!r}; `isecg-kg queries` lists them: "
                             f"{', '.join(queries) or 'none yet'}")
        q = queries[args.name]
        return q.text, q.params
    if args.file:
        q = load_named_query(Path(args.file))
        return q.text, q.params
    text = args.query
    return text, parse_header(text)["params"]


def _evaluate(dist: Path, req: QueryRequest) -> tuple:
    """In the one-shot child: the result or the error's words, never a traceback. A query the
    checks found no SERVICE in is evaluated without network (seal.deny_network); one with an
    approved SERVICE only once a second reading finds the same endpoints (seal.confirm_services)."""
    try:
        if req.services:  # may connect: only to the endpoints approved, read a second time
            bad = sealed_syntax_error(req.text, req.base_iri)
            if bad is not None:
                raise syntax_error(bad, req.text)
            confirm_services(req.text, req.services)
        else:
            deny_network()
        return ("ok", on_big_stack(lambda: execute(open_store(dist), req)))
    except QueryError as exc:
        return error_reply(exc)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, never a traceback
        return error_reply(QueryError(f"the query failed: {exc}"))


def run_one_shot(dist: Path, req: QueryRequest, timeout: float) -> QueryResult:
    """One query in a forked child killed at the deadline (the CLI's path).

    A forked child costs milliseconds where the server's forkserver workers cost a start-up;
    the deadline is just as real: pyoxigraph cannot be interrupted, so the child is killed.
    """
    return from_reply(children.run(_evaluate, dist, req, timeout=timeout, method="fork",
                                   what="the query", hint=" (raise --timeout)",
                                   errors=(QueryTimeout, QueryAborted)))


def cli_query(args, built: Callable[[], Path]) -> int:
    """``isecg-kg query``: ``built()`` gives the build to query, building it first if the CLI
    decides so (asked only once the query passed its checks, and never for --endpoint)."""
    text, declared = _query_text(args)
    mapping = {WIKIDATA_SPARQL: args.wikidata_endpoint}
    allow = (WIKIDATA_SPARQL, args.wikidata_endpoint)
    fmt = args.format
    if fmt is not None and fmt not in SOLUTION_FORMATS and fmt not in GRAPH_FORMATS:
        raise QueryError(f"--format {fmt!r}: use {'|'.join(SOLUTION_FORMATS)} for SELECT/ASK or "
                         f"{'|'.join(GRAPH_FORMATS)} for CONSTRUCT/DESCRIBE")
    if args.endpoint:
        if args.param:
            raise QueryError("--param cannot be used with --endpoint: the SPARQL protocol has no "
                             "way to bind parameters; write the value into the query (a named "
                             "query gives each parameter its own value first in its WHERE "
                             "clause, OPTIONAL { VALUES ?NAME { … } }: edit that)")
        checked = check_query(text, service_allow=allow, graphs=(), max_bytes=None)
    else:
        checked = check_query(text, service_allow=allow, service_map=mapping)
    sol_fmt = fmt if fmt in SOLUTION_FORMATS else "table"
    graph_fmt = fmt if fmt in GRAPH_FORMATS else "turtle"
    if fmt and checked.form in SOLUTION_FORMS and fmt not in SOLUTION_FORMATS:
        raise QueryError(f"--format {fmt}: a {checked.form} query gives results as "
                         f"{'|'.join(SOLUTION_FORMATS)}")
    if fmt and checked.form in GRAPH_FORMS and fmt not in GRAPH_FORMATS:
        raise QueryError(f"--format {fmt}: a {checked.form} query gives RDF as "
                         f"{'|'.join(GRAPH_FORMATS)}")
    if args.endpoint:
        result = run_remote(args.endpoint, checked, solution_format=sol_fmt,
                            graph_format=graph_fmt, timeout=args.timeout)
    else:
        subs = bind_params(args.param, declared, checked.variables)
        for name in sorted(set(declared) - set(subs)):
            own = declared[name].default
            if not args.quiet:
                print(f"isecg-kg query: note: parameter {name} is not bound (--param "
                      f"{name}=VALUE)" + (f"; the query's own value {own} is used"
                                          if own is not None else ""), file=sys.stderr)
        req = QueryRequest.of(checked, solution_format=sol_fmt, graph_format=graph_fmt,
                              substitutions=subs)
        dist = built()
        try:
            result = run_one_shot(dist, req, args.timeout)
        except QueryError as exc:  # a SERVICE that failed is no malformed query: same words
            if not is_service_failure(exc, checked.services):
                raise in_source(exc, checked) from None
            raise RemoteError(service_failure(str(exc), checked.services, mapping)[1]) from None
    out = sys.stdout.buffer
    out.write(result.body)
    out.flush()
    return 0


def cli_list_queries(args) -> int:
    for name, q in named_queries().items():
        print(f"{name}\t{q.title}")
    return 0
