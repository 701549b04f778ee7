"""The SPARQL grammar's terminals, read the one way every module reads them.

``tokenize`` follows the grammar's terminals (SPARQL 1.1 §19.8, longest match): ``SERVICE:`` is
a prefixed name, ``SERVICESILENT`` one word, ``456.`` an integer and a dot. The checks
(guard.py) read a query with it, and so does ``explain`` when it words a syntax error, so both
see the same tokens. ``position`` and ``offset`` convert between a character offset and the
1-based line and column every message gives.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Every word the SPARQL 1.1 grammar (and pyoxigraph's SPARQL 1.2 / extensions) treats as a
# keyword or built-in function name, upper-cased; `a` is special (lower case only). Any other
# bare word is refused: nothing else in a query is a word.
KEYWORDS = frozenset([
    "BASE", "PREFIX", "VERSION", "SELECT", "CONSTRUCT", "DESCRIBE", "ASK", "DISTINCT", "REDUCED",
    "AS", "FROM", "NAMED", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "ASC", "DESC", "LIMIT",
    "OFFSET", "VALUES", "OPTIONAL", "GRAPH", "SERVICE", "SILENT", "BIND", "UNDEF", "MINUS",
    "UNION", "FILTER", "EXISTS", "NOT", "IN", "TRUE", "FALSE", "LOAD", "CLEAR", "DROP", "CREATE",
    "ADD", "MOVE", "COPY", "INSERT", "DELETE", "DATA", "WITH", "USING", "DEFAULT", "ALL", "INTO",
    "TO", "LATERAL", "STR", "LANG", "LANGMATCHES", "DATATYPE", "BOUND", "IRI", "URI", "BNODE",
    "RAND", "ABS", "CEIL", "FLOOR", "ROUND", "CONCAT", "STRLEN", "UCASE", "LCASE",
    "ENCODE_FOR_URI", "CONTAINS", "STRSTARTS", "STRENDS", "STRBEFORE", "STRAFTER", "YEAR",
    "MONTH", "DAY", "HOURS", "MINUTES", "SECONDS", "TIMEZONE", "TZ", "NOW", "UUID", "STRUUID",
    "MD5", "SHA1", "SHA256", "SHA384", "SHA512", "COALESCE", "IF", "STRLANG", "STRDT",
    "SAMETERM", "ISIRI", "ISURI", "ISBLANK", "ISLITERAL", "ISNUMERIC", "REGEX", "SUBSTR",
    "REPLACE", "COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT", "SEPARATOR",
    "TRIPLE", "SUBJECT", "PREDICATE", "OBJECT", "ISTRIPLE", "ADJUST", "LANGDIR", "STRLANGDIR",
    "HASLANG", "HASLANGDIR"
])
# Punctuation and operators of the grammar (SPARQL 1.2's << >> <<( )>> {| |} ~ included): the
# only tokens of kind "other" a query may hold.
PUNCTUATION = frozenset(["{", "}", "(", ")", "[", "]", ".", ",", ";", "*", "=", "!", "<", ">",
                         "|", "+", "-", "/", "^", "?", "~", "&&", "||", "!=", "<=", ">=", "^^",
                         "<<", ">>", "<<(", ")>>", "{|", "|}"])

# The grammar's character classes (SPARQL 1.1 §19.8), exactly: a laxer class (Python's \w)
# would let the checks read one token where the engine reads two.
_BASE = ("A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
         "\u2070-\u218F\u2C00-\u2FEF\u3001-\ud7ff\uF900-\uFDCF\uFDF0-\uFFFD"
         "\U00010000-\U000EFFFF")
_U = _BASE + "_"
_PN = _U + "\\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_VARC = _U + "0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%]"
# Each match is the whitespace and comments before a token (possessive: read exactly as the
# tokens they were before, so none of it is read again as a token), then the token, or the end
# of the text. The text is read in one run of matches with no gap (`other` takes any character),
# half as many as when whitespace and comments were tokens of their own: the tokenizer was half
# the guard's time per request.
_TOKEN = re.compile(rf"""
 (?:[ \t\r\n]+|\#[^\r\n]*)*+
(?:(?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}})*>)
|(?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''|\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
            |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
|(?P<var>[?$][{_U}0-9][{_VARC}]*)
|(?P<bnode>_:[{_U}0-9](?:[{_PN}.]*[{_PN}])?)
|(?P<pname>(?=[{_PN}.]*+:)(?:[{_BASE}](?:[{_PN}.]*[{_PN}])?)?:
           (?:(?:[{_U}:0-9]|{_PLX})(?:(?:[{_PN}.:]|{_PLX})*(?:[{_PN}:]|{_PLX}))?)?)
|(?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?:--[A-Za-z]+)?)
|(?P<number>[+-]?(?:[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.[0-9]+[eE][+-]?[0-9]+|[0-9]+[eE][+-]?[0-9]+
                   |[0-9]*\.[0-9]+|[0-9]+))
|(?P<word>[A-Za-z_][A-Za-z0-9_]*)
|(?P<other><<\(|\)>>|<<|>>|\{{\||\|\}}|\^\^|&&|\|\||!=|<=|>=|.)
|\Z)
""", re.VERBOSE | re.DOTALL)
class Token(NamedTuple):  # a tuple: a query of a few KB has hundreds, made per request
    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """SPARQL tokens without whitespace and comments (total: unknown characters are 'other')."""
    return [Token(kind, m[kind], *m.span(kind)) for m in _TOKEN.finditer(text)
            if (kind := m.lastgroup) is not None]


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a character offset."""
    return (text.count("\n", 0, offset) + 1,
            offset - (text.rfind("\n", 0, offset) + 1) + 1)


def offset(text: str, line: int, column: int) -> int:
    """The character offset of a 1-based line and column (the end when past it)."""
    start = 0
    for _ in range(line - 1):
        nl = text.find("\n", start)
        if nl < 0:
            return len(text)
        start = nl + 1
    return min(len(text), start + max(column - 1, 0))
