"""Who did what (issue 22): each named query's answer, as isecg-facts-2.md gives it.

Every expected value is transcribed from the facts file (its row quoted in the comment), never
taken from running the code.
"""

from __future__ import annotations

import pytest
from queries import rows

ID = "https://w3id.org/isecg/id/"

# A1 (LPI feature, 2013): "The participating space agencies represent Italy, France, Canada,
# Germany, the European Space Agency, India, Japan, the Republic of Korea, the United States, the
# Ukraine, Russia and the United Kingdom." (no China, no Australia); the country-to-agency mapping
# is implied; ESA is named; A2: "NASA and 11 other ISECG member agencies have released".
GER_2 = {"ASI", "CNES", "CSA", "DLR", "ESA", "ISRO", "JAXA", "KARI", "NASA", "SSAU", "Roscosmos",
         "UKSA"}
# A5: "authored by NASA and the other 14 space agencies that comprise ISECG"; D9 (GLEX, June
# 2017): "15 Space Agencies (ASI, CNES, CNSA, CSA, CSIRO, DLR, ESA, ISRO, JAXA, KARI, NASA,
# NSAU, Roscosmos, UAESA, UKSA) are active participants" (NSAU is the graph's SSAU).
GER_3 = {"ASI", "CNES", "CNSA", "CSA", "CSIRO", "DLR", "ESA", "ISRO", "JAXA", "KARI", "NASA",
         "SSAU", "Roscosmos", "UAE Space Agency", "UKSA"}
# A9: "plans from nine new ISECG members"; isecg-facts.md §3: the seven welcomed since January
# 2018 by March 2020 and AEB and GISTDA welcomed in September 2020.
SUPPLEMENT_2020 = {"ASA", "LSA", "NOSA", "POLSA", "ROSA", "SSO", "VNSC", "AEB", "GISTDA"}


def participants(store, label: str) -> dict[str, tuple[str, str]]:
    return {r["acronym"]: (r["role"], r["certainty"])
            for r in rows(store, "product-participants") if r["title"] == label}


def test_the_2013_roadmap_had_twelve_participants_mapped_from_countries(store):
    found = participants(store, "The Global Exploration Roadmap (second edition)")
    agencies = {a for a, (role, _) in found.items() if role == "author"}
    assert agencies == GER_2
    assert "CNSA" not in found and "CSIRO" not in found
    # named as agencies (ESA in A1, NASA in A2): stated; the rest named by country: implied
    assert {a for a in agencies if found[a][1] == "stated"} == {"ESA", "NASA"}
    assert all(found[a][1] == "implied" for a in agencies - {"ESA", "NASA"})


def test_the_2018_roadmap_was_authored_by_nasa_and_fourteen_others(store):
    found = participants(store, "The Global Exploration Roadmap, 3rd Edition")
    authors = {a for a, (role, _) in found.items() if role == "author"}
    assert authors == GER_3 and len(authors) == 15
    assert found["NASA"] == ("author", "stated")


def test_the_first_roadmap_keeps_nasas_twelve_and_the_iowg_goals(store):
    found = participants(store, "The Global Exploration Roadmap (first edition)")
    # source 000: "ASI (Italy), CNES (France), CSA (Canada), DLR (Germany), ESA, ISRO (India),
    # JAXA (Japan), (KARI (Republic of Korea), NASA, NSAU (Ukraine), Roscosmos (Russia), UKSA"
    # -- not CNSA or CSIRO (A4's other list is a claim only); B1: the IOWG set the goals
    ger_1 = {"ASI", "CNES", "CSA", "DLR", "ESA", "ISRO", "JAXA", "KARI", "NASA", "SSAU",
             "Roscosmos", "UKSA", "ISECG"}
    assert {a for a, (role, _) in found.items() if role == "author"} == ger_1
    assert found["IOWG"] == ("contributor", "stated")


def test_the_2020_supplement_carries_the_plans_of_nine_new_members(store):
    found = participants(store, "Global Exploration Roadmap Supplement: Lunar Surface "
                                "Exploration Scenario Update (2020)")
    contributors = {a for a, (role, c) in found.items() if role == "contributor"}
    assert contributors == SUPPLEMENT_2020
    assert all(found[a][1] == "implied" for a in contributors)


