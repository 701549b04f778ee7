"""The catalogue of kept releases: which are here, and their DCAT 3 description as a series.

``kept_releases(registry, directory)`` pairs every entry of the registry (release.Registry) with
its release directory, checked against the registry's digest; ``catalogue_triples`` describes
them as a ``dcat:DatasetSeries`` (https://w3id.org/isecg/releases, ``dcat:hasCurrentVersion``
the newest) whose members are ``dcat:Dataset``s (https://w3id.org/isecg/release/VERSION) with
``dcat:version``, ``dcat:previousVersion``, ``dcterms:issued``, version notes (the changelog's
summary) and every file as a distribution with byte size and SHA-256. No clock, no blank nodes:
the same registry and directories give the same triples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.builder.release import Entry, Registry, check_directory
from isecg_kg.config import DEFAULT_BASE, SERIES_IRI, release_iri
from isecg_kg.rdf import (
    ADMS,
    CC0,
    DCAT,
    DCT,
    IANA,
    RDF,
    RDFS,
    SPDX,
    VOID,
    XSD,
    media_type,
    used_prefixes,
)

CHANGELOG_TYPES = {"changelog.md": "text/markdown", "changelog.html": "text/html"}


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


def file_type(name: str) -> str:
    return CHANGELOG_TYPES.get(name) or ("text/plain" if name == "SHA256SUMS"
                                         else media_type(name))


def catalogue_triples(kept: list[Kept]) -> list[ox.Triple]:
    n = ox.NamedNode
    out: list[ox.Triple] = []

    def add(s, p, o):
        out.append(ox.Triple(s, n(p), o))

    def integer(v: int) -> ox.Literal:
        return ox.Literal(str(v), datatype=n(XSD + "integer"))

    series = n(SERIES_IRI)
    add(series, RDF + "type", n(DCAT + "DatasetSeries"))
    add(series, DCT + "title", ox.Literal("ISECG knowledge graph: every release", language="en"))
    add(series, DCT + "description", ox.Literal(
        "Each release of the ISECG knowledge graph is kept unchanged, with its dumps, VoID, "
        "SHACL report and the changelog from the release before.", language="en"))
    add(series, DCT + "license", n(CC0))
    add(series, DCAT + "landingPage", n(DEFAULT_BASE + "releases.html"))
    oldest_first = sorted(kept, key=lambda k: tuple(int(x) for x in k.version.split(".")))
    if oldest_first:
        add(series, DCAT + "hasCurrentVersion", n(release_iri(oldest_first[-1].version)))
        add(series, DCAT + "first", n(release_iri(oldest_first[0].version)))
        add(series, DCAT + "last", n(release_iri(oldest_first[-1].version)))
    previous = None
    for k in oldest_first:
        ds = n(release_iri(k.version))
        add(series, DCAT + "hasVersion", ds)
        add(series, DCAT + "seriesMember", ds)
        add(ds, RDF + "type", n(DCAT + "Dataset"))
        add(ds, RDF + "type", n(VOID + "Dataset"))
        add(ds, DCT + "title", ox.Literal(f"ISECG knowledge graph, release {k.version}",
                                          language="en"))
        add(ds, DCAT + "version", ox.Literal(k.version))
        add(ds, DCAT + "inSeries", series)
        add(ds, DCT + "isVersionOf", series)
        add(ds, DCT + "issued", ox.Literal(k.entry.issued, datatype=n(XSD + "date")))
        add(ds, DCT + "license", n(CC0))
        add(ds, DCT + "identifier", ox.Literal(f"git commit {k.entry.commit}"))
        if previous is not None:
            add(ds, DCAT + "previousVersion", n(release_iri(previous)))
            add(ds, DCAT + "prev", n(release_iri(previous)))
        previous = k.version
        base = release_iri(k.version) + "/"
        if k.summary:
            add(ds, ADMS + "versionNotes", ox.Literal(k.summary, language="en"))
        if not k.available:
            continue
        add(ds, RDFS + "seeAlso", n(base + "void.ttl"))
        add(ds, RDFS + "seeAlso", n(base + "changelog.html"))
        for name, digest in sorted(k.sums.items()):
            url = n(base + name)
            dist = n(f"{base}{name}#distribution")
            if name in ("isecg.nt", "isecg.nq", "isecg.ttl"):
                add(ds, VOID + "dataDump", url)
            add(ds, DCAT + "distribution", dist)
            add(dist, RDF + "type", n(DCAT + "Distribution"))
            add(dist, DCT + "title", ox.Literal(name))
            add(dist, DCAT + "downloadURL", url)
            add(dist, DCAT + "accessURL", url)
            add(dist, DCAT + "mediaType", n(IANA + file_type(name)))
            if name.endswith(".gz"):
                add(dist, DCAT + "compressFormat", n(IANA + "application/gzip"))
                add(dist, DCAT + "packageFormat", n(IANA + media_type(name[:-3])))
            add(dist, DCAT + "byteSize", integer((k.directory / name).stat().st_size))
            add(dist, DCT + "license", n(CC0))
            checksum = n(f"{base}{name}#sha256")
            add(dist, SPDX + "checksum", checksum)
            add(checksum, RDF + "type", n(SPDX + "Checksum"))
            add(checksum, SPDX + "algorithm", n(SPDX + "checksumAlgorithm_sha256"))
            add(checksum, SPDX + "checksumValue", ox.Literal(digest,
                                                             datatype=n(XSD + "hexBinary")))
    return out


def catalogue_turtle(kept: list[Kept]) -> bytes:
    from isecg_kg.builder.serialize import graph_lines, parse_lines

    triples = parse_lines(graph_lines(catalogue_triples(kept)))
    prefixes = {**used_prefixes(triples), "adms": ADMS, "spdx": SPDX}
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
