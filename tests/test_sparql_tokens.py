"""The SPARQL grammar's terminals (sparql/tokens.py): longest match, as the grammar reads them,
which is what keeps the checks and the engine reading the same query (issue 21)."""

from __future__ import annotations

import pytest
from isecg_kg.sparql.tokens import KEYWORDS, offset, position, tokenize


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text)]


def test_keywords_glued_to_what_follows_are_not_keywords():
    assert kinds("SERVICE:x") == [("pname", "SERVICE:x")]
    assert kinds("SERVICESILENT") == [("word", "SERVICESILENT")]
    assert kinds("SERVICE SILENT") == [("word", "SERVICE"), ("word", "SILENT")]


def test_numbers_take_the_longest_match_and_leave_the_dot():
    assert kinds("456.") == [("number", "456"), ("other", ".")]
    assert kinds("4.5e6 .5") == [("number", "4.5e6"), ("number", ".5")]


def test_strings_iris_and_comments():
    assert kinds('"a # not a comment" # a comment\n<http://x/#y>') == [
        ("string", '"a # not a comment"'), ("iri", "<http://x/#y>")]
    assert kinds("'''two\nlines'''") == [("string", "'''two\nlines'''")]
    assert kinds('"never closed') == [("other", '"'), ("word", "never"), ("word", "closed")]


def test_variables_blank_nodes_language_tags_and_operators():
    assert kinds('?x $y _:b1 "t"@en-GB ^^ <= != ||') == [
        ("var", "?x"), ("var", "$y"), ("bnode", "_:b1"), ("string", '"t"'),
        ("langtag", "@en-GB"), ("other", "^^"), ("other", "<="), ("other", "!="),
        ("other", "||")]


def test_every_keyword_is_a_word_of_its_own():
    for word in KEYWORDS:
        assert kinds(word) == [("word", word)], word


@pytest.mark.parametrize("text", ["SELECT *\nWHERE {\n  ?s ?p ?o\n}", "a\n\nb", "é\nü"])
def test_position_and_offset_are_each_others_inverse(text):
    for at in range(len(text) + 1):
        assert offset(text, *position(text, at)) == at
    assert position(text, 0) == (1, 1)
