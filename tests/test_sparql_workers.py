"""The server's query workers (sparql/workers.py): answers, the deadline, the row cap.

Expected counts come from the source documents: the 2022 anniversary article lists 27 member
agencies.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from isecg_kg.errors import QueryError
from isecg_kg.sparql.engine import QueryRequest
from isecg_kg.sparql.workers import QueryEngine
from queries import CARTESIAN, MEMBERS_2022


def test_engine_answers_and_stops_at_deadline(dist):
    async def scenario(engine):
        r = await engine.run(QueryRequest(MEMBERS_2022, solution_format="json"))
        rows = json.loads(r.body)["results"]["bindings"]
        assert len(rows) == 27
        t0 = time.monotonic()
        with pytest.raises(QueryError, match="time limit"):
            await engine.run(QueryRequest(CARTESIAN))
        assert time.monotonic() - t0 < 15  # killed at 1 s, not run for hours
        r = await engine.run(QueryRequest(MEMBERS_2022, solution_format="csv"))  # replaced
        assert r.rows == 27

    # admission_wait: the killed worker's replacement loads in the background meanwhile
    with QueryEngine(dist, workers=1, timeout=1.0, admission_wait=30) as engine:
        asyncio.run(scenario(engine))


def test_row_cap_cuts_and_says_so(dist):
    async def scenario(engine):
        r = await engine.run(QueryRequest("SELECT * WHERE { ?s ?p ?o }", solution_format="json"))
        assert r.truncated and r.rows == 10
        assert len(json.loads(r.body)["results"]["bindings"]) == 10
        r = await engine.run(QueryRequest(MEMBERS_2022, max_rows=100))
        assert not r.truncated

    with QueryEngine(dist, workers=1, max_rows=10) as engine:
        asyncio.run(scenario(engine))


def test_heavy_slots_go_in_turn_to_clients_refused_one(tmp_path, monkeypatch):
    """Bookkeeping only (no worker runs): who may take a heavy slot, and when a place lapses."""
    from isecg_kg.errors import QueryBusy
    from isecg_kg.sparql import workers

    monkeypatch.setattr(workers, "LINE_GRACE", 5.0)
    engine = QueryEngine(tmp_path, workers=3, max_heavy=1, timeout=10)
    assert engine._may_take_heavy("A", 0.0)
    engine._take_heavy("A", 10.0)  # A's query may run until t = 10
    refused = engine._refuse_heavy("B", 2.0, "x")
    assert isinstance(refused, QueryBusy) and refused.retry_after == 8  # A's deadline - now
    assert "already running" in str(refused) and "Retry in 8 s" in str(refused)
    engine._release_heavy("A", 10.0)  # A's query ends at t = 3: the slot is free...
    assert engine._heavy == 0
    kept = engine._refuse_heavy("A", 3.0, "x")  # ...but kept for B, who asked first
    assert not engine._may_take_heavy("A", 3.0) and not engine._may_take_heavy(None, 3.0)
    assert "kept for another client" in str(kept)
    assert engine._may_take_heavy("B", 9.0)  # B comes back after its Retry-After
    engine._take_heavy("B", 19.0)
    assert "B" not in engine._line and engine._holders == {"B": 1}
    engine._release_heavy("B", 19.0)
    assert engine._may_take_heavy("A", 20.0)  # A never got in line: it held the slot


def test_a_place_in_line_lapses_and_several_slots_serve_the_line_in_order(tmp_path, monkeypatch):
    from isecg_kg.sparql import workers

    monkeypatch.setattr(workers, "LINE_GRACE", 5.0)
    engine = QueryEngine(tmp_path, workers=4, max_heavy=2, timeout=10)
    engine._take_heavy("A", 10.0)
    engine._take_heavy("A", 10.5)
    engine._refuse_heavy("B", 1.0, "x")  # in line until 10 - 1 + 1 + 5 = t 15
    engine._refuse_heavy("C", 1.5, "x")
    engine._release_heavy("A", 10.0)  # one slot free: it is B's, first in line
    assert not engine._may_take_heavy("C", 11.0) and engine._may_take_heavy("B", 11.0)
    engine._release_heavy("A", 10.5)  # two free: B's and C's
    assert engine._may_take_heavy("C", 11.0) and not engine._may_take_heavy("D", 11.0)
    assert engine._may_take_heavy("D", 16.0)  # B and C never came back: their places lapsed
    assert not engine._line


async def heavy_slots_taken(engine, n: int = 1, deadline: float = 30) -> None:
    """Until N heavy slots are taken (polled: a query turns heavy after heavy_after)."""
    end = time.monotonic() + deadline
    while engine.status()["heavy"] < n and time.monotonic() < end:
        await asyncio.sleep(0.01)


def test_a_client_flooding_heavy_queries_cannot_keep_another_from_the_heavy_slot(dist):
    """Real workers: A holds the only heavy slot; B is refused and gets in line; A's next heavy
    query is refused while B's place holds; B's retry gets the slot."""
    from isecg_kg.errors import QueryBusy, QueryTimeout

    async def scenario(engine):
        a1 = asyncio.ensure_future(engine.run(QueryRequest(CARTESIAN + " # a1"), client="A"))
        await heavy_slots_taken(engine)
        assert engine.status()["heavy"] == 1
        with pytest.raises(QueryBusy) as b1:
            await engine.run(QueryRequest(CARTESIAN + " # b1"), client="B")
        assert engine.status()["in_line"] == 1 and 1 <= b1.value.retry_after <= 2
        with pytest.raises(QueryTimeout):
            await a1
        with pytest.raises(QueryBusy, match="kept for another client"):
            await engine.run(QueryRequest(CARTESIAN + " # a2"), client="A")
        b2 = asyncio.ensure_future(engine.run(QueryRequest(CARTESIAN + " # b2"), client="B"))
        await heavy_slots_taken(engine)
        assert engine.status()["heavy"] == 1 and engine._holders == {"B": 1}
        with pytest.raises(QueryTimeout):
            await b2

    with QueryEngine(dist, workers=3, timeout=2.0, max_heavy=1, heavy_after=0.2,
                     admission_wait=30) as engine:
        asyncio.run(scenario(engine))


def test_workers_exit_when_the_server_is_killed(dist):
    """A server killed with SIGKILL cannot stop its workers: each watches the server's pid
    (a pidfd) and exits when it dies, even one in the middle of a query that would run for
    hours. (Before: the query ran on, and the forkserver, kept by its children, outlived it.)"""
    import contextlib
    import os
    import signal
    import threading

    import httpx
    from servers import alive, cpu_seconds, descendants, isecg_server, query_workers

    with isecg_server(dist, "--query-timeout", "60", "--workers", "2") as url:
        workers = query_workers(url.pid)
        assert workers, "the server started no query worker"
        before = {w: cpu_seconds(w) or 0 for w in workers}
        def ask() -> None:
            with contextlib.suppress(httpx.HTTPError):  # the server dies before it answers
                httpx.get(url + "/sparql", params={"query": CARTESIAN}, timeout=30)

        threading.Thread(target=ask, daemon=True).start()
        busy = None
        deadline = time.monotonic() + 10
        while busy is None and time.monotonic() < deadline:
            time.sleep(0.1)
            busy = next((w for w in workers if (cpu_seconds(w) or 0) - before[w] > 0.2), None)
        assert busy is not None, "no worker was seen running the query"
        tree = descendants(url.pid)
        assert busy in tree
        os.kill(url.pid, signal.SIGKILL)
        url.proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(alive(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [p for p in tree if alive(p)]
        assert not left, f"processes of the killed server still running: {left}"
