"""describe.py: what an entity page and document say, checked against the source documents."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from isecg_kg.web.pages import describe as D

ROOT = Path(__file__).resolve().parents[1]
ID = "https://w3id.org/isecg/id/"
DOC = ID + "document/"
BROCHURE, NASA_PAGE, ARTICLE = DOC + "exploring-together", DOC + "nasa-about-isecg", \
    DOC + "isecg-15th-anniversary"


def _store(turtle: str) -> ox.Store:
    s = ox.Store()
    s.load(turtle.encode(), format=ox.RdfFormat.TURTLE,
           to_graph=ox.NamedNode("https://w3id.org/isecg/graph/data"))
    return s


def test_label_fallback_chain_prefers_preflabel_en_then_label_title_acronym_iri():
    s = _store("""
    @prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix dcterms: <http://purl.org/dc/terms/> . @prefix isecg: <https://w3id.org/isecg/ontology#> .
    <https://x/a> skos:prefLabel "A fr"@fr, "A en"@en ; rdfs:label "A label"@en .
    <https://x/b> rdfs:label "B label"@en ; dcterms:title "B title"@en .
    <https://x/c> dcterms:title "C title" ; isecg:acronym "C"@en .
    <https://x/d> isecg:acronym "D"@en .
    <https://x/e> a <https://x/T> .
    """)  # noqa: E501 (Turtle kept as is)
    assert [D.label(s, ox.NamedNode(f"https://x/{c}")) for c in "abcde"] == [
        "A en", "B label", "C title", "D", "https://x/e"]


def test_nasa_is_in_the_united_states_and_a_founding_member(source_store):
    # NASA page (~2011): "NASA (United States of America)"; 2022 article: formed November 2007.
    d = D.describe(source_store, ID + "agency/nasa")
    assert d.label == "National Aeronautics and Space Administration"  # ISECG AR 2013
    country = [st.value for st in d.statements if st.predicate.iri.endswith("#country")]
    assert [c.label for c in country] == ["United States of America"]
    [m] = d.memberships
    assert m.other.iri == ID + "group/isecg" and m.begins == "2007-11"
    assert {s.iri for s in m.sources} == {BROCHURE, NASA_PAGE, ARTICLE}
    assert d.wikidata == ["http://www.wikidata.org/entity/Q23548"]


def test_esa_belongs_to_europe_not_a_country(source_store):
    d = D.describe(source_store, ID + "agency/esa")
    props = {D.compact(st.predicate.iri): st.value.label for st in d.statements}
    assert props.get("isecg:region") == "Europe"
    assert "isecg:country" not in props


def test_a_membership_dated_by_a_window_gets_no_invented_period(source_store):
    # AEB (Brazil) joined between the March and September 2020 meetings (ISECG ?p=1109): a
    # window, not a calendar unit, so its period has no beginning instant; the claims say all.
    [m] = D.describe(source_store, ID + "agency/aeb").memberships
    assert m.period is None and m.begins is None
    assert [s.iri for s in m.sources] == [ARTICLE]


def test_group_lists_its_27_memberships_of_2022_and_bnsc(source_store):
    d = D.describe(source_store, ID + "group/isecg")
    assert len(d.memberships) == 28  # the 27 of 2022, and BNSC (2007 to 1 April 2010)
    assert sum(1 for m in d.memberships if ARTICLE in {s.iri for s in m.sources}) == 27
    assert sum(1 for m in d.memberships if BROCHURE in {s.iri for s in m.sources}) == 14


def test_authorship_provenance_of_the_first_roadmap(source_store):
    # NASA page: the GER was developed by 12 agencies (listed), NASA among them.
    d = D.describe(source_store, DOC + "ger-1")
    authors = {c.other.label for c in d.contributions if c.role and c.role.label == "author"}
    assert {"National Aeronautics and Space Administration", "European Space Agency",
            "Japan Aerospace Exploration Agency"} <= authors
    assert all(NASA_PAGE in {s.iri for s in c.sources} for c in d.contributions
               if c.role and c.role.label == "author" and c.other.iri.startswith(ID + "agency/"))


def test_incoming_links_are_bounded_but_counted(source_store):
    d = D.describe(source_store, ID + "group/isecg", incoming_limit=5)
    assert len(d.incoming) == 5 and d.incoming_total > 27


def test_document_triples_are_about_the_entity_and_label_what_they_link(source_store):
    nasa = ox.NamedNode(ID + "agency/nasa")
    triples = D.triples(source_store, nasa.value)
    assert any(t.subject == nasa for t in triples)
    usa = ox.NamedNode(ID + "country/united-states")
    assert any(t.subject == usa and t.object == ox.Literal("United States of America",
                                                           language="en") for t in triples)


def test_kind_of_unknown_ontology_and_version_iris(source_store):
    assert D.kind(source_store, ID + "agency/no-such-agency") is None
    assert D.kind(source_store, "https://w3id.org/isecg/ontology") == "ontology"
    # the version IRI the ontology gives itself (0.3.0 since that release); an earlier
    # version's is no name of this graph's ontology (its ontology is in that release's dumps)
    [version] = [q.object.value for q in source_store.quads_for_pattern(
        ox.NamedNode("https://w3id.org/isecg/ontology"),
        ox.NamedNode("http://www.w3.org/2002/07/owl#versionIRI"), None)]
    assert version == "https://w3id.org/isecg/ontology/0.3.0"
    assert D.kind(source_store, version) == "ontology"
    assert D.kind(source_store, "https://w3id.org/isecg/ontology/0.2.0") is None
    assert D.kind(source_store, ID + "agency/nasa") == "entity"
