"""Each competency question's exact answer, as the three source documents state it.

Expected values are transcribed from ../shared/sources/ (quoted in the comments), never taken
from running the code.
"""

from __future__ import annotations

import csv
import io

import pytest
from conftest import run_cli
from queries import rows

ID = "https://w3id.org/isecg/id/"

# NASA page and brochure: "The following space agencies are ISECG members ... ASI (Italy), CNES
# (France), CNSA (China), CSA (Canada), CSIRO (Australia), DLR (Germany), ESA, ISRO (India),
# JAXA (Japan), KARI, NASA, NSAU (Ukraine), Roscosmos (Russia), UKSA (United Kingdom)."
# NSAU is listed as SSAU in 2022, UKSA as "UK Space Agency": the acronyms below are the graph's.
EARLY = {"ASI", "CNES", "CNSA", "CSA", "CSIRO", "DLR", "ESA", "ISRO", "JAXA", "KARI", "NASA",
         "SSAU", "Roscosmos", "UKSA"}
# 2022 article: "27 international space agencies composed of AEB (Brazil), AEM (Mexico), ASA and
# CSIRO (Australia), ..., UK Space Agency (United Kingdom) and VNSC (Vietnam)."
JOINED_LATER = {"AEB", "AEM", "ASA", "GISTDA", "LSA", "NOSA", "NZSA", "POLSA", "PT Space", "ROSA",
                "SSO", "UAE Space Agency", "VNSC"}
# NASA page: "The following space agencies participated in developing the GER: ASI, CNES, CSA,
# DLR, ESA, ISRO, JAXA, KARI, NASA, NSAU, Roscosmos, UKSA" (12; not CNSA, not CSIRO).
GER_PARTICIPANTS = EARLY - {"CNSA", "CSIRO"}
# The source of 2007 (itwire, 3 June 2007, in ../shared/reference/isecg-facts.md §2) names the
# British National Space Centre where the later lists say UKSA: UKSA replaced BNSC on 1 April 2010.
FOUNDERS = EARLY - {"UKSA"} | {"BNSC"}


def column(store, name: str, var: str, **params) -> list[str]:
    return [r[var] for r in rows(store, name, **params)]


def test_members_at_formation_are_the_fourteen_of_2007_with_bnsc_not_uksa(store):
    acronyms = column(store, "members-at-formation", "acronym")
    assert len(acronyms) == 14
    assert set(acronyms) == FOUNDERS


def test_members_in_2022_are_twenty_seven_with_ukraine_once(store):
    acronyms = column(store, "members-2022", "acronym")
    assert len(acronyms) == 27 == len(set(acronyms))
    assert set(acronyms) == EARLY | JOINED_LATER
    assert "NSAU" not in acronyms  # renamed, not a 28th member


def test_thirteen_agencies_joined_after_the_early_lists(store):
    assert set(column(store, "joined-after-early-lists", "acronym")) == JOINED_LATER
    assert len(JOINED_LATER) == 27 - 14


@pytest.mark.parametrize("date, expected", [
    ("2007-06-01", set()),                  # ISECG was formed in November 2007
    ("2007-12-01", FOUNDERS),
    ("2015-06-30", EARLY),                  # UKSA in BNSC's place since 1 April 2010
    ("2022-12-31", EARLY | JOINED_LATER),   # the 27 of the 2022 article
])
def test_members_as_of_a_date(store, date, expected):
    found = rows(store, "members-as-of", date=date)
    assert {r["acronym"] for r in found if r["status"] == "member"} == expected


def test_roadmap_participants_are_twelve(store):
    acronyms = column(store, "roadmap-participants", "acronym")
    assert len(acronyms) == 12
    assert set(acronyms) == GER_PARTICIPANTS


def test_members_that_did_not_take_part_in_the_roadmap_are_cnsa_and_csiro(store):
    assert column(store, "members-not-in-roadmap", "acronym") == ["CNSA", "CSIRO"]


def test_documents_have_kinds_dates_and_contributors(store):
    found = rows(store, "documents")
    docs = {r["label"]: r for r in found}
    credits = {}
    for r in found:
        if "contributor" in r:
            credits.setdefault(r["label"], set()).add((r["contributor"], r["role"]))
    ges = docs["The Global Exploration Strategy: The Framework for Coordination"]
    assert ges["kind"] == "strategy document"
    assert ges["issued"] == "2007-05-31"  # brochure: "released on May 31, 2007"
    assert credits[ges["label"]] == {(a, "author") for a in FOUNDERS}
    ger1 = docs["The Global Exploration Roadmap (first edition)"]
    assert ger1["kind"] == "roadmap edition"
    assert ger1["issued"] == "2011-09"  # LPI: "The initial roadmap issued in September 2011"
    # NASA page: "developed by the ISECG", with the 12 participating agencies; isecg-facts-2.md
    # B1 (IAC-11 paper): "The ISECG's International Objectives Working Group (IOWG) consolidated
    # ... inputs ... to establish the common goals" that guided it.
    assert credits[ger1["label"]] == {(a, "author") for a in GER_PARTICIPANTS | {"ISECG"}} | {
        ("IOWG", "contributor")}
    # 2022 article: the four documents ISECG contributed to.
    for title in ("The Global Exploration Roadmap, 3rd Edition",
                  "Broad Public Engagement in Future Lunar Exploration",
                  "Scientific Opportunities enabled by Human Exploration beyond Low Earth Orbit",
                  "Benefits stemming from Space Exploration"):
        assert ("ISECG", "contributor") in credits[title]
    assert docs["ISECG Reference Architecture for Human Lunar Exploration"]["kind"] == \
        "reference architecture"
    assert credits["About the International Space Exploration Coordination Group"] == \
        {("NASA", "publisher")}


