"""The W3C SPARQL 1.0 and 1.1 query tests through the query guard, the engine and the endpoint.

The suites (w3c/rdf-tests ``sparql/sparql10`` and ``sparql/sparql11``) are W3C material under
the W3C Test Suite Licence and the W3C 3-clause BSD Licence
(https://www.w3.org/copyright/test-suites-licence-2023/). They are not committed: set-up
(``scripts/test.sh`` → ``tests/w3c_suites.py``) fetches the pinned rdflib sdist from PyPI, checks
its SHA-256 and unpacks only the suites into ``.cache/w3c-suites/sparql/``.

Every query test (positive and negative syntax tests, query evaluation tests; update and
protocol tests are left out: the endpoint is read-only and ``test_protocol_conformance`` runs the
protocol manifest) gets three observations, compared with the reviewed table
``conformance/sparql.tsv``:

* ``guard``: ``check_query`` with the endpoint's settings: ``accept``, ``refused`` (SERVICE,
  FROM another graph, ... by policy) or ``error``;
* ``endpoint``: the HTTP status of a real ``isecg-kg serve`` (over the project's data) for the
  query: 200 for a valid query, 400 only for a malformed one, 403 refused, 501 unsupported;
* ``result`` (evaluation tests): the query run by the endpoint's own code (``check_query`` then
  ``sparql.engine.execute``, the worker's function) on a store loaded with the test's data, compared
  with the expected results: ``pass`` or ``differs`` (solutions as multisets, blank nodes
  alike, order not compared; graphs by isomorphism), ``refused`` or the error's class.

A row that differs from the table fails, one line per test. Whatever the table says, a valid
query must never be answered 400 "Malformed query".
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import csv
import multiprocessing
import re
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare
from conftest import ROOT
from isecg_kg.errors import QueryError, QueryRefused
from isecg_kg.sparql.engine import QueryRequest, execute
from isecg_kg.sparql.guard import check_query
from servers import isecg_server
from w3c_suites import suite_dir

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
TABLE = ROOT / "tests" / "conformance" / "sparql.tsv"
KINDS = {"PositiveSyntaxTest": "positive", "PositiveSyntaxTest11": "positive",
         "NegativeSyntaxTest": "negative", "NegativeSyntaxTest11": "negative",
         "QueryEvaluationTest": "eval"}
DEFAULT = "urn:x-w3c-test:default-graph"  # the test's default graph, when it also has named ones


# one suite test: its id (folder/name), kind, query file, data files and expected results
Case = collections.namedtuple("Case", "id kind query data graph_data result")


def _g(path: Path) -> ox.Store:
    g = ox.Store()
    g.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
    return g


def _file(node) -> Path:
    return Path(node.value.removeprefix("file://"))


def collect(root: Path) -> list[Case]:
    out, seen = [], set()

    def items(g, node):
        while node.value != RDF + "nil":
            yield next(g.quads_for_pattern(node, ox.NamedNode(RDF + "first"), None)).object
            node = next(g.quads_for_pattern(node, ox.NamedNode(RDF + "rest"), None)).object

    def one(g, s, p):
        return next((q.object for q in g.quads_for_pattern(s, ox.NamedNode(p), None)), None)

    def walk(manifest: Path, top: str) -> None:
        if manifest in seen:
            return
        seen.add(manifest)
        g = _g(manifest)
        for q in g.quads_for_pattern(None, ox.NamedNode(MF + "include"), None):
            for inc in items(g, q.object):
                walk(_file(inc), top)
        for q in g.quads_for_pattern(None, ox.NamedNode(MF + "entries"), None):
            for t in items(g, q.object):
                kind = next((KINDS[x.object.value.rsplit("#", 1)[-1]] for x in
                             g.quads_for_pattern(t, ox.NamedNode(RDF + "type"), None)
                             if x.object.value.rsplit("#", 1)[-1] in KINDS), None)
                if kind is None:
                    continue
                action = one(g, t, MF + "action")
                query = one(g, action, QT + "query") if kind == "eval" else action
                data = [_file(x.object) for x in g.quads_for_pattern(
                    action, ox.NamedNode(QT + "data"), None)] if kind == "eval" else []
                named = [_file(x.object) for x in g.quads_for_pattern(
                    action, ox.NamedNode(QT + "graphData"), None)] if kind == "eval" else []
                result = one(g, t, MF + "result")
                name = re.split(r"[#/]", t.value)[-1]
                folder = manifest.parent.relative_to(root).as_posix()
                out.append(Case(f"{folder}/{name}", kind, _file(query), data, named,
                                _file(result) if kind == "eval" and result else None))

    walk(root / "sparql10" / "manifest-syntax.ttl", "sparql10")
    walk(root / "sparql10" / "manifest-evaluation.ttl", "sparql10")
    walk(root / "sparql11" / "manifest-all.ttl", "sparql11")
    return out


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def guard(test: Case) -> str:
    try:
        check_query(_text(test.query))
    except QueryRefused:
        return "refused"
    except QueryError:
        return "error"
    return "accept"


# --- expected results -----------------------------------------------------------------------

def _norm(term):
    return "_:b" if isinstance(term, ox.BlankNode) else str(term)


def _solutions(sols) -> collections.Counter:
    names = [v.value for v in sols.variables]
    return collections.Counter(frozenset((n, _norm(s[n])) for n in names if s[n] is not None)
                               for s in sols)


def _triples(path: Path) -> list[ox.Triple]:
    if path.suffix == ".rdf":  # some of these RDF/XML files break IRIs across lines
        g = rdflib.Graph().parse(path, format="xml")
        return [q.triple for q in ox.parse(g.serialize(format="nt", encoding="utf-8"),
                                           format=ox.RdfFormat.N_TRIPLES)]
    return [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE,
                                       base_iri=path.as_uri())]


def _load(store: ox.Store, path: Path, graph) -> None:
    """One document into one graph, its blank nodes its own (pyoxigraph keeps the labels)."""
    fresh = collections.defaultdict(ox.BlankNode)
    store.extend(ox.Quad(*(fresh[x] if isinstance(x, ox.BlankNode) else x for x in t), graph)
                 for t in _triples(path))


def _result_set_graph(path: Path):
    """A SPARQL 1.0 result set written in RDF (rs: vocabulary), or None if the file is a graph."""
    triples = _triples(path)
    rs = [t.subject for t in triples if t.predicate.value == RDF + "type"
          and t.object.value == RS + "ResultSet"]
    if not rs:
        return None, triples
    spo = collections.defaultdict(list)
    for t in triples:
        spo[(t.subject, t.predicate.value)].append(t.object)
    boolean = spo.get((rs[0], RS + "boolean"))
    if boolean:
        return boolean[0].value == "true", triples
    rows = collections.Counter()
    for sol in spo.get((rs[0], RS + "solution"), []):
        row = set()
        for b in spo.get((sol, RS + "binding"), []):
            row.add((spo[(b, RS + "variable")][0].value, _norm(spo[(b, RS + "value")][0])))
        rows[frozenset(row)] += 1
    return rows, triples


def expected(test: Case):
    """rows (Counter), a boolean, or ("graph", triples)."""
    p = test.result
    fmts = {".srx": ox.QueryResultsFormat.XML, ".srj": ox.QueryResultsFormat.JSON,
            ".tsv": ox.QueryResultsFormat.TSV}
    if p.suffix in fmts:
        r = ox.parse_query_results(path=str(p), format=fmts[p.suffix])
        return bool(r) if isinstance(r, ox.QueryBoolean) else _solutions(r)
    if p.suffix in (".ttl", ".rdf", ".nt"):
        rows, triples = _result_set_graph(p)
        return ("graph", triples) if rows is None else rows
    raise ValueError(f"{p}: no reader for this result format")


def _isomorphic(a: list, b: list) -> bool:
    def graph(triples):
        g = rdflib.Graph()
        for t in triples:
            g.add(tuple(rdflib.BNode(x.value) if isinstance(x, ox.BlankNode) else
                        rdflib.URIRef(x.value) if isinstance(x, ox.NamedNode) else
                        rdflib.Literal(x.value, lang=x.language, normalize=False,
                                       datatype=None if x.language else x.datatype.value)
                        for x in t))
        return g

    return rdflib.compare.isomorphic(graph(a), graph(b))


def result(test: Case) -> str:
    """The test's query on its own data, by the endpoint's code path, against the expectation."""
    text = _text(test.query)
    store = ox.Store()
    named = [p.as_uri() for p in test.graph_data]
    for p in test.data:
        _load(store, p, ox.NamedNode(DEFAULT) if named else ox.DefaultGraph())
    for p in test.graph_data:
        _load(store, p, ox.NamedNode(p.as_uri()))
    # the query's own FROM graphs are the test's files: load them, and let the guard allow them
    froms = re.findall(r"FROM\s+(?:NAMED\s+)?<([^>]*)>", text, re.IGNORECASE)
    graphs = tuple({*named, DEFAULT})
    for f in dict.fromkeys(froms):  # once each: FROM and FROM NAMED of a file share its blank nodes
        iri = test.query.parent.joinpath(f).as_uri() if ":" not in f else f
        path = Path(iri.removeprefix("file://"))
        if path.is_file():
            _load(store, path, ox.NamedNode(iri))
        graphs += (iri,)
    try:
        checked = check_query(text, graphs=graphs, base_iri=test.query.as_uri())
        dataset = {} if froms or not named else {"default_graphs": (DEFAULT,),
                                                 "named_graphs": tuple(named)}
        got = execute(store, QueryRequest(checked.text, solution_format="json",
                                          graph_format="nt", base_iri=test.query.as_uri(),
                                          **dataset))
    except QueryRefused:
        return "refused"
    except QueryError as exc:
        return f"error:{type(exc).__name__}"
    want = expected(test)
    if got.form == "GRAPH":
        triples = [q.triple for q in ox.parse(got.body, format=ox.RdfFormat.N_TRIPLES)]
        ok = isinstance(want, tuple) and _isomorphic(triples, want[1])
    else:
        r = ox.parse_query_results(got.body, format=ox.QueryResultsFormat.JSON)
        ok = (bool(r) if isinstance(r, ox.QueryBoolean) else _solutions(r)) == want
    return "pass" if ok else "differs"


# --- the endpoint ---------------------------------------------------------------------------

def endpoint_status(client: httpx.Client, test: Case) -> str:
    """The HTTP status, with the problem's title for a 4xx/5xx other than 400 Malformed query."""
    r = client.post("/sparql", content=test.query.read_bytes(),
                    headers={"Content-Type": "application/sparql-query",
                             "Accept": "application/sparql-results+json, text/turtle;q=0.9"})
    if r.status_code == 200:
        return "200"
    title = r.json().get("title")
    return "400" if title == "Malformed query" else f"{r.status_code}:{title}"


