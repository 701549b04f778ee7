"""Pages in a real browser: Debian's Chromium driven by Playwright (never `playwright install`).

Screenshots go to test-artifacts/ (gitignored). Expected answers come from the source documents:
NASA is the agency of the United States of America, and three documents attest it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from test_linkeddata import ARTIFACTS, build_dir, serve_linked_data

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
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


@pytest.fixture(scope="module")
def browser():
    pw = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


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


def test_query_page_shows_a_results_table(page, full_server):
    page.goto(full_server + "/query")
    # The named examples call Wikidata through SERVICE (no network here); this one is local.
    page.fill("#query", """PREFIX isecg: <https://w3id.org/isecg/ontology#>
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
        'application/ld+json'].includes(s.type) && !s.src.endsWith('/static/sparql-query.js'))
        .length""") == 0
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
    page.fill("#query", HOSTILE_QUERY)
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
