"""No outbound access (issue 7): nothing a client sends makes the server, the CLI or the build
reach the network or the file system, and untrusted answers are parsed defensively.

Canaries: a loopback listener on 127.0.0.1 and ::1 (one port) counts every connection, and a
named pipe (FIFO) notices anyone opening it, which no path check or file read could hide. The
endpoint tests extend tests/test_sparql_endpoint.py (plain SERVICE / FROM / LOAD) with the
spellings that fool naive checks: userinfo, IPv6, decimal and octal hosts, BASE-relative and
prefixed IRIs, escapes, comments, nesting.
"""

from __future__ import annotations

import http.server
import json
import os
import stat
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import ROOT, run_cli
from servers import LoopbackHTTP, isecg_server, leaks, raw_request


class FileCanary:
    """A FIFO that records whether anything opened it for reading (polled by a writer)."""

    def __init__(self, directory: Path):
        self.path = directory / "canary.fifo"
        os.mkfifo(self.path)
        self.opened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: no reader
                time.sleep(0.005)
                continue
            self.opened += 1
            os.close(fd)
            time.sleep(0.05)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)


@pytest.fixture(scope="module")
def fifo(tmp_path_factory):
    f = FileCanary(tmp_path_factory.mktemp("fifo"))
    assert stat.S_ISFIFO(os.stat(f.path).st_mode)
    yield f
    f.close()


@pytest.fixture(scope="module")
def server(dist, canary, fifo):
    with isecg_server(dist, "--query-timeout", "2", "--workers", "2") as url:
        yield url
    assert canary.settled() == 0 and fifo.opened == 0


def refused(server, params: dict) -> dict:
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    status, head, body = raw_request(server, "GET", "/sparql?" + query)
    echoed = b"".join(body.split(b"file:///tmp/"))  # the refusal names the client's own IRI
    assert not leaks(echoed), body
    assert status == 403, (params, status, body[:300])
    assert head["content-type"] == "application/problem+json"
    return json.loads(body)


# ---- SERVICE -------------------------------------------------------------------------------------

def service_spellings(port: int, fifo: Path) -> dict[str, str]:
    c = f"127.0.0.1:{port}"
    body = "{ ?s ?p ?o }"
    return {
        "plain": f"SELECT * {{ SERVICE <http://{c}/sparql> {body} }}",
        "silent": f"SELECT * {{ SERVICE SILENT <http://{c}/sparql> {body} }}",
        "lowercase": f"select * {{ service silent <http://{c}/sparql> {body} }}",
        "userinfo": f"SELECT * {{ SERVICE <http://user:pw@{c}/sparql> {body} }}",
        "wikidata-userinfo": f"SELECT * {{ SERVICE <https://query.wikidata.org@{c}/sparql> "
                             f"{body} }}",
        "wikidata-as-user": f"SELECT * {{ SERVICE <http://query.wikidata.org:x@{c}/sparql> "
                            f"{body} }}",
        "ipv6": f"SELECT * {{ SERVICE <http://[::1]:{port}/sparql> {body} }}",
        "ipv4-mapped-ipv6": f"SELECT * {{ SERVICE <http://[::ffff:127.0.0.1]:{port}/> {body} }}",
        "decimal": f"SELECT * {{ SERVICE <http://2130706433:{port}/sparql> {body} }}",
        "hex": f"SELECT * {{ SERVICE <http://0x7f000001:{port}/sparql> {body} }}",
        "octal": f"SELECT * {{ SERVICE <http://0177.0.0.1:{port}/sparql> {body} }}",
        "short": f"SELECT * {{ SERVICE <http://127.1:{port}/sparql> {body} }}",
        "localhost": f"SELECT * {{ SERVICE <http://localhost:{port}/sparql> {body} }}",
        "trailing-dot": f"SELECT * {{ SERVICE <http://localhost.:{port}/sparql> {body} }}",
        "base-relative": f"BASE <http://{c}/> SELECT * {{ SERVICE <sparql> {body} }}",
        "base-dot": f"BASE <http://{c}/a/> SELECT * {{ SERVICE <../sparql> {body} }}",
        "prefixed": f"PREFIX e: <http://{c}/> SELECT * {{ SERVICE e:sparql {body} }}",
        "prefixed-empty": f"PREFIX : <http://{c}/sparql> SELECT * {{ SERVICE : {body} }}",
        "escaped-iri": f"SELECT * {{ SERVICE <\\u0068ttp://{c}/sparql> {body} }}",
        "comment-between": f"SELECT * {{ SERVICE #x\n <http://{c}/sparql> {body} }}",
        "newlines": f"SELECT * {{ SERVICE\n\n\tSILENT\n<http://{c}/sparql> {body} }}",
        "in-subquery": f"SELECT * {{ {{ SELECT * {{ SERVICE <http://{c}/> {body} }} }} }}",
        "in-exists": f"ASK {{ FILTER EXISTS {{ SERVICE <http://{c}/> {body} }} }}",
        "in-optional": f"SELECT * {{ ?s ?p ?o OPTIONAL {{ SERVICE <http://{c}/> {body} }} }} "
                       "LIMIT 1",
        "in-construct": f"CONSTRUCT {{ ?s ?p ?o }} {{ SERVICE <http://{c}/> {body} }}",
        "variable": f"SELECT * {{ VALUES ?e {{ <http://{c}/> }} SERVICE ?e {body} }}",
        "https": f"SELECT * {{ SERVICE <https://{c}/sparql> {body} }}",
        "file": f"SELECT * {{ SERVICE <file://{fifo}> {body} }}",
        "file-relative": f"BASE <file:///> SELECT * {{ SERVICE <{str(fifo).lstrip('/')}> {body} }}",
        "gopher": f"SELECT * {{ SERVICE <gopher://{c}/> {body} }}",
        "after-string": f'SELECT * {{ BIND("}}" AS ?x) SERVICE <http://{c}/> {body} }}',
        "after-iri-with-hash": f"SELECT * {{ <http://a/#SERVICE> ?p ?o "
                               f"SERVICE <http://{c}/> {body} }}",
        "update-service": f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <http://{c}/> {body} }}",
    }


