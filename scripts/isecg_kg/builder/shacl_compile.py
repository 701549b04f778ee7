"""The SHACL compiler: a shapes graph read (``ShapesGraph``) and turned into SPARQL, for the
validator of ``shacl_sparql`` (see its docstring for what becomes which query).

``ShapeCompiler`` holds what every query needs: focus-node patterns of a shape's targets
(``target``), SHACL paths as SPARQL property paths (``path``), and boolean expressions for a
value node against a component or a whole nested shape (``value_expr``, ``conforms_expr``,
``property_expr``). Literals the store would rewrite are kept under surrogate datatypes
(``surrogates``, ``as_written``), so the data's own terms are what the checks see. Anything it
does not understand raises InputError naming the shape and the feature.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import count

import pyoxigraph as ox

from isecg_kg.errors import InputError, UnsupportedShape
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
# How many distinct values a nested (non-reported) sh:minCount / sh:maxCount may count: each is
# a self-join with pairwise FILTERs, so keep it small.
NESTED_COUNT_LIMIT = 4


def is_true(term) -> bool:
    """SHACL's boolean parameters are on only for true (not "1", which is another literal)."""
    return isinstance(term, ox.Literal) and term.value == "true" and term.datatype == XSD_BOOLEAN


def surrogates(literals: Iterable[ox.Literal]) -> dict[ox.Literal, ox.Literal]:
    """For every literal Oxigraph would not store as written, the literal that stands for it."""
    from isecg_kg.builder.literals import ill_typed

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


def sh_term(name: str) -> ox.NamedNode:
    return ox.NamedNode(SH + name)


def sh_curie(iri: str) -> str:
    return "sh:" + iri[len(SH):] if iri.startswith(SH) else f"<{iri}>"


def term_label(term) -> str:
    return f"<{term.value}>" if isinstance(term, ox.NamedNode) else str(term)


class ShapesGraph:
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
                raise InputError(f"{term_label(shape)}: {what} is not a well-formed RDF list",
                                 path="shapes")
            seen.add(node)
            out.append(self.value(node, RDF + "first"))
            node = self.value(node, RDF + "rest")
            if node is None:
                raise InputError(f"{term_label(shape)}: {what} is not a well-formed RDF list",
                                 path="shapes")
        return out


def unsupported(shape, what: str) -> UnsupportedShape:
    return UnsupportedShape(f"shape {term_label(shape)}: {what} is not supported by the SPARQL "
                            "validator", path="shapes")


def _term_sparql(term, shape, what: str) -> str:
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return str(term)
    raise InputError(f"shape {term_label(shape)}: {what} must be an IRI or a literal, not {term}",
                     path="shapes")


def param_int(term, shape, what: str) -> int:
    try:
        n = int(term.value)
    except (AttributeError, ValueError):
        n = -1
    if not isinstance(term, ox.Literal) or n < 0:
        raise InputError(f"shape {term_label(shape)}: {what} must be a non-negative integer, "
                         f"not {term}", path="shapes")
    return n


