"""The exceptions every public function may raise, in one small tree.

    IsecgError
    ├── InputError          input unreadable: syntax errors, missing files (exit 2)
    │   └── UnsupportedShape  a shape uses what the compiled validator does not implement
    ├── ValidationFailed    the graph does not conform to the shapes (exit 1)
    ├── InconsistencyError  reasoning derived a contradiction (exit 1)
    ├── BuildError          the build could not write its output (exit 2)
    ├── QueryError          a SPARQL query is malformed or refused (exit 2)
    │   ├── QuerySyntax     the engine's parser refused it (where, and what it expected)
    │   ├── QueryTimeout    a query ran past its deadline
    │   └── QueryRefused    a query asks for something this service never does (SERVICE, LOAD, ...)
    ├── RemoteError         a remote endpoint failed or answered garbage (exit 2)
    └── ReleaseError        a release cannot be made, rebuilt or checked (exit 2)

Only the CLI turns these into exit codes; library code never exits the process.
"""

from __future__ import annotations


class IsecgError(Exception):
    """Base class: every message says what is wrong, where, and how to fix it."""

    exit_code = 2


class InputError(IsecgError):
    """A source file cannot be read or parsed."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None):
        self.path, self.line, self.column = path, line, column
        where = path or ""
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}" if where else message)


class UnsupportedShape(InputError):
    """A shape uses a SHACL feature the compiled validator refuses (pySHACL implements it);
    ``reason`` names the shape and the feature."""

    def __init__(self, reason: str, *, path: str | None = None):
        self.reason = reason
        super().__init__(f"{reason} (use --validator pyshacl)", path=path)


class ValidationFailed(IsecgError):
    exit_code = 1


class InconsistencyError(IsecgError):
    exit_code = 1


class BuildError(IsecgError):
    pass


class QueryError(IsecgError):
    """Malformed SPARQL; carries line and column when the parser gives them."""

    # seconds: how long it held an engine before it failed (what a client's budget is charged)
    seconds: float = 0.0

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        self.line, self.column = line, column
        super().__init__(message)


class QueryTimeout(QueryError):
    pass


class QuerySyntax(QueryError):
    """The engine's parser refused the query: ``detail`` is what it expected, ``at`` its own
    (line, column) in the text it was given, so a caller holding the client's original text
    can word it for that (explain.in_source)."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 detail: str = "", at: tuple[int, int] | None = None):
        self.detail, self.at = detail, at
        super().__init__(message, line=line, column=column)


class QueryRefused(QueryError):
    pass


class RemoteError(IsecgError):
    pass


class ReleaseError(IsecgError):
    """A release cannot be made, rebuilt or checked (no git history, a mismatch) (exit 2)."""


# SPARQL
# QueryError's subclasses below are what the SPARQL endpoint answers with an HTTP status each:
# QueryTooLarge 413 (a QueryRefused), QueryBusy 503 with Retry-After, QueryAborted 503,
# QueryUnsupported 501, QueryFailed 500, QueryServiceFailed 502; StoreError (a RemoteError)
# 502, 503 or 504 from the external store behind `serve --store`.


class QueryTooLarge(QueryRefused):
    """The query text is larger than the configured maximum (HTTP 413)."""


class QueryBusy(QueryError):
    """No worker can take the query now; retry after ``retry_after`` seconds (HTTP 503)."""

    def __init__(self, message: str, *, retry_after: int = 1):
        self.retry_after = retry_after
        super().__init__(message)


class QueryAborted(QueryError):
    """The worker running the query died (e.g. past its memory limit) (HTTP 503)."""


class QueryUnsupported(QueryError):
    """A valid query that uses what the engine does not implement, such as a custom function
    (HTTP 501): not the client's syntax error."""


class QueryFailed(QueryError):
    """The engine failed to evaluate a valid query for another reason (HTTP 500)."""


class QueryServiceFailed(QueryError):
    """An allowed SERVICE endpoint could not be queried (HTTP 502)."""


class StoreError(RemoteError):
    """An external SPARQL store failed. ``status`` is what the web layer answers and ``reason``
    what it tells the client; the store's address and what it said (``detail``, which may name
    its files) are only in the message, for the log and the command line. ``store_status`` is
    the store's own HTTP status when it answered one."""

    def __init__(self, url: str, reason: str, *, status: int = 502,
                 store_status: int | None = None, detail: str = ""):
        self.url, self.reason, self.status = url, reason, status
        self.store_status, self.detail = store_status, detail
        said = f": {detail[:300]}" if detail else ""
        super().__init__(f"the SPARQL store at {url} {reason}{said}")


# web


class BodyTooLarge(IsecgError):
    """A request body is (or declares itself) over the limit; ``size`` is as far as it got."""

    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


class ReconcileError(IsecgError, ValueError):
    """A reconciliation request the service refuses; ``status`` is its HTTP status (400)."""

    status = 400


class ReconcileTooLarge(ReconcileError):
    """A reconciliation request body over the limit (413)."""

    status = 413


class ReconcileOverBudget(ReconcileError):
    """A reconciliation batch needs more scoring time than a request may take, or every scoring
    slot stays busy (503)."""

    status = 503