def test_service_never_calls_out(server, canary, fifo):
    cases = service_spellings(canary.port, fifo.path)
    for name, query in cases.items():
        for params in ({"query": query}, {"query": query, "format": "xml"}):
            refused(server, params)
        status, _, _ = raw_request(server, "POST", "/sparql",
                                   {"Content-Type": "application/sparql-query"}, query.encode())
        assert status == 403, name
    assert canary.settled() == 0 and fifo.opened == 0, (canary.count, fifo.opened)


# ---- FROM, FROM NAMED, LOAD and the protocol's dataset parameters --------------------------------

def test_datasets_are_never_fetched_or_read(server, canary, fifo):
    c = f"http://127.0.0.1:{canary.port}"
    f = f"file://{fifo.path}"
    queries = [
        f"SELECT * FROM <{c}/g> {{ ?s ?p ?o }}", f"SELECT * FROM NAMED <{c}/g> {{ GRAPH ?g {{}} }}",
        f"SELECT * FROM <{f}> {{ ?s ?p ?o }}", f"SELECT * FROM NAMED <{f}> {{ GRAPH ?g {{}} }}",
        "SELECT * FROM <file:///etc/passwd> { ?s ?p ?o }",
        f"BASE <{c}/> SELECT * FROM <g> {{ ?s ?p ?o }}",
        f"PREFIX x: <{c}/> SELECT * FROM x:g {{ ?s ?p ?o }}",
        f"SELECT * FROM <http://[::1]:{canary.port}/g> {{ ?s ?p ?o }}",
        f"SELECT * FROM <http://u@127.0.0.1:{canary.port}/g> {{ ?s ?p ?o }}",
        f"DESCRIBE <{c}/x> FROM <{c}/g>", f"ASK FROM <{f}> {{}}",
        f"LOAD <{c}/data.ttl>", f"LOAD <{f}> INTO GRAPH <http://x/>", f"LOAD SILENT <{f}>",
    ]
    for q in queries:
        refused(server, {"query": q})
    for key in ("default-graph-uri", "named-graph-uri"):
        for g in (f"{c}/g", f, "file:///etc/passwd", f"http://[::1]:{canary.port}/",
                  f"http://2130706433:{canary.port}/", "relative/graph"):
            refused(server, {"query": "ASK {}", key: g})
    for key in ("using-graph-uri", "using-named-graph-uri", "update"):
        refused(server, {"query": "ASK {}", key: f"{c}/g"})
    assert canary.settled() == 0 and fifo.opened == 0


# ---- JSON-LD we serve names no remote context --------------------------------------------------

def _pyld_offline(calls: list):
    def loader(url, options=None):
        calls.append(url)
        raise RuntimeError(f"remote document {url} refused in this test")

    return loader


@pytest.mark.parametrize("path,accept", [
    ("/id/agency/nasa.jsonld", None), ("/ontology.jsonld", None), ("/void.jsonld", None),
    ("/dumps/isecg.jsonld", None), ("/dumps/context.jsonld", None),
    ("/sparql?query=" + quote("DESCRIBE <https://w3id.org/isecg/id/agency/esa>"),
     "application/ld+json"),
    ("/sparql", "application/ld+json"),
])
def test_served_json_ld_expands_offline(server, path, accept):
    from pyld import jsonld

    status, _, body = raw_request(server, "GET", path, {"Accept": accept} if accept else {})
    assert status == 200
    doc = json.loads(body)
    calls: list = []
    expanded = jsonld.expand(doc, {"documentLoader": _pyld_offline(calls)})
    assert calls == []
    if "context.jsonld" not in path:
        assert expanded


