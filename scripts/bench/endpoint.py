"""The endpoint sections of the benchmark: our server, Oxigraph server and rdflib-endpoint under
``wrk`` (first-time and repeated requests), and light queries beside bursts of heavy ones
(``measure_burst``). See ``bench`` for the whole run."""

from __future__ import annotations

import itertools
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from isecg_kg.config import QUERIES_DIR
from isecg_kg.errors import IsecgError
from isecg_kg.processes import (
    OXIGRAPH_READY,
    free_port,
    oxigraph_command,
    running,
    tree_cpu_seconds,
)

SERVERS = ("isecg-kg", "oxigraph", "rdflib-endpoint")
ACCEPT = "application/sparql-results+json"

# A different query text on every request (per wrk run, thread and counter): answers cannot be
# cached. The run's number comes in as the script's argument: without it every run sent the
# texts of the first again, and our answer cache (which Oxigraph server has not) answered them.
FIRST_TIME_LUA = """
local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end
function init(args)
  run = tonumber(args[1]) or 0
end
counter = 0
function request()
  counter = counter + 1
  local limit = 1000000000 + run * 10000000 + tid * 1000000 + counter
  return wrk.format("GET", wrk.path .. "%0ALIMIT%20" .. tostring(limit))
end
"""


class BenchError(IsecgError):
    """A benchmark step could not run (a peer missing, a server not starting)."""


def py_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "isecg_kg", "--quiet", *args]


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


class Endpoint(str):
    """A server's SPARQL GET URL (without the query), with the server's process id."""

    pid: int


def _endpoint(url: str, proc) -> Endpoint:
    endpoint = Endpoint(url)
    endpoint.pid = proc.pid
    return endpoint


