"""SPARQL over the build: named queries, safety checks, and worker processes with real deadlines.

Engine: pyoxigraph. On this graph it answers typical queries in under a millisecond where rdflib
needs 3-26 ms, its parser is thread-safe and strict, and its syntax errors carry line and column.
The default graph is the union of the named graphs of ``isecg.nq``.

Neither Python API can cancel a running query, so every query runs in a worker process that loaded
the store once at start; the parent kills it at the deadline and starts a replacement. The CLI
and the server go through the same ``QueryEngine`` and ``execute``, so they give the same bytes.

Before a query reaches a worker, ``check_query`` enforces what the engine itself cannot: a size
limit (before any parsing), no SPARQL Update, ``SERVICE`` only to allow-listed endpoints (pyoxigraph
would otherwise call any IRI, SSRF) and ``FROM``/``FROM NAMED`` only over our own graphs. It uses
a tokenizer that skips strings, IRIs and comments exactly as the SPARQL grammar does, because
pyoxigraph exposes no algebra and parsing with rdflib is neither thread-safe nor fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import logging
import math
import os
import pickle
import re
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Self
from urllib.parse import urljoin
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from isecg_kg import __version__
from isecg_kg.config import (
    BASE,
    DATA_GLOB,
    GRAPHS,
    ONTOLOGY_GLOB,
    PREDECLARED,
    PREFIXES,
    QUERIES_DIR,
    RULES_DIR,
    SHAPES_GLOB,
    WIKIDATA_SPARQL,
)
from isecg_kg.errors import InputError, QueryError, QueryRefused, QueryTimeout, RemoteError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 10_000
DEFAULT_MAX_ANSWER_BYTES = 16 << 20  # bytes per answer: cut at a row, flagged like the row cap
DEFAULT_MAX_QUERY_BYTES = 64 * 1024
DEFAULT_MEMORY_LIMIT = 2 << 30  # address space per worker: a runaway ORDER BY dies, not the host
# pyoxigraph's parser and planner recurse on the calling thread: with the usual 8 MiB stack a
# worker died of SIGSEGV at 10,000 nested braces or 3,000 BINDs in a row (both legal SPARQL under
# 64 KiB). Queries are evaluated on a thread with this much stack; every shape we tried at
# 64 KiB then parses or fails with a syntax error (none overflows).
WORKER_STACK = 256 << 20
MAX_NESTING = 256         # brackets ({ ( [) open at once; deeper is refused (400) before parsing
MAX_UNION = 1024          # UNION keywords per query: pyoxigraph plans n branches in ~n² time
# Why a worker dies mid-query: the address-space limit, or a panic inside pyoxigraph (ORDER BY
# over pairs of mixed literals aborts the process: "comparison function does not correctly
# implement a total order", pyoxigraph 0.5.13).
WORKER_DIED = "the query's worker died: it ran out of memory or the query engine crashed"
USER_AGENT = f"isecg-kg/{__version__} (ISECG knowledge graph query client; +https://w3id.org/isecg/)"

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# Output formats by query form. "table" is for people; the others are the W3C formats.
SOLUTION_FORMATS: dict[str, str] = {
    "table": "text/plain; charset=utf-8",
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}
GRAPH_FORMATS: dict[str, tuple[str, ox.RdfFormat]] = {
    "turtle": ("text/turtle", ox.RdfFormat.TURTLE),
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
    "xml": ("application/rdf+xml", ox.RdfFormat.RDF_XML),
}
SOLUTION_FORMS = ("SELECT", "ASK")
GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE",
                          "ADD", "WITH", "USING"})


class QueryTooLarge(QueryRefused):
    """The query text is larger than the configured maximum (HTTP 413)."""


class QueryBusy(QueryError):
    """No worker can take the query now; retry after ``retry_after`` seconds (HTTP 503)."""

    def __init__(self, message: str, *, retry_after: int = 1):
        self.retry_after = retry_after
        super().__init__(message)


class QueryAborted(QueryError):
    """The worker running the query died (e.g. past its memory limit) (HTTP 503)."""


class QueryUnsupported(QueryError):
    """A valid query that uses what the engine does not implement, such as a custom function
    (HTTP 501): not the client's syntax error."""


class QueryFailed(QueryError):
    """The engine failed to evaluate a valid query for another reason (HTTP 500)."""


class QueryServiceFailed(QueryError):
    """An allowed SERVICE endpoint could not be queried (HTTP 502)."""


# Engine errors that cross the worker pipe by name (any other is a plain QueryError).
_ENGINE_ERRORS = {c.__name__: c for c in (QueryUnsupported, QueryFailed, QueryServiceFailed)}


def engine_error(exc: Exception) -> QueryError:
    """A non-syntax pyoxigraph error as what it is (pyoxigraph 0.5 raises RuntimeError
    "The custom function <...> is not supported" for an unknown function)."""
    msg = " ".join(str(exc).split())[:500]
    if isinstance(exc, OSError):  # pyoxigraph's SERVICE client: the remote end failed
        return QueryServiceFailed(f"a SERVICE endpoint failed: {msg}")
    if isinstance(exc, RuntimeError) and "is not supported" in msg:
        return QueryUnsupported(f"the query could not be evaluated: {msg}")
    return QueryFailed(f"the query could not be evaluated: {type(exc).__name__}: {msg}")


# --------------------------------------------------------------------------------------------
# The store


