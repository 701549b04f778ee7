"""Reasoning: the entailments the ontology needs, returned apart from the asserted triples.

Two reasoners give the same answer on our data (a test holds them to it):

* ``rules`` (default): the OWL RL rules our ontology actually uses (subclass, subproperty,
  domain, range, inverse, two-step property chains) as SPARQL CONSTRUCT queries in rules/*.rq,
  run by pyoxigraph to a fixpoint. It grows linearly with the data.
* ``owlrl``: owlrl's full OWL RL closure, the reference. It grows much faster than linearly
  (1.3 s on 2k triples), so it runs in a child process killed at the time budget.

Both work on copies and never mutate their input. An inconsistency (disjointness clash, an
``owl:Nothing`` member, two values of a functional property) raises InconsistencyError.
Identity links use schema:sameAs, never owl:sameAs, so no reasoner copies statements across
our IRIs and Wikidata's.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import pyoxigraph as ox

from isecg_kg.config import REASON_BUDGET, RULES_DIR
from isecg_kg.errors import BuildError, InconsistencyError
from isecg_kg.rdf import OWL, RDF, RDF_TYPE, RDFS, XSD

MAX_ROUNDS = 20
INFERRED_GRAPH = "urn:isecg-kg:inferred"
CHAINED_GRAPH = "urn:isecg-kg:chained-"  # + the round
ASSERTED_GRAPH = "urn:isecg-kg:asserted"
RULE_ORDER = ("owl-inverse", "owl-chain", "rdfs-subproperty", "rdfs-domain", "rdfs-range",
              "rdfs-subclass")


def _rules(prefix: str) -> list[tuple[str, str]]:
    return [(p.stem, p.read_text()) for p in sorted(RULES_DIR.glob(f"{prefix}*.rq"))]


def check_consistency(store: ox.Store) -> None:
    problems = []
    for name, text in _rules("check-"):
        for row in store.query(text, use_default_graph_as_union=True):
            problems.append(f"{name}: {row['x']} {row['c1']} {row['c2']}")
    if problems:
        raise InconsistencyError("the graph is inconsistent:\n  " + "\n  ".join(problems))


@dataclass
class Schema:
    """The ontology's axioms that the rules use, closed in Python (the schema is small)."""

    super_classes: dict[str, set[str]]      # class -> itself and all its superclasses
    entailed: dict[str, set[tuple[str, bool]]]  # property -> (property, same direction?) it entails
    domains: dict[str, set[str]]            # property -> classes its subjects belong to
    ranges: dict[str, set[str]]             # property -> classes its (resource) objects belong to
    chains: list[tuple[str, str, str]]      # (property, first step, second step)
    checked: set[str]                       # classes check-disjoint.rq reads the members of


def _closure(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def read_schema(store: ox.Store) -> Schema:
    def pairs(pred: str) -> list[tuple[str, str]]:
        return [(q.subject.value, q.object.value) for q in store.quads_for_pattern(
            None, ox.NamedNode(pred), None) if isinstance(q.subject, ox.NamedNode)
            and isinstance(q.object, ox.NamedNode)]

    sub_c: dict[str, set[str]] = {}
    for a, b in pairs(RDFS + "subClassOf"):
        sub_c.setdefault(a, set()).add(b)
    for a, b in pairs(OWL + "equivalentClass"):
        sub_c.setdefault(a, set()).add(b)
        sub_c.setdefault(b, set()).add(a)
    sub_p: dict[str, set[str]] = {}
    for a, b in pairs(RDFS + "subPropertyOf"):
        sub_p.setdefault(a, set()).add(b)
    for a, b in pairs(OWL + "equivalentProperty"):
        sub_p.setdefault(a, set()).add(b)
        sub_p.setdefault(b, set()).add(a)
    inverse: dict[str, set[str]] = {}
    for a, b in pairs(OWL + "inverseOf"):
        inverse.setdefault(a, set()).add(b)
        inverse.setdefault(b, set()).add(a)
    classes = set(sub_c) | {c for v in sub_c.values() for c in v}
    super_classes = {c: _closure(sub_c, c) for c in classes}

    def sup(c: str) -> set[str]:
        return super_classes.get(c, {c})

    chains = []
    chain_query = (f"SELECT ?p ?p1 ?p2 WHERE {{ ?p <{OWL}propertyChainAxiom> ?l . "
                   f"?l <{RDF}first> ?p1 ; <{RDF}rest> ?r . ?r <{RDF}first> ?p2 ; "
                   f"<{RDF}rest> <{RDF}nil> }}")
    for row in store.query(chain_query, use_default_graph_as_union=True):
        chains.append((row["p"].value, row["p1"].value, row["p2"].value))
    properties = (set(sub_p) | {p for v in sub_p.values() for p in v} | set(inverse)
                  | {c[0] for c in chains})
    entailed: dict[str, set[tuple[str, bool]]] = {}
    for p in properties:
        # (q, True): x p y entails x q y; (q, False): it entails y q x.
        seen, todo = {(p, True)}, [(p, True)]
        while todo:
            q, forward = todo.pop()
            for nxt in [(s_, forward) for s_ in sub_p.get(q, ())] + \
                       [(i, not forward) for i in inverse.get(q, ())]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        entailed[p] = seen
    domains: dict[str, set[str]] = {}
    ranges: dict[str, set[str]] = {}
    for p, c in pairs(RDFS + "domain"):
        domains.setdefault(p, set()).update(sup(c))
    for p, c in pairs(RDFS + "range"):
        ranges.setdefault(p, set()).update(sup(c))
    checked = {c for pair in pairs(OWL + "disjointWith") for c in pair} | {OWL + "Nothing"}
    return Schema(super_classes, entailed, domains, ranges, chains, checked)


def _values(variables: str, rows: Iterable[tuple]) -> str:
    body = " ".join("(" + " ".join(v if v in ("true", "false") else f"<{v}>" for v in r) + ")"
                    for r in rows)
    return f"VALUES ({variables}) {{ {body} }}"


def reason_rules(triples: Iterable[ox.Triple], budget: float = REASON_BUDGET) -> set[ox.Triple]:
    """The triples entailed by the rule set (rules/*.rq) and not asserted."""
    asserted = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).splitlines(keepends=True)
    return {q.triple for doc in _entailments(asserted, budget)
            for q in ox.parse(doc, format=ox.RdfFormat.N_TRIPLES)}


