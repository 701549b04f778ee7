"""The ``store`` section: first-time answers through ``serve --store`` beside the embedded server.

Three servers on the same build: ours embedded, ours answering from a writable Oxigraph server
loaded by ``isecg-kg load``, and that Oxigraph server asked directly (the peer). Each is sent the
same first-time named query one request at a time (a unique comment per request, so no answer
cache helps), and the section reports the medians. This replaced a timed test
(tests/test_sparql_remote.py asserted the store path's median under 1 s): the figure belongs
here, beside its peer, not in a test.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from isecg_kg.config import QUERIES_DIR
from isecg_kg.processes import OXIGRAPH_READY, free_port, oxigraph_command, running

from bench.endpoint import BenchError, py_command, start_server

QUERY = "members-2022"
STORE_LIMIT_S = 1.0  # the bound the timed test held: a first-time answer through the store


def _median(client, url: str, text: str, n: int) -> float:
    """Median seconds of N first-time requests (POST, form field query), each text unique."""
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        resp = client.post(url, data={"query": f"{text}\n# bench store {i} {time.time_ns()}"},
                           headers={"Accept": "application/sparql-results+json"})
        times.append(time.perf_counter() - t0)
        if resp.status_code != 200:
            raise BenchError(f"{url}: {resp.status_code} {resp.text[:300]}")
    return statistics.median(times)


def bench_store(dist: Path, work: Path, cfg: dict, log: Callable[[str], None]) -> dict:
    import httpx

    text = (QUERIES_DIR / f"{QUERY}.rq").read_text()
    n = cfg["store_requests"]
    with ExitStack() as stack:
        port = free_port()
        store = f"http://127.0.0.1:{port}"
        log("store: starting a writable Oxigraph server and loading the build into it")
        stack.enter_context(running(oxigraph_command(work / "store-db", port), store
                                    + OXIGRAPH_READY, work / "store-oxigraph.log", timeout=300))
        loaded = subprocess.run(py_command("load", "--into", store + "/store", "--dist",
                                           str(dist)), capture_output=True, text=True,
                                check=False, timeout=600)
        if loaded.returncode != 0:
            raise BenchError(f"isecg-kg load exited {loaded.returncode}: {loaded.stderr[-1500:]}")
        urls = {name: stack.enter_context(start_server("isecg-kg", dist, work, *extra))
                for name, extra in (("embedded", ()),
                                    ("through the store", ("--store", store + "/query")))}
        urls["Oxigraph server directly"] = store + "/query"
        with httpx.Client(timeout=60) as client:
            rows = {name: _median(client, url, text, n) for name, url in urls.items()}
    for name, s in rows.items():
        log(f"  {QUERY} first-time, {name}: median {s * 1000:.1f} ms of {n}")
    return {"query": QUERY, "requests": n,
            "median_ms": {name: s * 1000 for name, s in rows.items()}}


def store_targets(result: dict) -> list[dict]:
    ms = result["store"]["median_ms"]
    through, direct = ms["through the store"], ms["Oxigraph server directly"]
    return [{"target": f"serve --store (Oxigraph): first-time {QUERY} median ≤ "
             f"{STORE_LIMIT_S:g} s", "value": through / 1000, "unit": "s",
             "met": through / 1000 <= STORE_LIMIT_S,
             "note": f"{through / direct:.2f}× Oxigraph asked directly"}]
