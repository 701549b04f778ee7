"""Serialize the graph to the dump formats, byte-identically for the same input.

Determinism: blank nodes keep the labels load.py gave them (numbered per file in document
order; the validation report's are canonicalized with RDFC-1.0 here), every output is written
in sorted order, JSON-LD is sorted before it is dumped, and gzip headers carry
no timestamp or file name. N-Triples, N-Quads, Turtle and RDF/XML come from pyoxigraph (fast,
and its output depends only on the order it is given; its version is pinned in pyproject.toml);
compacted JSON-LD is written here, as a prefix-only context makes compaction a mapping.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson
import pyoxigraph as ox

from isecg_kg.config import PREFIXES
from isecg_kg.rdf import RDF_TYPE, XSD_STRING, qname, used_prefixes

CHUNK = 100_000  # N-Quads lines made per join: big enough for C speed, small for memory


def ntriples_lines(triples: Iterable[ox.Triple]) -> list[bytes]:
    """N-Triples lines of the triples, in their order."""
    triples = triples if isinstance(triples, list) else list(triples)
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).splitlines(keepends=True)


def graph_lines(triples: Iterable[ox.Triple]) -> list[bytes]:
    """One graph as sorted, distinct N-Triples lines.

    Blank nodes already carry stable labels (load.stable_blank_nodes), so serializing once
    and sorting bytes is enough: no per-triple Python sort keys, no canonicalization here.
    """
    return sorted(set(ntriples_lines(triples)))


def sorted_graph(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """The distinct triples in the order of their sorted N-Triples lines (a triple's line is
    ``str(triple)`` and " ."), as the dumps are: for the small descriptions written in Turtle
    (VoID, the catalogue, the changelog), without writing the lines and reading them back."""
    return sorted(set(triples), key=str)


def write_nquads(graphs: list[tuple[str, list[bytes]]], path: Path) -> None:
    """N-Triples lines of each (graph IRI, lines) written as N-Quads lines in that graph.

    A raw newline only ends a line in N-Triples (literals escape theirs), so " .\n" occurs
    once per line, at its end: replacing it in big joined chunks is exact and runs in C.
    """
    with open(path, "wb") as f:
        for graph, lines in graphs:
            suffix = f" <{graph}> .\n".encode()
            f.writelines(b"".join(lines[i:i + CHUNK]).replace(b" .\n", suffix)
                         for i in range(0, len(lines), CHUNK))


def sorted_graphs(graphs: list[tuple[list[bytes], list[ox.Triple]]]
                  ) -> tuple[list[list[bytes]], list[bytes], list[ox.Triple]]:
    """For graphs given as (N-Triples lines, their triples) in the same order: each graph's
    sorted, distinct lines, and the union's sorted, distinct lines with their triples in that
    order. The triples are the ones given, so nothing is parsed back from the lines (parsing a
    million lines into Python triples again cost seconds)."""
    index: dict[bytes, ox.Triple] = {}
    for lines, triples in graphs:
        index.update(zip(lines, triples, strict=True))  # an equal line is an equal triple
    union = sorted(index)
    in_order = list(map(index.__getitem__, union))
    del index
    parts = []
    for lines, _ in graphs:
        mine = set(lines)
        # a big graph is filtered out of the sorted union rather than sorted again
        parts.append([line for line in union if line in mine] if 2 * len(mine) > len(union)
                     else sorted(mine))
    return parts, union, in_order


def parse_lines(lines: list[bytes]) -> list[ox.Triple]:
    """Triples of N-Triples lines, in the lines' order."""
    return [q.triple for q in ox.parse(b"".join(lines), format=ox.RdfFormat.N_TRIPLES)]


def write_rdf(triples: list[ox.Triple], path: Path, fmt: ox.RdfFormat,
              prefixes: dict[str, str] | None = None) -> None:
    """Turtle or RDF/XML (with the prefixes the triples use) in the triples' order."""
    if prefixes is None:
        prefixes = used_prefixes(triples)
    path.write_bytes(ox.serialize(triples, format=fmt, prefixes=prefixes))


