"""The catalogues we publish pass DCAT-AP 3.0.1 as European data portals run it: pySHACL with
its shapes.ttl + range.ttl (tests/fixtures/dcat-ap-3.0.1/, third-party, CC BY 4.0) over the
build's void.ttl, the releases catalogue of the real kept releases (0.1.0 and 0.2.0, rebuilt
from their commits), and the void.ttl of releases cut by this code (the fixture repository's);
its recommended properties are met except the departures README lists (DEPARTURES).

Kept releases are never rewritten: the catalogue describes their true files under
/release/VERSION/ and states what their frozen void.ttl gets wrong.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import ROOT, run_cli
from isecg_kg.builder.catalog import catalogue_turtle, kept_releases
from isecg_kg.builder.release import ReleaseError, read_registry, resolve
from isecg_kg.config import CATALOG_IRI, PUBLISHER_IRI, SERIES_IRI, release_iri

SHAPES = Path(__file__).parent / "fixtures" / "dcat-ap-3.0.1"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
# Recommended properties we leave out, each with its reason in README ("Catalogue and
# serving"): (what the focus node is, the property's local name)
DEPARTURES = {
    ("catalog", "spatial"), ("series", "spatial"), ("release", "spatial"),
    ("series", "temporal"), ("series", "distribution"), ("publisher", "type"),
}
# ... and in a release's own void.ttl, written before the release has its date
VOID_DEPARTURES = DEPARTURES | {("catalog", "issued"), ("catalog", "modified")}


def shapes(*names: str) -> rdflib.Graph:
    g = rdflib.Graph()
    for name in names:
        g.parse(SHAPES / name, format="turtle")
    return g


MANDATORY = shapes("shapes.ttl", "range.ttl")
RECOMMENDED = shapes("shapes_recommended.ttl")


def validate(data: bytes, shapes_graph: rdflib.Graph) -> list[tuple[str, str, str, str]]:
    """(severity, focus node, path, message) of every result of pySHACL."""
    import pyshacl

    g = rdflib.Graph().parse(data=data, format="turtle")
    _, report, _ = pyshacl.validate(g, shacl_graph=shapes_graph, allow_warnings=True)
    return sorted((str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
                   str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)),
                   str(report.value(r, SH.resultMessage)))
                  for r in report.subjects(rdflib.RDF.type, SH.ValidationResult))


def departures(data: bytes) -> set[tuple[str, str]]:
    def role(focus: str) -> str:
        return {CATALOG_IRI: "catalog", SERIES_IRI: "series",
                PUBLISHER_IRI: "publisher"}.get(focus, "release" if "/release/" in focus
                                                    else focus)

    return {(role(focus), path.rsplit("/", 1)[-1].rsplit("#", 1)[-1])
            for _, focus, path, _ in validate(data, RECOMMENDED)}


def triples(data: bytes) -> set[tuple[str, str, str]]:
    return {(t.subject.value, t.predicate.value, t.object.value)
            for t in ox.parse(data, format=ox.RdfFormat.TURTLE)}


@pytest.fixture(scope="module")
def real_releases(tmp_path_factory) -> Path:
    """The kept releases of the registry, rebuilt from their commits (checked by digest)."""
    registry = read_registry(ROOT)
    try:
        for entry in registry.releases:
            resolve(ROOT, entry.commit)
    except ReleaseError as exc:
        pytest.skip(f"no git history here to rebuild the kept releases: {exc}")
    out = tmp_path_factory.mktemp("real") / "releases"
    run_cli("-q", "release", "--releases", str(out), check=True, timeout=600)
    return out


@pytest.fixture(scope="module")
def real_catalogue(real_releases) -> bytes:
    return catalogue_turtle(kept_releases(read_registry(ROOT), real_releases))


def test_the_builds_void_has_no_violation(dist):
    assert validate((dist / "void.ttl").read_bytes(), MANDATORY) == []


def test_the_builds_void_meets_the_recommendations_but_the_stated_departures(dist):
    assert departures((dist / "void.ttl").read_bytes()) == VOID_DEPARTURES


def test_the_releases_catalogue_has_no_violation(real_catalogue):
    assert validate(real_catalogue, MANDATORY) == []
    assert departures(real_catalogue) == DEPARTURES


def test_the_validator_finds_what_we_fixed(dist):
    """The shapes are really applied: the old way of writing sizes and gzip media types fails."""
    text = (dist / "void.ttl").read_bytes().replace(
        b"^^xsd:nonNegativeInteger", b"^^xsd:integer")
    text = text.replace(b"dcterms:MediaType .", b"rdfs:Resource .", 1)
    found = validate(text, MANDATORY)
    assert any(path == DCAT + "byteSize" and severity == "Violation"
               for severity, _, path, _ in found)
    assert any(path in (DCAT + "mediaType", DCAT + "compressFormat") for _, _, path, _ in found)


def test_each_kept_release_is_described_by_its_true_files(real_releases, real_catalogue):
    cat = triples(real_catalogue)
    for entry in read_registry(ROOT).releases:
        ds, base = release_iri(entry.version), release_iri(entry.version) + "/"
        directory = real_releases / entry.version
        names = [line.split("  ")[1] for line in
                 (directory / "SHA256SUMS").read_text().splitlines()]
        for name in names:
            url = base + name
            dist = url + "#distribution"
            assert (ds, DCAT + "distribution", dist) in cat
            assert (dist, DCAT + "downloadURL", url) in cat
            assert (dist, DCAT + "byteSize", str((directory / name).stat().st_size)) in cat
            digest = hashlib.sha256((directory / name).read_bytes()).hexdigest()
            assert (url + "#sha256", SPDX + "checksumValue", digest) in cat
        # no distribution of this release points anywhere but its own directory
        assert all(o.startswith(base) for s, p, o in cat
                   if p == DCAT + "downloadURL" and s.startswith(base))


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0"])
def test_the_erratum_of_a_frozen_void_is_stated(real_catalogue, version):
    """0.1.0 and 0.2.0 keep the void.ttl they were built with, which names /dumps/ and the
    dataset IRI every release shared; the catalogue says so, and that the sizes and SHA-256 in
    it are the release's own (the release is rebuilt byte for byte, so they are)."""
    description = next(o for s, p, o in triples(real_catalogue)
                       if s == release_iri(version) and p == "http://purl.org/dc/terms/description")
    assert "Erratum" in description
    assert "https://w3id.org/isecg/dumps/" in description
    assert "https://w3id.org/isecg/void#dataset" in description
    assert "those of this release's own files" in description
    assert f"https://w3id.org/isecg/release/{version}/" in description