def test_the_science_white_paper_was_led_by_the_sag_with_cospar_sservi_and_esf(store):
    # A13: "An international Science Advisory Group was chartered by ISECG to lead this effort."
    # / "produced in coordination with the COSPAR Panel for Exploration, NASA's SSERVI, the ESF"
    found = participants(store, "Scientific Opportunities enabled by Human Exploration beyond "
                                "Low Earth Orbit")
    assert found["SAG"] == ("lead", "stated")
    for body in ("COSPAR Panel for Exploration", "SSERVI", "ESF"):
        assert found[body] == ("contributor", "stated")


def test_the_reference_architecture_summary_and_the_technology_needs_have_their_groups(store):
    # A15: "ISECG International Architecture Working Group, July 2010"; B16/C19: "International
    # Space Exploration Coordination Group Technology Working Group", 2019-12-13
    ra = participants(store, "ISECG Reference Architecture for Human Lunar Exploration, "
                             "summary report")
    assert ra["IAWG"] == ("author", "stated")
    tech = [r for r in rows(store, "product-participants")
            if r["title"] == "Global Exploration Roadmap Critical Technology Needs"]
    assert [(r["acronym"], r["role"], r["issued"]) for r in tech] == [
        ("ISECG Technology Working Group", "author", "2019-12-13")]


def chairs(store, date: str) -> set[tuple[str, str]]:
    return {(r["status"], r.get("acronym", "")) for r in rows(store, "chair-on-date", date=date)}


@pytest.mark.parametrize("date, expected", [
    ("2009-03-11", {("chair", "JAXA")}),     # C6: JAXA chaired the 3rd meeting, 10-12 March 2009
    ("2009-05-19", {("chair", "JAXA")}),     # C2: ESA took over with the teleconference of 20 May
    ("2009-05-20", {("chair", "ESA")}),
    ("2011-08-30", {("chair", "JAXA")}),     # C7: Hasagawa of JAXA, chairman, 30 Aug 2011
    ("2012-06-01", {("possibly", "CSA")}),   # C8: CSA took the chair in 2012 (year implied)
    ("2014-01-09", {("chair", "CSA")}),      # C9: CSA "the current ISECG chair agency"
    ("2014-09-29", {("chair", "CSA")}),      # C10: CSA handed over to ESA on 30 Sep 2014
    ("2014-09-30", {("chair", "ESA")}),
    ("2015-06-01", {("unknown", "")}),       # F: no chair named for 2015-16
    ("2017-10-16", {("chair", "NASA")}),     # C11: Kathy Laurini, NASA, current chair
    ("2018-06-01", {("unknown", "")}),       # F: none named for 2018
    ("2020-06-01", {("possibly", "JAXA")}),  # C12: JAXA "currently chairs" (post of about 2020)
    ("2021-06-01", {("possibly", "CSA")}),   # C13: Christian Lange of CSA, about 2021
    ("2023-06-01", {("unknown", "")}),       # F: none named for 2022-26
])
def test_who_chaired_isecg_on_a_date(store, date, expected):
    assert chairs(store, date) == expected


def test_nasas_turn_of_2010_is_a_plan_not_a_chair(store):
    # C2: "NASA will assume Chairmanship from ESA in 2010." No page says it happened.
    found = rows(store, "chair-on-date", date="2010-06-01")
    assert [r["status"] for r in found] == ["unknown"]
    assert "NASA" in found[0]["plan"]


def test_the_chairs_in_order(store):
    found = rows(store, "chairs")
    assert [r["acronym"] for r in found] == ["JAXA", "ESA", "JAXA", "CSA", "ESA", "NASA", "JAXA",
                                             "CSA"]
    ends = {(r["acronym"], r.get("begins"), r.get("ends")) for r in found}
    # C2 and C10: each handover to its day; C8: CSA's start only as a year
    assert ("JAXA", None, "2009-05-20") in ends and ("ESA", "2009-05-20", None) in ends
    assert ("CSA", "2012", "2014-09-30") in ends and ("ESA", "2014-09-30", None) in ends


