"""web/pages/svg.py: the membership picture follows the members-as-of rule and invents no dates."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from isecg_kg.web.pages import svg


def test_steps_follow_the_sourced_claims(source_store):  # noqa: F811
    # isecg-facts.md §2-§3: 14 from November 2007 (certain from its last day); UKSA replaces
    # BNSC on 1 April 2010; the UAE joins on 5 October 2015; five more in 2019 (20 at its end);
    # NOSA and VNSC by 12 March 2020 (22); GISTDA on 31 August 2020; 27 from the meeting of
    # 30 Nov - 2 Dec 2021.
    found = {s.day: s for s in svg.steps(source_store)}
    assert found["2007-11-30"].members == 14 and found["2007-11-30"].possibly == 0
    assert found["2007-11-01"].members == 0 and found["2007-11-01"].possibly == 14
    assert found["2010-04-01"].joined == ("UKSA",) and found["2010-04-01"].left == ("BNSC",)
    assert found["2015-10-05"].members == 15 and found["2015-10-05"].joined == ("UAE Space Agency",)
    assert found["2019-12-31"].members == 20
    assert found["2020-03-12"].members == 22
    assert "GISTDA" in found["2020-08-31"].joined
    assert found["2021-12-02"].members == 27 and found["2021-12-02"].possibly == 0
    assert max(s.members for s in found.values()) == 27


def test_svg_is_well_formed_accessible_and_static(source_store):  # noqa: F811
    text = svg.membership_svg(source_store)
    root = ET.fromstring(text)  # well-formed XML, no script
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title") is not None and root.find(f"{ns}desc") is not None
    assert "<script" not in text
    desc = root.find(f"{ns}desc").text
    assert "from 2019-12-31: 20 members" in desc and "from 2021-12-02: 27 members" in desc
    assert svg.membership_svg(source_store) == text  # deterministic