def open_store(dist: Path | str, sha256: str | None = None) -> ox.Store:
    """An in-memory store holding ``dist/isecg.nq`` (or the given .nq file) in its named graphs.

    With ``sha256``, the bytes loaded are the bytes checked: the file is hashed and loaded
    through one open file, so a build swapped in meanwhile cannot slip in between.
    """
    path = Path(dist)
    if path.is_dir():
        path = path / "isecg.nq"
    if not path.is_file():
        raise InputError("no N-Quads dump here; run `isecg-kg build` first", path=str(path))
    store = ox.Store()
    try:
        if sha256 is None:
            store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
            return store
        import hashlib

        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
            if digest != sha256:
                raise InputError(f"its SHA-256 is {digest}, not {sha256} as SHA256SUMS says: "
                                 "the build changed or is damaged; rebuild it and restart",
                                 path=str(path))
            f.seek(0)
            store.bulk_load(input=f, format=ox.RdfFormat.N_QUADS)
    except SyntaxError as exc:
        raise InputError(f"not valid N-Quads: {exc}", path=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    return store


def ensure_build(source: Path, dist: Path, *, quiet: bool = False) -> Path:
    """``dist``, built first when it has no dump or is older than any source or rule."""
    source, dist = Path(source), Path(dist)
    nq = dist / "isecg.nq"
    inputs = [p for g in (ONTOLOGY_GLOB, DATA_GLOB, SHAPES_GLOB) for p in source.glob(g)]
    inputs += list(Path(RULES_DIR).glob("*.rq")) + list(source.glob("data/releases/*.toml"))
    if nq.is_file() and (dist / "SHA256SUMS").is_file():
        built = nq.stat().st_mtime
        if all(p.stat().st_mtime <= built for p in inputs):
            return dist
        reason = "older than its sources"
    else:
        reason = "missing"
    if not quiet:
        print(f"isecg-kg: the build in {dist} is {reason}; building it now", file=sys.stderr)
    from isecg_kg.builder.pipeline import build

    build(source, dist)
    return dist


# --------------------------------------------------------------------------------------------
# Named queries


@dataclass(frozen=True)
class Param:
    name: str
    type: str            # "iri" or an xsd datatype written as xsd:NAME
    description: str


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    title: str = ""
    description: str = ""
    returns: str = ""
    params: dict[str, Param] = field(default_factory=dict)


_HEADER_LINE = re.compile(r"#\s*([A-Za-z]+)\s*:\s?(.*)$")


def parse_header(text: str, where: str = "<query>") -> dict:
    """The ``# key: value`` comment lines at the top of a .rq file (continuations: indented #)."""
    fields: dict[str, str] = {}
    params: dict[str, Param] = {}
    last: str | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        m = _HEADER_LINE.match(line)
        if m and m.group(1).lower() in ("title", "description", "returns", "param"):
            key, value = m.group(1).lower(), m.group(2).strip()
            if key == "param":
                parts = value.split(None, 2)
                if len(parts) < 2:
                    raise QueryError(f"{where}:{lineno}: a param line needs NAME TYPE description",
                                     line=lineno)
                name, ptype = parts[0].lstrip("?$"), parts[1]
                if ptype != "iri" and not ptype.startswith("xsd:"):
                    raise QueryError(f"{where}:{lineno}: parameter type {ptype!r} is neither "
                                     "'iri' nor an xsd: datatype", line=lineno)
                params[name] = Param(name, ptype, parts[2] if len(parts) > 2 else "")
                last = None
            else:
                fields[key] = (fields[key] + " " + value) if key in fields else value
                last = key
        elif last and line.lstrip("#").strip():
            fields[last] += " " + line.lstrip("#").strip()
    fields["params"] = params
    return fields


def load_named_query(path: Path) -> NamedQuery:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read query: {exc}", path=str(path)) from exc
    h = parse_header(text, str(path))
    return NamedQuery(name=path.stem, path=path, text=text, title=h.get("title", ""),
                      description=h.get("description", ""), returns=h.get("returns", ""),
                      params=h["params"])


def named_queries(directory: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """The named queries: every ``.rq`` file of the package's queries/ folder, by file stem."""
    return {p.stem: load_named_query(p) for p in sorted(Path(directory).glob("*.rq"))}


# --------------------------------------------------------------------------------------------
# Parameters


_CHECKS = {
    "xsd:date": re.compile(r"-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$"),
    "xsd:dateTime": re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"),
    "xsd:gYear": re.compile(r"-?\d{4,}(Z|[+-]\d{2}:\d{2})?$"),
    "xsd:integer": re.compile(r"[+-]?\d+$"),
    "xsd:decimal": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)$"),
    "xsd:boolean": re.compile(r"(true|false|1|0)$"),
}


def _iri_value(value: str, what: str) -> ox.NamedNode:
    v = value.strip()
    if v.startswith("<") and v.endswith(">"):
        v = v[1:-1]
    else:
        prefix, sep, local = v.partition(":")
        if sep and prefix in PREFIXES and not local.startswith("//"):
            v = PREFIXES[prefix] + local
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]*$", v):
        raise QueryError(f"{what}: {value!r} is not an IRI; write <http://...> or prefix:name")
    return ox.NamedNode(v)


def typed_value(param: Param | None, value: str, what: str) -> ox.NamedNode | ox.Literal:
    """The RDF term a ``--param`` value stands for, typed as the query header declares."""
    if param is None:  # undeclared: <iri> or a plain string
        if value.startswith("<") and value.endswith(">"):
            return _iri_value(value, what)
        return ox.Literal(value)
    if param.type == "iri":
        return _iri_value(value, what)
    check = _CHECKS.get(param.type)
    if check and not check.match(value.strip()):
        raise QueryError(f"{what}: {value!r} is not a valid {param.type}")
    if param.type in ("xsd:string", "xsd:"):
        return ox.Literal(value)
    return ox.Literal(value.strip(), datatype=ox.NamedNode(XSD + param.type[4:]))


def bind_params(raw: list[str] | dict[str, str], declared: dict[str, Param],
                variables: frozenset[str]) -> dict[str, ox.NamedNode | ox.Literal]:
    """``NAME=VALUE`` strings -> substitutions; an unknown NAME is an error naming it."""
    pairs = raw.items() if isinstance(raw, dict) else []
    if not isinstance(raw, dict):
        pairs = []
        for item in raw:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise QueryError(f"--param {item!r}: write NAME=VALUE")
            pairs.append((name, value))
    bound: dict[str, ox.NamedNode | ox.Literal] = {}
    for name, value in pairs:
        name = name.strip().lstrip("?$")
        if declared:
            if name not in declared:
                raise QueryError(f"unknown parameter {name!r}: this query takes "
                                 f"{', '.join(sorted(declared)) or 'no parameters'}")
        elif name not in variables:
            raise QueryError(f"unknown parameter {name!r}: the query has no variable ?{name}")
        bound[name] = typed_value(declared.get(name), value, f"parameter {name!r}")
    return bound


# --------------------------------------------------------------------------------------------
# Checks before evaluation

_TOKEN = re.compile(r"""
 (?P<ws>\s+)
|(?P<comment>\#[^\r\n]*)
|(?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
|(?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''|\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
            |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
|(?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
|(?P<bnode>_:[\w\-.\u00B7\u0300-\u036F\u203F-\u2040]+)
|(?P<pname>(?:[^\W\d_][\w\-.\u00B7\u0300-\u036F\u203F-\u2040]*)?:
            (?:[\w\-:.%\u00B7\u0300-\u036F\u203F-\u2040]|\\[_~.\-!$&'()*+,;=/?\#@%])*)
|(?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
|(?P<word>[A-Za-z_][A-Za-z0-9_]*)
|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
|(?P<other>.)
""", re.VERBOSE | re.DOTALL)
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PN_ESCAPE = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


