"""The public record beyond the three brochures: names, founders, join dates, editions, sources.

Every expected value is transcribed from ../shared/reference/isecg-facts.md (the page and excerpt
each row quotes), never from running the code. Counts are the ones the sources give: 14 (2007),
15 (UAE, 2015), 20 (end of 2019), 22 (early 2020), 24 (August/September 2020), 27 (from the
meeting of 30 Nov - 2 Dec 2021).
"""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import ROOT, run_cli
from isecg_kg.builder.load import load_sources
from isecg_kg.builder.validate import validate
from queries import rows

ID = "https://w3id.org/isecg/id/"
ONT = "https://w3id.org/isecg/ontology#"
PFX = (f"PREFIX isecg: <{ONT}> PREFIX doc: <{ID}document/> PREFIX agency: <{ID}agency/> "
       "PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX org: <http://www.w3.org/ns/org#> "
       "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
       "PREFIX time: <http://www.w3.org/2006/time#> PREFIX schema: <https://schema.org/> "
       "PREFIX prov: <http://www.w3.org/ns/prov#> "
       "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
       "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> ")


def ask(store, query: str) -> bool:
    return bool(store.query(PFX + query, use_default_graph_as_union=True))


def values(store, query: str) -> list[str]:
    return sorted(r[0].value for r in store.query(PFX + query, use_default_graph_as_union=True))


# §2: the 14 named by the source of 2007 (itwire, 3 June 2007): BNSC, not UKSA, for Great Britain;
# NSAU for Ukraine (the graph's SSAU, renamed in 2010).
FOUNDERS_2007 = {"ASI", "BNSC", "CNES", "CNSA", "CSA", "CSIRO", "DLR", "ESA", "ISRO", "JAXA",
                 "KARI", "NASA", "Roscosmos", "SSAU"}


