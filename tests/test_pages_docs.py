"""The reference pages (web/pages/docs.py): every Markdown file of the package's docs/ served as
a page of the site at /docs/NAME.html, with the site's header and navigation, rendered by
markdown-it-py (tables as tables, links between pages as the pages' addresses, raw HTML
escaped), /docs/ the index, anything else 404; the static export writes the same pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
from isecg_kg.web.pages import docs
from sites import serve_linked_data


@pytest.fixture(scope="module")
def client(ld_dist, tmp_path_factory):
    with serve_linked_data(ld_dist, tmp_path_factory.mktemp("docs-server")) as url, \
            httpx.Client(base_url=url, timeout=30) as c:
        yield c


class Page(HTMLParser):
    def __init__(self, text: str):
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [v for k, v in attrs if k == "href" and v]


def test_every_page_is_served_with_the_site_header_and_its_title(client):
    assert len(docs.names()) >= 10 and docs.names()[0] == "index"
    for name in docs.names():
        r = client.get(f"/docs/{name}.html")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), name
        page = Page(r.text)
        assert {"header", "nav", "main", "h1"} <= set(page.tags), name
        assert f"<title>{docs.title(name)} · ISECG knowledge graph</title>" in r.text
        assert 'name="viewport"' in r.text


def test_the_index_is_docs_and_links_every_page(client):
    r = client.get("/docs/")
    assert r.status_code == 200
    hrefs = set(Page(r.text).hrefs)
    for name in docs.names():
        if name != "index":
            assert f"{name}.html" in hrefs, name


def test_links_between_pages_lead_to_pages_that_are_served(client):
    seen = 0
    for name in docs.names():
        for href in Page(client.get(f"/docs/{name}.html").text).hrefs:
            if re.fullmatch(r"[a-z-]+\.html(#.*)?", href):  # a sibling page
                assert client.get("/docs/" + href.split("#")[0]).status_code == 200, href
                seen += 1
    assert seen >= 10


def test_markdown_tables_are_html_tables(client):
    text = client.get("/docs/endpoint.html").text
    assert "<table>" in text and "<th>limit</th>" in text


def test_raw_html_in_the_markdown_is_escaped(monkeypatch, tmp_path):
    (tmp_path / "trial.md").write_text("# Trial\n\n<script>alert(1)</script> [x](cli.md)\n")
    monkeypatch.setattr(docs, "DOCS", tmp_path)
    out = docs.html("trial")
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert 'href="cli.html"' in out


@pytest.mark.parametrize("path", ["/docs/nothing.html", "/docs/..%2fREADME.html",
                                  "/docs/Index.html", "/docs/index.md"])
def test_anything_else_under_docs_is_404(client, path):
    assert client.get(path).status_code == 404


def test_the_static_export_writes_every_page(ld_dist, tmp_path):
    from isecg_kg.web.pages.export import write_site

    out = tmp_path / "site"
    write_site(ld_dist, out, None)
    for name in docs.names():
        text = (out / "docs" / f"{name}.html").read_text(encoding="utf-8")
        assert "<h1>" in text, name