class _Token(NamedTuple):  # a tuple: a query of a few KB has hundreds, made per request
    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[_Token]:
    """SPARQL tokens without whitespace and comments (total: unknown characters are 'other')."""
    tokens = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in ("ws", "comment"):
            continue
        tok = m.group()
        if kind == "pname" and tok.endswith(".") and not tok.endswith(":"):
            # a local name cannot end with '.': the dot ends the triple
            stripped = tok.rstrip(".")
            tokens.append(_Token("pname", stripped, m.start(), m.start() + len(stripped)))
            continue
        tokens.append(_Token(kind, tok, m.start(), m.end()))
    return tokens


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the checks; ``text`` is what the engine evaluates."""

    text: str
    form: str | None                 # SELECT / ASK / CONSTRUCT / DESCRIBE; None: the parser decides
    variables: frozenset[str]
    services: tuple[str, ...] = ()
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()   # those of from_graphs that FROM NAMED gave
    # predeclared prefixes the query uses without declaring them: the engine is given these
    # (and an external store a PREFIX line for each), exactly the map the checks resolved with
    prefixes: tuple[tuple[str, str], ...] = ()


def _unescape_iri(tok: str) -> str:
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), tok[1:-1])


def check_query(text: str, *, max_bytes: int | None = DEFAULT_MAX_QUERY_BYTES,
                service_allow: tuple[str, ...] | list[str] = (WIKIDATA_SPARQL,),
                service_map: dict[str, str] | None = None,
                graphs: tuple[str, ...] = GRAPHS, base_iri: str | None = BASE,
                _unescaped: bool = False,
                predeclared: dict[str, str] | None = PREDECLARED) -> CheckedQuery:
    """Refuse what must never reach the engine; raise QueryTooLarge / QueryRefused / QueryError.

    ``service_map`` redirects allowed SERVICE IRIs (e.g. Wikidata's to a configured mirror).
    ``predeclared`` prefixes hold unless the query declares the same name: the checks resolve
    prefixed names with the very map the engine is then given (``CheckedQuery.prefixes``).
    """
    if max_bytes is not None and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise QueryTooLarge(f"the query is {len(text.encode('utf-8', 'surrogatepass'))} bytes; "
                            f"the limit is {max_bytes} bytes")
    tokens = tokenize(text)
    predeclared = dict(predeclared or {})
    prefixes: dict[str, str] = dict(predeclared)
    declared: set[str] = set()
    base = base_iri
    form: str | None = None
    variables = set()
    services: list[str] = []
    froms: list[str] = []
    named_froms: list[str] = []
    edits: list[tuple[int, int, str]] = []
    codepoints: list[re.Match] = []
    allow = set(service_allow)
    service_map = service_map or {}

    def resolve(tok: _Token, what: str) -> str:
        if tok.kind == "iri":
            iri = _unescape_iri(tok.text)
            if not _SCHEME.match(iri):
                if not base:
                    raise QueryRefused(f"{what} <{iri}> is a relative IRI and there is no base")
                iri = urljoin(base, iri)
            return iri
        line = text.count("\n", 0, tok.start) + 1
        column = tok.start - (text.rfind("\n", 0, tok.start) + 1) + 1
        if tok.kind == "pname":
            prefix, _, local = tok.text.partition(":")
            if prefix not in prefixes:
                raise QueryError(f"syntax error at line {line}, column {column}: undeclared "
                                 f"prefix `{prefix}:` after {what}; add `PREFIX {prefix}: <…>` "
                                 "before the query", line=line, column=column)
            return prefixes[prefix] + _PN_ESCAPE.sub(r"\1", local)
        # not an IRI at all: a syntax error (nothing is run either way)
        raise QueryError(f"syntax error at line {line}, column {column}: {what} must be "
                         f"followed by an IRI, not `{tok.text}`", line=line, column=column)

    n = len(tokens)
    depth = unions = 0
    for i, tok in enumerate(tokens):
        if tok.kind == "other":
            if tok.text in "{([":
                depth += 1
                if depth > MAX_NESTING:
                    line = text.count("\n", 0, tok.start) + 1
                    raise QueryError(f"the query nests brackets more than {MAX_NESTING} levels "
                                     f"deep (line {line}); flatten it", line=line)
            elif tok.text in "})]":
                depth -= 1
        if tok.kind == "word" and tok.text.upper() == "UNION":
            unions += 1
            if unions > MAX_UNION:
                raise QueryError(f"the query has more than {MAX_UNION} UNION branches; use "
                                 "VALUES for long lists of alternatives")
        if tok.kind == "other" and tok.text == "\\":
            m = _UCHAR.match(text, tok.start)
            if not m or _unescaped:
                raise QueryError("a backslash is only allowed inside strings and IRIs, or as a "
                                 "\\u.... / \\U........ escape (not one that makes another)")
            # SPARQL replaces these before parsing, anywhere; Oxigraph only inside terms. So
            # the guard replaces them, then checks what the engine will see
            codepoints.append(m)
        if tok.kind == "var":
            variables.add(tok.text[1:])
            continue
        if tok.kind != "word":
            continue
        word = tok.text.upper()
        nxt = tokens[i + 1] if i + 1 < n else None
        if word == "PREFIX" and nxt is not None and nxt.kind == "pname" and nxt.text.endswith(":"):
            if i + 2 < n and tokens[i + 2].kind == "iri":
                prefixes[nxt.text[:-1]] = resolve(tokens[i + 2], "PREFIX")
                declared.add(nxt.text[:-1])
        elif word == "BASE" and nxt is not None and nxt.kind == "iri":
            base = resolve(nxt, "BASE")
        elif form is None and word in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            form = word
        elif form is None and word in UPDATE_WORDS:
            raise QueryRefused(f"SPARQL Update ({word}) is not accepted: this service is "
                               "read-only")
        elif word == "SERVICE":
            j = i + 1
            if j < n and tokens[j].kind == "word" and tokens[j].text.upper() == "SILENT":
                j += 1
            if j >= n:
                raise QueryError("SERVICE must be followed by an endpoint IRI")
            if tokens[j].kind == "var":
                raise QueryRefused("SERVICE with a variable endpoint is not accepted; name an "
                                   f"allowed endpoint: {', '.join(sorted(allow)) or 'none'}")
            endpoint = resolve(tokens[j], "SERVICE")
            if endpoint not in allow:
                raise QueryRefused(f"SERVICE <{endpoint}> is not allowed; allowed endpoints: "
                                   f"{', '.join(sorted(allow)) or 'none'}")
            services.append(endpoint)
            if service_map.get(endpoint, endpoint) != endpoint:
                edits.append((tokens[j].start, tokens[j].end, f"<{service_map[endpoint]}>"))
        elif word == "FROM":
            j = i + 1
            named = j < n and tokens[j].kind == "word" and tokens[j].text.upper() == "NAMED"
            if named:
                j += 1
            if j >= n:
                raise QueryError("FROM must be followed by a graph IRI")
            graph = resolve(tokens[j], "FROM")
            if graph not in graphs:
                raise QueryRefused(f"FROM <{graph}> is not one of this dataset's graphs "
                                   f"({', '.join(graphs)}); nothing is ever fetched")
            froms.append(graph)
            if named:
                named_froms.append(graph)
    if codepoints:
        for m in reversed(codepoints):
            text = text[:m.start()] + chr(int(m.group(1) or m.group(2), 16)) + text[m.end():]
        return check_query(text, max_bytes=max_bytes, service_allow=service_allow,
                           service_map=service_map, graphs=graphs, base_iri=base_iri,
                           _unescaped=True, predeclared=predeclared)
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    used = {t.text.partition(":")[0] for t in tokens if t.kind == "pname"}
    implicit = tuple(sorted((p, predeclared[p]) for p in used - declared if p in predeclared))
    return CheckedQuery(text=text, form=form, variables=frozenset(variables),
                        services=tuple(services), from_graphs=tuple(froms),
                        from_named=tuple(named_froms), prefixes=implicit)


def prologue(prefixes) -> str:
    """PREFIX declarations for ``CheckedQuery.prefixes``, on one line (an external store has not
    heard of our predeclared ones; only columns of the query's first line shift)."""
    return "".join(f"PREFIX {p}: <{iri}> " for p, iri in prefixes)


def check_graphs(default_graphs: list[str], named_graphs: list[str],
                 graphs: tuple[str, ...] = GRAPHS) -> None:
    """Protocol-specified datasets (default-graph-uri / named-graph-uri) name our graphs only."""
    for g in [*default_graphs, *named_graphs]:
        if g not in graphs:
            raise QueryRefused(f"graph <{g}> is not one of this dataset's graphs "
                               f"({', '.join(graphs)}); remote graphs are never fetched")


# --------------------------------------------------------------------------------------------
# Serialization (our own writers, so that a row cap can cut the solutions before writing)


def _json_term(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        d = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
        elif t.datatype.value != XSD_STRING:
            d["datatype"] = t.datatype.value
        return d
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(t.subject),
                                            "predicate": _json_term(t.predicate),
                                            "object": _json_term(t.object)}}
    raise QueryError(f"cannot write a {type(t).__name__} as a SPARQL result")


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(s: str) -> str:
    if _XML_INVALID.search(s):
        raise QueryError("a result holds a control character XML cannot carry; ask for JSON")
    return xml_escape(s)


def _xml_term(t) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{_xml_text(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{_xml_text(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{_xml_text(t.value)}</literal>"
        if t.datatype.value != XSD_STRING:
            return (f"<literal datatype={quoteattr(t.datatype.value)}>{_xml_text(t.value)}"
                    "</literal>")
        return f"<literal>{_xml_text(t.value)}</literal>"
    if isinstance(t, ox.Triple):
        return (f"<triple><subject>{_xml_term(t.subject)}</subject><predicate>"
                f"{_xml_term(t.predicate)}</predicate><object>{_xml_term(t.object)}</object>"
                "</triple>")
    raise QueryError(f"cannot write a {type(t).__name__} as a SPARQL result")


def _nt_term(t) -> str:
    """N-Triples form of a term with tab escaped too (a raw tab would split a TSV field)."""
    if isinstance(t, ox.Literal):
        v = (t.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
             .replace("\r", "\\r").replace("\t", "\\t"))
        if t.language:
            return f'"{v}"@{t.language}'
        if t.datatype.value != XSD_STRING:
            return f'"{v}"^^<{t.datatype.value}>'
        return f'"{v}"'
    if isinstance(t, ox.Triple):
        return f"<< {_nt_term(t.subject)} {_nt_term(t.predicate)} {_nt_term(t.object)} >>"
    return str(t)


def _plain(t) -> str:
    if t is None:
        return ""
    if isinstance(t, (ox.NamedNode, ox.Literal)):
        return t.value
    if isinstance(t, ox.BlankNode):
        return "_:" + t.value
    return _nt_term(t)


def _short(t) -> str:
    """Table cell: prefixed names where a prefix fits, lexical forms for literals."""
    if isinstance(t, ox.NamedNode):
        best = max((p for p in PREFIXES.items() if t.value.startswith(p[1])),
                   key=lambda p: len(p[1]), default=None)
        if best and re.fullmatch(r"[\w\-.]*", t.value[len(best[1]):]):
            return f"{best[0]}:{t.value[len(best[1]):]}"
        return f"<{t.value}>"
    if isinstance(t, ox.Literal) and t.language:
        return f"{t.value}@{t.language}"
    return _plain(t).replace("\n", "\\n").replace("\t", " ")


def write_solutions(variables: list[str], rows: list[tuple], fmt: str) -> bytes:
    if fmt == "json":
        bindings = [{v: _json_term(t) for v, t in zip(variables, row) if t is not None}
                    for row in rows]
        return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}},
                          ensure_ascii=False, separators=(",", ":")).encode()
    if fmt == "xml":
        out = [('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>')]
        out += [f"<variable name={quoteattr(v)}/>" for v in variables]
        out.append("</head>\n<results>\n")
        for row in rows:
            out.append("<result>")
            out += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                    for v, t in zip(variables, row) if t is not None]
            out.append("</result>\n")
        out.append("</results>\n</sparql>\n")
        return "".join(out).encode()
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(variables)
        w.writerows([_plain(t) for t in row] for row in rows)
        return buf.getvalue().encode()
    if fmt == "tsv":
        lines = ["\t".join("?" + v for v in variables)]
        lines += ["\t".join("" if t is None else _nt_term(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    if fmt == "table":
        cells = [[_short(t) if t is not None else "" for t in row] for row in rows]
        widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(variables)]
        line = lambda vals: "  ".join(s.ljust(w) for s, w in zip(vals, widths)).rstrip()
        out = [line(variables), "  ".join("-" * w for w in widths)]
        out += [line(r) for r in cells]
        out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
        return ("\n".join(out) + "\n").encode()
    raise QueryError(f"unknown result format {fmt!r}; use one of {', '.join(SOLUTION_FORMATS)}")


def write_boolean(value: bool, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}, separators=(",", ":")).encode()
    if fmt == "xml":
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/'
                f'sparql-results#">\n<head/>\n<boolean>{str(value).lower()}</boolean>\n'
                "</sparql>\n").encode()
    if fmt in ("csv", "tsv", "table"):  # no W3C form; the word, as Oxigraph and Jena write it
        return (str(value).lower() + "\n").encode()
    raise QueryError(f"unknown result format {fmt!r}; use one of {', '.join(SOLUTION_FORMATS)}")


def write_triples(triples: list, fmt: str) -> bytes:
    if fmt not in GRAPH_FORMATS:
        raise QueryError(f"unknown RDF format {fmt!r}; use one of {', '.join(GRAPH_FORMATS)}")
    prefixes = None if fmt == "jsonld" else {
        p: iri for p, iri in PREFIXES.items()
        if any(isinstance(x, ox.NamedNode) and x.value.startswith(iri)
               for t in triples for x in (t.subject, t.predicate, t.object))}
    return ox.serialize(triples, format=GRAPH_FORMATS[fmt][1], prefixes=prefixes)


# --------------------------------------------------------------------------------------------
# Execution (runs inside a worker process)


@dataclass(frozen=True)
class QueryRequest:
    text: str
    solution_format: str = "json"            # for SELECT / ASK
    graph_format: str = "turtle"             # for CONSTRUCT / DESCRIBE
    substitutions: dict = field(default_factory=dict)
    default_graphs: tuple[str, ...] | None = None   # protocol dataset; None: union default graph
    named_graphs: tuple[str, ...] | None = None
    max_rows: int | None = None
    base_iri: str | None = BASE
    max_bytes: int | None = None             # bytes of the written answer (cut at a row)
    prefixes: tuple[tuple[str, str], ...] = ()     # CheckedQuery.prefixes


@dataclass(frozen=True)
class QueryResult:
    form: str           # SELECT / ASK / GRAPH (CONSTRUCT or DESCRIBE)
    format: str
    media_type: str
    body: bytes
    rows: int
    truncated: bool
    seconds: float = 0.0


_SYNTAX = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)