@contextmanager
def start_server(name: str, dist: Path, work: Path, *extra: str) -> Iterator[Endpoint]:
    """Start one server on 127.0.0.1 (ours with EXTRA options); yield its SPARQL GET URL
    (without the query) and process id."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    nq = Path(dist) / "isecg.nq"
    log = work / f"{name}-{port}.log"  # two servers of one name may run at once
    if name == "isecg-kg":
        # the load tools are one client, and the peers have no per-client budget: nor here
        cmd = py_command("serve", "--dist", str(dist), "--host", "127.0.0.1", "--port", str(port),
                         "--client-budget", "0", *extra)
        with running(cmd, base + "/healthz", log, timeout=300) as proc:
            yield _endpoint(base + "/sparql", proc)
    elif name == "oxigraph":
        cmd = oxigraph_command(work / f"oxigraph-{port}", port, load=nq,
                               union_default_graph=True)
        with running(cmd, base + OXIGRAPH_READY, log, timeout=300) as proc:
            yield _endpoint(base + "/query", proc)
    elif name == "rdflib-endpoint":
        cmd = [sys.executable, "-m", "rdflib_endpoint", "serve", str(nq), "--host", "127.0.0.1",
               "--port", str(port)]
        with running(cmd, base + "/?query=ASK%7B%7D", log, timeout=300) as proc:
            yield _endpoint(base + "/", proc)
    else:
        raise BenchError(f"unknown server {name!r}")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_wrk(text: str) -> dict:
    """Requests/s, p50/p99 (ms), requests and errors from `wrk --latency` output."""
    def pct(p: str) -> float | None:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
        return float(m.group(1)) * _UNITS[m.group(2)] if m else None

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50_ms": pct("50"), "p99_ms": pct("99"),
            "requests": int(total.group(1)) if total else 0,
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(map(int, sock.groups())) if sock else 0}


_WRK_RUNS = itertools.count(1)


def run_wrk(url: str, connections: int, duration: int, lua: Path | None) -> dict:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed (Debian: apt-get install wrk)")
    if urllib.parse.urlsplit(url).hostname != "127.0.0.1":
        raise BenchError(f"{url}: the load generator only targets 127.0.0.1")
    cmd = [wrk, "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{duration}s",
           "--timeout", "10s", "--latency", "-H", f"Accept: {ACCEPT}"]
    tail = [url]
    if lua:
        cmd += ["-s", str(lua)]
        tail += ["--", str(next(_WRK_RUNS))]  # the script's argument: this run's number
    proc = subprocess.run([*cmd, *tail], capture_output=True, text=True, timeout=duration + 60,
                          check=False)
    if proc.returncode != 0:
        raise BenchError(f"wrk {url} exited {proc.returncode}: {proc.stderr[-500:]}")
    out = parse_wrk(proc.stdout)
    out["duration_s"] = duration
    ok = out["requests"] - out["non2xx"]
    out["ok_rps"] = out["rps"] * (ok / out["requests"]) if out["requests"] else 0.0
    return out


def cpu_per_request(pid: int, *wrk_args) -> dict:
    """``run_wrk(*WRK_ARGS)`` with the CPU the server used meanwhile, read from /proc: process
    PID and its descendants (our query workers), per request answered, in ms."""
    before = tree_cpu_seconds(pid)
    s = run_wrk(*wrk_args)
    spent = tree_cpu_seconds(pid) - before
    s["cpu_ms"] = 1000 * spent / s["requests"] if s["requests"] else None
    return s


def bench_endpoint(dist: Path, work: Path, cfg: dict, log: Callable[[str], None]) -> dict:
    lua = work / "first-time.lua"
    lua.write_text(FIRST_TIME_LUA)
    texts = {q: (QUERIES_DIR / f"{q}.rq").read_text() for q in cfg["queries"]}
    rows = []
    for server in SERVERS:
        log(f"endpoint: starting {server}")
        with start_server(server, dist, work) as endpoint:
            for q, text in texts.items():
                url = endpoint + "?query=" + urllib.parse.quote(text, safe="")
                for conns in cfg["connections"]:
                    for mode in ("first-time", "repeated"):
                        samples = []
                        script = lua if mode == "first-time" else None
                        for _ in range(cfg["wrk_runs"]):
                            s = cpu_per_request(endpoint.pid, url, conns, cfg["duration"], script)
                            if s["requests"] == 0 and cfg["mode"] != "smoke":
                                # nothing finished inside the window (a slow peer): give that
                                # run five times the time once, so it has a number at all
                                s = cpu_per_request(endpoint.pid, url, conns,
                                                    5 * cfg["duration"], script)
                            samples.append(s)
                        row = {"server": server, "query": q, "mode": mode,
                               "connections": conns,
                               "rps": median([s["ok_rps"] for s in samples]),
                               "p50_ms": median([s["p50_ms"] for s in samples
                                                  if s["p50_ms"] is not None]),
                               "p99_ms": median([s["p99_ms"] for s in samples
                                                  if s["p99_ms"] is not None]),
                               "errors": sum(s["non2xx"] + s["socket_errors"] for s in samples),
                               # CPU ms per request, the server and its descendants (/proc)
                               "cpu_ms": median([s["cpu_ms"] for s in samples
                                                 if s["cpu_ms"] is not None]),
                               "samples": samples}
                        rows.append(row)
                        log(f"  {server:<16} {q:<22} {mode:<10} c={conns:<3} "
                            f"{row['rps']:9.1f} req/s  p99 {row['p99_ms'] or 0:.1f} ms  "
                            f"CPU {row['cpu_ms'] or 0:.3f} ms/request")
    ratios = []
    for r in rows:
        if r["server"] != "isecg-kg":
            continue
        for peer in SERVERS[1:]:
            other = next(o for o in rows if o["server"] == peer and o["query"] == r["query"]
                         and o["mode"] == r["mode"] and o["connections"] == r["connections"])
            ratios.append({"peer": peer, "query": r["query"], "mode": r["mode"],
                           "connections": r["connections"],
                           "throughput_ratio": r["rps"] / other["rps"] if other["rps"] else None,
                           # CPU per request, ours ÷ theirs (below 1: we spend less)
                           "cpu_ratio": r["cpu_ms"] / other["cpu_ms"]
                           if r["cpu_ms"] and other["cpu_ms"] else None})
    return {"duration_s": cfg["duration"], "results": rows, "ratios": ratios}


# --------------------------------------------------------------------------- burst

# Every triple three times over (~3.4e10 rows): runs to the time limit.
HEAVY_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
LIGHT_QUERIES = ("ASK { ?s a ?t }", "SELECT ?s WHERE { ?s a ?t } LIMIT 5")


_texts = itertools.count()


def unique(query: str, tag: str = "") -> str:
    """QUERY with a comment no other text has: no answer cache can hit it."""
    return f"{query}\n# {tag} {next(_texts)}-{time.monotonic_ns()}"


def latency_summary(latencies: list[float], prefix: str = "") -> dict:
    """Count, p50, p99 and max (ms) of LATENCIES (seconds), keys named PREFIX + n / p50_ms / …"""
    s = sorted(latencies)

    def pct(p: float) -> float | None:
        return 1000 * s[min(len(s) - 1, int(len(s) * p))] if s else None

    return {f"{prefix}n": len(s), f"{prefix}p50_ms": pct(0.50), f"{prefix}p99_ms": pct(0.99),
            f"{prefix}max_ms": 1000 * s[-1] if s else None}


def client_at(address: str, base_url: str = "", timeout: float = 30.0):
    """An HTTP client whose requests leave from ADDRESS (loopback has many: 127.0.0.2 is
    another client to the server's per-client limits)."""
    import httpx

    return httpx.Client(base_url=base_url, timeout=timeout,
                        transport=httpx.HTTPTransport(local_address=address))


def light_queries(base: str, address: str, first: int, done: Callable[[], bool],
                  tag: str, latencies: list, failed: list) -> None:
    """Light queries from ADDRESS, each text new, one after another until DONE(): each one's
    latency in LATENCIES, each status other than 200 in FAILED."""
    with client_at(address, base, 60) as c:
        for i in itertools.count(first):
            if done():
                return
            t0 = time.perf_counter()
            r = c.get("/sparql", params={"query": unique(LIGHT_QUERIES[i % 2], tag)})
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                failed.append(r.status_code)


def measure_burst(base: str, *, rounds: int, heavy: int = 20, light_clients: int = 2,
                  same_text: bool = False, settle: float = 0.3) -> dict:
    """Light SPARQL queries during bursts of ``heavy`` heavy ones, against the server at ``base``.

    Each round sends the burst at once (distinct texts, or one text with ``same_text``), waits
    ``settle`` seconds so the burst is in (a light query arriving in the same instant queues
    among it: README, "Not defended"), then ``light_clients`` clients send light queries, each
    text new (no cache can answer), one after another until every heavy request is answered.
    The burst comes from 127.0.0.1, the light queries from 127.0.0.2: another client (a client
    whose own queries keep turning out heavy is presumed to send heavy ones, sparql/workers.py).
    Latencies of all rounds are pooled, so the p99 rests on hundreds of samples.
    """
    import threading
    from collections import Counter

    import httpx

    def tagged(query: str) -> str:
        return unique(query, "burst")

    latencies: list[float] = []
    failed: list[int] = []
    heavy_status: list[int] = []
    for _ in range(rounds):
        text = tagged(HEAVY_QUERY)

        def send_heavy(text=text):
            with httpx.Client(timeout=120) as c:
                r = c.get(base + "/sparql",
                          params={"query": text if same_text else tagged(HEAVY_QUERY)})
                heavy_status.append(r.status_code)

        burst = [threading.Thread(target=send_heavy) for _ in range(heavy)]
        for t in burst:
            t.start()
        time.sleep(settle)

        def light(client: int, burst=burst):
            light_queries(base, "127.0.0.2", client, lambda: not any(t.is_alive() for t in burst),
                          "burst", latencies, failed)

        lights = [threading.Thread(target=light, args=(i,)) for i in range(light_clients)]
        for t in lights:
            t.start()
        for t in burst + lights:
            t.join()
    return {"rounds": rounds, "heavy": heavy, "light_clients": light_clients,
            "same_text": same_text, **latency_summary(latencies), "light_failed": len(failed),
            "light_failed_statuses": sorted(set(failed)),
            "heavy_statuses": dict(Counter(heavy_status))}


def bench_burst(dist: Path, work: Path, cfg: dict, log: Callable[[str], None]) -> dict:
    """measure_burst against our server with its default limits."""
    log("burst: light queries during bursts of 20 heavy ones")
    with start_server("isecg-kg", dist, work) as endpoint:
        base = endpoint.removesuffix("/sparql")
        out = measure_burst(base, rounds=cfg["burst_rounds"])
    log(f"  n={out['n']} p50 {out['p50_ms'] or 0:.0f} ms p99 {out['p99_ms'] or 0:.0f} ms "
        f"max {out['max_ms'] or 0:.0f} ms, {out['light_failed']} light refused")
    return out


async def _slow_clients(base: str, ask: str, *, slow: int, hold: float) -> dict:
    """``slow`` connections from 127.0.0.1 that send half a request head and wait, while one
    client on 127.0.0.2 asks ``ask`` over and over for ``hold`` seconds: its latencies and
    failures, and what became of the slow connections (held open, or refused by the server)."""
    import asyncio

    import httpx

    host, port = base.removeprefix("http://").split(":")
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    unopened = 0

    async def open_one() -> None:
        nonlocal unopened
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 5)
            w.write(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")  # the head never ends
            held.append((r, w))
        except (OSError, TimeoutError):
            unopened += 1

    latencies: list[float] = []
    errors: list[str] = []

    async def asker() -> None:
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(transport=transport, timeout=10) as c:
            end = time.monotonic() + hold
            while time.monotonic() < end:
                t0 = time.perf_counter()
                try:
                    r = await c.get(ask)
                    if r.status_code != 200:
                        errors.append(str(r.status_code))
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                latencies.append(time.perf_counter() - t0)

    async def attack() -> None:
        for i in range(0, slow, 250):
            await asyncio.gather(*(open_one() for _ in range(min(250, slow - i))))

    await asyncio.gather(attack(), asker())
    refused = 0
    for r, w in held:  # the server has answered (429) or closed a refused one; a held one waits
        try:
            await asyncio.wait_for(r.read(12), 0.01)
            refused += 1
        except TimeoutError:  # (an OSError too: caught first)
            pass
        except OSError:  # reset
            refused += 1
        w.close()
    asks = latency_summary(latencies, "ask_")
    asks["asks"] = asks.pop("ask_n")
    return {"slow": slow, "unopened": unopened, "refused": refused,
            "held": len(held) - refused, **asks, "ask_errors": len(errors),
            "ask_error_kinds": sorted(set(errors))}


def bench_slow(dist: Path, work: Path, cfg: dict, log: Callable[[str], None]) -> list[dict]:
    """Slow connections from one address against our server (its default limits) and Oxigraph
    server, one after the other: another client's ASK latency meanwhile."""
    import asyncio

    ask = "query=" + "ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D"
    out = []
    for name in ("isecg-kg", "oxigraph"):
        log(f"slow: {cfg['slow']} slow connections from one address against {name}")
        with start_server(name, dist, work) as endpoint:
            base = endpoint.rsplit("/", 1)[0]
            r = asyncio.run(_slow_clients(base, f"{endpoint}?{ask}", slow=cfg["slow"],
                                          hold=cfg["slow_hold"]))
        r["server"] = name
        log(f"  held {r['held']}, refused {r['refused']}, not opened {r['unopened']}; other "
            f"client's ASK p99 {r['ask_p99_ms'] or 0:.0f} ms over {r['asks']}, "
            f"{r['ask_errors']} errors")
        out.append(r)
    return out


# --------------------------------------------------------------------------- fair

# Past the heavy threshold (0.5 s) but done in about a second here: needs a heavy slot to finish.
MODERATE_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d a ?t }"


