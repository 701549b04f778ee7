"""Content negotiation (web/http/conneg.py): RFC 9110's q-values and specificity, ties to the
server's order, the registry's aliases, and a malformed or over-long Accept header read safely."""

from __future__ import annotations

from isecg_kg import formats
from isecg_kg.web.http.conneg import (
    MAX_ACCEPT_ELEMENTS,
    MAX_ACCEPT_LENGTH,
    negotiate,
    negotiate_rdf,
    parse_accept,
)


def test_no_accept_header_accepts_anything_and_the_server_order_decides():
    assert negotiate(None, ["text/turtle", "text/html"]) == "text/turtle"
    assert negotiate("", ["text/html", "text/turtle"]) == "text/html"


def test_q_values_and_the_most_specific_range_decide():
    offered = ["text/html", "text/turtle", "application/ld+json"]
    assert negotiate("text/turtle;q=0.5, application/ld+json;q=0.9", offered) == \
        "application/ld+json"
    # text/* at 0.1, but text/turtle itself at 1: the specific range wins for Turtle
    assert negotiate("text/*;q=0.1, text/turtle", offered) == "text/turtle"
    # q=0 refuses a type even when a wider range would take it
    assert negotiate("text/turtle;q=0, */*;q=0.5", ["text/turtle"]) is None


def test_equal_quality_goes_to_the_server_order():
    assert negotiate("application/n-triples, application/ld+json",
                     ["application/ld+json", "application/n-triples"]) == "application/ld+json"


def test_a_malformed_element_is_ignored_not_an_error():
    ranges = parse_accept("garbage, text/turtle;q=abc, /x, text/html;q=2, application/ld+json")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [
        ("text", "turtle", 0.0), ("text", "html", 0.0), ("application", "ld+json", 1.0)]


def test_the_registry_aliases_are_read_as_their_formats():
    for f in formats.REGISTRY:
        for alias in f.aliases:
            [r] = parse_accept(alias)
            assert f"{r.type}/{r.subtype}" == f.media_type, alias


def test_only_the_first_elements_and_bytes_of_accept_are_read():
    many = ",".join(f"x/y{i}" for i in range(MAX_ACCEPT_ELEMENTS)) + ",text/turtle"
    assert negotiate(many, ["text/turtle"]) is None
    long = "x/" + "y" * MAX_ACCEPT_LENGTH + ",text/turtle"
    assert negotiate(long, ["text/turtle"]) is None


def test_an_entity_is_offered_as_json_ld_to_application_json():
    assert negotiate_rdf("application/json") == "jsonld"
    assert negotiate_rdf("application/xhtml+xml") == "html"
    assert negotiate_rdf("application/trig") is None  # the five a static host negotiates
    assert negotiate_rdf("application/trig", formats.representations()) == "trig"
