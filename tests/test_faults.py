"""Faults (issue 7): a worker killed mid-query, a damaged or incomplete build at start-up, a build
that runs out of disk or permission, and SIGTERM while requests are in flight.

Policy for a damaged build (web/context.py, README "Limits and threat model"): the server checks
every file against SHA256SUMS at start-up. It refuses to start (exit 2, saying which file and
why) when SHA256SUMS is unusable or isecg.nq does not match, since every answer comes from it;
any other damaged or missing file is withheld (503 with the reason), the rest is served, and
/healthz says "degraded". Files SHA256SUMS does not list are never served.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, run_cli
from queries import CARTESIAN, ENGINE_PANIC
from servers import cpu_seconds, free_port, isecg_server, query_workers

MEMBERS = """PREFIX org: <http://www.w3.org/ns/org#>
SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?m org:member ?a }"""


def copy_of(dist: Path, tmp_path: Path) -> Path:
    """A copy of the build, dated an hour ahead so that `serve` never rebuilds it."""
    out = tmp_path / "dist"
    shutil.copytree(dist, out)
    future = time.time() + 3600
    for p in out.iterdir():
        os.utime(p, (future, future))
    return out


def damage(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    future = time.time() + 3600
    os.utime(path, (future, future))


def serve_cmd(dist: Path, port: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "isecg_kg", "serve", "--dist", str(dist), "--host",
            "127.0.0.1", "--port", str(port), *args]


# ---- a worker killed mid-query -------------------------------------------------------------------

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


def test_a_worker_the_engine_crashes_gives_503_and_the_next_query_succeeds(dist):
    """A Rust panic in pyoxigraph (sorting pairs of mixed literals: queries.ENGINE_PANIC) aborts
    the worker."""
    with isecg_server(dist, "--query-timeout", "60", "--workers", "2") as url:
        workers = query_workers(url.pid)
        r = httpx.get(url + "/sparql", params={"query": ENGINE_PANIC}, timeout=90)
        assert r.status_code == 503 and r.json()["title"] == "Query aborted"
        assert "engine crashed" in r.json()["detail"]
        ok = httpx.get(url + "/sparql", params={"query": MEMBERS}, timeout=10)
        assert ok.status_code == 200 and int(ok.json()["results"]["bindings"][0]["n"]["value"])
        deadline = time.monotonic() + 30  # the spare took over; a new spare loads meanwhile
        while len(query_workers(url.pid)) < len(workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(query_workers(url.pid)) == len(workers)


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


# ---- a damaged build at start-up -----------------------------------------------------------------

def start_fails(dist: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(serve_cmd(dist, free_port()), cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    assert "Traceback" not in proc.stderr
    return proc


def test_a_corrupted_nq_refuses_to_start(dist, tmp_path):
    d = copy_of(dist, tmp_path)
    nq = d / "isecg.nq"
    data = bytearray(nq.read_bytes())
    data[1000] ^= 0x20  # one flipped bit: still valid N-Quads, different data
    damage(nq, bytes(data))
    proc = start_fails(d)
    assert "isecg.nq" in proc.stderr and "SHA256SUMS" in proc.stderr
    assert "will not start" in proc.stderr


def test_a_truncated_nq_refuses_to_start(dist, tmp_path):
    d = copy_of(dist, tmp_path)
    nq = d / "isecg.nq"
    damage(nq, nq.read_bytes()[:5000])
    assert "isecg.nq" in start_fails(d).stderr


@pytest.mark.parametrize("sums", ["not a checksum line\n", "", "\xff\xfe",
                                  "0" * 64 + "  ../../etc/passwd\n" + "0" * 64 + "  isecg.nq\n"])
def test_a_malformed_sha256sums_refuses_to_start(dist, tmp_path, sums):
    d = copy_of(dist, tmp_path)
    damage(d / "SHA256SUMS", b"\xff\xfe" if sums == "\xff\xfe" else sums.encode())
    assert "SHA256SUMS" in start_fails(d).stderr


def test_damaged_and_missing_dumps_are_withheld_and_the_rest_served(dist, tmp_path):
    d = copy_of(dist, tmp_path)
    (d / "isecg.ttl.gz").unlink()
    rdf = d / "isecg.rdf"
    damage(rdf, rdf.read_bytes().replace(b"NASA", b"ASAN", 1))
    (d / "secret.txt").write_text("not part of the build")
    with isecg_server(d) as url:
        log = url.log.read_text()
        assert "isecg.rdf is withheld" in log and "isecg.ttl.gz is withheld" in log
        health = httpx.get(url + "/healthz").json()
        assert health["status"] == "degraded"
        assert set(health["withheld"]) == {"isecg.rdf", "isecg.ttl.gz"}
        for name, why in (("isecg.rdf", "does not match SHA256SUMS"),
                          ("isecg.ttl.gz", "missing")):
            r = httpx.get(url + f"/dumps/{name}")
            assert r.status_code == 503 and why in r.text and "/tmp" not in r.text
        assert httpx.get(url + "/dumps/secret.txt").status_code == 404
        ok = httpx.get(url + "/dumps/isecg.nt")
        assert ok.status_code == 200 and ok.content == (d / "isecg.nt").read_bytes()
        home = httpx.get(url + "/").text
        assert 'href="/dumps/isecg.nt"' in home and 'href="/dumps/isecg.rdf"' not in home
        r = httpx.get(url + "/sparql", params={"query": MEMBERS})
        assert r.status_code == 200


def test_a_damaged_void_is_withheld_but_pages_still_render(dist, tmp_path):
    d = copy_of(dist, tmp_path)
    damage(d / "void.ttl", b"this is not turtle {{{")
    with isecg_server(d) as url:
        assert httpx.get(url + "/void").status_code == 503
        assert httpx.get(url + "/.well-known/void").status_code == 503
        assert httpx.get(url + "/").status_code == 200
        assert httpx.get(url + "/id/agency/nasa.html").status_code == 200


def test_a_dump_changed_after_start_up_is_withheld(dist, tmp_path):
    d = copy_of(dist, tmp_path)
    with isecg_server(d) as url:
        assert httpx.get(url + "/dumps/isecg.nt").status_code == 200
        nt = d / "isecg.nt"
        damage(nt, nt.read_bytes() + b"<http://evil/s> <http://evil/p> <http://evil/o> .\n")
        r = httpx.get(url + "/dumps/isecg.nt")
        assert r.status_code == 503 and "changed after start-up" in r.text
        assert httpx.get(url + "/healthz").json()["status"] == "degraded"


def test_workers_refuse_an_nq_changed_after_start_up(dist, tmp_path):
    """A worker started after isecg.nq changed (a respawn) checks the bytes it loads: the
    server never answers from data other than the release it announced."""
    d = copy_of(dist, tmp_path)
    marker = "ASK { <http://evil/s> ?p ?o }"
    with isecg_server(d, "--workers", "2", "--query-timeout", "3") as url:
        nq = d / "isecg.nq"
        damage(nq, nq.read_bytes() + b"<http://evil/s> <http://evil/p> <http://evil/o> .\n")
        for _ in range(3):  # kill every worker (and the spare): respawns load the changed file
            for pid in query_workers(url.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            r = httpx.get(url + "/sparql", params={"query": marker}, timeout=30,
                          headers={"Accept": "application/sparql-results+json"})
            assert r.status_code == 503 or r.json()["boolean"] is False, (r.status_code, r.text)
            time.sleep(0.3)
        assert "SHA-256" in url.log.read_text()
        assert httpx.get(url + "/healthz").status_code == 200


# ---- the build: no space, no permission ----------------------------------------------------------

def _snapshot(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.iterdir()) if p.is_file()}


@contextlib.contextmanager
def small_tmpfs(directory: Path, size: str):
    directory.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                           str(directory)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()}); "
                    "test_a_file_size_limit_mid_build covers the same path")
    try:
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=False)


def test_disk_full_mid_build_is_a_clear_error_and_keeps_the_previous_output(dist, tmp_path):
    """A tmpfs of one and a half builds holds one build but not a second one beside it."""
    size = sum(f.stat().st_size for f in dist.rglob("*") if f.is_file())
    with small_tmpfs(tmp_path / "small", f"{size * 3 // 2 // 1024 + 64}k") as disk:
        out = disk / "dist"
        run_cli("-q", "build", "--out", str(out), check=True)
        before = _snapshot(out)
        (ROOT / "data").stat()  # the sources are untouched; the rebuild is forced by --out only
        proc = run_cli("build", "--out", str(out))
        assert proc.returncode == 2, proc.stderr[-500:]
        assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("isecg-kg build: ")
        assert _snapshot(out) == before
        assert sorted(p.name for p in disk.iterdir()) == ["dist"]  # no temporary left behind


def test_a_file_size_limit_mid_build_is_a_clear_error(dist, tmp_path):
    """Where no tmpfs can be mounted, RLIMIT_FSIZE makes the kernel refuse the same writes
    (EFBIG instead of ENOSPC): the build must fail the same clean way."""
    import resource

    out = copy_of(dist, tmp_path)
    before = _snapshot(out)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    proc = subprocess.run([sys.executable, "-m", "isecg_kg", "build", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          preexec_fn=limit, check=False)
    assert proc.returncode == 2, proc.stderr[-500:]
    assert "File too large" in proc.stderr and "Traceback" not in proc.stderr
    assert _snapshot(out) == before
    assert not list(tmp_path.glob(".dist.tmp-*"))


def test_a_read_only_output_directory_is_a_clear_error(dist, tmp_path):
    """Also covered with a read-only parent in test_pipeline.py; here the mount itself is
    read-only, which root cannot override. The mount is sized from the build (a fixed 4 MiB
    stopped holding it once the data grew), with room for each file's last page."""
    size = sum(f.stat().st_size + 4096 for f in dist.rglob("*") if f.is_file())
    with small_tmpfs(tmp_path / "ro", f"{size // 1024 + 64}k") as disk:
        shutil.copytree(dist, disk / "dist")
        before = _snapshot(disk / "dist")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        proc = run_cli("build", "--out", str(disk / "dist"))
        assert proc.returncode == 2 and "Read-only file system" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        assert _snapshot(disk / "dist") == before


