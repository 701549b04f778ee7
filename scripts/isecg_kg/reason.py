"""Reasoning: the entailments the ontology needs, returned apart from the asserted triples.

Two reasoners give the same answer on our data (a test holds them to it):

* ``rules`` (default): the OWL RL rules our ontology actually uses (subclass, subproperty,
  domain, range, inverse, two-step property chains) as SPARQL CONSTRUCT queries in rules/*.rq,
  run by pyoxigraph to a fixpoint. It grows linearly with the data.
* ``owlrl``: owlrl's full OWL RL closure, the reference. It grows much faster than linearly
  (1.3 s on 2k triples), so it runs in a child process killed at the time budget.

Both work on copies and never mutate their input. An inconsistency (disjointness clash, an
``owl:Nothing`` member, two values of a functional property) raises InconsistencyError.
Identity links use skos:exactMatch, never owl:sameAs, so no reasoner copies statements across
our IRIs and Wikidata's.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable

import pyoxigraph as ox

from isecg_kg.config import RULES_DIR
from isecg_kg.errors import BuildError, InconsistencyError

OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = RDF + "type"
MAX_ROUNDS = 20


def _rules(prefix: str) -> list[tuple[str, str]]:
    return [(p.stem, p.read_text()) for p in sorted(RULES_DIR.glob(f"{prefix}*.rq"))]


def check_consistency(store: ox.Store) -> None:
    problems = []
    for name, text in _rules("check-"):
        for row in store.query(text):
            problems.append(f"{name}: {row['x']} {row['c1']} {row['c2']}")
    if problems:
        raise InconsistencyError("the graph is inconsistent:\n  " + "\n  ".join(problems))


def reason_rules(triples: Iterable[ox.Triple], budget: float = 60.0) -> set[ox.Triple]:
    """The triples entailed by the rule set and not asserted, to a fixpoint."""
    store = ox.Store()
    asserted = set(triples)
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in asserted)
    rules = _rules("rdfs-") + _rules("owl-")
    deadline = time.monotonic() + budget
    inferred: set[ox.Triple] = set()
    for _ in range(MAX_ROUNDS):
        new = set()
        for _name, text in rules:
            for t in store.query(text):
                if t not in asserted and t not in inferred:
                    new.add(t)
        if not new:
            break
        inferred |= new
        store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in new)
        if time.monotonic() > deadline:
            raise BuildError(f"reasoning exceeded its budget of {budget:g} s "
                             "(raise --reason-budget)")
    else:
        raise BuildError(f"reasoning did not reach a fixpoint in {MAX_ROUNDS} rounds")
    check_consistency(store)
    return inferred


def _owlrl_child(ntriples: bytes, conn) -> None:
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
    conn.send(out.serialize(format="nt", encoding="utf-8"))
    conn.close()


def owlrl_closure(triples: Iterable[ox.Triple], budget: float = 60.0) -> set[ox.Triple]:
    """owlrl's whole OWL RL closure (asserted triples included), computed in a child process."""
    data = ox.serialize((ox.Quad(t.subject, t.predicate, t.object) for t in triples),
                        format=ox.RdfFormat.N_QUADS)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_owlrl_child, args=(data, child), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(budget):
            raise BuildError(f"owlrl exceeded its budget of {budget:g} s (raise --reason-budget "
                             "or use --reasoner rules)")
        result = parent.recv()
    except EOFError:
        raise BuildError("owlrl's process died before it finished") from None
    finally:
        proc.kill()
        proc.join(5)
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


def reason_owlrl(triples: Iterable[ox.Triple], budget: float = 60.0) -> set[ox.Triple]:
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


def reason(triples: Iterable[ox.Triple], reasoner: str = "rules",
           budget: float = 60.0) -> set[ox.Triple]:
    if reasoner == "owlrl":
        return reason_owlrl(triples, budget)
    return reason_rules(triples, budget)
