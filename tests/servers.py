"""Real servers for tests: ours (`python -m isecg_kg serve`) and Oxigraph server as a reference.

Both are subprocesses bound to 127.0.0.1 on a free port, waited for with a bounded poll, and
stopped (terminate, then kill) when the `with` block ends.

    with isecg_server(dist, "--query-timeout", "2") as url:   # url = "http://127.0.0.1:PORT"
        httpx.get(url + "/sparql", params={"query": "ASK {}"})
    with oxigraph_server(dist / "isecg.nq", tmp_path) as url:  # SPARQL at url + "/query"
        ...
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(proc: subprocess.Popen, url: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server not ready at {url} after {timeout} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def isecg_server(dist: Path, *args: str, port: int | None = None, startup_timeout: float = 60,
                 env: dict | None = None):
    """Run `python -m isecg_kg serve --dist DIST --port P ARGS...`; yield its base URL."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"isecg-serve-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "isecg_kg", "--quiet", "serve", "--dist", str(dist),
             "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})})
    try:
        _wait(proc, url + "/healthz", startup_timeout, log)
        yield url
    finally:
        _stop(proc)


@contextlib.contextmanager
def oxigraph_server(nquads: Path, workdir: Path, *, port: int | None = None,
                    startup_timeout: float = 60, union_default_graph: bool = True):
    """Oxigraph server loaded with NQUADS, read-only; yield its base URL (SPARQL at /query).

    With ``union_default_graph`` the default graph is the union of the named graphs, as ours.
    """
    exe = shutil.which("oxigraph")
    if exe is None:
        raise RuntimeError("the oxigraph command is not installed (pip install oxigraph)")
    location = Path(workdir) / f"oxigraph-{os.getpid()}-{time.monotonic_ns()}"
    subprocess.run([exe, "load", "--location", str(location), "--file", str(nquads)],
                   check=True, capture_output=True, timeout=120)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = location.with_suffix(".log")
    cmd = [exe, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    if union_default_graph:
        cmd.append("--union-default-graph")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(proc, url + "/query?query=ASK%7B%7D", startup_timeout, log)
        yield url
    finally:
        _stop(proc)
