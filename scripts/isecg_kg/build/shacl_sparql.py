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
from itertools import count

import pyoxigraph as ox

from isecg_kg.errors import InputError
from isecg_kg.rdf import OWL, RDF, RDFS, SH, XSD

RDF_TYPE = ox.NamedNode(RDF + "type")
RDF_FIRST = ox.NamedNode(RDF + "first")
RDF_REST = ox.NamedNode(RDF + "rest")
RDF_NIL = ox.NamedNode(RDF + "nil")
VIOLATION = ox.NamedNode(SH + "Violation")
XSD_BOOLEAN = ox.NamedNode(XSD + "boolean")

# Oxigraph stores "5"^^xsd:byte as "5"^^xsd:integer and "1.50"^^xsd:decimal as "1.5": the
# datatype and the lexical form the data author wrote are lost, and with them what sh:datatype,
# sh:pattern, sh:in and the reported sh:value depend on. load_store keeps every literal the
# store would rewrite under a surrogate datatype (this prefix + the original datatype IRI),
# which Oxigraph stores verbatim; ill-typed literals get the other prefix. Results name the
# original literal again (as_written).
AS_WRITTEN = "urn:x-isecg-kg:as-written:"
ILL_TYPED = "urn:x-isecg-kg:ill-typed:"

# Datatypes whose lexical forms Oxigraph checks when casting: a literal of one of these types
# is well-formed exactly when the cast to the same type succeeds.
CASTABLE = frozenset(XSD + n for n in (
    "integer", "decimal", "double", "float", "boolean", "string", "date", "dateTime", "time",
    "gYear", "gYearMonth", "gMonthDay", "gDay", "gMonth", "duration", "dayTimeDuration",
    "yearMonthDuration",
))

NODE_KINDS = {
    SH + "IRI": "isIRI({v})",
    SH + "BlankNode": "isBlank({v})",
    SH + "Literal": "isLiteral({v})",
    SH + "BlankNodeOrIRI": "!isLiteral({v})",
    SH + "BlankNodeOrLiteral": "!isIRI({v})",
    SH + "IRIOrLiteral": "!isBlank({v})",
}

TARGETS = ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")

# Predicates of a shape that carry no constraint (or are read together with their component).
NON_CONSTRAINT = frozenset(SH + n for n in (
    *TARGETS, "path", "property", "message", "severity", "deactivated", "name", "description",
    "order", "group", "defaultValue", "flags", "declare", "prefixes",
)) | {RDF + "type", RDFS + "label", RDFS + "comment", RDFS + "seeAlso", RDFS + "isDefinedBy"}

# Per-value components: a boolean SPARQL expression over one value node.
VALUE_COMPONENTS = frozenset(SH + n for n in (
    "class", "datatype", "nodeKind", "pattern", "languageIn", "in", "minInclusive",
    "maxInclusive", "minExclusive", "maxExclusive", "minLength", "maxLength", "node", "not",
    "and", "or", "xone",
))
PROPERTY_COMPONENTS = frozenset(SH + n for n in ("minCount", "maxCount", "uniqueLang", "hasValue"))
# Components comparing the value nodes with another property of the focus node: reported shapes
# only (a nested use is refused by name).
PAIR_COMPONENTS = frozenset(SH + n for n in ("equals", "disjoint", "lessThan", "lessThanOrEquals"))
# Qualified value shapes: reported property shapes only. Without sh:qualifiedValueShape the
# other three mean nothing (the W3C suite allows them on node shapes, ignored).
QUALIFIED = frozenset(SH + n for n in ("qualifiedValueShape", "qualifiedMinCount",
                                       "qualifiedMaxCount", "qualifiedValueShapesDisjoint"))
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
# How many distinct values a nested (non-reported) sh:minCount / sh:maxCount may count: each is
# a self-join with pairwise FILTERs, so keep it small.
NESTED_COUNT_LIMIT = 4


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


def _is_true(term) -> bool:
    """SHACL's boolean parameters are on only for true (not "1", which is another literal)."""
    return isinstance(term, ox.Literal) and term.value == "true" and term.datatype == XSD_BOOLEAN