def read_table() -> dict[str, dict[str, str]]:
    with TABLE.open(newline="") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        return {r["test"]: r for r in rows}


@pytest.fixture(scope="module")
def suite() -> list[Case]:
    root = suite_dir("sparql")
    if root is None:
        pytest.skip("the W3C SPARQL suites are not fetched: run `python tests/w3c_suites.py "
                    "sparql` (scripts/test.sh does)")
    return collect(root)


def _results(tests: list[Case]) -> list[str]:
    return [result(t) if t.result else "-" for t in tests]


@pytest.fixture(scope="module")
def observed(suite, dist) -> dict[str, dict[str, str]]:
    # in a child process: the engine's ORDER BY abort (see the table) would end the test run
    ctx = multiprocessing.get_context("forkserver")
    with cf.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        try:
            results = pool.submit(_results, suite).result(timeout=300)
        except cf.process.BrokenProcessPool:
            pytest.fail("the engine aborted the process evaluating the suite's queries")
    rows = {t.id: {"kind": t.kind, "guard": guard(t), "result": r}
            for t, r in zip(suite, results, strict=True)}
    # one at a time: a query that kills its worker (the engine's ORDER BY abort) would make
    # concurrent neighbours 503 by chance
    with isecg_server(dist) as url, httpx.Client(base_url=url, timeout=30) as client:
        for t in suite:
            rows[t.id]["endpoint"] = endpoint_status(client, t)
    return rows


