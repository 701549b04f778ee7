"""What an agency's page and the group's page say in words, from the named queries.

An agency's page opens with a short summary (member since ..., took part in ..., chaired ...,
named present at ... or absent from ... meetings), built from the named query ``agency-record``;
the group's page shows its chairs (``chairs``) and working groups (``working-groups``) over time.
Dates keep the precision the graph gives them: a month is written as a month ("November 2007"),
a year as a year, a window as "between ... and ...", never as a first day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from isecg_kg.config import PREFIXES

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def human_date(lexical: str) -> str:
    """A day, month or year in words at its own precision; anything else as it is."""
    parts = lexical.split("-")
    if len(parts) == 1 and parts[0].isdigit():
        return parts[0]
    if len(parts) == 2 and all(p.isdigit() for p in parts) and 1 <= int(parts[1]) <= 12:
        return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 3 and all(p.isdigit() for p in parts) and 1 <= int(parts[1]) <= 12:
        return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return lexical


def human_when(text: str) -> str:
    """The ``when`` of agency-record in words: "2007-11", "a/b" (a window), "x until y"."""
    since, _, until = text.partition(" until ")
    if "/" in since:
        lo, _, hi = since.partition("/")
        words = f"between {human_date(lo)} and {human_date(hi)}"
    else:
        words = human_date(since) if since else ""
    return f"{words} until {human_date(until)}" if until else words


@dataclass(frozen=True)
class Item:
    """One row of a summary: what (a link), when (in words), the role, stated or implied."""

    iri: str
    label: str
    when: str = ""
    role: str = ""
    implied: bool = False


@dataclass
class AgencySummary:
    member: list[Item] = field(default_factory=list)
    products: list[Item] = field(default_factory=list)
    chairs: list[Item] = field(default_factory=list)
    leads: list[Item] = field(default_factory=list)
    attended: list[Item] = field(default_factory=list)
    absent: list[Item] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.member, self.products, self.chairs, self.leads, self.attended,
                    self.absent))


def run_named(store: ox.Store, name: str, **params: ox.NamedNode) -> list[dict[str, str]]:
    from isecg_kg.sparql.catalogue import named_queries

    text = named_queries()[name].text
    rows = store.query(text, use_default_graph_as_union=True,
                       substitutions={ox.Variable(k): v for k, v in params.items()})
    names = [v.value for v in rows.variables]
    return [{k: row[k].value for k in names if row[k] is not None} for row in rows]


def agency_summary(store: ox.Store, iri: str) -> AgencySummary | None:
    """The summary of an agency's record, or None when the IRI is not a space agency."""
    agency = ox.NamedNode(iri)
    kind = ox.NamedNode(PREFIXES["isecg"] + "SpaceAgency")
    rdf_type = ox.NamedNode(PREFIXES["rdf"] + "type")
    if next(iter(store.quads_for_pattern(agency, rdf_type, kind)), None) is None:
        return None
    out = AgencySummary()
    lists = {"member": out.member, "document": out.products, "lead": out.leads,
             "attended": out.attended, "absent": out.absent}
    seen = set()
    for r in run_named(store, "agency-record", agency=agency):
        key = (r["kind"], r["item"], r.get("role", ""))
        if r["kind"] not in lists or key in seen:
            continue
        seen.add(key)
        lists[r["kind"]].append(Item(r["item"], r.get("label", r["item"]),
                                     human_when(r.get("when", "")), r.get("role", ""),
                                     r.get("certainty") == "implied"))
    for c in chairs(store):  # with each end at its own precision, from the query chairs
        if c.agency == iri:
            out.chairs.append(Item(c.tenure, c.acronym, c.words, "chair", c.implied))
    return out


@dataclass(frozen=True)
class Chair:
    tenure: str
    agency: str
    acronym: str
    person: str
    begins: str
    ends: str
    held_on: str
    implied: bool

    @property
    def words(self) -> str:
        """'from 2012 until 30 September 2014', 'until 20 May 2009', 'named on 2021', ..."""
        if self.begins or self.ends:
            span = " ".join(x for x in (f"from {self.begins}" if self.begins else "",
                                        f"until {self.ends}" if self.ends else "") if x)
            return span
        return f"named as chair on {self.held_on}" if self.held_on else ""


def chairs(store: ox.Store) -> list[Chair]:
    """The tenures of ISECG's chair (the named query chairs), dates in words."""
    out = []
    for r in run_named(store, "chairs"):
        held = ", ".join(human_date(x.split("/")[0]) + (f" to {human_date(x.split('/')[1])}"
                                                        if "/" in x else "")
                         for x in r.get("heldOn", "").split(", ") if x)
        out.append(Chair(r["tenure"], r["agency"], r["acronym"], r.get("person", ""),
                         human_date(r.get("begins", "")), human_date(r.get("ends", "")),
                         held, r.get("certainty") == "implied"))
    return out


@dataclass(frozen=True)
class Unit:
    iri: str
    label: str
    acronym: str
    kind: str
    years: tuple[str, ...]
    produced: str
    leads: str


@dataclass
class GroupOverview:
    chairs: list[Chair] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)


def group_overview(store: ox.Store, iri: str) -> GroupOverview | None:
    """The chairs and working groups of the group ISECG, or None for any other IRI."""
    if iri != PREFIXES["group"] + "isecg":
        return None
    out = GroupOverview(chairs=chairs(store))
    units: dict[str, dict] = {}
    for r in run_named(store, "working-groups"):
        u = units.setdefault(r["unit"], {"label": r["label"], "acronym": r.get("acronym", ""),
                                         "kind": r.get("kind", ""), "years": set(),
                                         "produced": r.get("produced", ""),
                                         "leads": r.get("leads", "")})
        if r.get("year"):
            u["years"].add(r["year"])
    for unit_iri, u in units.items():
        out.units.append(Unit(unit_iri, u["label"], u["acronym"], u["kind"],
                              tuple(sorted(u["years"])), u["produced"], u["leads"]))
    out.units.sort(key=lambda u: (u.years[0] if u.years else "9999", u.label))
    return out
