"""Wikidata linking: the checker, suggestions, QuickStatements, federation queries, the client.

A real Oxigraph server loaded with tests/fixtures/wikidata/wikidata.ttl stands in for the
Wikidata Query Service; a small stdlib HTTP stub is used only for 429 / Retry-After, 5xx, garbage
and timeout behaviour. No test reaches the internet. Expected QIDs come from
shared/reference/wikidata.md, expected memberships from the sources (as recorded in data/), and
expected faults from the fixture's header, never from running the code.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from isecg_kg import __version__
from isecg_kg.config import QUERIES_DIR, WIKIDATA_SPARQL
from isecg_kg.errors import InputError, RemoteError
from servers import LoopbackHTTP, free_port, oxigraph_server

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
    "gistda": "+2020-08-31T00:00:00Z/11",            # NSTDA: "Monday 31 August"
    "aeb": "+2020-00-00T00:00:00Z/9",                # between the March and September meetings
    "aem": "+2020-00-00T00:00:00Z/9",                # "at the end of 2020" (Portugal Space)
    "nzsa": "+2021-00-00T00:00:00Z/9",               # 27th member, in 2021
}


# --------------------------------------------------------------------------------------------
# A real SPARQL server standing in for Wikidata


@pytest.fixture(scope="module")
def wikidata(tmp_path_factory) -> str:
    """URL of a real Oxigraph server holding the Wikidata-shaped fixture (its /query endpoint)."""
    if shutil.which("oxigraph") is None:
        pytest.skip("the oxigraph server command is not installed (pip install oxigraph)")
    with oxigraph_server(FIXTURE, tmp_path_factory.mktemp("wikidata"),
                         union_default_graph=False) as url:
        yield url + "/query"


# --------------------------------------------------------------------------------------------
# A tiny stub for what a real server will not do on demand (429, 503, garbage, slowness)


class Stub:
    """Answers each POST with the next scripted reply: (status, headers, body, delay)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                stub.requests.append({"headers": dict(self.headers),
                                      "body": self.rfile.read(length).decode(),
                                      "at": time.monotonic()})
                status, headers, body, delay = (stub.replies.pop(0) if len(stub.replies) > 1
                                                else stub.replies[0])
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.http = LoopbackHTTP(Handler, "/sparql")
        self.url = self.http.url

    def close(self):
        self.http.close()


EMPTY = json.dumps({"head": {"vars": ["item"]}, "results": {"bindings": []}}).encode()
JSON = {"Content-Type": "application/sparql-results+json"}


@pytest.fixture
def stub():
    made = []

    def make(*replies):
        s = Stub(replies)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


# --------------------------------------------------------------------------------------------
# link check


def problem_lines(stdout: str) -> list[str]:
    return [ln for ln in stdout.splitlines() if ln.startswith(("[ERROR]", "[WARNING]"))]


