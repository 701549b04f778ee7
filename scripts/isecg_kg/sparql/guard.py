"""The SPARQL safety checks, and the one text of a query the engine is given.

``check_query`` enforces what the engine itself cannot: a size limit (before any parsing), no
SPARQL Update, ``SERVICE`` only to allow-listed endpoints (pyoxigraph would otherwise call any
IRI, SSRF) and ``FROM``/``FROM NAMED`` only over our own graphs.

It reads the query once, with the tokenizer of tokens.py, which follows the SPARQL grammar's
terminals (longest match: ``SERVICE:`` is a prefixed name, ``SERVICESILENT`` one word, ``456.``
an integer and a dot), and returns the query **re-emitted from its own tokens**
(``CheckedQuery.text``): each token separated from the next by whitespace, prefixed names
expanded and relative IRIs resolved to absolute IRIs (so no ``PREFIX`` is left to redefine; a
query's ``BASE`` is said once, first, for what ``IRI("x")`` makes), ``\\u`` escapes outside
strings and IRIs replaced, line breaks kept (so line numbers stay), comments kept each on a line
of its own. A word that is not a keyword, or a character that starts no token, is refused with
its line and column. The engine evaluates that text and nothing else, so whatever it reads is
what the checks read: gluing keywords to their neighbours, redefining a prefix or spelling a
keyword with escapes cannot make it see a SERVICE the checks did not
(tests/test_sparql_differential.py).

pyoxigraph exposes no algebra, and parsing with rdflib is neither thread-safe nor fast, hence
a tokenizer; relative IRIs are resolved by pyoxigraph's own IRI code (a Turtle parse), so they
resolve exactly as the engine would have resolved them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from isecg_kg.config import BASE, GRAPHS, MAX_QUERY_BYTES, PREDECLARED, WIKIDATA_SPARQL
from isecg_kg.errors import QueryError, QueryRefused, QueryTooLarge
from isecg_kg.sparql.explain import cause, word_sentence
from isecg_kg.sparql.tokens import KEYWORDS, PUNCTUATION, Token, position, tokenize

MAX_NESTING = 256         # brackets ({ ( [) open at once; deeper is refused (400) before parsing
MAX_UNION = 1024          # UNION branches per query (n-1 keywords): pyoxigraph plans n in ~n² time
EXPLAIN_MAX = 8192        # characters of a query whose refusals explain.cause words
SOLUTION_FORMS = ("SELECT", "ASK")
GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE",
                          "ADD", "WITH", "USING"})
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PN_ESCAPE = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_NOT_IRIREF = re.compile(r'[<>"{}|^`\\\x00-\x20]')  # written as \uXXXX inside <...>
_BACKSLASH = ("a backslash is only allowed inside strings and IRIs, or as a \\u.... / "
              "\\U........ escape (not one that makes another)")


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the checks; ``text`` (its re-emission) is what the engine evaluates,
    ``source`` what the client sent (error messages point into it: ``origin``)."""

    text: str
    form: str | None                 # SELECT / ASK / CONSTRUCT / DESCRIBE; None: the parser decides
    variables: frozenset[str]
    services: tuple[str, ...] = ()   # the SERVICE endpoints the query calls, as approved
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()   # those of from_graphs that FROM NAMED gave
    # predeclared prefixes the query uses without declaring them (the re-emission needs none:
    # its prefixed names are expanded; the CLI spells them out for a remote endpoint)
    prefixes: tuple[tuple[str, str], ...] = ()
    source: str = ""
    # What the engines downstream would otherwise tokenize the text again for (they never do):
    mirrors: tuple[tuple[str, str], ...] = ()  # (approved SERVICE IRI, the mirror ``text`` names)
    from_spans: tuple[tuple[int, int], ...] = ()  # each FROM [NAMED] <graph> clause in ``text``
    where_open: int | None = None    # in ``text``, just after the `{` opening a SELECT's or
    #                                  an ASK's WHERE clause (where a VALUES block may go)

    @property
    def targets(self) -> tuple[str, ...]:
        """The SERVICE endpoints as ``text`` names them: the approved ones, or their mirrors."""
        mirrors = dict(self.mirrors)
        return tuple(mirrors.get(s, s) for s in self.services)

    def spelled_out(self) -> str:
        """The client's own text, with the predeclared prefixes it uses declared first (on its
        first line: only columns of line 1 shift): what a remote endpoint is sent, which has
        not heard of them."""
        return prologue(self.prefixes) + self.source


