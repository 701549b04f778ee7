"""``link quickstatements``: ISECG memberships as QuickStatements v1 for Wikidata, with ISECG's
item as the user gives it, without the statements a Wikidata endpoint already has.

The lines themselves are made by builder/quickstatements.py, which also writes them into every
build (``isecg-quickstatements.txt``) with ISECG's item left as a placeholder.
"""

from __future__ import annotations

from isecg_kg.builder.quickstatements import FILE, PLACEHOLDER
from isecg_kg.errors import InputError
from isecg_kg.wikidata.client import SparqlClient
from isecg_kg.wikidata.entities import QID_RE, WD, WDT, _batches, _qid

# What to do when the QID is missing or malformed; no example QID: every Q-number is some item,
# and a copied example would put the statements on it.
HOW = ("look up ISECG on Wikidata (the International Space Exploration Coordination Group), "
       "check the item is that group, and give its id: Q followed by digits. This project "
       f"knows no QID of ISECG; {FILE} among the downloads has the same lines with "
       f"{PLACEHOLDER} in its place")


def normalize_qid(value: str | None) -> str:
    """``Q123`` from ``Q123``, ``wd:Q123`` or the entity IRI; InputError for anything else."""
    if not value or not value.strip():
        raise InputError(f"--isecg-qid is required: {HOW}")
    text = value.strip()
    for prefix in (WD, "https://www.wikidata.org/entity/", "https://www.wikidata.org/wiki/",
                   "wd:"):
        text = text.removeprefix(prefix)
    if not QID_RE.match(text):
        raise InputError(f"--isecg-qid {value!r} is not a Wikidata item id (Q followed by "
                         f"digits without a leading zero): {HOW}")
    return text


def existing_memberships(client: SparqlClient, items: list[str], isecg_qid: str, *,
                         batch_size: int = 50) -> set[str]:
    """The QIDs among items that already state member of (P463) the ISECG item at the endpoint."""
    have: set[str] = set()
    for batch in _batches(sorted(set(items)), batch_size):
        values = " ".join(f"<{WD}{q}>" for q in batch)
        for row in client.select(f"""
            SELECT ?item WHERE {{
              VALUES ?item {{ {values} }}
              ?item <{WDT}P463> <{WD}{isecg_qid}> .
            }}"""):
            have.add(_qid(row["item"]["value"]))
    return have
