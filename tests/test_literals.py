"""literals.py: the XSD lexical spaces (XSD 1.1 Part 2, section 3) and XML 1.0's characters.

Expected verdicts come from the specification's own examples and rules, and from Python's
calendar as an independent oracle for dates.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from isecg_kg.builder.literals import ill_typed, not_xml
from isecg_kg.rdf import XSD

VALID = [
    ("integer", "-1"), ("integer", "0"), ("integer", "12678967543233"), ("integer", "+100000"),
    ("decimal", "-1.23"), ("decimal", "+100000.00"), ("decimal", ".5"), ("decimal", "210."),
    ("double", "-1E4"), ("double", "12.78e-2"), ("double", "INF"), ("double", "-INF"),
    ("double", "NaN"), ("float", "1267.43233E12"), ("boolean", "true"), ("boolean", "0"),
    ("date", "2007-11-01"), ("date", "2008-02-29"), ("date", "-0044-03-15"),
    ("date", "2022-01-31Z"), ("date", "2022-01-31+14:00"),
    ("dateTime", "2002-10-10T12:00:00-05:00"), ("dateTime", "2002-10-10T24:00:00"),
    ("dateTime", "2002-10-10T12:00:00.125Z"), ("time", "13:20:00"), ("gYear", "2007"),
    ("gYear", "12007"), ("gYearMonth", "2007-11"), ("gMonth", "--11"), ("gDay", "---31"),
    ("gMonthDay", "--02-29"), ("duration", "P1Y2M3DT10H30M"), ("duration", "-P120D"),
    ("duration", "PT1.5S"), ("yearMonthDuration", "P2Y6M"), ("dayTimeDuration", "P3DT4H"),
    ("nonNegativeInteger", "0"), ("positiveInteger", "1"), ("byte", "-128"),
    ("unsignedByte", "255"), ("int", "2147483647"), ("hexBinary", "0FB7"),
    ("language", "en-GB"), ("string", "anything at all"), ("anyURI", "not checked"),
]
INVALID = [
    ("integer", "abc"), ("integer", "7.5"), ("integer", " 5"), ("integer", ""),
    ("integer", "1_000"), ("integer", "٣"),  # an Arabic-Indic digit: \d must mean ASCII
    ("decimal", "1e3"), ("decimal", "."), ("double", "inf"), ("double", "1e"),
    ("boolean", "yes"), ("boolean", "True"), ("date", "2007-13-45"), ("date", "2007-02-29"),
    ("date", "1900-02-29"), ("date", "2007-04-31"), ("date", "07-11-01"),
    ("date", "2007-11-01+15:00"), ("dateTime", "2007-11-01"), ("dateTime", "2007-11-01T25:00:00"),
    ("dateTime", "2007-11-01T24:00:01"), ("time", "13:60:00"), ("gYear", "207"),
    ("gYear", "02007"), ("gYearMonth", "2007-13"), ("gYearMonth", "2007-1"), ("gMonth", "11"),
    ("gDay", "---32"), ("gMonthDay", "--02-30"), ("duration", "P"), ("duration", "PT"),
    ("duration", "P1S"), ("duration", "1Y"), ("yearMonthDuration", "P1D"),
    ("dayTimeDuration", "P1Y"), ("nonNegativeInteger", "-3"), ("positiveInteger", "0"),
    ("negativeInteger", "0"), ("byte", "128"), ("unsignedByte", "-1"),
    ("int", "2147483648"), ("long", "9223372036854775808"), ("hexBinary", "0FB"),
    ("language", "englishes-gb"), ("integr", "1"),
]


@pytest.mark.parametrize(("name", "lexical"), VALID)
def test_valid_lexical_forms_pass(name, lexical):
    assert ill_typed(lexical, XSD + name) is None


@pytest.mark.parametrize(("name", "lexical"), INVALID)
def test_invalid_lexical_forms_are_named(name, lexical):
    why = ill_typed(lexical, XSD + name)
    assert why and f"xsd:{name}" in why


def test_other_namespaces_are_not_judged():
    assert ill_typed("abc", "http://example.org/myInteger") is None
    assert ill_typed("abc", "http://www.w3.org/1999/02/22-rdf-syntax-ns#HTML") is None


@given(st.integers(min_value=1, max_value=9999), st.integers(1, 12), st.integers(1, 31))
def test_dates_agree_with_pythons_calendar(year, month, day):
    try:
        datetime.date(year, month, day)
        real = True
    except ValueError:
        real = False
    assert (ill_typed(f"{year:04d}-{month:02d}-{day:02d}", XSD + "date") is None) == real


@given(st.integers())
def test_every_python_integer_is_an_xsd_integer(n):
    assert ill_typed(str(n), XSD + "integer") is None
    assert (ill_typed(str(n), XSD + "byte") is None) == (-128 <= n <= 127)


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe",
                                  "\uffff"])
def test_characters_xml_cannot_carry_are_found(char):
    assert not_xml(f"ab{char}c") == f"U+{ord(char):04X} at character 3"


@pytest.mark.parametrize("text", ["tab\tnewline\ncr\r", "Ĉiuĵaŭde 宇宙 🚀", "\x7f\x85", ""])
def test_characters_xml_carries_pass(text):
    assert not_xml(text) is None
