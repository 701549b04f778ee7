"""One SPARQL query evaluated and written: the store, the request, the answer.

Engine: pyoxigraph. On this graph it answers typical queries in under a millisecond where rdflib
needs 3-26 ms, its parser is thread-safe and strict, and its syntax errors carry line and column.
The default graph is the union of the named graphs of ``isecg.nq``.

``execute`` is what every query runs: in a server's worker (sparql.workers), in the CLI's
one-shot child (sparql.command), in the tests. The CLI and the server go through it, so they
give the same bytes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Protocol, Self

import pyoxigraph as ox

from isecg_kg.config import BASE, QUERY_TIMEOUT
from isecg_kg.errors import (
    InputError,
    QueryAborted,
    QueryError,
    QueryFailed,
    QueryRefused,
    QueryServiceFailed,
    QuerySyntax,
    QueryUnsupported,
)
from isecg_kg.sparql.explain import engine_error, syntax_error
from isecg_kg.sparql.guard import CheckedQuery
from isecg_kg.sparql.results import (
    GRAPH_FORMATS,
    SOLUTION_FORMATS,
    fit,
    take,
    write_boolean,
    write_solutions,
    write_triples,
)
from isecg_kg.sparql.tokens import tokenize

# pyoxigraph's parser and planner recurse on the calling thread: with the usual 8 MiB stack a
# worker died of SIGSEGV at 10,000 nested braces or 3,000 BINDs in a row (both legal SPARQL under
# 64 KiB). Queries are evaluated on a thread with this much stack; every shape we tried at
# 64 KiB then parses or fails with a syntax error (none overflows).
WORKER_STACK = 256 << 20


def open_store(dist: Path | str, sha256: str | None = None) -> ox.Store:
    """An in-memory store holding ``dist/isecg.nq`` (or the given .nq file) in its named graphs.

    With ``sha256``, the bytes loaded are the bytes checked: the file is hashed and loaded
    through one open file, so a build swapped in meanwhile cannot slip in between.
    """
    path = Path(dist)
    if path.is_dir():
        path = path / "isecg.nq"
    if not path.is_file():
        raise InputError("no N-Quads dump here; run `isecg-kg build` first", path=str(path))
    store = ox.Store()
    try:
        if sha256 is None:
            store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
            return store
        import hashlib

        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
            if digest != sha256:
                raise InputError(f"its SHA-256 is {digest}, not {sha256} as SHA256SUMS says: "
                                 "the build changed or is damaged; rebuild it and restart",
                                 path=str(path))
            f.seek(0)
            store.bulk_load(input=f, format=ox.RdfFormat.N_QUADS)
    except SyntaxError as exc:
        raise InputError(f"not valid N-Quads: {exc}", path=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    return store


@dataclass(frozen=True)
class Limits:
    """What one query may take and give: the one home of each figure (``serve``'s options fill
    it, the engines enforce it, the endpoint and its pages state it)."""

    timeout: float = QUERY_TIMEOUT           # seconds a query may run
    max_rows: int | None = None              # rows or triples per answer; more are cut
    max_bytes: int | None = None             # bytes per written answer, cut at a row


@dataclass(frozen=True)
class QueryRequest:
    """One query to evaluate and how to write its answer. Made from the checks' verdict
    (``QueryRequest.of``), it carries that verdict along (``checked``), so nothing downstream
    reads the text again; ``text`` is what the engine evaluates, the checks' re-emission."""

    text: str
    solution_format: str = "json"            # for SELECT / ASK
    graph_format: str = "turtle"             # for CONSTRUCT / DESCRIBE
    substitutions: dict = field(default_factory=dict)
    default_graphs: tuple[str, ...] | None = None   # protocol dataset; None: union default graph
    named_graphs: tuple[str, ...] | None = None
    max_rows: int | None = None
    base_iri: str | None = BASE
    max_bytes: int | None = None             # bytes of the written answer (cut at a row)
    prefixes: tuple[tuple[str, str], ...] = ()     # CheckedQuery.prefixes
    # the query names its own dataset (FROM / FROM NAMED: CheckedQuery.from_graphs); None: not
    # checked, so execute looks for itself
    own_dataset: bool | None = None
    # the SERVICE endpoints the checks approved, as the text names them (CheckedQuery.targets,
    # a mirror in place of Wikidata's): a query with none goes to a worker without network
    services: tuple[str, ...] = ()
    # the checks' verdict the text came from; None for a text nobody checked (the remote engine
    # checks that one itself; a query worker is never sent it: see ``bare``)
    checked: CheckedQuery | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, checked: CheckedQuery, **how) -> QueryRequest:
        """The request to evaluate what the checks approved (``how``: formats, dataset, caps)."""
        return cls(checked.text, prefixes=checked.prefixes,
                   own_dataset=bool(checked.from_graphs), services=checked.targets,
                   checked=checked, **how)

    @cached_property
    def _bindings(self) -> tuple:
        return tuple(sorted((k, str(v)) for k, v in self.substitutions.items()))

    @cached_property
    def evaluation(self) -> tuple:
        """What decides the solutions: the text, the dataset and the bindings (a query seen to
        be heavy is remembered by it, whatever format it is asked in)."""
        return self.text, self.default_graphs, self.named_graphs, self._bindings

    @cached_property
    def key(self) -> tuple:
        """What decides the written answer: the evaluation, the formats and the row cap (the
        endpoint's answer cache and ETags)."""
        return (self.text, self.solution_format, self.graph_format, self.default_graphs,
                self.named_graphs, self.max_rows, self._bindings)

    def bare(self) -> QueryRequest:
        """The request without the checks' verdict, as a worker process is sent it (the text
        and what the verdict said are in it; the client's source would double the message)."""
        return replace(self, checked=None) if self.checked is not None else self


