"""Linked-data routes over a real HTTP server: conneg matrix, crawl, dumps, VoID, page headers.

Expected answers come from the source documents (shared/sources): NASA is in the United States of
America, ESA belongs to Europe, 14 members are listed about 2010 and 2011 and 27 in 2022.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from sites import ARTIFACTS, BASE, OX_PARSE, ROOT, serve_linked_data

RDF_TYPES = {"text/turtle": "ttl", "application/ld+json": "jsonld",
             "application/n-triples": "nt", "application/rdf+xml": "rdf"}
THINGS = ["/id/agency/nasa", "/id/country/united-states", "/id/document/exploring-together",
          "/ontology"]
@pytest.fixture(scope="module")
def server(ld_dist, tmp_path_factory):
    with serve_linked_data(ld_dist, tmp_path_factory.mktemp("ld-server")) as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server, timeout=30) as c:
        yield c


def about(body: bytes, suffix: str, iri: str) -> int:
    """Number of triples in an RDF document whose subject is the IRI."""
    node = ox.NamedNode(iri)
    return sum(1 for t in ox.parse(body, format=OX_PARSE[suffix]) if t.subject == node)


# --- content negotiation --------------------------------------------------------------------------

ACCEPT_CASES = [
    ("text/html", "html"),
    ("text/turtle", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdf"),
    ("*/*", "html"),
    (None, "html"),
    ("text/turtle;q=0.5, application/ld+json;q=0.9, text/html;q=0.1", "jsonld"),
    ("application/rdf+xml;q=0.3, text/html;q=0.2, */*;q=0.1", "rdf"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8", "html"),
    ("application/n-triples, text/turtle;q=0", "nt"),
    ("image/png", None),
    ("garbage", None),
    ("text/turtle;q=0", None),
    (";;;,,q=x/y", None),
]


@pytest.mark.parametrize("thing", THINGS)
@pytest.mark.parametrize("accept,suffix", ACCEPT_CASES)
def test_conneg_matrix(client, thing, accept, suffix):
    headers = {"Accept": accept} if accept is not None else {}
    r = client.get(thing, headers=headers)
    assert "Accept" in r.headers.get("vary", ""), "every negotiated response varies on Accept"
    if suffix is None:
        assert r.status_code == 406
        assert "text/turtle" in r.text  # says what is offered
        return
    assert r.status_code == 303
    assert r.headers["location"] == f"{thing}.{suffix}"
    doc = client.get(r.headers["location"])
    assert doc.status_code == 200
    media = doc.headers["content-type"].split(";")[0]
    if suffix == "html":
        assert media == "text/html"
        assert "<h1" in doc.text or "<title>" in doc.text
    else:
        assert RDF_TYPES[media] == suffix
        assert about(doc.content, suffix, BASE + thing.lstrip("/")) > 0


@pytest.mark.parametrize("thing", THINGS)
def test_head_equals_get(client, thing):
    for path in (thing, thing + ".ttl", thing + ".html"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code
        assert head.content == b""
        for h in ("content-type", "content-length", "location", "vary"):
            assert head.headers.get(h) == get.headers.get(h), (path, h)


def test_format_parameter_overrides_accept(client):
    r = client.get("/id/agency/nasa?format=ttl", headers={"Accept": "text/html"})
    assert r.status_code == 303 and r.headers["location"] == "/id/agency/nasa.ttl"
    assert "Accept" in r.headers["vary"]
    r = client.get("/ontology?format=jsonld")
    assert r.headers["location"] == "/ontology.jsonld"
    r = client.get("/id/agency/nasa?format=pdf")
    assert r.status_code == 406 and "Accept" in r.headers["vary"]


@pytest.mark.parametrize("accept", ["text/html", "text/turtle", None])
def test_unknown_iri_is_404_in_html_and_rdf(client, accept):
    headers = {"Accept": accept} if accept else {}
    r = client.get("/id/agency/no-such-agency", headers=headers)
    assert r.status_code == 404 and "Accept" in r.headers["vary"]
    if accept == "text/turtle":
        assert r.headers["content-type"].startswith("text/plain")
    else:
        assert r.headers["content-type"].startswith("text/html")
    for suffix in ("html", "ttl", "jsonld", "nt", "rdf"):
        assert client.get(f"/id/agency/no-such-agency.{suffix}").status_code == 404
    assert client.get("/id/no-such-kind/nasa").status_code == 404


def test_entity_documents_say_what_the_sources_say(client):
    nasa = ox.NamedNode(BASE + "id/agency/nasa")
    triples = [q.triple for q in ox.parse(client.get("/id/agency/nasa.ttl").content,
                                          format=ox.RdfFormat.TURTLE)]
    country = ox.NamedNode("https://w3id.org/isecg/ontology#country")
    usa = ox.NamedNode(BASE + "id/country/united-states")
    assert ox.Triple(nasa, country, usa) in triples
    assert any(t.subject == usa and t.object.value == "United States of America"
               for t in triples)
    esa = client.get("/id/agency/esa.nt").text
    assert f"<{BASE}id/agency/esa> <https://w3id.org/isecg/ontology#region> " \
           f"<{BASE}id/region/europe>" in esa
    assert f"<{BASE}id/agency/esa> <https://w3id.org/isecg/ontology#country>" not in esa


# --- crawl ----------------------------------------------------------------------------------------

def test_crawl_every_iri_under_the_base_dereferences(client, ld_dist):
    """Every IRI below the base in the N-Triples dump dereferences (303 then 200), and the Turtle
    it returns has triples about it (the ontology's version IRI: mentions it)."""
    iris = set()
    prior = "http://www.w3.org/2002/07/owl#priorVersion"
    for t in ox.parse(path=str(ld_dist / "isecg.nt"), format=ox.RdfFormat.N_TRIPLES):
        # the ontology's prior version is kept with its release (/release/0.1.0/), not here
        for term in (t.subject, t.predicate) + (() if t.predicate.value == prior else (t.object,)):
            if isinstance(term, ox.NamedNode) and term.value.startswith(BASE):
                iris.add(term.value.split("#")[0])
    assert len(iris) > 100
    failures = []
    for iri in sorted(iris):
        path = "/" + iri[len(BASE):]
        r = client.get(path, headers={"Accept": "text/turtle"})
        if r.status_code != 303:
            failures.append(f"{iri}: {r.status_code}")
            continue
        doc = client.get(r.headers["location"])
        node = ox.NamedNode(iri)
        triples = list(ox.parse(doc.content, format=ox.RdfFormat.TURTLE))
        if not any(t.subject == node or t.object == node for t in triples):
            failures.append(f"{iri}: no triples about it")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "crawl.txt").write_text(
        f"dereferenced {len(iris) - len(failures)} of {len(iris)} IRIs under {BASE}\n"
        + "".join(f + "\n" for f in failures))
    print(f"\ncrawl: dereferenced {len(iris) - len(failures)} of {len(iris)} IRIs")
    assert not failures, "\n".join(failures[:20])


