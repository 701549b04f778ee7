"""Validate ontology + data: literals against their XSD datatypes, then the SHACL shapes.

Returns a Report instead of printing (as pySHACL does): ``conforms`` is False only when a result
has severity sh:Violation; warnings and infos are reported but do not fail the build. The shapes
graph itself is first checked against SHACL-SHACL (pySHACL's ``meta_shacl``). Every problem
names the file and line of the triple at fault (locate.py).

The SHACL engine is the shapes compiled to SPARQL on pyoxigraph (shacl_compile, shacl_sparql) at
every size: it passes all 98 W3C SHACL Core tests, gives pySHACL's verdicts on every fixture
(tested), and validates the real graph in about 0.15 s where pySHACL takes 5 to 9 s. pySHACL is
the reference the tests compare it with, one flag away (``--validator pyshacl``), and what a
shapes graph gets when it uses a feature the compiler refuses (one line on stderr says so).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from isecg_kg.builder.load import Sources, load_sources
from isecg_kg.errors import InputError, UnsupportedShape
from isecg_kg.rdf import RDF_TYPE, SH, XSD, shorten


@dataclass(frozen=True, order=True)
class Problem:
    severity: str  # Violation | Warning | Info
    file: str
    focus: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"[{self.severity.upper()}] {where}: {self.focus} {self.path}: {self.message}"


@dataclass(frozen=True)
class Finding:
    """One result of either validator, in pyoxigraph terms, before it is located."""

    severity: str
    focus: object
    path: object
    value: object
    component: str  # e.g. sh:datatype, or "xsd" for an ill-typed literal
    message: str


@dataclass
class Report:
    conforms: bool
    problems: list[Problem]
    triples: list  # the SHACL validation report as pyoxigraph triples
    engine: str = "pyshacl"


def _shapes_digest(sources: Sources) -> str:
    h = hashlib.sha256()
    for f in sources.files:
        if f.kind == "shapes":
            h.update(f.path.read_bytes())
    return h.hexdigest()


def check_shapes(sources: Sources) -> None:
    """Validate the shapes graph against SHACL-SHACL (pySHACL's meta_shacl).

    It costs ~0.9 s, so a successful check is remembered per shapes content and pySHACL
    installation in the user's cache directory; a changed shape, or another pySHACL, is checked
    again. pySHACL is imported only then (its import alone costs 0.25 s, half of what the real
    build may take; even importlib.metadata, to read its version, costs 0.08 s): its
    installation is known by its module file's size and time.
    """
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "isecg-kg"
    spec = find_spec("pyshacl")
    stat = Path(spec.origin).stat() if spec and spec.origin else None
    installed = f"{stat.st_size}-{stat.st_mtime_ns}" if stat else "none"
    mark = cache / f"shapes-ok-{_shapes_digest(sources)}-pyshacl-{installed}"
    if mark.exists():
        return
    import pyshacl

    try:
        pyshacl.validate(sources.rdflib_graph("shapes"), shacl_graph=None, meta_shacl=True,
                         inference="none", advanced=True)
    except pyshacl.errors.ReportableRuntimeError as exc:
        raise InputError(f"the shapes graph does not conform to SHACL-SHACL: {exc}",
                         path="shapes/") from None
    try:
        cache.mkdir(parents=True, exist_ok=True)
        mark.touch()
    except OSError:
        pass  # an unwritable cache only costs time


def validate(sources: Sources, engine: str = "auto") -> Report:
    """Validate ontology + data against the shapes; engine auto | sparql | pyshacl.

    auto is the compiled validator (sparql), or pySHACL for a shapes graph using a feature the
    compiler refuses (UnsupportedShape), with one line on stderr naming it; sparql alone raises
    UnsupportedShape then. Ill-typed literals are reported first and alone: both SHACL engines
    would only see them through sh:datatype, and rdflib logs a traceback for each.
    """
    ill_typed = ill_typed_findings(sources)
    if ill_typed:
        return Report(conforms=False, problems=locate_findings(sources, ill_typed), triples=[],
                      engine="xsd")
    check_shapes(sources)
    if engine == "pyshacl":
        return _validate_pyshacl(sources)
    try:
        return _validate_sparql(sources)
    except UnsupportedShape as exc:
        if engine == "sparql":
            raise
        print(f"validate: {exc.reason}; validating with pySHACL instead", file=sys.stderr)
    return _validate_pyshacl(sources)


def ill_typed_findings(sources: Sources) -> list[Finding]:
    """Every literal whose lexical form is outside its XSD datatype's lexical space."""
    import pyoxigraph as ox

    from isecg_kg.builder.literals import ill_typed

    verdicts: dict[tuple[str, str], str | None] = {}  # most literals repeat: judge each once
    found = []
    for f in sources.files:
        for t in f.triples:
            o = t.object
            if type(o) is ox.Literal:
                key = (o.value, o.datatype.value)
                if key not in verdicts:
                    verdicts[key] = ill_typed(*key)
                if verdicts[key]:
                    found.append(Finding("Violation", t.subject, t.predicate, o, "xsd",
                                         f"ill-typed literal: {verdicts[key]}"))
    return found


LOCATED_AT_MOST = 50  # each located problem may cost a parse of its file


def locate_findings(sources: Sources, findings: list[Finding]) -> list[Problem]:
    """Problems naming file:line of the triple at fault: (focus, path, value) when the result
    has a value, else the focus's triples with that path (all of them, for sh:maxCount), else
    the focus's first triple (sh:minCount). The first LOCATED_AT_MOST get lines."""
    import pyoxigraph as ox

    from isecg_kg.builder.locate import locate

    if not findings:  # the usual case: no pass over the sources at all
        return []
    patterns = []
    for f in findings[:LOCATED_AT_MOST]:
        path = f.path if isinstance(f.path, ox.NamedNode) else None
        focus = f.focus if isinstance(f.focus, ox.NamedNode) else None
        tries = [(focus, None, None)]
        if path is not None:
            tries.insert(0, (focus, path, None))
            if f.value is not None:
                tries.insert(0, (focus, path, f.value))
        patterns.append(tries)
    places = locate(sources, patterns)
    where: dict[str, str] | None = None  # subject -> first file, only for findings not placed
    problems = []
    for i, f in enumerate(findings):
        found = places[i] if i < len(places) else []
        if not found and where is None:
            where = sources.file_of_subject()
        file, line = found[0] if found else (where.get(getattr(f.focus, "value", ""), "?"), None)
        also = "".join(f"; also {p}:{n}" for p, n in found[1:])
        value = "" if f.value is None or f.value == f.focus else f" {_ox_term(f.value)}"
        problems.append(Problem(severity=f.severity, file=file, focus=_ox_term(f.focus),
                                path=_ox_term(f.path) + value,
                                message=f"{f.message} ({f.component}{also})", line=line))
    return sorted(problems)


def _validate_pyshacl(sources: Sources) -> Report:
    import pyoxigraph as ox
    import pyshacl
    import rdflib

    data = sources.rdflib_graph("ontology", "data")
    shapes = sources.rdflib_graph("shapes")
    conforms, report_graph, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", meta_shacl=False,
        allow_warnings=True, advanced=True, abort_on_first=False,
    )
    sh = rdflib.Namespace(SH)
    findings = []
    for result in report_graph.subjects(rdflib.RDF.type, sh.ValidationResult):
        severity = str(report_graph.value(result, sh.resultSeverity)).rsplit("#", 1)[-1]
        message = report_graph.value(result, sh.resultMessage)
        findings.append(Finding(
            severity=severity,
            focus=_from_rdflib(report_graph.value(result, sh.focusNode)),
            path=_from_rdflib(report_graph.value(result, sh.resultPath)),
            value=_from_rdflib(report_graph.value(result, sh.value)),
            component=_component(str(report_graph.value(result, sh.sourceConstraintComponent))),
            message=str(message) if message is not None else "constraint not met",
        ))
    problems = locate_findings(sources, sorted(findings, key=_finding_order))
    triples = [q.triple for q in ox.parse(report_graph.serialize(format="nt", encoding="utf-8"),
                                          format=ox.RdfFormat.N_TRIPLES)]
    return Report(conforms=bool(conforms), problems=problems, triples=triples, engine="pyshacl")


