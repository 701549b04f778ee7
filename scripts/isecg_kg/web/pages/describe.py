"""What the graph says about one entity: pure functions over a pyoxigraph Store.

A description holds every asserted triple whose subject is the entity, the labels of what those
triples point at, a bounded list of incoming links, and the provenance (period and sources) of
the entity's memberships and contributions. The store is only read. Triples of the inferred
graph are kept apart: pages show asserted facts and list what was inferred separately (types,
and statements such as org:memberOf), and RDF documents carry the same two parts
(``document``), so a client can tell what the sources say from what a reasoner added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from isecg_kg.config import (
    GRAPH_INFERRED,
    GRAPH_ONTOLOGY,
    ONTOLOGY_IRI,
    ONTOLOGY_NS,
    WIKIDATA_ENTITY,
)
from isecg_kg.rdf import DCT, ISECG, ORG, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, TIME, qname

RDF_TYPE = ox.NamedNode(RDF + "type")
RDFS_LABEL = ox.NamedNode(RDFS + "label")
SKOS_PREF = ox.NamedNode(SKOS + "prefLabel")
SAME_AS = ox.NamedNode(SCHEMA + "sameAs")  # identity links (the ontology says why)
SKOS_SCOPE = ox.NamedNode(SKOS + "scopeNote")
DCT_TITLE = ox.NamedNode(DCT + "title")
DCT_SOURCE = ox.NamedNode(DCT + "source")
DCT_ISSUED = ox.NamedNode(DCT + "issued")
ACRONYM = ox.NamedNode(ISECG + "acronym")
DATE_APPROX = ox.NamedNode(ISECG + "dateIsApproximate")
ORG_MEMBER = ox.NamedNode(ORG + "member")
ORG_ORGANIZATION = ox.NamedNode(ORG + "organization")
ORG_MEMBER_DURING = ox.NamedNode(ORG + "memberDuring")
ORG_ROLE = ox.NamedNode(ORG + "role")
MEMBERSHIP = ox.NamedNode(ISECG + "Membership")
PROV_AGENT = ox.NamedNode(PROV + "agent")
PROV_ROLE = ox.NamedNode(PROV + "hadRole")
TIME_BEGINNING = ox.NamedNode(TIME + "hasBeginning")
OWL_VERSION_IRI = ox.NamedNode(OWL + "versionIRI")
QUALIFIED = tuple(ox.NamedNode(ISECG + p) for p in (
    "qualifiedContribution", "qualifiedAuthorship", "qualifiedPublication"))
_INFERRED = ox.NamedNode(GRAPH_INFERRED)

# Label fallback chain (see label()): property, required language ("" = any, None = untagged ok).
# A label in another language (CNES's French name) beats the acronym: labels are full names.
_LABEL_CHAIN = ((SKOS_PREF, "en"), (RDFS_LABEL, "en"), (DCT_TITLE, "en"), (DCT_TITLE, ""),
                (SKOS_PREF, ""), (RDFS_LABEL, ""), (ACRONYM, ""))
INCOMING_LIMIT = 50

Term = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass(frozen=True)
class Ref:
    """A term with the text to show for it."""

    term: Term
    label: str

    @property
    def iri(self) -> str | None:
        return self.term.value if isinstance(self.term, ox.NamedNode) else None


@dataclass(frozen=True)
class Statement:
    predicate: Ref
    value: Ref


@dataclass(frozen=True)
class Incoming:
    subject: Ref
    predicate: Ref


@dataclass(frozen=True)
class Qualified:
    """A membership or contribution node, with who/what it relates and where that is stated."""

    node: Ref
    other: Ref | None          # the organization (from a member) or the member (from the group)
    role: Ref | None           # contribution role, or None for memberships
    document: Ref | None       # the document a contribution is to
    period: Ref | None         # org:memberDuring, when a source states it
    begins: str | None         # lexical beginning of the period, e.g. "2007-11"
    sources: tuple[Ref, ...]
    note: str | None = None


@dataclass
class Description:
    iri: str
    label: str
    types: list[Ref] = field(default_factory=list)
    inferred_types: list[Ref] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    incoming: list[Incoming] = field(default_factory=list)
    incoming_total: int = 0
    memberships: list[Qualified] = field(default_factory=list)
    contributions: list[Qualified] = field(default_factory=list)
    wikidata: list[str] = field(default_factory=list)
    acronym: str | None = None  # shown beside the full name
    inferred: list[Statement] = field(default_factory=list)  # by the build's reasoner, not types


def _asserted(store: ox.Store, s=None, p=None, o=None):
    """Distinct asserted triples matching a pattern (all graphs except the inferred one)."""
    seen = set()
    for q in store.quads_for_pattern(s, p, o, None):
        if q.graph_name == _INFERRED:
            continue
        t = q.triple
        if t not in seen:
            seen.add(t)
            yield t


def _values(store: ox.Store, s: Term, p: ox.NamedNode) -> list[Term]:
    return sorted({t.object for t in _asserted(store, s, p)}, key=str)


def compact(iri: str) -> str:
    """A prefixed name for an IRI when a project prefix covers it (its local part without '/'),
    else the IRI."""
    return qname(iri, lambda local: "/" not in local) or iri


def label(store: ox.Store, term: Term) -> str:
    """Text for a term: skos:prefLabel@en, rdfs:label@en, dcterms:title, acronym, then the IRI.

    Literals are shown as their lexical form; IRIs without any label as a prefixed name.
    """
    if isinstance(term, ox.Literal):
        return term.value
    for prop, lang in _LABEL_CHAIN:
        for o in _values(store, term, prop):
            if isinstance(o, ox.Literal) and (not lang or o.language == lang):
                return o.value
    return compact(term.value) if isinstance(term, ox.NamedNode) else str(term)


def ref(store: ox.Store, term: Term) -> Ref:
    return Ref(term, label(store, term))


def kind(store: ox.Store, iri: str) -> str | None:
    """'ontology' for the ontology IRI (or its version IRI), 'entity' for any other IRI that is
    the subject of an asserted triple, None for an IRI the graph does not describe."""
    node = ox.NamedNode(iri)
    if iri == ONTOLOGY_IRI or any(_asserted(store, ox.NamedNode(ONTOLOGY_IRI), OWL_VERSION_IRI,
                                            node)):
        return "ontology"
    if next(_asserted(store, node), None) is not None:
        return "entity"
    return None


def _sources(store: ox.Store, node: Term) -> tuple[Ref, ...]:
    return tuple(ref(store, s) for s in _values(store, node, DCT_SOURCE))


def _first(store: ox.Store, s: Term, p: ox.NamedNode) -> Term | None:
    values = _values(store, s, p)
    return values[0] if values else None


def _note(store: ox.Store, node: Term) -> str | None:
    notes = [o.value for o in _values(store, node, SKOS_SCOPE) if isinstance(o, ox.Literal)]
    return notes[0] if notes else None


def membership(store: ox.Store, node: Term, *, from_member: bool) -> Qualified:
    """One isecg:Membership: the other party, its period (if stated) and its sources."""
    other = _first(store, node, ORG_ORGANIZATION if from_member else ORG_MEMBER)
    period = _first(store, node, ORG_MEMBER_DURING)
    begins = None
    if period is not None:
        start = _first(store, period, TIME_BEGINNING)
        if start is not None:
            lexical = [o.value for t in _asserted(store, start) for o in [t.object]
                       if isinstance(o, ox.Literal) and t.predicate.value.startswith(
                           TIME + "inXSD")]
            begins = lexical[0] if lexical else None
    return Qualified(node=ref(store, node), other=ref(store, other) if other else None,
                     role=None, document=None, period=ref(store, period) if period else None,
                     begins=begins, sources=_sources(store, node), note=_note(store, node))


def _in_role(store: ox.Store, node: Term) -> bool:
    """A membership in a role (org:role: a chair's or lead's tenure) is not a membership of the
    group; pages show tenures with the agency's record and the group's chairs instead."""
    return next(_asserted(store, node, ORG_ROLE), None) is not None


def memberships(store: ox.Store, iri: str) -> list[Qualified]:
    """Memberships the entity takes part in, as member or as organization (not tenures)."""
    node = ox.NamedNode(iri)
    out = [membership(store, t.subject, from_member=True)
           for t in _asserted(store, None, ORG_MEMBER, node) if not _in_role(store, t.subject)]
    out += [membership(store, t.subject, from_member=False)
            for t in _asserted(store, None, ORG_ORGANIZATION, node)
            if not _in_role(store, t.subject)]
    if any(True for _ in _asserted(store, node, RDF_TYPE, MEMBERSHIP)):
        out.append(membership(store, node, from_member=True))
    return sorted(out, key=lambda q: ((q.other.label.lower() if q.other else ""), q.node.label))


def contribution(store: ox.Store, node: Term, document: Term | None) -> Qualified:
    agent = _first(store, node, PROV_AGENT)
    role = _first(store, node, PROV_ROLE)
    return Qualified(node=ref(store, node), other=ref(store, agent) if agent else None,
                     role=ref(store, role) if role else None,
                     document=ref(store, document) if document else None, period=None,
                     begins=None, sources=_sources(store, node), note=_note(store, node))


def contributions(store: ox.Store, iri: str) -> list[Qualified]:
    """Authorships, contributions and publications the entity is agent of, or, for a document,
    the ones it has."""
    node = ox.NamedNode(iri)
    out = []
    for t in _asserted(store, None, PROV_AGENT, node):
        docs = [d.subject for p in QUALIFIED for d in _asserted(store, None, p, t.subject)]
        if not docs:  # a participation in an event (also prov:agent), not a contribution
            continue
        out.append(contribution(store, t.subject, docs[0]))
    for p in QUALIFIED:
        for t in _asserted(store, node, p):
            out.append(contribution(store, t.object, node))
    return sorted(set(out), key=lambda q: (q.document.label if q.document else "",
                                           q.role.label if q.role else "",
                                           q.other.label if q.other else ""))


def describe(store: ox.Store, iri: str, *, incoming_limit: int = INCOMING_LIMIT) -> Description:
    """Everything a page about the entity shows (see the module docstring)."""
    node = ox.NamedNode(iri)
    acronyms = [o.value for o in _values(store, node, ACRONYM) if isinstance(o, ox.Literal)]
    d = Description(iri=iri, label=label(store, node), acronym=min(acronyms, default=None))
    asserted_types = set()
    for t in sorted(_asserted(store, node), key=lambda t: (t.predicate.value, str(t.object))):
        if t.predicate == RDF_TYPE:
            asserted_types.add(t.object)
            d.types.append(ref(store, t.object))
            continue
        d.statements.append(Statement(ref(store, t.predicate), ref(store, t.object)))
        if (t.predicate == SAME_AS and isinstance(t.object, ox.NamedNode)
                and t.object.value.startswith(WIKIDATA_ENTITY)):
            d.wikidata.append(t.object.value)
    inferred = {q.object for q in store.quads_for_pattern(node, RDF_TYPE, None, _INFERRED)}
    d.inferred_types = sorted((ref(store, t) for t in inferred - asserted_types),
                              key=lambda r: r.label.lower())
    incoming = sorted(_asserted(store, None, None, node),
                      key=lambda t: (t.predicate.value, str(t.subject)))
    d.incoming_total = len(incoming)
    d.incoming = [Incoming(ref(store, t.subject), ref(store, t.predicate))
                  for t in incoming[:incoming_limit]]
    d.memberships = memberships(store, iri)
    d.contributions = contributions(store, iri)
    d.inferred = [Statement(ref(store, t.predicate), ref(store, t.object))
                  for t in inferred_triples(store, iri) if t.predicate != RDF_TYPE]
    return d


def inferred_triples(store: ox.Store, iri: str) -> list[ox.Triple]:
    """What the reasoner added about the entity (its inferred graph), minus what is asserted."""
    node = ox.NamedNode(iri)
    asserted = set(_asserted(store, node))
    return sorted({q.triple for q in store.quads_for_pattern(node, None, None, _INFERRED)}
                  - asserted, key=lambda t: (t.predicate.value, str(t.object)))


def document(store: ox.Store, iri: str) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """(asserted, inferred) triples of the entity's RDF document: what its page shows. Asserted:
    ``triples``, plus the records of its memberships and contributions (the other party, the
    period and its beginning, the role, the sources the page cites). Inferred: its statements
    in the inferred graph (types, org:memberOf, ...). Labels of everything mentioned are in the
    asserted part, so a client can show them without more requests."""
    asserted = triples(store, iri)
    seen = set(asserted)
    records = [q.node.term for q in memberships(store, iri) + contributions(store, iri)
               if q.node.iri != iri]
    extra: list[ox.Triple] = []
    for node in records:
        for t in _asserted(store, node):
            extra.append(t)
            if t.predicate == ORG_MEMBER_DURING:  # the period and its beginning, as shown
                for p in _asserted(store, t.object):
                    extra.append(p)
                    if p.predicate == TIME_BEGINNING:
                        extra += list(_asserted(store, p.object))
    inferred = inferred_triples(store, iri)
    linked = {t.object for t in extra + inferred if isinstance(t.object, ox.NamedNode)}
    linked |= {t.predicate for t in extra + inferred} | {t.subject for t in extra}
    extra += [t for other in sorted(linked, key=str) for prop in (SKOS_PREF, RDFS_LABEL)
              for t in _asserted(store, other, prop)]
    for t in extra:
        if t not in seen:
            seen.add(t)
            asserted.append(t)
    return asserted, inferred


def triples(store: ox.Store, iri: str, *, incoming_limit: int = INCOMING_LIMIT) -> list[ox.Triple]:
    """The RDF document of an entity: its asserted triples, a bounded set of incoming links, and
    the labels of every IRI those mention, so a client can show them without more requests."""
    node = ox.NamedNode(iri)
    out = list(_asserted(store, node))
    incoming = sorted(_asserted(store, None, None, node), key=str)[:incoming_limit]
    out += incoming
    seen = set(out)
    linked = {t.object for t in out if isinstance(t.object, ox.NamedNode)}
    linked |= {t.subject for t in incoming} | {t.predicate for t in out}
    linked.discard(node)
    for other in sorted(linked, key=str):
        for prop in (SKOS_PREF, RDFS_LABEL):
            for t in _asserted(store, other, prop):
                if t not in seen:
                    seen.add(t)
                    out.append(t)
    return out


def ontology_triples(store: ox.Store) -> list[ox.Triple]:
    """The ontology's own triples: those of its named graph when the store has one, else every
    asserted triple whose subject is the ontology IRI or a term in its namespace."""
    graph = ox.NamedNode(GRAPH_ONTOLOGY)
    out = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
    if out:
        return out
    return [t for t in _asserted(store) if isinstance(t.subject, ox.NamedNode) and (
        t.subject.value == ONTOLOGY_IRI or t.subject.value.startswith(ONTOLOGY_NS))]


def instances(store: ox.Store, cls: str) -> list[Ref]:
    """Asserted instances of a class, sorted by label."""
    found = {t.subject for t in _asserted(store, None, RDF_TYPE, ox.NamedNode(cls))
             if isinstance(t.subject, ox.NamedNode)}
    return sorted((ref(store, s) for s in found), key=lambda r: r.label.lower())


def class_counts(store: ox.Store, namespace: str) -> list[tuple[Ref, int]]:
    """Number of asserted instances per class of a namespace, largest first."""
    counts: dict[ox.NamedNode, set] = {}
    for t in _asserted(store, None, RDF_TYPE):
        if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(namespace):
            counts.setdefault(t.object, set()).add(t.subject)
    rows = [(ref(store, c), len(s)) for c, s in counts.items()]
    return sorted(rows, key=lambda r: (-r[1], r[0].label))
