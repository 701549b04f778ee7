"""Describe the release: VoID statistics and DCAT 3 distributions of every dump.

Every node has a hash IRI on the VoID document (…/void#…), so the description holds no blank
nodes and is dereferenceable as a whole. Nothing here depends on the clock: the same dumps give
the same void.ttl.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.checksums import sha256
from isecg_kg.config import (
    DATASET_IRI,
    DEFAULT_BASE,
    ID_BASE,
    ONTOLOGY_IRI,
    SERIES_IRI,
    VOID_IRI,
    WIKIDATA_ENTITY,
    release_iri,
)
from isecg_kg.rdf import CC0, DCAT, DCT, FOAF, IANA, OWL, RDF, SKOS, SPDX, VOID, XSD, media_type

SOURCE_DOCUMENTS = ("nasa-about-isecg", "exploring-together", "isecg-15th-anniversary")


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=_n(XSD + "integer"))


def _slug(iri: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in iri.split("//", 1)[-1]).strip("-")


def _adder(out: list[ox.Triple]):
    def add(s, p, o):
        out.append(ox.Triple(s, _n(p), o))
    return add


def _lit(text: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def describe_data(asserted: list[ox.Triple], registry=None) -> list[ox.Triple]:
    """VoID triples of the dataset these triples make: header, version, statistics, partitions,
    linkset. The version and the previous release come from the registry (release.Registry) of
    the sources; a source tree without one makes an unversioned dataset.

    Apart from describe_release so the build can compute them while the reasoner runs.
    """
    ds = _n(DATASET_IRI)
    out: list[ox.Triple] = []
    add = _adder(out)
    add(ds, RDF + "type", _n(VOID + "Dataset"))
    add(ds, RDF + "type", _n(DCAT + "Dataset"))
    add(ds, DCT + "title", _lit("ISECG knowledge graph", "en"))
    add(ds, DCT + "description", _lit(
        "The International Space Exploration Coordination Group: its member space agencies and "
        "their countries, the documents they wrote together, who contributed to what, and the "
        "source of every claim.", "en"))
    add(ds, DCT + "license", _n(CC0))
    version = registry.version if registry is not None else None
    if version is not None:
        add(ds, OWL + "versionInfo", _lit(version))
        add(ds, DCAT + "version", _lit(version))
        add(ds, DCAT + "inSeries", _n(SERIES_IRI))
        add(ds, DCT + "isVersionOf", _n(SERIES_IRI))
        previous = registry.previous(version)
        if previous is not None:
            add(ds, DCAT + "previousVersion", _n(release_iri(previous.version)))
    add(ds, VOID + "uriSpace", _lit(ID_BASE))
    add(ds, VOID + "rootResource", _n(ID_BASE + "group/isecg"))
    add(ds, VOID + "vocabulary", _n(ONTOLOGY_IRI))
    add(ds, VOID + "sparqlEndpoint", _n(DEFAULT_BASE + "sparql"))
    add(ds, DCAT + "landingPage", _n(DEFAULT_BASE))
    for doc in SOURCE_DOCUMENTS:
        add(ds, DCT + "source", _n(ID_BASE + "document/" + doc))

    subjects = {t.subject for t in asserted}
    entities = {s for s in subjects if isinstance(s, ox.NamedNode) and s.value.startswith(ID_BASE)}
    add(ds, VOID + "triples", _int(len(asserted)))
    add(ds, VOID + "entities", _int(len(entities)))
    add(ds, VOID + "distinctSubjects", _int(len(subjects)))
    add(ds, VOID + "distinctObjects", _int(len({t.object for t in asserted})))
    classes = Counter(t.object.value for t in asserted
                      if t.predicate.value == RDF + "type" and isinstance(t.object, ox.NamedNode)
                      and isinstance(t.subject, ox.NamedNode)
                      and t.subject.value.startswith(ID_BASE))
    properties = Counter(t.predicate.value for t in asserted)
    add(ds, VOID + "classes", _int(len(classes)))
    add(ds, VOID + "properties", _int(len(properties)))
    for cls, n in sorted(classes.items()):
        part = _n(f"{VOID_IRI}#class-{_slug(cls)}")
        add(ds, VOID + "classPartition", part)
        add(part, VOID + "class", _n(cls))
        add(part, VOID + "entities", _int(n))
    for prop, n in sorted(properties.items()):
        part = _n(f"{VOID_IRI}#property-{_slug(prop)}")
        add(ds, VOID + "propertyPartition", part)
        add(part, VOID + "property", _n(prop))
        add(part, VOID + "triples", _int(n))

    inf = _n(VOID_IRI + "#inferred")
    add(ds, VOID + "subset", inf)
    add(inf, RDF + "type", _n(VOID + "Dataset"))
    add(inf, DCT + "title", _lit("Entailments of the ISECG knowledge graph", "en"))
    add(inf, DCT + "description", _lit(
        "Triples entailed by the ontology (RDFS and the OWL RL rules it uses) and not asserted.",
        "en"))

    links = [t for t in asserted if t.predicate.value == SKOS + "exactMatch"
             and isinstance(t.object, ox.NamedNode) and t.object.value.startswith(WIKIDATA_ENTITY)
             and t.subject.value.startswith(ID_BASE)]
    wd, linkset = _n(VOID_IRI + "#wikidata"), _n(VOID_IRI + "#wikidata-links")
    add(wd, RDF + "type", _n(VOID + "Dataset"))
    add(wd, DCT + "title", _lit("Wikidata", "en"))
    add(wd, FOAF + "homepage", _n("https://www.wikidata.org/"))
    add(wd, VOID + "uriSpace", _lit(WIKIDATA_ENTITY))
    add(ds, VOID + "subset", linkset)
    add(linkset, RDF + "type", _n(VOID + "Linkset"))
    add(linkset, VOID + "subjectsTarget", ds)
    add(linkset, VOID + "objectsTarget", wd)
    add(linkset, VOID + "linkPredicate", _n(SKOS + "exactMatch"))
    add(linkset, VOID + "triples", _int(len(links)))
    return out


def describe_release(data: list[ox.Triple], inferred_count: int, dumps: list[Path],
                     digest: Callable[[Path], str] = sha256) -> list[ox.Triple]:
    """VoID + DCAT triples for a release: describe_data's triples, the count of entailments
    and every dump file with its size and SHA-256 (`digest`, so known sums are not redone)."""
    ds = _n(DATASET_IRI)
    out = list(data)
    add = _adder(out)
    add(_n(VOID_IRI + "#inferred"), VOID + "triples", _int(inferred_count))
    for path in sorted(dumps, key=lambda p: p.name):
        dist = _n(f"{VOID_IRI}#dump-{_slug(path.name)}")
        url = _n(DEFAULT_BASE + "dumps/" + path.name)
        add(ds, DCAT + "distribution", dist)
        if path.name in ("isecg.nt", "isecg.nq", "isecg.ttl"):
            add(ds, VOID + "dataDump", url)
        add(dist, RDF + "type", _n(DCAT + "Distribution"))
        add(dist, DCT + "title", _lit(path.name))
        add(dist, DCAT + "downloadURL", url)
        add(dist, DCAT + "accessURL", url)
        add(dist, DCAT + "mediaType", _n(IANA + media_type(path.name)))
        if path.suffix == ".gz":
            add(dist, DCAT + "compressFormat", _n(IANA + "application/gzip"))
            add(dist, DCAT + "packageFormat", _n(IANA + media_type(path.stem)))
        add(dist, DCAT + "byteSize", _int(path.stat().st_size))
        add(dist, DCT + "license", _n(CC0))
        checksum = _n(f"{VOID_IRI}#checksum-{_slug(path.name)}")
        add(dist, SPDX + "checksum", checksum)
        add(checksum, RDF + "type", _n(SPDX + "Checksum"))
        add(checksum, SPDX + "algorithm", _n(SPDX + "checksumAlgorithm_sha256"))
        add(checksum, SPDX + "checksumValue", ox.Literal(digest(path),
                                                         datatype=_n(XSD + "hexBinary")))
    return out

