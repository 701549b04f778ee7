"""The catalogue of kept releases: which are here, and their DCAT-AP 3 description.

``kept_releases(registry, directory)`` pairs every entry of the registry (release.Registry) with
its release directory, checked against the registry's digest; ``catalogue_triples`` describes
them: the one ``dcat:Catalog`` (with its publisher, contact point and the SPARQL endpoint as a
``dcat:DataService``), the ``dcat:DatasetSeries`` (https://w3id.org/isecg/releases,
``dcat:hasCurrentVersion`` the newest) and every release as a ``dcat:Dataset``
(https://w3id.org/isecg/release/VERSION) with ``dcat:version``, ``dcat:previousVersion``,
``dcterms:issued``, a description, version notes (the changelog's summary) and every file of it
as a distribution at /release/VERSION/FILE with byte size and SHA-256 (builder/dcat.py, the same
function the build's VoID uses). A release whose own void.ttl does not describe its own files
(0.1.0 and 0.2.0 name /dumps/) has the erratum in its description, found by reading that file.
No clock, no blank nodes: the same registry and directories give the same triples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.builder import dcat
from isecg_kg.builder.dcat import n, text
from isecg_kg.builder.release import Entry, Registry, check_directory
from isecg_kg.config import DEFAULT_BASE, SERIES_IRI, release_iri
from isecg_kg.rdf import ADMS, DCAT, DCT, RDF, RDFS, SPDX, VOID, XSD, adder

SERVICE_IRI = DEFAULT_BASE + "sparql"


@dataclass
class Kept:
    entry: Entry
    directory: Path
    problems: list[str] = field(default_factory=list)  # empty: present and checked
    sums: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256

    @property
    def version(self) -> str:
        return self.entry.version

    @property
    def available(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str | None:
        """The changelog's summary sentence (its third line)."""
        path = self.directory / "changelog.md"
        if not self.available or not path.is_file():
            return None
        lines = path.read_text(encoding="utf-8").splitlines()
        return lines[2].replace("\\", "") if len(lines) > 2 else None

    @property
    def description(self) -> str:
        """What the release is, in words, with the erratum of its void.ttl where it has one."""
        text_ = (f"Release {self.version} of the ISECG knowledge graph, issued "
                 f"{self.entry.issued} and built from git commit {self.entry.commit}: its dumps "
                 "(the asserted graph, the entailments, and both as named graphs), VoID, SHACL "
                 "report and changelog.")
        return text_ + (" Erratum: " + self.erratum if self.erratum else "")

    @cached_property
    def years(self) -> tuple[str, str] | None:
        """The first and last year its asserted dump dates anything in (dcat.time_span)."""
        path = self.directory / "isecg.nt"
        if not self.available or not path.is_file():
            return None
        values = []
        with open(path, "rb") as f:
            for line in f:
                if b"2006/time#inXSD" in line:
                    t = next(iter(ox.parse(line, format=ox.RdfFormat.N_TRIPLES)))
                    values.append((t.predicate.value, t.object.value))
        return dcat.time_span(values)

    @cached_property
    def erratum(self) -> str | None:
        """What the release's own void.ttl gets wrong about its files, in words; None when it
        names each of them at /release/VERSION/ under the release's IRI."""
        path = self.directory / "void.ttl"
        if not self.available or not path.is_file():
            return None
        base, iri = release_iri(self.version) + "/", release_iri(self.version)
        triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        value = {(t.subject, t.predicate.value): t.object for t in triples}
        urls = {t.subject: t.object.value for t in triples
                if t.predicate.value == DCAT + "downloadURL"}
        named = {t.subject.value for t in triples if t.predicate.value == DCAT + "version"}
        elsewhere = sorted({u.rsplit("/", 1)[0] + "/" for u in urls.values()
                            if not u.startswith(base)})
        if not elsewhere and named <= {iri}:
            return None

        def own(dist, url: str) -> bool:
            name = url.rsplit("/", 1)[-1]
            size = value.get((dist, DCAT + "byteSize"))
            checksum = value.get((dist, SPDX + "checksum"))
            digest = value.get((checksum, SPDX + "checksumValue"))
            return (name in self.sums and size is not None and digest is not None
                    and int(size.value) == (self.directory / name).stat().st_size
                    and digest.value == self.sums[name])

        words = ["The void.ttl kept in this release (written when it was built and never "
                 "rewritten)"]
        if elsewhere:
            words.append(f"names its files at {', '.join(elsewhere)}, where the current release "
                         "is served, so once a newer release is out they are that release's "
                         "files, of other sizes and checksums")
        if named - {iri}:
            words.append(("and " if elsewhere else "") + "calls the dataset "
                         + ", ".join(sorted(named - {iri})) + f", not {iri}")
        text_ = " ".join(words) + ". "
        text_ += ("The sizes and SHA-256 it gives are those of this release's own files. "
                  if all(own(d, u) for d, u in urls.items()) else
                  "Not every size or SHA-256 it gives is that of this release's own file. ")
        return text_ + f"This release's files are those listed here, at {base}."


