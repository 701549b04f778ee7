"""``isecg-kg bench``: the build and the endpoint measured beside their peers, in one run.

Three sections, every comparison a ratio of numbers taken in the same run:

* **real** — the build's stages on the project's data (``build()`` in-process), the whole build
  as a process (``python -m isecg_kg build``), a one-shot ``query -n members-2022`` and
  ``validate``, each from process start to exit; medians of 5 runs (2 in smoke mode).
* **scale** — ``synth`` sources of 10k, 100k (and, without ``--quick``, 1M) triples (whole
  copies of the project's data); each full build runs in its own child process, timed, its peak
  RSS read from ``os.wait4``; the growth of time and memory per 10× data; the proportions of
  each graph (asserted : inferred, entities per class) beside the real graph's.
* **growth** — every constraint of the shapes validated alone at 10k and 100k triples
  (``growth``): how its time grows, any growing more than 12× for 10× the data "not met".
* **burst** — light SPARQL queries from two clients while bursts of 20 distinct heavy queries
  run (``measure_burst``): p50 / p99 / max over every round, and light queries refused.
* **fair** — one client floods heavy queries, another asks one query that needs a heavy slot
  (honouring Retry-After) and a third sends light queries (``measure_fair``): how long the
  second waited, and the light queries' p50 / p99 / refusals. Our server only (no peer has
  anything per client).
* **slow** — ``slow`` connections from 127.0.0.1 that send half a request head and wait, while
  a client on 127.0.0.2 asks a cached ASK for ``slow_hold`` seconds: its p50 / p99 / errors,
  against our server (default limits) and then Oxigraph server, never both at once.
* **reconcile** — one client floods ``/reconcile`` with 200-query batches from 3 connections
  while another asks ``/healthz`` and an entity page one after another: their p50 / p99 idle
  and flooded (``measure_reconcile``; target: p99 within 2× idle). Our server only.
* **endpoint** — ``wrk`` on 127.0.0.1, bounded in time, against our server, Oxigraph server loaded
  with the same ``isecg.nq`` and rdflib-endpoint on the same file, for three named queries, at 20
  (and, without ``--quick``, 100) connections; "first-time" requests each differ (a unique
  ``LIMIT`` is appended by a wrk Lua script, so no answer cache can hit), "repeated" ones are the
  same URL. Throughput and p50/p99 latency, medians over ``runs`` wrk runs.
* **store** — one first-time named query at a time against our server embedded, our server
  answering from a writable Oxigraph server (``serve --store``, loaded by ``isecg-kg load``)
  and that Oxigraph server asked directly (``bench/store.py``): the medians.

The targets of issues 6, 15, 21, 24 and 27 are printed as met / not met; nothing here asserts them.
``ISECG_BENCH_SMOKE=1`` shrinks everything further (2 runs, tiny sizes, 1 s load) so CI can check
the harness end to end; its numbers are not measurements and the JSON says so.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import math
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from isecg_kg.config import PACKAGE_DIR

from bench.endpoint import (
    BenchError,
    bench_burst,
    bench_endpoint,
    bench_fair,
    bench_reconcile,
    bench_slow,
    median,
    py_command,
)
from bench.growth import bench_growth
from bench.store import bench_store, store_targets

QUERIES = ("members-2022", "agencies-per-country", "documents")
REASON_BUDGET = 3600.0
def _settings(quick: bool) -> dict:
    if os.environ.get("ISECG_BENCH_SMOKE"):
        # one and two copies of the data: the smallest sizes synth makes, sized from the data
        # (fixed sizes of 3,000 and 7,000 were both one copy once a copy held 6,554 triples)
        from bench.synth import copy_triples

        one = copy_triples()
        return {"mode": "smoke", "runs": 2, "wrk_runs": 1, "sizes": [one, 2 * one],
                "growth_sizes": [one, 2 * one], "growth_repeats": 1,
                "duration": 1, "connections": [20], "queries": QUERIES, "burst_rounds": 1,
                "slow": 300, "slow_hold": 1.0, "fair_flood": 2, "fair_timeout": 3,
                "reconcile_flood": 2, "reconcile_seconds": 1.0, "store_requests": 3,
                "real_runs": 2}
    if quick:  # every section, within QUICK_LIMIT: fewer runs, shorter wrk runs, no 1M build,
        # 2,000 slow connections (still past both of our server's caps; 5,000 kept Oxigraph
        # server's section waiting out 5 s timeouts for 99 s of a 370 s run)
        return {"mode": "quick", "runs": 3, "wrk_runs": 3, "sizes": [10_000, 100_000],
                "growth_sizes": [10_000, 100_000], "growth_repeats": 5,
                "duration": 1, "connections": [20], "queries": QUERIES, "burst_rounds": 2,
                "slow": 2_000, "slow_hold": 4.0, "fair_flood": 4,
                "reconcile_flood": 3, "reconcile_seconds": 5.0, "store_requests": 15,
                # each real-data process takes half a second: five even here, for a median
                # that one stolen slice of a shared machine's CPU does not decide
                "real_runs": 5}
    return {"mode": "full", "runs": 5, "wrk_runs": 5, "sizes": [10_000, 100_000, 1_000_000],
            "growth_sizes": [10_000, 100_000], "growth_repeats": 5,
            "duration": 5, "connections": [20, 100], "queries": QUERIES, "burst_rounds": 5,
            "slow": 5_000, "slow_hold": 8.0, "fair_flood": 4,
            "reconcile_flood": 3, "reconcile_seconds": 10.0, "store_requests": 31,
            "real_runs": 5}


QUICK_LIMIT = 300.0  # seconds: a quick run that takes longer is not run (issue 24)


def run_timed(cmd: list[str], timeout: float = 3600) -> tuple[float, float]:
    """Run `cmd`; return (wall seconds, peak RSS in MB) of that child alone (os.wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            raise BenchError(f"{' '.join(cmd)}: still running after {timeout} s; killed")
        time.sleep(0.002)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {proc.returncode}: {err[-1500:]}")
    return wall, usage.ru_maxrss / 1024


# --------------------------------------------------------------------------- real data

def bench_real(source: Path, work: Path, cfg: dict, log: Callable[[str], None]) -> dict:
    from isecg_kg.builder.pipeline import build

    from bench.synth import proportions

    runs = cfg["real_runs"]
    # as pip byte-compiles an installed package: a shell with PYTHONDONTWRITEBYTECODE (some
    # development set-ups) would otherwise have every process below compile the package from
    # source, 0.1 s of CPU each
    compileall.compile_dir(str(PACKAGE_DIR), quiet=1)
    stages: dict[str, list[float]] = {}
    log(f"real data: build() in-process ×{runs}")
    for i in range(runs):
        result = build(source, work / f"inproc-{i % 2}")
        for name, t in result.timings.items():
            stages.setdefault(name, []).append(t)
    dist = work / "dist"
    samples: dict[str, list[float]] = {"build": [], "query": [], "validate": []}
    log(f"real data: build / query / validate processes ×{runs}")
    for _ in range(runs):
        samples["build"].append(run_timed(py_command("build", "--source", str(source),
                                               "--out", str(dist)))[0])
        samples["query"].append(run_timed(py_command("query", "-n", "members-2022", "--dist",
                                               str(dist), "--source", str(source)))[0])
        samples["validate"].append(run_timed(py_command("validate", "--source", str(source)))[0])
    return {"triples": result.triples, "inferred": result.inferred,
            "proportions": proportions(source),
            "stages": {k: median(v) for k, v in stages.items()},
            "stage_samples": stages,
            "process": {k: median(v) for k, v in samples.items()},
            "process_samples": samples, "dist": str(dist)}


# --------------------------------------------------------------------------- scale

def _lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def synthetic_source(work: Path, n: int) -> Path:
    """The synthetic source of about n triples in the run's work directory (written once)."""
    from bench.synth import write_synthetic

    src = work / f"synth-{n}"
    return src if (src / "data").is_dir() else write_synthetic(src, n, seed=0)


def bench_scale(work: Path, cfg: dict, log: Callable[[str], None]) -> dict:
    from bench.synth import proportions

    rows = []
    for n in cfg["sizes"]:
        src = synthetic_source(work, n)
        shape = proportions(src)
        actual = shape["data_triples"]
        times, mems = [], []
        log(f"scale: build of {n:,} synthetic triples ×{cfg['runs']}")
        try:
            for _ in range(cfg["runs"]):
                # a generous reasoning budget: the point is to measure how long it takes
                wall, rss = run_timed(py_command("build", "--source", str(src), "--reason-budget",
                                          str(REASON_BUDGET), "--out",
                                          str(work / f"synth-{n}-dist")))
                times.append(wall)
                mems.append(rss)
        except BenchError as exc:
            log(f"scale: {n:,} triples failed: {exc}")
            rows.append({"triples": n, "data_triples": actual, "build_s": None,
                         "peak_mb": None, "error": str(exc)[-2000:]})
            break
        dist = work / f"synth-{n}-dist"
        rows.append({"triples": n, "data_triples": actual, "build_s": median(times),
                     "peak_mb": max(mems), "build_samples": times, "peak_samples": mems,
                     "asserted": _lines(dist / "isecg.nt"),
                     "inferred": _lines(dist / "isecg-inferred.nt"),
                     "classes": shape["classes"]})
        shutil.rmtree(dist, ignore_errors=True)
    growth = []
    for a, b in itertools.pairwise([r for r in rows if r["build_s"] is not None]):
        factor = b["data_triples"] / a["data_triples"]
        growth.append({"from": a["triples"], "to": b["triples"], "data_factor": factor,
                       "time_ratio": b["build_s"] / a["build_s"],
                       "memory_ratio": b["peak_mb"] / a["peak_mb"],
                       # time ratio normalised to exactly 10× the data (log-linear)
                       "time_ratio_per_10x": (b["build_s"] / a["build_s"]) ** (
                           1 / max(1e-9, math.log10(factor)))})
    return {"sizes": rows, "growth": growth}


# --------------------------------------------------------------------------- targets

def targets(result: dict) -> list[dict]:
    """Each target of the sections run (``--only`` runs some), met or not."""
    out: list[dict] = []
    if "real" in result:
        out += _real_targets(result)
    if "scale" in result:
        out += _scale_targets(result)
    if "growth" in result:
        out += _growth_targets(result)
    if "endpoint" in result:
        out += _endpoint_targets(result)
    if "store" in result:
        out += store_targets(result)
    out += _load_targets(result)
    if result["meta"]["mode"] == "quick" and not result["meta"].get("only"):
        v = result["meta"]["elapsed_s"]
        out.append({"target": f"bench --quick ≤ {QUICK_LIMIT / 60:.0f} min", "value": v,
                    "unit": "s", "met": v <= QUICK_LIMIT})
    return out


def _real_targets(result: dict) -> list[dict]:
    real = result["real"]["process"]
    return [
        {"target": "real data: full build ≤ 0.5 s", "value": real["build"], "unit": "s",
         "met": real["build"] <= 0.5},
        {"target": "real data: one-shot query ≤ 0.5 s", "value": real["query"], "unit": "s",
         "met": real["query"] <= 0.5},
        {"target": "real data: validate ≤ 1 s", "value": real["validate"], "unit": "s",
         "met": real["validate"] <= 1.0},
    ]


def _scale_targets(result: dict) -> list[dict]:
    out: list[dict] = []
    sizes = {r["triples"]: r for r in result["scale"]["sizes"]}
    big = sizes.get(1_000_000)
    if big and big["build_s"] is None:  # measured, and failed
        out.append({"target": "1M triples: build ≤ 30 s", "value": None, "unit": "s",
                    "met": False, "note": big["error"][-300:]})
        out.append({"target": "1M triples: peak memory ≤ 1.5 GB", "value": None, "unit": "MB",
                    "met": False, "note": "the build failed"})
    else:
        out.append({"target": "1M triples: build ≤ 30 s",
                    "value": big["build_s"] if big else None, "unit": "s",
                    "met": big["build_s"] <= 30 if big else None})
        out.append({"target": "1M triples: peak memory ≤ 1.5 GB",
                    "value": big["peak_mb"] if big else None, "unit": "MB",
                    "met": big["peak_mb"] <= 1536 if big else None})
    growth = result["scale"]["growth"]
    worst = max((g["time_ratio_per_10x"] for g in growth), default=None)
    out.append({"target": "10× the data ≤ 12× the time", "value": worst, "unit": "×",
                "met": worst <= 12 if worst is not None else None})
    return out


def _growth_targets(result: dict) -> list[dict]:
    out: list[dict] = []
    g = result["growth"]
    judged = [r for r in g["rows"] if r["growth_per_10x"] is not None and r["large_s"] is not None
              and r["large_s"] >= g["floor_s"]]
    failing = [r["constraint"] for r in g["rows"] if not r["met"]]
    worst_c = max(judged, key=lambda r: r["growth_per_10x"], default=None)
    out.append({"target": "every constraint: 10× the data ≤ 12× its validation time (worst)",
                "value": worst_c["growth_per_10x"] if worst_c else None, "unit": "×",
                "met": not failing,
                "note": ", ".join(failing) or (worst_c or {}).get("constraint")})
    return out


def _endpoint_targets(result: dict) -> list[dict]:
    out: list[dict] = []
    ratios = result["endpoint"]["ratios"]

    def worst_ratio(peer: str, mode: str | None) -> float | None:
        xs = [r["throughput_ratio"] for r in ratios if r["peer"] == peer
              and (mode is None or r["mode"] == mode) and r["throughput_ratio"] is not None]
        return min(xs) if xs else None

    for name, peer, mode, limit in (
            ("endpoint ≥ 10× rdflib-endpoint (worst query)", "rdflib-endpoint", None, 10.0),
            ("endpoint ≥ 0.6× Oxigraph, first-time (worst query)", "oxigraph", "first-time", 0.6),
            ("endpoint ≥ 1.0× Oxigraph, repeated (worst query)", "oxigraph", "repeated", 1.0)):
        v = worst_ratio(peer, mode)
        out.append({"target": name, "value": v, "unit": "×",
                    "met": v >= limit if v is not None else None})
    # the median ratio over queries × connections
    v = median([r["throughput_ratio"] for r in ratios if r["peer"] == "oxigraph"
                and r["mode"] == "first-time" and r["throughput_ratio"] is not None])
    out.append({"target": "endpoint ≥ 1.0× Oxigraph, first-time (median query)", "value": v,
                "unit": "×", "met": v >= 1.0 if v is not None else None})
    # issue 24: CPU per first-time request (server and workers) against Oxigraph server's, read
    # from /proc in the same run: far steadier than requests per second on a shared machine
    v = median([r["cpu_ratio"] for r in ratios if r["peer"] == "oxigraph"
                and r["mode"] == "first-time" and r["cpu_ratio"] is not None])
    out.append({"target": "endpoint CPU per first-time request ≤ Oxigraph's (median query, "
                "ours ÷ theirs)", "value": v, "unit": "×",
                "met": v <= 1.0 if v is not None else None})
    # issue 15 retired the fixed 20 ms: our p99 against Oxigraph server's on the same query
    rows = result["endpoint"]["results"]
    excess = []
    for r in rows:
        peer = next((o for o in rows if o["server"] == "oxigraph" and o["query"] == r["query"]
                     and o["mode"] == r["mode"] and o["connections"] == r["connections"]), None)
        if r["server"] == "isecg-kg" and peer and r["p99_ms"] and peer["p99_ms"]:
            excess.append(r["p99_ms"] / peer["p99_ms"])
    v = max(excess) if excess else None
    out.append({"target": "endpoint p99 ≤ Oxigraph server's p99 (worst query, ours ÷ theirs)",
                "value": v, "unit": "×", "met": v <= 1.0 if v is not None else None})
    return out


def _load_targets(result: dict) -> list[dict]:
    """The burst, fair, slow and reconcile sections' targets (those run)."""
    out: list[dict] = []
    burst = result.get("burst") or {}
    v = burst.get("p99_ms")
    out.append({"target": "light query p99 ≤ 250 ms during a burst of 20 heavy", "value": v,
                "unit": "ms", "met": v <= 250 and not burst["light_failed"]
                if v is not None else None})
    fair = result.get("fair") or {}
    v = fair.get("answered_after_s")
    out.append({"target": "one client flooding heavy queries: another's heavy query is answered",
                "value": v, "unit": "s", "met": v is not None if fair else None})
    v = fair.get("light_p99_ms")
    out.append({"target": "… and light queries meanwhile: p99 < 250 ms, none refused", "value": v,
                "unit": "ms", "met": v < 250 and not fair["light_failed"]
                if v is not None else None})
    ours = next((r for r in result.get("slow") or [] if r["server"] == "isecg-kg"), None)
    v = ours["ask_p99_ms"] if ours else None
    out.append({"target": f"{ours['slow'] if ours else 5000:,} slow connections from one address: "
                "another client's ASK p99 < 100 ms, 0 errors", "value": v, "unit": "ms",
                "met": v < 100 and not ours["ask_errors"] if v is not None else None})
    rc = result.get("reconcile") or {}
    for what in ("healthz", "entity"):
        ratio = rc.get(f"{what}_p99_ratio")
        out.append({"target": f"/reconcile flood: another client's {what} p99 ≤ 2× idle",
                    "value": ratio, "unit": "×", "met": ratio <= 2 if ratio is not None else None})
    # --only: the targets of the sections not run are not listed
    sections = ["burst", "fair", "fair", "slow", "reconcile", "reconcile"]
    return [t for t, name in zip(out, sections, strict=True) if name in result]


# --------------------------------------------------------------------------- run + print

def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("pyoxigraph", "rdflib", "pyshacl", "owlrl", "rdflib-endpoint", "oxigraph"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    exe = shutil.which("oxigraph")
    if exe:
        out["oxigraph-server"] = subprocess.run([exe, "--version"], capture_output=True,
                                                text=True, check=False).stdout.strip()
    wrk = shutil.which("wrk")
    if wrk:
        p = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
        out["wrk"] = (p.stdout or p.stderr).splitlines()[0] if (p.stdout or p.stderr) else ""
    return out


def _machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mb": mem,
            "system": f"{platform.system()} {platform.release()}"}


SECTIONS = ("real", "scale", "growth", "endpoint", "store", "burst", "fair", "slow",
            "reconcile")


def run_bench(source: Path, quick: bool, log: Callable[[str], None],
              only: tuple[str, ...] = ()) -> dict:
    """Every section, or those in ONLY (the server sections then run on one build of SOURCE)."""
    cfg = _settings(quick)
    wanted = set(only or SECTIONS)
    started = time.perf_counter()
    result: dict = {"meta": {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                             "mode": cfg["mode"], "runs": cfg["runs"],
                             "wrk_runs": cfg["wrk_runs"], "machine": _machine(),
                             "versions": _versions(),
                             "note": "smoke mode: not measurements" if cfg["mode"] == "smoke"
                             else "medians of the runs", "only": sorted(only)}}
    with tempfile.TemporaryDirectory(prefix="isecg-bench-") as tmp:
        work = Path(tmp)
        dist = work / "dist"
        if "real" in wanted:
            result["real"] = bench_real(Path(source), work, cfg, log)
            dist = Path(result["real"].pop("dist"))
        elif wanted & {"endpoint", "store", "burst", "fair", "slow", "reconcile"}:
            log("building the real data for the server sections")
            run_timed(py_command("build", "--source", str(source), "--out", str(dist)))
        if "scale" in wanted:
            result["scale"] = bench_scale(work, cfg, log)
        if "growth" in wanted:
            result["growth"] = bench_growth({n: synthetic_source(work, n)
                                             for n in cfg["growth_sizes"]}, cfg, log)
        for name, section in (("endpoint", bench_endpoint), ("store", bench_store),
                              ("burst", bench_burst),
                              ("fair", bench_fair), ("slow", bench_slow),
                              ("reconcile", bench_reconcile)):
            if name in wanted:
                result[name] = section(dist, work, cfg, log)
    result["meta"]["elapsed_s"] = time.perf_counter() - started
    result["targets"] = targets(result)
    return result


def cli_bench(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bench.report import print_tables

    err = Console(stderr=True)
    log = (lambda line: None) if args.quiet else (lambda line: err.log(line))
    only = tuple(s.strip() for s in (getattr(args, "only", None) or "").split(",") if s.strip())
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        raise BenchError(f"--only: no such section: {', '.join(unknown)} (the sections: "
                         f"{', '.join(SECTIONS)})")
    result = run_bench(args.source, args.quick, log, only)
    tmp = Path(str(args.json) + ".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(args.json)
    print_tables(result, Console(width=160))
    if not args.quiet:
        err.print(f"wrote {args.json} ({result['meta']['elapsed_s']:.0f} s)")
    return 0