def measure_fair(base: str, *, flood: int = 4, settle: float = 1.0,
                 give_up: float = 60.0) -> dict:
    """One client (127.0.0.1) floods heavy queries from ``flood`` connections; once they are in,
    another (127.0.0.2) asks one query that needs a heavy slot, honouring Retry-After, until it
    is answered; a third (127.0.0.3) sends light queries meanwhile. How long the second waited,
    how often it asked, and the light queries' latencies."""
    import threading
    from collections import Counter


    stop = threading.Event()

    def tagged(query: str) -> str:
        return unique(query, "fair")

    flood_status: Counter = Counter()

    def flooder() -> None:
        with client_at("127.0.0.1", base, 120) as c:
            while not stop.is_set():
                r = c.get("/sparql", params={"query": tagged(HEAVY_QUERY)})
                flood_status[r.status_code] += 1

    latencies: list[float] = []
    light_failed: list[int] = []

    def light() -> None:
        light_queries(base, "127.0.0.3", 0, stop.is_set, "fair", latencies, light_failed)

    threads = [threading.Thread(target=flooder) for _ in range(flood)]
    for t in threads:
        t.start()
    time.sleep(settle)
    lights = threading.Thread(target=light)
    lights.start()
    attempts: list[tuple[int, str | None]] = []
    t0 = time.monotonic()
    answered = None
    with client_at("127.0.0.2", base, 120) as c:
        text = tagged(MODERATE_QUERY)
        while time.monotonic() - t0 < give_up:
            r = c.get("/sparql", params={"query": text})
            attempts.append((r.status_code, r.headers.get("retry-after")))
            if r.status_code == 200:
                answered = time.monotonic() - t0
                break
            time.sleep(float(r.headers.get("retry-after") or 1))
    stop.set()
    for t in [*threads, lights]:
        t.join()
    return {"flood": flood, "answered_after_s": answered, "attempts": len(attempts),
            "attempt_statuses": [a[0] for a in attempts],
            "retry_afters": [a[1] for a in attempts if a[1] is not None],
            "flood_statuses": dict(flood_status), **latency_summary(latencies, "light_"),
            "light_failed": len(light_failed),
            "light_failed_statuses": sorted(set(light_failed))}