def reason_lines(asserted: list[bytes], reasoner: str = "rules",
                 budget: float = REASON_BUDGET) -> list[bytes]:
    """The entailments of the asserted N-Triples lines as sorted, distinct N-Triples lines
    (what the build writes).

    The rules reasoner parses the lines and hands the entailments over as bytes inside
    pyoxigraph, which releases the GIL meanwhile: the million-odd triples of a large graph never
    become Python objects, and the build serializes the asserted graph on another thread.
    """
    if reasoner == "owlrl":
        from isecg_kg.builder.serialize import graph_lines

        triples = [q.triple for q in ox.parse(b"".join(asserted), format=ox.RdfFormat.N_TRIPLES)]
        return graph_lines(reason_owlrl(triples, budget))
    docs = _entailments(asserted, budget)
    lines: set[bytes] = set()
    while docs:  # each document freed once split
        lines.update(docs.pop().splitlines(keepends=True))
    return sorted(lines)


def _load_asserted(store: ox.Store, lines: list[bytes]) -> None:
    """Put N-Triples lines into ASSERTED_GRAPH, keeping their blank-node labels.

    Store.load parses without the GIL but relabels blank nodes, which would break the link
    between the dumps and the entailments; so the (rare) lines that mention a blank node go in
    through ox.parse, which keeps labels, and only the rest through Store.load.
    """
    graph = ox.NamedNode(ASSERTED_GRAPH)
    store.load(b"".join(line for line in lines if b"_:" not in line),
               format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    store.extend(ox.Quad(q.subject, q.predicate, q.object, graph) for q in ox.parse(
        b"".join(line for line in lines if b"_:" in line), format=ox.RdfFormat.N_TRIPLES))


# The predicates of the axioms read_schema reads (rdf:first and rdf:rest: property chains).
SCHEMA_PREDICATES = frozenset(f"<{iri}>".encode() for iri in (
    RDFS + "subClassOf", OWL + "equivalentClass", RDFS + "subPropertyOf",
    OWL + "equivalentProperty", OWL + "inverseOf", OWL + "propertyChainAxiom", RDF + "first",
    RDF + "rest", RDFS + "domain", RDFS + "range", OWL + "disjointWith"))
FUNCTIONAL = f" <{OWL}FunctionalProperty> .\n".encode()


def _read_rules_input(store: ox.Store, lines: list[bytes]) -> Schema:
    """Load the schema's axioms, read it, then load only the triples some rule or check reads:
    rdf:type and the properties the schema says anything of (a third of a large synthetic
    graph is neither, and the store is the reasoner's largest allocation). The lines are split
    once, into their predicates' piles."""
    piles: dict[bytes, list[bytes]] = {}
    for line in lines:
        piles.setdefault(line.split(b" ", 2)[1], []).append(line)  # a subject holds no space

    def lines_of(predicates) -> list[bytes]:
        return [line for p in sorted(predicates) for line in piles.get(p, ())]

    _load_asserted(store, lines_of(SCHEMA_PREDICATES))
    schema = read_schema(store)
    rdf_type = f"<{RDF_TYPE}>".encode()
    read = {f"<{p}>".encode() for p in (
        set(schema.domains) | set(schema.ranges)
        | {q for p, es in schema.entailed.items() for q, _ in es | {(p, True)}}
        | {p for chain in schema.chains for p in chain})}
    read |= {line.split(b" ", 1)[0] for line in piles.get(rdf_type, ())
             if line.endswith(FUNCTIONAL)}
    _load_asserted(store, lines_of((read | {rdf_type}) - SCHEMA_PREDICATES))  # schema: loaded
    return schema


def _entailments(asserted: list[bytes], budget: float) -> list[bytes]:
    """What the rules entail from the asserted N-Triples lines and is not asserted, as
    N-Triples documents (one triple may occur in several).

    The schema's closures (class and property hierarchies, inverses, two-step chains, domains,
    ranges) are computed once in Python; each is then applied to the data in one pass by
    SPARQL inside pyoxigraph. Only chains need repeating, while they keep producing; each round
    goes into a graph of its own, so the next round and the inverses see just what it added.
    Types feed no other rule, so they are constructed rather than stored, except those of the
    classes the consistency check reads. The result equals the fixpoint of rules/*.rq (and
    owlrl's closure on these terms: tested).
    """
    store = ox.Store()
    schema = _read_rules_input(store, asserted)
    deadline = time.monotonic() + budget
    A, D = f"<{ASSERTED_GRAPH}>", f"<{INFERRED_GRAPH}>"

    def in_time(result):
        if time.monotonic() > deadline:
            raise BuildError(f"reasoning exceeded its budget of {budget:g} s "
                             "(raise --reason-budget)")
        return result

    def spread(source: str) -> None:
        """Properties: subproperties and inverses, from the triples of graph `source`."""
        rows = [(p, q, "true" if fwd else "false") for p, es in sorted(schema.entailed.items())
                for q, fwd in sorted(es) if (q, fwd) != (p, True)]
        if not rows:
            return
        in_time(store.update(f"""INSERT {{ GRAPH {D} {{ ?a ?q ?b }} }} WHERE {{
              GRAPH {source} {{ ?s ?p ?o }}
              {_values("?p ?q ?fwd", rows)}
              BIND (IF(?fwd, ?s, ?o) AS ?a) BIND (IF(?fwd, ?o, ?s) AS ?b)
              FILTER (!isLiteral(?a))
              FILTER NOT EXISTS {{ GRAPH {A} {{ ?a ?q ?b }} }} }}"""))

    spread(A)
    inferred = [ox.NamedNode(INFERRED_GRAPH)]
    for k in range(MAX_ROUNDS):
        if not schema.chains:
            break
        chained = ox.NamedNode(f"{CHAINED_GRAPH}{k}")
        in_time(store.update(f"""INSERT {{ GRAPH {chained} {{ ?x ?p ?z }} }} WHERE {{
              {_values("?p ?p1 ?p2", sorted(schema.chains))}
              GRAPH ?g1 {{ ?x ?p1 ?y }} GRAPH ?g2 {{ ?y ?p2 ?z }}
              FILTER NOT EXISTS {{ GRAPH ?g3 {{ ?x ?p ?z }} }} }}"""))
        if next(store.quads_for_pattern(None, None, None, chained), None) is None:
            break
        inferred.append(chained)
        spread(str(chained))
    else:
        raise BuildError(f"property chains did not reach a fixpoint in {MAX_ROUNDS} rounds")

    def typing(keep) -> Iterator[tuple[str, str]]:
        """(typed node, pattern binding it and its class ?c) of the domain, range and subclass
        rules, restricted to the classes keep() accepts. Domains and ranges are already closed
        under superclasses, so subclass needs only the types the other rules did not make."""
        rows = sorted({(p, c) for p, cs in schema.domains.items() for c in cs if keep(c)})
        if rows:
            yield "?s", f"{_values('?p ?c', rows)} GRAPH ?g {{ ?s ?p ?o }}"
        rows = sorted({(p, c) for p, cs in schema.ranges.items() for c in cs if keep(c)})
        if rows:
            yield "?o", f"{_values('?p ?c', rows)} GRAPH ?g {{ ?s ?p ?o }} FILTER (!isLiteral(?o))"
        rows = sorted((d, c) for d, sups in schema.super_classes.items() for c in sups
                      if c != d and keep(c))
        if rows:
            yield "?x", f"{_values('?d ?c', rows)} GRAPH ?g {{ ?x a ?d }}"

    for node, where in typing(lambda c: c in schema.checked):
        in_time(store.update(f"""INSERT {{ GRAPH {D} {{ {node} a ?c }} }} WHERE {{ {where}
              FILTER NOT EXISTS {{ GRAPH {A} {{ {node} a ?c }} }} }}"""))
    check_consistency(store)
    jobs = [partial(store.dump, format=ox.RdfFormat.N_TRIPLES, from_graph=g) for g in inferred]
    jobs += [partial(_construct, store, f"""CONSTRUCT {{ {node} a ?c }} WHERE {{ {where}
              FILTER NOT EXISTS {{ GRAPH {A} {{ {node} a ?c }} }} }}""")
             for node, where in typing(lambda c: c not in schema.checked)]
    # read-only and without the GIL: on two threads, the machine's cores both work
    with ThreadPoolExecutor(max_workers=2) as pool:
        return in_time(list(pool.map(lambda job: job(), jobs)))


def _construct(store: ox.Store, query: str) -> bytes:
    return store.query(query).serialize(format=ox.RdfFormat.N_TRIPLES)


def fixpoint_of_rules(triples: Iterable[ox.Triple]) -> set[ox.Triple]:
    """The reference: rules/*.rq run naively to a fixpoint (slow; tests compare against it)."""
    asserted = set(triples)
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in asserted)
    rules = [text for _, text in _rules("rdfs-") + _rules("owl-")]
    inferred: set[ox.Triple] = set()
    for _ in range(MAX_ROUNDS):
        new = {t for text in rules for t in store.query(text)} - inferred - asserted
        if not new:
            return inferred
        inferred |= new
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in new)
    raise BuildError(f"rules did not reach a fixpoint in {MAX_ROUNDS} rounds")