class Engine(Protocol):
    """What answers the endpoint's queries: the embedded store's worker processes
    (workers.QueryEngine) or an external SPARQL store (remote.RemoteEngine)."""

    limits: Limits

    def start(self) -> Self: ...

    def start_spare(self) -> None: ...

    def close(self) -> None: ...

    def status(self) -> dict: ...

    async def run(self, req: QueryRequest, client: str | None = None) -> QueryResult: ...


@dataclass(frozen=True)
class QueryResult:
    form: str           # SELECT / ASK / GRAPH (CONSTRUCT or DESCRIBE)
    format: str
    media_type: str
    body: bytes
    rows: int
    truncated: bool
    seconds: float = 0.0


def answer(result, solution_format: str, graph_format: str, *, max_rows: int | None = None,
           max_bytes: int | None = None, started: float, term=None) -> QueryResult:
    """An engine's answer written in the format asked, under the caps (the row cap cuts before
    writing): a boolean (ASK), solutions (SELECT), or triples (CONSTRUCT, DESCRIBE).

    The one writer of answers: the embedded engine's (``execute``), an external store's and a
    remote endpoint's. ``term`` maps each solution's terms on the way (a store's lexical forms
    to ours); ``started`` is the ``time.perf_counter()`` the answer's time counts from."""
    if isinstance(result, (bool, ox.QueryBoolean)):
        body = write_boolean(bool(result), solution_format)
        return QueryResult("ASK", solution_format,
                           SOLUTION_FORMATS[solution_format].content_type, body, 1, False,
                           time.perf_counter() - started)
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = map(tuple, result) if term is None else (tuple(map(term, s)) for s in result)
        items, truncated = take(rows, max_rows, max_bytes)
        body, items, cut = fit(items, lambda rows: write_solutions(variables, rows,
                                                                   solution_format), max_bytes)
        return QueryResult("SELECT", solution_format,
                           SOLUTION_FORMATS[solution_format].content_type, body, len(items),
                           truncated or cut, time.perf_counter() - started)
    items, truncated = take(result, max_rows, max_bytes)
    body, items, cut = fit(items, lambda triples: write_triples(triples, graph_format), max_bytes)
    return QueryResult("GRAPH", graph_format, GRAPH_FORMATS[graph_format].content_type, body,
                       len(items), truncated or cut, time.perf_counter() - started)


