"""QuickStatements for Wikidata: ISECG's memberships with their dates and their sources.

QuickStatements v1, one tab-separated command line per membership and reference:
``Qagency  P463  ISECG  [P580 start]  [P582 end]  S854 "address"  [S1065 "copy"]  S813 day``.
The sources on one line form one reference, so each source gets its own line (the tool merges
the repeated statement and adds the reference). P580 and P582 are the times of the claims the
membership's period adopts, at their precision (``/9`` year, ``/10`` month, ``/11`` day; a
window of days inside one month or year gives that month or year). A reference is the source's
own address (P854 reference URL) with, where its text was read in a copy, that copy (P1065
archive URL), and the day it was read (P813). A source known only through a copy (a report
read at docslib.org whose own address no page gives) is not cited: a copy is no reference URL.

Every build writes this as ``isecg-quickstatements.txt`` (in SHA256SUMS and the VoID, served
at /dumps/, kept in each release from 0.3.0 on) with ISECG's item left as PLACEHOLDER: the
project knows no Wikidata item of ISECG (shared/reference/wikidata.md finds none), and a real
but wrong QID would put every statement on another item. QuickStatements v1 reads a value as
an entity only when it is Q/P/L/M and digits, and a placeholder it cannot read as any value
becomes an "Unknown V1 value format" parse error and a statement without a value, which it
refuses to run (quickstatements.php, parseValueV1 and commandAddStatement, magnusmanske/
quickstatements): nothing is written until the placeholder is replaced. ``isecg-kg link
quickstatements --isecg-qid Q…`` writes the same lines with the item given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.config import ID_BASE, PREFIXES, WIKIDATA_ENTITY

FILE = "isecg-quickstatements.txt"
PLACEHOLDER = "REPLACE_WITH_ISECG_QID"  # QuickStatements v1 refuses it (see above)

ISECG, ORG, TIME = PREFIXES["isecg"], PREFIXES["org"], PREFIXES["time"]
DCT, SCHEMA, RDFS, XSD = PREFIXES["dcterms"], PREFIXES["schema"], PREFIXES["rdfs"], PREFIXES["xsd"]
RDF_TYPE = PREFIXES["rdf"] + "type"
GROUP_ISECG = ID_BASE + "group/isecg"
# The predicates the statements are read from (the store holds these triples only, and only
# of the resources relevant() finds).
READ = frozenset({
    RDF_TYPE, ORG + "organization", ORG + "member", ISECG + "adoptedClaim", ISECG + "claimedTime",
    TIME + "inXSDDate", TIME + "inXSDgYearMonth", TIME + "inXSDgYear", ISECG + "notBefore",
    ISECG + "notAfter", DCT + "source", DCT + "issued", SCHEMA + "url", SCHEMA + "archivedAt",
    ISECG + "retrieved", SCHEMA + "sameAs", RDFS + "label"})


@dataclass(frozen=True)
class Reference:
    url: str               # the source's own public address (P854)
    copy: str | None       # where its text was read, when in a copy (P1065)
    read: str | None       # the day it was read, YYYY-MM-DD (P813)


@dataclass(frozen=True)
class MembershipStatement:
    agency: str                 # our agency IRI
    label: str
    item: str                   # the agency's QID
    start: str | None           # a Wikidata time with precision, e.g. +2007-11-00T00:00:00Z/10
    end: str | None
    references: tuple[Reference, ...]  # oldest source first


@dataclass(frozen=True)
class Statements:
    statements: list[MembershipStatement]
    no_item: list[str]          # agencies without a QID (not linked), skipped
    copies_only: list[str]      # sources known only through a copy, not cited


def wikidata_time(value: str, datatype: str) -> str | None:
    """A QuickStatements time (``+YYYY-MM-DDT00:00:00Z/precision``) from an XSD value."""
    if datatype == XSD + "gYear" and re.fullmatch(r"\d{4}", value):
        return f"+{value}-00-00T00:00:00Z/9"
    if datatype == XSD + "gYearMonth" and re.fullmatch(r"\d{4}-\d{2}", value):
        return f"+{value}-00T00:00:00Z/10"
    if datatype in (XSD + "date", XSD + "dateTime") and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return f"+{value[:10]}T00:00:00Z/11"
    return None


def window_time(first: str, last: str) -> str | None:
    """The smallest calendar unit holding a window of days, as a Wikidata time: a window within
    one month is that month (/10), within one year that year (/9); a longer one says nothing."""
    if first[:7] == last[:7]:
        return f"+{first[:7]}-00T00:00:00Z/10"
    if first[:4] == last[:4]:
        return f"+{first[:4]}-00-00T00:00:00Z/9"
    return None


def relevant(piles: dict[str, list[ox.Triple]]) -> set[str]:
    """The subjects whose triples the queries below read, from the triples piled by predicate:
    ISECG's memberships, their members and adopted claims, those claims' times, and the
    documents citing memberships or claims. The store then holds a few percent of a large graph
    rather than the half of it that READ's predicates are (a million synthetic triples: 549k,
    370 MB at the build's peak)."""
    def pile(*predicates: str) -> Iterator[ox.Triple]:
        return (t for p in predicates for t in piles.get(p, ()))

    memberships = {t.subject.value for t in pile(ORG + "organization")
                   if t.object.value == GROUP_ISECG}
    near = memberships | {t.object.value for t in pile(ORG + "member", ISECG + "adoptedClaim")
                          if t.subject.value in memberships}
    return near | {t.object.value for t in pile(DCT + "source", ISECG + "claimedTime")
                   if t.subject.value in near}


