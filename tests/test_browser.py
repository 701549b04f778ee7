"""Pages in a real browser: Debian's Chromium driven by Playwright (never `playwright install`).

Screenshots go to test-artifacts/ (gitignored). Expected answers come from the source documents:
NASA is the agency of the United States of America, and three documents attest it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from sites import ARTIFACTS, build_dir, serve_linked_data

pytestmark = pytest.mark.browser

ISECG = "https://w3id.org/isecg/"

HOSTILE_SCRIPT = "</script><script>window.__pwned = 1; alert(1)</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned = 2">'
HOSTILE_IMG_TTL = HOSTILE_IMG.replace('"', '\\"')  # as a Turtle string body
HOSTILE_TTL = f"""
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix isecg: <https://w3id.org/isecg/ontology#> .
<{ISECG}id/agency/evil> a isecg:SpaceAgency ;
    skos:prefLabel "{HOSTILE_SCRIPT}"@en ;
    skos:scopeNote "{HOSTILE_IMG_TTL}"@en ;
    foaf:homepage <javascript:alert(3)> ;
    isecg:country <{ISECG}id/country/evil> .
<{ISECG}id/country/evil> a isecg:Country ; skos:prefLabel "{HOSTILE_IMG_TTL}"@en .
"""


@pytest.fixture
def page(browser):
    """A page that records console errors, uncaught exceptions and dialogs; none are allowed."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(f"console: {m.text}"))
    pg.on("pageerror", lambda e: pg.problems.append(f"pageerror: {e}"))

    def dialog(d):
        pg.problems.append(f"dialog: {d.message}")
        d.dismiss()

    pg.on("dialog", dialog)
    yield pg
    context.close()
    assert not pg.problems, pg.problems


@pytest.fixture(scope="module")
def full_server(request):
    """The whole app (`isecg-kg serve`, via tests/servers.py) over the session's build."""
    from servers import isecg_server

    with isecg_server(build_dir(request)) as url:
        yield url


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def check_json_ld(pg) -> None:
    """Every embedded JSON-LD block parses in the browser and describes the page's entity."""
    iri = pg.evaluate("document.querySelector('[data-iri]')?.dataset.iri || null")
    ids = pg.evaluate("""() => [...document.querySelectorAll('script[type="application/ld+json"]')]
        .flatMap(s => { const d = JSON.parse(s.textContent); return Array.isArray(d) ? d : [d]; })
        .map(d => d['@id'])""")
    assert ids, pg.url
    if iri:
        assert iri in ids, (pg.url, ids)


def test_home_to_agency_to_country_with_sources(page, full_server):
    page.goto(full_server + "/")
    assert page.locator("h1").inner_text() == "ISECG knowledge graph"
    assert page.locator("svg.ld-membership").is_visible()
    assert page.locator("table.ld-downloads tbody tr").count() >= 3
    check_json_ld(page)
    shot(page, "home")

    # labels are full names (isecg-facts.md §1: "National Aeronautics and Space Administration")
    page.locator("#class-SpaceAgency a",
                 has_text="National Aeronautics and Space Administration").first.click()
    page.wait_for_url("**/id/agency/nasa.html")  # the IRI answered 303 to the HTML document
    assert page.locator("h1").inner_text() == \
        "National Aeronautics and Space Administration (NASA)"
    sources = page.locator("#sources li").all_inner_texts()
    # the three brochures that list NASA, and the article of 2007 that names its authorship
    assert {"Exploring Together", "ISECG's 15th anniversary",
            "About the International Space Exploration Coordination Group",
            ("Article of 3 June 2007 at itwire.com on the Global Exploration Strategy and its "
             "fourteen agencies")} <= set(sources)
    assert "from November 2007" in page.locator("#memberships").inner_text()
    check_json_ld(page)
    shot(page, "agency-nasa")

    page.locator("table.ld-props a", has_text="United States of America").click()
    page.wait_for_url("**/id/country/united-states.html")
    assert page.locator("h1").inner_text() == "United States of America"
    assert "National Aeronautics and Space Administration" in \
        page.locator("#referenced-by").inner_text()
    check_json_ld(page)
    shot(page, "country-united-states")


