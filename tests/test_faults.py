"""Faults (issue 7): a worker killed mid-query or while idle."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
from servers import cpu_seconds, isecg_server, query_workers

CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
MEMBERS = """PREFIX org: <http://www.w3.org/ns/org#>
SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?m org:member ?a }"""


# ---- a worker killed mid-query ---------------------------------------------------------------------

def test_a_worker_killed_mid_query_gives_503_and_the_next_query_succeeds(dist):
    with isecg_server(dist, "--query-timeout", "5", "--workers", "2") as url:
        workers = query_workers(url.pid)
        before = {w: cpu_seconds(w) for w in workers}
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("r", httpx.get(
            url + "/sparql", params={"query": CARTESIAN}, timeout=30)))
        t.start()
        busy = None
        deadline = time.monotonic() + 3
        while busy is None and time.monotonic() < deadline:
            time.sleep(0.1)
            busy = next((w for w in workers if (cpu_seconds(w) or 0) - before[w] > 0.2), None)
        assert busy is not None, "no worker was seen running the query"
        os.kill(busy, signal.SIGKILL)
        t.join(timeout=10)
        r = result["r"]
        assert r.status_code == 503 and r.json()["title"] == "Query aborted"
        assert "retry-after" in r.headers
        for _ in range(5):
            ok = httpx.get(url + "/sparql", params={"query": MEMBERS}, timeout=10)
            assert ok.status_code == 200 and int(ok.json()["results"]["bindings"][0]["n"]["value"])
        assert len(query_workers(url.pid)) == len(workers)  # replaced


def test_idle_workers_killed_are_replaced_and_no_request_fails(dist):
    """Sending to a worker that died while idle raised BrokenPipeError: a 500."""
    with isecg_server(dist, "--workers", "2") as url:
        for _ in range(3):
            for pid in query_workers(url.pid):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
            for _ in range(4):
                r = httpx.get(url + "/sparql", params={"query": MEMBERS}, timeout=30)
                assert r.status_code in (200, 503), r.text[:200]
                if r.status_code == 503:
                    assert "retry-after" in r.headers
        deadline = time.monotonic() + 5
        while len(query_workers(url.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert httpx.get(url + "/sparql", params={"query": MEMBERS}).status_code == 200
