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
        assert time.monotonic() - t0 < 2.0
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
