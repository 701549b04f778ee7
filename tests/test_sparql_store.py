"""`isecg-kg load --into URL` against a real, writable Oxigraph server (Graph Store Protocol)."""

from __future__ import annotations

from collections import Counter

import httpx
import pyoxigraph as ox
import pytest
from conftest import run_cli
from isecg_kg.config import GRAPHS
from servers import free_port, oxigraph_store


@pytest.fixture()
def writable_oxigraph(tmp_path):
    with oxigraph_store(tmp_path / "db") as url:
        yield url


def graph_counts(url: str) -> dict[str, int]:
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    resp = httpx.get(url + "/query", params={"query": query},
                     headers={"Accept": "application/sparql-results+json"}, timeout=30)
    resp.raise_for_status()
    return {b["g"]["value"]: int(b["n"]["value"]) for b in resp.json()["results"]["bindings"]}


def test_load_pushes_the_three_named_graphs(dist, writable_oxigraph):
    expected = Counter(q.graph_name.value for q in ox.parse(path=str(dist / "isecg.nq"),
                                                             format=ox.RdfFormat.N_QUADS))
    assert set(expected) == set(GRAPHS)
    run_cli("load", "--into", writable_oxigraph + "/store", "--dist", str(dist), check=True)
    assert graph_counts(writable_oxigraph) == dict(expected)


def test_load_twice_replaces_rather_than_duplicates(dist, writable_oxigraph):
    for _ in range(2):
        run_cli("--quiet", "load", "--into", writable_oxigraph + "/store", "--dist", str(dist),
                check=True)
    assert sum(graph_counts(writable_oxigraph).values()) == sum(
        1 for _ in ox.parse(path=str(dist / "isecg.nq"), format=ox.RdfFormat.N_QUADS))


def test_load_into_a_read_only_endpoint_names_url_and_status(dist, writable_oxigraph):
    url = writable_oxigraph + "/query"  # not a Graph Store: PUT is refused
    proc = run_cli("load", "--into", url, "--dist", str(dist))
    assert proc.returncode == 2
    assert url in proc.stderr and "HTTP 4" in proc.stderr


def test_load_without_a_store_says_which_url(dist):
    url = f"http://127.0.0.1:{free_port()}/store"
    proc = run_cli("load", "--into", url, "--dist", str(dist))
    assert proc.returncode == 2
    assert url in proc.stderr and "cannot PUT" in proc.stderr


def test_load_without_a_build_says_how_to_fix(tmp_path):
    proc = run_cli("load", "--into", "http://127.0.0.1:9/store", "--dist", str(tmp_path))
    assert proc.returncode == 2
    assert "isecg.nq" in proc.stderr and "isecg-kg build" in proc.stderr


class BasicAuthGraphStore:
    """A Graph Store stand-in that takes PUTs only with HTTP Basic as user `isecg`, password
    `s3cret`, and answers 401 with a Basic challenge otherwise; it counts what it took."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler

        from servers import LoopbackHTTP

        self.taken, self.challenged = 0, 0
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                expected = "Basic " + __import__("base64").b64encode(b"isecg:s3cret").decode()
                if self.headers.get("Authorization") == expected:
                    store.taken += 1
                    self.send_response(201)
                else:
                    store.challenged += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="store"')
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.http = LoopbackHTTP(Handler, "/store")
        self.url = self.http.url


def test_load_sends_credentials_from_the_url_and_never_prints_them(dist):
    store = BasicAuthGraphStore()
    try:
        good = store.url.replace("http://", "http://isecg:s3cret@")
        proc = run_cli("load", "--into", good, "--dist", str(dist), check=True)
        assert store.taken == len(GRAPHS)
        assert store.url in proc.stderr and "s3cret" not in proc.stderr
        bad = store.url.replace("http://", "http://isecg:wrong-pass@")
        proc = run_cli("load", "--into", bad, "--dist", str(dist))
        assert proc.returncode == 2
        assert "HTTP 401" in proc.stderr and store.url in proc.stderr
        assert "wrong-pass" not in proc.stderr
    finally:
        store.http.close()
