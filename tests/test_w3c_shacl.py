"""The W3C SHACL Core test suite through both validators: pySHACL and the SPARQL compiler.

The suite (w3c/data-shapes, ``data-shapes-test-suite/tests/core/``, 98 sht:Validate tests) is
W3C material under the W3C Test Suite Licence and the W3C 3-clause BSD Licence
(https://www.w3.org/copyright/test-suites-licence-2023/). It is not committed: set-up
(``scripts/test.sh`` → ``tests/w3c_suites.py``) fetches the pinned pySHACL sdist from PyPI, checks
its SHA-256 and unpacks only the suite into ``.cache/w3c-suites/shacl/``.

Each test's real outcome is compared with the reviewed table ``conformance/shacl-core.tsv``
(one row per test: the expected outcome for pySHACL and for the SPARQL validator, and why, for
every outcome that is not ``pass``). Outcomes:

* ``pass``: sh:conforms and the set of results agree with the manifest's expected report, each
  result as (focus node, path, value, source shape, constraint component, severity);
* ``refused:<feature>``: the SPARQL validator refuses the shapes graph, naming the feature;
* ``wrong``: the validator gives another report (the table's reason says what differs).

A test whose outcome differs from the table fails, one line per test, whether it got worse or
better: the table is edited by hand when behaviour changes on purpose. sh:conforms follows the
SHACL spec here (true only when there are no results at all), so pySHACL runs with
``allow_warnings=False``.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import ROOT
from isecg_kg.errors import InputError
from w3c_suites import suite_dir

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
TABLE = ROOT / "tests" / "conformance" / "shacl-core.tsv"
VALIDATORS = ("pyshacl", "sparql")
# rdflib logs a traceback for every ill-typed literal, and the suite has them on purpose
logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)


def _tests(root: Path) -> list[tuple[str, Path, rdflib.Graph, rdflib.term.Node]]:
    """(id, file, manifest graph, test node) for every sht:Validate test, in manifest order."""
    out = []

    def walk(manifest: Path) -> None:
        g = _written(manifest)
        for inc in g.objects(None, MF.include):
            walk(Path(inc.removeprefix("file://")))
        for entries in g.objects(None, MF.entries):
            for test in rdflib.collection.Collection(g, entries):
                if (test, rdflib.RDF.type, SHT.Validate) in g:
                    name = manifest.relative_to(root).with_suffix("").as_posix()
                    out.append((name, manifest, g, test))

    walk(root / "core" / "manifest.ttl")
    return out


def _path_text(g, p) -> str:
    """A SHACL path as SPARQL-like text, from the graph that describes it."""
    if isinstance(p, rdflib.URIRef):
        return f"<{p}>"
    if (p, rdflib.RDF.first, None) in g:
        return "(" + "/".join(_path_text(g, x) for x in rdflib.collection.Collection(g, p)) + ")"
    for name, fmt in (("inversePath", "^{}"), ("zeroOrMorePath", "{}*"),
                      ("oneOrMorePath", "{}+"), ("zeroOrOnePath", "{}?")):
        inner = g.value(p, SH[name])
        if inner is not None:
            return fmt.format(_path_text(g, inner))
    alts = g.value(p, SH.alternativePath)
    if alts is not None:
        return "(" + "|".join(_path_text(g, x) for x in rdflib.collection.Collection(g, alts)) + ")"
    return "_:path"


def _term(g, t, role: str) -> str | None:
    """A result term as text that survives a change of graph (blank nodes described)."""
    if t is None:
        return None
    if isinstance(t, rdflib.BNode):
        if role == "path":
            return _path_text(g, t)
        if role == "shape" and g.value(t, SH.path) is not None:
            return f"[sh:path {_path_text(g, g.value(t, SH.path))}]"
        return "_:b"
    if isinstance(t, rdflib.Literal):  # as written: "1.50"^^xsd:decimal is not "1.5"
        plain = t.datatype in (None, rdflib.XSD.string)
        return rdflib.Literal(str(t), lang=t.language, datatype=None if plain else t.datatype,
                              normalize=False).n3()
    return t.n3()


def _report_rows(report: rdflib.Graph, shapes: rdflib.Graph, node) -> tuple[bool, set]:
    rows = set()
    for r in report.objects(node, SH.result):
        path = report.value(r, SH.resultPath)
        rows.add((_term(report, report.value(r, SH.focusNode), "focus"),
                  _term(report if (path, None, None) in report else shapes, path, "path"),
                  _term(report, report.value(r, SH.value), "value"),
                  _term(shapes, report.value(r, SH.sourceShape), "shape"),
                  _term(report, report.value(r, SH.sourceConstraintComponent), "component"),
                  _term(report, report.value(r, SH.resultSeverity), "severity")))
    return bool(report.value(node, SH.conforms).toPython()), rows


def _graphs(manifest: Path, g: rdflib.Graph, test) -> tuple[Path, Path]:
    action = g.value(test, MF.action)
    return tuple(Path(str(g.value(action, k)).removeprefix("file://"))
                 for k in (SHT.dataGraph, SHT.shapesGraph))


@contextlib.contextmanager
def _as_written():
    """rdflib rewrites "1"^^xsd:boolean as "true" unless told not to: the expected reports and
    our results are compared as written (pySHACL still runs on rdflib's default graphs)."""
    old, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = old


def _rdflib(path: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(path, format="turtle")


def _written(path: Path) -> rdflib.Graph:
    with _as_written():
        return _rdflib(path)


def _ox(path: Path) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE,
                                       base_iri=path.as_uri())]