def record(store, agency: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in rows(store, "agency-record", agency=ID + "agency/" + agency):
        out.setdefault(r["kind"], set()).add(r["item"].rsplit("/", 1)[-1])
    return out


def test_the_record_of_csa(store):
    found = record(store, "csa")
    assert found["member"] == {"csa"}
    # C8/C10 and C13: CSA chaired from about 2012 to 30 September 2014, and about 2021
    assert found["chair"] == {"isecg-chair-csa-2012", "isecg-chair-csa-2021"}
    # GES (itwire), GER 1 (NASA), GER 2 (A1, Canada), GER 3 (A5), the IAC-18 paper (A7)
    assert {"ges-framework", "ger-1", "ger-2", "ger-3", "iac-2018-46733"} <= found["document"]
    # C20 (Montreal, Canada listed), C22 (Noordwijk, not among the absent), C24 (Kyoto, Canada),
    # C25 (its own meeting), C9 (ISEF), A14 (Paris workshop), C29 list (the 2021 meeting)
    assert found["attended"] == {"isecg-2-montreal", "isecg-4-noordwijk", "kyoto-2011",
                                 "csa-hosted-2012", "isef-2014", "cospar-isecg-workshop-2016",
                                 "virtual-2021"}
    assert "absent" not in found


def test_the_record_of_cnsa_names_the_meeting_it_missed(store):
    found = record(store, "cnsa")
    # C22: "CNSA, CSIRO, NSAU and Roscosmos were absent from the meeting."
    assert found["absent"] == {"isecg-4-noordwijk"}
    # C25's list, D8/C26 (Cheng Wang, CNSA, at Darmstadt), the 2021 list
    assert found["attended"] == {"csa-hosted-2012", "darmstadt-2015", "virtual-2021"}
    assert "chair" not in found


def test_working_groups_by_the_years_the_reports_list_them(store):
    years: dict[str, set[str]] = {}
    leads, produced = {}, {}
    for r in rows(store, "working-groups"):
        key = r.get("acronym") or r["label"]
        if r["year"]:
            years.setdefault(key, set()).add(r["year"])
        leads[key], produced[key] = r.get("leads", ""), r.get("produced", "")
    # C15 (AR 2009), C16 (AR 2010, 2011), C17 (AR 2013)
    assert years["IAWG"] == {"2009", "2010", "2011", "2013"}
    assert years["IOWG"] == {"2009", "2010", "2011", "2013"}
    assert years["ERWG"] == {"2010", "2011", "2013"}
    assert years["SCWG"] == {"2010", "2011", "2013"}
    assert years["International Space Exploration Coordination Tool (InterSECT)"] == {
        "2009", "2010", "2011"}
    assert years["Mapping the Barriers to Human Exploration Working Group"] == {"2009"}
    # C14: ISWG/IAWG "under the leadership of NASA"; A15: the summary report; C18: co-chairs
    assert leads["IAWG"] == "NASA" and "summary report" in produced["IAWG"]
    assert set(leads["ISECG Science Working Group"].split(", ")) == {"J. Hill", "F. Spiero"}
    assert set(leads["SAG"].split(", ")) == {"B. Bussey", "JC. Worms"}


def meetings(store) -> dict[str, dict[str, str]]:
    return {r["meeting"].rsplit("/", 1)[-1]: r for r in rows(store, "meetings")}


@pytest.mark.parametrize("meeting, begins, ends, count, host", [
    ("isecg-2-montreal", "2008-07-10", "2008-07-12", "11", "CSA"),    # C20
    ("isecg-4-noordwijk", "2009-12-02", "2009-12-03", "10", "ESA"),   # C22
    ("kyoto-2011", "2011-08-30", "2011-08-30", "10", None),           # C24
    ("csa-hosted-2012", "2012", "2012", "11", "CSA"),                 # C25 (year implied)
    ("darmstadt-2015", "2015-10-07", "2015-10-07", "14", None),       # C26
    ("noordwijk-2019", "2019-03-18", "2019-03-19", "15", None),       # C27
    ("virtual-2020-03", "2020-03-12", "2020-03-13", "17", None),      # C28
    ("virtual-2021", "2021-11-30", "2021-12-02", "24", None),         # C29
    ("songdo-2023", "2023-12-07", "2023-12-08", "20", "KARI"),        # C30
])
def test_meetings_with_the_pages_counts(store, meeting, begins, ends, count, host):
    m = meetings(store)[meeting]
    assert (m["begins"], m["ends"], m.get("count"), m.get("host")) == (begins, ends, count, host)


def test_noordwijk_2009_names_four_absent_and_yokohama_keeps_both_counts(store):
    m = meetings(store)
    assert set(m["isecg-4-noordwijk"]["absent"].split(", ")) == {"CNSA", "CSIRO", "SSAU",
                                                                 "Roscosmos"}
    assert "count" not in m["isecg-3-yokohama"]  # C21: nine or ten, neither adopted
    sides = {r["claim"]: r["adopted"] for r in rows(store, "disputes")
             if r["subject"] == ID + "meeting/isecg-3-yokohama"}
    assert len(sides) == 2 and set(sides.values()) == {"false"}


def test_attendance_names_the_present_and_the_absent(store):
    found = {(r["meeting"].rsplit("/", 1)[-1], r["acronym"]): (r["attendance"], r["certainty"])
             for r in rows(store, "meeting-attendance")}
    assert found[("isecg-4-noordwijk", "Roscosmos")] == ("absent", "stated")
    assert found[("isecg-4-noordwijk", "JAXA")] == ("present", "implied")
    # A14: "CNES, the Canadian Space Agency (CSA), the German Aerospace Center (DLR), ..."
    assert {a for (m, a), v in found.items() if m == "cospar-isecg-workshop-2016"} == {
        "CNES", "CSA", "DLR", "ESA", "ISRO", "NASA"}
    # C26: Russia represented by TsNIImash at Darmstadt
    assert found[("darmstadt-2015", "TSNIIMASH")] == ("present", "stated")


def test_the_nine_recorded_disagreements_are_disputes_with_sourced_sides(store):
    found = rows(store, "disputes")
    disputes = {r["dispute"] for r in found}
    assert len(disputes) == 9  # A4, A6, A12, C3, C21, D8, E7, E11, E12
    assert all(int(r["sources"]) >= 1 for r in found)
    adopted = {r["dispute"].rsplit("/", 1)[-1]: r["claim"] for r in found
               if r["adopted"] == "true"}
    assert len(adopted) == 8  # all but Yokohama's count
    assert "NASA" in adopted["ger-1-authors"]          # A4: "Trust NASA's list"
    assert "15" in adopted["members-at-ger-3"]         # A12: "15 is right for 2018"
    assert "as ISECG lists it" in adopted["cnsa-status-2013"]  # D8


def test_the_founding_is_dated_to_the_day_with_the_month_kept(store):
    # D1: "established in Berlin, Germany on 6 November 2007"; isecg-facts.md §3: November 2007
    q = f"""PREFIX isecg: <https://w3id.org/isecg/ontology#> PREFIX time: <http://www.w3.org/2006/time#>
    SELECT ?t WHERE {{ ?c isecg:claimSubject <{ID}event/isecg-formation> ;
      isecg:claimedTime/(time:inXSDDate|time:inXSDgYearMonth) ?t }} ORDER BY ?t"""
    assert [r[0].value for r in store.query(q, use_default_graph_as_union=True)] == [
        "2007-11", "2007-11-06"]
    place = store.query(f"""PREFIX isecg: <https://w3id.org/isecg/ontology#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?l WHERE {{ <{ID}event/isecg-formation> isecg:heldIn/rdfs:label ?l }}""",
                        use_default_graph_as_union=True)
    assert [r[0].value for r in place] == ["Berlin"]


def test_the_secretariat_is_hosted_by_esa_since_montreal(store):
    # C1: "establishing an ISECG secretariat to be initially hosted by the European Space Agency"
    q = f"""PREFIX isecg: <https://w3id.org/isecg/ontology#> ASK {{
      <{ID}unit/secretariat> isecg:hostedBy <{ID}agency/esa> ;
        isecg:establishedAt <{ID}meeting/isecg-2-montreal> ; isecg:unitOf <{ID}group/isecg> }}"""
    assert store.query(q, use_default_graph_as_union=True)
