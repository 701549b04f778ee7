"""``link quickstatements``: ISECG memberships as QuickStatements v1 for Wikidata."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from isecg_kg.config import PREFIXES
from isecg_kg.errors import InputError
from isecg_kg.wikidata.client import SparqlClient
from isecg_kg.wikidata.entities import (
    GROUP_ISECG,
    ISECG,
    QID_RE,
    WD,
    WDT,
    _batches,
    _qid,
    _store,
    read_entities,
)


@dataclass(frozen=True)
class MembershipStatement:
    agency: str                 # our agency IRI
    label: str
    item: str                   # agency QID
    start: str | None           # Wikidata time value with precision, e.g. +2007-11-00T00:00:00Z/10
    end: str | None
    references: tuple[tuple[str, str | None], ...]  # (public address, day read), oldest first


def normalize_qid(value: str | None) -> str:
    """``Q123`` from ``Q123``, ``wd:Q123`` or the entity IRI; InputError for anything else."""
    if not value:
        raise InputError("--isecg-qid is required: ISECG's Wikidata item is not known to this "
                         "project (shared/reference/wikidata.md lists none), so give the QID you "
                         "have checked yourself, e.g. --isecg-qid Q123456")
    text = value.strip()
    for prefix in (WD, "https://www.wikidata.org/entity/", "https://www.wikidata.org/wiki/",
                   "wd:"):
        text = text.removeprefix(prefix)
    if not QID_RE.match(text):
        raise InputError(f"--isecg-qid {value!r} is not a Wikidata item id: expected Q followed "
                         f"by digits without leading zero, e.g. Q123456")
    return text


def _wikidata_time(literal) -> str | None:
    """A Wikidata QuickStatements time (``+YYYY-MM-DDT00:00:00Z/precision``) from an XSD value."""
    value = literal.value
    dtype = literal.datatype.value if literal.datatype else ""
    xsd = PREFIXES["xsd"]
    if dtype == xsd + "gYear" and re.fullmatch(r"\d{4}", value):
        return f"+{value}-00-00T00:00:00Z/9"
    if dtype == xsd + "gYearMonth" and re.fullmatch(r"\d{4}-\d{2}", value):
        return f"+{value}-00T00:00:00Z/10"
    if dtype in (xsd + "date", xsd + "dateTime") and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return f"+{value[:10]}T00:00:00Z/11"
    return None


def _window_time(first: str, last: str) -> str | None:
    """The smallest calendar unit holding a window of days, as a Wikidata time: a window within
    one month is that month (/10), within one year that year (/9); a longer one says nothing."""
    if first[:7] == last[:7]:
        return f"+{first[:7]}-00T00:00:00Z/10"
    if first[:4] == last[:4]:
        return f"+{first[:4]}-00-00T00:00:00Z/9"
    return None


def membership_statements(sources) -> tuple[list[MembershipStatement], list[str]]:
    """The ISECG memberships of agencies linked to Wikidata, and the agencies skipped (no QID).

    The start and end times are those of the claims the membership's period adopts, at the
    precision the source gives. References are the public addresses of the documents that list
    the membership or state its adopted dates; documents without one cannot be cited there.
    """
    store = _store(sources)
    entities = read_entities(sources)
    org, tm, dcterms = PREFIXES["org"], PREFIXES["time"], PREFIXES["dcterms"]
    schema = PREFIXES["schema"]
    times = f"<{tm}inXSDDate>|<{tm}inXSDgYearMonth>|<{tm}inXSDgYear>"
    dates: dict[tuple[str, str], str] = {}
    for row in store.query(f"""
        SELECT ?m ?kind ?t ?first ?last WHERE {{
          ?m a <{ISECG}Membership> ; <{org}organization> <{GROUP_ISECG}> ; <{ISECG}adoptedClaim> ?c .
          ?c a ?kind .
          OPTIONAL {{ ?c <{ISECG}claimedTime>/({times}) ?t }}
          OPTIONAL {{ ?c <{ISECG}notBefore> ?first ; <{ISECG}notAfter> ?last }}
        }}"""):  # noqa: E501 (query text kept as is)
        side = "end" if row["kind"].value.endswith("EndClaim") else "start"
        if row["t"] is not None:
            when = _wikidata_time(row["t"])
        elif row["first"] is not None:
            when = _window_time(row["first"].value, row["last"].value)
        else:
            when = None
        if when:
            dates[(row["m"].value, side)] = when
    refs: dict[str, set[tuple[str, str, str | None]]] = {}
    for row in store.query(f"""
        SELECT ?m ?url ?issued ?read WHERE {{
          ?m a <{ISECG}Membership> ; <{org}organization> <{GROUP_ISECG}> .
          ?m <{dcterms}source>|(<{ISECG}adoptedClaim>/<{dcterms}source>) ?d .
          ?d <{schema}url> ?url .
          OPTIONAL {{ ?d <{dcterms}issued> ?issued }}
          OPTIONAL {{ ?d <{ISECG}retrieved> ?read }}
        }}"""):
        refs.setdefault(row["m"].value, set()).add((
            row["issued"].value if row["issued"] is not None else "9999", row["url"].value,
            row["read"].value if row["read"] is not None else None))
    statements, skipped = [], []
    for row in store.query(f"""
        SELECT ?m ?agency WHERE {{
          ?m a <{ISECG}Membership> ; <{org}member> ?agency ; <{org}organization> <{GROUP_ISECG}> .
        }}"""):
        m, iri = row["m"].value, row["agency"].value
        agency = entities.get(iri)
        if agency is None or not agency.qids:
            skipped.append(iri)
            continue
        label = agency.names[0][0] if agency.names else iri
        statements.append(MembershipStatement(
            agency=iri, label=label, item=agency.qids[0], start=dates.get((m, "start")),
            end=dates.get((m, "end")),
            references=tuple((url, read) for _, url, read in sorted(refs.get(m, ())))))
    statements.sort(key=lambda s: (s.label.casefold(), s.agency))
    return statements, sorted(skipped)


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


def quickstatements(statements: list[MembershipStatement], isecg_qid: str, *,
                    retrieved: date, skip: set[str] = frozenset()) -> list[str]:
    """QuickStatements v1 command lines (tab-separated), one per membership and reference.

    Each reference is the source's public address (S854) and the day it was read there (S813);
    ``retrieved`` stands in only for a source that records no such day.
    """
    fallback = f"+{retrieved.isoformat()}T00:00:00Z/11"
    lines = []
    for s in statements:
        if s.item in skip:
            continue
        head = [s.item, "P463", isecg_qid]
        if s.start:
            head += ["P580", s.start]
        if s.end:
            head += ["P582", s.end]
        for url, read in s.references or ((None, None),):
            ref = ["S854", f'"{url}"', "S813", f"+{read}T00:00:00Z/11" if read else fallback] \
                if url else []
            lines.append("\t".join(head + ref))
    return lines
