"""The changelog between two releases (diff.Changelog), rendered three ways, all deterministic
(sorted, no clock): Markdown and HTML for people, Turtle for machines in the Talis Changeset
vocabulary (one cs:ChangeSet per entity with reified cs:addition / cs:removal statements) with
the counts as VoID class partitions; and ``isecg-kg diff``.
"""

from __future__ import annotations

import hashlib
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.builder.diff import (
    UNTYPED,
    Changelog,
    EntityChange,
    compact,
    diff_releases,
    triple_line,
)
from isecg_kg.builder.serialize import sorted_graph
from isecg_kg.config import PREFIXES, release_iri
from isecg_kg.rdf import CS, DCT, PROV, RDF, RDF_TYPE, VOID, XSD, adder, literal_text


def term_text(term: ox.Term, labels: dict | None = None) -> str:
    """A term as people read it: prefixed names, literals with language or datatype."""
    if isinstance(term, ox.NamedNode):
        return compact(term.value)
    if isinstance(term, ox.Literal):
        return literal_text(term, compact)
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
"""  # noqa: E501 (a Jinja template: its lines are the page's markup, whitespace and all)


def to_html(cl: Changelog) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    summary = to_markdown(cl).split("\n")[2].replace("\\", "")
    return env.from_string(HTML).render(cl=cl, title=title(cl), summary=summary,
                                        compact=compact, lines_of=lines_of, untyped=UNTYPED)


def to_triples(cl: Changelog) -> list[ox.Triple]:
    """The changelog as RDF: Talis Changeset (one cs:ChangeSet per entity) and VoID counts.
    Every node has a hash IRI on the changelog document, so there are no blank nodes."""
    base = release_iri(cl.new) + "/changelog"
    doc = ox.NamedNode(base)
    out: list[ox.Triple] = []
    n = ox.NamedNode
    add = adder(out)

    def lit(v, dt=None):
        return ox.Literal(str(v), datatype=n(XSD + dt)) if dt else ox.Literal(v)

    def slug(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    add(doc, RDF_TYPE, n(PROV + "Entity"))
    add(doc, DCT + "title", ox.Literal(title(cl), language="en"))
    add(doc, DCT + "subject", n(release_iri(cl.new)))
    add(doc, PROV + "wasDerivedFrom", n(release_iri(cl.new)))
    if cl.old is not None:
        add(doc, PROV + "wasDerivedFrom", n(release_iri(cl.old)))
    for status, triples, entities in (("added", cl.total.triples_added, cl.total.entities_added),
                                      ("removed", cl.total.triples_removed,
                                       cl.total.entities_removed)):
        part = n(f"{base}#{status}")
        add(doc, DCT + "hasPart", part)
        add(part, RDF_TYPE, n(VOID + "Dataset"))
        add(part, DCT + "title", ox.Literal(f"triples {status}", language="en"))
        add(part, VOID + "triples", lit(triples, "integer"))
        add(part, VOID + "entities", lit(entities, "integer"))
        for cls, c in cl.by_class.items():
            if cls == UNTYPED:
                continue
            cp = n(f"{base}#{status}-{slug(cls)}")
            add(part, VOID + "classPartition", cp)
            add(cp, VOID + "class", n(cls))
            add(cp, VOID + "entities", lit(getattr(c, f"entities_{status}"), "integer"))
            add(cp, VOID + "triples", lit(getattr(c, f"triples_{status}"), "integer"))
    if cl.old is None:
        return out
    for e in cl.entities:
        cs = n(f"{base}#change-{slug(str(e.subject))}")
        add(doc, DCT + "hasPart", cs)
        add(cs, RDF_TYPE, n(CS + "ChangeSet"))
        add(cs, CS + "subjectOfChange", e.subject)
        add(cs, CS + "changeReason", ox.Literal(f"{e.label}: entity {e.status}", language="en"))
        for kind, triples in (("addition", e.added), ("removal", e.removed)):
            for t in triples:
                st = n(f"{base}#statement-{slug(triple_line(t))}")
                add(cs, CS + kind, st)
                add(st, RDF_TYPE, n(RDF + "Statement"))
                add(st, RDF + "subject", t.subject)
                add(st, RDF + "predicate", t.predicate)
                add(st, RDF + "object", t.object)
    return out


def to_turtle(cl: Changelog) -> bytes:
    prefixes = {"cs": CS, **{p: PREFIXES[p] for p in ("rdf", "xsd", "void", "dcterms", "prov")}}
    return ox.serialize(sorted_graph(to_triples(cl)), format=ox.RdfFormat.TURTLE,
                        prefixes=prefixes)


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
