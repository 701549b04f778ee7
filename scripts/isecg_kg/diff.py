"""What changed between two releases, by entity: the semantic changelog.

``diff_releases(old, new)`` compares two releases (build or release directories, or dump files)
and returns a Changelog: for every subject whose statements differ, the statements added and
removed, grouped under the entity's label, and per class the entities and triples added and
removed. Blank-node labels are ignored (each side is canonicalized with RDFC-1.0 first, so
isomorphic graphs have no difference); the inferred graph is left out unless asked for, since
one changed fact moves many entailments.

Three renderings of a Changelog, all deterministic (sorted, no clock): Markdown and HTML for
people, Turtle for machines in the Talis Changeset vocabulary (one cs:ChangeSet per entity with
reified cs:addition / cs:removal statements) with the counts as VoID class partitions.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.config import DEFAULT_BASE, GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY, PREFIXES
from isecg_kg.errors import InputError

RDF_TYPE = PREFIXES["rdf"] + "type"
CS = "http://purl.org/vocab/changeset/schema#"
UNTYPED = "(untyped)"
LABELS = (PREFIXES["skos"] + "prefLabel", PREFIXES["rdfs"] + "label",
          PREFIXES["dcterms"] + "title", PREFIXES["isecg"] + "acronym")
FORMATS = {".nq": ox.RdfFormat.N_QUADS, ".nt": ox.RdfFormat.N_TRIPLES,
           ".ttl": ox.RdfFormat.TURTLE, ".rdf": ox.RdfFormat.RDF_XML,
           ".jsonld": ox.RdfFormat.JSON_LD}


@dataclass
class Side:
    """One release as compared: its distinct triples (blank nodes canonical) and version."""

    triples: set[ox.Triple]
    version: str | None
    name: str


@dataclass
class EntityChange:
    subject: ox.NamedNode | ox.BlankNode
    label: str
    classes: list[str]               # asserted rdf:type IRIs (new side, else old)
    status: str                      # added | removed | changed
    added: list[ox.Triple] = field(default_factory=list)
    removed: list[ox.Triple] = field(default_factory=list)


@dataclass
class Counts:
    entities_added: int = 0
    entities_removed: int = 0
    entities_changed: int = 0
    triples_added: int = 0
    triples_removed: int = 0


@dataclass
class Changelog:
    old: str | None                  # version (or name) of the older side; None: first release
    new: str
    entities: list[EntityChange]
    by_class: dict[str, Counts]
    total: Counts
    triples_old: int
    triples_new: int
    inferred: bool = False

    @property
    def empty(self) -> bool:
        return not self.total.triples_added and not self.total.triples_removed


# --- reading a release ------------------------------------------------------------------------

def _version_of(directory: Path) -> str | None:
    void = directory / "void.ttl"
    if not void.is_file():
        return None
    found = [t.object.value for t in ox.parse(path=str(void), format=ox.RdfFormat.TURTLE)
             if t.predicate.value == "http://www.w3.org/ns/dcat#version"
             and t.subject.value == DEFAULT_BASE + "void#dataset"]
    return found[0] if found else None


def read_side(path: Path, *, inferred: bool = False) -> Side:
    """The triples of a release directory (its isecg.nq, else isecg.nt) or of one dump file
    (.nq, .nt, .ttl, .rdf, .jsonld, each also .gz). From N-Quads only the ontology and data
    graphs are read, and the inferred graph too when `inferred`."""
    path = Path(path)
    version = None
    if path.is_dir():
        version = _version_of(path)
        for name in ("isecg.nq", "isecg.nq.gz", "isecg.nt", "isecg.nt.gz"):
            if (path / name).is_file():
                file = path / name
                break
        else:
            raise InputError("no isecg.nq or isecg.nt here: not a build or release directory",
                             path=str(path))
    elif path.is_file():
        file = path
    else:
        raise InputError("no such file or directory", path=str(path))
    suffixes = file.suffixes
    packed = suffixes[-1:] == [".gz"]
    suffix = suffixes[-2] if packed and len(suffixes) > 1 else file.suffix
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise InputError(f"cannot tell the RDF syntax from the name; use one of "
                         f"{', '.join(sorted(FORMATS))} (optionally .gz)", path=str(file))
    try:
        data = gzip.decompress(file.read_bytes()) if packed else file.read_bytes()
        quads = list(ox.parse(data, format=fmt))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"cannot read it: {exc}", path=str(file)) from None
    except SyntaxError as exc:
        raise InputError(f"not {suffix[1:]}: {exc}", path=str(file)) from None
    keep = {GRAPH_ONTOLOGY, GRAPH_DATA} | ({GRAPH_INFERRED} if inferred else set())
    triples = set()
    for q in quads:
        graph = q.graph_name
        if isinstance(graph, ox.DefaultGraph) or graph.value in keep:
            triples.add(q.triple)
    return Side(canonical_blank_nodes(triples), version, path.name)


def canonical_blank_nodes(triples: set[ox.Triple]) -> set[ox.Triple]:
    """The triples with every blank node relabelled by the content of its component (the
    triples it is connected to through blank nodes), so that an unchanged component gets the
    same labels on both sides whatever the dump called its nodes, and a change inside one
    component never relabels another (RDFC-1.0 of the whole graph would)."""
    ground = {t for t in triples if not _has_blank(t)}
    if len(ground) == len(triples):
        return ground
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def find(b):
        while parent.setdefault(b, b) != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    blank = [t for t in triples if _has_blank(t)]
    for t in blank:
        nodes = [x for x in (t.subject, t.object) if isinstance(x, ox.BlankNode)]
        for other in nodes[1:]:
            parent[find(other)] = find(nodes[0])
        find(nodes[0])
    components: dict[ox.BlankNode, list[ox.Triple]] = defaultdict(list)
    for t in blank:
        b = t.subject if isinstance(t.subject, ox.BlankNode) else t.object
        components[find(b)].append(t)
    out = set(ground)
    for part in components.values():
        dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in part)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        text = "".join(sorted(f"{q.triple} .\n" for q in dataset))
        tag = hashlib.sha256(text.encode()).hexdigest()[:12]
        out.update(ox.Triple(_relabel(q.subject, tag), q.predicate, _relabel(q.object, tag))
                   for q in dataset)
    return out


def _relabel(term, tag: str):
    return ox.BlankNode(f"b{tag}{term.value}") if isinstance(term, ox.BlankNode) else term


def _has_blank(t: ox.Triple) -> bool:
    return isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)


# --- comparing --------------------------------------------------------------------------------

def _label_index(triples: set[ox.Triple]) -> dict[ox.Term, str]:
    found: dict[ox.Term, tuple[int, int, str]] = {}
    for t in triples:
        if t.predicate.value in LABELS and isinstance(t.object, ox.Literal):
            rank = (LABELS.index(t.predicate.value),
                    0 if t.object.language == "en" else 1 if not t.object.language else 2,
                    t.object.value)
            if t.subject not in found or rank < found[t.subject]:
                found[t.subject] = rank
    return {s: r[2] for s, r in found.items()}


def _types(triples: set[ox.Triple]) -> dict[ox.Term, list[str]]:
    out: dict[ox.Term, list[str]] = defaultdict(list)
    for t in triples:
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            out[t.subject].append(t.object.value)
    return {s: sorted(v) for s, v in out.items()}


def _owners(triples: set[ox.Triple]) -> dict[ox.BlankNode, ox.NamedNode]:
    """For each blank node, the IRI whose statements reach it (a property chain belongs to
    its property): its statements are shown under that entity."""
    up: dict[ox.BlankNode, ox.Term] = {}
    for t in sorted(triples, key=_line):
        if isinstance(t.object, ox.BlankNode) and t.object not in up:
            up[t.object] = t.subject
    out = {}
    for b in up:
        seen, node = set(), b
        while isinstance(node, ox.BlankNode) and node in up and node not in seen:
            seen.add(node)
            node = up[node]
        if isinstance(node, ox.NamedNode):
            out[b] = node
    return out


def compact(iri: str) -> str:
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")) \
                and "/" not in iri[len(ns):] and "#" not in iri[len(ns):]:
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else f"<{iri}>"


def _line(t: ox.Triple) -> str:
    return f"{t} ."


def diff_sides(old: Side | None, new: Side) -> Changelog:
    """The changelog from `old` to `new` (old None: the first release, everything added)."""
    before = old.triples if old else set()
    added, removed = new.triples - before, before - new.triples
    labels = {**_label_index(before), **_label_index(new.triples)}
    types_old, types_new = _types(before), _types(new.triples)
    subjects_old = {t.subject for t in before}
    subjects_new = {t.subject for t in new.triples}
    owner = {**_owners(before), **_owners(new.triples)}
    per: dict[ox.Term, EntityChange] = {}
    for triples, attr in ((added, "added"), (removed, "removed")):
        for t in triples:
            s = owner.get(t.subject, t.subject)
            if s not in per:
                status = ("added" if s not in subjects_old else
                          "removed" if s not in subjects_new else "changed")
                label = labels.get(s) or (compact(s.value) if isinstance(s, ox.NamedNode)
                                          else str(s))
                per[s] = EntityChange(s, label, types_new.get(s) or types_old.get(s) or [],
                                      status)
            getattr(per[s], attr).append(t)
    by_class: dict[str, Counts] = defaultdict(Counts)
    total = Counts(triples_added=len(added), triples_removed=len(removed))
    for change in per.values():
        change.added.sort(key=_line)
        change.removed.sort(key=_line)
        setattr(total, f"entities_{change.status}", getattr(total, f"entities_{change.status}") + 1)
        for cls in change.classes or [UNTYPED]:
            c = by_class[cls]
            setattr(c, f"entities_{change.status}", getattr(c, f"entities_{change.status}") + 1)
            c.triples_added += len(change.added)
            c.triples_removed += len(change.removed)
    order = {"added": 0, "changed": 1, "removed": 2}
    entities = sorted(per.values(), key=lambda c: (order[c.status], c.label.casefold(),
                                                   str(c.subject)))
    return Changelog(old=(old.version or old.name) if old else None,
                     new=new.version or new.name, entities=entities,
                     by_class=dict(sorted(by_class.items(), key=lambda kv: compact(kv[0]))),
                     total=total, triples_old=len(before), triples_new=len(new.triples))


def diff_releases(old: Path | None, new: Path, *, inferred: bool = False) -> Changelog:
    changelog = diff_sides(read_side(old, inferred=inferred) if old else None,
                           read_side(new, inferred=inferred))
    changelog.inferred = inferred
    return changelog


# --- rendering --------------------------------------------------------------------------------

def term_text(term: ox.Term, labels: dict | None = None) -> str:
    """A term as people read it: prefixed names, literals with language or datatype."""
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.Literal):
        text = '"' + term.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
            + '"'
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype.value != PREFIXES["xsd"] + "string":
            return f"{text}^^{compact(term.datatype.value)}"
        return text
    return str(term)


@dataclass
class Line:
    kind: str          # added | removed | changed
    predicate: str
    old: list[str]
    new: list[str]


def lines_of(change: EntityChange) -> list[Line]:
    """The statements of one entity, a predicate with both removed and added values shown as
    one change (old → new)."""
    removed, added = defaultdict(list), defaultdict(list)
    for triples, into in ((change.removed, removed), (change.added, added)):
        for t in triples:
            # a statement of a blank node under its owner: "subject predicate"
            key = compact(t.predicate.value) if t.subject == change.subject else \
                f"{term_text(t.subject)} {compact(t.predicate.value)}"
            into[key].append(term_text(t.object))
    out = []
    for p in sorted(set(removed) | set(added)):
        kind = "changed" if p in removed and p in added else "added" if p in added else "removed"
        out.append(Line(kind, p, removed.get(p, []), added.get(p, [])))
    return out


def title(cl: Changelog) -> str:
    if cl.old is None:
        return f"Release {cl.new}: the first release"
    return f"Changes from release {cl.old} to {cl.new}"


def _md(text: str) -> str:
    for ch in "\\`*_[]<>|#":
        text = text.replace(ch, "\\" + ch)
    return text


def to_markdown(cl: Changelog) -> str:
    out = [f"# {_md(title(cl))}", ""]
    t = cl.total
    scope = "asserted and inferred triples" if cl.inferred else "asserted triples (ontology " \
        "and data; the inferred graph is not compared)"
    if cl.old is None:
        out.append(f"{cl.triples_new} {scope}, {t.entities_added} entities.")
    elif cl.empty:
        out.append(f"No change: the two releases have the same {cl.triples_new} {scope}.")
    else:
        out.append(f"{t.triples_added} triples added, {t.triples_removed} removed, "
                   f"{cl.triples_old} → {cl.triples_new} {scope}; {t.entities_added} entities "
                   f"added, {t.entities_removed} removed, {t.entities_changed} changed.")
    if cl.by_class:
        out += ["", ("| class | entities added | entities removed | entities changed | "
                     "triples added | triples removed |"), "|---|---:|---:|---:|---:|---:|"]
        for cls, c in cl.by_class.items():
            out.append(f"| {_md(compact(cls) if cls != UNTYPED else cls)} | {c.entities_added} | "
                       f"{c.entities_removed} | {c.entities_changed} | {c.triples_added} | "
                       f"{c.triples_removed} |")
    if cl.old is not None:
        for status in ("added", "changed", "removed"):
            group = [e for e in cl.entities if e.status == status]
            if not group:
                continue
            out += ["", f"## Entities {status} ({len(group)})"]
            for e in group:
                kinds = ", ".join(compact(c) for c in e.classes) or UNTYPED
                name = e.subject.value if isinstance(e.subject, ox.NamedNode) else str(e.subject)
                out += ["", f"### {_md(e.label)}", "", f"`{name}` · {_md(kinds)}", ""]
                for line in lines_of(e):
                    if line.kind == "changed":
                        out.append(f"- changed `{line.predicate}`: "
                                   f"{', '.join(f'`{v}`' for v in line.old)} → "
                                   f"{', '.join(f'`{v}`' for v in line.new)}")
                    else:
                        for v in line.new if line.kind == "added" else line.old:
                            out.append(f"- {line.kind} `{line.predicate}` `{v}`")
    return "\n".join(out) + "\n"


HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="stylesheet" href="../../static/ld-style.css">
<link rel="alternate" type="text/turtle" href="changelog.ttl">
</head>
<body>
<main>
<h1>{{ title }}</h1>
<p>{{ summary }}</p>
{% if cl.by_class %}
<table class="ld-counts">
<thead><tr><th scope="col">class</th><th scope="col">entities added</th><th scope="col">entities removed</th><th scope="col">entities changed</th><th scope="col">triples added</th><th scope="col">triples removed</th></tr></thead>
<tbody>
{% for cls, c in cl.by_class.items() %}<tr><td><code>{{ compact(cls) if cls != untyped else cls }}</code></td><td class="ld-num">{{ c.entities_added }}</td><td class="ld-num">{{ c.entities_removed }}</td><td class="ld-num">{{ c.entities_changed }}</td><td class="ld-num">{{ c.triples_added }}</td><td class="ld-num">{{ c.triples_removed }}</td></tr>
{% endfor %}</tbody>
</table>
{% endif %}
{% if cl.old is not none %}{% for status in ["added", "changed", "removed"] %}{% set group = cl.entities|selectattr("status", "equalto", status)|list %}{% if group %}
<section class="changes-{{ status }}">
<h2>Entities {{ status }} ({{ group|length }})</h2>
{% for e in group %}<article>
<h3>{{ e.label }}</h3>
<p><code>{{ e.subject.value if e.subject.value is defined else e.subject }}</code> · {% for c in e.classes %}<code>{{ compact(c) }}</code> {% endfor %}</p>
<ul>
{% for line in lines_of(e) %}{% if line.kind == "changed" %}<li class="changed">changed <code>{{ line.predicate }}</code>: {% for v in line.old %}<del>{{ v }}</del> {% endfor %}→ {% for v in line.new %}<ins>{{ v }}</ins> {% endfor %}</li>
{% else %}{% for v in (line.new if line.kind == "added" else line.old) %}<li class="{{ line.kind }}">{{ line.kind }} <code>{{ line.predicate }}</code> {% if line.kind == "added" %}<ins>{{ v }}</ins>{% else %}<del>{{ v }}</del>{% endif %}</li>
{% endfor %}{% endif %}{% endfor %}</ul>
</article>
{% endfor %}</section>
{% endif %}{% endfor %}{% endif %}
<p>As data: <a href="changelog.ttl">changelog.ttl</a> (Changeset vocabulary); as Markdown: <a href="changelog.md">changelog.md</a>.</p>
</main>
</body>
</html>
"""