def _owlrl_child(ntriples: bytes) -> bytes:
    import owlrl
    import rdflib

    g = rdflib.Graph()
    g.parse(data=ntriples, format="nt")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    # owlrl works in generalized RDF (literal subjects); those triples cannot be exchanged.
    out = rdflib.Graph()
    for t in g:
        if not isinstance(t[0], rdflib.Literal) and isinstance(t[1], rdflib.URIRef):
            out.add(t)
    return out.serialize(format="nt", encoding="utf-8")


def owlrl_closure(triples: Iterable[ox.Triple], budget: float = REASON_BUDGET) -> set[ox.Triple]:
    """owlrl's whole OWL RL closure (asserted triples included), computed in a child process
    killed at the budget ("spawn": the build runs thread pools, which a fork would copy)."""
    from isecg_kg import children  # multiprocessing: 30 ms of every build's start, owlrl only

    data = ox.serialize((ox.Quad(t.subject, t.predicate, t.object) for t in triples),
                        format=ox.RdfFormat.N_QUADS)
    result = children.run(_owlrl_child, data, timeout=budget, method="spawn", what="owlrl",
                          hint=" (raise --reason-budget or use --reasoner rules)",
                          errors=(BuildError, BuildError))
    return {q.triple for q in ox.parse(result, format=ox.RdfFormat.N_TRIPLES)}


