"""Every figure the build's VoID gives is the count, recounted here from the dumps themselves
(not from the code that wrote it): the dataset's triples are those of isecg.nq (asserted and
entailed), its two subsets' those of isecg.nt and isecg-inferred.nt, the asserted subset's
entities, subjects, objects, classes and properties and each partition, the Wikidata linkset,
the years of dct:temporal, and every distribution's size and SHA-256."""

from __future__ import annotations

import hashlib
from collections import defaultdict

import pyoxigraph as ox
import pytest
from conftest import ROOT
from isecg_kg.builder.release import read_registry

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
SPDX = "http://spdx.org/rdf/terms#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
ID = "https://w3id.org/isecg/id/"
SAME_AS = "https://schema.org/sameAs"
WIKIDATA = "http://www.wikidata.org/entity/"


@pytest.fixture(scope="module")
def void(dist) -> dict:
    """The VoID as subject -> predicate -> [values]."""
    out: dict = defaultdict(lambda: defaultdict(list))
    for t in ox.parse(path=str(dist / "void.ttl"), format=ox.RdfFormat.TURTLE):
        out[t.subject.value][t.predicate.value].append(t.object.value)
    return out


@pytest.fixture(scope="module")
def dataset(void) -> str:
    version = read_registry(ROOT).version
    iri = f"https://w3id.org/isecg/release/{version}"
    assert void[iri][DCAT + "version"] == [version]
    return iri


def one(void, subject: str, predicate: str) -> str:
    values = void[subject][predicate]
    assert len(values) == 1, (subject, predicate, values)
    return values[0]


def read(path) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)]


def test_the_dataset_is_what_the_endpoint_holds_and_its_subsets_add_up(dist, void, dataset):
    quads = list(ox.parse(path=str(dist / "isecg.nq"), format=ox.RdfFormat.N_QUADS))
    union = {q.triple for q in quads}
    asserted, inferred = read(dist / "isecg.nt"), read(dist / "isecg-inferred.nt")
    assert int(one(void, dataset, VOID + "triples")) == len(union)
    subsets = set(void[dataset][VOID + "subset"])
    assert {dataset + "#asserted", dataset + "#inferred"} <= subsets
    assert int(one(void, dataset + "#asserted", VOID + "triples")) == len(set(asserted))
    assert int(one(void, dataset + "#inferred", VOID + "triples")) == len(set(inferred))
    # each subset is inside the dataset, and together they are all of it
    assert set(asserted) | set(inferred) == union
    assert not set(asserted) & set(inferred)


def test_the_asserted_statistics_are_the_counts(dist, void, dataset):
    asserted = set(read(dist / "isecg.nt"))
    part = dataset + "#asserted"
    subjects = {t.subject for t in asserted}
    assert int(one(void, part, VOID + "distinctSubjects")) == len(subjects)
    assert int(one(void, part, VOID + "distinctObjects")) == len({t.object for t in asserted})
    assert int(one(void, part, VOID + "entities")) == len(
        {s for s in subjects if isinstance(s, ox.NamedNode) and s.value.startswith(ID)})
    instances = defaultdict(set)
    for t in asserted:
        if t.predicate.value == RDF_TYPE:
            instances[t.object.value].add(t.subject)
    properties = defaultdict(int)
    for t in asserted:
        properties[t.predicate.value] += 1
    assert int(one(void, part, VOID + "classes")) == len(instances)
    assert int(one(void, part, VOID + "properties")) == len(properties)
    partitions = {one(void, p, VOID + "class"): int(one(void, p, VOID + "entities"))
                  for p in void[part][VOID + "classPartition"]}
    assert partitions == {c: len(s) for c, s in instances.items()}
    partitions = {one(void, p, VOID + "property"): int(one(void, p, VOID + "triples"))
                  for p in void[part][VOID + "propertyPartition"]}
    assert partitions == dict(properties)


def test_the_linkset_counts_every_wikidata_link(dist, void, dataset):
    links = [t for t in read(dist / "isecg.nt") if t.predicate.value == SAME_AS
             and t.object.value.startswith(WIKIDATA)]
    linkset = dataset + "#wikidata-links"
    assert linkset in void[dataset + "#asserted"][VOID + "subset"]
    assert one(void, linkset, VOID + "linkPredicate") == SAME_AS
    assert int(one(void, linkset, VOID + "triples")) == len(links)
    # wikidata.md gives QIDs for 24 member agencies and BNSC, 25 countries, Europe, Moon, Mars,
    # Socrates, Laozi, the International Space Station, and the class "space agency"
    assert len(links) == 25 + 25 + 1 + 2 + 2 + 1 + 1


def test_the_temporal_coverage_is_the_span_of_the_datas_instants(dist, void, dataset):
    years = sorted(t.object.value[:4] for t in read(dist / "isecg.nt")
                   if t.predicate.value.startswith("http://www.w3.org/2006/time#inXSD"))
    period = one(void, dataset, DCT + "temporal")
    assert one(void, period, DCAT + "startDate") == years[0]
    assert one(void, period, DCAT + "endDate") == years[-1]


def test_every_distribution_is_a_file_of_the_build_with_its_size_and_sha256(dist, void, dataset):
    base = dataset + "/"
    dists = void[dataset][DCAT + "distribution"]
    names = set()
    for d in dists:
        url = one(void, d, DCAT + "downloadURL")
        assert url.startswith(base)
        name = url[len(base):]
        names.add(name)
        assert int(one(void, d, DCAT + "byteSize")) == (dist / name).stat().st_size
        checksum = one(void, d, SPDX + "checksum")
        assert one(void, checksum, SPDX + "checksumValue") == \
            hashlib.sha256((dist / name).read_bytes()).hexdigest()
        media = one(void, d, DCAT + "mediaType")
        if name.endswith(".gz"):  # DCAT 3: the payload's media type, and gzip as compression
            assert one(void, d, DCAT + "compressFormat").endswith("/application/gzip")
            assert not media.endswith("/application/gzip")
        else:
            assert not void[d][DCAT + "compressFormat"]
    dumps = {p.name for p in dist.iterdir() if p.is_file()} - {"void.ttl", "SHA256SUMS",
                                                               "shacl-report.ttl"}
    assert names == dumps


def test_statistics_read_off_sorted_lines_count_terms():
    """statistics reads N-Triples bytes: subjects that prefix one another, blank nodes, a
    literal and an IRI of the same text, a literal holding an IRI's text are each counted as
    the terms they are."""
    from isecg_kg.builder.serialize import graph_lines
    from isecg_kg.builder.void import statistics

    a, ab, b = ox.NamedNode(ID + "a"), ox.NamedNode(ID + "a/b"), ox.BlankNode("x")
    same, typ = ox.NamedNode(SAME_AS), ox.NamedNode(RDF_TYPE)
    cls, q = ox.NamedNode("http://example.org/C"), ox.NamedNode(WIKIDATA + "Q1")
    triples = [ox.Triple(a, typ, cls), ox.Triple(ab, typ, cls), ox.Triple(b, typ, cls),
               ox.Triple(a, same, q), ox.Triple(ab, same, ox.Literal(WIKIDATA + "Q1")),
               ox.Triple(b, same, ox.Literal(f"<{WIKIDATA}Q2> .")), ox.Triple(ab, same, q),
               ox.Triple(b, typ, ox.Literal("C"))]
    stats = statistics(graph_lines(triples))
    assert stats == {"triples": 8, "entities": 2, "distinctSubjects": 3, "distinctObjects": 5,
                     "classes": {cls.value: 3}, "properties": {RDF_TYPE: 4, SAME_AS: 4},
                     "wikidataLinks": 2}
