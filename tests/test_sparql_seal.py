"""Defence in depth (sparql/seal.py): a query that reaches a worker cannot connect to an
endpoint the checks did not approve, even when the checks are wrong. Here they are told to be
wrong: queries go to the engine without the checks (or with a monkeypatched approval), and a
loopback canary counts every connection made to it (must stay 0). A second listener, the
"approved" endpoint, shows the canary is no blind spot: what is allowed does connect.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from isecg_kg.errors import QueryError, QueryRefused
from isecg_kg.sparql.engine import QueryRequest
from isecg_kg.sparql.guard import CheckedQuery
from isecg_kg.sparql.seal import confirm_services, services_read_by_rdflib
from isecg_kg.sparql.workers import QueryEngine
from servers import Canary


@pytest.fixture()
def approved():
    with Canary() as listener:
        yield listener


def _run(engine: QueryEngine, req: QueryRequest):
    async def go():
        return await engine.run(req)

    return asyncio.run(go())


def _service(port: int, silent: bool = False, host: str = "127.0.0.1") -> str:
    return (f"SELECT * WHERE {{ SERVICE {'SILENT ' if silent else ''}<http://{host}:{port}/sparql>"
            " { ?s ?p ?o } }")


def test_a_sealed_worker_cannot_connect_whatever_its_query_says(dist, canary):
    """The checks never see these queries: the worker's seccomp filter alone stops them."""
    with QueryEngine(dist, workers=1, timeout=5) as engine:
        with pytest.raises(QueryError, match="SERVICE"):
            _run(engine, QueryRequest(_service(canary.port)))
        hosts = ["127.0.0.1"] + (["[::1]"] if canary.ipv6 else [])
        for host in hosts:  # SILENT: the failure is swallowed, the answer is empty
            r = _run(engine, QueryRequest(_service(canary.port, True, host)))
            assert r.rows == 1  # one empty solution: SERVICE SILENT failed, nothing joined
        # told the query is approved (services=...), a sealed worker still cannot connect
        with pytest.raises(QueryError, match="SERVICE"):
            _run(engine, QueryRequest(_service(canary.port),
                                      services=(f"http://127.0.0.1:{canary.port}/sparql",)))
    time.sleep(0.2)
    assert canary.count == 0


def test_a_service_worker_connects_only_where_both_readings_agree(dist, canary, approved):
    good = f"http://127.0.0.1:{approved.port}/sparql"
    with QueryEngine(dist, workers=1, timeout=5, sealed=False) as engine:
        # the checks "approved" another endpoint than the text names: refused, nothing sent
        with pytest.raises(QueryRefused, match="second"):
            _run(engine, QueryRequest(_service(canary.port), services=(good,)))
        # the checks "saw" no SERVICE at all
        with pytest.raises(QueryRefused, match="second"):
            _run(engine, QueryRequest(_service(canary.port)))
        # both readings agree on the approved endpoint: it is called (the listener counts it)
        with pytest.raises(QueryError):  # the stand-in hangs up: a failed SERVICE
            _run(engine, QueryRequest(_service(approved.port), services=(good,)))
    time.sleep(0.2)
    assert canary.count == 0
    assert approved.count >= 1


def test_the_second_reading_is_rdflibs_own(tmp_path):
    text = ("SELECT * { OPTIONAL { SERVICE SILENT <http://a.example/s> { ?s ?p ?o } } "
            "FILTER EXISTS { SERVICE <http://b.example/s> { } } }")
    assert services_read_by_rdflib(text) == ["http://a.example/s", "http://b.example/s"]
    confirm_services(text, ("http://a.example/s", "http://b.example/s"))
    with pytest.raises(QueryRefused):
        confirm_services(text, ("http://a.example/s",))
    with pytest.raises(QueryRefused, match="could not read"):
        confirm_services("SELECT * { SERVICE <http://a.example/s> { ?s ?p } ", ())


def test_the_endpoint_holds_when_the_checks_approve_anything(dist, canary, approved,
                                                             monkeypatch):
    """The server in-process, its checks replaced by one that approves every query as having
    no SERVICE, or as calling the allowed endpoint whatever it names: 0 connections."""
    from isecg_kg.web.app import ServerOptions, create_app
    from isecg_kg.web.context import Site
    from isecg_kg.web.endpoint import sparql as endpoint

    good = f"http://127.0.0.1:{approved.port}/sparql"
    verdict = {"services": ()}

    def approve(text, **settings):  # the checks, wrong on purpose
        return CheckedQuery(text=text, form="SELECT", variables=frozenset({"s", "p", "o"}),
                            services=verdict["services"], source=text)

    monkeypatch.setattr(endpoint, "check_query", approve)
    app = create_app(Site.from_dist(dist), ServerOptions(workers=2, service_allow=(good,),
                                                          wikidata_endpoint=good))

    async def scenario():
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            for silent in (False, True):
                r = await client.get("/sparql", params={"query": _service(canary.port, silent)})
                assert r.status_code in (200, 502), r.text  # failed (or SILENT): no connection
            verdict["services"] = (good,)
            r = await client.get("/sparql", params={"query": _service(canary.port) + " # 2"})
            assert r.status_code == 403 and "second" in r.json()["detail"], r.text
            # the approved endpoint itself is reachable: the canary is not blind
            r = await client.get("/sparql", params={"query": _service(approved.port)})
            assert r.status_code == 502, r.text

    asyncio.run(scenario())
    time.sleep(0.2)
    assert canary.count == 0
    assert approved.count >= 1


def test_cli_one_shot_child_is_sealed_without_service(dist, canary):
    from isecg_kg.sparql.command import run_one_shot

    with pytest.raises(QueryError, match="SERVICE"):
        run_one_shot(dist, QueryRequest(_service(canary.port)), timeout=10)
    time.sleep(0.2)
    assert canary.count == 0


def test_a_canary_counts_what_reaches_it():
    """So the 0 above means something."""
    with Canary() as listener:
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{listener.port}/", timeout=2)
        time.sleep(0.2)
        assert listener.count == 1