def bench_fair(dist: Path, work: Path, cfg: dict, log: Callable[[str], None]) -> dict:
    """measure_fair against our server with its default limits (the per-client budget is off,
    as everywhere in the benchmark: the flood would otherwise be stopped by it within a minute;
    smoke mode shortens the time limit, so the second client's wait).
    No peer: Oxigraph server has no time limit nor anything per client to compare."""
    log(f"fair: one client floods heavy queries ({cfg['fair_flood']} connections), another "
        "asks for a heavy slot, a third sends light queries")
    extra = ("--query-timeout", str(cfg["fair_timeout"])) if cfg.get("fair_timeout") else ()
    with start_server("isecg-kg", dist, work, *extra) as endpoint:
        out = measure_fair(endpoint.removesuffix("/sparql"), flood=cfg["fair_flood"])
    waited = out["answered_after_s"]
    log(f"  heavy query {'not answered' if waited is None else f'answered after {waited:.1f} s'}"
        f" ({out['attempts']} attempts: {out['attempt_statuses']}); light p99 "
        f"{out['light_p99_ms'] or 0:.0f} ms over {out['light_n']}, {out['light_failed']} refused")
    return out


# --------------------------------------------------------------------------- reconcile

def reconcile_flood_batch(seed: int) -> str:
    """A 200-query batch of 60 random long words each (seconds of scoring): what a greedy
    reconciliation client sends, as the form field ``queries``."""
    import json
    import random
    import string

    rnd = random.Random(seed)
    words = ["".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(5, 12)))
             for _ in range(2000)]
    return json.dumps({f"q{i}": {"query": " ".join(rnd.choice(words) for _ in range(60))[:499],
                                 "limit": 25} for i in range(200)})


