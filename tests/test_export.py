"""The static export: every page and document as files, links that resolve, rewrite rules."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyoxigraph as ox
import pytest
from isecg_kg.web.pages.export import entity_iris, write_site
from sites import BASE, OX_PARSE, build_dir, load_store


@pytest.fixture(scope="module")
def site_dir(request, tmp_path_factory) -> Path:
    dist = build_dir(request)
    out = tmp_path_factory.mktemp("export") / "site"
    write_site(dist, out, None)
    return out


@pytest.fixture(scope="module")
def site_store(request) -> ox.Store:
    return load_store(build_dir(request))


def test_every_entity_has_five_documents_about_it(site_dir, site_store):
    iris = entity_iris(site_store, BASE)
    assert len(iris) > 100
    for iri in iris:
        stem = site_dir / iri[len(BASE):]
        assert (stem.parent / (stem.name + ".html")).is_file(), iri
        for suffix in ("ttl", "nt", "jsonld", "rdf"):
            body = (stem.parent / f"{stem.name}.{suffix}").read_bytes()
            node = ox.NamedNode(iri)
            quads = list(ox.parse(body, format=OX_PARSE[suffix]))
            assert any(node in (q.subject, q.object) for q in quads), (iri, suffix)


def test_nasa_page_and_turtle_say_united_states(site_dir):
    html = (site_dir / "id/agency/nasa.html").read_text()
    assert "United States of America" in html and 'href="../country/united-states.html"' in html
    ttl = (site_dir / "id/agency/nasa.ttl").read_bytes()
    triples = [q.triple for q in ox.parse(ttl, format=ox.RdfFormat.TURTLE)]
    assert ox.Triple(ox.NamedNode(BASE + "id/agency/nasa"),
                     ox.NamedNode("https://w3id.org/isecg/ontology#country"),
                     ox.NamedNode(BASE + "id/country/united-states")) in triples


def test_site_has_home_ontology_dumps_void_and_rules(request, site_dir):
    dist = build_dir(request)
    for name in ("index.html", "404.html", "ontology.html", "ontology.ttl", "void.ttl",
                 ".well-known/void", "static/ld-style.css", "ld-membership.svg", ".htaccess",
                 "nginx.conf", "README.md"):
        assert (site_dir / name).is_file(), name
    for line in (dist / "SHA256SUMS").read_text().splitlines():
        name = line.split()[1].lstrip("*")
        assert (site_dir / "dumps" / name).read_bytes() == (dist / name).read_bytes(), name
    readme = (site_dir / "README.md").read_text()
    for text in ("303 See Other", "Vary: Accept", "map $http_accept", "RewriteRule", "R=303"):
        assert text in readme, text
    # The static ontology page carries its policy in a <meta>: hosts may send no headers.
    assert 'http-equiv="Content-Security-Policy"' in (site_dir / "ontology.html").read_text()


def test_every_relative_link_in_the_site_resolves(site_dir):
    broken = []
    for page in site_dir.rglob("*.html"):
        for href in re.findall(r'(?:href|src)="([^"]+)"', page.read_text()):
            if re.match(r"^(https?:|mailto:|data:|#)", href):
                continue
            assert not href.startswith("/"), f"{page}: absolute link {href} (static pages " \
                                             "must link relatively)"
            target = (page.parent / unquote(urlsplit(href).path)).resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(site_dir)} -> {href}")
    assert not broken, "\n".join(broken[:20])


def test_write_site_replaces_an_old_export(request, tmp_path):
    out = tmp_path / "site"
    (out / "stale").mkdir(parents=True)
    (out / "stale" / "old.html").write_text("old")
    write_site(build_dir(request), out, None)
    assert not (out / "stale").exists() and (out / "index.html").is_file()


def test_build_site_flag_writes_the_site(tmp_path):
    from conftest import run_cli

    out = tmp_path / "dist"
    proc = run_cli("--quiet", "build", "--site", "--out", str(out), check=True)
    assert (out / "site" / "index.html").is_file()
    assert (out / "site" / "id" / "agency" / "nasa.ttl").is_file()
    # --quiet means silent: pyLODE's import turned on DEBUG logging of the root logger
    assert proc.stderr == "", proc.stderr[-500:]


def test_a_second_export_is_byte_identical(request, site_dir, tmp_path):
    """Every file, the ontology's documents included: their lists are blank nodes, which a
    store labels anew on every load, so they are written with canonical labels."""
    again = tmp_path / "site"
    write_site(build_dir(request), again, None)
    first = sorted(p.relative_to(site_dir) for p in site_dir.rglob("*") if p.is_file())
    assert first == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    differ = [str(p) for p in first if (site_dir / p).read_bytes() != (again / p).read_bytes()]
    assert differ == []
    assert b"_:" in (site_dir / "ontology.ttl").read_bytes()  # it does hold blank nodes