def _from_rdflib(term):
    """An rdflib term as pyoxigraph's (blank nodes become None: their labels differ)."""
    import pyoxigraph as ox
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype))
                          if term.datatype else None)
    return None


def _component(iri: str) -> str:
    """sh:DatatypeConstraintComponent -> sh:datatype, the parameter a shape author wrote."""
    local = iri.rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
    return f"sh:{local[:1].lower()}{local[1:]}" if iri.startswith(SH) else shorten(iri)


def _finding_order(f: Finding) -> tuple:
    """Findings in a stable order, so the located ones are the same every run."""
    return tuple(str(getattr(x, "value", x)) for x in (f.severity, f.focus, f.path, f.value,
                                                       f.component, f.message))


def _ox_term(term) -> str:
    import pyoxigraph as ox

    if term is None:
        return "-"
    if isinstance(term, ox.NamedNode):
        return shorten(term.value)
    if isinstance(term, ox.Literal):
        return repr(term.value)
    return "[]"


def _validate_sparql(sources: Sources) -> Report:
    import pyoxigraph as ox

    from isecg_kg.builder.shacl_sparql import conforms, load_store, validate_store

    store = load_store(sources.triples("ontology", "data"))
    results = validate_store(store, sources.triples("shapes"))
    problems = locate_findings(sources, sorted((Finding(
        severity=r.severity.value.rsplit("#", 1)[-1], focus=r.focus, path=r.path, value=r.value,
        component=_component(r.component.value), message=r.message or "constraint not met",
    ) for r in results), key=_finding_order))
    ok = conforms(results)

    def n(local: str) -> ox.NamedNode:
        return ox.NamedNode(SH + local)

    rdf_type = ox.NamedNode(RDF_TYPE)
    report = ox.BlankNode()
    triples = [ox.Triple(report, rdf_type, n("ValidationReport")),
               ox.Triple(report, n("conforms"), ox.Literal(
                   "true" if ok else "false",
                   datatype=ox.NamedNode(XSD + "boolean")))]
    for r in results:
        node = ox.BlankNode()
        triples += [ox.Triple(report, n("result"), node),
                    ox.Triple(node, rdf_type, n("ValidationResult")),
                    ox.Triple(node, n("focusNode"), r.focus),
                    ox.Triple(node, n("sourceShape"), r.source_shape),
                    ox.Triple(node, n("resultSeverity"), r.severity),
                    ox.Triple(node, n("sourceConstraintComponent"), r.component),
                    ox.Triple(node, n("resultMessage"), ox.Literal(r.message))]
        if isinstance(r.path, ox.NamedNode):
            triples.append(ox.Triple(node, n("resultPath"), r.path))
        if r.value is not None:
            triples.append(ox.Triple(node, n("value"), r.value))
    return Report(conforms=ok, problems=problems, triples=triples, engine="sparql")


def cli_validate(args: argparse.Namespace) -> int:
    report = validate(load_sources(args.source), args.validator)
    for p in report.problems:
        print(p)
    if not args.quiet:
        n = sum(p.severity == "Violation" for p in report.problems)
        state = "conforms" if report.conforms else f"does not conform ({n} violations)"
        print(f"validate: {state}", file=sys.stderr)
    return 0 if report.conforms else 1
