"""`isecg-kg bench` end to end as a smoke test: it runs, writes JSON with every section.

No thresholds here: the targets are the benchmark's to report, never a timed test's to assert.
``ISECG_BENCH_SMOKE=1`` shrinks the run (2 runs, one and two copies of the data as synthetic
sizes, 1 s of load per server and query) so the whole harness — builds, synth, the per-constraint
growth, three servers, wrk — runs in about a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from bench.bench import QUERIES
from bench.endpoint import SERVERS, parse_wrk
from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None or shutil.which("oxigraph") is None,
                                reason="needs wrk and the oxigraph server")


def test_bench_quick_smoke_writes_every_section(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "isecg_kg", "--quiet", "bench", "--quick",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "ISECG_BENCH_SMOKE": "1"},
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["meta"]["mode"] == "smoke"
    assert {"meta", "real", "scale", "growth", "endpoint", "store", "burst", "fair", "slow",
            "reconcile", "targets"} <= set(result)
    # first-time through `serve --store` beside the embedded server and Oxigraph asked directly
    assert set(result["store"]["median_ms"]) == {"embedded", "through the store",
                                                 "Oxigraph server directly"}
    assert all(ms > 0 for ms in result["store"]["median_ms"].values())
    assert result["burst"]["n"] > 0 and result["burst"]["p99_ms"] is not None
    assert {"load", "validate", "reason", "total"} <= set(result["real"]["stages"])
    assert set(result["real"]["process"]) == {"build", "query", "validate"}
    assert len(result["scale"]["sizes"]) == 2 and len(result["scale"]["growth"]) == 1
    assert all(r["peak_mb"] > 0 for r in result["scale"]["sizes"])
    # proportions beside the real graph's: whole copies keep the inferred share
    real = result["real"]
    assert real["proportions"]["classes"] and real["inferred"] > 0
    for r in result["scale"]["sizes"]:
        assert r["classes"].keys() == real["proportions"]["classes"].keys()
        share = r["inferred"] / r["data_triples"]
        assert share == pytest.approx(real["inferred"] / real["proportions"]["data_triples"],
                                      rel=0.05)
    # every constraint of every shape with targets timed at both sizes, with a verdict
    growth = result["growth"]["rows"]
    assert len(growth) > 50 and all(isinstance(r["met"], bool) for r in growth)
    assert all(r["small_s"] > 0 and r["large_s"] > 0 for r in growth)
    assert any(r["constraint"] == "NameStatementShape › sparql NameStatement-asserted"
               for r in growth)
    seen = {(r["server"], r["query"]) for r in result["endpoint"]["results"]}
    assert seen == {(s, q) for s in SERVERS for q in QUERIES}
    ours = [r for r in result["endpoint"]["results"] if r["server"] == "isecg-kg"]
    assert all(r["rps"] > 0 and r["errors"] == 0 for r in ours)
    # CPU per request from /proc, ours (server and workers) and Oxigraph server's, and their ratio
    assert all(r["cpu_ms"] > 0 for r in result["endpoint"]["results"]
               if r["server"] in ("isecg-kg", "oxigraph"))
    assert all(r["cpu_ratio"] > 0 for r in result["endpoint"]["ratios"] if r["peer"] == "oxigraph")
    assert any(t["target"].startswith("endpoint CPU per first-time request")
               for t in result["targets"])
    assert all("met" in t for t in result["targets"])
    fair = result["fair"]
    assert fair["attempts"] >= 1 and len(fair["attempt_statuses"]) == fair["attempts"]
    assert fair["light_n"] > 0 and sum(fair["flood_statuses"].values()) > 0
    assert [r["server"] for r in result["slow"]] == ["isecg-kg", "oxigraph"]
    ours = result["slow"][0]
    assert ours["held"] + ours["refused"] + ours["unopened"] == ours["slow"] and ours["asks"] > 0
    rc = result["reconcile"]
    assert rc["idle"]["healthz_n"] > 0 and rc["flooded"]["entity_n"] > 0
    assert sum(rc["flood_statuses"].values()) > 0
    for heading in ("Real data", "Scale", "Proportions", "Entities per class",
                    "Validation time per constraint", "Endpoint", "bursts of 20 heavy",
                    "flooding heavy queries", "Slow connections", "flooding /reconcile",
                    "Targets"):
        assert heading in proc.stdout


def test_parse_wrk_reads_units_and_errors():
    text = """Running 2s test @ http://127.0.0.1:1/sparql
  Latency Distribution
     50%  812.00us
     75%    1.20ms
     90%    3.00ms
     99%    1.50s
  1234 requests in 2.00s, 1.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec:    617.00
"""
    r = parse_wrk(text)
    assert r["p50_ms"] == pytest.approx(0.812) and r["p99_ms"] == pytest.approx(1500)
    assert (r["requests"], r["non2xx"], r["socket_errors"], r["rps"]) == (1234, 5, 3, 617.0)
