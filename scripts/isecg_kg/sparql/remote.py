"""Serve from an external SPARQL 1.1 store instead of the embedded one (`serve --store URL`).

``RemoteStore`` answers the two calls the pages make of a pyoxigraph ``Store``
(``quads_for_pattern`` and ``query``) over the SPARQL 1.1 Protocol (sparql.http);
``RemoteEngine`` stands in for ``sparql.workers.QueryEngine`` at /sparql; ``check_release``
refuses a store that does not hold the build being served. Every request names its dataset
(``default-graph-uri`` / ``named-graph-uri``), so a query sees what the embedded store would
show it, and never any other graph the store holds:

* without a dataset in the request, the query's own FROM / FROM NAMED clauses, or where it has
  none, the union of the release's three graphs as the default graph and those three as the
  named graphs;
* with ``default-graph-uri`` / ``named-graph-uri`` in the request, exactly those.

Answers are asked for as SPARQL JSON results (SELECT, ASK) or N-Triples (CONSTRUCT, DESCRIBE),
one media type by the query's form, since a store given both may answer a CONSTRUCT with the
first (Virtuoso 7 does, and fails), and parsed by pyoxigraph as they arrive, so reading stops at
the row cap. An ASK answered as one row of one value (Virtuoso 7 writes its boolean as
``__ASK_RETVAL`` = 1 or 0 whenever the request names a dataset) is read as that boolean
(sparql.dialects evens out such differences). Every call has a deadline. Failures are
``StoreError``s carrying the status the web layer answers: 503 when the store cannot be reached
(or says it is unavailable), 504 when it is too slow, 502 when it answers an error or garbage.
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox

from isecg_kg.config import GRAPHS
from isecg_kg.errors import QueryBusy, QueryError, QueryRefused, QueryTimeout, StoreError
from isecg_kg.sparql import http
from isecg_kg.sparql.dialects import (
    NTRIPLES,
    SOLUTIONS,
    accept,
    ask_answer,
    canonical,
    canonical_triple,
    local_syntax_error,
    store_syntax_error,
    virtuoso_bnodes,
    with_values,
    without_from,
)
from isecg_kg.sparql.engine import Limits, QueryRequest, QueryResult, answer
from isecg_kg.sparql.guard import CheckedQuery, check_graphs, check_query, prologue

NO_NAMED_GRAPH = "urn:x-isecg:no-named-graph"  # holds nothing: an empty set of named graphs
# Quads the pages' lookups keep (least recently used dropped). The release is read-only and
# checked at start-up, so what the store answered once stays true while this process serves it.
CACHE_QUADS = 200_000
QUERIES_KEPT = 256
SAMPLE = 1000  # quads of the dump looked up in the store at start-up, spread over the file


class _Body(io.RawIOBase):
    """A response body for pyoxigraph's parsers, read as it arrives (``http.bounded``: cut off
    at the deadline, at MAX_REMOTE_BYTES or when the client went away)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _parts(quad: ox.Quad) -> tuple:
    return quad.subject, quad.predicate, quad.object, quad.graph_name