# ---- SIGTERM -------------------------------------------------------------------------------------

def test_sigterm_lets_requests_in_flight_finish_then_exits_0(dist):
    # Two queries of about a second each (a product of 3,000 x 3,000 triples, whatever the
    # data's size) in flight when SIGTERM comes, under a limit no load outlasts.
    slow = ("SELECT (COUNT(*) AS ?n) WHERE { { SELECT ?a WHERE { ?a ?b ?c } LIMIT 3000 } "
            "{ SELECT ?d WHERE { ?d ?e ?f } LIMIT 3000 } }")
    with isecg_server(dist, "--query-timeout", "30", "--workers", "4") as url:
        probe = httpx.get(url + "/sparql", params={"query": slow + " # probe"}, timeout=60)
        assert probe.status_code == 200, probe.text[:300]
        workers = query_workers(url.pid)
        results = {}

        def in_flight(i):
            results[i] = httpx.get(url + "/sparql", params={"query": f"{slow} # {i}"},
                                   timeout=60)

        threads = [threading.Thread(target=in_flight, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30  # both in flight (polled), then the signal
        while httpx.get(url + "/healthz").json()["running"] < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        url.proc.send_signal(signal.SIGTERM)
        refused = False  # no new connections once it is stopping (polled until refused)
        while not refused and time.monotonic() < deadline:
            try:
                httpx.get(url + "/healthz", timeout=2)
            except httpx.TransportError:
                refused = True
            time.sleep(0.02)
        assert refused
        for t in threads:
            t.join(timeout=60)
        code = url.proc.wait(timeout=60)
    for r in results.values():
        assert r.status_code == 200, r.text[:300]
        assert int(json.loads(r.content)["results"]["bindings"][0]["n"]["value"]) > 0
    assert code == 0, url.log.read_text()[-1000:]
    deadline = time.monotonic() + 30  # the workers are gone (polled)
    while [w for w in workers if cpu_seconds(w) is not None] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if cpu_seconds(w) is not None]


# ---- files changing under a running server (issue 21) -------------------------------------------

def test_sha256sums_deleted_or_replaced_under_a_running_server_is_503(dist, tmp_path):
    d = copy_of(dist, tmp_path)
    sums = d / "SHA256SUMS"
    original = sums.read_bytes()
    with isecg_server(d) as url:
        r = httpx.get(url + "/dumps/SHA256SUMS")
        assert r.status_code == 200 and r.content == original
        sums.unlink()
        r = httpx.get(url + "/dumps/SHA256SUMS")
        assert r.status_code == 503 and "can no longer be read" in r.text, r.text
        damage(sums, original.replace(b"isecg.nt", b"isecg.xx", 1))  # served unchecked before
        r = httpx.get(url + "/dumps/SHA256SUMS")
        assert r.status_code == 503 and "changed after start-up" in r.text, r.text
        damage(sums, original)  # put back byte for byte: served again
        r = httpx.get(url + "/dumps/SHA256SUMS")
        assert r.status_code == 200 and r.content == original


def test_a_withheld_dump_restored_byte_identical_is_served_again(dist, tmp_path):
    d = copy_of(dist, tmp_path)
    nt = d / "isecg.nt"
    original = nt.read_bytes()
    with isecg_server(d) as url:
        damage(nt, original + b"<http://evil/s> <http://evil/p> <http://evil/o> .\n")
        assert httpx.get(url + "/dumps/isecg.nt").status_code == 503
        assert "isecg.nt" in httpx.get(url + "/healthz").json()["withheld"]
        damage(nt, original)
        r = httpx.get(url + "/dumps/isecg.nt")
        assert r.status_code == 200 and r.content == original
        assert httpx.get(url + "/healthz").json()["status"] == "ok"
        nt.unlink()  # and a file missing from the start is served once it is there
    (d / "isecg.nt").unlink(missing_ok=True)
    with isecg_server(d) as url:
        assert httpx.get(url + "/dumps/isecg.nt").status_code == 503
        damage(nt, original)
        assert httpx.get(url + "/dumps/isecg.nt").status_code == 200


def test_dumps_carry_their_sha256_as_etag_and_honour_if_none_match(dist, tmp_path):
    d = copy_of(dist, tmp_path)
    digest = hashlib.sha256((d / "isecg.nt").read_bytes()).hexdigest()
    with isecg_server(d) as url:
        r = httpx.get(url + "/dumps/isecg.nt")
        assert r.status_code == 200 and r.headers["etag"] == f'"{digest}"'
        r = httpx.get(url + "/dumps/isecg.nt", headers={"If-None-Match": f'W/"{digest}"'})
        assert r.status_code == 304 and not r.content
        r = httpx.get(url + "/dumps/isecg.ttl", headers={"If-None-Match": f'"{digest}"'})
        assert r.status_code == 200  # another file's tag
