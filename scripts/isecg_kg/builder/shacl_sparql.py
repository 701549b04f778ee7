"""A fast SHACL validator: the shapes graph compiled to SPARQL queries run on a pyoxigraph Store.

pySHACL stays the reference (tests compare the two on every fixture); this one exists because
pySHACL needs an rdflib graph and walks it in Python, which costs ~18 s at 100k triples, while
the same checks as SPARQL over Oxigraph's indexes take a fraction of a second and grow linearly.

The shapes graph is interpreted generically: every shape with a target (sh:targetClass,
sh:targetNode, sh:targetSubjectsOf, sh:targetObjectsOf, or an implicit class target) becomes a
focus-node pattern, and each of its constraints becomes a few SPARQL queries that return only the
failing focus/value nodes:

* per property shape: one "value" query for every per-value component (sh:class, sh:datatype,
  sh:nodeKind, sh:pattern, sh:languageIn, sh:in, sh:min/maxInclusive/Exclusive,
  sh:min/maxLength, and sh:node / sh:not / sh:and / sh:or / sh:xone on each value) with one
  boolean per component; one query for sh:minCount + sh:maxCount (GROUP BY / COUNT, or
  NOT EXISTS for the common sh:minCount 1); one for sh:uniqueLang; one for sh:hasValue;
* per node shape: one query for its node-level components (the focus node is the value node);
* per sh:equals / sh:disjoint / sh:lessThan / sh:lessThanOrEquals: one query (two for equals)
  comparing the value nodes with the focus node's values of the other property; per sh:closed
  node shape: one query for the focus node's properties outside the allowed ones; per
  sh:qualifiedValueShape: one GROUP BY / COUNT of the conforming (and disjoint) value nodes;
* per sh:sparql constraint: its sh:select (with the sh:prefixes declarations prepended) joined
  with the focus-node pattern on ?this ($this and ?this are the same SPARQL variable).

Shapes nested in sh:node / sh:not / sh:and / sh:or / sh:xone are compiled into SPARQL boolean
expressions (EXISTS / NOT EXISTS), so they cost no extra queries. Anything the compiler does not
understand raises InputError naming the shape and the component: nobody silently loses a check.

Known differences from pySHACL (see also the tests and tests/conformance/shacl-core.tsv):

* Oxigraph canonicalises valid literals when it stores them ("012"^^xsd:integer becomes "12",
  the derived integer types become xsd:integer): load_store keeps such literals as written under
  a surrogate datatype (AS_WRITTEN), so sh:datatype, sh:pattern, sh:in and the reported values
  see the data's own terms. A store filled otherwise gets the canonical forms.
* sh:uniqueLang is on only for true, as the spec says; pySHACL (through rdflib) also takes "1".
* sh:sparql constraints see the surrogate of a literal the store would rewrite (rare in
  practice: derived XSD types, non-canonical numbers).
* $this is joined rather than pre-bound in sh:sparql constraints; the two differ only for
  queries whose meaning depends on evaluation order (MINUS, a sub-SELECT that does not mention
  $this, aggregates over all of $this's solutions are still fine).
* Qualified value shapes and the property-pair components (sh:equals, sh:disjoint, sh:lessThan,
  sh:lessThanOrEquals) compile in reported property shapes only, sh:closed in node shapes; a
  nested use is refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyoxigraph as ox

from isecg_kg.builder.shacl_compile import (
    PAIR_COMPONENTS,
    PROPERTY_COMPONENTS,
    QUALIFIED,
    VALUE_COMPONENTS,
    VIOLATION,
    ShapeCompiler,
    ShapesGraph,
    as_written,
    is_true,
    param_int,
    sh_curie,
    sh_term,
    surrogates,
    term_label,
    unsupported,
)
from isecg_kg.errors import InputError
from isecg_kg.rdf import SH

# The constraint component a result names (sh:sourceConstraintComponent), by parameter.
COMPONENT_NAMES = {
    "class": "ClassConstraintComponent", "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent", "pattern": "PatternConstraintComponent",
    "languageIn": "LanguageInConstraintComponent", "in": "InConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent",
    "maxInclusive": "MaxInclusiveConstraintComponent",
    "minExclusive": "MinExclusiveConstraintComponent",
    "maxExclusive": "MaxExclusiveConstraintComponent",
    "minLength": "MinLengthConstraintComponent", "maxLength": "MaxLengthConstraintComponent",
    "node": "NodeConstraintComponent", "not": "NotConstraintComponent",
    "and": "AndConstraintComponent", "or": "OrConstraintComponent",
    "xone": "XoneConstraintComponent", "minCount": "MinCountConstraintComponent",
    "maxCount": "MaxCountConstraintComponent", "uniqueLang": "UniqueLangConstraintComponent",
    "hasValue": "HasValueConstraintComponent", "sparql": "SPARQLConstraintComponent",
    "equals": "EqualsConstraintComponent", "disjoint": "DisjointConstraintComponent",
    "lessThan": "LessThanConstraintComponent",
    "lessThanOrEquals": "LessThanOrEqualsConstraintComponent",
    "closed": "ClosedConstraintComponent",
    "qualifiedMinCount": "QualifiedMinCountConstraintComponent",
    "qualifiedMaxCount": "QualifiedMaxCountConstraintComponent",
}


@dataclass(frozen=True)
class Result:
    """One validation result, as SHACL's sh:ValidationResult."""

    focus: ox.NamedNode | ox.BlankNode | ox.Literal
    path: ox.NamedNode | ox.BlankNode | None  # the shape's sh:path (a blank node if complex)
    value: ox.NamedNode | ox.BlankNode | ox.Literal | None
    source_shape: ox.NamedNode | ox.BlankNode
    severity: ox.NamedNode  # sh:Violation | sh:Warning | sh:Info
    message: str
    component: ox.NamedNode  # sh:...ConstraintComponent
    source_constraint: ox.NamedNode | ox.BlankNode | None = None  # the sh:sparql node

    @property
    def is_violation(self) -> bool:
        return self.severity == VIOLATION