def test_a_release_cut_by_this_code_describes_its_own_files(fixture_repo):
    """From 0.3.0 on, a release's void.ttl names the release and its files at
    /release/VERSION/ with their real sizes and SHA-256, passes DCAT-AP, and needs no
    erratum."""
    kept = kept_releases(read_registry(fixture_repo), fixture_repo / "dist" / "releases")
    for k in kept:
        data = (k.directory / "void.ttl").read_bytes()
        assert validate(data, MANDATORY) == []
        assert departures(data) == VOID_DEPARTURES
        void = triples(data)
        base = release_iri(k.version) + "/"
        urls = {o for _, p, o in void if p == DCAT + "downloadURL"}
        assert urls and all(u.startswith(base) for u in urls)
        for url in urls:
            name = url[len(base):]
            assert (url + "#distribution", DCAT + "byteSize",
                    str((k.directory / name).stat().st_size)) in void
            assert (url + "#sha256", SPDX + "checksumValue", k.sums[name]) in void
        assert (release_iri(k.version), DCAT + "version", k.version) in void
        assert k.erratum is None
    assert validate(catalogue_turtle(kept), MANDATORY) == []


def test_sizes_are_non_negative_integers_in_every_served_syntax(dist):
    """xsd:nonNegativeInteger, as DCAT-AP wants, survives into the VoID (pyoxigraph's store
    would rewrite it to xsd:integer; the documents are written from the file, not a store)."""
    from isecg_kg.web.context import Site
    from isecg_kg.web.pages.render import LinkedData

    ld = LinkedData(Site.from_dist(dist), ox.Store())
    for fmt, syntax in (("nt", ox.RdfFormat.N_TRIPLES), ("xml", ox.RdfFormat.RDF_XML)):
        sizes = [t.object for t in ox.parse(ld.void_rdf(fmt), format=syntax)
                 if t.predicate.value == DCAT + "byteSize"]
        assert sizes and {s.datatype.value for s in sizes} == {XSD + "nonNegativeInteger"}


def test_the_releases_page_shows_the_erratum_to_readers(dist, real_releases):
    from isecg_kg.web.context import Site
    from isecg_kg.web.pages.render import LinkedData

    site = Site.from_dist(dist, source=ROOT, releases=real_releases)
    page = LinkedData(site, ox.Store()).releases_html()
    for version in ("0.1.0", "0.2.0"):
        section = page[page.index(f'id="release-{version}"'):]
        section = section[:section.index("</section>")]
        assert "<strong>Erratum.</strong> The void.ttl kept in this release" in section
        assert f"at https://w3id.org/isecg/release/{version}/." in section
