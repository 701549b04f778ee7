"""What /sparql answers when it does not answer a query: every refusal and failure as an RFC
9457 problem with its status (the module docstring of sparql.py lists them), worded once."""

from __future__ import annotations

import math

from starlette.responses import Response

from isecg_kg.errors import (
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
from isecg_kg.sparql.engine import Limits
from isecg_kg.sparql.explain import service_failure
from isecg_kg.web.http.budget import ClientBudgets
from isecg_kg.web.http.responses import problem


def read_only() -> Response:
    return problem(403, "Read-only", "this endpoint answers queries only; SPARQL Update, LOAD "
                   "and Graph Store writes are refused")


def too_large(size: int, limit: int) -> Response:
    return problem(413, "Query too large", f"the request carries {size} bytes; queries are "
                   f"limited to {limit} bytes", limit=limit)


def over_budget(client: str, retry: int, budgets: ClientBudgets) -> Response:
    b = budgets
    return problem(429, "Too many requests",
                   f"{client} has used its query time: {b.seconds:g} s in any {b.window:g} s "
                   f"(--client-budget, --budget-window); cached answers stay free. Retry "
                   f"after {retry} s.", headers={"Retry-After": str(retry)})


def query_error(exc: QueryError, limits: Limits, max_query_bytes: int) -> Response:
    """The status of a query the checks refused or the engine could not answer."""
    if isinstance(exc, QueryTooLarge):
        return problem(413, "Query too large", str(exc), limit=max_query_bytes)
    if isinstance(exc, QueryRefused):
        return problem(403, "Query refused", str(exc))
    if isinstance(exc, (QueryTimeout, QueryBusy, QueryAborted)):
        retry = (exc.retry_after if isinstance(exc, QueryBusy) else None) or max(
            1, math.ceil(limits.timeout))
        title = {QueryTimeout: "Query time limit reached", QueryBusy: "Too busy",
                 QueryAborted: "Query aborted"}[type(exc)]
        return problem(503, title, str(exc), headers={"Retry-After": str(retry)},
                       timeLimit=limits.timeout)
    if isinstance(exc, QueryUnsupported):  # valid SPARQL: not the client's syntax
        return problem(501, "Query uses an unsupported feature", str(exc))
    if isinstance(exc, QueryFailed):
        return problem(500, "Query could not be evaluated", str(exc))
    if isinstance(exc, QueryServiceFailed):
        return problem(502, "SERVICE endpoint failed", str(exc))
    return problem(400, "Malformed query", str(exc), line=exc.line, column=exc.column)


def service_failed(exc: QueryError, services: tuple[str, ...],
                   service_map: dict[str, str]) -> Response:
    """A SERVICE endpoint failed (502) or timed out (504): a gateway error, not a malformed
    query."""
    status, detail = service_failure(str(exc), services, service_map)
    return problem(status, "Bad gateway" if status == 502 else "Gateway timeout", detail)