def _error(text: str, offset: int, sentence: str, cls=QueryError) -> QueryError:
    line, column = position(text, offset)
    return cls(f"syntax error at line {line}, column {column}: {sentence}", line=line,
               column=column)


def _malformed(text: str, offset: int, sentence: str,
               predeclared: dict[str, str] | None = None) -> QueryError:
    """A syntax error the checks found at OFFSET, worded as the engine's would be: the
    likeliest cause the tokens show (explain.cause), else SENTENCE at OFFSET."""
    line, column = position(text, offset)
    # explain's search is not linear in every case: on the event loop, for a query a person
    # writes only (a longer one is told the token the checks stopped at)
    found = cause(text, line, column, predeclared) if len(text) <= EXPLAIN_MAX else None
    if found is not None:
        line, column, sentence = found
    return QueryError(f"syntax error at line {line}, column {column}: {sentence}", line=line,
                      column=column)


def _char(text: str, m: re.Match) -> str:
    """The character a \\u / \\U escape names; a surrogate or a number past U+10FFFF is none."""
    code = int(m.group(1) or m.group(2), 16)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        raise _error(text, m.start(), f"`{m.group()}` names no character (a lone surrogate or "
                     "a number past U+10FFFF); write the character itself or a valid escape")
    return chr(code)


def _unescape_iri(text: str, tok: Token) -> str:
    body = tok.text[1:-1]
    if "\\" not in body:
        return body
    return _UCHAR.sub(lambda m: _char(text, _Shifted(m, tok.start + 1)), body)


class _Shifted:
    """A match in an IRI's body, placed in the query (for the error's line and column)."""

    def __init__(self, m: re.Match, offset: int):
        self.m, self.offset = m, offset

    def group(self, n: int = 0):
        return self.m.group(n)

    def start(self) -> int:
        return self.m.start() + self.offset


def _iriref(iri: str) -> str:
    """An IRI written between < and >, characters IRIREF excludes as \\u escapes (the engine
    unescapes them, and refuses the IRI as it would have)."""
    if _NOT_IRIREF.search(iri):
        iri = _NOT_IRIREF.sub(lambda m: f"\\u{ord(m.group()):04X}", iri)
    return f"<{iri}>"


@functools.lru_cache(maxsize=4096)
def _resolve(base: str, reference: str) -> str | None:
    """REFERENCE resolved against BASE by pyoxigraph's IRI code (RFC 3986, as its SPARQL parser
    resolves), or None when either is no valid IRI."""
    import pyoxigraph as ox

    doc = f"{_iriref(reference)} <urn:x-isecg:p> <urn:x-isecg:o> .".encode()
    try:
        return next(iter(ox.parse(doc, format=ox.RdfFormat.TURTLE, base_iri=base))).subject.value
    except (SyntaxError, ValueError, StopIteration):
        return None


def _codepoints(text: str, tokens: list[Token]) -> tuple[str, list[Token]]:
    """SPARQL replaces \\u escapes anywhere before parsing, Oxigraph only inside terms: the
    checks replace those outside terms, then read the result (an escape that makes another
    escape is refused)."""
    found = [t for t in tokens if t.kind == "other" and t.text == "\\"]
    if not found:
        return text, tokens
    pieces, last = [], 0
    for t in found:
        m = _UCHAR.match(text, t.start)
        if not m:
            raise _error(text, t.start, _BACKSLASH)
        pieces += [text[last:m.start()], _char(text, m)]
        last = m.end()
    text = "".join(pieces) + text[last:]
    tokens = tokenize(text)
    for t in tokens:
        if t.kind == "other" and t.text == "\\":
            raise _error(text, t.start, _BACKSLASH)
    return text, tokens


