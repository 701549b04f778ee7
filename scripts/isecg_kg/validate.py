"""Validate ontology + data against the SHACL shapes with pySHACL.

Returns a Report instead of printing (as pySHACL does): ``conforms`` is False only when a result
has severity sh:Violation; warnings and infos are reported but do not fail the build. The shapes
graph itself is first checked against SHACL-SHACL (pySHACL's ``meta_shacl``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from isecg_kg.config import PREFIXES
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
    graph: object  # the rdflib report graph


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


def validate(sources: Sources) -> Report:
    import pyshacl
    import rdflib

    data = sources.rdflib_graph("ontology", "data")
    shapes = sources.rdflib_graph("shapes")
    conforms, report_graph, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", meta_shacl=True,
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
    return Report(conforms=bool(conforms), problems=problems, graph=report_graph)


def cli_validate(args: argparse.Namespace) -> int:
    report = validate(load_sources(args.source))
    for p in report.problems:
        print(p)
    if not args.quiet:
        n = sum(p.severity == "Violation" for p in report.problems)
        state = "conforms" if report.conforms else f"does not conform ({n} violations)"
        print(f"validate: {state}", file=sys.stderr)
    return 0 if report.conforms else 1
