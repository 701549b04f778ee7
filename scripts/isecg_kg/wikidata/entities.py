"""Our side of the links: the linkable entities with their names, country and Wikidata links,
and the report lines about them."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from isecg_kg.config import ID_BASE, PREFIXES, WIKIDATA_ENTITY

WD = WIKIDATA_ENTITY
WDT = "http://www.wikidata.org/prop/direct/"
ISECG = PREFIXES["isecg"]
SKOS = PREFIXES["skos"]
SAME_AS = PREFIXES["schema"] + "sameAs"  # identity links (see the ontology's comment)
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
SCHEMA_ORG = "http://schema.org/"  # Wikidata's RDF uses http://schema.org/, not https
GROUP_ISECG = ID_BASE + "group/isecg"

QID_RE = re.compile(r"^Q[1-9][0-9]*$")

# Classes whose members can have a Wikidata item; "linkable" in the coverage report.
LINKABLE_CLASSES: dict[str, str] = {
    ISECG + "SpaceAgency": "agency",
    ISECG + "CoordinationGroup": "group",
    ISECG + "Country": "country",
    ISECG + "Region": "region",
    ISECG + "Destination": "destination",
    ISECG + "SpaceStation": "space station",
    ISECG + "Person": "person",
    ISECG + "Roadmap": "roadmap",
}
# Our name properties, strongest first.
NAME_PROPERTIES = (RDFS + "label", SKOS + "prefLabel", ISECG + "acronym", SKOS + "altLabel",
                   ISECG + "nativeName", "http://xmlns.com/foaf/0.1/name",
                   PREFIXES["dcterms"] + "title")
ACRONYM_PROPERTIES = (ISECG + "acronym",)


@dataclass(frozen=True, order=True)
class Problem:
    """One line of the check: ``[SEVERITY] file: entity: message``."""

    severity: str  # ERROR | WARNING | INFO | SUGGEST
    file: str
    entity: str
    message: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.file}: {self.entity}: {self.message}"


@dataclass
class CheckReport:
    endpoint: str
    checked: int
    problems: list[Problem] = field(default_factory=list)   # ERROR / WARNING about links
    unlinked: list[Problem] = field(default_factory=list)   # INFO: entities without a link
    suggestions: list[Problem] = field(default_factory=list)  # SUGGEST: candidates

    @property
    def agrees(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        return [str(p) for p in (*self.problems, *self.unlinked, *self.suggestions)]


@dataclass
class Entity:
    iri: str
    kind: str                      # agency, country, ...
    file: str                      # where it is described
    names: list[tuple[str, str]] = field(default_factory=list)  # (text, language), strongest first
    acronyms: list[str] = field(default_factory=list)
    country: str | None = None     # our country IRI (agencies)
    links: list[tuple[str, str]] = field(default_factory=list)  # (Wikidata IRI, file)

    @property
    def qids(self) -> list[str]:
        return [iri[len(WD):] for iri, _ in self.links if iri.startswith(WD)]


def _store(sources):
    import pyoxigraph as ox

    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object)
                 for t in sources.triples("ontology", "data"))
    return store


def read_entities(sources) -> dict[str, Entity]:
    """Entities of the linkable classes with their names, country and Wikidata links."""
    store = _store(sources)
    where = sources.file_of_subject()
    triple_file: dict[tuple[str, str, str], str] = {}
    for f in sources.files:
        rel = sources.relative(f.path)
        for t in f.triples:
            if t.predicate.value == SAME_AS:
                triple_file.setdefault((t.subject.value, t.predicate.value, t.object.value), rel)

    entities: dict[str, Entity] = {}
    values = " ".join(f"(<{c}> \"{k}\")" for c, k in LINKABLE_CLASSES.items())
    for row in store.query(f"""
        SELECT ?e ?kind WHERE {{
          VALUES (?class ?kind) {{ {values} }}
          ?e a/<{RDFS}subClassOf>* ?class .
          FILTER(isIRI(?e))
        }} ORDER BY ?e"""):
        iri = row["e"].value
        if iri not in entities:
            entities[iri] = Entity(iri=iri, kind=row["kind"].value, file=where.get(iri, "?"))

    for prop in NAME_PROPERTIES:
        for row in store.query(f"SELECT ?e ?n WHERE {{ ?e <{prop}> ?n FILTER(isLiteral(?n)) }}"):
            e = entities.get(row["e"].value)
            if e is None:
                continue
            pair = (row["n"].value, row["n"].language or "")
            if pair not in e.names:
                e.names.append(pair)
            if prop in ACRONYM_PROPERTIES and pair[0] not in e.acronyms:
                e.acronyms.append(pair[0])
    for row in store.query(f"SELECT ?e ?c WHERE {{ ?e <{ISECG}country> ?c }}"):
        e = entities.get(row["e"].value)
        if e is not None and e.country is None:
            e.country = row["c"].value
    for row in store.query(f"SELECT ?e ?w WHERE {{ ?e <{SAME_AS}> ?w FILTER(isIRI(?w)) }}"):
        e = entities.get(row["e"].value)
        w = row["w"].value
        if e is not None and "wikidata.org/" in w:
            e.links.append((w, triple_file.get((e.iri, SAME_AS, w), e.file)))
    return entities


def _link_records(sources) -> dict[tuple[str, str], str]:
    """(subject, target) of every isecg:LinkRecord -> the file it is in."""
    out: dict[tuple[str, str], str] = {}
    for f in sources.files:
        rel = sources.relative(f.path)
        subj: dict[str, str] = {}
        targ: dict[str, str] = {}
        for t in f.triples:
            if t.predicate.value == ISECG + "linkSubject":
                subj[t.subject.value] = t.object.value
            elif t.predicate.value == ISECG + "linkTarget":
                targ[t.subject.value] = t.object.value
        for rec, s in subj.items():
            if rec in targ:
                out[(s, targ[rec])] = rel
    return out


def coverage(entities: dict[str, Entity]) -> dict[str, tuple[int, int]]:
    """kind -> (linked, total) over the linkable classes."""
    linked: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for e in entities.values():
        total[e.kind] += 1
        if e.qids:
            linked[e.kind] += 1
    return {k: (linked[k], total[k]) for k in sorted(total)}


def _batches(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _qid(iri: str) -> str:
    return iri.removeprefix(WD)


def _sparql_string(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r"))
    return f'"{escaped}"'