class RemoteStore:
    """The part of pyoxigraph's ``Store`` the pages use, answered by a SPARQL endpoint."""

    def __init__(self, url: str, *, timeout: float = 10.0, graphs: tuple[str, ...] = GRAPHS):
        self.url, self.timeout, self.graphs = url, timeout, tuple(graphs)
        self._client = http.client(timeout)
        self._cache: OrderedDict[tuple, list[ox.Quad]] = OrderedDict()  # least recent first
        self._held = 0  # quads in the cache
        self._answers: OrderedDict[tuple, object] = OrderedDict()  # of query(), oldest first
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def call(self, text: str, form: str | None, default: tuple[str, ...],
             named: tuple[str, ...], consume: Callable[[str, io.BufferedReader], object], *,
             deadline: float, cancelled: threading.Event | None = None):
        """POST one query (of the given form) with its dataset; ``consume(media type, body)``
        reads the answer."""
        try:
            return self._exchange(text, form, default, named, consume, deadline, cancelled)
        except StoreError as exc:
            # Without its frames: a pyoxigraph parser left in one must not be freed on another
            # thread (pyoxigraph aborts with "unsendable ... dropped on another thread").
            exc.__context__ = None
            raise exc.with_traceback(None) from None

    def _exchange(self, text, form, default, named, consume, deadline, cancelled):
        asked = accept(form)
        left = deadline - time.monotonic()
        if left <= 0:
            raise StoreError(self.url, "was not asked: no time was left", status=504)

        def fail(why: str) -> StoreError:
            if why == "cancelled":
                return StoreError(self.url, "was still answering when the client went away")
            if why == "size":
                return StoreError(self.url,
                                  f"answered more than {http.MAX_REMOTE_BYTES >> 20} MiB")
            return StoreError(self.url, "did not finish answering in time", status=504)

        try:
            with http.post_query(self._client, self.url, text, accept=asked, default=default,
                                 named=named, timeout=left) as resp:
                media = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if resp.status_code != 200:
                    raise self._refusal(resp, deadline)
                if media not in (SOLUTIONS, NTRIPLES):
                    raise StoreError(self.url, f"answered an unexpected media type {media!r} "
                                     f"(asked for {asked})")
                chunks = virtuoso_bnodes(resp.iter_bytes()) if media == SOLUTIONS else \
                    resp.iter_bytes()
                body = io.BufferedReader(_Body(http.bounded(
                    chunks, deadline=deadline, fail=fail, cancelled=cancelled)))
                try:
                    return consume(media, body)
                except (SyntaxError, ValueError) as exc:
                    why = " ".join(str(exc).split())[:200]
                raise StoreError(self.url, f"answered a body ({media}) that does not parse, "
                                 f"cut off or broken: {why}")
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise StoreError(self.url, f"cannot be reached ({exc})", status=503) from None
        except httpx.TimeoutException:
            raise StoreError(self.url, f"did not answer within {self.timeout:g} s",
                             status=504) from None
        except httpx.HTTPError as exc:
            raise StoreError(self.url, f"failed: {type(exc).__name__}: {exc}") from None

    def _refusal(self, resp: httpx.Response, deadline: float) -> StoreError:
        body = b""
        for chunk in resp.iter_bytes():  # a few hundred bytes of the reason are enough
            body += chunk
            if len(body) > 2000 or time.monotonic() > deadline:
                break
        detail = " ".join(body[:2000].decode("utf-8", "replace").split())
        status = resp.status_code if resp.status_code in (503, 504) else 502
        return StoreError(self.url, f"answered HTTP {resp.status_code}", status=status,
                          store_status=resp.status_code, detail=detail)

    # --- what the pages call

    def quads_for_pattern(self, subject=None, predicate=None, object=None,
                          graph_name=None) -> list[ox.Quad]:
        terms = (subject, predicate, object, graph_name)
        if any(isinstance(t, ox.BlankNode) for t in terms):
            return []  # a blank node of one answer names nothing in the next request
        if isinstance(graph_name, ox.DefaultGraph):
            return []  # the release has every triple in a named graph
        if graph_name is not None and graph_name.value not in self.graphs:
            return []
        # A page asks about the same few subjects over and over (each term's label, type,
        # sources): fetch everything about a subject once and filter here.
        key = (subject, None, None, None) if subject is not None else terms
        return [q for q in self._lookup(key)
                if all(t is None or t == x for t, x in zip(terms, _parts(q), strict=True))]

    def _lookup(self, key: tuple) -> list[ox.Quad]:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        names = ("?s", "?p", "?o", "?g")  # str() of a term is N-Triples: valid SPARQL
        s, p, o, g = (names[i] if t is None else str(t) for i, t in enumerate(key))
        rows = self.query_solutions(f"SELECT * WHERE {{ GRAPH {g} {{ {s} {p} {o} }} }}", (),
                                    self.graphs)
        quads = [ox.Quad(*(canonical(row[n[1:]]) if t is None else t
                           for n, t in zip(names, key, strict=True)))
                 for row in rows]
        with self._lock:
            self._cache[key] = quads
            self._held += max(1, len(quads))
            while self._held > CACHE_QUADS and len(self._cache) > 1:
                _, dropped = self._cache.popitem(last=False)
                self._held -= max(1, len(dropped))
        return quads

    def query(self, query: str, *, use_default_graph_as_union: bool = False,
              substitutions: dict | None = None):
        """Solutions (a list with ``variables``), a QueryBoolean or a list of Triples, read
        completely, so a page never meets a half-parsed answer. The pages ask a few fixed
        queries, so the answers are kept (the last QUERIES_KEPT). ``substitutions`` (variable →
        term, as pyoxigraph's) go into the query as a VALUES block opening its WHERE clause.
        The query is read once, by the checks (nothing leaves for the store unchecked)."""
        key = (query, use_default_graph_as_union,
               tuple(sorted((str(k), str(v)) for k, v in (substitutions or {}).items())))
        with self._lock:
            if key in self._answers:
                return self._answers[key]
        checked = check_query(query, max_bytes=None, service_allow=(), graphs=self.graphs)
        text = with_values(checked, substitutions) if substitutions else checked.text
        default = self.graphs if use_default_graph_as_union else ()

        def consume(media, body):
            if media == NTRIPLES:
                return [q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
            parsed = ask_answer(checked.form, ox.parse_query_results(
                body, format=ox.QueryResultsFormat.JSON))
            if isinstance(parsed, (bool, ox.QueryBoolean)):
                return parsed
            return Solutions(parsed)

        answer = self.call(text, checked.form, default, self.graphs, consume,
                           deadline=time.monotonic() + self.timeout)
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > QUERIES_KEPT:
                self._answers.popitem(last=False)
        return answer

    def query_solutions(self, text: str, default, named) -> Solutions:
        """The solutions of one of this module's own SELECT queries."""
        def consume(media, body):
            if media != SOLUTIONS:
                raise StoreError(self.url, f"answered {media} to a SELECT query")
            return Solutions(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))

        return self.call(text, "SELECT", default, named, consume,
                         deadline=time.monotonic() + self.timeout)


