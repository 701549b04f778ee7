"""Well-formedness of literals: the XSD lexical spaces, and the characters XML 1.0 can carry.

Turtle parsers accept ``"abc"^^xsd:integer`` and ``"2007-13-45"^^xsd:date`` (RDF calls them
ill-typed, not invalid), and rdflib only checks the datatypes it converts to Python values
(not gYear, gYearMonth, ...), logging a traceback for each failure. The patterns below are the
lexical spaces of XSD 1.1 Part 2 (section 3), plus the value checks the patterns cannot express
(days per month, ranges of the bounded integer types).
"""

from __future__ import annotations

import calendar
import re
from functools import cache

from isecg_kg.rdf import XSD

_TZ = r"(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?"
_YEAR = r"-?(?:[1-9]\d{3,}|0\d{3})"
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12]\d|3[01])"
_TIME = r"(?:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?|24:00:00(?:\.0+)?)"
_DUR_TIME = r"T(?:\d+H(?:\d+M)?(?:\d+(?:\.\d+)?S)?|\d+M(?:\d+(?:\.\d+)?S)?|\d+(?:\.\d+)?S)"
_DUR_DATE = r"(?:\d+Y(?:\d+M)?(?:\d+D)?|\d+M(?:\d+D)?|\d+D)"
_INTEGER = r"[+-]?\d+"
_DECIMAL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_DOUBLE = r"(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?INF|NaN)"

# The integer types' inclusive bounds (None: unbounded on that side).
_BOUNDS = {
    "integer": (None, None), "nonNegativeInteger": (0, None), "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0), "negativeInteger": (None, -1),
    "long": (-2**63, 2**63 - 1), "int": (-2**31, 2**31 - 1), "short": (-2**15, 2**15 - 1),
    "byte": (-128, 127), "unsignedLong": (0, 2**64 - 1), "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1), "unsignedByte": (0, 255),
}
PATTERNS = {name: _INTEGER for name in _BOUNDS} | {
    "decimal": _DECIMAL, "double": _DOUBLE, "float": _DOUBLE, "boolean": r"true|false|1|0",
    "date": f"{_YEAR}-{_MONTH}-{_DAY}{_TZ}",
    "dateTime": f"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_TZ}",
    "dateTimeStamp": f"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}(?:Z|[+-](?:(?:0\\d|1[0-3]):[0-5]\\d|14:00))",
    "time": f"{_TIME}{_TZ}", "gYear": f"{_YEAR}{_TZ}", "gYearMonth": f"{_YEAR}-{_MONTH}{_TZ}",
    "gMonth": f"--{_MONTH}{_TZ}", "gDay": f"---{_DAY}{_TZ}", "gMonthDay": f"--{_MONTH}-{_DAY}{_TZ}",
    "duration": f"-?P(?:{_DUR_DATE}(?:{_DUR_TIME})?|{_DUR_TIME})",
    "yearMonthDuration": r"-?P(?:\d+Y(?:\d+M)?|\d+M)",
    "dayTimeDuration": f"-?P(?:\\d+D(?:{_DUR_TIME})?|{_DUR_TIME})",
    "hexBinary": r"(?:[0-9a-fA-F]{2})*",
    "language": r"[a-zA-Z]{1,8}(?:-[a-zA-Z0-9]{1,8})*",
}

# XSD datatypes without a pattern above: any string of XML characters is in their lexical space
# as far as this check goes (their whitespace facets are not applied by RDF).
OTHER = {"string", "normalizedString", "token", "NMTOKEN", "Name", "NCName", "ID", "IDREF",
         "ENTITY", "anyURI", "base64Binary", "QName", "NOTATION", "anySimpleType", "anyType",
         "anyAtomicType", "IDREFS", "ENTITIES", "NMTOKENS"}
KNOWN = {XSD + name for name in OTHER | set(PATTERNS)}

# Characters XML 1.0 cannot carry (so RDF/XML cannot): C0 controls but tab, LF, CR; U+FFFE/F.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# The same, as bytes of a UTF-8 Turtle file, raw or as a \u / \U escape: a cheap first pass.
NOT_XML_BYTES = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]"
    rb"|\\(?:u|U0000)(?:000[0-8bBcCeEfF]|001[0-9a-fA-F]|[fF]{3}[eEfF])")


def _valid_day(lexical: str, with_year: bool) -> bool:
    """The patterns allow 31 days in every month; check the month's real length."""
    if with_year:
        m = re.match(r"(-?\d{4,})-(\d\d)-(\d\d)", lexical)
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        leap = calendar.isleap(year if year > 0 else year + 1)  # XSD 1.1: year 0 is 1 BCE
    else:
        m = re.match(r"--(\d\d)-(\d\d)", lexical)
        month, day, leap = int(m[1]), int(m[2]), True
    return day <= (29 if month == 2 and leap else calendar.monthrange(2001, month)[1])


@cache
def _compiled(name: str) -> re.Pattern | None:
    """The pattern of one datatype, compiled when first needed: compiling them all cost every
    process 10-15 ms at import, a build needs four or five."""
    return re.compile(PATTERNS[name], re.ASCII) if name in PATTERNS else None


def ill_typed(lexical: str, datatype: str) -> str | None:
    """Why `lexical` is not in the lexical space of XSD `datatype`, or None when it is
    (or when the datatype is not an XSD one: those are not ours to judge)."""
    if not datatype.startswith(XSD):
        return None
    name = datatype[len(XSD):]
    if datatype not in KNOWN:
        return f"xsd:{name} is not an XSD datatype"
    pattern = _compiled(name)
    if pattern is None:
        return None
    if not pattern.fullmatch(lexical):
        return f"{lexical!r} is not a lexical form of xsd:{name}"
    if name in _BOUNDS:
        low, high = _BOUNDS[name]
        value = int(lexical)
        if (low is not None and value < low) or (high is not None and value > high):
            return f"{lexical} is outside the range of xsd:{name}"
    elif name in ("date", "dateTime", "dateTimeStamp", "gMonthDay") and not _valid_day(
            lexical, with_year=name != "gMonthDay"):
        return f"{lexical!r} is not a day of the calendar (xsd:{name})"
    return None


def not_xml(text: str) -> str | None:
    """A description of the first character XML 1.0 cannot carry in `text`, or None."""
    m = NOT_XML.search(text)
    return None if m is None else f"U+{ord(m[0]):04X} at character {m.start() + 1}"