# --- dumps and VoID -------------------------------------------------------------------------------

def void_distributions(dist: Path) -> list[dict]:
    s = ox.Store()
    s.load(path=str(dist / "void.ttl"), format=ox.RdfFormat.TURTLE)
    q = """PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX spdx: <http://spdx.org/rdf/terms#>
    SELECT ?url ?media ?size ?sum WHERE { ?d dcat:downloadURL ?url .
      OPTIONAL { ?d dcat:mediaType ?media } OPTIONAL { ?d dcat:byteSize ?size }
      OPTIONAL { ?d spdx:checksum/spdx:checksumValue ?sum } }"""
    return [{k: (r[k].value if r[k] is not None else None) for k in ("url", "media", "size", "sum")}
            for r in s.query(q, use_default_graph_as_union=True)]


def test_every_dcat_download_url_is_a_file_of_the_build_served_at_dumps(client, ld_dist):
    """The VoID names the files at the release's own address (/release/VERSION/, served once
    the release is kept); the build's files are the same bytes, served under /dumps/."""
    from isecg_kg.builder.release import read_registry

    rows = void_distributions(ld_dist)
    assert rows, "void.ttl lists no dcat:downloadURL"
    base = f"{BASE}release/{read_registry(ROOT).version}/"
    for row in rows:
        assert row["url"].startswith(base), row["url"]
        name = row["url"][len(base):]
        r = client.get("/dumps/" + name)
        assert r.status_code == 200, row["url"]
        assert int(r.headers["content-length"]) == len(r.content)
        assert len(r.content) == int(row["size"])
        assert hashlib.sha256(r.content).hexdigest() == row["sum"]
        served = r.headers["content-type"].split(";")[0]
        # DCAT 3: a .gz file's dcat:mediaType is its payload's; it is served as gzip
        assert served == "application/gzip" if name.endswith(".gz") else \
            row["media"].endswith(served)


@pytest.mark.parametrize("name,media", [("isecg.ttl", "text/turtle"),
                                        ("isecg.nt", "application/n-triples"),
                                        ("isecg.nq", "application/n-quads"),
                                        ("void.ttl", "text/turtle"),
                                        ("SHA256SUMS", "text/plain")])
