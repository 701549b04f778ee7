"""scripts/deploy/nginx.conf, run by Debian's nginx on loopback in front of two real
`isecg-kg serve` replicas: answers come through it, and requests still succeed after one
replica is killed (proxy_next_upstream)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from bench.endpoint import client_at
from isecg_kg.processes import running
from servers import ROOT, free_port, isecg_server

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SHIPPED = ROOT / "scripts" / "deploy" / "nginx.conf"

pytestmark = pytest.mark.skipif(
    not Path(NGINX).exists(), reason="nginx is not installed (Debian: apt-get install nginx)")

# Only what a test run on loopback needs around the shipped file: nginx's own files in a
# temporary directory, and an access log naming the replica(s) each request went to. The
# upstream, timeouts and retry rules are the shipped file's.
MAIN = """daemon off;
user root;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$request_method $status $upstream_addr';
    access_log {d}/access.log upstream;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/isecg.conf;
}}
"""


def shipped_on(ports: tuple[int, int], listen: int) -> str:
    """The shipped file with its replicas on PORTS and nginx listening on LISTEN (loopback)."""
    text = SHIPPED.read_text()
    for old, new in (("127.0.0.1:8001", f"127.0.0.1:{ports[0]}"),
                     ("127.0.0.1:8002", f"127.0.0.1:{ports[1]}"),
                     ("listen 80;", f"listen 127.0.0.1:{listen};")):
        assert text.count(old) == 1, f"{SHIPPED} no longer has {old!r} once"
        text = text.replace(old, new)
    return text


@contextlib.contextmanager
def nginx(workdir: Path, ports: tuple[int, int]):
    port = free_port()
    (workdir / "isecg.conf").write_text(shipped_on(ports, port))
    (workdir / "nginx.conf").write_text(MAIN.format(d=workdir))
    url = f"http://127.0.0.1:{port}"
    cmd = [NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-e",
           str(workdir / "error.log")]
    with running(cmd, url + "/healthz", workdir / "nginx.out", timeout=30):
        yield url


def test_the_shipped_config_is_valid_nginx(tmp_path):
    (tmp_path / "isecg.conf").write_text(shipped_on((8001, 8002), free_port()))
    (tmp_path / "nginx.conf").write_text(MAIN.format(d=tmp_path))
    proc = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                           "-e", str(tmp_path / "error.log")], capture_output=True, text=True,
                          timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "test is successful" in proc.stderr


def test_requests_survive_a_replica_being_killed(dist, tmp_path):
    queries = [f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} LIMIT {i}" for i in range(1, 13)]
    with isecg_server(dist) as first, isecg_server(dist) as second:
        ports = tuple(int(u.rsplit(":", 1)[1]) for u in (first, second))
        with nginx(tmp_path, ports) as proxy:
            direct = httpx.get(first + "/id/agency/nasa.ttl")
            through = httpx.get(proxy + "/id/agency/nasa.ttl")
            assert through.status_code == 200
            assert through.content == direct.content
            assert through.headers["etag"] == direct.headers["etag"]
            answers = {}
            for q in queries:  # hashed on the query: both replicas answer some of them
                resp = httpx.get(proxy + "/sparql", params={"query": q},
                                 headers={"Accept": "text/csv"})
                assert resp.status_code == 200, resp.text
                answers[q] = resp.text
            access = tmp_path / "access.log"
            before = access.read_text().splitlines()
            assert {line.split()[-1] for line in before} == {f"127.0.0.1:{p}" for p in ports}

            first.proc.kill()  # one replica dies, with keep-alive connections to it open
            first.proc.wait(timeout=10)
            for q in queries:
                resp = httpx.get(proxy + "/sparql", params={"query": q},
                                 headers={"Accept": "text/csv"})
                assert resp.status_code == 200, resp.text
                assert resp.text == answers[q]
            resp = httpx.post(proxy + "/sparql", data={"query": queries[0]},
                              headers={"Accept": "text/csv"})
            assert (resp.status_code, resp.text) == (200, answers[queries[0]])
            assert second.proc.poll() is None
            after = access.read_text().splitlines()[len(before):]
    # a request meant for the dead replica was passed on to the live one ("A, B")
    assert f"127.0.0.1:{ports[0]}, 127.0.0.1:{ports[1]}" in "\n".join(after)
    assert all(line.split()[1] == "200" for line in after)


def test_replicas_charge_query_time_to_the_client_nginx_names(dist, tmp_path):
    """Behind the shipped config with --trust-proxy, a client that writes its own
    X-Forwarded-For is still charged as itself (nginx replaces the header), and another client
    (127.0.0.2: another loopback address) keeps its own budget."""
    budget = ("--trust-proxy", "127.0.0.1", "--client-budget", "0.2", "--budget-window", "600")
    heavy = ("SELECT (COUNT(*) AS ?n) {{ ?a ?b ?c . ?d ?e ?f "
             "FILTER(isLiteral(?c) && isLiteral(?f)) }} # {}")
    with isecg_server(dist, *budget) as first, isecg_server(dist, *budget) as second:
        ports = tuple(int(u.rsplit(":", 1)[1]) for u in (first, second))
        with nginx(tmp_path, ports) as proxy, \
                httpx.Client(timeout=30) as greedy, client_at("127.0.0.2") as other:
            codes = [greedy.get(proxy + "/sparql", params={"query": heavy.format(i)},
                                headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
                     for i in range(60)]
            assert 429 in codes and set(codes) <= {200, 429}, codes
            # both replicas have charged it past its budget by now, whichever this goes to
            refused = greedy.get(proxy + "/sparql", params={"query": heavy.format(0) + "x"})
            assert refused.status_code == 429
            assert "127.0.0.1 has used its query time" in refused.json()["detail"]
            assert other.get(proxy + "/sparql",
                             params={"query": heavy.format("o")}).status_code == 200
