"""web/endpoint/query_page.py: the query page escapes what it shows and loads nothing from
elsewhere."""

from __future__ import annotations

from isecg_kg.sparql.catalogue import named_queries


def test_query_page_for_browsers_escapes_everything(sparql_client):
    evil = "</textarea><script>alert(1)</script>"
    r = sparql_client.get("/sparql", params={"query": evil},
                   headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)" not in r.text and "&lt;/textarea&gt;" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    page = sparql_client.get("/query")
    assert "<textarea" in page.text and "/static/sparql-query.js" in page.text
    assert "https://" not in page.text.split("<body>")[0].replace("https://w3id", "")  # no CDN
    js = sparql_client.get("/static/sparql-query.js")
    assert js.status_code == 200 and "innerHTML" not in js.text
    from markupsafe import escape  # the page's own (Jinja) escaping

    for q in named_queries().values():
        assert str(escape(q.title or q.name)) in page.text