def syntax_error(exc: SyntaxError, text: str | None = None,
                 predeclared: dict[str, str] | None = PREDECLARED) -> QueryError:
    """The parser's error as one line; with the query ``text``, in plain words
    (sparql_errors.explain) at the position of the likeliest cause."""
    msg = str(exc)
    m = _SYNTAX.match(msg)
    if not m:
        return QueryError(f"syntax error: {msg[:500]}")
    line, col, detail = int(m.group(1)), int(m.group(2)), " ".join(m.group(3).split())
    if text is not None:
        from isecg_kg.sparql_errors import explain

        line, col, sentence = explain(text, line, col, detail, predeclared)
        return QueryError(f"syntax error at line {line}, column {col}: {sentence}", line=line,
                          column=col)
    if len(detail) > 400:
        detail = detail[:400] + " ..."
    return QueryError(f"syntax error at line {line}, column {col}: {detail}", line=line,
                      column=col)


def _term_size(t) -> int:
    """About the bytes a term takes written out (a lower bound for every format)."""
    if t is None:
        return 0
    if isinstance(t, ox.Literal):
        return len(t.value) + len(t.language or t.datatype.value)
    if isinstance(t, ox.Triple):
        return _term_size(t.subject) + _term_size(t.predicate) + _term_size(t.object)
    return len(t.value)