def status(store, date: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in rows(store, "members-as-of", date=date):
        out.setdefault(r["status"], set()).add(r["acronym"])
    return out


# ---------------------------------------------------------------------------------------------
# Names (§1)

@pytest.mark.parametrize("agency, full_name", [
    ("csa", "Canadian Space Agency"),                        # ISECG home 2021
    ("nasa", "National Aeronautics and Space Administration"),  # ISECG Annual Report 2013
    ("jaxa", "Japan Aerospace Exploration Agency"),
    ("asi", "Italian Space Agency"),
    ("kari", "Korea Aerospace Research Institute"),
    ("isro", "Indian Space Research Organisation"),           # cospar2021; dos.gov.in
    ("bnsc", "British National Space Centre"),                # phys.org; piglix
    ("uae-space-agency", "United Arab Emirates Space Agency"),  # ?p=661
])
def test_agencies_have_their_full_english_name_as_label(store, agency, full_name):
    assert values(store, f"SELECT ?n {{ agency:{agency} isecg:fullName ?n }}") == [full_name]
    assert values(store, f"SELECT ?l {{ agency:{agency} rdfs:label ?l }}") == [full_name]


@pytest.mark.parametrize("agency, name, lang", [
    ("csa", "Agence spatiale canadienne", "fr"),
    ("asi", "Agenzia Spaziale Italiana", "it"),
    ("jaxa", "宇宙航空研究開発機構", "ja"),
    ("gistda", "สำนักงานพัฒนาเทคโนโลยีอวกาศและภูมิสารสนเทศ (องค์การมหาชน)", "th"),
    ("vnsc", "Trung tâm Vũ trụ Việt Nam", "vi"),
    ("kari", "한국항공우주연구원", "ko"),
    ("nosa", "Norsk Romsenter", "no"),
])
def test_native_names_carry_their_language(store, agency, name, lang):
    assert ask(store, f'ASK {{ agency:{agency} isecg:nativeName "{name}"@{lang} }}')


def test_cnes_is_labelled_by_its_french_name_as_isecg_uses_no_english_one(store):
    assert values(store, "SELECT ?l { agency:cnes rdfs:label ?l }") == \
        ["Centre National d'Études Spatiales"]


def test_a_plain_acronym_matches_in_sparql(store):
    assert values(store, 'SELECT ?a { ?a isecg:acronym "JAXA" }') == [ID + "agency/jaxa"]


def test_every_name_cites_its_source(store):
    assert not values(store, """SELECT ?a {
        ?a a isecg:SpaceAgency ; isecg:fullName|isecg:nativeName|isecg:acronym ?n .
        FILTER NOT EXISTS { ?s rdf:subject ?a ; rdf:object ?n ; dcterms:source ?d }
    }""")


@pytest.mark.parametrize("agency, preferred, other", [
    ("pt-space", "PT Space", {"PTS", "PTSpace"}),   # ?p=1180 vs ISECG home 2021, expresso
    ("asi", "ASI", {"ISA"}),                          # itwire 2007 writes "ISA"
])
def test_conflicting_acronyms_are_kept_one_preferred(store, agency, preferred, other):
    assert values(store, f"SELECT ?a {{ agency:{agency} isecg:acronym ?a }}") == [preferred]
    assert set(values(store, f"SELECT ?a {{ agency:{agency} isecg:acronymVariant ?a }}")) == other
    assert values(store, f"""SELECT ?v {{ ?s <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject>
        agency:{agency} ; <http://www.w3.org/1999/02/22-rdf-syntax-ns#object> ?v ;
        isecg:preferred true ; <http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate>
        isecg:acronym }}""") == [preferred]


def test_vnsc_english_spellings_disagree_and_both_are_kept(store):
    # VNSC's own site: "Vietnam National Space Center"; ISECG: "Vietnamese National Space Center".
    assert values(store, "SELECT ?n { agency:vnsc isecg:fullName ?n }") == \
        ["Vietnam National Space Center"]
    assert "Vietnamese National Space Center" in values(
        store, "SELECT ?n { agency:vnsc skos:altLabel ?n }")


# ---------------------------------------------------------------------------------------------
# Countries

def test_every_country_has_its_iso_3166_codes_as_pycountry_knows_them(store):
    import pycountry

    found = store.query(PFX + """SELECT ?c ?a2 ?a3 { ?c a isecg:Country ;
        isecg:isoAlpha2 ?a2 ; isecg:isoAlpha3 ?a3 ; dcterms:source doc:iso-3166-1 }""",
                        use_default_graph_as_union=True)
    codes = {r["c"].value: (r["a2"].value, r["a3"].value) for r in found}
    assert len(codes) == 25  # the 25 countries of the 2022 list
    for country, (a2, a3) in codes.items():
        entry = pycountry.countries.get(alpha_2=a2)
        assert entry is not None and entry.alpha_3 == a3, country
    assert codes[ID + "country/united-kingdom"] == ("GB", "GBR")
    assert codes[ID + "country/republic-of-korea"] == ("KR", "KOR")


# ---------------------------------------------------------------------------------------------
# BNSC and UKSA (§2)

def test_bnsc_not_uksa_founded_isecg_and_authored_the_strategy(store):
    acronyms = {r["acronym"] for r in rows(store, "members-at-formation")}
    assert acronyms == FOUNDERS_2007
    authors = values(store, """SELECT ?acr { doc:ges-framework isecg:qualifiedAuthorship ?c .
        ?c prov:agent ?a . ?a isecg:acronym ?acr }""")
    assert set(authors) == FOUNDERS_2007


def test_uksa_replaces_bnsc_on_1_april_2010(store):
    assert ask(store, """ASK { ?e a isecg:ReplacementEvent ; org:originalOrganization agency:bnsc ;
        org:resultingOrganization agency:uksa ;
        time:hasTime/time:inXSDDate "2010-04-01"^^<http://www.w3.org/2001/XMLSchema#date> }""")


def test_no_statement_puts_uksa_before_april_2010(store):
    # Every date the graph ties to UKSA (membership claims, documents it contributed to).
    dates = values(store, """SELECT ?d {
        { ?m org:member agency:uksa ; isecg:startClaim|isecg:adoptedClaim ?c .
          { ?c isecg:claimedTime/time:inXSDDate ?d } UNION { ?c isecg:notBefore ?d } }
        UNION { ?doc isecg:qualifiedContribution|isecg:qualifiedAuthorship ?k .
                ?k prov:agent agency:uksa . ?doc dcterms:issued ?d }
    }""")
    assert dates and all(d >= "2010-04" for d in dates), dates


def test_bnsc_left_when_uksa_arrived(store):
    assert status(store, "2010-03-31")["member"] >= {"BNSC"}
    april = status(store, "2010-04-01")
    assert "BNSC" in april["former"] and "UKSA" in april["member"]


def test_ukraine_renaming_is_dated_2010(store):
    assert ask(store, """ASK { ?e a isecg:RenamingEvent ; isecg:concerns agency:ssau ;
        time:hasTime/time:inXSDgYear "2010"^^<http://www.w3.org/2001/XMLSchema#gYear> }""")


# ---------------------------------------------------------------------------------------------
# Members as of a date (§3): the counts the sources give

@pytest.mark.parametrize("date, members, possibly", [
    ("2007-06-01", 0, set()),     # formed November 2007
    ("2007-11-15", 0, FOUNDERS_2007),   # inside the month of formation: not yet certain
    ("2007-11-30", 14, set()),    # "formed in November 2007"
    ("2015-10-04", 14, set()),
    ("2015-10-05", 15, set()),    # UAE "on 5 October 2015 ... 15th member"
    ("2019-06-30", 15, {"ASA", "ROSA", "SSO", "LSA", "POLSA"}),  # "in the course of 2019"
    ("2019-12-31", 20, set()),    # AR 2019: "membership increases to 20 organisations"
    # ?p=1006: 22; PT Space/AEM "end of 2020"; AEB and GISTDA joined "since the last senior
    # agency managers meeting in March" (?p=1109): NSTDA's 31 August 2020 is the day GISTDA's
    # membership was announced, not its start (issue 22), so GISTDA too may have joined by then
    ("2020-03-31", 22, {"PT Space", "AEM", "AEB", "GISTDA"}),
    ("2020-09-30", 24, {"PT Space", "AEM"}),         # NSTDA: 24 as of August 2020
    ("2021-12-31", 27, set()),    # "bringing ISECG total membership to 27 agencies"
])
def test_members_as_of(store, date, members, possibly):
    got = status(store, date)
    assert len(got.get("member", set())) == members, got
    assert got.get("possibly", set()) == possibly, got


def test_august_2020_counts_24_at_most(store):
    # NSTDA counts 24 as of August 2020; AEB's month is disputed (ISECG's window, a blog's
    # "since September 2020"), so at the end of August AEB is possible, not certain.
    got = status(store, "2020-08-31")
    assert "GISTDA" in got["member"] and len(got["member"]) == 23
    assert got["possibly"] == {"AEB", "PT Space", "AEM"}


def test_the_conflicts_are_kept_with_their_sources(store):
    # PT Space: "at the end of 2020" (ptspace.pt) vs welcomed at the 2021 meeting (ISECG home).
    for agency in ("pt-space", "aem", "aeb"):
        claims = values(store, f"""SELECT ?c {{ ?m org:member agency:{agency} ;
            isecg:startClaim ?c . ?c dcterms:source ?d }}""")
        assert len(set(claims)) >= 2, agency
    assert ask(store, """ASK { ?m org:member agency:pt-space ; isecg:adoptedClaim ?c .
        ?c isecg:claimedTime/time:inXSDgYear "2020"^^<http://www.w3.org/2001/XMLSchema#gYear> ;
           dcterms:source doc:ptspace-joins-isecg }""")


def test_during_2019_is_the_year_not_its_first_day(store):
    assert ask(store, """ASK { ?m org:member agency:asa ; org:memberDuring/time:hasBeginning/
        time:inXSDgYear "2019"^^<http://www.w3.org/2001/XMLSchema#gYear> }""")


def test_every_dated_claim_has_its_own_source(store):
    assert not values(store, """SELECT ?c { ?c a ?k .
        VALUES ?k { isecg:MembershipStartClaim isecg:MembershipEndClaim }
        FILTER NOT EXISTS { ?c dcterms:source ?d } }""")


# ---------------------------------------------------------------------------------------------
# Documents (§4) and their public addresses (§5)

@pytest.mark.parametrize("edition, issued", [
    (1, "2011-09"), (2, "2013-08"), (3, "2018-01"), (4, "2024")])
def test_the_roadmap_has_four_dated_editions(store, edition, issued):
    assert values(store, f"""SELECT ?i {{ ?e isecg:editionOf doc:ger ;
        isecg:editionNumber {edition} ; dcterms:issued ?i }}""") == [issued]


def test_the_lunar_supplement_of_2020_was_updated_in_2022(store):
    assert ask(store, """ASK { doc:ger-lunar-supplement-2022 prov:wasRevisionOf
        doc:ger-lunar-supplement-2020 ; dcterms:issued "2022"^^<http://www.w3.org/2001/XMLSchema#gYear> .
        doc:ger-lunar-supplement-2020 dcterms:issued
        "2020-08"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> }""")  # noqa: E501 (query kept as is)


@pytest.mark.parametrize("document, issued", [
    ("lunar-reference-architecture-summary", "2010-07-20"),
    ("benefits-of-space-exploration", "2013-09"),
    ("isecg-annual-report-2007", "2008-03-14"),
    ("isecg-annual-report-2013", "2013-12-20"),
])
def test_documents_are_dated_as_precisely_as_their_source(store, document, issued):
    assert values(store, f"SELECT ?i {{ doc:{document} dcterms:issued ?i }}") == [issued]


@pytest.mark.parametrize("document, url", [
    ("nasa-about-isecg", "http://www.nasa.gov/exploration/about/isecg/index.html"),
    ("isecg-15th-anniversary", "https://www.globalspaceexploration.org/?p=1180"),
])
def test_the_original_sources_have_their_public_addresses(store, document, url):
    assert values(store, f"SELECT ?u {{ doc:{document} schema:url ?u }}") == [url]


def test_a_copy_is_never_given_as_a_document_own_address(store):
    """isecg-facts.md marks Wikipedia mirrors "(wiki mirror)" and reads ISECG's reports in
    docslib.org's copies: such an address is where the text was read (schema:archivedAt), not
    the document's own (schema:url), which Wikidata references cite."""
    assert not values(store, """SELECT ?u { ?d schema:url ?u
        FILTER (CONTAINS(STR(?u), "docslib.org/") || CONTAINS(STR(?u), "piglix.com/")) }""")
    # the Wikipedia article of which piglix.com keeps a copy, read at its own address
    assert values(store, "SELECT ?u { doc:piglix-bnsc schema:url ?u }") == [
        "https://en.wikipedia.org/wiki/British_National_Space_Centre"]
    assert values(store, "SELECT ?u { doc:piglix-bnsc schema:archivedAt ?u }") == [
        "http://piglix.com/piglix/British_National_Space_Centre"]
    assert values(store, "SELECT ?u { doc:isecg-annual-report-2007 schema:archivedAt ?u }") == [
        "https://docslib.org/doc/6270112/"
        "international-space-exploration-coordination-group-annual-report-2007"]


def test_every_cited_source_has_an_address_or_says_why_not(store):
    assert not values(store, """SELECT DISTINCT ?d { ?x dcterms:source ?d .
        FILTER NOT EXISTS { ?d schema:url|schema:archivedAt ?u }
        FILTER NOT EXISTS { ?d isecg:noPublicAddress ?w } }""")
    assert ask(store, "ASK { doc:exploring-together isecg:noPublicAddress ?why }")


def test_titles_no_source_gives_are_labels(store):
    assert not ask(store, "ASK { doc:isecg-15th-anniversary dcterms:title ?t }")
    assert not values(store, """SELECT ?d { ?d a isecg:Document ; dcterms:title ?t .
        FILTER NOT EXISTS { ?d isecg:titleSource ?s } }""")


# ---------------------------------------------------------------------------------------------
# What the three sources say (issue item 9)

def test_the_brochure_quotations_are_attributed_as_printed(store):
    printed = values(store, """SELECT ?who { ?q a isecg:Quotation ;
        isecg:quotedIn doc:exploring-together ; isecg:attributionAsPrinted ?who }""")
    assert printed == ["Konstantin E. Tsiolkovsky, 1857–1935", "Lao Tzu, 600–531 BC",
                       "Socrates, 470–399 BC"]


def test_isecg_was_recommended_by_the_strategy(store):
    assert ask(store, f"ASK {{ <{ID}group/isecg> isecg:recommendedBy doc:ges-framework }}")


# ---------------------------------------------------------------------------------------------
# The shapes keep it honest: each rule fails on a planted error.

def _problems(tmp_path, extra: str, engine: str) -> list[str]:
    src = tmp_path / "src"
    src.mkdir()
    for part in ("ontology", "data", "shapes"):
        subprocess.run(["cp", "-r", str(ROOT / part), str(src / part)], check=True)
    (src / "data" / "zz-planted.ttl").write_text(PFX.replace(" PREFIX", "\nPREFIX") + "\n" + extra)
    return [str(p) for p in validate(load_sources(src), engine).problems]


@pytest.mark.parametrize("planted, expect", [
    (("<https://w3id.org/isecg/id/contribution/x> a isecg:Contribution ; rdfs:label \"x\"@en ;"
      " dcterms:source doc:itwire-2007-06-03 ; prov:agent agency:uksa ;"
      " prov:hadRole isecg:AuthorRole . doc:ges-framework isecg:qualifiedAuthorship"
      " <https://w3id.org/isecg/id/contribution/x> ."), "wholly before the agency was created"),
    ("doc:ger-2 dcterms:title \"Made up\"@en .", "must come from a source"),
    ("agency:nasa isecg:nativeName \"Made up\"@fr .", "has a name statement"),
    (("<https://w3id.org/isecg/id/claim/x> a isecg:MembershipStartClaim ;"
      " isecg:certainty isecg:Stated ; isecg:excerpt \"x\"@en ;"
      " isecg:notBefore \"2020-01-01\"^^<http://www.w3.org/2001/XMLSchema#date> ."),
     "cites its own source"),
])
@pytest.mark.parametrize("engine", ["pyshacl", "sparql"])
def test_shapes_reject_planted_errors(tmp_path, planted, expect, engine):
    problems = _problems(tmp_path, planted, engine)
    assert any(expect in p for p in problems), problems


def test_the_cli_answers_members_as_of_with_statuses():
    proc = run_cli("query", "-n", "members-as-of", "--param", "date=2019-12-31", "--format", "json",
                   check=True)
    bindings = json.loads(proc.stdout)["results"]["bindings"]
    members = {b["acronym"]["value"] for b in bindings if b["status"]["value"] == "member"}
    assert len(members) == 20 and "UKSA" in members and "BNSC" not in members