class ShapeCompiler:
    """SPARQL for the shapes of one shapes graph over one store (see the module docstring)."""

    def __init__(self, store: ox.Store, shapes: ShapesGraph, query_kwargs: dict):
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
            raise InputError(f"shape {term_label(shape)}: {what}: the generated SPARQL does not "
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
            raise InputError(f"shape {term_label(shape)}: sh:path {p} is not a path", path="shapes")
        preds = self.g.predicates(p)
        if RDF + "first" in preds:
            steps = (self.path(x, shape) for x in self.g.items(p, shape, "sh:path"))
            return "(" + "/".join(steps) + ")"
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
        raise unsupported(shape, f"the sh:path {p} (predicates {preds})")

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
            raise unsupported(shape, "sh:target (SPARQL-based targets)")
        branches: list[tuple[str, bool]] = []  # (pattern, may repeat a focus node)
        classes = [c for c in self.g.objects(shape, SH + "targetClass")]
        types = {t.value for t in self.g.objects(shape, RDF + "type")}
        if types & {RDFS + "Class", OWL + "Class"}:
            classes.append(shape)
        for c in classes:
            if not isinstance(c, ox.NamedNode):
                raise unsupported(shape, f"sh:targetClass {c} (not an IRI)")
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
            raise unsupported(shape, "custom constraint components")
        for p in sorted(self.g.predicates(shape)):  # the same feature named every run
            if p in NON_CONSTRAINT or p in allowed:
                continue
            if p.startswith(SH):
                raise unsupported(shape, f"the {sh_curie(p)} constraint component")
            # a non-SHACL predicate (documentation, skos notes, ...) carries no constraint

    def value_expr(self, shape, p: str, param, v: str, stack: tuple) -> str:
        """SPARQL boolean expression: value node v conforms to component p (param) of shape."""
        name = p[len(SH):]
        if name == "class":
            if not isinstance(param, ox.NamedNode):
                raise unsupported(shape, f"sh:class {param} (not an IRI)")
            subs = self.classes(param)
            if len(subs) == 1:
                return f"EXISTS {{ {v} a {subs[0]} }}"
            t = self.var("t")  # one triple pattern: a join inside EXISTS is slow in Oxigraph
            return f"EXISTS {{ {v} a {t} . FILTER({t} IN ({', '.join(subs)})) }}"
        if name == "datatype":
            if not isinstance(param, ox.NamedNode):
                raise unsupported(shape, f"sh:datatype {param} (not an IRI)")
            expr = f"DATATYPE({v}) = {param}"
            if param.value in CASTABLE and param.value != XSD + "string":
                expr += f" && STRLEN(STR({param}({v}))) >= 0"  # a store not from load_store
            if param.value.startswith(XSD):  # valid, but not as Oxigraph would store it
                expr = f"({expr}) || DATATYPE({v}) = <{AS_WRITTEN}{param.value}>"
            return f"(isLiteral({v}) && ({expr}))"
        if name == "nodeKind":
            if not isinstance(param, ox.NamedNode) or param.value not in NODE_KINDS:
                raise unsupported(shape, f"sh:nodeKind {param}")
            return NODE_KINDS[param.value].format(v=v)
        if name == "pattern":
            flags = self.g.value(shape, SH + "flags")
            if not isinstance(param, ox.Literal) or (flags is not None
                                                      and not isinstance(flags, ox.Literal)):
                raise InputError(f"shape {term_label(shape)}: sh:pattern and sh:flags must be "
                                 "strings", path="shapes")
            pat, fl = str(ox.Literal(param.value)), str(ox.Literal(flags.value if flags else ""))
            ok = list(self.store.query(f"SELECT (REGEX('', {pat}, {fl}) AS ?ok) {{}}"))
            if ok[0]["ok"] is None:
                raise InputError(f"shape {term_label(shape)}: sh:pattern {pat} (flags {fl}) is not "
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
                raise InputError(f"shape {term_label(shape)}: sh:{name} must be a literal",
                                 path="shapes")
            return f"({self.number(v)} {op} {self.term(param, shape, f'sh:{name}')})"
        if name in ("minLength", "maxLength"):
            n = param_int(param, shape, f"sh:{name}")
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
        raise unsupported(shape, f"the sh:{name} constraint component")

    def conforms_expr(self, shape, x: str, stack: tuple = ()) -> str:
        """SPARQL boolean expression: node x conforms to shape (a nested, unreported shape)."""
        if shape in stack:
            raise unsupported(shape, "recursive shapes")
        stack = (*stack, shape)
        if self.deactivated(shape):
            return "true"
        if self.g.objects(shape, SH + "sparql"):
            raise unsupported(shape, "sh:sparql inside sh:node/sh:not/sh:and/sh:or/sh:xone")
        self.check_predicates(shape, VALUE_COMPONENTS | PROPERTY_COMPONENTS
                              | {SH + "closed", SH + "ignoredProperties"})
        parts = []
        path = self.g.value(shape, SH + "path")
        closed = self.closed_predicates(shape)
        if closed is not None:
            if path is not None:
                raise unsupported(shape, "sh:closed on a property shape")
            p, o = self.var("p"), self.var()
            unless = f"FILTER({p} NOT IN ({', '.join(closed)}))" if closed else ""
            parts.append(f"NOT EXISTS {{ {x} {p} {o} . {unless} }}")
        if path is None:
            for p in sorted(VALUE_COMPONENTS | {SH + "hasValue"}):
                for param in self.g.objects(shape, p):
                    parts.append(self.value_expr(shape, p, param, x, stack))
            for p in sorted(PROPERTY_COMPONENTS - {SH + "hasValue"}):
                if self.g.objects(shape, p):
                    raise unsupported(shape, f"sh:{p[len(SH):]} on a node shape")
        else:
            parts.extend(self.property_expr(shape, self.path(path, shape), x, stack))
        for prop in self.g.objects(shape, SH + "property"):
            if not self.deactivated(prop):
                self.check_predicates(prop, VALUE_COMPONENTS | PROPERTY_COMPONENTS)
                ppath = self.g.value(prop, SH + "path")
                if ppath is None:
                    raise InputError(f"shape {term_label(prop)}: a property shape needs sh:path",
                                     path="shapes")
                parts.extend(self.property_expr(prop, self.path(ppath, prop), x, stack + (prop,)))
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def property_expr(self, shape, path: str, x: str, stack: tuple) -> list[str]:
        """Boolean expressions: x conforms to the property shape (path given) -- nested use."""
        out = []
        for p in ("minCount", "maxCount"):
            for param in self.g.objects(shape, SH + p):
                n = param_int(param, shape, f"sh:{p}")
                k = n if p == "minCount" else n + 1
                if k == 0:
                    continue
                if k > NESTED_COUNT_LIMIT:
                    raise unsupported(shape, f"sh:{p} {n} inside a nested shape (at most "
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
            if is_true(param):
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

    def closed_predicates(self, shape) -> list[str] | None:
        """For sh:closed true, the predicates a focus node may have (as SPARQL IRIs)."""
        if not any(is_true(c) for c in self.g.objects(shape, SH + "closed")):
            return None
        allowed = {x for prop in self.g.objects(shape, SH + "property")
                   if isinstance(x := self.g.value(prop, SH + "path"), ox.NamedNode)}
        for ignored in self.g.objects(shape, SH + "ignoredProperties"):
            allowed.update(self.g.items(ignored, shape, "sh:ignoredProperties"))
        return sorted(map(str, allowed))
