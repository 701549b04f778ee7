"""Kept releases over a real server (`isecg-kg serve`) and in the static export: the current
release at today's paths, every kept one under /release/VERSION/, the releases page, their DCAT
catalogue, the version in headers, ETags, pages and the service description.

Served from a copy of the fixture repository (tests/releases.py): releases 1.0.0 and 1.1.0, the
sources at 1.1.0, so the current build is release 1.1.0.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import run_cli
from isecg_kg.builder.catalog import catalogue_turtle
from isecg_kg.web.context import Site
from servers import isecg_server

DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
RELEASE = "https://w3id.org/isecg/release/"
SERIES = "https://w3id.org/isecg/releases"


@pytest.fixture(scope="module")
def repo(fixture_repo, tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("served") / "repo"
    shutil.copytree(fixture_repo, copy)
    return copy


@pytest.fixture(scope="module")
def server(repo):
    with isecg_server(repo / "dist", "--source", str(repo), "--workers", "2") as url:
        yield url


def graph(body: bytes, fmt=ox.RdfFormat.TURTLE) -> set[tuple[str, str, str]]:
    return {(t.subject.value, t.predicate.value, t.object.value)
            for t in ox.parse(body, format=fmt)}


def test_every_file_of_a_kept_release_is_served_as_kept(server, repo):
    kept = repo / "dist" / "releases"
    for version in ("1.0.0", "1.1.0"):
        names = [line.split("  ")[1] for line in
                 (kept / version / "SHA256SUMS").read_text().splitlines()] + ["SHA256SUMS"]
        assert {"isecg.nt", "isecg.nq.gz", "void.ttl", "changelog.md", "changelog.html",
                "changelog.ttl", "shacl-report.ttl"} <= set(names)
        for name in names:
            r = httpx.get(f"{server}/release/{version}/{name}")
            assert r.status_code == 200, name
            assert r.content == (kept / version / name).read_bytes()
            assert r.headers["isecg-release"] == version
            assert "immutable" in r.headers["cache-control"]
    r = httpx.get(f"{server}/release/1.0.0/changelog.html")
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src" not in r.headers["content-security-policy"]
    assert httpx.get(f"{server}/release/1.0.0/isecg.nt").headers["content-type"] == \
        "application/n-triples"


@pytest.mark.parametrize("path", ["/release/1.0.0/nope.ttl", "/release/9.9.9/isecg.nt",
                                  "/release/1.0.0/..%2F..%2Fisecg.nt", "/release/..%2Fdist/x",
                                  "/release/9.9.9"])
def test_unknown_releases_and_files_are_404(server, path):
    assert httpx.get(server + path).status_code == 404


def test_the_current_release_answers_at_todays_paths_and_says_which_it_is(server, repo):
    r = httpx.get(server + "/")
    assert r.status_code == 200 and r.headers["isecg-release"] == "1.1.0"
    page = r.text
    assert "Release <strong>1.1.0</strong>, issued" in page and "2026-12-02" in page
    assert 'href="/release/1.1.0/changelog.html">what changed' in page
    assert "differs" not in page and "not yet published" not in page  # the build is 1.1.0
    assert "ISECG knowledge graph, release 1.1.0 (2026-12-02). " \
           "https://w3id.org/isecg/release/1.1.0" in page
    r = httpx.get(server + "/sparql", params={"query": "ASK {}"})
    assert r.headers["etag"].startswith('"1.1.0-') and r.headers["isecg-release"] == "1.1.0"
    assert httpx.get(server + "/healthz").json()["version"].startswith("1.1.0-")
    # the dumps at /dumps/ are the current release's
    assert httpx.get(server + "/dumps/isecg.nt").content == \
        (repo / "dist" / "releases" / "1.1.0" / "isecg.nt").read_bytes()


def test_well_known_void_is_the_current_release_in_its_series(server):
    void = graph(httpx.get(server + "/.well-known/void").content)
    ds = RELEASE + "1.1.0"
    assert (ds, DCAT + "version", "1.1.0") in void
    assert (ds, DCAT + "previousVersion", RELEASE + "1.0.0") in void
    assert (ds, DCAT + "inSeries", SERIES) in void


def test_the_catalogue_describes_the_series_and_every_release(server, repo):
    r = httpx.get(server + "/releases", headers={"Accept": "text/turtle"},
                  follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/releases.ttl"
    assert httpx.get(server + "/releases", follow_redirects=False).headers["location"] == \
        "/releases.html"
    r = httpx.get(server + "/release/1.0.0", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/releases.html#release-1.0.0"
    cat = graph(httpx.get(server + "/releases.ttl").content)
    assert (SERIES, DCAT + "hasCurrentVersion", RELEASE + "1.1.0") in cat
    assert (RELEASE + "1.1.0", DCAT + "previousVersion", RELEASE + "1.0.0") in cat
    assert (RELEASE + "1.1.0", DCAT + "version", "1.1.0") in cat
    assert (RELEASE + "1.0.0", "http://purl.org/dc/terms/issued", "2026-12-01") in cat
    assert not any(s == RELEASE + "1.0.0" and p == DCAT + "previousVersion" for s, p, _ in cat)
    for version in ("1.0.0", "1.1.0"):
        directory = repo / "dist" / "releases" / version
        for name in ("isecg.nt", "isecg.nq.gz", "changelog.ttl"):
            dist = f"{RELEASE}{version}/{name}#distribution"
            assert (RELEASE + version, DCAT + "distribution", dist) in cat
            assert (dist, DCAT + "downloadURL", f"{RELEASE}{version}/{name}") in cat
            assert (dist, DCAT + "byteSize", str((directory / name).stat().st_size)) in cat
            digest = hashlib.sha256((directory / name).read_bytes()).hexdigest()
            assert (f"{RELEASE}{version}/{name}#sha256", SPDX + "checksumValue", digest) in cat
    # the same catalogue in the other RDF syntaxes
    for suffix, fmt in (("nt", ox.RdfFormat.N_TRIPLES), ("jsonld", ox.RdfFormat.JSON_LD),
                        ("rdf", ox.RdfFormat.RDF_XML)):
        assert graph(httpx.get(f"{server}/releases.{suffix}").content, fmt) == cat


def test_the_releases_page_lists_every_release_with_its_changelog(server):
    page = httpx.get(server + "/releases.html").text
    assert page.index('id="release-1.1.0"') < page.index('id="release-1.0.0"')
    assert "5 triples added, 8 removed" in page  # 1.1.0's changelog summary
    for version in ("1.0.0", "1.1.0"):
        assert f'href="/release/{version}/changelog.html"' in page
        assert f"https://w3id.org/isecg/release/{version}</cite>" in page


def test_sparql_answers_the_current_release_and_says_so(server):
    sd = httpx.get(server + "/sparql", headers={"Accept": "text/turtle"}).text
    assert "always answered from the current release, 1.1.0" in sd
    r = httpx.get(server + "/sparql", params={"query": "ASK { <https://w3id.org/isecg/id/person/"
                                                       "fixture-person> ?p ?o }"},
                  headers={"Accept": "application/sparql-results+json"})
    assert r.json()["boolean"] is True  # the planted person exists only in 1.1.0


def test_a_damaged_kept_release_is_withheld_and_the_rest_served(repo, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    target = copy / "dist" / "releases" / "1.0.0" / "isecg.ttl"
    target.chmod(0o644)
    target.write_bytes(target.read_bytes() + b"\n")
    with isecg_server(copy / "dist", "--source", str(copy), "--workers", "2") as url:
        r = httpx.get(url + "/release/1.0.0/isecg.nt")
        assert r.status_code == 503 and "isecg.ttl does not match SHA256SUMS" in r.text
        assert httpx.get(url + "/release/1.1.0/isecg.nt").status_code == 200
        assert "Not available on this server" in httpx.get(url + "/releases.html").text
    assert "release 1.0.0 is not served" in url.log.read_text()


def test_the_static_export_includes_the_releases(repo, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    run_cli("build", "--site", "--source", str(copy), "--out", str(copy / "dist"), check=True)
    site = copy / "dist" / "site"
    for version in ("1.0.0", "1.1.0"):
        kept = copy / "dist" / "releases" / version
        for path in kept.iterdir():
            assert (site / "release" / version / path.name).read_bytes() == path.read_bytes()
    page = (site / "releases.html").read_text()
    assert 'href="release/1.0.0/changelog.html"' in page
    kept = Site.from_dist(copy / "dist", source=copy).kept
    assert graph((site / "releases.ttl").read_bytes()) == graph(catalogue_turtle(list(kept)))
    assert (RELEASE + "1.0.0", DCAT + "version", "1.0.0") in graph(
        (site / "releases.ttl").read_bytes())
    home = (site / "index.html").read_text()
    assert 'href="release/1.1.0/changelog.html"' in home and 'href="releases.html"' in home
    assert "location = /releases" in (site / "nginx.conf").read_text()


def test_release_files_honour_if_none_match_and_their_416_names_their_release(server, repo):
    """Issue 21: a 0.1.0-style file's 416 said the current release; If-None-Match was ignored."""
    path = repo / "dist" / "releases" / "1.0.0" / "isecg.nt"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    r = httpx.get(server + "/release/1.0.0/isecg.nt")
    assert r.status_code == 200 and r.headers["etag"] == f'"{digest}"'
    r = httpx.get(server + "/release/1.0.0/isecg.nt", headers={"If-None-Match": f'"{digest}"'})
    assert r.status_code == 304 and r.headers["isecg-release"] == "1.0.0"
    size = path.stat().st_size
    r = httpx.get(server + "/release/1.0.0/isecg.nt", headers={"Range": f"bytes={size + 10}-"})
    assert r.status_code == 416 and r.headers["isecg-release"] == "1.0.0", r.headers
    r = httpx.get(server + "/release/1.0.0/isecg.nt", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == path.read_bytes()[:10]


def test_a_release_moved_away_under_a_running_server_is_503_not_500(repo, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    kept = copy / "dist" / "releases" / "1.0.0"
    with isecg_server(copy / "dist", "--source", str(copy), "--workers", "2") as url:
        assert httpx.get(url + "/release/1.0.0/SHA256SUMS").status_code == 200
        kept.rename(tmp_path / "elsewhere")
        assert httpx.get(url + "/releases.html").status_code == 200
        for name in ("SHA256SUMS", "isecg.nt"):
            r = httpx.get(url + f"/release/1.0.0/{name}")
            assert r.status_code == 503 and r.headers["isecg-release"] == "1.0.0", r.text
            assert "can no longer be read" in r.text
        (tmp_path / "elsewhere").rename(kept)  # back as it was: served again
        assert httpx.get(url + "/release/1.0.0/SHA256SUMS").status_code == 200
        assert httpx.get(url + "/release/1.1.0/isecg.nt").status_code == 200
