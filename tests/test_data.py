"""Facts of the sources that no named query asks about, checked in the built graph.

Each expected value is transcribed from ../shared/sources/ (quoted), not from the code.
"""

from __future__ import annotations

import pytest

ID, ONT = "https://w3id.org/isecg/id/", "https://w3id.org/isecg/ontology#"


def ask(store, query: str) -> bool:
    return bool(store.query(f"PREFIX isecg: <{ONT}> PREFIX doc: <{ID}document/> "
                            f"PREFIX dcterms: <http://purl.org/dc/terms/> "
                            f"PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
                            f"PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> {query}",
                            use_default_graph_as_union=True))


def select(store, query: str) -> list[str]:
    rows = store.query(f"PREFIX isecg: <{ONT}> PREFIX doc: <{ID}document/> "
                       f"PREFIX skos: <http://www.w3.org/2004/02/skos/core#> {query}",
                       use_default_graph_as_union=True)
    return sorted(r[0].value for r in rows)


def test_the_roadmap_begins_with_the_international_space_station(store):
    # NASA page: "The roadmap begins with the International Space Station ... leading
    # ultimately to human missions to explore the surface of Mars."
    assert ask(store, f"ASK {{ doc:ger-1 isecg:startsFrom "
                      f"<{ID}destination/international-space-station> ;"
                      f" isecg:ultimateGoal <{ID}destination/mars> }}")


def test_the_four_key_principles(store):
    # Brochure: "open and inclusive, flexible and evolutionary, effective, and take account of
    # mutual interests".
    labels = select(store, "SELECT ?l { doc:ges-framework isecg:principle/skos:prefLabel ?l }")
    assert labels == ["Effective", "Flexible and evolutionary", "Open and inclusive",
                      "Taking account of mutual interests"]


def test_isecg_has_seven_working_groups_and_its_contacts(store):
    # 2022 article: "Through its seven working groups"; brochure: ISECG@esa.int and the site.
    assert ask(store, f"ASK {{ <{ID}group/isecg> isecg:workingGroupCount 7 ; "
                      "<http://xmlns.com/foaf/0.1/mbox> <mailto:ISECG@esa.int> ; "
                      "<http://xmlns.com/foaf/0.1/homepage> "
                      "<https://www.globalspaceexploration.org> }")


def test_formation_initial_term_and_extension(store):
    # 2022 article: "formed in November 2007 ... Initially formed for 5 years ... extended for
    # a further 10 years in 2012 to 2022"; isecg-facts-2.md D1 (?p=302): "established in Berlin,
    # Germany on 6 November 2007" -- the day, with the month kept as a claim.
    assert ask(store, f"""ASK {{ <{ID}event/isecg-formation> isecg:initialTerm "P5Y"^^<http://www.w3.org/2001/XMLSchema#duration> ;
        <http://www.w3.org/2006/time#hasTime>/<http://www.w3.org/2006/time#inXSDDate> "2007-11-06"^^<http://www.w3.org/2001/XMLSchema#date> .
      ?month isecg:claimSubject <{ID}event/isecg-formation> ; isecg:claimedTime/<http://www.w3.org/2006/time#inXSDgYearMonth> "2007-11"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> ;
        <http://purl.org/dc/terms/source> doc:isecg-15th-anniversary .
      <{ID}event/isecg-extension> isecg:extendedBy "P10Y"^^<http://www.w3.org/2001/XMLSchema#duration> ;
        isecg:extendedUntil "2022"^^<http://www.w3.org/2001/XMLSchema#gYear> ;
        <http://www.w3.org/2006/time#hasTime>/<http://www.w3.org/2006/time#inXSDgYear> "2012"^^<http://www.w3.org/2001/XMLSchema#gYear> }}""")  # noqa: E501 (the query as the facts read, full IRIs)


@pytest.mark.parametrize("resolution, megabytes", [("low", "10"), ("high", "47")])
def test_roadmap_downloads(store, resolution, megabytes):
    # NASA page: "low-resolution, 10 MB PDF" and "high-resolution, 47 MB PDF".
    assert ask(store, f"""ASK {{ doc:ger-1 <https://schema.org/encoding> ?d .
        ?d isecg:resolution "{resolution}"@en ;
           isecg:approximateSizeMB "{megabytes}"^^<http://www.w3.org/2001/XMLSchema#decimal> ;
           <https://schema.org/encodingFormat> "application/pdf" }}""")


def test_the_brochure_speaks_four_languages(store):
    # Brochure: English text with taglines in German, Italian and French.
    langs = select(store, "SELECT ?l { doc:exploring-together "
                          "<http://purl.org/dc/terms/language> ?l }")
    assert langs == ["de", "en", "fr", "it"]


def test_no_agency_has_an_invented_full_name(store):
    # isecg-facts.md §1 and §6: no full English name was seen for CNES (ISECG uses none) and no
    # native-language name for SSO, LSA, NZSA, ISRO or ASA: none is invented.
    assert select(store, f"SELECT ?n {{ <{ID}agency/cnes> isecg:fullName ?n }}") == []
    for agency in ("sso", "lsa", "nzsa", "isro", "asa"):
        assert select(store, f"SELECT ?n {{ <{ID}agency/{agency}> isecg:nativeName ?n }}") == []


def test_every_membership_has_a_sourced_start_claim(store):
    # 28 memberships: the 27 of 2022 and BNSC, the United Kingdom's founder (2007-2010).
    starts = select(store, "SELECT DISTINCT ?m { ?m a isecg:Membership ; "
                           "isecg:startClaim/<http://purl.org/dc/terms/source> ?d }")
    assert len(starts) == 28