def test_agencies_per_country_and_esa_in_europe(store):
    per = {r["label"]: int(r["agencies"]) for r in rows(store, "agencies-per-country")}
    assert per["Australia"] == 2  # "ASA and CSIRO (Australia)"
    assert per["Europe"] == 1     # ESA, intergovernmental
    assert per["Republic of Korea"] == 1  # KARI, also written "South Korea"
    assert sum(per.values()) == 27


def test_only_australia_has_more_than_one_member_agency(store):
    assert column(store, "countries-with-several-members", "label") == ["Australia"]


def test_ukraine_agency_history_is_one_agency_renamed(store):
    history = rows(store, "ukraine-agency-history")
    assert {r["agency"] for r in history} == {ID + "agency/ssau"}
    assert {(r["formerName"], r["newName"]) for r in history} == {("NSAU", "SSAU")}
    assert {r["formerNameSource"] for r in history} == {
        ID + "document/nasa-about-isecg", ID + "document/exploring-together"}
    assert {r["newNameSource"] for r in history} == {ID + "document/isecg-15th-anniversary"}


def test_the_five_themes_in_order(store):
    assert column(store, "themes", "label") == [
        "New knowledge in science and technology",
        "A sustained presence – extending human frontiers",
        "Economic expansion",
        "A global partnership",
        "Inspiration and education",
    ]


def test_destinations_are_moon_mars_and_near_earth_asteroids(store):
    assert set(column(store, "destinations", "label")) == {"Moon", "Mars", "near-Earth asteroids"}


def test_roadmap_pathways_over_25_years(store):
    found = {r["label"]: r["horizon"] for r in rows(store, "roadmap-pathways")}
    assert found == {"Asteroid Next": "P25Y", "Moon Next": "P25Y"}


def test_wikidata_items_are_the_checked_ones(store):
    items = {r["entity"]: r["item"] for r in rows(store, "wikidata-items")}
    wd = "http://www.wikidata.org/entity/"
    assert items[ID + "agency/nasa"] == wd + "Q23548"
    assert items[ID + "agency/esa"] == wd + "Q42262"
    assert items[ID + "country/republic-of-korea"] == wd + "Q884"
    assert items[ID + "region/europe"] == wd + "Q46"
    # wikidata.md: no QID could be checked for these; they must stay unlinked.
    for unlinked in ("agency/csiro", "agency/pt-space", "agency/vnsc", "group/isecg"):
        assert ID + unlinked not in items
    assert sum(k.startswith(ID + "agency/") for k in items) == 25  # with BNSC (Q3645089)


def test_sources_of_a_founding_membership(store):
    found = column(store, "sources-of-claim", "source", claim=ID + "membership/nasa")
    assert set(found) == {ID + "document/nasa-about-isecg", ID + "document/exploring-together",
                          ID + "document/isecg-15th-anniversary"}


def test_sources_of_a_membership_give_their_public_addresses(store):
    found = {r["source"]: r.get("url") for r in rows(store, "sources-of-claim",
                                                      claim=ID + "membership/nasa")}
    # isecg-facts.md §5: the NASA page and the 2022 article have public addresses; the
    # brochure's was not found.
    assert found[ID + "document/nasa-about-isecg"] == \
        "http://www.nasa.gov/exploration/about/isecg/index.html"
    assert found[ID + "document/isecg-15th-anniversary"] == \
        "https://www.globalspaceexploration.org/?p=1180"
    assert found[ID + "document/exploring-together"] is None


def test_sources_of_an_authorship(store):
    found = rows(store, "sources-of-claim", claim=ID + "contribution/ger-1-cnes-author")
    assert [(r["source"], r["publisher"]) for r in found] == [
        (ID + "document/nasa-about-isecg", "NASA")]


def test_membership_counts_per_source_year(store):
    found = {r["year"]: int(r["members"]) for r in rows(store, "membership-counts")}
    assert found == {"2010": 14, "2011": 14, "2022": 27}


def test_cli_binds_a_parameter_through_the_engine(dist):
    proc = run_cli("query", "-n", "members-as-of", "--param", "date=2015-06-30",
                   "--dist", str(dist), "--format", "csv", check=True)
    table = list(csv.reader(io.StringIO(proc.stdout)))
    assert table[0][:5] == ["date", "agency", "label", "acronym", "status"]
    # every agency the graph knows, with its standing; 14 members before the UAE (Oct 2015)
    assert len(table) == 1 + 28
    assert sum(row[4] == "member" for row in table[1:]) == 14


def test_cli_rejects_a_malformed_parameter(dist):
    proc = run_cli("query", "-n", "members-as-of", "--param", "date=not-a-date",
                   "--dist", str(dist))
    assert proc.returncode == 2
    assert "date" in proc.stderr
