"""The server's query workers: processes that run queries under a deadline, and the pool
that admits queries to them (``QueryEngine``).

Neither Python API can cancel a running query, so every query runs in a worker process that
loaded the store once at start; the parent kills it at the deadline and starts a replacement
(children.py starts and kills them). Each worker evaluates with ``engine.execute``. Workers are
sealed (no network socket: seal.deny_network) unless the engine serves queries with an approved
SERVICE, whose workers confirm each query's endpoints before evaluating (seal.confirm_services).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import pickle
import time
from collections import Counter, OrderedDict, deque
from dataclasses import replace
from pathlib import Path
from typing import Self

from isecg_kg import children
from isecg_kg.config import (
    ADMISSION_WAIT,
    HEAVY_AFTER,
    MAX_CLIENTS,
    QUERY_TIMEOUT,
    WORKER_MEMORY,
)
from isecg_kg.errors import (
    InputError,
    QueryAborted,
    QueryBusy,
    QueryError,
    QueryTimeout,
)
from isecg_kg.sparql.engine import (
    Limits,
    QueryRequest,
    QueryResult,
    error_reply,
    execute,
    from_reply,
    on_big_stack,
    open_store,
)
from isecg_kg.sparql.explain import engine_error, syntax_error
from isecg_kg.sparql.seal import (
    confirm_services,
    deny_network,
    sealed_syntax_error,
    services_read_by_rdflib,
)

log = logging.getLogger(__name__)

# Why a worker dies mid-query: the address-space limit, or a panic inside pyoxigraph (ORDER BY
# over pairs of mixed literals aborts the process: "comparison function does not correctly
# implement a total order", pyoxigraph 0.5.13).
WORKER_DIED = "the query's worker died: it ran out of memory or the query engine crashed"
# A client refused a heavy slot is next in line for one until its Retry-After has passed and
# this much more (time to come back); then its place lapses. At most MAX_LINE clients wait.
LINE_GRACE = 5.0
MAX_LINE = 1024
# A client whose last this many queries each ran past the heavy threshold or were stopped for
# others is presumed to send heavy ones: while it may not take a heavy slot, its next query is
# refused before it takes a worker (a flood of new heavy texts otherwise costs a worker, killed
# and replaced, per query, and light queries wait for the replacements). One query answered
# below the threshold clears the presumption.
HEAVY_STREAK = 3

def _worker_main(conn, nq_path: str, memory_limit: int | None, sha256: str | None = None,
                 sealed: bool = True, server_pid: int | None = None) -> None:
    import signal

    # Ctrl-C and SIGTERM are the parent's to handle: a SIGTERM sent to the whole process group
    # (systemd, docker stop) must not kill queries the server is still draining. The parent
    # stops workers with SIGKILL; a server that dies cannot, so the worker watches it (below).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if memory_limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    try:
        # the server's pidfd, opened before the seal: readable once the server is gone (EOF on
        # the pipe comes only between queries, and a query may run for hours unstopped)
        server = _watch(server_pid)
        if sealed:  # before anything is read from the parent: no socket but AF_UNIX from here on
            deny_network()
        on_big_stack(_worker_loop, conn, nq_path, sha256, memory_limit, sealed, unless_gone=server)
    except Exception as exc:  # noqa: BLE001 - e.g. no room for the stack: the parent says why
        with contextlib.suppress(OSError, ValueError):
            conn.send(("fail", f"{type(exc).__name__}: {exc}{_limit_hint(memory_limit)}"))


def _watch(server_pid: int | None) -> int | None:
    """A pidfd of the server (None: no server to watch); exits at once if it is gone already."""
    if server_pid is None:
        return None
    try:
        return os.pidfd_open(server_pid)
    except ProcessLookupError:
        os._exit(0)


def _worker_loop(conn, nq_path: str, sha256: str | None = None,
                 memory_limit: int | None = None, sealed: bool = True) -> None:
    try:
        store = open_store(nq_path, sha256)
        if not sealed:  # a SERVICE worker reads each query a second time: load that reader now
            services_read_by_rdflib("ASK {}")
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("fail", str(exc)))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            req = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if not sealed:  # this process may connect: only to the SERVICE endpoints approved
                bad = sealed_syntax_error(req.text, req.base_iri)
                if bad is not None:
                    raise syntax_error(bad, req.text)
                confirm_services(req.text, req.services)
            reply = ("ok", execute(store, req))
        except QueryError as exc:
            reply = error_reply(exc)
        except MemoryError:  # the worker lives on (the failed allocation is freed): not 400
            reply = ("aborted", "the query needed more memory than a worker may use"
                     + _limit_hint(memory_limit))
        except Exception as exc:  # noqa: BLE001 - any engine failure is the query's error
            reply = error_reply(engine_error(exc))
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


def _limit_hint(memory_limit: int | None) -> str:
    return (f" (its address space is limited to {memory_limit >> 20} MiB: raise --worker-memory)"
            if memory_limit else "")


class _Worker:
    """One query process, loaded and ready (the constructor waits for its handshake)."""

    def __init__(self, ctx, nq_path: str, memory_limit: int | None, start_timeout: float = 120,
                 sha256: str | None = None, sealed: bool = True):
        self.process, parent = children.start(ctx, _worker_main, nq_path, memory_limit, sha256,
                                              sealed, os.getpid(), name="isecg-query-worker")
        self.conn = parent
        try:
            if not parent.poll(start_timeout):
                raise QueryError(f"a query worker did not load {nq_path} within "
                                 f"{start_timeout:.0f} s")
            msg = parent.recv()
        except (EOFError, OSError):
            self.process.join(timeout=5)
            code = self.process.exitcode
            self.kill()
            # a failed allocation under the address-space limit aborts (a signal); a Python
            # error exits 1 after printing its reason to the server's stderr
            hint = _limit_hint(memory_limit) if code is not None and code < 0 else \
                f" (exit status {code}; the server's log says why)"
            raise QueryError(f"a query worker died while loading the store{hint}") from None
        except QueryError:
            self.kill()
            raise
        if msg[0] != "ready":
            self.kill()
            raise InputError(f"a query worker could not load the store: {msg[1]}")

    def kill(self) -> None:
        children.stop(self.process)
        self.conn.close()


class _Pool:
    """Idle workers, and the queries waiting for one.

    A freed worker goes to a waiter of the client running the fewest queries (so a client with
    many connections does not crowd out one with a single query). Among those, first come, first
    served, except while ``lifo()`` holds (the heavy slots are full: the engine is overloaded).
    Then the newest waiter is served first, so a light query arriving behind a burst of heavy
    ones is not stuck behind all of them; the oldest waiters run out of admission time and are
    refused with Retry-After (adaptive LIFO, a known defence of servers under overload).
    """

    def __init__(self, lifo, load=lambda client: 0):
        self.idle: deque = deque()
        self.waiters: deque = deque()  # (future, client)
        self.lifo = lifo
        self.load = load  # client -> queries it is running

    def put(self, worker: _Worker) -> None:
        while self.waiters:
            live = [w for w in self.waiters if not w[0].done()]
            if not live:
                self.waiters.clear()
                break
            order = reversed(live) if self.lifo() else live
            chosen = min(order, key=lambda w: self.load(w[1]))  # min keeps the first of equals
            self.waiters.remove(chosen)
            chosen[0].set_result(worker)
            return
        self.idle.append(worker)

    async def get(self, timeout: float, client: str | None = None) -> _Worker:
        if self.idle:
            return self.idle.popleft()
        fut = asyncio.get_running_loop().create_future()
        entry = (fut, client)
        self.waiters.append(entry)
        try:
            await asyncio.wait({fut}, timeout=timeout)
        except BaseException:  # cancelled (the client went away): nothing may be lost
            self._abandon(entry)
            raise
        if not fut.done():
            self._abandon(entry)
            raise TimeoutError
        return fut.result()

    def _abandon(self, entry) -> None:
        fut = entry[0]
        with contextlib.suppress(ValueError):
            self.waiters.remove(entry)
        if fut.done() and not fut.cancelled():
            self.put(fut.result())  # handed a worker at the last moment: pass it on
        else:
            fut.cancel()

    def waiting(self) -> int:
        return sum(1 for f, _ in self.waiters if not f.done())


class QueryEngine:
    """Worker processes that run queries under a deadline.

    Admission: a query waits at most ``admission_wait`` seconds for an idle worker. A query still
    running after ``heavy_after`` seconds is "heavy"; at most ``max_heavy`` run at once (fewer
    than the workers and never more than the cores, so light queries always find a worker and a
    core) and a heavy query over that number is stopped at once with QueryBusy. While the heavy
    slots are full and other queries wait, a query still running after ``contended_after`` is
    stopped too (QueryBusy), and waiting queries are served newest first (see _Pool): a burst of
    heavy queries then costs the light ones at most about ``contended_after``. A query text seen
    to be heavy is remembered, so a repeat is refused before it takes a worker while the heavy
    slots are full. Any query still running at ``timeout`` is killed (QueryTimeout). A killed or
    cancelled query's worker is replaced in the background.

    Heavy slots are taken in turn between clients (``run(req, client=...)``): a client refused
    one waits in line, and until its Retry-After has passed (plus LINE_GRACE) the next free slot
    is kept for it; others, the client that held the slot included, are refused meanwhile (and a
    query that could not take a slot is what the contended stop applies to). A freed worker goes
    to the waiting client running the fewest queries. A client whose last HEAVY_STREAK queries
    were heavy or stopped for others is refused before it takes a worker while it may not take
    a slot. So a client flooding heavy queries cannot keep the slots from another that asks for
    one, nor make light queries wait for workers killed and replaced.
    """

    def __init__(self, dist: Path | str, *, workers: int = 2, timeout: float = QUERY_TIMEOUT,
                 max_rows: int | None = None, heavy_after: float | None = None,
                 max_heavy: int | None = None, admission_wait: float = ADMISSION_WAIT,
                 contended_after: float = 0.05,
                 memory_limit: int | None = WORKER_MEMORY, sha256: str | None = None,
                 max_bytes: int | None = None, sealed: bool = True):
        path = Path(dist)
        # sealed: the workers can open no network socket (seal.deny_network); unsealed ones
        # serve only queries with an approved SERVICE, confirmed again (seal.confirm_services)
        self.sealed = sealed
        # the caps every answer of this engine is under; no message longer than an answer may
        # be is read from a worker
        self.limits = Limits(timeout, max_rows, max_bytes)
        self._max_message = max_bytes + (1 << 20) if max_bytes is not None else None
        self.nq_path = str(path / "isecg.nq" if path.is_dir() else path)
        self.size = max(1, workers)
        self.heavy_after = heavy_after if heavy_after is not None else min(HEAVY_AFTER, timeout / 4)
        cores = os.cpu_count() or 1
        self.max_heavy = max_heavy if max_heavy is not None else max(
            1, min(cores, self.size - max(1, self.size // 4)))
        self.admission_wait = admission_wait
        self.contended_after = min(contended_after, self.heavy_after)
        self.memory_limit = memory_limit
        self.sha256 = sha256  # of isecg.nq: every worker checks the bytes it loads against it
        self._ctx = None
        self._workers: list[_Worker] = []
        self._spares: list[_Worker] = []  # loaded and waiting to replace a killed worker at once
        self._pool: _Pool | None = None
        self._heavy = 0
        self._running = 0
        self._closed = False
        self._respawns: set = set()
        self._known_heavy: dict[int, None] = {}  # insertion-ordered: oldest evicted first
        self._holders: Counter = Counter()  # client -> heavy slots it holds
        self._heavy_ends: Counter = Counter()  # deadline (loop time) of each running heavy query
        self._line: OrderedDict[str, float] = OrderedDict()  # client -> when its place lapses
        self._streak: OrderedDict[str, int] = OrderedDict()  # client -> heavy queries in a row
        self._running_by: Counter = Counter()  # client -> queries it is running

    # life cycle
    def start(self) -> Self:
        if self._workers:  # started already (serve starts it before uvicorn to fail cleanly)
            return self
        if not Path(self.nq_path).is_file():
            raise InputError("no N-Quads dump; run `isecg-kg build` first", path=self.nq_path)
        # forked from a server that imported only these: fast, and no uvicorn threads copied
        self._ctx = children.context("forkserver", ["pyoxigraph", "isecg_kg.sparql.workers"])
        self._workers = [self._spawn() for _ in range(self.size)]
        return self

    def start_spare(self) -> None:
        """Keep one loaded worker in reserve (the server does; a one-off engine need not)."""
        if not self._spares and self._ctx is not None:
            self._spares.append(self._spawn())

    def _spawn(self) -> _Worker:
        return _Worker(self._ctx, self.nq_path, self.memory_limit, sha256=self.sha256,
                       sealed=self.sealed)

    def close(self) -> None:
        self._closed = True
        for w in self._workers + self._spares:
            w.kill()
        self._workers, self._spares = [], []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def status(self) -> dict:
        now = time.monotonic()  # the event loop's clock
        return {"workers": len(self._workers), "running": self._running, "heavy": self._heavy,
                "max_heavy": self.max_heavy,
                "in_line": sum(lapse > now for lapse in self._line.values()),
                "waiting": self._pool.waiting() if self._pool is not None else 0}

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        if worker in self._workers:
            self._workers.remove(worker)

    # running queries (on the server's event loop)
    def _overloaded(self) -> bool:
        """The heavy slots are all taken, or kept for clients in line."""
        if self._heavy >= self.max_heavy:
            return True
        return bool(self._line) and self._heavy + self._ahead(None, time.monotonic()) >= \
            self.max_heavy

    def _queue(self) -> _Pool:
        if self._pool is None:
            self._pool = _Pool(self._overloaded, self._running_by.__getitem__)
            for w in self._workers:
                self._pool.put(w)
        return self._pool

    def _replace(self, worker: _Worker) -> None:
        self._retire(worker)
        if self._closed:
            return
        if self._spares:  # a loaded spare takes over now; a new one loads in the background
            spare = self._spares.pop()
            self._workers.append(spare)
            self._queue().put(spare)
        task = asyncio.get_running_loop().create_task(self._respawn())
        self._respawns.add(task)
        task.add_done_callback(self._respawns.discard)

    async def _respawn(self) -> None:
        attempt = 0
        while not self._closed:  # until it works (the operator may repair the build)
            try:
                w = await asyncio.to_thread(self._spawn)
            except Exception as exc:  # noqa: BLE001 - logged, retried, never fatal to the server
                attempt += 1
                log.error("could not start a query worker (attempt %d): %s", attempt, exc)
                await asyncio.sleep(min(30, attempt))
                continue
            if self._closed:
                w.kill()
                return
            if len(self._workers) >= self.size:
                self._spares.append(w)
            else:
                self._workers.append(w)
                self._queue().put(w)
            return

    # heavy slots, in turn between clients
    def _ahead(self, client: str | None, now: float) -> int:
        """Clients in line before CLIENT (all of them, if it is not in line)."""
        for c in [c for c, lapse in self._line.items() if lapse <= now]:
            del self._line[c]
        ahead = 0
        for c in self._line:
            if c == client:
                break
            ahead += 1
        return ahead

    def _may_take_heavy(self, client: str | None, now: float) -> bool:
        return self._ahead(client, now) < self.max_heavy - self._heavy

    def _take_heavy(self, client: str | None, deadline: float) -> None:
        self._heavy += 1
        self._holders[client] += 1
        self._heavy_ends[deadline] += 1
        self._line.pop(client, None)

    def _release_heavy(self, client: str | None, deadline: float) -> None:
        self._heavy -= 1
        self._holders[client] -= 1
        if self._holders[client] <= 0:
            del self._holders[client]
        self._heavy_ends[deadline] -= 1
        if self._heavy_ends[deadline] <= 0:
            del self._heavy_ends[deadline]

    def _refuse_heavy(self, client: str | None, now: float, why: str,
                      cause: str | None = None) -> QueryBusy:
        """QueryBusy for a query denied a heavy slot (WHY: what became of it; CAUSE: why there
        was none, by default the slots' state); CLIENT, holding none, gets in line.
        Retry-After: when the first running heavy query reaches its deadline at the latest."""
        first_end = min(self._heavy_ends, default=now)
        retry = max(1, math.ceil(first_end - now))
        if client is not None and not self._holders[client] and client not in self._line \
                and len(self._line) < MAX_LINE:
            self._line[client] = now + retry + LINE_GRACE
        if cause is None:
            cause = ("the free long-running slot is kept for another client that was refused one "
                     "first" if self._heavy < self.max_heavy else
                     f"{self._heavy} long-running queries are already running (the limit)")
        return QueryBusy(f"{cause}; {why}. Retry in {retry} s", retry_after=retry)

    def _presumed_heavy(self, key: int, client: str | None) -> bool:
        return key in self._known_heavy or (
            client is not None and self._streak.get(client, 0) >= HEAVY_STREAK)

    def _count_streak(self, client: str | None, heavy: bool) -> None:
        if client is None:
            return
        if not heavy:
            self._streak.pop(client, None)
            return
        self._streak[client] = self._streak.pop(client, 0) + 1
        while len(self._streak) > MAX_CLIENTS:
            self._streak.popitem(last=False)

    def _remember_heavy(self, key: int) -> None:
        self._known_heavy[key] = None
        while len(self._known_heavy) > 1024:
            del self._known_heavy[next(iter(self._known_heavy))]

    async def run(self, req: QueryRequest, client: str | None = None) -> QueryResult:
        """Run REQ in a worker; CLIENT (the requester's address) takes heavy slots in turn."""
        pool = self._queue()
        loop = asyncio.get_running_loop()
        timeout = self.limits.timeout
        retry = max(1, math.ceil(timeout))
        key = hash(req.evaluation)
        before = f"this one ran past {self.heavy_after:g} s before"
        if self._presumed_heavy(key, client) and not self._may_take_heavy(client, loop.time()):
            raise self._refuse_heavy(client, loop.time(), before)
        for _ in range(self.size + 2):
            try:
                worker = await pool.get(self.admission_wait, client)
            except TimeoutError:
                if not self._workers:
                    raise QueryBusy(f"no query worker is running (the server log says why); "
                                    f"retry in {retry} s", retry_after=retry) from None
                raise QueryBusy(f"all {self.size} query workers are busy; retry in {retry} s",
                                retry_after=retry) from None
            if self._presumed_heavy(key, client) and not self._may_take_heavy(client,
                                                                              loop.time()):
                pool.put(worker)
                raise self._refuse_heavy(client, loop.time(), before)
            try:
                worker.conn.send(_capped(req, self.limits))
                break
            except (OSError, ValueError):  # it died while idle (killed, out of memory):
                self._replace(worker)      # replace it and take the next one
        else:
            raise QueryAborted(f"no query worker stayed alive; retry in {retry} s")
        ready = loop.create_future()
        fd = worker.conn.fileno()
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        healthy, heavy = False, False
        start = loop.time()
        deadline = start + timeout
        self._running += 1
        self._running_by[client] += 1
        try:
            if key in self._known_heavy:  # it will be long: hold a heavy slot from the start
                self._take_heavy(client, deadline)
                heavy = True
            while not ready.done():
                elapsed = loop.time() - start
                if elapsed >= timeout:
                    if heavy:
                        self._remember_heavy(key)
                    raise QueryTimeout(f"the query ran past its time limit of {timeout:g} "
                                       "s and was stopped")
                if not heavy and elapsed >= self.heavy_after:
                    self._remember_heavy(key)
                    self._count_streak(client, True)
                    if not self._may_take_heavy(client, loop.time()):
                        raise self._refuse_heavy(client, loop.time(), f"this one was stopped "
                                                 f"after {self.heavy_after:g} s")
                    self._take_heavy(client, deadline)
                    heavy = True
                elif (not heavy and elapsed >= self.contended_after and pool.waiting()
                      and not self._may_take_heavy(client, loop.time())):
                    self._count_streak(client, True)
                    raise self._refuse_heavy(
                        client, loop.time(), f"this one was stopped after "
                        f"{self.contended_after:g} s", cause="the server is busy with long-running "
                        "queries and others are waiting")
                if heavy:
                    step = timeout - elapsed
                else:  # look again soon: the heavy slots may fill and others start waiting
                    step = min(0.02 if self._overloaded() else 0.05, self.heavy_after - elapsed)
                await asyncio.wait({ready}, timeout=max(step, 0.001))
            try:
                # read no message longer than an answer may be (the worker cuts answers at
                # max_bytes; this holds even if it did not): the length comes first
                msg = worker.conn.recv_bytes(self._max_message)
            except EOFError:
                raise QueryAborted(WORKER_DIED + _limit_hint(self.memory_limit)) from None
            except OSError:
                if self._max_message is None or worker.process.exitcode is not None:
                    raise QueryAborted(WORKER_DIED + _limit_hint(self.memory_limit)) from None
                raise QueryAborted(f"the answer was larger than {self.limits.max_bytes} bytes, the "
                                   "limit for one answer") from None
            healthy = True
            if loop.time() - start < self.heavy_after:
                self._count_streak(client, False)
            # its time is the time it held a worker, not its wait for one: what the client's
            # budget is charged (a client is not charged for the queue others made)
            return replace(from_reply(pickle.loads(msg)), seconds=loop.time() - start)
        except QueryError as exc:
            exc.seconds = loop.time() - start
            raise
        finally:
            loop.remove_reader(fd)
            self._running -= 1
            self._running_by[client] -= 1
            if self._running_by[client] <= 0:
                del self._running_by[client]
            if heavy:
                self._release_heavy(client, deadline)
            if healthy:
                pool.put(worker)
            else:  # timed out, refused, died or the client went away: never reuse mid-query
                self._replace(worker)


def _capped(req: QueryRequest, limits: Limits) -> QueryRequest:
    """REQ under this engine's caps, as a worker is sent it (without the checks' verdict)."""
    req = req.bare()
    if limits.max_rows is not None and req.max_rows is None:
        req = replace(req, max_rows=limits.max_rows)
    if limits.max_bytes is not None and (req.max_bytes is None
                                         or req.max_bytes > limits.max_bytes):
        req = replace(req, max_bytes=limits.max_bytes)
    return req