def test_esa_page_shows_europe(page, full_server):
    page.goto(full_server + "/id/agency/esa")
    props = page.locator("table.ld-props").inner_text()
    assert "Europe" in props and "country\t" not in props
    check_json_ld(page)


def set_query(pg, text: str) -> None:
    """Put a query into the page's form field; the editor (CodeMirror) follows it."""
    pg.wait_for_selector("#query", state="attached")
    pg.evaluate("""t => { const q = document.querySelector('#query'); q.value = t;
        q.dispatchEvent(new Event('input', {bubbles: true})); }""", text)


def test_query_page_shows_a_results_table(page, full_server):
    page.goto(full_server + "/query")
    set_query(page, """PREFIX isecg: <https://w3id.org/isecg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?agency ?label WHERE { ?agency a isecg:SpaceAgency ; skos:prefLabel ?label }
ORDER BY ?label""")
    page.click("#run")
    page.wait_for_selector("#results table", timeout=20000)
    # the 27 agencies of 2022 and BNSC, the United Kingdom's member until 1 April 2010
    assert page.locator("#results table tbody tr").count() == 28
    shot(page, "query")


def test_ontology_page(page, full_server):
    page.goto(full_server + "/ontology#SpaceAgency")
    page.wait_for_url("**/ontology.html#SpaceAgency")
    assert page.locator("#SpaceAgency").count() == 1
    check_json_ld(page)
    shot(page, "ontology")


def hostile_dist(dist: Path) -> Path:
    """A tiny build whose labels try to inject markup (isecg.nq and its SHA256SUMS)."""
    import pyoxigraph as ox

    store = ox.Store()
    store.load(HOSTILE_TTL.encode(), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode(ISECG + "graph/data"))
    store.dump(output=str(dist / "isecg.nq"), format=ox.RdfFormat.N_QUADS)
    digest = hashlib.sha256((dist / "isecg.nq").read_bytes()).hexdigest()
    (dist / "SHA256SUMS").write_text(f"{digest}  isecg.nq\n")
    return dist


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """The linked-data routes over the hostile build."""
    dist = hostile_dist(tmp_path_factory.mktemp("hostile"))
    with serve_linked_data(dist, tmp_path_factory.mktemp("hostile-server")) as url:
        yield url
    shutil.rmtree(dist, ignore_errors=True)


@pytest.fixture(scope="module")
def hostile_full_server(tmp_path_factory):
    """The whole app (query page, reconciliation) over the hostile build."""
    from servers import isecg_server

    dist = hostile_dist(tmp_path_factory.mktemp("hostile-full"))
    with isecg_server(dist) as url:
        yield url
    shutil.rmtree(dist, ignore_errors=True)


def assert_inert(pg) -> None:
    """Nothing the data or the URL carried became markup or ran."""
    assert pg.evaluate("window.__pwned") is None
    assert pg.locator("img").count() == 0
    assert pg.evaluate("""() => [...document.scripts].filter(s => !['application/json',
        'application/ld+json'].includes(s.type) && !s.src.endsWith('/static/sparql-query.js')
        && !s.src.endsWith('/static/editor/editor.js')).length""") == 0
    assert pg.locator("a[href^='javascript']").count() == 0