def check_query(text: str, *, max_bytes: int | None = MAX_QUERY_BYTES,
                service_allow: tuple[str, ...] | list[str] = (WIKIDATA_SPARQL,),
                service_map: dict[str, str] | None = None,
                graphs: tuple[str, ...] = GRAPHS, base_iri: str | None = BASE,
                predeclared: dict[str, str] | None = PREDECLARED) -> CheckedQuery:
    """Refuse what must never reach the engine; raise QueryTooLarge / QueryRefused / QueryError.

    ``service_map`` redirects allowed SERVICE IRIs (e.g. Wikidata's to a configured mirror).
    ``predeclared`` prefixes hold unless the query declares the same name.
    """
    if max_bytes is not None and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise QueryTooLarge(f"the query is {len(text.encode('utf-8', 'surrogatepass'))} bytes; "
                            f"the limit is {max_bytes} bytes")
    tokens = tokenize(text)
    if "\\" in text:
        text, tokens = _codepoints(text, tokens)
    return _emit(text, tokens, service_allow=service_allow, service_map=service_map or {},
                 graphs=graphs, base=base_iri, predeclared=predeclared or {})


def _emit(text: str, tokens: list[Token], *, service_allow, service_map: dict[str, str],
          graphs, base: str | None, predeclared: dict[str, str]) -> CheckedQuery:
    """The checks and the re-emission, in one pass over the tokens."""
    prefixes = dict(predeclared)
    declared: set[str] = set()
    used: set[str] = set()
    allow = set(service_allow)
    form: str | None = None
    variables = set()
    services: list[str] = []
    froms: list[str] = []
    named_froms: list[str] = []
    out: list[str] = []
    from_marks: list[tuple[int, int]] = []  # pieces of ``out`` each FROM clause starts / ends at
    open_mark: int | None = None       # the piece after a SELECT's or an ASK's first `{`
    mark_open = False
    last = 0           # where the previous emitted token ended in text
    prologue = True    # before the first token of the query proper: PREFIX, BASE, VERSION
    based = False      # the query declares its BASE: kept (IRI("x") resolves against it)
    depth = unions = 0
    n = len(tokens)
    i = 0

    def iri_of(tok: Token, what: str, refuse=QueryError) -> str:
        """The absolute IRI an IRI or prefixed-name token stands for."""
        if tok.kind == "iri":
            iri = _unescape_iri(text, tok)
            if _SCHEME.match(iri):
                return iri
            if not base:
                raise _error(text, tok.start, f"{what} <{iri}> is a relative IRI and there is "
                             "no base to resolve it against", refuse)
            resolved = _resolve(base, iri)
            if resolved is None:
                raise _error(text, tok.start, f"<{iri}> is no valid IRI reference")
            return resolved
        if tok.kind == "pname":
            prefix, _, local = tok.text.partition(":")
            if prefix not in prefixes:
                raise _malformed(text, tok.start, f"undeclared prefix `{prefix}:`; add `PREFIX "
                                 f"{prefix}: <…>` before the query" + (
                                     " (predeclared prefixes are listed in the service "
                                     "description and on the query page)" if predeclared
                                     else ""), predeclared)
            used.add(prefix)
            return prefixes[prefix] + (_PN_ESCAPE.sub(r"\1", local) if "\\" in local else local)
        raise _error(text, tok.start, f"{what} must be followed by an IRI, not `{tok.text}`")

    while i < n:
        tok = tokens[i]
        kind, word = tok.kind, tok.text
        piece = word
        if kind == "word":
            upper = word.upper()
            if prologue and upper in ("PREFIX", "BASE"):
                nxt = tokens[i + 1] if i + 1 < n else None
                if upper == "BASE":
                    if nxt is None or nxt.kind != "iri":
                        raise _malformed(text, (nxt or tok).start, "BASE must be followed by "
                                         "an IRI: BASE <http://example.org/>", predeclared)
                    base = iri_of(nxt, "BASE")
                    based = True
                    i += 2
                    continue
                iri = tokens[i + 2] if i + 2 < n else None
                name_ok = nxt is not None and nxt.kind == "pname" and \
                    nxt.text.find(":") == len(nxt.text) - 1  # `ex:`, not `ex:a` nor `ex:a:`
                if not name_ok or iri is None or iri.kind != "iri":
                    at = iri if name_ok else nxt
                    raise _malformed(text, (at or tok).start, "PREFIX takes a name ending "
                                     "with a colon, then an IRI: PREFIX ex: <http://example.org/>",
                                     predeclared)
                prefixes[nxt.text[:-1]] = iri_of(iri, "PREFIX")
                declared.add(nxt.text[:-1])
                i += 3
                continue
            if upper not in KEYWORDS and word != "a":
                raise _malformed(text, tok.start, word_sentence(
                    word, tokens[i - 1].text if i else ""), predeclared)
            if upper in ("PREFIX", "BASE"):
                raise _malformed(text, tok.start, f"{upper} declarations come first, before "
                                 "SELECT, ASK, CONSTRUCT or DESCRIBE", predeclared)
            if upper != "VERSION":
                prologue = False
            if upper == "UNION":
                unions += 1
                if unions >= MAX_UNION:
                    raise QueryError(f"the query has more than {MAX_UNION} UNION branches; use "
                                     "VALUES for long lists of alternatives")
            elif form is None and upper in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
                form = upper
            elif form is None and upper in UPDATE_WORDS:
                raise QueryRefused(f"SPARQL Update ({word}) is not accepted: this service is "
                                   "read-only")
            elif upper == "SERVICE":
                j = i + 1
                if j < n and tokens[j].kind == "word" and tokens[j].text.upper() == "SILENT":
                    j += 1
                if j >= n:
                    raise _error(text, tok.start, "SERVICE must be followed by an endpoint IRI")
                target = tokens[j]
                if target.kind == "var":
                    raise QueryRefused("SERVICE with a variable endpoint is not accepted; name "
                                       f"an allowed endpoint: {', '.join(sorted(allow)) or 'none'}")
                endpoint = iri_of(target, "SERVICE", QueryRefused)
                if endpoint not in allow:
                    raise QueryRefused(f"SERVICE <{endpoint}> is not allowed; allowed endpoints: "
                                       f"{', '.join(sorted(allow)) or 'none'}")
                services.append(endpoint)
                # SERVICE [SILENT] <endpoint>, the endpoint as approved (or its mirror)
                pieces = [(tok, word)] + ([(tokens[i + 1], tokens[i + 1].text)] if j > i + 1
                                          else []) + [(target, _iriref(
                                              service_map.get(endpoint, endpoint)))]
                for t, p in pieces:
                    last = _put(out, text, t, p, last)
                i = j + 1
                continue
            elif upper == "FROM":
                j = i + 1
                named = j < n and tokens[j].kind == "word" and tokens[j].text.upper() == "NAMED"
                if named:
                    j += 1
                if j >= n:
                    raise _error(text, tok.start, "FROM must be followed by a graph IRI")
                graph = iri_of(tokens[j], "FROM", QueryRefused)
                if graph not in graphs:
                    raise QueryRefused(f"FROM <{graph}> is not one of this dataset's graphs "
                                       f"({', '.join(graphs)}); nothing is ever fetched")
                froms.append(graph)
                if named:
                    named_froms.append(graph)
                last = _put(out, text, tok, word, last)
                starts = len(out) - 1  # the piece FROM itself, after what preceded it
                for t in tokens[i + 1:j]:
                    last = _put(out, text, t, t.text, last)
                last = _put(out, text, tokens[j], _iriref(graph), last)
                from_marks.append((starts, len(out)))
                i = j + 1
                continue
        elif kind == "var":
            variables.add(word[1:])
            prologue = False
        elif kind == "iri":
            if "\\" in word or not _SCHEME.match(word, 1):
                piece = _iriref(iri_of(tok, "this"))
            prologue = False
        elif kind == "pname":
            piece = _iriref(iri_of(tok, "this"))
            prologue = False
        elif kind == "other":
            if word not in PUNCTUATION:
                raise _malformed(text, tok.start, _stray(word), predeclared)
            if word in "{([":
                depth += 1
                if word == "{" and open_mark is None and form in SOLUTION_FORMS:
                    mark_open = True
                if depth > MAX_NESTING:
                    line = text.count("\n", 0, tok.start) + 1
                    raise QueryError(f"the query nests brackets more than {MAX_NESTING} levels "
                                     f"deep (line {line}); flatten it", line=line)
            elif word in "})]":
                depth -= 1
            prologue = False
        elif kind != "string" or not prologue:  # VERSION "1.2" stays in the prologue
            prologue = False
        last = _put(out, text, tok, piece, last)
        if mark_open:
            open_mark, mark_open = len(out), False
        i += 1
    _put(out, text, None, "", last)  # comments after the last token
    implicit = tuple(sorted((p, predeclared[p]) for p in used - declared if p in predeclared))
    if based:  # every IRI written is absolute; the base is for IRI() / URI() of a string
        out.insert(0, f"BASE {_iriref(base)} ")

    def offset(piece: int) -> int:  # where a piece of ``out`` starts in the text
        return sum(map(len, out[:piece + based]))

    return CheckedQuery(text="".join(out), form=form, variables=frozenset(variables),
                        services=tuple(services), from_graphs=tuple(froms),
                        from_named=tuple(named_froms), prefixes=implicit, source=text,
                        mirrors=tuple((s, service_map[s]) for s in dict.fromkeys(services)
                                      if s in service_map),
                        from_spans=tuple((offset(a), offset(b)) for a, b in from_marks),
                        where_open=None if open_mark is None else offset(open_mark))


