"""web/pages/record.py and web/pages/participation.py: the words and the picture of who did what.

Expected values come from ../shared/reference/isecg-facts.md and isecg-facts-2.md (quoted).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from isecg_kg.web.pages import participation, record

ID = "https://w3id.org/isecg/id/"


@pytest.mark.parametrize("lexical, words", [
    ("2007-11", "November 2007"), ("2015-10-05", "5 October 2015"), ("2019", "2019"),
    ("2020-03-13/2020-09-09", "between 13 March 2020 and 9 September 2020"),
    ("2007-11 until 2010-04-01", "November 2007 until 1 April 2010"), ("", ""),
])
def test_dates_keep_their_precision_in_words(lexical, words):
    assert record.human_when(lexical) == words


def test_bnscs_record(source_store):  # noqa: F811
    s = record.agency_summary(source_store, ID + "agency/bnsc")
    # isecg-facts.md §2: a founder (November 2007), replaced by UKSA on 1 April 2010; the GES
    # author (itwire); C20: "Great Britain" at Montreal; C22: not among Noordwijk's absent
    assert [m.when for m in s.member] == ["November 2007 until 1 April 2010"]
    assert [p.iri for p in s.products] == [ID + "document/ges-framework"]
    assert {(m.iri.rsplit("/", 1)[-1], m.implied) for m in s.attended} == {
        ("isecg-2-montreal", True), ("isecg-4-noordwijk", True)}
    assert not s.chairs and not s.absent


def test_only_agencies_and_the_group_get_a_summary(source_store):  # noqa: F811
    assert record.agency_summary(source_store, ID + "group/isecg") is None
    assert record.group_overview(source_store, ID + "agency/nasa") is None
    overview = record.group_overview(source_store, ID + "group/isecg")
    # C2, C7, C8-C10, C11, C12, C13: eight tenures; C10: CSA until 30 September 2014
    assert len(overview.chairs) == 8
    csa = next(c for c in overview.chairs if c.tenure.endswith("csa-2012"))
    assert (csa.begins, csa.ends, csa.words) == ("2012", "30 September 2014",
                                                 "from 2012 until 30 September 2014")


def test_the_participation_table_and_picture(source_store):  # noqa: F811
    columns, rows, cells = participation.table(source_store)
    assert [(c.short, c.issued) for c in columns] == [
        ("GES", "2007-05-31"), ("GER 1", "2011-09"), ("GER 2", "2013-08"), ("GER 3", "2018-01"),
        ("Suppl.", "2020-08")]
    assert rows[0] == "ASI" and "AEB" in rows and "ISECG" not in rows  # agencies only
    assert cells[("UAE Space Agency", columns[3].product)] == ("author", True)   # A5, implied
    assert cells[("NASA", columns[3].product)] == ("author", False)              # A5, named
    text = participation.participation_svg(source_store)
    root = ET.fromstring(text)
    assert root.get("width") == "360" and "<script" not in text
    assert participation.participation_svg(source_store) == text  # deterministic
