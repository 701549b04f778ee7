"""Load the Turtle sources: every file through pyoxigraph's strict parser first, then rdflib.

rdflib's Turtle parser is lax (it accepts 39 of the 94 W3C bad-syntax tests and may drop triples
later), so a file reaches rdflib only after pyoxigraph accepted it; the error then names the file,
line and column. rdflib graphs are still needed because pySHACL and owlrl work on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.builder.literals import NOT_XML_BYTES, not_xml
from isecg_kg.builder.locate import first_line, long_line
from isecg_kg.config import DATA_GLOB, ONTOLOGY_GLOB, SHAPES_GLOB
from isecg_kg.errors import InputError

KINDS = {"ontology": ONTOLOGY_GLOB, "data": DATA_GLOB, "shapes": SHAPES_GLOB}
TOKEN_LIMIT = 16 << 20


@dataclass(frozen=True)
class SourceFile:
    path: Path
    kind: str
    triples: tuple[ox.Triple, ...]


@dataclass
class Sources:
    root: Path
    files: tuple[SourceFile, ...]
    _rdflib: dict = field(default_factory=dict, repr=False)

    def triples(self, *kinds: str) -> list[ox.Triple]:
        return [t for f in self.files if f.kind in kinds for t in f.triples]

    def rdflib_graph(self, *kinds: str):
        """The union of the files of these kinds as an rdflib Graph (parsed once, cached).

        Callers must not mutate it: reasoning works on a copy.
        """
        key = tuple(sorted(kinds))
        if key not in self._rdflib:
            import rdflib

            g = rdflib.Graph()
            for f in self.files:
                if f.kind in kinds:
                    try:
                        g.parse(f.path, format="turtle")
                    except Exception as exc:  # strict parse passed, so this is an rdflib defect
                        raise InputError(f"rdflib could not parse: {exc}",
                                         path=self.relative(f.path)) from exc
            self._rdflib[key] = g
        return self._rdflib[key]

    def file_of_subject(self) -> dict[str, str]:
        """Subject IRI -> the source file (relative path) that describes it first."""
        where: dict[str, str] = {}
        for f in self.files:
            rel = self.relative(f.path)
            for t in f.triples:
                where.setdefault(t.subject.value, rel)
        return where

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def parse_turtle(path: Path, display: str | None = None) -> tuple[ox.Triple, ...]:
    """Strictly parse one Turtle file; a syntax error becomes InputError with file:line:col."""
    name = display or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=name) from exc
    try:
        triples = tuple(q.triple for q in ox.parse(data, format=ox.RdfFormat.TURTLE))
    except SyntaxError as exc:
        message = str(exc.msg).split(": ", 1)[-1] if exc.msg else "syntax error"
        raise InputError(f"Turtle syntax error: {message}", path=name,
                         line=exc.lineno, column=exc.offset) from None
    except MemoryError:  # pyoxigraph's parser buffers one token in at most 16 MiB
        raise InputError("a single token (string or IRI) is longer than the parser's 16 MiB "
                         "limit; split it or publish it as a separate file",
                         path=name, line=long_line(data, TOKEN_LIMIT)) from None
    if NOT_XML_BYTES.search(data):  # cheap on the raw bytes; exact on the terms below
        check_xml_characters(path, name, triples)
    return stable_blank_nodes(triples, name)


def check_xml_characters(path: Path, name: str, triples: tuple[ox.Triple, ...]) -> None:
    """Refuse IRIs and literals holding a character XML 1.0 cannot carry: the RDF/XML dump,
    and XML SPARQL results, could not be written."""
    def bad(triple: ox.Triple) -> str | None:
        for term in triple:
            if isinstance(term, (ox.NamedNode, ox.Literal)) and (why := not_xml(term.value)):
                return why
        return None

    for triple in triples:
        if why := bad(triple):
            raise InputError(f"a term holds {why}, a character XML 1.0 cannot carry (the RDF/XML "
                             "dump could not be written); remove it", path=name,
                             line=first_line(path, lambda t: bad(t) is not None))


def stable_blank_nodes(triples: tuple[ox.Triple, ...], tag: str) -> tuple[ox.Triple, ...]:
    """Give blank nodes labels that depend only on the file's bytes and name.

    Parsers label blank nodes at random, which would make every dump differ. The parser emits
    triples in document order, so numbering blank nodes by first appearance (prefixed by the
    file, so files never collide) is deterministic and linear. Canonical labels (RDFC-1.0) would
    also survive reordering a file, but cost quadratic time on similar blank nodes and overflow
    the stack on deep nesting: 300 nested levels took 4.8 s and 50,000 crashed the process.
    """
    prefix = "".join(c if c.isalnum() else "_" for c in tag) + "_b"
    labels: dict[ox.BlankNode, ox.BlankNode] = {}

    def relabel(term):
        if type(term) is not ox.BlankNode:
            return term
        if term not in labels:
            labels[term] = ox.BlankNode(f"{prefix}{len(labels)}")
        return labels[term]

    return tuple(t if type(t.subject) is not ox.BlankNode and type(t.object) is not ox.BlankNode
                 else ox.Triple(relabel(t.subject), t.predicate, relabel(t.object))
                 for t in triples)


def find_files(root: Path) -> dict[str, list[Path]]:
    if not root.is_dir():
        raise InputError("source directory does not exist (give --source DIR)", path=str(root))
    found = {kind: sorted(root.glob(pattern)) for kind, pattern in KINDS.items()}
    for kind, paths in found.items():
        if not paths:
            raise InputError(f"no {KINDS[kind]} files found", path=str(root))
    return found


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def load_sources(root: Path) -> Sources:
    """Read ontology/, data/ and shapes/ below root; fail on the first unreadable file."""
    root = Path(root)
    files = tuple(
        SourceFile(path=p, kind=kind, triples=parse_turtle(p, _display(root, p)))
        for kind, paths in find_files(root).items()
        for p in paths
    )
    return Sources(root=root, files=files)