def test_check_reports_missing_redirect_wrong_label_and_wrong_country(wikidata):
    proc = run_cli("link", "check", "--endpoint", wikidata, timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = problem_lines(proc.stdout)
    # exactly the four faults the fixture was built with, one line each, in the documented form
    assert len(lines) == 4, proc.stdout
    assert ("[ERROR] data/wikidata-links.ttl: agency:kari: wd:Q494948 does not exist" in
            proc.stdout)
    assert ("[ERROR] data/wikidata-links.ttl: agency:uksa: wd:Q1140638 is a redirect to "
            "wd:Q3645089" in proc.stdout)
    jaxa = [ln for ln in lines if "agency:jaxa" in ln]
    assert jaxa and jaxa[0].startswith("[WARNING] data/agencies.ttl: agency:jaxa: wd:Q179103")
    assert "Japan Meteorological Agency" in jaxa[0] and '"JAXA"' in jaxa[0]
    asi = [ln for ln in lines if "agency:asi" in ln]
    assert asi and "P17" in asi[0] and "country:italy" in asi[0] and "wd:Q38" in asi[0]
    for line in lines:
        assert re.match(r"\[(ERROR|WARNING)\] [\w/.-]+\.ttl: [a-z]+:[\w-]+: \S", line), line
    # NASA's label is its full name, CSA's only its initials, Roscosmos's a longer name, China's
    # "People's Republic of China": all agree with our names, so none is reported
    for fine in ("agency:nasa", "agency:csa", "agency:roscosmos", "country:china", "agency:dlr"):
        assert fine not in "\n".join(lines)


def test_check_lists_entities_without_a_checked_qid(wikidata):
    proc = run_cli("link", "check", "--endpoint", wikidata, timeout=120)
    info = {ln.split(": ")[1] for ln in proc.stdout.splitlines() if ln.startswith("[INFO]")}
    # wikidata.md: "not found" for ISECG, CSIRO, PT Space, VNSC, the GER, near-Earth asteroids,
    # Tsiolkovsky
    assert info == {"group:isecg", "agency:csiro", "agency:pt-space", "agency:vnsc", "doc:ger",
                    "destination:near-earth-asteroids", "person:konstantin-tsiolkovsky"}
    assert "56 Wikidata items checked" in proc.stderr  # with BNSC (Q3645089)


def test_check_suggest_proposes_candidates_and_writes_nothing(wikidata):
    before = {p: p.read_bytes() for p in (ROOT / "data").glob("*.ttl")}
    proc = run_cli("link", "check", "--endpoint", wikidata, "--suggest", timeout=120)
    assert proc.returncode == 1
    suggest = [ln for ln in proc.stdout.splitlines() if ln.startswith("[SUGGEST]")]
    assert any(ln.startswith("[SUGGEST] data/agencies.ttl: agency:csiro: candidate wd:Q999999001")
               for ln in suggest), suggest
    # a label in the language-neutral "mul" counts
    assert any("agency:vnsc: candidate wd:Q999999002" in ln for ln in suggest), suggest
    # a German label is not an English name
    assert not any("Q999999004" in ln for ln in suggest)
    assert len(suggest) == 2
    assert {p: p.read_bytes() for p in (ROOT / "data").glob("*.ttl")} == before


def _source_without_links(tmp_path: Path, drop: set[str]) -> Path:
    """A copy of the project's sources with the links of the `drop` entities removed."""
    import pyoxigraph as ox

    src = tmp_path / "src"
    for d in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / d, src / d)
    path = src / "data" / "wikidata-links.ttl"
    triples = list(ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE))
    records = {t.subject for t in triples
               if t.predicate.value.endswith("#linkSubject") and t.object.value in drop}
    kept = [t for t in triples if t.subject not in records and t.subject.value not in drop]
    path.write_bytes(ox.serialize(kept, format=ox.RdfFormat.TURTLE))
    return src


def test_check_exits_0_when_every_link_agrees(wikidata, tmp_path):
    faulty = {"https://w3id.org/isecg/id/agency/" + a for a in ("kari", "uksa", "jaxa", "asi")}
    src = _source_without_links(tmp_path, faulty)
    proc = run_cli("link", "check", "--endpoint", wikidata, "--source", str(src), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert problem_lines(proc.stdout) == []
    assert "all links agree" in proc.stderr


def test_check_flags_a_link_without_its_link_record(wikidata, tmp_path):
    src = tmp_path / "src"
    for d in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / d, src / d)
    with open(src / "data" / "wikidata-links.ttl", "a", encoding="utf-8") as f:
        f.write("\n<https://w3id.org/isecg/id/destination/near-earth-asteroids> "
                "<http://www.w3.org/2004/02/skos/core#exactMatch> "
                "<https://www.wikidata.org/wiki/Q405> .\n")
    proc = run_cli("link", "check", "--endpoint", wikidata, "--source", str(src), timeout=120)
    assert proc.returncode == 1
    assert any("destination:near-earth-asteroids" in ln and "not a canonical Wikidata item IRI"
               in ln for ln in problem_lines(proc.stdout)), proc.stdout


