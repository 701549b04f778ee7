"""QuickStatements of ISECG's memberships (builder/quickstatements.py, and wikidata/
quickstatements.py for `link quickstatements`): the dates and the references the sources give
(expected values as in tests/test_wikidata.py), the file every build writes with ISECG's item
as a placeholder QuickStatements refuses, served among the downloads."""

from __future__ import annotations

import hashlib
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
    # it says where to look and names no file a user lacks, and no example QID (every Q-number
    # is some item: a copied example would put the statements on it)
    assert "look up ISECG on Wikidata" in proc.stderr and "isecg-quickstatements.txt" in proc.stderr
    assert "shared/" not in proc.stderr and not re.search(r"Q\d", proc.stderr)
    usage = run_cli("link", "quickstatements", "--help").stdout
    assert "--isecg-qid QID [" in usage and "[--isecg-qid" not in usage  # shown as required


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
        assert len(row) % 2 == 1 and set(pairs) <= {"P580", "P582", "S854", "S1065", "S813"}, row
        if agency in FOUNDERS:
            assert pairs["P580"] == "+2007-11-00T00:00:00Z/10"
        else:
            assert pairs["P580"] == LATER_STARTS.get(agency), (agency, pairs)
        # BNSC's membership ended when UKSA replaced it; no other has ended
        assert pairs.get("P582") == ("+2010-04-01T00:00:00Z/11" if agency == "bnsc" else None)
        # the source's own public address, never our own document IRI, never a copy
        assert re.fullmatch(r'"https?://[^"\s]+"', pairs["S854"])
        assert "w3id.org" not in pairs["S854"]
        assert not any(copy in pairs["S854"] for copy in ("docslib.org/", "piglix.com/"))
        assert pairs["S813"] == "+2026-12-03T00:00:00Z/11"  # isecg-facts.md: read on 2026-12-03
    assert seen == set(AGENCY_QIDS)
    nasa = {dict(zip(r[3::2], r[4::2], strict=True))["S854"] for r in rows if r[0] == "Q23548"}
    # NASA's page and the 2022 article, at their public addresses (isecg-facts.md §5); the
    # brochure has none and cannot be cited
    assert {'"http://www.nasa.gov/exploration/about/isecg/index.html"',
            '"https://www.globalspaceexploration.org/?p=1180"'} <= nasa
    assert "agency:csiro" in proc.stderr  # reported as skipped (no QID)
    # a copy is cited as the archive of the original it copies (P1065), beside it: piglix.com's
    # copy of the Wikipedia article (isecg-facts.md §2, "wiki mirror"), the web archive's copy
    # of NASA's page (§5)
    bnsc = [dict(zip(r[3::2], r[4::2], strict=True)) for r in rows if r[0] == "Q3645089"]
    assert {"S854": '"https://en.wikipedia.org/wiki/British_National_Space_Centre"',
            "S1065": '"http://piglix.com/piglix/British_National_Space_Centre"'}.items() <= \
        next(p for p in bnsc if "S1065" in p).items()
    # reports read only in docslib.org's copies (their own address unknown) are not cited
    assert "doc:isecg-annual-report-2007" in proc.stderr.split("not cited:")[1]


def test_quickstatements_never_put_uksa_before_2010():
    proc = run_cli("link", "quickstatements", "--isecg-qid", TEST_ISECG_QID, check=True)
    uksa = {dict(zip(r[3::2], r[4::2], strict=True)).get("P580") for r in qs_lines(proc.stdout)
            if r[0] == "Q1140638"}
    assert uksa == {"+2010-04-01T00:00:00Z/11"}


def test_quickstatements_window_becomes_its_calendar_unit():
    from isecg_kg.builder.quickstatements import window_time

    assert window_time("2020-03-13", "2020-03-31") == "+2020-03-00T00:00:00Z/10"
    assert window_time("2020-03-13", "2020-09-09") == "+2020-00-00T00:00:00Z/9"
    assert window_time("2020-12-01", "2021-01-31") is None