def _to_rdflib(t):
    if isinstance(t, ox.NamedNode):
        return rdflib.URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return rdflib.BNode(t.value)
    if isinstance(t, ox.Literal):
        return rdflib.Literal(t.value, lang=t.language, normalize=False,
                              datatype=None if t.language else t.datatype.value)
    return None


def run_pyshacl(data: Path, shapes: Path) -> tuple[bool, set]:
    import pyshacl

    sg = _rdflib(shapes)
    _, report, _ = pyshacl.validate(_rdflib(data), shacl_graph=sg, inference="none",
                                    advanced=True, allow_warnings=False)
    node = report.value(None, rdflib.RDF.type, SH.ValidationReport, any=True) or next(
        report.subjects(rdflib.RDF.type, SH.ValidationReport))
    return _report_rows(report, sg, node)


def run_sparql(data: Path, shapes: Path) -> tuple[bool, set]:
    from isecg_kg.builder.shacl_sparql import load_store, validate_store

    shape_triples = _ox(shapes)
    sg = rdflib.Graph()  # the same blank nodes, to describe the shapes results name
    for t in shape_triples:
        sg.add(tuple(_to_rdflib(x) for x in t))
    results = validate_store(load_store(_ox(data)), shape_triples)
    rows = {(_term(sg, _to_rdflib(r.focus), "focus"), _term(sg, _to_rdflib(r.path), "path"),
             _term(sg, _to_rdflib(r.value), "value"),
             _term(sg, _to_rdflib(r.source_shape), "shape"),
             _term(sg, _to_rdflib(r.component), "component"),
             _term(sg, _to_rdflib(r.severity), "severity")) for r in results}
    return not results, rows


def outcome(validator: str, manifest: Path, g: rdflib.Graph, test) -> tuple[str, str]:
    """(outcome, what differs) of one test under one validator."""
    data, shapes = _graphs(manifest, g, test)
    # blank-node shapes named in the expected report are those of the manifest's own parse
    expected = _report_rows(g, g if shapes == manifest else _written(shapes),
                            g.value(test, MF.result))
    try:
        got = (run_pyshacl if validator == "pyshacl" else run_sparql)(data, shapes)
    except InputError as exc:
        m = re.search(r"shape \S+: (?:the )?(.*?)(?: constraint component)? is not supported",
                      str(exc))
        return f"refused:{m.group(1) if m else exc}", ""
    if got == expected:
        return "pass", ""
    missing, extra = expected[1] - got[1], got[1] - expected[1]
    diff = f"conforms {got[0]} (expected {expected[0]})" if got[0] != expected[0] else ""
    if missing:
        diff += f" missing {sorted(missing, key=str)[:2]}"
    if extra:
        diff += f" extra {sorted(extra, key=str)[:2]}"
    return "wrong", diff.strip()


def read_table() -> dict[str, dict[str, str]]:
    with TABLE.open(newline="") as f:
        rows = list(csv.DictReader((line for line in f if not line.startswith("#")),
                                   delimiter="\t"))
    return {r["test"]: r for r in rows}


@pytest.fixture(scope="module")
def suite() -> list:
    root = suite_dir("shacl")
    if root is None:
        pytest.skip("the W3C SHACL suite is not fetched: run `python tests/w3c_suites.py shacl` "
                    "(scripts/test.sh does)")
    return _tests(root)


def test_every_suite_test_has_a_reviewed_row_with_a_reason_for_each_non_pass(suite):
    table = read_table()
    ids = [t[0] for t in suite]
    assert len(ids) == len(set(ids)) == 98, "the W3C SHACL Core suite has 98 Validate tests"
    assert sorted(table) == sorted(ids), (set(table) ^ set(ids))
    for name, row in table.items():
        for v in VALIDATORS:
            assert re.fullmatch(r"pass|wrong|refused:.+", row[v]), f"{name}: {v} = {row[v]!r}"
        if any(row[v] != "pass" for v in VALIDATORS):
            assert row["reason"].strip(), f"{name}: a non-pass outcome needs a reason"
        # the compiler must not be wrong where it claims support: refuse instead
        assert row["sparql"] != "wrong", f"{name}: a wrong verdict on a supported feature"


@pytest.mark.parametrize("validator", VALIDATORS)
def test_suite_outcomes_match_the_reviewed_table(suite, validator):
    table = read_table()
    off = []
    for name, manifest, g, test in suite:
        got, diff = outcome(validator, manifest, g, test)
        want = table[name][validator]
        if got != want:
            off.append(f"{name}: {validator} {got} (table says {want}) {diff}".rstrip())
    assert not off, "\n".join(off)