def take(items, max_rows: int | None, max_bytes: int | None = None) -> tuple[list, bool]:
    """The rows (tuples of terms) or triples of ``items`` up to the row cap and, by the size of
    their terms, the byte cap; and whether any were left out. A row is read to its end only
    once: a single row of 100 MB is measured, not kept."""
    out, size = [], 0
    for item in items:
        if max_rows is not None and len(out) >= max_rows:
            return out, True
        if max_bytes is not None:
            size += sum(map(_term_size, item if isinstance(item, tuple)
                            else (item.subject, item.predicate, item.object)))
            if size > max_bytes:
                return out, True
        out.append(item)
    return out, False


def fit(items: list, write, max_bytes: int | None) -> tuple[bytes, list, bool]:
    """``write(items)``, with fewer items while the written answer is over ``max_bytes`` (the
    markup of XML or JSON adds to the terms' size); the body, the items kept, whether cut."""
    body = write(items)
    cut = False
    while max_bytes is not None and len(body) > max_bytes and items:
        keep = min(len(items) - 1, len(items) * max_bytes // len(body))
        items, cut = items[:keep], True
        body = write(items)
    return body, items, cut


def execute(store: ox.Store, req: QueryRequest) -> QueryResult:
    """Evaluate and serialize one checked query (the row cap cuts before serializing)."""
    t0 = time.perf_counter()
    kwargs = {}
    if req.default_graphs is not None or req.named_graphs is not None:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in req.default_graphs or ()]
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in req.named_graphs or ()]
    elif "FROM" not in req.text.upper() or not any(
            t.kind == "word" and t.text.upper() == "FROM" for t in tokenize(req.text)):
        # the union is our default graph only for queries without FROM / FROM NAMED: pyoxigraph
        # would otherwise answer over every graph and ignore the query's own dataset
        kwargs["use_default_graph_as_union"] = True
    if req.substitutions:
        kwargs["substitutions"] = {ox.Variable(k): v for k, v in req.substitutions.items()}
    if req.prefixes:
        kwargs["prefixes"] = dict(req.prefixes)
    try:
        result = store.query(req.text, base_iri=req.base_iri, **kwargs)
        if isinstance(result, ox.QueryBoolean):
            value = bool(result)
            body = write_boolean(value, req.solution_format)
            return QueryResult("ASK", req.solution_format,
                               SOLUTION_FORMATS.get(req.solution_format, ""), body, 1, False,
                               time.perf_counter() - t0)
        if isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            items, truncated = take(map(tuple, result), req.max_rows, req.max_bytes)
            body, items, cut = fit(items, lambda rows: write_solutions(variables, rows,
                                                                       req.solution_format),
                                   req.max_bytes)
            return QueryResult("SELECT", req.solution_format,
                               SOLUTION_FORMATS[req.solution_format], body, len(items),
                               truncated or cut, time.perf_counter() - t0)
        items, truncated = take(result, req.max_rows, req.max_bytes)
        body, items, cut = fit(items, lambda triples: write_triples(triples, req.graph_format),
                               req.max_bytes)
        return QueryResult("GRAPH", req.graph_format, GRAPH_FORMATS[req.graph_format][0], body,
                           len(items), truncated or cut, time.perf_counter() - t0)
    except SyntaxError as exc:
        raise syntax_error(exc, req.text) from None
    except (OSError, RuntimeError) as exc:  # evaluation, not syntax: e.g. an unknown function
        raise engine_error(exc) from None


# --------------------------------------------------------------------------------------------
# Worker processes


def on_big_stack(fn, *args):
    """``fn(*args)`` on a thread with WORKER_STACK bytes of stack: its result or its exception."""
    import threading

    out: dict = {}

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller as is
            out["error"] = exc

    old = threading.stack_size(WORKER_STACK)
    try:
        thread = threading.Thread(target=run, name="isecg-query", daemon=True)
        thread.start()
    finally:
        threading.stack_size(old)
    thread.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def _worker_main(conn, nq_path: str, memory_limit: int | None, sha256: str | None = None) -> None:
    import signal

    # Ctrl-C and SIGTERM are the parent's to handle: a SIGTERM sent to the whole process group
    # (systemd, docker stop) must not kill queries the server is still draining. The parent
    # stops workers with SIGKILL, and a worker whose parent is gone exits at EOF on its pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if memory_limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    try:
        on_big_stack(_worker_loop, conn, nq_path, sha256, memory_limit)
    except Exception as exc:  # noqa: BLE001 - e.g. no room for the stack: the parent says why
        with contextlib.suppress(OSError, ValueError):
            conn.send(("fail", f"{type(exc).__name__}: {exc}{_limit_hint(memory_limit)}"))


def _worker_loop(conn, nq_path: str, sha256: str | None = None,
                 memory_limit: int | None = None) -> None:
    try:
        store = open_store(nq_path, sha256)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("fail", str(exc)))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            req = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = ("ok", execute(store, req))
        except QueryError as exc:
            reply = ("error", str(exc), exc.line, exc.column, type(exc).__name__)
        except MemoryError:  # the worker lives on (the failed allocation is freed): not 400
            reply = ("aborted", "the query needed more memory than a worker may use"
                     + _limit_hint(memory_limit))
        except Exception as exc:  # noqa: BLE001 - any engine failure is the query's error
            failed = engine_error(exc)
            reply = ("error", str(failed), None, None, type(failed).__name__)
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


def _unpack(msg) -> QueryResult:
    if msg[0] == "ok":
        return msg[1]
    if msg[0] == "aborted":
        raise QueryAborted(msg[1])
    cls = _ENGINE_ERRORS.get(msg[4], QueryError) if len(msg) > 4 else QueryError
    raise cls(msg[1], line=msg[2], column=msg[3])


def _limit_hint(memory_limit: int | None) -> str:
    return (f" (its address space is limited to {memory_limit >> 20} MiB: raise --worker-memory)"
            if memory_limit else "")


class _Worker:
    """One query process, loaded and ready (the constructor waits for its handshake)."""

    def __init__(self, ctx, nq_path: str, memory_limit: int | None, start_timeout: float = 120,
                 sha256: str | None = None):
        parent, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main,
                                   args=(child, nq_path, memory_limit, sha256),
                                   daemon=True, name="isecg-query-worker")
        self.process.start()
        child.close()
        self.conn = parent
        try:
            if not parent.poll(start_timeout):
                raise QueryError(f"a query worker did not load {nq_path} within "
                                 f"{start_timeout:.0f} s")
            msg = parent.recv()
        except (EOFError, OSError):
            self.process.join(timeout=5)
            code = self.process.exitcode
            self.kill()
            # a failed allocation under the address-space limit aborts (a signal); a Python
            # error exits 1 after printing its reason to the server's stderr
            hint = _limit_hint(memory_limit) if code is not None and code < 0 else \
                f" (exit status {code}; the server's log says why)"
            raise QueryError(f"a query worker died while loading the store{hint}") from None
        except QueryError:
            self.kill()
            raise
        if msg[0] != "ready":
            self.kill()
            raise InputError(f"a query worker could not load the store: {msg[1]}")

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(timeout=5)
        except (OSError, ValueError, AssertionError):
            pass
        self.conn.close()


