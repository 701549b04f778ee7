"""What the Wikidata tests expect, from shared/reference/wikidata.md (the checked QIDs) and the
sources (as recorded in data/), never from running the code; and the Wikidata-shaped fixture a
real Oxigraph server serves in Wikidata's place (conftest's ``wikidata``)."""

from __future__ import annotations

from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "wikidata" / "wikidata.ttl"
TEST_ISECG_QID = "Q999999999"  # placeholder: ISECG's real QID is unknown (wikidata.md)
WD = "http://www.wikidata.org/entity/"

# shared/reference/wikidata.md: agency -> QID
AGENCY_QIDS = {
    "nasa": "Q23548", "esa": "Q42262", "jaxa": "Q179103", "cnes": "Q48756", "kari": "Q494948",
    "dlr": "Q157332", "csa": "Q212227", "asi": "Q392953", "isro": "Q229058", "cnsa": "Q320644",
    "roscosmos": "Q190795", "aeb": "Q853604", "aem": "Q2582603", "asa": "Q53478952",
    "gistda": "Q3269204", "lsa": "Q56669793", "nosa": "Q261868", "nzsa": "Q39056587",
    "polsa": "Q18203370", "rosa": "Q3270339", "ssau": "Q1427620", "sso": "Q4357330",
    "uae-space-agency": "Q20905490", "uksa": "Q1140638", "bnsc": "Q3645089",
}
NO_QID_AGENCIES = {"csiro", "pt-space", "vnsc"}  # "not found" in wikidata.md
# The 14 agencies that set ISECG up in November 2007 (the source of 2007 in isecg-facts.md §2,
# with BNSC for the United Kingdom; the 2022 article's month).
FOUNDERS = {"asi", "bnsc", "cnes", "cnsa", "csa", "csiro", "dlr", "esa", "isro", "jaxa", "kari",
            "nasa", "roscosmos", "ssau"}
# isecg-facts.md §3: the start of each later membership at the precision its adopted source gives.
LATER_STARTS = {
    "uksa": "+2010-04-01T00:00:00Z/11",              # replaced BNSC on 1 April 2010
    "uae-space-agency": "+2015-10-05T00:00:00Z/11",  # "on 5 October 2015, in Cologne"
    "asa": "+2019-00-00T00:00:00Z/9", "rosa": "+2019-00-00T00:00:00Z/9",
    "sso": "+2019-00-00T00:00:00Z/9", "lsa": "+2019-00-00T00:00:00Z/9",
    "polsa": "+2019-00-00T00:00:00Z/9",              # AR 2019: welcomed in 2019
    "nosa": "+2020-00-00T00:00:00Z/9",               # between 1 January and 12 March 2020
    # ISECG's post of 18 September 2020 (?p=1109): AEB and GISTDA "joined ISECG since the last
    # senior agency managers meeting in March"; NSTDA's "Monday 31 August" is the day it was
    # announced (isecg-facts.md §3), so the start is a window of 2020
    "gistda": "+2020-00-00T00:00:00Z/9",
    "aeb": "+2020-00-00T00:00:00Z/9",                # between the March and September meetings
    "aem": "+2020-00-00T00:00:00Z/9",                # "at the end of 2020" (Portugal Space)
    "nzsa": "+2021-00-00T00:00:00Z/9",               # 27th member, in 2021
}