@pytest.mark.parametrize("path", ["/id/agency/evil", "/id/country/evil", "/"])
def test_hostile_labels_stay_inert(page, hostile_server, path):
    page.goto(hostile_server + path)
    assert page.evaluate("window.__pwned") is None
    # Escaping alone (not only the CSP) keeps the markup out: no injected elements at all.
    assert page.locator("img").count() == 0
    assert page.evaluate("""() => [...document.scripts]
        .filter(s => s.type !== 'application/ld+json').length""") == 0
    assert page.locator("a[href^='javascript']").count() == 0
    if path == "/id/agency/evil":
        assert page.locator("h1").inner_text() == HOSTILE_SCRIPT
        assert HOSTILE_IMG in page.locator("table.ld-props").inner_text()
        name = page.evaluate("""JSON.parse(document.querySelector(
            'script[type="application/ld+json"]').textContent).name""")
        assert name == HOSTILE_SCRIPT
        shot(page, "hostile-agency")
    check_json_ld(page)


HOSTILE_QUERY = f"""PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?s ?value WHERE {{
  {{ ?s ?p ?value }}
  UNION {{ VALUES ?value {{ "{HOSTILE_IMG_TTL}" "x"^^<javascript:alert(4)> "y"@en-x-{"a" * 8}
                           <javascript:alert(5)> }} }}
}}"""


def test_hostile_results_stay_inert_on_the_query_page(page, hostile_full_server):
    page.goto(hostile_full_server + "/query")
    set_query(page, HOSTILE_QUERY)
    page.click("#run")
    page.wait_for_selector("#results table", timeout=20000)
    cells = page.locator("#results td").all_inner_texts()
    assert HOSTILE_SCRIPT in " ".join(cells) and HOSTILE_IMG in " ".join(cells)
    assert any("javascript:alert(5)" in c for c in cells)
    assert_inert(page)
    shot(page, "hostile-query-results")


def test_hostile_query_in_the_url_stays_inert(page, hostile_full_server):
    from urllib.parse import quote

    evil = "# </textarea><script>window.__pwned = 3</script>\nSELECT * { ?s ?p ?o } LIMIT 3"
    page.goto(hostile_full_server + "/query?query=" + quote(evil))
    page.wait_for_selector("#results table", timeout=20000)
    assert page.locator("#query").input_value() == evil
    assert_inert(page)


def test_reconciliation_preview_stays_inert(page, hostile_full_server):
    from urllib.parse import quote

    page.goto(hostile_full_server + "/reconcile/preview?id=" + quote(ISECG + "id/agency/evil"))
    assert HOSTILE_SCRIPT in page.locator("a").inner_text()
    assert_inert(page)
    # an unknown id is echoed in a text/plain 404 that browsers may not sniff as HTML
    import httpx

    r = httpx.get(hostile_full_server + "/reconcile/preview", params={"id": HOSTILE_SCRIPT})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")
    assert r.headers["x-content-type-options"] == "nosniff"


# ---- the query page (issue 14): part of the site, a real editor, named queries with their
# parameters, shareable links, local links, charts, and a phone's width

EDITOR = Path(__file__).resolve().parents[1] / "scripts/isecg_kg/web/static/editor/editor.js"


@pytest.fixture(scope="module")
def query_server(request):
    """The whole app, with SERVICE calls to Wikidata sent to a closed loopback port (tests
    never reach the internet): the Wikidata queries then end in a gateway error."""
    import socket

    from servers import isecg_server

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    closed = s.getsockname()[1]
    s.close()
    dist = build_dir(request)
    with isecg_server(dist, "--wikidata-endpoint", f"http://127.0.0.1:{closed}/sparql") as url:
        url.dist = dist  # what the page answers from, for the CLI's answer beside it
        yield url


def named_queries():
    from isecg_kg.sparql.catalogue import named_queries as load

    return load()


def expected_failure(pg, status: int) -> None:
    """Chromium logs every non-2xx fetch as a console error: forget the one the test wanted."""
    pg.problems[:] = [p for p in pg.problems if f"status of {status} " not in p]


def run_named(pg, name: str, values: dict | None = None) -> str:
    pg.select_option("#example", name)
    for param, value in (values or {}).items():
        pg.fill(f"#param-{param}", value)
    pg.click("#run")
    pg.wait_for_function("""() => { const s = document.querySelector('#status').textContent;
        return s.startsWith('Done') || document.querySelector('#status').className === 'error'; }""",  # noqa: E501 (JavaScript kept as is)
                         timeout=20000)
    return pg.locator("#status").inner_text()