def _errors_of(closure: set[ox.Triple]) -> list[str]:
    err = "http://www.daml.org/2002/03/agents/agent-ont#error"
    return sorted(t.object.value for t in closure if t.predicate.value == err)


def comparable(triples: Iterable[ox.Triple]) -> set[ox.Triple]:
    """The entailments both reasoners must agree on: statements about named resources in
    terms other than the RDF/RDFS/OWL/XSD built-ins (owlrl also derives those axiomatic
    triples, which carry no information about the data)."""
    builtin = (OWL, RDF, RDFS, XSD)
    keep = set()
    for t in triples:
        if not isinstance(t.subject, ox.NamedNode) or isinstance(t.object, ox.BlankNode):
            continue
        p = t.predicate.value
        if p == RDF_TYPE:
            if isinstance(t.object, ox.NamedNode) and not t.object.value.startswith(builtin):
                keep.add(t)
        elif not p.startswith(builtin):
            keep.add(t)
    return keep


def reason_owlrl(triples: Iterable[ox.Triple], budget: float = REASON_BUDGET) -> set[ox.Triple]:
    """owlrl as the reasoner: its closure cut to the comparable entailments, minus the asserted."""
    asserted = set(triples)
    closure = owlrl_closure(asserted, budget)
    errors = _errors_of(closure)
    if errors:
        raise InconsistencyError("owlrl found the graph inconsistent:\n  " + "\n  ".join(errors))
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in closure)
    check_consistency(store)
    return comparable(closure) - asserted