# Errors that cross from a child process to its parent by name (any other is a plain QueryError).
_CROSSING = {c.__name__: c for c in (QueryUnsupported, QueryFailed, QueryServiceFailed,
                                     QueryRefused)}


def error_reply(exc: QueryError) -> tuple:
    """A query's error as a child process sends it to its parent: words, place and kind (and
    for a syntax error, the parser's own words and place)."""
    if isinstance(exc, QuerySyntax):
        return ("error", str(exc), exc.line, exc.column, "QuerySyntax", exc.detail, exc.at)
    return ("error", str(exc), exc.line, exc.column, type(exc).__name__)


def from_reply(msg) -> QueryResult:
    """The result a child process replied, or its error raised again as it was raised there."""
    if msg[0] == "ok":
        return msg[1]
    if msg[0] == "aborted":
        raise QueryAborted(msg[1])
    if msg[4] == "QuerySyntax":
        raise QuerySyntax(msg[1], line=msg[2], column=msg[3], detail=msg[5], at=msg[6])
    raise _CROSSING.get(msg[4], QueryError)(msg[1], line=msg[2], column=msg[3])


def _own_dataset(req: QueryRequest) -> bool:
    """Whether the query names its dataset with FROM / FROM NAMED (the checks said, or look)."""
    if req.own_dataset is not None:
        return req.own_dataset
    return "FROM" in req.text.upper() and any(
        t.kind == "word" and t.text.upper() == "FROM" for t in tokenize(req.text))


def execute(store: ox.Store, req: QueryRequest) -> QueryResult:
    """Evaluate and serialize one checked query (the row cap cuts before serializing)."""
    t0 = time.perf_counter()
    kwargs = {}
    if req.default_graphs is not None or req.named_graphs is not None:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in req.default_graphs or ()]
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in req.named_graphs or ()]
    elif not _own_dataset(req):
        # the union is our default graph only for queries without FROM / FROM NAMED: pyoxigraph
        # would otherwise answer over every graph and ignore the query's own dataset
        kwargs["use_default_graph_as_union"] = True
    if req.substitutions:
        kwargs["substitutions"] = {ox.Variable(k): v for k, v in req.substitutions.items()}
    if req.prefixes:
        kwargs["prefixes"] = dict(req.prefixes)
    try:
        result = store.query(req.text, base_iri=req.base_iri, **kwargs)
        return answer(result, req.solution_format, req.graph_format, max_rows=req.max_rows,
                      max_bytes=req.max_bytes, started=t0)
    except SyntaxError as exc:
        raise syntax_error(exc, req.text) from None
    except (OSError, RuntimeError) as exc:  # evaluation, not syntax: e.g. an unknown function
        raise engine_error(exc) from None


def on_big_stack(fn, *args, unless_gone: int | None = None):
    """``fn(*args)`` on a thread with WORKER_STACK bytes of stack: its result or its exception.
    With ``unless_gone`` (a pidfd), the process exits at once when that process ends first."""
    import select
    import threading

    out: dict = {}
    done_r, done_w = os.pipe()  # closed by the thread as it ends: the main thread wakes

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller as is
            out["error"] = exc
        finally:
            os.close(done_w)

    old = threading.stack_size(WORKER_STACK)
    try:
        thread = threading.Thread(target=run, name="isecg-query", daemon=True)
        thread.start()
    finally:
        threading.stack_size(old)
    watched = [done_r] if unless_gone is None else [done_r, unless_gone]
    if done_r not in select.select(watched, [], [])[0]:
        os._exit(0)  # the watched process is gone: nobody is left to read an answer
    os.close(done_r)
    thread.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")