def test_link_coverage_per_class():
    from isecg_kg.builder.load import load_sources
    from isecg_kg.wikidata import coverage, read_entities

    cov = coverage(read_entities(load_sources(ROOT)))
    # wikidata.md gives QIDs for 24 of the 27 member agencies and for BNSC, all 25 countries, Europe, the Moon
    # and Mars (not near-Earth asteroids), Socrates and Laozi (not Tsiolkovsky); none for ISECG
    # or the Global Exploration Roadmap; and the International Space Station (Q25271)
    assert cov == {"agency": (25, 28), "country": (25, 25), "region": (1, 1),
                   "destination": (2, 3), "space station": (1, 1), "person": (2, 3),
                   "group": (0, 1), "roadmap": (0, 1)}


def test_links_are_the_reference_qids():
    from isecg_kg.builder.load import load_sources
    from isecg_kg.wikidata import read_entities

    entities = read_entities(load_sources(ROOT))
    agencies = {e.iri.rsplit("/", 1)[-1]: e.qids for e in entities.values() if e.kind == "agency"}
    assert {a: q for a, q in agencies.items() if q} == {a: [q] for a, q in AGENCY_QIDS.items()}
    assert {a for a, q in agencies.items() if not q} == NO_QID_AGENCIES


# --------------------------------------------------------------------------------------------
# link quickstatements


def qs_lines(stdout: str) -> list[list[str]]:
    return [ln.split("\t") for ln in stdout.splitlines() if ln]


def test_quickstatements_refuses_without_isecg_qid():
    proc = run_cli("link", "quickstatements")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "--isecg-qid is required" in proc.stderr


@pytest.mark.parametrize("bad", ["ISECG", "Q0", "Q012", "P463", "Q12x", "L1"])
def test_quickstatements_rejects_a_malformed_qid(bad):
    from isecg_kg.wikidata import normalize_qid

    with pytest.raises(InputError, match="not a Wikidata item id"):
        normalize_qid(bad)


def test_quickstatements_accepts_qid_forms():
    from isecg_kg.wikidata import normalize_qid

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
        pairs = dict(zip(row[3::2], row[4::2]))
        assert len(row) % 2 == 1 and set(pairs) <= {"P580", "P582", "S854", "S813"}, row
        if agency in FOUNDERS:
            assert pairs["P580"] == "+2007-11-00T00:00:00Z/10"
        else:
            assert pairs["P580"] == LATER_STARTS.get(agency), (agency, pairs)
        # BNSC's membership ended when UKSA replaced it; no other has ended
        assert pairs.get("P582") == ("+2010-04-01T00:00:00Z/11" if agency == "bnsc" else None)
        # the public address where the source was read, never our own document IRI
        assert re.fullmatch(r'"https?://[^"\s]+"', pairs["S854"]) and "w3id.org" not in pairs["S854"]
        assert pairs["S813"] == "+2026-12-03T00:00:00Z/11"  # isecg-facts.md: read on 2026-12-03
    assert seen == set(AGENCY_QIDS)
    nasa = {dict(zip(r[3::2], r[4::2]))["S854"] for r in rows if r[0] == "Q23548"}
    # NASA's page and the 2022 article, at their public addresses (isecg-facts.md §5); the
    # brochure has none and cannot be cited
    assert {'"http://www.nasa.gov/exploration/about/isecg/index.html"',
            '"https://www.globalspaceexploration.org/?p=1180"'} <= nasa
    assert "agency:csiro" in proc.stderr  # reported as skipped (no QID)


def test_quickstatements_never_put_uksa_before_2010():
    proc = run_cli("link", "quickstatements", "--isecg-qid", TEST_ISECG_QID, check=True)
    uksa = {dict(zip(r[3::2], r[4::2])).get("P580") for r in qs_lines(proc.stdout)
            if r[0] == "Q1140638"}
    assert uksa == {"+2010-04-01T00:00:00Z/11"}


def test_quickstatements_window_becomes_its_calendar_unit():
    from isecg_kg.wikidata import _window_time

    assert _window_time("2020-03-13", "2020-03-31") == "+2020-03-00T00:00:00Z/10"
    assert _window_time("2020-03-13", "2020-09-09") == "+2020-00-00T00:00:00Z/9"
    assert _window_time("2020-12-01", "2021-01-31") is None


