"""svg.py: the membership picture counts what each source attests and invents no join years."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from isecg_kg import svg
from test_describe import source_store  # noqa: F401  (fixture)


def test_bars_are_the_formation_and_each_sources_member_list(source_store):  # noqa: F811
    # 2022 article: formed November 2007; brochure (~2010) and NASA page (~2011) list 14 members;
    # the 2022 article lists 27 (NSAU renamed SSAU is one agency, not a new member).
    bars = [(b.when, b.approximate, b.count, b.what) for b in svg.attestations(source_store)]
    assert bars == [("2007-11", False, 14, "formation"), ("2010", True, 14, "listed"),
                    ("2011", True, 14, "listed"), ("2022", False, 27, "listed")]
    assert svg.first_listed_last(source_store, svg.attestations(source_store)) == 13


def test_svg_is_well_formed_has_text_and_no_join_years(source_store):  # noqa: F811
    text = svg.membership_svg(source_store)
    root = ET.fromstring(text)  # well-formed XML, no script
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title") is not None and root.find(f"{ns}desc") is not None
    assert "<script" not in text and "<polyline" not in text and "<path" not in text
    words = " ".join(t.text or "" for t in root.iter(f"{ns}text"))
    assert "c. 2010" in words and "c. 2011" in words and "November 2007" in words
    assert "no join dates known for the 13 agencies" in words