class Solutions(list):
    """The solutions of a SELECT query, all read, with their ``variables`` as pyoxigraph's."""

    def __init__(self, parsed: ox.QuerySolutions):
        super().__init__(parsed)
        self.variables = parsed.variables


# --------------------------------------------------------------------------------------------
# The start-up check


def _sample(nquads: Path) -> tuple[Counter, list[ox.Quad]]:
    """Triples per graph, and up to SAMPLE quads without blank nodes spread over the dump (two
    passes, so memory stays small for a large release)."""
    def quads():
        return ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS)

    counts = Counter(q.graph_name.value for q in quads())
    step = max(1, sum(counts.values()) // SAMPLE)
    sample = []
    for i, q in enumerate(quads()):
        if i % step == 0 and len(sample) < SAMPLE and not any(
                isinstance(t, ox.BlankNode) for t in q):
            sample.append(q)
    return counts, sample


def check_release(store: RemoteStore, dist: Path) -> dict[str, int]:
    """The triples per graph of ``dist``/isecg.nq, once the store is seen to hold the same:
    the same count in each graph and SAMPLE quads spread over the dump present. Raises
    StoreError (unreachable, or holding something else) with how to fix it."""
    counts, sample = _sample(Path(dist) / "isecg.nq")
    load_hint = (f"load the build with `isecg-kg load --into STORE-URL --dist {dist}` (the "
                 "store's Graph Store URL, e.g. http://HOST:7878/store)")
    rows = store.query_solutions(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", (),
        store.graphs)
    held = {r["g"].value: int(r["n"].value) for r in rows}
    wrong = [f"<{g}> {held.get(g, 0)} (the build: {counts.get(g, 0)})" for g in store.graphs
             if held.get(g, 0) != counts.get(g, 0)]
    if wrong:
        raise StoreError(store.url, "does not hold this release; triples per graph: "
                         f"{'; '.join(wrong)}. Check the URL (the store's SPARQL query "
                         f"endpoint, e.g. http://HOST:7878/query) or {load_hint}")
    if sample:
        tagged = [q for q in sample if isinstance(q.object, ox.Literal) and q.object.language]
        rest = [q for q in sample if q not in tagged]
        n = 0
        # Virtuoso 7 matches no language-tagged literal given in VALUES: text and tag are
        # compared instead
        by_term = ("SELECT (COUNT(*) AS ?n) WHERE {{ VALUES (?g ?s ?p ?o) {{\n{}\n}} "
                   "GRAPH ?g {{ ?s ?p ?o }} }}")
        by_text = ("SELECT (COUNT(*) AS ?n) WHERE {{ VALUES (?g ?s ?p ?t ?l) {{\n{}\n}} "
                   "GRAPH ?g {{ ?s ?p ?o }} "
                   "FILTER(isLiteral(?o) && STR(?o) = ?t && LCASE(LANG(?o)) = ?l) }}")
        for quads, query in ((rest, by_term), (tagged, by_text)):
            if not quads:
                continue
            values = "\n".join("(" + " ".join(str(t) for t in (
                q.graph_name, q.subject, q.predicate,
                *((ox.Literal(q.object.value), ox.Literal(q.object.language.lower()))
                  if quads is tagged else (q.object,)))) + ")" for q in quads)
            found = store.query_solutions(query.format(values), (), store.graphs)
            n += int(found[0]["n"].value) if found else 0
        if n != len(sample):
            raise StoreError(store.url, f"holds as many triples as this release but not the "
                             f"same ones: {len(sample) - n} of {len(sample)} sampled triples of "
                             f"the build are missing; {load_hint}")
    return {g: counts.get(g, 0) for g in store.graphs}


# --------------------------------------------------------------------------------------------
# /sparql


def dataset(req: QueryRequest, from_graphs: tuple[str, ...], from_named: tuple[str, ...],
            graphs: tuple[str, ...] = GRAPHS) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(default graphs, named graphs) that the embedded engine would evaluate ``req`` over.

    A dataset with default graphs but no named ones names NO_NAMED_GRAPH as its one named
    graph: Virtuoso reads an absent named-graph-uri as "every graph the store holds"."""
    if req.default_graphs is not None or req.named_graphs is not None:
        default, named = tuple(req.default_graphs or ()), tuple(req.named_graphs or ())
    elif from_graphs:  # the query's own FROM / FROM NAMED, as the embedded engine reads them
        default = tuple(g for g in from_graphs if g not in from_named)
        named = tuple(from_named)
    else:
        default, named = tuple(graphs), tuple(graphs)
    return default, (named or ((NO_NAMED_GRAPH,) if default else ()))


class RemoteEngine:
    """``QueryEngine``'s interface (engine.Engine) over a RemoteStore: the same checks, the
    dataset the embedded engine would use, at most ``slots`` queries forwarded at once (others
    wait up to ``admission_wait``, then 503), the deadline and the row cap enforced here, and
    answers written by the same writers, so formats, cache and headers stay as they are."""

    def __init__(self, store: RemoteStore, *, timeout: float, max_rows: int | None, slots: int,
                 admission_wait: float, service_allow: tuple[str, ...],
                 max_bytes: int | None = None):
        self.store = store
        self.limits = Limits(timeout, max_rows, max_bytes)
        self.size, self.admission_wait = max(1, slots), admission_wait
        self.service_allow = tuple(service_allow)
        self._running = 0
        self._waiting = 0
        self._slots: asyncio.Semaphore | None = None  # made in the server's event loop

    def start(self) -> RemoteEngine:
        return self

    def start_spare(self) -> None:
        """Nothing to keep in reserve: the store does the work."""

    def close(self) -> None:
        self.store.close()

    def status(self) -> dict:
        return {"store": "external", "workers": self.size, "running": self._running,
                "waiting": self._waiting}

    def _checked(self, req: QueryRequest) -> CheckedQuery:
        """The checks' verdict on REQ: the one it carries, its SERVICE endpoints held against
        this engine's allow-list once more; a text nobody checked is checked here, since what
        leaves this process for the store must have been."""
        checked = req.checked
        if checked is None:
            return check_query(req.text, max_bytes=None, service_allow=self.service_allow,
                               base_iri=req.base_iri)
        refused = [s for s in checked.services if s not in self.service_allow]
        if refused:
            raise QueryRefused(f"SERVICE <{refused[0]}> is not allowed; allowed endpoints: "
                               f"{', '.join(sorted(self.service_allow)) or 'none'}")
        return checked

    async def run(self, req: QueryRequest, client: str | None = None) -> QueryResult:
        # CLIENT is not used: the store has no heavy slots to share out, only its own limits
        retry = max(1, round(self.limits.timeout))
        checked = self._checked(req)
        check_graphs(list(req.default_graphs or ()), list(req.named_graphs or ()))
        if req.substitutions:
            raise QueryError("parameter bindings cannot be sent to an external store; write the "
                             "values into the query")
        default, named = dataset(req, checked.from_graphs, checked.from_named, self.store.graphs)
        cap = req.max_rows if req.max_rows is not None else self.limits.max_rows
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.admission_wait)
        except TimeoutError:
            raise QueryBusy(f"all {self.size} query slots are busy; retry in {retry} s",
                            retry_after=retry) from None
        finally:
            self._waiting -= 1
        self._running += 1
        cancelled = threading.Event()
        work = asyncio.get_running_loop().run_in_executor(
            None, self._forward, req, checked, default, named, cap, cancelled)
        work.add_done_callback(self._release)  # when the thread ends, not when we stop waiting
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            cancelled.set()  # the client went away: the thread stops at the next chunk
            raise
        except StoreError as exc:
            raise self._as_query_error(exc, req.base_iri, checked) from None

    def _release(self, _work) -> None:
        self._running -= 1
        self._slots.release()

    def _as_query_error(self, exc: StoreError, base: str | None, checked: CheckedQuery):
        if exc.status == 504:
            return QueryTimeout(f"the query ran past its time limit of {self.limits.timeout:g} "
                                "s; its answer was abandoned")
        if exc.store_status == 400:  # what our checks let through but the store refused
            if re.search(r"error at \d+:\d+: ", exc.detail):  # Oxigraph's words
                return store_syntax_error(exc.detail, _prologue(base, checked.prefixes),
                                          checked.text)
            # another engine's words (Virtuoso: "SP030: SPARQL compiler, line 1: syntax error
            # at '}'"): the embedded engine's, when it finds a syntax error too
            return local_syntax_error(checked.text, base) or store_syntax_error(exc.detail, "")
        return exc

    def _forward(self, req: QueryRequest, checked: CheckedQuery, default, named,
                 cap: int | None, cancelled: threading.Event) -> QueryResult:
        t0 = time.perf_counter()
        max_bytes = min((b for b in (req.max_bytes, self.limits.max_bytes) if b is not None),
                        default=None)

        def consume(media, body):
            if media == NTRIPLES:
                result = (canonical_triple(q.triple)
                          for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
            else:
                result = ask_answer(checked.form, ox.parse_query_results(
                    body, format=ox.QueryResultsFormat.JSON))
            return answer(result, req.solution_format, req.graph_format, max_rows=cap,
                          max_bytes=max_bytes, started=t0, term=canonical)

        return self.store.call(_prologue(req.base_iri, checked.prefixes) + without_from(checked),
                               checked.form, default, named, consume,
                               deadline=time.monotonic() + self.limits.timeout,
                               cancelled=cancelled)


def _prologue(base: str | None, prefixes=()) -> str:
    # On one line with the query's first, so only columns of line 1 shift (see below); the
    # store has not heard of our predeclared prefixes, so those the query uses are spelled out.
    return (f"BASE <{base}> " if base else "") + prologue(prefixes)
