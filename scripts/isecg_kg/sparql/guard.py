"""The SPARQL safety checks: what must never reach the engine, refused before it does.

``check_query`` enforces what the engine itself cannot: a size limit (before any parsing), no
SPARQL Update, ``SERVICE`` only to allow-listed endpoints (pyoxigraph would otherwise call any
IRI, SSRF) and ``FROM``/``FROM NAMED`` only over our own graphs. It uses a tokenizer that skips
strings, IRIs and comments exactly as the SPARQL grammar does, because pyoxigraph exposes no
algebra and parsing with rdflib is neither thread-safe nor fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urljoin

from isecg_kg.config import BASE, GRAPHS, MAX_QUERY_BYTES, PREDECLARED, WIKIDATA_SPARQL
from isecg_kg.errors import QueryError, QueryRefused, QueryTooLarge

MAX_NESTING = 256         # brackets ({ ( [) open at once; deeper is refused (400) before parsing
MAX_UNION = 1024          # UNION keywords per query: pyoxigraph plans n branches in ~n² time
SOLUTION_FORMS = ("SELECT", "ASK")
GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE",
                          "ADD", "WITH", "USING"})

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


def check_query(text: str, *, max_bytes: int | None = MAX_QUERY_BYTES,
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