def surrogates(literals: Iterable[ox.Literal]) -> dict[ox.Literal, ox.Literal]:
    """For every literal Oxigraph would not store as written, the literal that stands for it."""
    from isecg_kg.build.literals import ill_typed

    out, check = {}, []
    for lit in set(literals):
        dt = lit.datatype.value
        if not dt.startswith(XSD) or dt == XSD + "string":
            continue  # other datatypes are stored verbatim
        if ill_typed(lit.value, dt):
            out[lit] = ox.Literal(lit.value, datatype=ox.NamedNode(ILL_TYPED + dt))
        else:
            check.append(lit)
    if check:  # what the store keeps is Oxigraph's business: ask it rather than mimic it
        scratch = ox.Store()
        scratch.extend(ox.Quad(ox.NamedNode(f"urn:x:{i}"), RDF_TYPE, lit)
                       for i, lit in enumerate(check))
        for q in scratch:
            lit = check[int(q.subject.value[6:])]
            if q.object != lit:
                out[lit] = ox.Literal(lit.value,
                                      datatype=ox.NamedNode(AS_WRITTEN + lit.datatype.value))
    return out


def as_written(term):
    """The literal as the data wrote it, for a surrogate (any other term unchanged)."""
    if type(term) is ox.Literal:
        dt = term.datatype.value
        for prefix in (AS_WRITTEN, ILL_TYPED):
            if dt.startswith(prefix):
                return ox.Literal(term.value, datatype=ox.NamedNode(dt[len(prefix):]))
    return term


def load_store(triples: Iterable[ox.Triple]) -> ox.Store:
    """A store of the triples for validate_store, every literal kept as written."""
    triples = list(triples)
    subs = surrogates(t.object for t in triples if type(t.object) is ox.Literal)
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, subs.get(t.object, t.object))
                      for t in triples)
    return store


def _sh(name: str) -> ox.NamedNode:
    return ox.NamedNode(SH + name)


def _local(iri: str) -> str:
    return "sh:" + iri[len(SH):] if iri.startswith(SH) else f"<{iri}>"


def _label(term) -> str:
    return f"<{term.value}>" if isinstance(term, ox.NamedNode) else str(term)


class _Graph:
    """A tiny s -> p -> [o] index over the shapes triples."""

    def __init__(self, triples: Iterable[ox.Triple]):
        self.spo: dict = {}
        for t in triples:
            self.spo.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(t.object)

    def objects(self, s, p: str) -> list:
        return self.spo.get(s, {}).get(p, [])

    def value(self, s, p: str):
        objs = self.objects(s, p)
        return objs[0] if objs else None

    def predicates(self, s) -> list[str]:
        return list(self.spo.get(s, {}))

    def subjects(self) -> list:
        return list(self.spo)

    def items(self, node, shape, what: str) -> list:
        """The members of an RDF list."""
        out, seen = [], set()
        while node != RDF_NIL:
            if node in seen or self.value(node, RDF + "first") is None:
                raise InputError(f"{_label(shape)}: {what} is not a well-formed RDF list",
                                 path="shapes")
            seen.add(node)
            out.append(self.value(node, RDF + "first"))
            node = self.value(node, RDF + "rest")
            if node is None:
                raise InputError(f"{_label(shape)}: {what} is not a well-formed RDF list",
                                 path="shapes")
        return out


def _unsupported(shape, what: str) -> InputError:
    return InputError(f"shape {_label(shape)}: {what} is not supported by the SPARQL validator "
                      f"(use --validator pyshacl)", path="shapes")


def _term_sparql(term, shape, what: str) -> str:
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return str(term)
    raise InputError(f"shape {_label(shape)}: {what} must be an IRI or a literal, not {term}",
                     path="shapes")


def _int(term, shape, what: str) -> int:
    try:
        n = int(term.value)
    except (AttributeError, ValueError):
        n = -1
    if not isinstance(term, ox.Literal) or n < 0:
        raise InputError(f"shape {_label(shape)}: {what} must be a non-negative integer, "
                         f"not {term}", path="shapes")
    return n