def _context():
    import multiprocessing as mp

    ctx = mp.get_context("forkserver")
    # Forked from a server that imported only these: fast, and no uvicorn threads copied.
    ctx.set_forkserver_preload(["pyoxigraph", "isecg_kg.query"])
    return ctx


class _Pool:
    """Idle workers, and the queries waiting for one.

    Waiters are served first come, first served, except while ``lifo()`` holds (the heavy slots
    are full: the engine is overloaded). Then the newest waiter is served first, so a light query
    arriving behind a burst of heavy ones is not stuck behind all of them; the oldest waiters run
    out of admission time and are refused with Retry-After (adaptive LIFO, a known defence of
    servers under overload).
    """

    def __init__(self, lifo):
        self.idle: deque = deque()
        self.waiters: deque = deque()
        self.lifo = lifo

    def put(self, worker: _Worker) -> None:
        while self.waiters:
            fut = self.waiters.pop() if self.lifo() else self.waiters.popleft()
            if not fut.done():
                fut.set_result(worker)
                return
        self.idle.append(worker)

    async def get(self, timeout: float) -> _Worker:
        if self.idle:
            return self.idle.popleft()
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append(fut)
        try:
            await asyncio.wait({fut}, timeout=timeout)
        except BaseException:  # cancelled (the client went away): nothing may be lost
            self._abandon(fut)
            raise
        if not fut.done():
            self._abandon(fut)
            raise TimeoutError
        return fut.result()

    def _abandon(self, fut) -> None:
        with contextlib.suppress(ValueError):
            self.waiters.remove(fut)
        if fut.done() and not fut.cancelled():
            self.put(fut.result())  # handed a worker at the last moment: pass it on
        else:
            fut.cancel()

    def waiting(self) -> int:
        return sum(1 for f in self.waiters if not f.done())