def conforms(results: Iterable[Result]) -> bool:
    """True when no result has severity sh:Violation (warnings and infos do not fail)."""
    return not any(r.is_violation for r in results)


def load_store(triples: Iterable[ox.Triple]) -> ox.Store:
    """A store of the triples for validate_store, every literal kept as written."""
    triples = list(triples)
    subs = surrogates(t.object for t in triples if type(t.object) is ox.Literal)
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, subs.get(t.object, t.object))
                      for t in triples)
    return store


class Validator(ShapeCompiler):
    """The compiled queries run, each failing row a Result."""

    def results(self, shape) -> list[Result]:
        """Every result of one shape with targets (its property shapes and SPARQL constraints
        included), in the order found."""
        found: list[Result] = []
        self.validate_shape(shape, lambda var: self.target(shape, var), found)
        return found

    def targeted(self) -> list:
        """The shapes that have targets, in a stable order: what validate_store runs."""
        return [s for s in sorted(self.g.subjects(), key=str) if self.has_targets(s)]

    # -- top-level validation -----------------------------------------------------------------

    def validate_shape(self, shape, target, results: list[Result]) -> None:
        """All results of one targeted shape; target(var) is its focus-node pattern."""
        if self.deactivated(shape):
            return
        path = self.g.value(shape, SH + "path")
        if path is not None:
            self.validate_property(shape, target, None, results)
            return
        else:
            self.check_predicates(shape, VALUE_COMPONENTS | PAIR_COMPONENTS | {
                SH + "sparql", SH + "hasValue", SH + "closed", SH + "ignoredProperties"}
                | (QUALIFIED - {SH + "qualifiedValueShape"}))
            comps = [(p, param) for p in sorted(VALUE_COMPONENTS | {SH + "hasValue"})
                     for param in self.g.objects(shape, p)]
            self.value_queries(shape, target, None, "?this", comps, results)
            self.pair_queries(shape, target, None, None, results)
            self.closed_query(shape, target, results)
            self.sparql_constraints(shape, target, None, results)
        for prop in self.g.objects(shape, SH + "property"):
            self.validate_property(prop, target, shape, results)

    def validate_property(self, shape, target, parent, results: list[Result]) -> None:
        if self.deactivated(shape):
            return
        self.check_predicates(shape, VALUE_COMPONENTS | PROPERTY_COMPONENTS | PAIR_COMPONENTS
                              | QUALIFIED | {SH + "sparql"})
        p = self.g.value(shape, SH + "path")
        if p is None:
            raise InputError(f"shape {term_label(shape)}: a property shape (sh:property of "
                             f"{term_label(parent)}) needs sh:path", path="shapes")
        path = self.path(p, shape)
        simple = isinstance(p, ox.NamedNode)
        self.count_queries(shape, target, p, path, results)
        self.unique_lang_query(shape, target, p, path, results)
        for param in self.g.objects(shape, SH + "hasValue"):
            t = self.term(param, shape, "sh:hasValue")
            # OPTIONAL + !BOUND, not NOT EXISTS: Oxigraph 0.5 evaluates a sequence path inside
            # EXISTS over the whole graph once per focus node (quadratic)
            q = (f"SELECT ?this WHERE {{ {target('?this')} OPTIONAL {{ ?this {path} ?value . "
                 f"FILTER(sameTerm(?value, {t})) }} FILTER(!BOUND(?value)) }}")
            for r in self.query(q, shape, "sh:hasValue"):
                self.emit(results, shape, "hasValue", r["this"], p, None,
                          f"Missing expected value {t}")
        comps = [(c, param) for c in sorted(VALUE_COMPONENTS) for param in self.g.objects(shape, c)]
        self.value_queries(shape, target, p, f"?this {path} ?value .", comps, results,
                           distinct=not simple)
        self.pair_queries(shape, target, p, path, results)
        self.qualified_queries(shape, target, p, path, results)
        self.sparql_constraints(shape, target, p, results)
        for prop in self.g.objects(shape, SH + "property"):
            # nested property shapes apply to each value node of this one
            def nested(var, _target=target, _path=path):
                f = self.var("f")
                return (f"{{ SELECT DISTINCT {var} WHERE {{ {_target(f)} {f} {_path} {var} . }} }}")
            self.validate_property(prop, nested, shape, results)

    def emit(self, results, shape, comp: str, focus, path, value, default: str,
             constraint=None, message: str | None = None) -> None:
        results.append(Result(
            focus=as_written(focus), path=path, value=as_written(value), source_shape=shape,
            severity=self.severity(shape),  # SHACL 1.0: sh:severity belongs to the shape
            message=message or self.message(shape) or default,
            component=sh_term(COMPONENT_NAMES[comp]), source_constraint=constraint))

    def value_queries(self, shape, target, path_term, pattern: str, comps, results,
                      distinct: bool = False) -> None:
        """One query for all per-value components: one boolean variable per component."""
        if not comps:
            return
        value = "?this" if pattern == "?this" else "?value"
        binds, fails, names = [], [], []
        for i, (p, param) in enumerate(comps):
            expr = self.value_expr(shape, p, param, value, (shape,))
            binds.append(f"BIND(COALESCE({expr}, false) AS ?ok{i})")
            fails.append(f"!?ok{i}")
            names.append((p[len(SH):], param))
        body = "" if pattern == "?this" else pattern
        oks = " ".join(f"?ok{i}" for i in range(len(comps)))
        # DISTINCT before the checks: a complex path may reach a value twice
        if distinct:
            core = f"{{ SELECT DISTINCT ?this ?value WHERE {{ {target('?this')} {body} }} }}"
        else:
            core = f"{target('?this')} {body}"
        q = (f"SELECT ?this {'?value' if body else ''} {oks} WHERE {{ {core} "
             f"{' '.join(binds)} FILTER({' || '.join(fails)}) }}")
        for r in self.query(q, shape, "value constraints"):
            v = r["value"] if body else r["this"]
            for i, (name, param) in enumerate(names):
                ok = r[f"ok{i}"]
                if ok is not None and ok.value == "true":
                    continue
                # sh:hasValue of a node shape: the value is missing, there is no sh:value
                self.emit(results, shape, name, r["this"], path_term,
                          None if name == "hasValue" else v,
                          f"Value {as_written(v)} does not satisfy sh:{name} {param}")

    def pair_queries(self, shape, target, p, path: str | None, results) -> None:
        """sh:equals, sh:disjoint, sh:lessThan, sh:lessThanOrEquals: the value nodes (the focus
        node itself for a node shape) against the values of another property of the focus."""
        values = "BIND(?this AS ?value)" if path is None else f"?this {path} ?value ."
        for comp in sorted(PAIR_COMPONENTS):
            name = comp[len(SH):]
            for other in self.g.objects(shape, comp):
                if not isinstance(other, ox.NamedNode):
                    raise unsupported(shape, f"sh:{name} {other} (not an IRI)")
                if name.startswith("lessThan") and path is None:
                    raise InputError(f"shape {term_label(shape)}: sh:{name} needs a property shape",
                                     path="shapes")
                core = (f"{{ SELECT DISTINCT ?this ?value WHERE {{ {target('?this')} "
                        f"{values} }} }}")
                if name == "disjoint":
                    qs = [f"SELECT DISTINCT ?this ?value WHERE {{ {core} ?this {other} ?value }}"]
                elif name == "equals":
                    mine = ("FILTER(!sameTerm(?value, ?this))" if path is None else
                            f"FILTER NOT EXISTS {{ ?this {path} ?value }}")
                    qs = [(f"SELECT ?this ?value WHERE {{ {core} "
                          f"FILTER NOT EXISTS {{ ?this {other} ?value }} }}"),
                          (f"SELECT DISTINCT ?this ?value WHERE {{ {target('?this')} "
                          f"?this {other} ?value . {mine} }}")]
                else:
                    op = "<" if name == "lessThan" else "<="
                    qs = [(f"SELECT DISTINCT ?this ?value WHERE {{ {core} ?this {other} ?o . "
                          f"FILTER(!COALESCE({self.number('?value')} {op} "
                          f"{self.number('?o')}, false)) }}")]
                for q in qs:
                    for r in self.query(q, shape, f"sh:{name}"):
                        self.emit(results, shape, name, r["this"], p, r["value"],
                                  f"Value {as_written(r['value'])} does not satisfy "
                                  f"sh:{name} {other}")

    def qualified_queries(self, shape, target, p, path: str, results) -> None:
        """sh:qualifiedValueShape with sh:qualifiedMinCount / sh:qualifiedMaxCount: how many
        value nodes conform to the shape (and, when disjoint, to none of its siblings)."""
        mins = [param_int(x, shape, "sh:qualifiedMinCount")
                for x in self.g.objects(shape, SH + "qualifiedMinCount")]
        maxs = [param_int(x, shape, "sh:qualifiedMaxCount")
                for x in self.g.objects(shape, SH + "qualifiedMaxCount")]
        disjoint = any(is_true(d)
                       for d in self.g.objects(shape, SH + "qualifiedValueShapesDisjoint"))
        for qs in self.g.objects(shape, SH + "qualifiedValueShape"):
            if not mins and not maxs:
                continue
            ok = f"COALESCE({self.conforms_expr(qs, '?value', (shape,))}, false)"
            if disjoint:  # siblings: the qualified shapes of the other properties of a parent
                for parent in self.g.subjects():
                    if shape not in self.g.objects(parent, SH + "property"):
                        continue
                    for prop in self.g.objects(parent, SH + "property"):
                        for sib in self.g.objects(prop, SH + "qualifiedValueShape"):
                            if sib != qs:
                                sib_ok = self.conforms_expr(sib, '?value', (shape,))
                                ok += (f" && !COALESCE({sib_ok}"
                                       ", false)")
            n = "COUNT(DISTINCT ?value)"
            lo, hi = max(mins, default=0), min(maxs, default=None)
            having = " || ".join(filter(None, [f"{n} < {lo}" if lo else "",
                                               f"{n} > {hi}" if hi is not None else ""]))
            q = (f"SELECT ?this ({n} AS ?n) WHERE {{ {target('?this')} OPTIONAL {{ "
                 f"?this {path} ?value . FILTER({ok}) }} }} GROUP BY ?this HAVING ({having})")
            for r in self.query(q, shape, "qualified value shape"):
                got = int(r["n"].value)
                for m in mins:
                    if got < m:
                        self.emit(results, shape, "qualifiedMinCount", r["this"], p, None,
                                  f"Fewer than {m} values conform to {term_label(qs)}")
                for m in maxs:
                    if got > m:
                        self.emit(results, shape, "qualifiedMaxCount", r["this"], p, None,
                                  f"More than {m} values conform to {term_label(qs)}")

    def closed_query(self, shape, target, results) -> None:
        """sh:closed true: every property of the focus node is a sh:path of one of the
        shape's property shapes or in sh:ignoredProperties."""
        allowed = self.closed_predicates(shape)
        if allowed is None:
            return
        unless = f"FILTER(?p NOT IN ({', '.join(allowed)}))" if allowed else ""
        q = f"SELECT ?this ?p ?value WHERE {{ {target('?this')} ?this ?p ?value . {unless} }}"
        for r in self.query(q, shape, "sh:closed"):
            self.emit(results, shape, "closed", r["this"], r["p"], r["value"],
                      f"Predicate {r['p']} is not allowed (closed shape)")

    def count_queries(self, shape, target, p, path: str, results) -> None:
        simple = isinstance(p, ox.NamedNode) or (
            isinstance(self.g.value(p, SH + "inversePath"), ox.NamedNode)
            and len(self.g.predicates(p)) == 1)
        mins = [param_int(x, shape, "sh:minCount") for x in self.g.objects(shape, SH + "minCount")]
        maxs = [param_int(x, shape, "sh:maxCount") for x in self.g.objects(shape, SH + "maxCount")]
        lo, hi = max(mins, default=0), min(maxs, default=None)
        if lo == 0 and hi is None:
            return
        tgt = target("?this")
        if hi is None and lo == 1:
            q = (f"SELECT ?this WHERE {{ {tgt} OPTIONAL {{ ?this {path} ?value }} "
                 f"FILTER(!BOUND(?value)) }}")  # not NOT EXISTS: see the sh:hasValue query
            rows = [(r["this"], 0) for r in self.query(q, shape, "sh:minCount")]
        elif lo == 0 and hi == 0:
            q = f"SELECT DISTINCT ?this WHERE {{ {tgt} ?this {path} ?value }}"
            rows = [(r["this"], 1) for r in self.query(q, shape, "sh:maxCount")]
        else:
            # a predicate or its inverse never repeats a value; other paths may
            n = "COUNT(?value)" if simple else "COUNT(DISTINCT ?value)"
            having = " || ".join(filter(None, [f"{n} < {lo}" if lo else "",
                                               f"{n} > {hi}" if hi is not None else ""]))
            opt = f"OPTIONAL {{ ?this {path} ?value }}" if lo else f"?this {path} ?value ."
            q = (f"SELECT ?this ({n} AS ?n) WHERE {{ {tgt} {opt} }} "
                 f"GROUP BY ?this HAVING ({having})")  # HAVING cannot see the projected ?n
            rows = [(r["this"], int(r["n"].value)) for r in self.query(q, shape, "counts")]
        for focus, n in rows:
            for m in mins:
                if n < m:
                    self.emit(results, shape, "minCount", focus, p, None,
                              f"Less than {m} values on {focus}->{path}")
            for m in maxs:
                if n > m:
                    self.emit(results, shape, "maxCount", focus, p, None,
                              f"More than {m} values on {focus}->{path}")

    def unique_lang_query(self, shape, target, p, path: str, results) -> None:
        for param in self.g.objects(shape, SH + "uniqueLang"):
            if not is_true(param):
                continue
            q = (f"SELECT ?this ?lang WHERE {{ {target('?this')} ?this {path} ?value . "
                 f"BIND(LANG(?value) AS ?lang) FILTER(?lang != '') }} "
                 f"GROUP BY ?this ?lang HAVING (COUNT(DISTINCT ?value) > 1)")
            for r in self.query(q, shape, "sh:uniqueLang"):
                self.emit(results, shape, "uniqueLang", r["this"], p, None,
                          f"More than one value with language tag {r['lang'].value}")

    def sparql_constraints(self, shape, target, p, results) -> None:
        for c in self.g.objects(shape, SH + "sparql"):
            if self.deactivated(c):
                continue
            for pred in self.g.predicates(c):
                if pred.startswith(SH) and pred not in {
                        SH + "select", SH + "prefixes", SH + "message", SH + "severity",
                        SH + "deactivated", SH + "name", SH + "description"}:
                    raise unsupported(shape, f"{sh_curie(pred)} in the sh:sparql constraint "
                                              f"{term_label(c)}")
            select = self.g.value(c, SH + "select")
            if not isinstance(select, ox.Literal):
                raise unsupported(shape, f"the sh:sparql constraint {term_label(c)} without "
                                          "sh:select")
            text = select.value
            if re.search(r"[?$]shapesGraph\b", text):
                raise unsupported(shape, "$shapesGraph in the sh:sparql constraint "
                                         f"{term_label(c)}")
            if re.search(r"[?$]currentShape\b", text):
                if not isinstance(shape, ox.NamedNode):
                    raise unsupported(shape, "$currentShape of a blank-node shape")
                text = re.sub(r"[?$]currentShape\b", str(shape), text)
            if "$PATH" in text:
                if p is None:
                    raise InputError(f"shape {term_label(shape)}: $PATH in {term_label(c)} but the "
                                     "shape has no sh:path", path="shapes")
                text = text.replace("$PATH", self.path(p, shape))
            m = re.search(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?(.*?)\bWHERE\b", text,
                          re.IGNORECASE | re.DOTALL)
            if not m or not (m.group(1).strip() == "*" or re.search(r"[?$]this\b", m.group(1))):
                raise unsupported(shape, f"the sh:sparql constraint {term_label(c)} whose SELECT "
                                          "does not project $this")
            prefixes = []
            for pn in self.g.objects(c, SH + "prefixes"):
                for d in self.g.objects(pn, SH + "declare"):
                    pre, ns = self.g.value(d, SH + "prefix"), self.g.value(d, SH + "namespace")
                    if pre is None or ns is None:
                        raise InputError(f"{term_label(pn)}: sh:declare needs sh:prefix and "
                                         "sh:namespace", path="shapes")
                    prefixes.append(f"PREFIX {pre.value}: <{ns.value}>")
            q = "\n".join([*prefixes, f"SELECT * WHERE {{ {target('?this')} {{ {text} }} }}"])
            sols = self.query(q, shape, f"the sh:sparql constraint {term_label(c)}")
            names = [v.value for v in sols.variables]
            template = self.message(c) or self.message(shape)
            for r in sols:
                row = {n: r[n] for n in names if r[n] is not None}
                if "failure" in row and row["failure"].value == "true":
                    raise InputError(f"shape {term_label(shape)}: the sh:sparql constraint "
                                     f"{term_label(c)} reported a failure", path="shapes")
                value = row.get("value", row["this"] if p is None else None)
                message = row["message"].value if "message" in row else None
                if template and message is None:
                    message = re.sub(r"\{[?$](\w+)\}",
                                     lambda m, row=row: row[m.group(1)].value
                                     if m.group(1) in row else m.group(0), template)
                self.emit(results, shape, "sparql", row["this"], row.get("path", p), value,
                          f"SPARQL constraint {term_label(c)} not met", constraint=c,
                          message=message)


def validate_store(store: ox.Store, shapes: Iterable[ox.Triple], *,
                   use_default_graph_as_union: bool = False) -> list[Result]:
    """Validate the store's default graph (ontology + data) against the shapes graph; fill the
    store with load_store, or literals are judged in Oxigraph's canonical forms.

    Returns every validation result (violations, warnings and infos), sorted; the graph
    conforms when `conforms(results)`. Raises InputError for a shape that uses a SHACL feature
    this validator does not implement, naming the shape and the feature.
    """
    kw = {"use_default_graph_as_union": True} if use_default_graph_as_union else {}
    c = Validator(store, ShapesGraph(shapes), kw)
    # Shapes are independent and pyoxigraph evaluates their queries without the GIL, so two
    # threads keep two cores busy; results are gathered in shape order all the same.
    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for found in pool.map(c.results, c.targeted()):
            results.extend(found)
    results.sort(key=lambda r: (str(r.source_shape), str(r.focus), str(r.value), r.component.value,
                                r.message))
    return results
