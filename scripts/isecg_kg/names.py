"""Comparing names: one folded form, one stop-word list, one way to take initials.

Used by Wikidata linking (do our names agree with an item's labels?) and by reconciliation
(which entity does a name a user typed mean?). Both compare folded forms, so both read the same
words as insignificant.
"""

from __future__ import annotations

import re
import unicodedata

# Words left out of initials ("National Aeronautics and Space Administration" -> nasa). Names are
# folded before they are looked up here, so accented words are listed folded ("für" is "fur").
STOPWORDS = frozenset(["of", "and", "the", "for", "de", "di", "del", "della", "des", "du", "la",
                       "le", "el", "y", "et", "und", "fur"])


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name: words joined by one space."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def normalize(text: str) -> str:
    """The folded name without a leading "the" ("The Moon Village" is "moon village")."""
    words = fold(text).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def initials(folded: str) -> str:
    """Initials of the significant words of a folded name; "" for a single word."""
    words = [w for w in folded.split() if w not in STOPWORDS]
    return "".join(w[0] for w in words) if len(words) > 1 else ""