def test_json_ld_in_pages_expands_offline(server):
    import re

    from pyld import jsonld

    for path in ("/", "/id/agency/nasa.html", "/id/country/united-states.html"):
        html = raw_request(server, "GET", path)[2].decode()
        blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html,
                            re.DOTALL)
        assert blocks, path
        for block in blocks:
            calls: list = []
            assert jsonld.expand(json.loads(block), {"documentLoader": _pyld_offline(calls)})
            assert calls == []


# ---- answers from a remote endpoint are untrusted (`isecg-kg query --endpoint`) ------------------

LAUGHS = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
HOSTILE_ANSWERS = {
    "billion-laughs-rdfxml": ("application/rdf+xml", f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [{LAUGHS}]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
<rdf:Description rdf:about="http://e/s"><e:p>&l9;</e:p></rdf:Description></rdf:RDF>"""),
    "billion-laughs-results": ("application/sparql-results+xml", f"""<?xml version="1.0"?>
<!DOCTYPE sparql [{LAUGHS}]>
<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="x"/></head>
<results><result><binding name="x"><literal>&l9;</literal></binding></result></results></sparql>"""),  # noqa: E501 (XML kept as is)
    "external-entity-file": ("application/rdf+xml", """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "file://FIFO">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
<rdf:Description rdf:about="http://e/s"><e:p>&x;</e:p></rdf:Description></rdf:RDF>"""),
    "external-entity-http": ("application/rdf+xml", """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF SYSTEM "http://CANARY/dtd">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>"""),
    "jsonld-remote-context": ("application/ld+json",
                              '{"@context": "http://CANARY/ctx", "@id": "http://e/s", "n": "x"}'),
    "jsonld-import": ("application/ld+json",
                      '{"@context": {"@import": "http://CANARY/c"}, "@id": "http://e/s"}'),
    "jsonld-nested-context": ("application/ld+json", ('{"@context": {"@vocab": "http://e/"}, '
                              '"@id": "http://e/s", "p": {"@context": "http://CANARY/c"}}')),
    "turtle-deep": ("text/turtle", "<http://e/s> <http://e/p> " + "[ <http://e/p> " * 20000
                    + "1" + " ]" * 20000 + " ."),  # legal: parsed (on a big stack), exit 0
    "not-what-it-says": ("application/sparql-results+json", "<html>oops</html>"),
    "html": ("text/html", "<html><script>alert(1)</script></html>"),
}


class HostileEndpoint:
    """A loopback HTTP server answering every POST with one fixed body."""

    def __init__(self):
        outer = self
        self.media, self.body, self.drip = "text/plain", b"", False

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", outer.media)
                if outer.drip:
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    for _ in range(1000):
                        try:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.5)
                    return
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

        self.http = LoopbackHTTP(Handler, "/sparql")
        self.url = self.http.url

    def close(self):
        self.http.close()


@pytest.fixture(scope="module")
def endpoint():
    e = HostileEndpoint()
    yield e
    e.close()


def hostile(endpoint, canary, fifo, name: str) -> None:
    """The endpoint answers with the hostile body NAME, naming the canaries."""
    media, body = HOSTILE_ANSWERS[name]
    endpoint.media = media
    endpoint.body = (body.replace("CANARY", f"127.0.0.1:{canary.port}")
                     .replace("FIFO", str(fifo.path)).encode())


@pytest.mark.parametrize("name", HOSTILE_ANSWERS)
def test_hostile_remote_answers_are_refused(endpoint, canary, fifo, name):
    """Refused, not expanded or fetched: a billion laughs would not end within run_cli's
    60 s, and an entity or a context fetched would reach a canary."""
    hostile(endpoint, canary, fifo, name)
    form = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }" if "results" not in name else \
        "SELECT ?x WHERE { ?x ?p ?o }"
    proc = run_cli("query", "--endpoint", endpoint.url, "--timeout", "5", form, timeout=60)
    if name == "turtle-deep":
        assert proc.returncode == 0 and proc.stdout.count("\n") == 20001
        return
    assert proc.returncode == 2, (name, proc.returncode, proc.stdout[:300], proc.stderr[-500:])
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("isecg-kg query: ")
    if "laughs" in name or "entity" in name:
        assert "DTD" in proc.stderr
    assert canary.settled() == 0 and fifo.opened == 0


def test_a_remote_endpoint_that_drips_is_cut_at_the_timeout(endpoint):
    endpoint.media, endpoint.drip = "application/sparql-results+json", True
    try:
        t0 = time.monotonic()
        proc = run_cli("query", "--endpoint", endpoint.url, "--timeout", "2", "ASK {}",
                       timeout=60)
        seconds = time.monotonic() - t0
    finally:
        endpoint.drip = False
    assert proc.returncode == 2 and "within 2 s" in proc.stderr, proc.stderr[-300:]
    assert seconds < 30  # the deadline under test; the drip would take 500 s


def test_a_remote_answer_over_the_size_limit_is_refused(endpoint, monkeypatch):
    from isecg_kg.errors import RemoteError
    from isecg_kg.sparql import http
    from isecg_kg.sparql.command import run_remote
    from isecg_kg.sparql.guard import check_query

    monkeypatch.setattr(http, "MAX_REMOTE_BYTES", 1 << 20)
    endpoint.media, endpoint.body = "text/turtle", b"# " + b"x" * (2 << 20) + b"\n"
    with pytest.raises(RemoteError, match="more than 1 MiB"):
        run_remote(endpoint.url, check_query("CONSTRUCT WHERE { ?s ?p ?o }"), timeout=10)


# ---- the build reads Turtle only, and follows no link in it --------------------------------------

def _sources(tmp_path: Path) -> Path:
    import shutil

    src = tmp_path / "src"
    for d in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / d, src / d)
    return src


def test_build_fetches_nothing_its_sources_point_at(tmp_path, canary, fifo):
    """owl:imports, sh:shapesGraph, rdfs:seeAlso and prefixes naming the canaries are data."""
    c = f"http://127.0.0.1:{canary.port}"
    src = _sources(tmp_path)
    (src / "data" / "zz-links.ttl").write_text(f"""
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix c: <{c}/> .
<https://w3id.org/isecg/ontology> owl:imports <{c}/onto.ttl> , <file://{fifo.path}> .
<https://w3id.org/isecg/ontology> sh:shapesGraph <{c}/shapes.ttl> ;
    rdfs:seeAlso <file://{fifo.path}> , c:more .
""")
    proc = run_cli("-q", "build", "--source", str(src), "--out", str(tmp_path / "out"))
    assert proc.returncode in (0, 1), proc.stderr[-500:]
    assert "Traceback" not in proc.stderr
    assert canary.settled() == 0 and fifo.opened == 0


def test_build_given_billion_laughs_fails_at_once_with_file_and_line(tmp_path, fifo):
    src = _sources(tmp_path)
    (src / "data" / "zz-laughs.ttl").write_text(HOSTILE_ANSWERS["billion-laughs-rdfxml"][1])
    (src / "data" / "zz-xxe.rdf").write_text(  # not a .ttl: never read at all
        HOSTILE_ANSWERS["external-entity-file"][1].replace("FIFO", str(fifo.path)))
    proc = run_cli("-q", "build", "--source", str(src), "--out", str(tmp_path / "out"),
                   timeout=60)  # expanded, the laughs would not end within it
    assert proc.returncode == 2 and "data/zz-laughs.ttl:1:" in proc.stderr, proc.stderr[-300:]
    assert not (tmp_path / "out").exists()
    assert fifo.opened == 0


# Every command that reads an answer from outside (besides `query --endpoint`, above): Wikidata's
# for `link`, an external store's for `serve --store`. None may hand it to a parser that expands
# entities, reads a DTD or fetches a context: each is given every hostile XML and JSON-LD answer.
READERS = {
    "link check": ["link", "check", "--endpoint", "{url}", "--timeout", "5"],
    "link quickstatements": ["link", "quickstatements", "--isecg-qid", "Q1", "--endpoint",
                             "{url}", "--timeout", "5"],
    "serve --store": ["serve", "--store", "{url}", "--dist", "{dist}", "--port", "{port}"],
}


@pytest.mark.parametrize("name", [n for n in HOSTILE_ANSWERS
                                  if HOSTILE_ANSWERS[n][0].endswith(("xml", "json"))])
@pytest.mark.parametrize("reader", READERS)
def test_no_command_that_reads_outside_answers_expands_or_fetches_them(endpoint, canary, fifo,
                                                                        dist, reader, name):
    from servers import free_port

    hostile(endpoint, canary, fifo, name)
    args = [a.format(url=endpoint.url, dist=dist, port=free_port()) for a in READERS[reader]]
    proc = run_cli(*args, timeout=60)  # expanding the laughs would not end within it
    assert proc.returncode == 2, (reader, name, proc.returncode, proc.stderr[-500:])
    assert "Traceback" not in proc.stderr, proc.stderr[-800:]
    assert canary.settled() == 0 and fifo.opened == 0