class QueryEngine:
    """Worker processes that run queries under a deadline.

    Admission: a query waits at most ``admission_wait`` seconds for an idle worker. A query still
    running after ``heavy_after`` seconds is "heavy"; at most ``max_heavy`` run at once (fewer
    than the workers and never more than the cores, so light queries always find a worker and a
    core) and a heavy query over that number is stopped at once with QueryBusy. While the heavy
    slots are full and other queries wait, a query still running after ``contended_after`` is
    stopped too (QueryBusy), and waiting queries are served newest first (see _Pool): a burst of
    heavy queries then costs the light ones at most about ``contended_after``. A query text seen
    to be heavy is remembered, so a repeat is refused before it takes a worker while the heavy
    slots are full. Any query still running at ``timeout`` is killed (QueryTimeout). A killed or
    cancelled query's worker is replaced in the background.
    """

    def __init__(self, dist: Path | str, *, workers: int = 2, timeout: float = DEFAULT_TIMEOUT,
                 max_rows: int | None = None, heavy_after: float | None = None,
                 max_heavy: int | None = None, admission_wait: float = 2.0,
                 contended_after: float = 0.05,
                 memory_limit: int | None = DEFAULT_MEMORY_LIMIT, sha256: str | None = None,
                 max_bytes: int | None = None):
        path = Path(dist)
        self.max_bytes = max_bytes  # bytes per answer; none larger is read from a worker
        self._max_message = max_bytes + (1 << 20) if max_bytes is not None else None
        self.nq_path = str(path / "isecg.nq" if path.is_dir() else path)
        self.size = max(1, workers)
        self.timeout = timeout
        self.max_rows = max_rows
        self.heavy_after = heavy_after if heavy_after is not None else min(0.5, timeout / 4)
        cores = os.cpu_count() or 1
        self.max_heavy = max_heavy if max_heavy is not None else max(
            1, min(cores, self.size - max(1, self.size // 4)))
        self.admission_wait = admission_wait
        self.contended_after = min(contended_after, self.heavy_after)
        self.memory_limit = memory_limit
        self.sha256 = sha256  # of isecg.nq: every worker checks the bytes it loads against it
        self._ctx = None
        self._workers: list[_Worker] = []
        self._spares: list[_Worker] = []  # loaded and waiting to replace a killed worker at once
        self._pool: _Pool | None = None
        self._heavy = 0
        self._running = 0
        self._closed = False
        self._respawns: set = set()
        self._known_heavy: dict[int, None] = {}  # insertion-ordered: oldest evicted first

    # life cycle
    def start(self) -> Self:
        if self._workers:  # started already (serve starts it before uvicorn to fail cleanly)
            return self
        if not Path(self.nq_path).is_file():
            raise InputError("no N-Quads dump; run `isecg-kg build` first", path=self.nq_path)
        self._ctx = _context()
        self._workers = [self._spawn() for _ in range(self.size)]
        return self

    def start_spare(self) -> None:
        """Keep one loaded worker in reserve (the server does; a one-off engine need not)."""
        if not self._spares and self._ctx is not None:
            self._spares.append(self._spawn())

    def _spawn(self) -> _Worker:
        return _Worker(self._ctx, self.nq_path, self.memory_limit, sha256=self.sha256)

    def close(self) -> None:
        self._closed = True
        for w in self._workers + self._spares:
            w.kill()
        self._workers, self._spares = [], []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def status(self) -> dict:
        return {"workers": len(self._workers), "running": self._running, "heavy": self._heavy,
                "max_heavy": self.max_heavy,
                "waiting": self._pool.waiting() if self._pool is not None else 0}

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        if worker in self._workers:
            self._workers.remove(worker)

    # running queries (on the server's event loop)
    def _overloaded(self) -> bool:
        return self._heavy >= self.max_heavy

    def _queue(self) -> _Pool:
        if self._pool is None:
            self._pool = _Pool(self._overloaded)
            for w in self._workers:
                self._pool.put(w)
        return self._pool

    def _replace(self, worker: _Worker) -> None:
        self._retire(worker)
        if self._closed:
            return
        if self._spares:  # a loaded spare takes over now; a new one loads in the background
            spare = self._spares.pop()
            self._workers.append(spare)
            self._queue().put(spare)
        task = asyncio.get_running_loop().create_task(self._respawn())
        self._respawns.add(task)
        task.add_done_callback(self._respawns.discard)

    async def _respawn(self) -> None:
        attempt = 0
        while not self._closed:  # until it works (the operator may repair the build)
            try:
                w = await asyncio.to_thread(self._spawn)
            except Exception as exc:  # noqa: BLE001 - logged, retried, never fatal to the server
                attempt += 1
                log.error("could not start a query worker (attempt %d): %s", attempt, exc)
                await asyncio.sleep(min(30, attempt))
                continue
            if self._closed:
                w.kill()
                return
            if len(self._workers) >= self.size:
                self._spares.append(w)
            else:
                self._workers.append(w)
                self._queue().put(w)
            return

    def _busy(self, retry: int) -> QueryBusy:
        return QueryBusy(f"{self._heavy} long-running queries are already running (the limit); "
                         f"this one ran past {self.heavy_after:g} s before. Retry in {retry} s",
                         retry_after=retry)

    def _remember_heavy(self, key: int) -> None:
        self._known_heavy[key] = None
        while len(self._known_heavy) > 1024:
            del self._known_heavy[next(iter(self._known_heavy))]

    async def run(self, req: QueryRequest) -> QueryResult:
        pool = self._queue()
        retry = max(1, math.ceil(self.timeout))
        key = hash((req.text, req.default_graphs, req.named_graphs,
                    tuple(sorted((k, str(v)) for k, v in req.substitutions.items()))))
        if key in self._known_heavy and self._overloaded():
            raise self._busy(retry)
        for attempt in range(self.size + 2):
            try:
                worker = await pool.get(self.admission_wait)
            except TimeoutError:
                if not self._workers:
                    raise QueryBusy(f"no query worker is running (the server log says why); "
                                    f"retry in {retry} s", retry_after=retry) from None
                raise QueryBusy(f"all {self.size} query workers are busy; retry in {retry} s",
                                retry_after=retry) from None
            if key in self._known_heavy and self._overloaded():
                pool.put(worker)
                raise self._busy(retry)
            try:
                worker.conn.send(_with_cap(req, self.max_rows, self.max_bytes))
                break
            except (OSError, ValueError):  # it died while idle (killed, out of memory):
                self._replace(worker)      # replace it and take the next one
        else:
            raise QueryAborted(f"no query worker stayed alive; retry in {retry} s")
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = worker.conn.fileno()
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        healthy, heavy = False, False
        start = loop.time()
        self._running += 1
        try:
            if key in self._known_heavy:  # it will be long: hold a heavy slot from the start
                self._heavy += 1
                heavy = True
            while not ready.done():
                elapsed = loop.time() - start
                if elapsed >= self.timeout:
                    if heavy:
                        self._remember_heavy(key)
                    raise QueryTimeout(f"the query ran past its time limit of {self.timeout:g} "
                                       "s and was stopped")
                if not heavy and elapsed >= self.heavy_after:
                    self._remember_heavy(key)
                    if self._overloaded():
                        raise QueryBusy(f"{self._heavy} long-running queries are already "
                                        f"running (the limit); this one was stopped after "
                                        f"{self.heavy_after:g} s. Retry in {retry} s",
                                        retry_after=retry)
                    self._heavy += 1
                    heavy = True
                elif (not heavy and elapsed >= self.contended_after and self._overloaded()
                      and pool.waiting()):
                    raise QueryBusy(f"the server is busy with long-running queries and others "
                                    f"are waiting; this one was stopped after "
                                    f"{self.contended_after:g} s. Retry in {retry} s",
                                    retry_after=retry)
                if heavy:
                    step = self.timeout - elapsed
                else:  # look again soon: the heavy slots may fill and others start waiting
                    step = min(0.02 if self._overloaded() else 0.05, self.heavy_after - elapsed)
                await asyncio.wait({ready}, timeout=max(step, 0.001))
            try:
                # read no message longer than an answer may be (the worker cuts answers at
                # max_bytes; this holds even if it did not): the length comes first
                msg = worker.conn.recv_bytes(self._max_message)
            except EOFError:
                raise QueryAborted(WORKER_DIED + _limit_hint(self.memory_limit)) from None
            except OSError:
                if self._max_message is None or worker.process.exitcode is not None:
                    raise QueryAborted(WORKER_DIED + _limit_hint(self.memory_limit)) from None
                raise QueryAborted(f"the answer was larger than {self.max_bytes} bytes, the "
                                   "limit for one answer") from None
            healthy = True
            return _unpack(pickle.loads(msg))
        finally:
            loop.remove_reader(fd)
            self._running -= 1
            if heavy:
                self._heavy -= 1
            if healthy:
                pool.put(worker)
            else:  # timed out, refused, died or the client went away: never reuse mid-query
                self._replace(worker)


def _with_cap(req: QueryRequest, cap: int | None, max_bytes: int | None = None
              ) -> QueryRequest:
    from dataclasses import replace

    if cap is not None and req.max_rows is None:
        req = replace(req, max_rows=cap)
    if max_bytes is not None and (req.max_bytes is None or req.max_bytes > max_bytes):
        req = replace(req, max_bytes=max_bytes)
    return req


# --------------------------------------------------------------------------------------------
# A remote endpoint


MAX_REMOTE_BYTES = 256 << 20  # an answer larger than this from a remote endpoint is refused


class _DoctypeFound(Exception):
    pass


def refuse_dtd(body: bytes, where: str) -> None:
    """RemoteError if an XML body declares a DTD. pyoxigraph expands internal entities: a 1 KB
    "billion laughs" RDF/XML document took it 33 s and a gigabyte. No SPARQL or RDF/XML answer
    needs a DTD, so any is refused, before the RDF parser sees the body (expat stops at the
    declaration: nothing is expanded or fetched)."""
    import xml.parsers.expat

    parser = xml.parsers.expat.ParserCreate()

    def found(*_):
        raise _DoctypeFound

    parser.StartDoctypeDeclHandler = found
    parser.EntityDeclHandler = found
    try:
        parser.Parse(body, True)
    except _DoctypeFound:
        raise RemoteError(f"{where} answered XML with a DTD (<!DOCTYPE>); entity declarations "
                          "are refused (billion laughs, external entities)") from None
    except xml.parsers.expat.ExpatError:
        pass  # not well-formed: the RDF parser reports it with its own message


def _fetch(endpoint: str, query: str, accept: str, timeout: float) -> tuple[str, bytes]:
    """(media type, body) of a 200 answer, read within ``timeout`` seconds in total (httpx's
    timeout is per read: a server sending a byte every few seconds would never end) and at most
    MAX_REMOTE_BYTES long."""
    import httpx

    deadline = time.monotonic() + timeout
    chunks, size = [], 0
    try:
        with httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}) as client, \
                client.stream("POST", endpoint, data={"query": query},
                              headers={"Accept": accept}) as resp:
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_REMOTE_BYTES:
                    raise RemoteError(f"{endpoint} answered more than {MAX_REMOTE_BYTES >> 20} "
                                      "MiB; add a LIMIT")
                if time.monotonic() > deadline:
                    raise RemoteError(f"{endpoint} did not finish answering within {timeout:g} "
                                      "s (raise --timeout)")
                chunks.append(chunk)
            status, media = resp.status_code, resp.headers.get("content-type", "")
    except httpx.HTTPError as exc:
        raise RemoteError(f"{endpoint}: {type(exc).__name__}: {exc}") from None
    body = b"".join(chunks)
    if status != 200:
        text = body[:300].decode("utf-8", "replace")
        raise RemoteError(f"{endpoint} answered HTTP {status}: {' '.join(text.split())}")
    return media.split(";")[0].strip().lower(), body


def run_remote(endpoint: str, checked: CheckedQuery, *, solution_format: str = "table",
               graph_format: str = "turtle", timeout: float = DEFAULT_TIMEOUT) -> QueryResult:
    """Run a query on a SPARQL endpoint over HTTP; the answer is parsed completely and written
    by the same writers as a local answer (garbage or a cut-off body is a RemoteError).

    The answer is untrusted: XML with a DTD is refused, JSON-LD remote contexts are never
    fetched (pyoxigraph has no document loader), and parsing runs on a big stack."""
    accept = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
              "text/turtle;q=0.8, application/n-triples;q=0.7, application/rdf+xml;q=0.5")
    t0 = time.perf_counter()
    media, body = _fetch(endpoint, checked.text, accept, timeout)
    results_formats = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                       "application/json": ox.QueryResultsFormat.JSON,
                       "application/sparql-results+xml": ox.QueryResultsFormat.XML,
                       "application/xml": ox.QueryResultsFormat.XML}
    rdf_formats = {m: f for m, f in ((v[0], v[1]) for v in GRAPH_FORMATS.values())}
    if media not in results_formats and media not in rdf_formats:
        raise RemoteError(f"{endpoint} answered with an unexpected media type {media!r}")
    if media.endswith("xml"):
        refuse_dtd(body, endpoint)

    def parse() -> QueryResult:
        if media in results_formats:
            parsed = ox.parse_query_results(body, format=results_formats[media])
            if isinstance(parsed, ox.QueryBoolean):
                return QueryResult("ASK", solution_format, SOLUTION_FORMATS[solution_format],
                                   write_boolean(bool(parsed), solution_format), 1, False,
                                   time.perf_counter() - t0)
            variables = [v.value for v in parsed.variables]
            rows = [tuple(s) for s in parsed]
            return QueryResult("SELECT", solution_format, SOLUTION_FORMATS[solution_format],
                               write_solutions(variables, rows, solution_format), len(rows),
                               False, time.perf_counter() - t0)
        triples = [q.triple for q in ox.parse(body, format=rdf_formats[media])]
        return QueryResult("GRAPH", graph_format, GRAPH_FORMATS[graph_format][0],
                           write_triples(triples, graph_format), len(triples), False,
                           time.perf_counter() - t0)

    try:
        return on_big_stack(parse)
    except (SyntaxError, ValueError) as exc:
        raise RemoteError(f"{endpoint} answered a {media} body that does not parse: "
                          f"{' '.join(str(exc).split())[:300]}") from None


