"""rdf.py: the one IRI shortener (each caller's rule for the local parts it prints) and the one
used-prefixes function. (The RDF syntaxes are the format registry's: test_formats.py.)"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from isecg_kg.builder.diff import compact as changelog_name
from isecg_kg.builder.serialize import Compactor
from isecg_kg.config import PREFIXES
from isecg_kg.rdf import ISECG, XSD, qname, shorten, used_prefixes
from isecg_kg.web.pages.describe import compact as page_name

AGENCY = "https://w3id.org/isecg/id/agency/"


@pytest.mark.parametrize(("iri", "message", "page", "jsonld", "changelog"), [
    (ISECG + "SpaceAgency", "isecg:SpaceAgency", "isecg:SpaceAgency", "isecg:SpaceAgency",
     "isecg:SpaceAgency"),
    (AGENCY + "nasa", "agency:nasa", "agency:nasa", "agency:nasa", "agency:nasa"),
    # a namespace itself: only the page and the changelog print an empty local part
    (AGENCY, f"<{AGENCY}>", "agency:", AGENCY, "agency:"),
    # a '/' below a namespace: the longest namespace that fits, else the IRI
    (AGENCY + "a/b", f"<{AGENCY}a/b>", "https://w3id.org/isecg/id/agency/a/b", "agency:a/b",
     f"<{AGENCY}a/b>"),
    ("http://example.org/x", "<http://example.org/x>", "http://example.org/x",
     "http://example.org/x", "<http://example.org/x>"),
])
def test_each_caller_keeps_its_rule_for_what_a_prefixed_name_may_hold(iri, message, page, jsonld,
                                                                      changelog):
    assert shorten(iri) == message
    assert page_name(iri) == page
    assert Compactor(PREFIXES)(iri) == jsonld
    assert changelog_name(iri) == changelog


def test_the_longest_namespace_wins():
    assert qname(ISECG + "x") == "isecg:x"
    assert qname("https://w3id.org/isecg/id/agency/x", prefixes={
        "id": "https://w3id.org/isecg/id/", "agency": AGENCY}) == "agency:x"
    assert qname("urn:x") is None


def test_used_prefixes_counts_datatypes_and_sorts_by_prefix():
    t = ox.Triple(ox.NamedNode(AGENCY + "nasa"), ox.NamedNode(ISECG + "acronym"),
                  ox.Literal("1", datatype=ox.NamedNode(XSD + "integer")))
    assert list(used_prefixes([t])) == ["agency", "isecg", "xsd"]