_SUFFIXES = ("*", "+", "?")  # path modifiers
_COMMENT = re.compile(r"#[^\r\n]*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _put(out: list[str], text: str, tok: Token | None, piece: str, last: int) -> int:
    """Append PIECE (TOK's emission; TOK None: the end of the text) after what stood between
    the previous token and TOK: its comments, each ended by a line break of its own (nothing
    can join one), and as many line breaks as there were (so line numbers stay), else a space.
    A language tag, ``^^`` and the datatype after it, a path modifier that followed its path in
    the source and a ``(`` that followed a function's name are written against the token
    before (nothing runs into them: a string or an IRI has ended, punctuation is no name), as
    every parser reads them (rdflib wants modifiers and tags glued, pyoxigraph ``CONCAT(``).
    Returns where TOK ends."""
    end = len(text) if tok is None else tok.start
    if end - last == 1 and text[last] == " " and tok is not None and tok.kind != "langtag" \
            and piece != "^^" and out and out[-1] != "^^":  # the usual case: one space between
        out.append(" ")
        out.append(piece)
        return tok.end
    breaks = text.count("\n", last, end)
    if text.find("#", last, end) >= 0:  # comments stay: texts that differ by one stay distinct
        for comment in _COMMENT.findall(text, last, end):
            out.append((" " if out and out[-1][-1] != "\n" else "") + comment + "\n")
            breaks -= 1
    if tok is None:
        return last
    if breaks > 0:
        out.append("\n" * breaks)
    elif out and out[-1][-1] != "\n" and not (
            tok.kind == "langtag" or piece == "^^" or out[-1] == "^^"
            or (tok.start == last and (piece in _SUFFIXES
                                       or (piece == "(" and _WORD.match(out[-1]))))):
        out.append(" ")
    out.append(piece)
    return tok.end


def _stray(char: str) -> str:
    if char in "\"'":
        return (f"a string opened here is never closed: end it with {char} on the same line (or "
                f"use {char * 3} for several lines)")
    if char == "\\":
        return _BACKSLASH
    return f"`{char}` is not part of SPARQL here (a character no keyword, name or term starts with)"


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
