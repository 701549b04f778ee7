"""`isecg-kg query` and `isecg-kg queries` (sparql/command.py; issue 3).

Expected counts come from the source documents: the 2022 anniversary article lists 27 member
agencies; the NASA page and the brochure of about 2010-2011 each list 14.
"""

from __future__ import annotations

import csv
import io
import json
import time

import pyoxigraph as ox
import pytest
from conftest import run_cli
from isecg_kg.sparql.catalogue import named_queries
from isecg_kg.sparql.guard import check_query
from queries import CARTESIAN, ENGINE_PANIC, MEMBERS_2022

PREFIXES = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX doc: <https://w3id.org/isecg/id/document/>
"""
COUNT_BY_SOURCE = PREFIXES + """SELECT (COUNT(DISTINCT ?agency) AS ?n) WHERE {
  ?m org:member ?agency ; dcterms:source ?source .
}"""


def test_cli_accepts_predeclared_prefixes(dist):
    proc = run_cli("query", "--dist", str(dist), "--format", "csv",
                   "SELECT ?a { ?m org:member ?a ; dcterms:source doc:isecg-15th-anniversary }")
    assert proc.returncode == 0, proc.stderr
    assert len(set(proc.stdout.splitlines()[1:])) == 27


@pytest.mark.parametrize("source,expected", [("isecg-15th-anniversary", 27),
                                             ("nasa-about-isecg", 14),
                                             ("exploring-together", 14)])
def test_cli_member_counts_from_sources(dist, source, expected):
    proc = run_cli("query", "--dist", str(dist), "--format", "json",
                   "--param", f"source=<https://w3id.org/isecg/id/document/{source}>",
                   COUNT_BY_SOURCE.replace("SELECT (COUNT", "SELECT ?source (COUNT")
                   + " GROUP BY ?source", check=True)
    rows = json.loads(proc.stdout)["results"]["bindings"]
    assert int(rows[0]["n"]["value"]) == expected


def test_cli_formats_parse_completely(dist):
    for fmt, parse in [
        ("json", lambda b: ox.parse_query_results(b, format=ox.QueryResultsFormat.JSON)),
        ("xml", lambda b: ox.parse_query_results(b, format=ox.QueryResultsFormat.XML)),
        ("tsv", lambda b: ox.parse_query_results(b, format=ox.QueryResultsFormat.TSV)),
        ("csv", lambda b: list(csv.reader(io.StringIO(b.decode())))[1:]),
    ]:
        proc = run_cli("query", "--dist", str(dist), "--format", fmt, MEMBERS_2022, check=True)
        assert len(list(parse(proc.stdout.encode()))) == 27, fmt
    table = run_cli("query", "--dist", str(dist), MEMBERS_2022, check=True).stdout
    assert "agency:nasa" in table and table.rstrip().endswith("(27 rows)")
    describe = "DESCRIBE <https://w3id.org/isecg/id/agency/nasa>"
    for fmt, rdf in [("turtle", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES),
                     ("jsonld", ox.RdfFormat.JSON_LD), ("xml", ox.RdfFormat.RDF_XML)]:
        proc = run_cli("query", "--dist", str(dist), "--format", fmt, describe, check=True)
        assert len(list(ox.parse(proc.stdout.encode(), format=rdf))) > 3, fmt


def test_cli_malformed_query_gives_line_and_column(dist):
    proc = run_cli("query", "--dist", str(dist), "SELECT * WHERE {\n  ?s ?p ?o\n  FILTER(\n}")
    assert proc.returncode == 2
    assert "line 4, column" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_unknown_parameter_is_named(dist, tmp_path):
    rq = tmp_path / "q.rq"
    rq.write_text("# title: t\n# param: agency iri the agency\nSELECT ?agency ?p WHERE "
                  "{ ?agency ?p ?o }\n")
    proc = run_cli("query", "--dist", str(dist), "-f", str(rq), "--param", "agencyy=agency:nasa")
    assert proc.returncode == 2 and "'agencyy'" in proc.stderr
    proc = run_cli("query", "--dist", str(dist), "-f", str(rq), "--param", "agency=agency:nasa",
                   "--format", "csv", check=True)
    assert "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" in proc.stdout


def test_cli_refusals_and_timeout(dist):
    proc = run_cli("query", "--dist", str(dist),
                   "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    assert proc.returncode == 2 and "not allowed" in proc.stderr
    t0 = time.monotonic()
    proc = run_cli("query", "--dist", str(dist), "--timeout", "1", CARTESIAN)
    assert proc.returncode == 2 and "time limit" in proc.stderr
    assert time.monotonic() - t0 < 30  # stopped at 1 s, not run for hours


def test_cli_survives_an_engine_crash_and_says_so_in_one_line(dist, monkeypatch):
    """pyoxigraph 0.5.13 aborts the process (a Rust panic) sorting pairs of mixed literals
    (queries.ENGINE_PANIC): the CLI must survive it and say so in one line."""
    monkeypatch.setenv("RUST_BACKTRACE", "1")  # the crash's backtrace must not reach the user
    proc = run_cli("query", "--dist", str(dist), "--timeout", "60", ENGINE_PANIC)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr[-600:]
    assert "died before it answered (signal SIGABRT; pyoxigraph panicked:" in proc.stderr
    assert "total order" in proc.stderr


def test_named_queries_run_from_cli(dist):
    """Every named query runs (its answer is asserted in test_named_queries.py); those that
    call Wikidata through SERVICE need the network and are left to test_named_queries.py."""
    for name, q in named_queries().items():
        if check_query(q.text).services:
            continue
        proc = run_cli("query", "--dist", str(dist), "-n", name, "--format", "json")
        assert proc.returncode == 0, f"{name}: {proc.stderr}"


def test_one_shot_cli_query_is_killed_at_its_deadline(dist):
    """The CLI's forked child cannot be interrupted, so it is killed: exit 2, a clear message,
    well within the limit plus start-up."""
    import time

    from conftest import run_cli

    started = time.monotonic()
    proc = run_cli("query", "--dist", str(dist), "--timeout", "1",
                   "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    assert proc.returncode == 2
    assert "time limit of 1 s" in proc.stderr
    assert time.monotonic() - started < 30  # killed at 1 s, not run for hours


def test_a_syntax_error_in_a_query_with_service_is_the_querys_not_the_remote_ends(dist):
    """The one-shot child sends the error's kind and place as a worker does, so the CLI tells a
    malformed query from a failed SERVICE by the endpoint's rule (it once blamed the remote)."""
    query = ("SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } ?s ?p }")
    cli = run_cli("query", "--dist", str(dist), query)
    assert cli.returncode == 2
    assert "syntax error at line 1, column 76" in cli.stderr, cli.stderr
    assert "remote endpoint" not in cli.stderr and "well-formed" not in cli.stderr