def test_dump_media_types_and_ranges(client, ld_dist, name, media):
    r = client.get(f"/dumps/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media
    assert r.content == (ld_dist / name).read_bytes()
    assert r.headers["x-content-type-options"] == "nosniff"
    # Ranges are advertised, so they must work.
    assert r.headers.get("accept-ranges") == "bytes"
    part = client.get(f"/dumps/{name}", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == r.content[:10]


@pytest.mark.parametrize("raw", ["/dumps/../pyproject.toml", "/dumps/%2e%2e/pyproject.toml",
                                 "/dumps/..%2Fpyproject.toml", "/dumps/%2E%2E%2Fpyproject.toml",
                                 "/dumps/..%5Cpyproject.toml",
                                 "/dumps/%252e%252e%252fpyproject.toml",
                                 "/dumps/site", "/dumps/", "/dumps/.."])
def test_dumps_refuse_path_traversal(server, raw):
    # http.client sends the path exactly as written (httpx would normalise the dots away).
    host, port = server.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", raw)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status in (400, 404), (raw, r.status)
    assert b"[project]" not in body


@pytest.mark.parametrize("path", ["/void", "/.well-known/void"])
def test_void_is_served(client, ld_dist, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    assert r.content == (ld_dist / "void.ttl").read_bytes()
    nt = client.get(path, headers={"Accept": "application/n-triples"})
    assert nt.headers["content-type"].startswith("application/n-triples")
    assert "Accept" in nt.headers["vary"]
    assert client.get(path, headers={"Accept": "image/png"}).status_code == 406


def test_dataset_iri_dereferences(client):
    assert client.get("/dataset", headers={"Accept": "text/html"}).headers["location"] == "/"
    r = client.get("/dataset", headers={"Accept": "text/turtle"})
    assert r.status_code == 303 and r.headers["location"] == "/void.ttl"


# --- pages ----------------------------------------------------------------------------------------

PAGES = ["/", "/id/agency/nasa.html", "/id/country/united-states.html",
         "/id/group/isecg.html", "/ontology.html"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_security_headers(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    csp = r.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert "script-src" not in csp  # no script may run on these pages at all


def jsonld_blocks(html: str) -> list:
    """The top-level nodes of every embedded JSON-LD block (a block may be a list)."""
    nodes = []
    for text in re.findall(r'<script[^>]*type="application/ld\+json"[^>]*>(.*?)</script>',
                           html, flags=re.DOTALL):
        data = json.loads(text)
        nodes += data if isinstance(data, list) else [data]
    return nodes


def test_every_entity_page_embeds_json_ld_about_its_entity(client, ld_store):
    from isecg_kg.web.pages.describe import kind
    from isecg_kg.web.pages.export import entity_iris

    for iri in entity_iris(ld_store, BASE):
        # The version IRI's page is the ontology's documentation, about the ontology IRI.
        subject = BASE + "ontology" if kind(ld_store, iri) == "ontology" else iri
        nodes = jsonld_blocks(client.get("/" + iri[len(BASE):] + ".html").text)
        assert subject in {n.get("@id") for n in nodes}, iri
        for node in nodes:  # parses as RDF offline (contexts are inline) and is about the entity
            triples = ox.parse(json.dumps(node).encode(), format=ox.RdfFormat.JSON_LD)
            assert any(t.subject == ox.NamedNode(subject) for t in triples), iri


def test_entity_page_shows_memberships_with_periods_and_source_footnotes(client):
    html = client.get("/id/agency/nasa.html").text
    assert "<h1>National Aeronautics and Space Administration" in html and "(NASA)" in html
    assert 'href="/id/country/united-states"' in html and "United States of America" in html
    assert "from November 2007" in html
    assert "Exploring Together" in html and "ISECG&#39;s 15th anniversary" in html
    for suffix, media in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"),
                          ("nt", "application/n-triples"), ("rdf", "application/rdf+xml")):
        assert f'<link rel="alternate" type="{media}" href="/id/agency/nasa.{suffix}">' in html
    assert 'href="http://www.wikidata.org/entity/Q23548"' in html
    aeb = client.get("/id/agency/aeb.html").text
    assert "not stated" in aeb  # no invented join year for a member first listed in 2022


def test_home_page(client, ld_dist):
    html = client.get("/").text
    for text in ("Membership over time", "Downloads", "CC0 1.0", 'href="/query"',
                 'href="/ontology"', "To cite it"):
        assert text in html, text
    # The SVG picture, inline, by the members-as-of rule (isecg-facts.md §3): 14 from the end
    # of November 2007, 20 at the end of 2019, 27 from the meeting of 30 Nov - 2 Dec 2021.
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "2007-11-30: 14" in svg and "2019-12-31: 20" in svg and "2021-12-02: 27" in svg
    # Downloads table: every file of SHA256SUMS with its hash.
    for line in (ld_dist / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert f">{name.lstrip('*')}</a>" in html and digest in html


def test_ontology_page_is_pylode_with_term_anchors(client):
    html = client.get("/ontology.html").text
    assert "pyLODE" in html
    assert 'id="SpaceAgency"' in html and 'id="Membership"' in html
    ttl = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert ttl.headers["location"] == "/ontology.ttl"