def to_html(cl: Changelog) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    summary = to_markdown(cl).split("\n")[2].replace("\\", "")
    return env.from_string(HTML).render(cl=cl, title=title(cl), summary=summary,
                                        compact=compact, lines_of=lines_of, untyped=UNTYPED)


def release_iri(version: str) -> str:
    return f"{DEFAULT_BASE}release/{version}"


def to_triples(cl: Changelog) -> list[ox.Triple]:
    """The changelog as RDF: Talis Changeset (one cs:ChangeSet per entity) and VoID counts.
    Every node has a hash IRI on the changelog document, so there are no blank nodes."""
    base = release_iri(cl.new) + "/changelog"
    doc = ox.NamedNode(base)
    out: list[ox.Triple] = []
    n = ox.NamedNode

    def add(s, p, o):
        out.append(ox.Triple(s, n(p), o))

    def lit(v, dt=None):
        return ox.Literal(str(v), datatype=n(PREFIXES["xsd"] + dt)) if dt else ox.Literal(v)

    def slug(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    add(doc, RDF_TYPE, n(PREFIXES["prov"] + "Entity"))
    add(doc, PREFIXES["dcterms"] + "title", ox.Literal(title(cl), language="en"))
    add(doc, PREFIXES["dcterms"] + "subject", n(release_iri(cl.new)))
    add(doc, PREFIXES["prov"] + "wasDerivedFrom", n(release_iri(cl.new)))
    if cl.old is not None:
        add(doc, PREFIXES["prov"] + "wasDerivedFrom", n(release_iri(cl.old)))
    for status, triples, entities in (("added", cl.total.triples_added, cl.total.entities_added),
                                      ("removed", cl.total.triples_removed,
                                       cl.total.entities_removed)):
        part = n(f"{base}#{status}")
        add(doc, PREFIXES["dcterms"] + "hasPart", part)
        add(part, RDF_TYPE, n(PREFIXES["void"] + "Dataset"))
        add(part, PREFIXES["dcterms"] + "title", ox.Literal(f"triples {status}", language="en"))
        add(part, PREFIXES["void"] + "triples", lit(triples, "integer"))
        add(part, PREFIXES["void"] + "entities", lit(entities, "integer"))
        for cls, c in cl.by_class.items():
            if cls == UNTYPED:
                continue
            cp = n(f"{base}#{status}-{slug(cls)}")
            add(part, PREFIXES["void"] + "classPartition", cp)
            add(cp, PREFIXES["void"] + "class", n(cls))
            add(cp, PREFIXES["void"] + "entities", lit(getattr(c, f"entities_{status}"), "integer"))
            add(cp, PREFIXES["void"] + "triples", lit(getattr(c, f"triples_{status}"), "integer"))
    if cl.old is None:
        return out
    for e in cl.entities:
        cs = n(f"{base}#change-{slug(str(e.subject))}")
        add(doc, PREFIXES["dcterms"] + "hasPart", cs)
        add(cs, RDF_TYPE, n(CS + "ChangeSet"))
        add(cs, CS + "subjectOfChange", e.subject)
        add(cs, CS + "changeReason", ox.Literal(f"{e.label}: entity {e.status}", language="en"))
        for kind, triples in (("addition", e.added), ("removal", e.removed)):
            for t in triples:
                st = n(f"{base}#statement-{slug(_line(t))}")
                add(cs, CS + kind, st)
                add(st, RDF_TYPE, n(PREFIXES["rdf"] + "Statement"))
                add(st, PREFIXES["rdf"] + "subject", t.subject)
                add(st, PREFIXES["rdf"] + "predicate", t.predicate)
                add(st, PREFIXES["rdf"] + "object", t.object)
    return out


def to_turtle(cl: Changelog) -> bytes:
    prefixes = {"cs": CS, **{p: PREFIXES[p] for p in ("rdf", "xsd", "void", "dcterms", "prov")}}
    lines = sorted({f"{t} .\n" for t in to_triples(cl)})
    triples = [q.triple for q in ox.parse("".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES)]
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)


def write_changelog(cl: Changelog, out: Path) -> list[Path]:
    """changelog.md, changelog.html and changelog.ttl in `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "changelog.md", out / "changelog.html", out / "changelog.ttl"]
    files[0].write_text(to_markdown(cl), encoding="utf-8")
    files[1].write_text(to_html(cl), encoding="utf-8")
    files[2].write_bytes(to_turtle(cl))
    return files


def cli_diff(args) -> int:
    import sys

    cl = diff_releases(args.old, args.new, inferred=args.inferred)
    if args.out:
        for path in write_changelog(cl, args.out):
            print(path, file=sys.stderr)
    elif args.format == "html":
        sys.stdout.write(to_html(cl))
    elif args.format == "ttl":
        sys.stdout.buffer.write(to_turtle(cl))
    else:
        sys.stdout.write(to_markdown(cl))
    return 0
