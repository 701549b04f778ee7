"""Servers run as child processes (processes.py): a free port, a bounded wait that says why a
server never answered, an Oxigraph command line, and the CPU a process tree has used."""

from __future__ import annotations

import socket
import sys

import pytest
from isecg_kg.errors import RemoteError
from isecg_kg.processes import free_port, oxigraph_command, running, tree_cpu_seconds


def test_a_free_port_can_be_bound():
    with socket.socket() as s:
        s.bind(("127.0.0.1", free_port()))


def test_a_server_that_exits_before_answering_is_told_with_its_log(tmp_path):
    cmd = [sys.executable, "-c", "import sys; print('cannot start: no build'); sys.exit(3)"]
    with pytest.raises(RemoteError, match="(?s)exited with 3.*cannot start: no build"), \
            running(cmd, f"http://127.0.0.1:{free_port()}/", tmp_path / "log", timeout=30):
        pass


def test_a_read_only_oxigraph_serves_the_dump_it_loaded_first(tmp_path):
    import shutil

    import httpx

    if shutil.which("oxigraph") is None:
        pytest.skip("the oxigraph server command is not installed (pip install oxigraph)")
    dump = tmp_path / "x.nq"
    dump.write_text("<http://e/s> <http://e/p> <http://e/o> <http://e/g> .\n")
    port = free_port()
    cmd = oxigraph_command(tmp_path / "db", port, load=dump, union_default_graph=True)
    assert cmd[1] == "serve-read-only"
    url = f"http://127.0.0.1:{port}"
    with running(cmd, url + "/query?query=ASK%7B%7D", tmp_path / "log", timeout=60):
        r = httpx.get(url + "/query", params={"query": "ASK { <http://e/s> ?p ?o }"},
                      headers={"Accept": "application/sparql-results+json"})
    assert r.json()["boolean"] is True  # loaded, and the union is the default graph


def test_the_cpu_of_a_process_tree_keeps_what_a_reaped_grandchild_spent():
    """A child starts a grandchild that spins for 0.3 s of CPU; the child sleeps. The tree's
    CPU holds the grandchild's spin once the child has reaped it (cutime)."""
    import subprocess

    spin = "import time\nt=time.process_time()\nwhile time.process_time()-t<0.3: pass"
    child = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', {spin!r}])\n"
        "print('reaped', flush=True)\ntime.sleep(30)")], stdout=subprocess.PIPE, text=True)
    try:
        before = tree_cpu_seconds(child.pid)
        assert child.stdout.readline() == "reaped\n"
        assert tree_cpu_seconds(child.pid) - before >= 0.25
    finally:
        child.kill()
        child.wait()