def test_quickstatements_retrieved_date_stands_in_only_where_none_is_recorded():
    from isecg_kg.builder.load import load_sources
    from isecg_kg.builder.quickstatements import (
        MembershipStatement,
        Reference,
        membership_statements,
        quickstatements,
    )

    found = membership_statements(load_sources(ROOT).triples("ontology", "data"))
    lines = quickstatements(found.statements, "Q1", retrieved=date(2030, 1, 2))
    assert all(ln.endswith("S813\t+2026-12-03T00:00:00Z/11") for ln in lines)
    assert {s.rsplit("/", 1)[-1] for s in found.no_item} == NO_QID_AGENCIES
    unread = MembershipStatement("a", "A", "Q5", None, None,
                                 (Reference("https://example.org/", None, None),))
    assert quickstatements([unread], "Q1", retrieved=date(2030, 1, 2)) == [
        'Q5\tP463\tQ1\tS854\t"https://example.org/"\tS813\t+2030-01-02T00:00:00Z/11']
    # without a stand-in (the build's file, which depends on no clock) the day is left out
    assert quickstatements([unread], "Q1") == ['Q5\tP463\tQ1\tS854\t"https://example.org/"']


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


# ---- the file every build writes, among the downloads

# QuickStatements v1 reads a command's value as one of these forms and refuses anything else
# ("Unknown V1 value format": a statement without a value, which it does not run). Written from
# parseValueV1 in public_html/quickstatements.php of magnusmanske/quickstatements (commit
# f5d325d, read 2026-12-07): the forms, not the code.
V1_VALUES = [
    re.compile(r"(somevalue|novalue|LAST|LAST_FORM|LAST_SENSE)"),
    re.compile(r"([PQLM]\d+|L\d+-[FS]\d+)"),                      # an entity
    re.compile(r'".*"'),                                              # a string
    re.compile(r'[a-z_-]+:".*"', re.IGNORECASE),                      # a monolingual text
    re.compile(r"[+-]?\d+-\d\d-\d\dT\d\d:\d\d:\d\dZ/?\d*(/J)?", re.IGNORECASE),  # a time
    re.compile(r"@\s*[+-]?[0-9.]+\s*/\s*[+-]?[0-9.]+"),            # a position
    re.compile(r"[+-]?\d+(\.\d+)?(\s*~\s*[+-]?\d+(\.\d+)?)?(U\d+)?"),  # a quantity
]


def v1_value(value: str) -> bool:
    return any(form.fullmatch(value.strip()) for form in V1_VALUES)


def test_the_build_writes_the_file_with_the_placeholder(dist):
    from isecg_kg.builder.quickstatements import FILE, PLACEHOLDER

    path = dist / FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines and all(ln.split("\t")[1:3] == ["P463", PLACEHOLDER] for ln in lines)
    # the lines of `link quickstatements`, the item left open
    proc = run_cli("-q", "link", "quickstatements", "--isecg-qid", TEST_ISECG_QID, check=True)
    assert lines == proc.stdout.replace(TEST_ISECG_QID, PLACEHOLDER).splitlines()
    # listed in SHA256SUMS, described in the VoID as a distribution of plain text
    sums = dict(reversed(ln.split("  ")) for ln in
                (dist / "SHA256SUMS").read_text().splitlines())
    assert sums[FILE] == hashlib.sha256(path.read_bytes()).hexdigest()
    void = (dist / "void.ttl").read_text()
    assert f"dumps/{FILE}" in void or f"/{FILE}>" in void
    assert "media-types/text/plain" in void


def test_quickstatements_refuses_the_placeholder_and_reads_a_qid():
    from isecg_kg.builder.quickstatements import PLACEHOLDER

    assert not v1_value(PLACEHOLDER)
    assert v1_value(TEST_ISECG_QID) and v1_value("+2007-11-00T00:00:00Z/10")
    assert v1_value('"https://www.globalspaceexploration.org/?p=1180"')
    for wrong in ("Q123456", "Q0"):  # read as items: why the placeholder is no Q-number
        assert v1_value(wrong)


def test_the_file_is_served_among_the_downloads(dist):
    import httpx
    from isecg_kg.builder.quickstatements import FILE
    from servers import isecg_server

    with isecg_server(dist) as url:
        resp = httpx.get(f"{url}/dumps/{FILE}", timeout=10)
        home = httpx.get(url + "/", timeout=10).text
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    assert resp.content == (dist / FILE).read_bytes()
    assert f'href="/dumps/{FILE}"' in home