def test_quickstatements_retrieved_date_stands_in_only_where_none_is_recorded():
    from isecg_kg.builder.load import load_sources
    from isecg_kg.wikidata import MembershipStatement, membership_statements, quickstatements

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


# --------------------------------------------------------------------------------------------
# Federation queries


FEDERATION_QUERIES = ("wikidata-member-agencies", "wikidata-members-without-membership")


def test_federation_queries_have_headers_and_name_wikidata():
    for name in FEDERATION_QUERIES:
        path = QUERIES_DIR / f"{name}.rq"
        text = path.read_text(encoding="utf-8")
        for key in ("title", "description", "returns"):
            assert re.search(rf"^# {key}: \S", text, re.MULTILINE), f"{path.name}: no # {key}:"
        assert f"SERVICE <{WIKIDATA_SPARQL}>" in text, path.name


def _federate(text: str, endpoint: str, store, **subs):
    """Run a named query's text on pyoxigraph, its SERVICE sent to the local stand-in."""
    import pyoxigraph as ox

    text = text.replace(f"SERVICE <{WIKIDATA_SPARQL}>", f"SERVICE <{endpoint}>")
    result = store.query(text, use_default_graph_as_union=True,
                         substitutions={ox.Variable(k): v for k, v in subs.items()} or None)
    return [{v.value: (s[v].value if s[v] is not None else None) for v in result.variables}
            for s in result]


@pytest.fixture(scope="module")
def source_store():
    import pyoxigraph as ox
    from isecg_kg.builder.load import load_sources

    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object)
                 for t in load_sources(ROOT).triples("ontology", "data"))
    return store


def test_member_agencies_with_wikidata_inception_and_website(wikidata, source_store):
    rows = _federate((QUERIES_DIR / "wikidata-member-agencies.rq").read_text(), wikidata,
                     source_store)
    by_agency = {r["agency"].rsplit("/", 1)[-1]: r for r in rows}
    assert set(by_agency) == set(AGENCY_QIDS)  # every linked member, with or without values
    # wikidata.md's enrichment table (what the fixture serves)
    assert by_agency["nasa"]["inception"].startswith("1958-07-29")
    assert by_agency["nasa"]["website"] == "https://www.nasa.gov/"
    assert by_agency["roscosmos"]["inception"].startswith("1992-02-25")
    assert by_agency["sso"]["website"] is None  # no website given
    assert by_agency["dlr"]["inception"] is None  # not typed space agency in the fixture
    assert by_agency["kari"]["inception"] is None  # missing item


def test_members_without_member_of_isecg(wikidata, source_store):
    import pyoxigraph as ox

    text = (QUERIES_DIR / "wikidata-members-without-membership.rq").read_text()
    rows = _federate(text, wikidata, source_store, isecg=ox.NamedNode(WD + TEST_ISECG_QID))
    agencies = {r["agency"].rsplit("/", 1)[-1] for r in rows}
    assert agencies == set(AGENCY_QIDS) - {"nasa", "esa"}
    rows = _federate(text, wikidata, source_store, isecg=ox.NamedNode(WD + "Q999999998"))
    assert {r["agency"].rsplit("/", 1)[-1] for r in rows} == set(AGENCY_QIDS)


