"""`isecg-kg serve` limit flags (issue 7, item 7): each one changes what the server does.

Each test runs a real server with one flag set away from its default and shows the difference
with a request that the default would answer otherwise.
"""

from __future__ import annotations

import contextlib
import threading
import time

import httpx
import pytest
from conftest import run_cli
from queries import CARTESIAN
from servers import isecg_server

BUSY = CARTESIAN + "\n# %s"
# Distinct pairs of whole triples, 1,200 x 1,200: 1,440,000 rows whatever the data's size
# or content (two triples differ), ~600 MB and some 10 s in pyoxigraph. (Pairs of (subject,
# object) and object counted rows by the data's distinct objects: the data of issue 22 gave 0.95M
# rows, ~260 MB, which fitted under 640 MiB; a query needing ~300 MB sometimes did.)
MEMORY_HOG = ("SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?a ?b ?c ?d ?e ?f { "
              "{ SELECT ?a ?b ?c WHERE { ?a ?b ?c } LIMIT 1200 } "
              "{ SELECT ?d ?e ?f WHERE { ?d ?e ?f } LIMIT 1200 } } }")


@pytest.mark.parametrize("flag", ["--worker-memory", "--max-connections", "--admission-wait",
                                  "--max-heavy", "--heavy-after", "--max-answer-bytes",
                                  "--server-memory", "--head-timeout", "--body-timeout"])
def test_a_limit_that_is_not_positive_is_refused_with_its_name(dist, flag):
    proc = run_cli("serve", "--dist", str(dist), flag, "0", "--port", "1")
    assert proc.returncode == 2
    assert f"{flag} must be positive, not 0" in proc.stderr and "Traceback" not in proc.stderr


def test_admission_wait_bounds_the_wait_for_a_busy_worker(dist):
    """A query waits --admission-wait (3 s here, not the default 2) for the only worker, busy
    with a query of its 30 s limit, then gets 503. A deadline under test: held from below
    (load only lengthens a wait) and, with a wide margin, from above."""
    with isecg_server(dist, "--workers", "1", "--admission-wait", "3",
                      "--query-timeout", "30") as url:
        def occupy():  # the server stops before this query ends: its client is told so
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(url + "/sparql", data={"query": BUSY % "busy"}, timeout=60)

        threading.Thread(target=occupy, daemon=True).start()
        deadline = time.monotonic() + 30  # until the only worker is busy (polled)
        while httpx.get(url + "/healthz").json()["running"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        start = time.monotonic()
        resp = httpx.get(url + "/sparql", params={"query": "ASK {}"}, timeout=60)
        waited = time.monotonic() - start
    assert resp.status_code == 503 and "Retry-After" in resp.headers
    assert "all 1 query workers are busy" in resp.text
    assert 3 <= waited < 20, waited


def test_worker_memory_below_what_a_worker_needs_is_refused():
    proc = run_cli("serve", "--worker-memory", "100", "--port", "1")
    assert proc.returncode == 2 and "--worker-memory must be at least" in proc.stderr


def test_worker_memory_decides_whether_a_large_query_runs(dist):
    answers = {}
    for mib in ("640", "4096"):
        with isecg_server(dist, "--worker-memory", mib, "--query-timeout", "60") as url:
            answers[mib] = httpx.post(url + "/sparql", data={"query": MEMORY_HOG}, timeout=90)
            after = httpx.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
            assert after.status_code == 200 and "true" in after.text
    assert answers["640"].status_code == 503, answers["640"].text[:300]
    assert "ran out of memory" in answers["640"].json()["detail"]
    assert answers["4096"].status_code == 200, answers["4096"].text[:300]
    assert int(answers["4096"].json()["results"]["bindings"][0]["n"]["value"]) == 1200 * 1200
