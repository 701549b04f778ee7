"""names.py: the one folded form, stop-word list and initials that reconciliation and Wikidata
linking compare names with."""

from __future__ import annotations

import pytest
from isecg_kg.names import STOPWORDS, fold, initials, normalize


def test_fold_ignores_case_accents_and_punctuation():
    assert fold("Centre National d'Études Spatiales") == "centre national d etudes spatiales"
    assert fold("  Agência   Espacial Brasileira (AEB) ") == "agencia espacial brasileira aeb"
    assert fold("The Global Exploration Roadmap") == "the global exploration roadmap"


def test_normalize_drops_a_leading_article_only():
    assert normalize("The Global Exploration Roadmap") == "global exploration roadmap"
    assert normalize("The") == "the"  # a name that is only the article keeps it
    assert normalize("Space of the Moon") == "space of the moon"


@pytest.mark.parametrize("name, expected", [
    ("National Aeronautics and Space Administration", "nasa"),
    ("Agenzia Spaziale Italiana", "asi"),
    ("Centre national d'études spatiales", "cndes"),  # "d'" is no stop word
    ("Deutsches Zentrum für Luft- und Raumfahrt", "dzlr"),  # für is folded to fur: a stop word
    ("Roscosmos", ""),  # one word has no initials
])
def test_initials_skip_stop_words(name, expected):
    assert initials(fold(name)) == expected


def test_stop_words_are_folded():
    # Names are folded before the lookup, so a listed word with an accent could never match.
    assert all(fold(word) == word for word in STOPWORDS)