def write_lines(lines: list[bytes], path: Path) -> None:
    with open(path, "wb") as f:
        f.writelines(lines)


def context_document() -> dict:
    """The JSON-LD context: our prefixes (those of the Turtle and RDF/XML dumps), so compact
    IRIs read like the Turtle."""
    return {"@context": dict(sorted(PREFIXES.items()))}


class Compactor:
    """IRIs as compact IRIs of the context's prefixes (JSON-LD 1.1 §6.3: every namespace here
    ends in '/' or '#', so each prefix may compact), longest namespace first."""

    def __init__(self, prefixes: dict[str, str]):
        self.prefixes = prefixes
        self.cache: dict[str, str] = {}

    def __call__(self, iri: str) -> str:
        out = self.cache.get(iri)
        if out is None:
            out = self.cache[iri] = qname(iri, _compactable, self.prefixes) or iri
        return out


def _compactable(local: str) -> bool:
    """A local part a compact IRI may have: not empty, and not '//' (it would read as an IRI)."""
    return bool(local) and not local.startswith("//")


def _node_ref(term, compact: Compactor) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else compact(term.value)


def _jsonld_value(term, compact: Compactor):
    if isinstance(term, ox.Literal):
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == XSD_STRING:
            return term.value
        return {"@value": term.value, "@type": compact(term.datatype.value)}
    return {"@id": _node_ref(term, compact)}


def jsonld_nodes(triples: Iterable[ox.Triple], compact: Compactor) -> Iterator[dict]:
    """Compacted JSON-LD node objects of sorted triples, in subject order.

    The context holds only prefixes, so compaction is a direct mapping: one node object per
    subject, rdf:type as @type, one value or an array per property. rdflib's general JSON-LD
    serializer gave the same graph 10× slower (9.5 s at 100k triples).
    """
    current, node = None, None
    for t in triples:
        if t.subject != current:
            if node is not None:
                yield node
            current = t.subject
            node = {"@id": _node_ref(t.subject, compact)}
        if t.predicate.value == RDF_TYPE and not isinstance(t.object, ox.Literal):
            key, value = "@type", _node_ref(t.object, compact)
        else:
            key, value = compact(t.predicate.value), _jsonld_value(t.object, compact)
        if key not in node:
            node[key] = value
        elif isinstance(node[key], list):
            node[key].append(value)
        else:
            node[key] = [node[key], value]
    if node is not None:
        yield node


JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def dump_json(value) -> bytes:
    """json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False), UTF-8 encoded, by
    orjson: the same bytes for the strings, dicts and lists JSON-LD is made of (a test holds
    them equal), 8× faster than json's pure-Python indenting encoder (0.15 against 1.19 s CPU
    for the node objects of 300k triples)."""
    return orjson.dumps(value, option=JSON_OPTIONS)


def write_jsonld(triples: Iterable[ox.Triple], path: Path) -> None:
    """Compacted JSON-LD of sorted triples, the context embedded (never a remote context).

    Written one node object at a time, byte-identical to json.dumps of the whole document
    ({"@context", "@graph"}, indent 2, sorted keys) without holding that document in memory:
    a node is indented by four spaces in the document, and a raw newline in JSON is always
    between tokens (strings escape theirs).
    """
    context = context_document()["@context"]
    compact = Compactor(context)
    with open(path, "wb") as f:
        f.write(b'{\n  "@context": ' + dump_json(context).replace(b"\n", b"\n  ")
                + b',\n  "@graph": [')
        separator = b"\n    "
        for node in jsonld_nodes(triples, compact):
            f.write(separator + dump_json(node).replace(b"\n", b"\n    "))
            separator = b",\n    "
        f.write(b"]\n}\n" if separator == b"\n    " else b"\n  ]\n}\n")


def write_json(obj: dict, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def gzip_file(path: Path) -> Path:
    """path.gz next to path, with no timestamp or name in the header (reproducible)."""
    target = path.with_name(path.name + ".gz")
    with open(path, "rb") as src, open(target, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
        shutil.copyfileobj(src, gz, 1 << 20)
    return target