def test_suite_size_and_every_test_has_a_reviewed_row(suite):
    kinds = collections.Counter(t.kind for t in suite)
    assert kinds == {"positive": 212, "negative": 93, "eval": 502}, kinds
    ids = [t.id for t in suite]
    assert len(set(ids)) == len(ids)
    table = read_table()
    assert sorted(table) == sorted(ids), sorted(set(table) ^ set(ids))[:10]


def test_no_valid_query_is_called_malformed(suite, observed):
    """Only where the engine's own parser rejects valid SPARQL (listed, with the reason)."""
    table = read_table()
    bad = [f"{t.id}: a valid query answered 400 Malformed query" for t in suite
           if t.kind != "negative" and observed[t.id]["endpoint"] == "400"
           and not table[t.id]["reason"].startswith("engine parser:")]
    assert not bad, "\n".join(bad)


def test_observations_match_the_reviewed_table(suite, observed):
    table = read_table()
    off = []
    for t in suite:
        want, got = table[t.id], observed[t.id]
        for col in ("guard", "endpoint", "result"):
            if got[col] not in want[col].split("|"):  # a|b: either (the engine's ORDER BY abort)
                off.append(f"{t.id}: {col} {got[col]} (table says {want[col]})")
        usual = {"positive": ("accept", "200", "-"), "negative": (None, "400", "-"),
                 "eval": ("accept", "200", "pass")}[t.kind]
        unusual = any(u is not None and want[c] != u
                      for u, c in zip(usual, ("guard", "endpoint", "result"), strict=True))
        if unusual and not want["reason"].strip():
            off.append(f"{t.id}: the table gives no reason for its unusual row")
    assert not off, "\n".join(off)
