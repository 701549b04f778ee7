"""Validate ontology + data against the SHACL shapes with pySHACL.

Returns a Report instead of printing (as pySHACL does): ``conforms`` is False only when a result
has severity sh:Violation; warnings and infos are reported but do not fail the build. The shapes
graph itself is first checked against SHACL-SHACL (pySHACL's ``meta_shacl``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from isecg_kg.config import PREFIXES
from isecg_kg.errors import InputError
from isecg_kg.load import Sources, load_sources

SH = PREFIXES["sh"]


@dataclass(frozen=True, order=True)
class Problem:
    severity: str  # Violation | Warning | Info
    file: str
    focus: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"[{self.severity.upper()}] {self.file}: {self.focus} {self.path}: {self.message}"


@dataclass
class Report:
    conforms: bool
    problems: list[Problem]
    triples: list  # the SHACL validation report as pyoxigraph triples
    engine: str = "pyshacl"


# Up to this many triples pySHACL (the reference) validates; above it, the SPARQL compilation of
# the same shapes (shacl_sparql), which tests hold to pySHACL's verdicts on every fixture.
PYSHACL_LIMIT = 50_000


def shorten(iri: str) -> str:
    """A prefixed name for messages, or <iri> when no prefix fits."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            rest = iri[len(ns):]
            if rest and all(c.isalnum() or c in "-_." for c in rest):
                best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else f"<{iri}>"


def _term(node) -> str:
    import rdflib

    if node is None:
        return "-"
    if isinstance(node, rdflib.URIRef):
        return shorten(str(node))
    if isinstance(node, rdflib.Literal):
        return repr(str(node))
    return "[]"


def _shapes_digest(sources: Sources) -> str:
    h = hashlib.sha256()
    for f in sources.files:
        if f.kind == "shapes":
            h.update(f.path.read_bytes())
    return h.hexdigest()


def check_shapes(sources: Sources) -> None:
    """Validate the shapes graph against SHACL-SHACL (pySHACL's meta_shacl).

    It costs ~0.9 s, so a successful check is remembered per shapes content in the user's
    cache directory; a changed shape is always checked again.
    """
    import pyshacl

    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "isecg-kg"
    mark = cache / f"shapes-ok-{_shapes_digest(sources)}-pyshacl-{pyshacl.__version__}"
    if mark.exists():
        return
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
    """Validate ontology + data against the shapes; engine auto | pyshacl | sparql."""
    check_shapes(sources)
    if engine == "auto":
        size = sum(len(f.triples) for f in sources.files if f.kind in ("ontology", "data"))
        engine = "pyshacl" if size <= PYSHACL_LIMIT else "sparql"
    if engine == "sparql":
        return _validate_sparql(sources)
    return _validate_pyshacl(sources)


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
    where = sources.file_of_subject()
    problems = []
    for result in report_graph.subjects(rdflib.RDF.type, sh.ValidationResult):
        focus = report_graph.value(result, sh.focusNode)
        severity = str(report_graph.value(result, sh.resultSeverity)).rsplit("#", 1)[-1]
        message = report_graph.value(result, sh.resultMessage)
        problems.append(Problem(
            severity=severity,
            file=where.get(str(focus), "shapes" if focus is None else "?"),
            focus=_term(focus),
            path=_term(report_graph.value(result, sh.resultPath)),
            message=str(message) if message is not None else "constraint not met",
        ))
    problems.sort()
    triples = [q.triple for q in ox.parse(report_graph.serialize(format="nt", encoding="utf-8"),
                                          format=ox.RdfFormat.N_TRIPLES)]
    return Report(conforms=bool(conforms), problems=problems, triples=triples, engine="pyshacl")


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

    from isecg_kg.shacl_sparql import conforms, validate_store

    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object)
                      for t in sources.triples("ontology", "data"))
    results = validate_store(store, sources.triples("shapes"))
    where = sources.file_of_subject()
    problems = sorted(Problem(
        severity=r.severity.value.rsplit("#", 1)[-1],
        file=where.get(r.focus.value, "?") if not isinstance(r.focus, ox.Literal) else "?",
        focus=_ox_term(r.focus),
        path=_ox_term(r.path) if not isinstance(r.path, ox.BlankNode) else "[]",
        message=r.message or "constraint not met",
    ) for r in results)
    ok = conforms(results)

    def n(local: str) -> ox.NamedNode:
        return ox.NamedNode(SH + local)

    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    report = ox.BlankNode()
    triples = [ox.Triple(report, rdf_type, n("ValidationReport")),
               ox.Triple(report, n("conforms"), ox.Literal(
                   "true" if ok else "false",
                   datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")))]
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
