"""Every kind of page in a real browser at a phone's width (390 px) and a desktop's (1280 px):
no sideways scroll, the site's header and a viewport; dates drawn by the graph's precision rule;
result tables that keep words whole; charts named by the label column; a menu that follows the
query (issue 26).

Served from the fixture repository (tests/releases.py: the project's data, releases 1.0.0 and
1.1.0 kept), so the releases page and a changelog are real. Screenshots go to test-artifacts/
(gitignored); their paths are printed. Expected dates come from the sources: ASA, LSA, POLSA,
ROSA and SSO joined "in 2019" (ISECG Annual Report 2019, isecg-facts.md §2), a year and no day;
ISECG's first meeting was in November 2007 (a month).
"""

from __future__ import annotations

import shutil

import pytest
from sites import ARTIFACTS

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280)
NAV = ["ISECG knowledge graph", "Query", "Ontology", "Downloads", "Releases", "Docs"]
DONE = """() => { const s = document.querySelector('#status');
    return s.textContent.startsWith('Done') || s.className === 'error'; }"""


@pytest.fixture(scope="module")
def server(fixture_repo, tmp_path_factory):
    from servers import isecg_server

    repo = tmp_path_factory.mktemp("pages") / "repo"
    shutil.copytree(fixture_repo, repo)
    with isecg_server(repo / "dist", "--source", str(repo)) as url:
        yield url