# --------------------------------------------------------------------------------------------
# CLI wrappers


def _query_text(args) -> tuple[str, dict[str, Param]]:
    if args.name:
        queries = named_queries()
        if args.name not in queries:
            raise QueryError(f"no named query {args.name!r}; `isecg-kg queries` lists them: "
                             f"{', '.join(queries) or 'none yet'}")
        q = queries[args.name]
        return q.text, q.params
    if args.file:
        q = load_named_query(Path(args.file))
        return q.text, q.params
    text = args.query
    return text, parse_header(text)["params"]


def _death(status: int, stderr: bytes) -> str:
    """How a query process ended, in a few words: its signal, and a Rust panic's message."""
    import signal

    why = (f"signal {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
           else f"exit status {os.waitstatus_to_exitcode(status)}")
    lines = stderr.decode("utf-8", "replace").splitlines()
    panic = next((lines[i + 1].strip() for i, line in enumerate(lines[:-1])
                  if " panicked at " in line), None)
    return f"{why}; pyoxigraph panicked: {panic[:300]}" if panic else why


def run_one_shot(dist: Path, req: QueryRequest, timeout: float) -> QueryResult:
    """One query in a forked child killed at the deadline (the CLI's path).

    A forked child costs milliseconds where the server's forkserver workers cost a start-up;
    the deadline is just as real: pyoxigraph cannot be interrupted, so the child is killed.
    """
    import pickle
    import select
    import signal

    # the child's stderr goes to a file, so that a crash is reported in one line
    with tempfile.TemporaryFile() as errors:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: evaluate, send the result or the error, exit without cleanup
            os.close(read_fd)
            os.dup2(errors.fileno(), 2)
            try:
                payload = ("ok", on_big_stack(lambda: execute(open_store(dist), req)))
            except QueryError as exc:
                payload = ("error", str(exc))
            except Exception as exc:  # noqa: BLE001 - reported to the parent, never a traceback
                payload = ("error", f"the query failed: {exc}")
            with os.fdopen(write_fd, "wb") as f:
                f.write(pickle.dumps(payload))
            os._exit(0)
        os.close(write_fd)
        chunks, deadline = [], time.monotonic() + timeout
        with os.fdopen(read_fd, "rb") as f:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([f], [], [], left)[0]:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    raise QueryTimeout(f"the query ran past its time limit of {timeout:g} s "
                                       "(raise --timeout)")
                chunk = os.read(f.fileno(), 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
        if not chunks:
            errors.seek(0)
            raise QueryAborted("the query process died before it answered "
                               f"({_death(status, errors.read(65536))})")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "error":
        raise QueryError(value)
    return value


def cli_query(args) -> int:
    text, declared = _query_text(args)
    mapping = {WIKIDATA_SPARQL: args.wikidata_endpoint}
    allow = (WIKIDATA_SPARQL, args.wikidata_endpoint)
    fmt = args.format
    if fmt is not None and fmt not in SOLUTION_FORMATS and fmt not in GRAPH_FORMATS:
        raise QueryError(f"--format {fmt!r}: use {'|'.join(SOLUTION_FORMATS)} for SELECT/ASK or "
                         f"{'|'.join(GRAPH_FORMATS)} for CONSTRUCT/DESCRIBE")
    if args.endpoint:
        if args.param:
            raise QueryError("--param cannot be used with --endpoint: the SPARQL protocol has no "
                             "way to bind parameters; write the value into the query")
        checked = check_query(text, service_allow=allow, graphs=(), max_bytes=None)
        # remote: its own rules, but our predeclared prefixes spelled out for it
        checked = CheckedQuery(prologue(checked.prefixes) + text, checked.form, checked.variables)
    else:
        checked = check_query(text, service_allow=allow, service_map=mapping)
    sol_fmt = fmt if fmt in SOLUTION_FORMATS else "table"
    graph_fmt = fmt if fmt in GRAPH_FORMATS else "turtle"
    if fmt and checked.form in SOLUTION_FORMS and fmt not in SOLUTION_FORMATS:
        raise QueryError(f"--format {fmt}: a {checked.form} query gives results as "
                         f"{'|'.join(SOLUTION_FORMATS)}")
    if fmt and checked.form in GRAPH_FORMS and fmt not in GRAPH_FORMATS:
        raise QueryError(f"--format {fmt}: a {checked.form} query gives RDF as "
                         f"{'|'.join(GRAPH_FORMATS)}")
    if args.endpoint:
        result = run_remote(args.endpoint, checked, solution_format=sol_fmt,
                            graph_format=graph_fmt, timeout=args.timeout)
    else:
        subs = bind_params(args.param, declared, checked.variables)
        for name in sorted(set(declared) - set(subs)):
            if not args.quiet:
                print(f"isecg-kg query: note: parameter {name} is not bound (--param "
                      f"{name}=VALUE)", file=sys.stderr)
        req = QueryRequest(checked.text, solution_format=sol_fmt, graph_format=graph_fmt,
                           substitutions=subs, prefixes=checked.prefixes)
        dist = ensure_build(args.source, args.dist, quiet=args.quiet)
        try:
            result = run_one_shot(dist, req, args.timeout)
        except QueryError as exc:  # a SERVICE that failed is no malformed query: same words
            if not checked.services or exc.line is not None or isinstance(
                    exc, (QueryTimeout, QueryAborted, QueryRefused)):
                raise
            from isecg_kg.sparql_errors import service_failure

            raise RemoteError(service_failure(str(exc), checked.services, mapping)[1]) from None
    out = sys.stdout.buffer
    out.write(result.body)
    out.flush()
    return 0


def cli_list_queries(args) -> int:
    for name, q in named_queries().items():
        print(f"{name}\t{q.title}")
    return 0