def test_query_page_is_part_of_the_site_with_a_real_editor(page, query_server):
    assert EDITOR.is_file(), "the editor bundle is missing: run scripts/test.sh (npm ci, build)"
    page.goto(query_server + "/query")
    assert page.locator("header.ld-nav nav a").all_inner_texts()[:2] == [
        "ISECG knowledge graph", "Query"]
    assert page.locator("link[href='/static/ld-style.css']").count() == 1
    page.wait_for_selector(".cm-editor .cm-content")
    # the editor highlights SPARQL and matches brackets
    set_query(page, "SELECT ?s WHERE { ?s a isecg:SpaceAgency }")
    assert page.locator(".cm-content span").count() > 3
    page.click(".cm-content")
    page.keyboard.press("Control+End")
    page.keyboard.press("ArrowLeft")
    assert page.locator(".cm-matchingBracket").count() == 2
    # completion offers our vocabulary and the predeclared prefixes
    page.keyboard.press("Control+End")
    page.keyboard.type("\nisecg:Spa")
    page.wait_for_selector(".cm-tooltip-autocomplete")
    assert "isecg:SpaceAgency" in page.locator(".cm-tooltip-autocomplete").inner_text()
    # the page shows the named query it holds, and lists the predeclared prefixes
    page.goto(query_server + "/query")
    chosen = page.locator("#example option:checked").inner_text()
    assert chosen != "Your own query" and page.locator("#example-description").inner_text()
    assert "rdfs:" in page.locator(".q-prefixes").text_content()


@pytest.mark.parametrize("name", sorted(named_queries()))
def test_each_named_query_runs_from_the_page(page, query_server, name):
    """As the page shows it, fields empty: a parameter takes the query's own value, so the
    page answers as `isecg-kg query -n NAME` does (row for row)."""
    import json

    from conftest import run_cli

    q = named_queries()[name]
    page.goto(query_server + "/query")
    status = run_named(page, name)
    if "SERVICE" in q.text:
        # Wikidata is not reachable from the tests: a gateway error, never a malformed query
        # (a query that calls it only for some rows may still answer)
        assert status.startswith(("Bad gateway", "Done")) and "Malformed" not in status, status
        expected_failure(page, 502)
    else:
        assert status.startswith("Done"), status
        cli = run_cli("query", "-n", name, "--dist", str(query_server.dist), "--format",
                      "json", check=True)
        answer = json.loads(cli.stdout)["results"]["bindings"]
        assert page.locator("#results table tbody tr").count() == len(answer) >= 1, name


def test_an_empty_parameter_takes_the_query_own_value_a_filled_one_overrides_it(page,
                                                                                query_server):
    page.goto(query_server + "/query")
    status = run_named(page, "members-as-of")
    assert status.startswith("Done")
    statuses = page.locator("#results table tbody tr td:nth-child(5)").all_inner_texts()
    # the query's own date, 2019-12-31: AR 2019, "ISECG's membership increases to 20"
    assert sum(s.startswith("member") for s in statuses) == 20
    status = run_named(page, "members-as-of", {"date": "2015-06-30"})
    assert status.startswith("Done")
    statuses = page.locator("#results table tbody tr td:nth-child(5)").all_inner_texts()
    assert sum(s.startswith("member") for s in statuses) == 14  # the founders but BNSC, + UKSA


