"""One description of a file (builder/dcat.py), for the VoID and the releases catalogue alike:
the payload's media type with gzip as its compression, the EU file type of what it holds, its
size, licence and SHA-256, and the third-party IRIs typed as DCAT-AP wants them."""

from __future__ import annotations

import pyoxigraph as ox
from isecg_kg.builder import dcat
from isecg_kg.rdf import CC0, DCAT, DCT, IANA, RDF, SPDX, adder

URL = "https://w3id.org/isecg/release/0.3.0/isecg.ttl.gz"


def described(url: str = URL, stable: bool = True) -> dict:
    out: list[ox.Triple] = []
    dcat.distribution(adder(out), ox.NamedNode("https://w3id.org/isecg/release/0.3.0"), url,
                      1234, "ab" * 32, stable=stable)
    about: dict = {}
    for t in out:
        about.setdefault((t.subject.value, t.predicate.value), []).append(t.object.value)
    return about


def test_a_gzipped_dump_is_its_payload_compressed():
    d = described()
    dist = URL + "#distribution"
    assert d[(dist, DCAT + "mediaType")] == [IANA + "text/turtle"]
    assert d[(dist, DCAT + "compressFormat")] == [IANA + "application/gzip"]
    assert d[(dist, DCT + "format")] == [
        "http://publications.europa.eu/resource/authority/file-type/RDF_TURTLE"]
    assert d[(dist, DCAT + "byteSize")] == ["1234"] and d[(dist, DCT + "license")] == [CC0]
    assert d[(URL + "#sha256", SPDX + "checksumValue")] == ["ab" * 32]
    assert d[(URL + "#sha256", RDF + "type")] == [SPDX + "Checksum"]
    assert "gzip-compressed" in d[(dist, DCT + "description")][0]


def test_sha256sums_has_no_file_type_and_an_unkept_file_no_availability():
    d = described("https://w3id.org/isecg/dumps/SHA256SUMS", stable=False)
    dist = "https://w3id.org/isecg/dumps/SHA256SUMS#distribution"
    assert d[(dist, DCAT + "mediaType")] == [IANA + "text/plain"]
    assert (dist, DCT + "format") not in d
    assert not [k for k in d if k[0] == dist and k[1].endswith("availability")]


def test_third_party_values_are_typed():
    out: list[ox.Triple] = []
    dcat.distribution(adder(out), ox.NamedNode("https://w3id.org/isecg/release/0.3.0"), URL,
                      1, "00" * 32, stable=True)
    typed = {(t.subject.value, t.object.value) for t in dcat.typed_terms(out)
             if t.predicate.value == RDF + "type"}
    assert (IANA + "text/turtle", DCT + "MediaType") in typed
    assert (CC0, DCT + "LicenseDocument") in typed