def measure_reconcile(base: str, *, flood: int = 3, seconds: float = 10.0,
                      entity: str = "/id/agency/nasa.html") -> dict:
    """Another client's (127.0.0.2) ``/healthz`` and entity page, one after another for
    SECONDS while idle, then for SECONDS while 127.0.0.1 floods ``/reconcile`` from FLOOD
    connections with 200-query batches: their p50 / p99 both times, and the flood's answers."""
    import threading
    from collections import Counter

    def probe(done: Callable[[], bool]) -> dict:
        lat: dict[str, list[float]] = {"healthz": [], "entity": []}
        failed = 0
        with client_at("127.0.0.2", base, 30) as c:
            while not done():
                for name, path in (("healthz", "/healthz"), ("entity", entity)):
                    t0 = time.perf_counter()
                    r = c.get(path)
                    lat[name].append(time.perf_counter() - t0)
                    failed += r.status_code != 200
                time.sleep(0.01)
        return {**latency_summary(lat["healthz"], "healthz_"),
                **latency_summary(lat["entity"], "entity_"), "failed": failed}

    def for_seconds() -> Callable[[], bool]:
        end = time.monotonic() + seconds
        return lambda: time.monotonic() >= end

    idle = probe(for_seconds())
    stop = threading.Event()
    statuses: Counter = Counter()

    def flooder(n: int) -> None:
        with client_at("127.0.0.1", base, 60) as c:
            for seed in itertools.count(n * 1000):
                if stop.is_set():
                    return
                r = c.post("/reconcile", data={"queries": reconcile_flood_batch(seed)})
                statuses[r.status_code] += 1

    threads = [threading.Thread(target=flooder, args=(n,)) for n in range(flood)]
    for t in threads:
        t.start()
    time.sleep(1.0)  # the flood is scoring
    flooded = probe(for_seconds())
    stop.set()
    for t in threads:
        t.join()

    def ratio(key: str) -> float | None:
        a, b = idle.get(key), flooded.get(key)
        return b / a if a and b is not None else None

    return {"flood": flood, "seconds": seconds, "idle": idle, "flooded": flooded,
            "flood_statuses": dict(statuses), "healthz_p99_ratio": ratio("healthz_p99_ms"),
            "entity_p99_ratio": ratio("entity_p99_ms")}


def bench_reconcile(dist: Path, work: Path, cfg: dict, log: Callable[[str], None]) -> dict:
    """measure_reconcile against our server with its default limits but the per-client
    budget (off, as everywhere here: it would stop the flood within a minute). Target (issue
    21): another client's /healthz and entity page p99 within 2× idle. No peer: Oxigraph
    server has no reconciliation service."""
    log(f"reconcile: one client floods /reconcile ({cfg.get('reconcile_flood', 3)} connections),"
        " another asks /healthz and an entity page")
    with start_server("isecg-kg", dist, work) as endpoint:
        out = measure_reconcile(endpoint.removesuffix("/sparql"),
                                flood=cfg.get("reconcile_flood", 3),
                                seconds=cfg.get("reconcile_seconds", 10.0))
    for what in ("healthz", "entity"):
        log(f"  {what}: p99 {out['idle'][what + '_p99_ms'] or 0:.1f} ms idle, "
            f"{out['flooded'][what + '_p99_ms'] or 0:.1f} ms flooded "
            f"(×{out[what + '_p99_ratio'] or 0:.2f}); flood answers {out['flood_statuses']}")
    return out
