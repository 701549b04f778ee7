"""What a server answered, read completely: every 200 body of SPARQL results or RDF parsed to
its rows, boolean or triples (CSV by the csv module: pyoxigraph will not read a lossy format),
never a cut-off body."""

from __future__ import annotations

import csv
import io

import httpx
import pyoxigraph as ox

RESULT_PARSERS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
RDF_PARSERS = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
               "application/ld+json": ox.RdfFormat.JSON_LD,
               "application/rdf+xml": ox.RdfFormat.RDF_XML}


def parsed(resp: httpx.Response):
    """The complete parse of a 200 body: rows, a boolean, or triples (never a cut-off body)."""
    assert resp.status_code == 200, resp.text[:500]
    media = resp.headers["content-type"].split(";")[0].strip()
    if media == "text/csv":  # lossy by design: pyoxigraph will not parse it; the csv module does
        rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8"), newline="")))
        assert resp.content.endswith(b"\r\n") and all(len(r) == len(rows[0]) for r in rows)
        return [tuple(ox.Literal(v) for v in r) for r in rows[1:]]
    if media in RESULT_PARSERS:
        r = ox.parse_query_results(resp.content, format=RESULT_PARSERS[media])
        return bool(r) if isinstance(r, ox.QueryBoolean) else [tuple(s) for s in r]
    if media in RDF_PARSERS:
        return [q.triple for q in ox.parse(resp.content, format=RDF_PARSERS[media])]
    raise AssertionError(f"unexpected media type {media}")