def test_federation_through_the_query_command(wikidata, dist):
    proc = run_cli("query", "-n", "wikidata-members-without-membership", "--dist", str(dist),
                   "--param", f"isecg=<{WD}{TEST_ISECG_QID}>", "--wikidata-endpoint", wikidata,
                   "--format", "json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["results"]["bindings"]
    assert {r["agency"]["value"].rsplit("/", 1)[-1] for r in rows} == set(AGENCY_QIDS) - {
        "nasa", "esa"}
    proc = run_cli("query", "-n", "wikidata-member-agencies", "--dist", str(dist),
                   "--wikidata-endpoint", wikidata, "--format", "json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = {r["agency"]["value"].rsplit("/", 1)[-1]: r
            for r in json.loads(proc.stdout)["results"]["bindings"]}
    assert rows["esa"]["website"]["value"] == "https://esa.int"


# --------------------------------------------------------------------------------------------
# The polite client


def test_user_agent_names_the_tool_and_its_version(stub):
    from isecg_kg.wikidata import SparqlClient

    s = stub((200, JSON, EMPTY, 0))
    with SparqlClient(s.url) as client:
        assert client.select("SELECT ?item WHERE {}") == []
    ua = s.requests[0]["headers"]["User-Agent"]
    assert ua.startswith(f"isecg-kg/{__version__} (")
    assert "https://" in ua  # contact information, as the Wikimedia policy asks
    assert s.requests[0]["headers"]["Accept"] == "application/sparql-results+json"


def test_429_retry_after_is_honoured(stub):
    from isecg_kg.wikidata import SparqlClient

    s = stub((429, {"Retry-After": "1"}, b"slow down", 0), (200, JSON, EMPTY, 0))
    with SparqlClient(s.url, backoff=0.01) as client:
        assert client.select("SELECT ?item WHERE {}") == []
    assert len(s.requests) == 2
    assert s.requests[1]["at"] - s.requests[0]["at"] >= 0.95  # waited Retry-After, not backoff


def test_503_is_retried_with_backoff(stub):
    from isecg_kg.wikidata import SparqlClient

    waits = []
    s = stub((503, {}, b"", 0), (502, {}, b"", 0), (200, JSON, EMPTY, 0))
    with SparqlClient(s.url, backoff=0.5, sleep=waits.append) as client:
        client.select("SELECT ?item WHERE {}")
    assert waits == [0.5, 1.0]


def test_retries_are_bounded(stub):
    from isecg_kg.wikidata import SparqlClient

    s = stub((503, {"Retry-After": "0"}, b"", 0))
    with SparqlClient(s.url, retries=3) as client, pytest.raises(RemoteError, match="4 attempts"):
        client.select("SELECT ?item WHERE {}")
    assert len(s.requests) == 4


def test_a_retry_after_beyond_the_limit_is_not_waited_for(stub):
    from isecg_kg.wikidata import SparqlClient

    s = stub((429, {"Retry-After": "3600"}, b"", 0))
    with SparqlClient(s.url, max_wait=60) as client, pytest.raises(RemoteError, match="3600"):
        client.select("SELECT ?item WHERE {}")
    assert len(s.requests) == 1


def test_timeout_ends_as_remote_error(stub):
    from isecg_kg.wikidata import SparqlClient

    s = stub((200, JSON, EMPTY, 3))
    t0 = time.monotonic()
    with SparqlClient(s.url, timeout=0.3, retries=1, backoff=0) as client, \
            pytest.raises(RemoteError, match="no answer within 0.3 s"):
        client.select("SELECT ?item WHERE {}")
    assert time.monotonic() - t0 < 2.5
    assert len(s.requests) == 2


def test_cli_exits_2_when_the_endpoint_keeps_failing(stub):
    s = stub((503, {"Retry-After": "0"}, b"", 0))
    proc = run_cli("link", "check", "--endpoint", s.url)
    assert proc.returncode == 2
    assert "HTTP 503 after 4 attempts" in proc.stderr
    assert proc.stdout == ""


def test_cli_exits_2_on_an_answer_that_is_not_sparql_results(stub):
    s = stub((200, {"Content-Type": "text/html"}, b"<html>maintenance</html>", 0))
    proc = run_cli("link", "check", "--endpoint", s.url)
    assert proc.returncode == 2
    assert "not SPARQL JSON results" in proc.stderr


def test_cli_exits_2_when_nothing_listens():
    port = free_port()
    proc = run_cli("link", "check", "--endpoint", f"http://127.0.0.1:{port}/sparql",
                   "--timeout", "1", timeout=120)
    assert proc.returncode == 2
    assert "cannot connect" in proc.stderr
