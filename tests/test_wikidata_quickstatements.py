"""wikidata/quickstatements.py: ISECG memberships as QuickStatements, with the dates and the
references the sources give (expected values as in tests/test_wikidata.py)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import ROOT, run_cli
from isecg_kg.errors import InputError
from wikidata_facts import (
    AGENCY_QIDS,
    FOUNDERS,
    LATER_STARTS,
    NO_QID_AGENCIES,
    TEST_ISECG_QID,
    WD,
)


def qs_lines(stdout: str) -> list[list[str]]:
    return [ln.split("\t") for ln in stdout.splitlines() if ln]


def test_quickstatements_refuses_without_isecg_qid():
    proc = run_cli("link", "quickstatements")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "--isecg-qid is required" in proc.stderr


@pytest.mark.parametrize("bad", ["ISECG", "Q0", "Q012", "P463", "Q12x", "L1"])
def test_quickstatements_rejects_a_malformed_qid(bad):
    from isecg_kg.wikidata.quickstatements import normalize_qid

    with pytest.raises(InputError, match="not a Wikidata item id"):
        normalize_qid(bad)


def test_quickstatements_accepts_qid_forms():
    from isecg_kg.wikidata.quickstatements import normalize_qid

    for form in ("Q42", "wd:Q42", WD + "Q42", "https://www.wikidata.org/wiki/Q42"):
        assert normalize_qid(form) == "Q42"


def test_quickstatements_batch():
    proc = run_cli("link", "quickstatements", "--isecg-qid", TEST_ISECG_QID)
    assert proc.returncode == 0, proc.stderr
    rows = qs_lines(proc.stdout)
    by_qid = {v: k for k, v in AGENCY_QIDS.items()}
    seen = set()
    for row in rows:
        # Qagency P463 Qisecg [P580 time] [P582 time] S854 "url" S813 time
        assert row[1:3] == ["P463", TEST_ISECG_QID], row
        agency = by_qid[row[0]]
        seen.add(agency)
        pairs = dict(zip(row[3::2], row[4::2], strict=False))  # the next line checks they pair
        assert len(row) % 2 == 1 and set(pairs) <= {"P580", "P582", "S854", "S813"}, row
        if agency in FOUNDERS:
            assert pairs["P580"] == "+2007-11-00T00:00:00Z/10"
        else:
            assert pairs["P580"] == LATER_STARTS.get(agency), (agency, pairs)
        # BNSC's membership ended when UKSA replaced it; no other has ended
        assert pairs.get("P582") == ("+2010-04-01T00:00:00Z/11" if agency == "bnsc" else None)
        # the public address where the source was read, never our own document IRI
        assert re.fullmatch(r'"https?://[^"\s]+"', pairs["S854"])
        assert "w3id.org" not in pairs["S854"]
        assert pairs["S813"] == "+2026-12-03T00:00:00Z/11"  # isecg-facts.md: read on 2026-12-03
    assert seen == set(AGENCY_QIDS)
    nasa = {dict(zip(r[3::2], r[4::2], strict=True))["S854"] for r in rows if r[0] == "Q23548"}
    # NASA's page and the 2022 article, at their public addresses (isecg-facts.md §5); the
    # brochure has none and cannot be cited
    assert {'"http://www.nasa.gov/exploration/about/isecg/index.html"',
            '"https://www.globalspaceexploration.org/?p=1180"'} <= nasa
    assert "agency:csiro" in proc.stderr  # reported as skipped (no QID)


def test_quickstatements_never_put_uksa_before_2010():
    proc = run_cli("link", "quickstatements", "--isecg-qid", TEST_ISECG_QID, check=True)
    uksa = {dict(zip(r[3::2], r[4::2], strict=True)).get("P580") for r in qs_lines(proc.stdout)
            if r[0] == "Q1140638"}
    assert uksa == {"+2010-04-01T00:00:00Z/11"}


def test_quickstatements_window_becomes_its_calendar_unit():
    from isecg_kg.wikidata.quickstatements import _window_time

    assert _window_time("2020-03-13", "2020-03-31") == "+2020-03-00T00:00:00Z/10"
    assert _window_time("2020-03-13", "2020-09-09") == "+2020-00-00T00:00:00Z/9"
    assert _window_time("2020-12-01", "2021-01-31") is None


def test_quickstatements_retrieved_date_stands_in_only_where_none_is_recorded():
    from isecg_kg.builder.load import load_sources
    from isecg_kg.wikidata.quickstatements import (
        MembershipStatement,
        membership_statements,
        quickstatements,
    )

    statements, skipped = membership_statements(load_sources(ROOT))
    lines = quickstatements(statements, "Q1", retrieved=date(2030, 1, 2))
    assert all(ln.endswith("S813\t+2026-12-03T00:00:00Z/11") for ln in lines)
    assert {s.rsplit("/", 1)[-1] for s in skipped} == NO_QID_AGENCIES
    unread = MembershipStatement("a", "A", "Q5", None, None, (("https://example.org/", None),))
    assert quickstatements([unread], "Q1", retrieved=date(2030, 1, 2)) == [
        'Q5\tP463\tQ1\tS854\t"https://example.org/"\tS813\t+2030-01-02T00:00:00Z/11']


def test_quickstatements_skips_statements_the_endpoint_has(wikidata):
    proc = run_cli("link", "quickstatements", "--isecg-qid", TEST_ISECG_QID,
                   "--endpoint", wikidata, timeout=120)
    assert proc.returncode == 0, proc.stderr
    items = {row[0] for row in qs_lines(proc.stdout)}
    # the fixture's NASA and ESA items already say member of the placeholder ISECG item
    assert items == set(AGENCY_QIDS.values()) - {"Q23548", "Q42262"}
    # another ISECG QID: nothing to skip
    proc = run_cli("link", "quickstatements", "--isecg-qid", "Q999999998",
                   "--endpoint", wikidata, timeout=120)
    assert {row[0] for row in qs_lines(proc.stdout)} == set(AGENCY_QIDS.values())
