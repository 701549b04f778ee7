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


def validate(sources: Sources) -> Report:
    import pyshacl
    import rdflib

    check_shapes(sources)
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
