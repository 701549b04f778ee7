"""What changed between two releases, by entity: the semantic changelog.

``diff_releases(old, new)`` compares two releases (build or release directories, or dump files)
and returns a Changelog: for every subject whose statements differ, the statements added and
removed, grouped under the entity's label, and per class the entities and triples added and
removed. Blank-node labels are ignored (each side is canonicalized with RDFC-1.0 first, so
isomorphic graphs have no difference); the inferred graph is left out unless asked for, since
one changed fact moves many entailments.

The changelog's renderings (Markdown, HTML, Turtle) are in ``changelog``.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from isecg_kg import formats
from isecg_kg.config import GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY
from isecg_kg.errors import InputError
from isecg_kg.rdf import DCT, ISECG, RDF_TYPE, RDFS, SKOS, qname

UNTYPED = "(untyped)"
LABELS = (SKOS + "prefLabel", RDFS + "label", DCT + "title", ISECG + "acronym")
# The files a release may be compared from: a dump in any RDF syntax (each also .gz).
FORMATS = {"." + f.suffix: f.oxigraph_format() for f in formats.documents()}


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
    from isecg_kg.builder.void import version_of

    return version_of(directory / "void.ttl")


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
    for t in sorted(triples, key=triple_line):
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
    """A prefixed name whose local part has no '/' or '#', else <iri>."""
    return qname(iri, lambda local: "/" not in local and "#" not in local) or f"<{iri}>"


def triple_line(t: ox.Triple) -> str:
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
        change.added.sort(key=triple_line)
        change.removed.sort(key=triple_line)
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