def membership_statements(triples: Iterable[ox.Triple]) -> Statements:
    """The memberships of ISECG of the agencies linked to Wikidata, from the graph's triples.

    The start and end are those of the claims the membership's period adopts. References are
    the documents that list the membership or state its adopted dates, at their own address.
    """
    piles: dict[str, list[ox.Triple]] = {}
    for t in triples:  # each predicate read once
        if (p := t.predicate.value) in READ:
            piles.setdefault(p, []).append(t)
    keep = relevant(piles)
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for ts in piles.values() for t in ts
                 if t.subject.value in keep)
    times = f"<{TIME}inXSDDate>|<{TIME}inXSDgYearMonth>|<{TIME}inXSDgYear>"
    dates: dict[tuple[str, str], str] = {}
    for row in store.query(f"""
        SELECT ?m ?kind ?t ?first ?last WHERE {{
          ?m a <{ISECG}Membership> ; <{ORG}organization> <{GROUP_ISECG}> ;
             <{ISECG}adoptedClaim> ?c .
          ?c a ?kind .
          OPTIONAL {{ ?c <{ISECG}claimedTime>/({times}) ?t }}
          OPTIONAL {{ ?c <{ISECG}notBefore> ?first ; <{ISECG}notAfter> ?last }}
        }}"""):
        side = "end" if row["kind"].value.endswith("EndClaim") else "start"
        if row["t"] is not None:
            when = wikidata_time(row["t"].value, row["t"].datatype.value)
        elif row["first"] is not None:
            when = window_time(row["first"].value, row["last"].value)
        else:
            when = None
        if when:
            dates[(row["m"].value, side)] = when
    refs: dict[str, set[tuple[str, Reference]]] = {}
    copies_only: set[str] = set()
    for row in store.query(f"""
        SELECT ?m ?d ?url ?copy ?issued ?read WHERE {{
          ?m a <{ISECG}Membership> ; <{ORG}organization> <{GROUP_ISECG}> .
          ?m <{DCT}source>|(<{ISECG}adoptedClaim>/<{DCT}source>) ?d .
          OPTIONAL {{ ?d <{SCHEMA}url> ?url }}
          OPTIONAL {{ ?d <{SCHEMA}archivedAt> ?copy }}
          OPTIONAL {{ ?d <{DCT}issued> ?issued }}
          OPTIONAL {{ ?d <{ISECG}retrieved> ?read }}
        }}"""):
        if row["url"] is None:  # no address (the brochure), or only a copy's
            if row["copy"] is not None:
                copies_only.add(row["d"].value)
            continue
        refs.setdefault(row["m"].value, set()).add((
            row["issued"].value if row["issued"] is not None else "9999",
            Reference(row["url"].value, row["copy"].value if row["copy"] is not None else None,
                      row["read"].value if row["read"] is not None else None)))
    statements, no_item = [], []
    for row in store.query(f"""
        SELECT ?m ?agency (MIN(STR(?wd)) AS ?item) (MIN(STR(?name)) AS ?label) WHERE {{
          ?m a <{ISECG}Membership> ; <{ORG}member> ?agency ;
             <{ORG}organization> <{GROUP_ISECG}> .
          OPTIONAL {{ ?agency <{SCHEMA}sameAs> ?wd
                      FILTER (STRSTARTS(STR(?wd), "{WIKIDATA_ENTITY}Q")) }}
          OPTIONAL {{ ?agency <{RDFS}label> ?name FILTER (LANGMATCHES(LANG(?name), "en")) }}
        }} GROUP BY ?m ?agency"""):
        m, agency = row["m"].value, row["agency"].value
        if row["item"] is None:
            no_item.append(agency)
            continue
        statements.append(MembershipStatement(
            agency=agency, label=row["label"].value if row["label"] is not None else agency,
            item=row["item"].value.removeprefix(WIKIDATA_ENTITY),
            start=dates.get((m, "start")), end=dates.get((m, "end")),
            references=tuple(r for _, r in sorted(refs.get(m, ()),
                                                  key=lambda x: (x[0], x[1].url)))))
    statements.sort(key=lambda s: (s.label.casefold(), s.agency))
    return Statements(statements, sorted(no_item), sorted(copies_only))


def quickstatements(statements: list[MembershipStatement], isecg: str, *,
                    retrieved: date | None = None, skip: set[str] = frozenset()) -> list[str]:
    """QuickStatements v1 command lines, one per membership and reference (isecg: ISECG's QID,
    or PLACEHOLDER). ``retrieved`` stands in for the day read only for a source that records
    none; without it such a reference has no P813 (the build's file depends on no clock)."""
    lines = []
    for s in statements:
        if s.item in skip:
            continue
        head = [s.item, "P463", isecg]
        if s.start:
            head += ["P580", s.start]
        if s.end:
            head += ["P582", s.end]
        for ref in s.references or (None,):
            cited = []
            if ref is not None:
                cited = ["S854", f'"{ref.url}"']
                if ref.copy:
                    cited += ["S1065", f'"{ref.copy}"']
                day = ref.read or (retrieved.isoformat() if retrieved else None)
                if day:
                    cited += ["S813", f"+{day}T00:00:00Z/11"]
            lines.append("\t".join(head + cited))
    return lines


def write_quickstatements(triples: Iterable[ox.Triple], path: Path) -> None:
    """The build's file: every line, ISECG's item left as PLACEHOLDER."""
    lines = quickstatements(membership_statements(triples).statements, PLACEHOLDER)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