class _Compiler:
    def __init__(self, store: ox.Store, shapes: _Graph, query_kwargs: dict):
        self.store = store
        self.g = shapes
        self.kw = query_kwargs
        self.fresh = count()
        self.subclasses: dict[str, list[str]] = {}
        # shape parameters (sh:in, sh:hasValue, ...) as the store holds the data's literals
        self.stored = surrogates(o for objs in shapes.spo.values() for os in objs.values()
                                 for o in os if type(o) is ox.Literal)

    def term(self, term, shape, what: str) -> str:
        return _term_sparql(self.stored.get(term, term), shape, what)

    @staticmethod
    def number(v: str) -> str:
        """v as a value to compare: a surrogate back to its own datatype."""
        dt = f"STR(DATATYPE({v}))"
        return (f"IF(STRSTARTS({dt}, '{AS_WRITTEN}'), STRDT(STR({v}), IRI(STRAFTER({dt}, "
                f"'{AS_WRITTEN}'))), {v})")

    # -- helpers ------------------------------------------------------------------------------

    def var(self, stem: str = "v") -> str:
        return f"?_{stem}{next(self.fresh)}"

    def query(self, text: str, shape, what: str):
        try:
            return self.store.query(text, **self.kw)
        except SyntaxError as exc:  # a bug here or a bad sh:select; say which shape
            raise InputError(f"shape {_label(shape)}: {what}: the generated SPARQL does not "
                             f"parse: {exc}\n{text}", path="shapes") from None

    def classes(self, cls: ox.NamedNode) -> list[str]:
        """cls and its subclasses (rdfs:subClassOf* in the data graph), as SPARQL IRIs."""
        if cls.value not in self.subclasses:
            q = f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS}subClassOf>* {cls} }}"
            found = {str(r["c"]) for r in self.store.query(q, **self.kw)
                     if isinstance(r["c"], ox.NamedNode)}
            found.add(str(cls))
            self.subclasses[cls.value] = sorted(found)
        return self.subclasses[cls.value]

    def deactivated(self, node) -> bool:
        d = self.g.value(node, SH + "deactivated")
        return isinstance(d, ox.Literal) and d.value in ("true", "1")

    def severity(self, shape) -> ox.NamedNode:
        s = self.g.value(shape, SH + "severity")
        return s if isinstance(s, ox.NamedNode) else VIOLATION

    def message(self, node) -> str | None:
        msgs = [m for m in self.g.objects(node, SH + "message") if isinstance(m, ox.Literal)]
        if not msgs:
            return None
        msgs.sort(key=lambda m: (m.language not in (None, "", "en"), m.language or "", m.value))
        return msgs[0].value

    # -- paths --------------------------------------------------------------------------------

    def path(self, p, shape) -> str:
        """A SHACL path as a SPARQL property path."""
        if isinstance(p, ox.NamedNode):
            return str(p)
        if not isinstance(p, ox.BlankNode):
            raise InputError(f"shape {_label(shape)}: sh:path {p} is not a path", path="shapes")
        preds = self.g.predicates(p)
        if RDF + "first" in preds:
            return "(" + "/".join(self.path(x, shape) for x in self.g.items(p, shape, "sh:path")) + ")"
        kinds = {"inversePath": "^{}", "zeroOrMorePath": "{}*", "oneOrMorePath": "{}+",
                 "zeroOrOnePath": "{}?"}
        for name, fmt in kinds.items():
            inner = self.g.value(p, SH + name)
            if inner is not None:
                return "(" + fmt.format(self.path(inner, shape)) + ")"
        alts = self.g.value(p, SH + "alternativePath")
        if alts is not None:
            items = self.g.items(alts, shape, "sh:alternativePath")
            return "(" + "|".join(self.path(x, shape) for x in items) + ")"
        raise _unsupported(shape, f"the sh:path {p} (predicates {preds})")

    # -- targets ------------------------------------------------------------------------------

    def has_targets(self, shape) -> bool:
        if any(self.g.objects(shape, SH + t) for t in (*TARGETS, "target")):
            return True
        types = {t.value for t in self.g.objects(shape, RDF + "type")}
        return bool(types & {RDFS + "Class", OWL + "Class"}) and bool(
            types & {SH + "NodeShape", SH + "PropertyShape"})

    def target(self, shape, this: str) -> str:
        """A group pattern binding `this` to each focus node of shape, once."""
        if self.g.objects(shape, SH + "target"):
            raise _unsupported(shape, "sh:target (SPARQL-based targets)")
        branches: list[tuple[str, bool]] = []  # (pattern, may repeat a focus node)
        classes = [c for c in self.g.objects(shape, SH + "targetClass")]
        types = {t.value for t in self.g.objects(shape, RDF + "type")}
        if types & {RDFS + "Class", OWL + "Class"}:
            classes.append(shape)
        for c in classes:
            if not isinstance(c, ox.NamedNode):
                raise _unsupported(shape, f"sh:targetClass {c} (not an IRI)")
            subs = self.classes(c)
            if len(subs) == 1:
                branches.append((f"{this} a {subs[0]} .", False))
            else:
                t = self.var("t")
                branches.append((f"VALUES {t} {{ {' '.join(subs)} }} {this} a {t} .", True))
        nodes = [self.term(n, shape, "sh:targetNode")
                 for n in self.g.objects(shape, SH + "targetNode")]
        if nodes:
            branches.append((f"VALUES {this} {{ {' '.join(sorted(set(nodes)))} }}", False))
        for p in self.g.objects(shape, SH + "targetSubjectsOf"):
            branches.append((f"{this} {_term_sparql(p, shape, 'sh:targetSubjectsOf')} [] .", True))
        for p in self.g.objects(shape, SH + "targetObjectsOf"):
            branches.append((f"[] {_term_sparql(p, shape, 'sh:targetObjectsOf')} {this} .", True))
        if len(branches) == 1 and not branches[0][1]:
            return branches[0][0]
        union = " UNION ".join(f"{{ {b} }}" for b, _ in branches)
        return f"{{ SELECT DISTINCT {this} WHERE {{ {union} }} }}"

    # -- expressions --------------------------------------------------------------------------

    def check_predicates(self, shape, allowed: frozenset[str]) -> None:
        if self.g.objects(shape, RDF + "type") and any(
                t.value == SH + "ConstraintComponent" for t in self.g.objects(shape, RDF + "type")):
            raise _unsupported(shape, "custom constraint components")
        for p in sorted(self.g.predicates(shape)):  # the same feature named every run
            if p in NON_CONSTRAINT or p in allowed:
                continue
            if p.startswith(SH):
                raise _unsupported(shape, f"the {_local(p)} constraint component")
            # a non-SHACL predicate (documentation, skos notes, ...) carries no constraint

    def value_expr(self, shape, p: str, param, v: str, stack: tuple) -> str:
        """SPARQL boolean expression: value node v conforms to component p (param) of shape."""
        name = p[len(SH):]
        if name == "class":
            if not isinstance(param, ox.NamedNode):
                raise _unsupported(shape, f"sh:class {param} (not an IRI)")
            subs = self.classes(param)
            if len(subs) == 1:
                return f"EXISTS {{ {v} a {subs[0]} }}"
            t = self.var("t")  # one triple pattern: a join inside EXISTS is slow in Oxigraph
            return f"EXISTS {{ {v} a {t} . FILTER({t} IN ({', '.join(subs)})) }}"
        if name == "datatype":
            if not isinstance(param, ox.NamedNode):
                raise _unsupported(shape, f"sh:datatype {param} (not an IRI)")
            expr = f"DATATYPE({v}) = {param}"
            if param.value in CASTABLE and param.value != XSD + "string":
                expr += f" && STRLEN(STR({param}({v}))) >= 0"  # a store not from load_store
            if param.value.startswith(XSD):  # valid, but not as Oxigraph would store it
                expr = f"({expr}) || DATATYPE({v}) = <{AS_WRITTEN}{param.value}>"
            return f"(isLiteral({v}) && ({expr}))"
        if name == "nodeKind":
            if not isinstance(param, ox.NamedNode) or param.value not in NODE_KINDS:
                raise _unsupported(shape, f"sh:nodeKind {param}")
            return NODE_KINDS[param.value].format(v=v)
        if name == "pattern":
            flags = self.g.value(shape, SH + "flags")
            if not isinstance(param, ox.Literal) or (flags is not None
                                                      and not isinstance(flags, ox.Literal)):
                raise InputError(f"shape {_label(shape)}: sh:pattern and sh:flags must be "
                                 "strings", path="shapes")
            pat, fl = str(ox.Literal(param.value)), str(ox.Literal(flags.value if flags else ""))
            ok = list(self.store.query(f"SELECT (REGEX('', {pat}, {fl}) AS ?ok) {{}}"))
            if ok[0]["ok"] is None:
                raise InputError(f"shape {_label(shape)}: sh:pattern {pat} (flags {fl}) is not "
                                 "a valid regular expression for Oxigraph", path="shapes")
            return f"(!isBlank({v}) && REGEX(STR({v}), {pat}, {fl}))"
        if name == "languageIn":
            langs = self.g.items(param, shape, "sh:languageIn")
            tests = " || ".join(
                f"langMatches(LANG({v}), {ox.Literal(lang.value)!s})" for lang in langs)
            return f"(isLiteral({v}) && ({tests or 'false'}))"
        if name == "in":
            members = self.g.items(param, shape, "sh:in")
            tests = " || ".join(
                f"sameTerm({v}, {self.term(m, shape, 'a member of sh:in')})" for m in members)
            return f"({tests or 'false'})"
        if name in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            op = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">",
                  "maxExclusive": "<"}[name]
            if not isinstance(param, ox.Literal):
                raise InputError(f"shape {_label(shape)}: sh:{name} must be a literal",
                                 path="shapes")
            return f"({self.number(v)} {op} {self.term(param, shape, f'sh:{name}')})"
        if name in ("minLength", "maxLength"):
            n = _int(param, shape, f"sh:{name}")
            op = ">=" if name == "minLength" else "<="
            return f"(!isBlank({v}) && STRLEN(STR({v})) {op} {n})"
        if name == "hasValue":  # on a node shape: the focus node itself is the value
            return f"sameTerm({v}, {self.term(param, shape, 'sh:hasValue')})"
        if name == "node":
            return self.conforms_expr(param, v, stack)
        if name == "not":
            return f"!({self.conforms_expr(param, v, stack)})"
        if name in ("and", "or", "xone"):
            members = self.g.items(param, shape, f"sh:{name}")
            parts = [self.conforms_expr(m, v, stack) for m in members]
            if not parts:
                return "true" if name == "and" else "false"
            if name == "and":
                return "(" + " && ".join(f"({p})" for p in parts) + ")"
            if name == "or":
                return "(" + " || ".join(f"({p})" for p in parts) + ")"
            # a sum of 0/1s: an error in one member must count as "does not conform"
            return "((" + " + ".join(f"IF(COALESCE({p}, false), 1, 0)" for p in parts) + ") = 1)"
        raise _unsupported(shape, f"the sh:{name} constraint component")

    def conforms_expr(self, shape, x: str, stack: tuple = ()) -> str:
        """SPARQL boolean expression: node x conforms to shape (a nested, unreported shape)."""
        if shape in stack:
            raise _unsupported(shape, "recursive shapes")
        stack = (*stack, shape)
        if self.deactivated(shape):
            return "true"
        if self.g.objects(shape, SH + "sparql"):
            raise _unsupported(shape, "sh:sparql inside sh:node/sh:not/sh:and/sh:or/sh:xone")
        self.check_predicates(shape, VALUE_COMPONENTS | PROPERTY_COMPONENTS
                              | {SH + "closed", SH + "ignoredProperties"})
        parts = []
        path = self.g.value(shape, SH + "path")
        closed = self.closed_predicates(shape)
        if closed is not None:
            if path is not None:
                raise _unsupported(shape, "sh:closed on a property shape")
            p, o = self.var("p"), self.var()
            unless = f"FILTER({p} NOT IN ({', '.join(closed)}))" if closed else ""
            parts.append(f"NOT EXISTS {{ {x} {p} {o} . {unless} }}")
        if path is None:
            for p in sorted(VALUE_COMPONENTS | {SH + "hasValue"}):
                for param in self.g.objects(shape, p):
                    parts.append(self.value_expr(shape, p, param, x, stack))
            for p in sorted(PROPERTY_COMPONENTS - {SH + "hasValue"}):
                if self.g.objects(shape, p):
                    raise _unsupported(shape, f"sh:{p[len(SH):]} on a node shape")
        else:
            parts.extend(self.property_expr(shape, self.path(path, shape), x, stack))
        for prop in self.g.objects(shape, SH + "property"):
            if not self.deactivated(prop):
                self.check_predicates(prop, VALUE_COMPONENTS | PROPERTY_COMPONENTS)
                ppath = self.g.value(prop, SH + "path")
                if ppath is None:
                    raise InputError(f"shape {_label(prop)}: a property shape needs sh:path",
                                     path="shapes")
                parts.extend(self.property_expr(prop, self.path(ppath, prop), x, stack + (prop,)))
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def property_expr(self, shape, path: str, x: str, stack: tuple) -> list[str]:
        """Boolean expressions: x conforms to the property shape (path given) -- nested use."""
        out = []
        for p in ("minCount", "maxCount"):
            for param in self.g.objects(shape, SH + p):
                n = _int(param, shape, f"sh:{p}")
                k = n if p == "minCount" else n + 1
                if k == 0:
                    continue
                if k > NESTED_COUNT_LIMIT:
                    raise _unsupported(shape, f"sh:{p} {n} inside a nested shape (at most "
                                              f"{NESTED_COUNT_LIMIT - (p == 'maxCount')})")
                vs = [self.var() for _ in range(k)]
                pats = " ".join(f"{x} {path} {w} ." for w in vs)
                diff = " && ".join(f"!sameTerm({a}, {b})" for i, a in enumerate(vs)
                                   for b in vs[i + 1:])
                body = f"{pats} FILTER({diff})" if diff else pats
                out.append(f"{'EXISTS' if p == 'minCount' else 'NOT EXISTS'} {{ {body} }}")
        for param in self.g.objects(shape, SH + "hasValue"):
            hv = self.var()
            out.append(f"EXISTS {{ {x} {path} {hv} . FILTER(sameTerm({hv}, "
                       f"{self.term(param, shape, 'sh:hasValue')})) }}")
        for param in self.g.objects(shape, SH + "uniqueLang"):
            if _is_true(param):
                a, b = self.var(), self.var()
                out.append(f"NOT EXISTS {{ {x} {path} {a}, {b} . FILTER(!sameTerm({a}, {b}) "
                           f"&& LANG({a}) != '' && LANG({a}) = LANG({b})) }}")
        v = self.var()
        conds = [self.value_expr(shape, p, param, v, stack)
                 for p in sorted(VALUE_COMPONENTS) for param in self.g.objects(shape, p)]
        if conds:
            fail = " || ".join(f"!COALESCE({c}, false)" for c in conds)
            out.append(f"NOT EXISTS {{ {x} {path} {v} . FILTER({fail}) }}")
        return out

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
            raise InputError(f"shape {_label(shape)}: a property shape (sh:property of "
                             f"{_label(parent)}) needs sh:path", path="shapes")
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
            component=_sh(COMPONENT_NAMES[comp]), source_constraint=constraint))

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
                    raise _unsupported(shape, f"sh:{name} {other} (not an IRI)")
                if name.startswith("lessThan") and path is None:
                    raise InputError(f"shape {_label(shape)}: sh:{name} needs a property shape",
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
        mins = [_int(x, shape, "sh:qualifiedMinCount")
                for x in self.g.objects(shape, SH + "qualifiedMinCount")]
        maxs = [_int(x, shape, "sh:qualifiedMaxCount")
                for x in self.g.objects(shape, SH + "qualifiedMaxCount")]
        disjoint = any(_is_true(d) for d in self.g.objects(shape, SH + "qualifiedValueShapesDisjoint"))
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
                                ok += (f" && !COALESCE({self.conforms_expr(sib, '?value', (shape,))}"
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
                                  f"Fewer than {m} values conform to {_label(qs)}")
                for m in maxs:
                    if got > m:
                        self.emit(results, shape, "qualifiedMaxCount", r["this"], p, None,
                                  f"More than {m} values conform to {_label(qs)}")

    def closed_predicates(self, shape) -> list[str] | None:
        """For sh:closed true, the predicates a focus node may have (as SPARQL IRIs)."""
        if not any(_is_true(c) for c in self.g.objects(shape, SH + "closed")):
            return None
        allowed = {x for prop in self.g.objects(shape, SH + "property")
                   if isinstance(x := self.g.value(prop, SH + "path"), ox.NamedNode)}
        for ignored in self.g.objects(shape, SH + "ignoredProperties"):
            allowed.update(self.g.items(ignored, shape, "sh:ignoredProperties"))
        return sorted(map(str, allowed))

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
        mins = [_int(x, shape, "sh:minCount") for x in self.g.objects(shape, SH + "minCount")]
        maxs = [_int(x, shape, "sh:maxCount") for x in self.g.objects(shape, SH + "maxCount")]
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
            if not _is_true(param):
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
                    raise _unsupported(shape, f"{_local(pred)} in the sh:sparql constraint "
                                              f"{_label(c)}")
            select = self.g.value(c, SH + "select")
            if not isinstance(select, ox.Literal):
                raise _unsupported(shape, f"the sh:sparql constraint {_label(c)} without "
                                          "sh:select")
            text = select.value
            if re.search(r"[?$]shapesGraph\b", text):
                raise _unsupported(shape, f"$shapesGraph in the sh:sparql constraint {_label(c)}")
            if re.search(r"[?$]currentShape\b", text):
                if not isinstance(shape, ox.NamedNode):
                    raise _unsupported(shape, "$currentShape of a blank-node shape")
                text = re.sub(r"[?$]currentShape\b", str(shape), text)
            if "$PATH" in text:
                if p is None:
                    raise InputError(f"shape {_label(shape)}: $PATH in {_label(c)} but the "
                                     "shape has no sh:path", path="shapes")
                text = text.replace("$PATH", self.path(p, shape))
            m = re.search(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?(.*?)\bWHERE\b", text,
                          re.IGNORECASE | re.DOTALL)
            if not m or not (m.group(1).strip() == "*" or re.search(r"[?$]this\b", m.group(1))):
                raise _unsupported(shape, f"the sh:sparql constraint {_label(c)} whose SELECT "
                                          "does not project $this")
            prefixes = []
            for pn in self.g.objects(c, SH + "prefixes"):
                for d in self.g.objects(pn, SH + "declare"):
                    pre, ns = self.g.value(d, SH + "prefix"), self.g.value(d, SH + "namespace")
                    if pre is None or ns is None:
                        raise InputError(f"{_label(pn)}: sh:declare needs sh:prefix and "
                                         "sh:namespace", path="shapes")
                    prefixes.append(f"PREFIX {pre.value}: <{ns.value}>")
            q = "\n".join([*prefixes, f"SELECT * WHERE {{ {target('?this')} {{ {text} }} }}"])
            sols = self.query(q, shape, f"the sh:sparql constraint {_label(c)}")
            names = [v.value for v in sols.variables]
            template = self.message(c) or self.message(shape)
            for r in sols:
                row = {n: r[n] for n in names if r[n] is not None}
                if "failure" in row and row["failure"].value == "true":
                    raise InputError(f"shape {_label(shape)}: the sh:sparql constraint "
                                     f"{_label(c)} reported a failure", path="shapes")
                value = row.get("value", row["this"] if p is None else None)
                message = row["message"].value if "message" in row else None
                if template and message is None:
                    message = re.sub(r"\{[?$](\w+)\}",
                                     lambda m, row=row: row[m.group(1)].value
                                     if m.group(1) in row else m.group(0), template)
                self.emit(results, shape, "sparql", row["this"], row.get("path", p), value,
                          f"SPARQL constraint {_label(c)} not met", constraint=c,
                          message=message)


def validate_store(store: ox.Store, shapes: Iterable[ox.Triple], *,
                   use_default_graph_as_union: bool = False) -> list[Result]:
    """Validate the store's default graph (ontology + data) against the shapes graph; fill the
    store with load_store, or literals are judged in Oxigraph's canonical forms.

    Returns every validation result (violations, warnings and infos), sorted; the graph
    conforms when `conforms(results)`. Raises InputError for a shape that uses a SHACL feature
    this validator does not implement, naming the shape and the feature.
    """
    g = _Graph(shapes)
    kw = {"use_default_graph_as_union": True} if use_default_graph_as_union else {}
    c = _Compiler(store, g, kw)

    def validate(shape) -> list[Result]:
        found: list[Result] = []
        c.validate_shape(shape, lambda var: c.target(shape, var), found)
        return found

    # Shapes are independent and pyoxigraph evaluates their queries without the GIL, so two
    # threads keep two cores busy; results are gathered in shape order all the same.
    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for found in pool.map(validate, [s for s in sorted(g.subjects(), key=str)
                                         if c.has_targets(s)]):
            results.extend(found)
    results.sort(key=lambda r: (str(r.source_shape), str(r.focus), str(r.value), r.component.value,
                                r.message))
    return results