def open_page(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    pg = context.new_page()
    pg.problems = []
    pg.on("pageerror", lambda e: pg.problems.append(f"pageerror: {e}"))
    pg.on("console", lambda m: m.type == "error" and pg.problems.append(f"console: {m.text}"))
    return context, pg


def run_query(pg, base: str, query: str) -> None:
    pg.goto(f"{base}/query?{query}")
    pg.wait_for_function(DONE, timeout=20000)
    assert pg.locator("#status").inner_text().startswith("Done")


def shot(pg, name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return str(path)


# kind -> (path, result view to open on the query page or None)
PAGES = {
    "home": ("/", None),
    "agency": ("/id/agency/nasa", None),
    "group": ("/id/group/isecg", None),
    "country": ("/id/country/australia", None),
    "document": ("/id/document/exploring-together", None),
    "query-table": ("/query?name=members-as-of&date=2022-12-31", "Table"),
    "query-bar-chart": ("/query?name=agencies-per-country", "Bar chart"),
    "query-timeline": ("/query?name=members-as-of&date=2022-12-31", "Timeline"),
    "releases": ("/releases.html", None),
    "changelog": ("/release/1.1.0/changelog.html", None),
    "ontology": ("/ontology.html", None),
    "docs-index": ("/docs/", None),
    "docs-endpoint": ("/docs/endpoint.html", None),  # the widest tables of the reference
    "docs-security": ("/docs/security.html", None),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", sorted(PAGES))
def test_every_page_kind_fits_the_width_inside_the_site(browser, server, kind, width):
    path, view = PAGES[kind]
    context, pg = open_page(browser, width)
    try:
        if view is None:
            pg.goto(server + path)
        else:
            run_query(pg, server, path.split("?", 1)[1])
            if view != "Table":
                pg.click(f"#views button:has-text('{view}')")
            assert pg.locator(".q-pane:not([hidden]) > *").first.is_visible()
        assert pg.evaluate("document.documentElement.scrollWidth") <= width, \
            pg.evaluate("""(w) => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > w).slice(0, 5)
                .map(e => e.tagName + '.' + e.className)""", width)
        viewport = pg.locator("meta[name=viewport]").get_attribute("content")
        assert "width=device-width" in viewport
        if kind != "changelog":
            # a published changelog is a release file, fixed byte for byte: it has a viewport
            # and the site's stylesheet (../../static/ld-style.css) but not the header
            assert pg.locator("header.ld-nav nav a").all_inner_texts() == NAV
            assert pg.evaluate("""() => document.querySelector('header.ld-nav')
                .getBoundingClientRect().top + window.scrollY""") == 0  # the page's top
        shot(pg, f"page-{kind}-{width}")
        assert not pg.problems, pg.problems
    finally:
        context.close()


def test_timeline_draws_a_year_as_the_whole_year_not_its_first_day(browser, server):
    context, pg = open_page(browser, 1280)
    try:
        run_query(pg, server, "name=members-as-of&date=2022-12-31")
        pg.click("#views button:has-text('Timeline')")
        events = pg.locator("svg.q-timeline .q-event").evaluate_all("""gs => gs.map(g => ({
            from: g.dataset.from, to: g.dataset.to, text: g.querySelector('text').textContent,
            shape: g.querySelector('rect, circle').tagName,
            x: g.querySelector('rect') ? g.querySelector('rect').getBBox().x : null,
            w: g.querySelector('rect') ? g.querySelector('rect').getBBox().width : 0}))""")
        ticks = pg.locator("svg.q-timeline line.q-grid").evaluate_all(
            "ls => ls.map(l => [Number(l.dataset.year), Number(l.getAttribute('x1'))])")
        (y0, x0), (y1, x1) = ticks[0], ticks[-1]
        per_year = (x1 - x0) / (y1 - y0)
        joined_2019 = {e["text"].split(" (")[0]: e for e in events if "2019" in e["text"]}
        assert set(joined_2019) == {"ASA", "LSA", "POLSA", "ROSA", "SSO"}
        for acronym, e in joined_2019.items():
            # the whole of 2019, labelled as the year the source gives, drawn as a bar
            assert (e["from"], e["to"]) == ("2019-01-01", "2019-12-31"), acronym
            assert e["text"] == f"{acronym} (2019)" and e["shape"] == "rect"
            assert abs(e["x"] - (x0 + (2019 - y0) * per_year)) < 1
            assert abs(e["w"] - per_year) < 1
        assert not any("2019-01-01)" in e["text"] or "-01-01)" in e["text"] for e in events)
        # the founders: the whole of November 2007, the month the sources give
        founders = [e for e in events if e["text"].endswith("(2007-11)")]
        assert len(founders) == 14
        assert {(e["from"], e["to"]) for e in founders} == {("2007-11-01", "2007-11-30")}
        shot(pg, "timeline-members-as-of")

        # a month on its own column too: the first meeting, November 2007, begins and ends
        run_query(pg, server, "name=meetings")
        pg.click("#views button:has-text('Timeline')")
        first = pg.locator("svg.q-timeline .q-event", has_text="(2007-11)")
        assert first.count() == 1
        assert (first.get_attribute("data-from"), first.get_attribute("data-to")) == \
            ("2007-11-01", "2007-11-30")
        assert not pg.problems, pg.problems
    finally:
        context.close()


WORDS_WHOLE = """(cell) => {
    // every line break inside the cell's text falls at a space or after a word's hyphen
    // ('Geo-Informatics'), never inside a word
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const broken = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent, range = document.createRange();
        let top = null;
        for (let i = 0; i < text.length; i++) {
            range.setStart(node, i); range.setEnd(node, i + 1);
            const r = range.getClientRects()[0];
            if (!r) continue;
            if (top !== null && r.top > top + 2 && text[i] !== ' ' && !' -'.includes(text[i - 1]))
                broken.push(text.slice(Math.max(0, i - 6), i) + '|' + text.slice(i, i + 6));
            top = r.top;
        }
    }
    return broken; }"""


@pytest.mark.parametrize("width", WIDTHS)
def test_result_tables_wrap_at_word_boundaries(browser, server, width):
    context, pg = open_page(browser, width)
    try:
        run_query(pg, server, "name=members-at-formation")
        cell = pg.locator("#results td", has_text="British National Space Centre")
        assert cell.count() == 1  # BNSC, a founder (isecg-facts.md §1)
        assert cell.evaluate(WORDS_WHOLE) == []
        style = cell.evaluate("""c => { const s = getComputedStyle(c);
            return [s.overflowWrap, s.wordBreak, s.hyphens]; }""")
        assert style == ["break-word", "normal", "none"]
        for head in pg.locator("#results th").all():  # '?status' stays one line
            assert head.evaluate("""h => { const r = document.createRange();
                r.selectNodeContents(h); return new Set([...r.getClientRects()]
                .map(x => Math.round(x.top))).size; }""") == 1
        run_query(pg, server, "name=members-as-of&date=2022-12-31")
        for cell in pg.locator("#results td:not(.uri)").all():
            assert cell.evaluate(WORDS_WHOLE) == [], cell.inner_text()
        assert pg.evaluate("document.documentElement.scrollWidth") <= width
        shot(pg, f"query-table-words-{width}")
    finally:
        context.close()


def test_bar_chart_names_bars_by_the_label_column(browser, server):
    context, pg = open_page(browser, 1280)
    try:
        run_query(pg, server, "name=agencies-per-country")
        pg.click("#views button:has-text('Bar chart')")
        chart = pg.locator("svg.q-chart")
        assert chart.get_attribute("aria-label") == "bar chart of ?agencies by ?label"
        names = pg.locator("svg.q-chart .q-bar title").all_text_contents()
        # Australia has two member agencies, ASA and CSIRO (isecg-facts.md §1)
        assert "Australia: 2" in names
        assert not any(n.startswith(("country:", "region:", "http")) for n in names), names
        assert not pg.problems, pg.problems
    finally:
        context.close()


def test_the_menu_follows_the_query(browser, server):
    context, pg = open_page(browser, 1280)
    try:
        pg.goto(server + "/query")
        pg.select_option("#example", "members-as-of")
        described = pg.locator("#example-description").inner_text()
        assert described.startswith("Every agency's standing in ISECG on a date")
        # type into the editor: the menu no longer names the example, nor describes it
        pg.click(".cm-content")
        pg.keyboard.press("Control+End")
        pg.keyboard.type("\n# mine")
        assert pg.locator("#example option:checked").inner_text() == "Your own query"
        about = pg.locator("#example-description").inner_text()
        assert about.startswith("Your own query, edited from the named query “Members as of a "
                                "date”") and described not in about
        link = pg.locator("#share").get_attribute("href")
        assert "query=" in link and "name=members-as-of" in link
        # its shared link opens as the edited query it is
        pg.goto(server + link)
        pg.wait_for_function(DONE, timeout=20000)
        assert pg.locator("#example option:checked").inner_text() == "Your own query"
        assert pg.locator("#query").input_value().endswith("# mine")
        # choosing the example again brings back its text and its description
        pg.select_option("#example", "members-as-of")
        assert pg.locator("#example-description").inner_text() == described
        assert not pg.locator("#query").input_value().endswith("# mine")
        assert not pg.problems, pg.problems
    finally:
        context.close()