def kept_releases(registry: Registry, directory: Path) -> list[Kept]:
    """Every release of the registry, newest first, each checked in `directory`/VERSION."""
    out = []
    for entry in reversed(registry.releases):
        where = Path(directory) / entry.version
        if not where.is_dir():
            out.append(Kept(entry, where, ["not built here (run `isecg-kg release`)"]))
            continue
        problems = check_directory(where, entry)
        sums = {}
        if not problems:
            for line in (where / "SHA256SUMS").read_text(encoding="ascii").splitlines():
                digest, _, name = line.partition("  ")
                sums[name] = digest
        out.append(Kept(entry, where, problems, sums))
    return out


def catalogue_triples(kept: list[Kept]) -> list[ox.Triple]:
    out: list[ox.Triple] = []
    add = adder(out)
    oldest_first = sorted(kept, key=lambda k: tuple(int(x) for x in k.version.split(".")))
    releases = [release_iri(k.version) for k in oldest_first]
    dcat.catalog(add, [SERIES_IRI, *releases], service=SERVICE_IRI,
                 issued=oldest_first[0].entry.issued if oldest_first else None,
                 modified=oldest_first[-1].entry.issued if oldest_first else None)
    service = n(SERVICE_IRI)
    add(service, RDF + "type", n(DCAT + "DataService"))
    add(service, DCT + "title", text("SPARQL endpoint of the ISECG knowledge graph"))
    add(service, DCT + "description", text(
        "SPARQL 1.1 over the current release (ontology, data and entailments); earlier "
        "releases are downloads."))
    add(service, DCAT + "endpointURL", service)
    add(service, DCAT + "endpointDescription", service)  # it answers its service description
    add(service, DCT + "conformsTo", n("https://www.w3.org/TR/sparql11-protocol/"))
    add(n("https://www.w3.org/TR/sparql11-protocol/"), RDF + "type", n(DCT + "Standard"))
    dcat.published(add, service)
    add(service, DCAT + "theme", n(dcat.THEME))
    for word in dcat.KEYWORDS:
        add(service, DCAT + "keyword", text(word))
    if releases:
        add(service, DCAT + "servesDataset", n(releases[-1]))

    series = n(SERIES_IRI)
    dcat.series(add)
    if oldest_first:
        add(series, DCAT + "hasCurrentVersion", n(releases[-1]))
        add(series, DCAT + "first", n(releases[0]))
        add(series, DCAT + "last", n(releases[-1]))
    previous = None
    for k in oldest_first:
        ds = n(release_iri(k.version))
        add(series, DCAT + "hasVersion", ds)
        add(series, DCAT + "seriesMember", ds)
        dcat.dataset(add, ds, f"ISECG knowledge graph, release {k.version}", k.description,
                     f"{dcat.RELEASES_PAGE}#release-{k.version}")
        add(ds, RDF + "type", n(VOID + "Dataset"))
        add(ds, DCAT + "version", ox.Literal(k.version))
        add(ds, DCAT + "inSeries", series)
        add(ds, DCT + "isVersionOf", series)
        add(ds, DCT + "issued", ox.Literal(k.entry.issued, datatype=n(XSD + "date")))
        add(ds, DCT + "identifier", ox.Literal(f"git commit {k.entry.commit}"))
        if previous is not None:
            add(ds, DCAT + "previousVersion", n(release_iri(previous)))
            add(ds, DCAT + "prev", n(release_iri(previous)))
        previous = k.version
        base = release_iri(k.version) + "/"
        if k.summary:
            add(ds, ADMS + "versionNotes", text(k.summary))
        if not k.available:
            continue
        dcat.temporal(add, ds, k.years)
        add(ds, RDFS + "seeAlso", n(base + "void.ttl"))
        add(ds, RDFS + "seeAlso", n(base + "changelog.html"))
        for name, digest in sorted(k.sums.items()):
            if name in ("isecg.nt", "isecg.nq", "isecg.ttl"):
                add(ds, VOID + "dataDump", n(base + name))
            dcat.distribution(add, ds, base + name, (k.directory / name).stat().st_size,
                              digest, stable=True)
    return dcat.typed_terms(out)


def catalogue_turtle(kept: list[Kept]) -> bytes:
    from isecg_kg.builder.serialize import sorted_graph

    triples = sorted_graph(catalogue_triples(kept))
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=dcat.prefixes(triples))
