"""Servers run as child processes on 127.0.0.1, for the benchmark and the tests.

``running(cmd, ready_url, log)`` starts a command with its output in a log file, waits (bounded)
until ``ready_url`` answers below 500, yields the process, and stops it on exit: terminate, then
kill (children.stop). ``oxigraph_command`` gives the command line of an Oxigraph server, loading a
dump first for a read-only one. ``tree_cpu_seconds`` reads from /proc the CPU time a process and
its descendants have used (the benchmark's cost per request).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from isecg_kg import children
from isecg_kg.errors import RemoteError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(proc: subprocess.Popen, url: str, timeout: float, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RemoteError(f"{proc.args[0]} exited with {proc.returncode} before answering "
                              f"{url}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RemoteError(f"{proc.args[0]} not answering {url} after {timeout:g} s:\n"
                      f"{log.read_text(errors='replace')[-3000:]}")


@contextlib.contextmanager
def running(cmd: list[str], ready_url: str, log: Path, *, timeout: float = 60, append: bool = False,
            **popen) -> Iterator[subprocess.Popen]:
    with open(log, "ab" if append else "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        wait_ready(proc, ready_url, timeout, log)
        yield proc
    finally:
        children.stop(proc, grace=10)


def oxigraph_command(location: Path, port: int, *, load: Path | None = None,
                     union_default_graph: bool = False, timeout_s: float | None = None
                     ) -> list[str]:
    """`oxigraph serve` on LOCATION; with `load`, that dump is loaded first and the server is
    read-only. Its SPARQL endpoint is /query (ready when /query?query=ASK{} answers)."""
    # on PATH, or beside this Python (a virtualenv's bin/, run without activating it)
    exe = shutil.which("oxigraph") or shutil.which("oxigraph",
                                                   path=str(Path(sys.executable).parent))
    if exe is None:
        raise RemoteError("the oxigraph command is not installed (pip install oxigraph)")
    cmd = [exe, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    if load is not None:
        subprocess.run([exe, "load", "--location", str(location), "--file", str(load)],
                       check=True, capture_output=True, timeout=600)
        cmd[1] = "serve-read-only"
    if union_default_graph:
        cmd.append("--union-default-graph")
    if timeout_s is not None:
        cmd += ["--timeout-s", f"{timeout_s:g}"]
    return cmd


OXIGRAPH_READY = "/query?query=ASK%7B%7D"


def _stats() -> dict[int, list[str]]:
    """Every process's /proc/PID/stat fields from the third (state) on."""
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    raw = f.read()
            except OSError:
                continue
            out[int(entry.name)] = raw[raw.rindex(")") + 2:].split()  # comm may hold spaces
    return out


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by PID and all its descendants, those they have
    reaped included (cutime, cstime): a query worker killed and replaced still counts."""
    stats = _stats()
    kids: dict[int, list[int]] = {}
    for p, st in stats.items():
        kids.setdefault(int(st[1]), []).append(p)
    ticks, todo = 0, [pid]
    while todo:
        p = todo.pop()
        if p in stats:
            ticks += sum(int(x) for x in stats[p][11:15])  # utime stime cutime cstime
        todo += kids.get(p, [])
    return ticks / os.sysconf("SC_CLK_TCK")