def test_shareable_link_reruns_the_query(page, query_server):
    page.goto(query_server + "/query")
    run_named(page, "members-as-of", {"date": "2015-06-30"})
    rows = page.locator("#results table tbody tr").count()
    link = page.locator("#share").get_attribute("href")
    assert "name=members-as-of" in link and "date=2015-06-30" in link
    page.goto(query_server + link)
    page.wait_for_selector("#results table", timeout=20000)
    assert page.locator("#param-date").input_value() == "2015-06-30"
    assert page.locator("#results table tbody tr").count() == rows
    # an own query too
    own = "SELECT ?d WHERE { ?d a isecg:Document } LIMIT 3"
    set_query(page, own)
    page.click("#run")
    page.wait_for_selector("#results table", timeout=20000)
    page.goto(query_server + page.locator("#share").get_attribute("href"))
    page.wait_for_selector("#results table", timeout=20000)
    assert page.locator("#query").input_value() == own


def test_result_iris_open_our_own_pages(page, query_server):
    page.goto(query_server + "/query")
    assert run_named(page, "members-2022").startswith("Done")
    hrefs = page.locator("#results td.uri a").evaluate_all(
        "as => as.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith("/id/") for h in hrefs if "w3id" not in h)
    assert not any("w3id.org" in h for h in hrefs)
    page.click("#results td.uri a >> nth=0")
    page.wait_for_selector("article.ld-entity")


def test_bar_chart_and_timeline(page, query_server):
    page.goto(query_server + "/query")
    run_named(page, "agencies-per-country")
    rows = page.locator("#results table tbody tr").count()
    page.click("#views button:has-text('Bar chart')")
    assert page.locator("svg.q-chart .q-bar").count() == rows
    shot(page, "query-bar-chart")
    # every agency over the days its membership may have begun (from ?earliest to ?latest): the
    # 14 founders (BNSC among them) together, over November 2007, the month the sources give
    run_named(page, "members-as-of", {"date": "2022-12-31"})
    rows = page.locator("#results table tbody tr").count()
    page.click("#views button:has-text('Timeline')")
    assert page.locator("svg.q-timeline .q-event").count() == rows >= 27
    labels = page.locator("svg.q-timeline .q-event text").evaluate_all(
        "ts => ts.map(t => t.textContent)")
    assert page.locator("svg.q-timeline").get_attribute("aria-label") == \
        "timeline of ?earliest to ?latest"
    assert sum("(2007-11)" in t for t in labels) == 14
    assert any(t.startswith("NASA ") for t in labels)  # labelled by the shortest names
    shot(page, "query-timeline")


def test_syntax_error_on_the_page_is_the_endpoints_sentence(page, query_server):
    import httpx

    page.goto(query_server + "/query")
    set_query(page, "SELEC ?x WHERE { ?x ?p ?o }")
    page.click("#run")
    page.wait_for_selector("#status.error")
    detail = httpx.post(query_server + "/sparql",
                        data={"query": "SELEC ?x WHERE { ?x ?p ?o }"}).json()["detail"]
    assert page.locator("#status").inner_text() == "Malformed query: " + detail
    assert "did you mean `SELECT`?" in detail
    expected_failure(page, 400)


@pytest.mark.parametrize("width", [1280, 390])
def test_query_page_fits_the_width(browser, query_server, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    pg = context.new_page()
    try:
        pg.goto(query_server + "/query?name=members-as-of&date=2015-06-30")
        pg.wait_for_selector("#results table", timeout=20000)
        pg.wait_for_selector(".cm-editor")
        assert pg.evaluate("document.documentElement.scrollWidth") <= width
        shot(pg, f"query-{'phone-390' if width == 390 else 'desktop'}")
        pg.click("#views button:has-text('Timeline')")
        assert pg.evaluate("document.documentElement.scrollWidth") <= width
        if width == 390:
            shot(pg, "query-phone-390-timeline")
    finally:
        context.close()


# ---- who did what (issue 22): an agency's record in words, the group's chairs and working
# groups, and the picture of participation on the home page (expected values: isecg-facts-2.md)

def test_agency_page_opens_with_its_record(page, full_server):
    page.goto(full_server + "/id/agency/csa")
    summary = page.locator("#summary")
    assert summary.is_visible()
    # the summary comes before the property table
    assert page.evaluate("""() => { const s = document.querySelector('#summary');
        const h = [...document.querySelectorAll('h2')].find(e => e.textContent === 'Properties');
        return !!(s.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_FOLLOWING); }""")
    text = summary.inner_text()
    assert "Member of ISECG since November 2007" in text    # formed November 2007 (a month)
    assert "from 2012 until 30 September 2014" in text      # C8 (2012 implied), C10
    assert "The Global Exploration Roadmap (second edition)" in text  # A1: "Canada"
    assert "Named present at 7 meetings" in text            # C20, C22, C24, C25, C9, A14, C29
    check_json_ld(page)
    shot(page, "agency-csa-summary")
    page.locator("#summary a", has_text="from 2012 until 30 September 2014").click()
    page.wait_for_url("**/id/tenure/isecg-chair-csa-2012*")
    assert "CSA as Chair of ISECG" in page.locator("h1").inner_text()


def test_agency_page_names_the_meeting_it_missed(page, full_server):
    page.goto(full_server + "/id/agency/cnsa")
    # C22: "CNSA, CSIRO, NSAU and Roscosmos were absent from the meeting."
    absent = page.locator("#summary .ld-summary-absent").inner_text()
    assert "Fourth meeting of ISECG (Noordwijk, 2-3 December 2009)" in absent
    assert page.locator("#summary .ld-summary-chairs").count() == 0  # no page names it chair


def test_group_page_shows_chairs_and_working_groups_over_time(page, full_server):
    page.goto(full_server + "/id/group/isecg")
    chairs = page.locator("#chairs table tbody tr")
    # C2 (JAXA, ESA), C7 (JAXA), C8-C10 (CSA), C10 (ESA), C11 (NASA), C12 (JAXA), C13 (CSA)
    assert [c.split()[0] for c in chairs.all_inner_texts()] == [
        "JAXA", "ESA", "JAXA", "CSA", "ESA", "NASA", "JAXA", "CSA"]
    first = chairs.nth(0).locator("td").all_inner_texts()
    assert first[1:3] == ["—", "20 May 2009"]  # C2: until 20 May 2009; its start is not given
    units = page.locator("#working-groups tbody tr").all_inner_texts()
    iawg = next(r for r in units if "(IAWG)" in r)
    assert "2009, 2010, 2011, 2013" in iawg and "NASA" in iawg  # C14-C17
    # the group's memberships are its members, not its chairs' tenures
    assert page.locator("#memberships tbody tr:not(.ld-note)").count() == 28
    check_json_ld(page)
    shot(page, "group-isecg-chairs")


def test_home_participation_picture_is_readable_on_a_phone(browser, full_server):
    context = browser.new_context(viewport={"width": 390, "height": 900})
    pg = context.new_page()
    try:
        pg.goto(full_server + "/")
        svg = pg.locator("svg.ld-participation")
        assert svg.is_visible() and pg.locator("svg.ld-membership").is_visible()
        box = svg.bounding_box()
        # it fits the phone's width without being shrunk below 90 % of its drawn size (360)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["width"] >= 324
        # GES 14 (itwire), GER 1 12 (NASA's page), GER 2 12 (A1), GER 3 15 (A5), 2020
        # supplement 9 (A9); implied: GER 2's ten named by country, GER 3's fourteen, the nine
        assert pg.locator("svg.ld-participation .ld-cell").count() == 14 + 12 + 12 + 15 + 9
        assert pg.locator("svg.ld-participation .ld-implied").count() == 10 + 14 + 9
        heads = pg.locator("svg.ld-participation text[font-size='9']").all_text_contents()
        assert heads == ["2007-05-31", "2011-09", "2013-08", "2018-01", "2020-08"]
        ARTIFACTS.mkdir(exist_ok=True)
        pg.locator("#participation-figure").screenshot(
            path=str(ARTIFACTS / "home-participation-390.png"))
    finally:
        context.close()
