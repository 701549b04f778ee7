"""DCAT-AP 3 descriptions that the build's VoID (void.py) and the releases catalogue (catalog.py)
share: the one catalog with its publisher and contact point, the series, what every release
says about itself, and the one function that describes a file as a distribution with its
checksum.

DCAT-AP 3.0.1 checks the class of every value in the description itself (its range.ttl), so the
third-party IRIs used as values (IANA media types, EU file types, the licence, the landing
pages, the theme, the language, the availability) are typed here, once per document
(``typed_terms``), with the labels their publishers give them. No clock, no blank nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pyoxigraph as ox

from isecg_kg import formats, rdf
from isecg_kg.builder.quickstatements import FILE as QUICKSTATEMENTS
from isecg_kg.builder.quickstatements import PLACEHOLDER
from isecg_kg.config import (
    CATALOG_IRI,
    CONTACT_IRI,
    DEFAULT_BASE,
    PUBLISHER_IRI,
    SERIES_IRI,
)
from isecg_kg.rdf import (
    ADMS,
    CC0,
    DCAT,
    DCATAP,
    DCT,
    EU_AUTHORITY,
    FOAF,
    IANA,
    RDF,
    SKOS,
    SPDX,
    TIME,
    VCARD,
    XSD,
    used_prefixes,
)

Add = Callable[[ox.NamedNode, str, ox.NamedNode | ox.Literal], None]

TITLE = "ISECG knowledge graph"
DESCRIPTION = ("The International Space Exploration Coordination Group: its member space "
               "agencies and their countries, the documents they wrote together, who "
               "contributed to what, and the source of every claim.")
SERIES_DESCRIPTION = ("Each release of the ISECG knowledge graph is kept unchanged, with its "
                      "dumps, VoID, SHACL report and the changelog from the release before; "
                      "each can be rebuilt byte for byte from its git commit.")
PUBLISHER_NAME = "isecg-kg developers"  # the ontology's creator; no mail address is published
KEYWORDS = ("International Space Exploration Coordination Group", "ISECG", "space agency",
            "space exploration", "Global Exploration Roadmap", "linked data")
LANDING_PAGE = DEFAULT_BASE
RELEASES_PAGE = DEFAULT_BASE + "releases.html"
THEME = EU_AUTHORITY + "data-theme/TECH"
THEMES = EU_AUTHORITY + "data-theme"
LANGUAGE = EU_AUTHORITY + "language/ENG"
STABLE = EU_AUTHORITY + "planned-availability/STABLE"
PUBLIC_DOMAIN = "http://purl.org/adms/licencetype/PublicDomain"
# What each file of a build or release holds (a .gz file: the same, gzip-compressed)
FILES = {
    "isecg.nt": "The asserted graph (ontology and data), in N-Triples.",
    "isecg.ttl": "The asserted graph (ontology and data), in Turtle.",
    "isecg.rdf": "The asserted graph (ontology and data), in RDF/XML.",
    "isecg.jsonld": "The asserted graph (ontology and data), in compacted JSON-LD with its "
                    "context embedded.",
    "isecg.nq": "The ontology, the data and the entailments as three named graphs, in "
                "N-Quads: what the SPARQL endpoint answers from.",
    "isecg-inferred.nt": "The entailments alone (what the reasoner derives and the sources do "
                         "not assert), in N-Triples.",
    "context.jsonld": "The JSON-LD context of isecg.jsonld: the prefixes of the Turtle dumps.",
    "void.ttl": "The VoID and DCAT description written into the release when it was built.",
    "shacl-report.ttl": "The SHACL validation report of the sources, in Turtle.",
    "changelog.md": "What changed from the release before, by entity, in Markdown.",
    "changelog.html": "What changed from the release before, by entity, as a web page.",
    "changelog.ttl": "What changed from the release before, by entity, in RDF (Talis "
                     "Changeset).",
    QUICKSTATEMENTS: "ISECG's memberships as QuickStatements (v1) for Wikidata, each with its "
                     "dates and its sources' addresses; ISECG's item is the placeholder "
                     f"{PLACEHOLDER}, which QuickStatements refuses: replace it with ISECG's "
                     "QID, once checked, and review the batch before running it.",
}
# Third-party IRIs used as values: their classes (what DCAT-AP's range.ttl checks) and labels
TERMS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    CC0: ((DCT + "LicenseDocument",), ((DCT + "title", "CC0 1.0 Universal"),)),
    PUBLIC_DOMAIN: ((SKOS + "Concept",), ((SKOS + "prefLabel", "Public domain"),)),
    THEME: ((SKOS + "Concept",), ((SKOS + "prefLabel", "Science and technology"),)),
    THEMES: ((SKOS + "ConceptScheme",), ((DCT + "title", "Data theme Named Authority List"),)),
    STABLE: ((SKOS + "Concept",), ((SKOS + "prefLabel", "stable"),)),
    LANGUAGE: ((DCT + "LinguisticSystem",), ()),
    LANDING_PAGE: ((FOAF + "Document",), ()),
}
TIME_VALUES = {TIME + "inXSDDate", TIME + "inXSDgYear", TIME + "inXSDgYearMonth",
               TIME + "inXSDDateTime", TIME + "inXSDDateTimeStamp"}


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def text(value: str) -> ox.Literal:
    return ox.Literal(value, language="en")


def count(value: int, datatype: str = XSD + "integer") -> ox.Literal:
    return ox.Literal(str(value), datatype=n(datatype))


def part(dataset: str, name: str) -> str:
    """The IRI of a part of a dataset's description: a fragment on its IRI (…/release/V#name;
    the unversioned …/void#dataset gives …/void#name)."""
    return dataset.split("#", 1)[0] + "#" + name


def agents(add: Add) -> None:
    """The publisher of the catalogue and of every release, and its contact point."""
    add(n(PUBLISHER_IRI), RDF + "type", n(FOAF + "Agent"))
    add(n(PUBLISHER_IRI), FOAF + "name", ox.Literal(PUBLISHER_NAME))
    add(n(CONTACT_IRI), RDF + "type", n(VCARD + "Kind"))
    add(n(CONTACT_IRI), VCARD + "fn", ox.Literal(PUBLISHER_NAME))
    add(n(CONTACT_IRI), VCARD + "hasURL", n(LANDING_PAGE))


def published(add: Add, subject: ox.NamedNode) -> None:
    """Who publishes `subject`, how to reach them, and its licence."""
    add(subject, DCT + "publisher", n(PUBLISHER_IRI))
    add(subject, DCAT + "contactPoint", n(CONTACT_IRI))
    add(subject, DCT + "license", n(CC0))


def catalog(add: Add, datasets: Iterable[str], *, issued: str | None = None,
            modified: str | None = None, service: str | None = None) -> None:
    """The one dcat:Catalog: every release and their series. `issued` and `modified` (the first
    and the newest release's dates) only where they are known: a release's VoID is written
    before its release date is."""
    cat = n(CATALOG_IRI)
    add(cat, RDF + "type", n(DCAT + "Catalog"))
    add(cat, DCT + "title", text(f"{TITLE}: catalogue"))
    add(cat, DCT + "description", text(
        "The releases of the ISECG knowledge graph, each kept unchanged with its dumps, VoID, "
        "SHACL report and changelog, and the SPARQL endpoint that answers from the current "
        "one."))
    published(add, cat)
    add(cat, FOAF + "homepage", n(LANDING_PAGE))
    add(cat, DCT + "language", n(LANGUAGE))
    add(cat, DCAT + "themeTaxonomy", n(THEMES))
    for ds in datasets:
        add(cat, DCAT + "dataset", n(ds))
    if service is not None:
        add(cat, DCAT + "service", n(service))
    if issued is not None:
        add(cat, DCT + "issued", ox.Literal(issued, datatype=n(XSD + "date")))
    if modified is not None:
        add(cat, DCT + "modified", ox.Literal(modified, datatype=n(XSD + "date")))
    agents(add)


def series(add: Add) -> None:
    """The dcat:DatasetSeries every release belongs to."""
    s = n(SERIES_IRI)
    add(s, RDF + "type", n(DCAT + "DatasetSeries"))
    dataset(add, s, f"{TITLE}: every release", SERIES_DESCRIPTION, RELEASES_PAGE)


def dataset(add: Add, ds: ox.NamedNode, title: str, description: str, landing: str) -> None:
    """What every dataset of ours (the series too: DCAT 3 makes it a dataset, and the catalog
    lists it) says about itself besides its statistics and files."""
    add(ds, RDF + "type", n(DCAT + "Dataset"))
    add(ds, DCT + "title", text(title))
    add(ds, DCT + "description", text(description))
    published(add, ds)
    add(ds, DCAT + "landingPage", n(landing))
    add(ds, DCT + "language", n(LANGUAGE))
    add(ds, DCAT + "theme", n(THEME))
    for word in KEYWORDS:
        add(ds, DCAT + "keyword", text(word))


def temporal(add: Add, ds: ox.NamedNode, years: tuple[str, str] | None) -> None:
    """dct:temporal: the first and the last year the data dates anything in (its time:Instants)."""
    if years is None:
        return
    period = n(part(ds.value, "period"))
    add(ds, DCT + "temporal", period)
    add(period, RDF + "type", n(DCT + "PeriodOfTime"))
    add(period, DCAT + "startDate", ox.Literal(years[0], datatype=n(XSD + "gYear")))
    add(period, DCAT + "endDate", ox.Literal(years[1], datatype=n(XSD + "gYear")))


def time_span(values: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    """The first and last year among (predicate, lexical value) pairs of OWL-Time's inXSD*
    properties; None when there are none."""
    years = sorted(v[:4] for p, v in values if p in TIME_VALUES and v[:4].isdigit())
    return (years[0], years[-1]) if years else None


def distribution(add: Add, ds: ox.NamedNode, url: str, size: int, digest: str, *,
                 stable: bool) -> None:
    """The file at `url` as a distribution of `ds`: media type of its payload (and gzip as its
    compression), EU file type, size, licence, SHA-256, and what it holds. `stable`: a kept
    release's file, which never changes."""
    name = url.rsplit("/", 1)[-1]
    payload = name[:-3] if name.endswith(".gz") else name
    dist, checksum = n(url + "#distribution"), n(url + "#sha256")
    add(ds, DCAT + "distribution", dist)
    add(dist, RDF + "type", n(DCAT + "Distribution"))
    add(dist, DCT + "title", ox.Literal(name))
    what = describe_file(name)
    if what is not None:
        add(dist, DCT + "description", text(what))
    add(dist, DCAT + "downloadURL", n(url))
    add(dist, DCAT + "accessURL", n(url))
    add(dist, DCAT + "mediaType", n(IANA + formats.payload_media_type(name)))
    if name.endswith(".gz"):
        add(dist, DCAT + "compressFormat", n(IANA + formats.GZIP.media_type))
    held = formats.by_suffix(payload.rsplit(".", 1)[-1]) if "." in payload else None
    if held is not None and held.eu_file_type is not None:  # SHA256SUMS has none
        add(dist, DCT + "format", n(EU_AUTHORITY + "file-type/" + held.eu_file_type))
    add(dist, DCAT + "byteSize", count(size, XSD + "nonNegativeInteger"))
    add(dist, DCT + "license", n(CC0))
    if stable:
        add(dist, DCATAP + "availability", n(STABLE))
    add(dist, SPDX + "checksum", checksum)
    add(checksum, RDF + "type", n(SPDX + "Checksum"))
    add(checksum, SPDX + "algorithm", n(SPDX + "checksumAlgorithm_sha256"))
    add(checksum, SPDX + "checksumValue", ox.Literal(digest, datatype=n(XSD + "hexBinary")))


def describe_file(name: str) -> str | None:
    """What a file of a build or release holds, in a sentence (FILES; a .gz file: gzipped)."""
    what = FILES.get(name[:-3] if name.endswith(".gz") else name)
    if what is None or not name.endswith(".gz"):
        return what
    return what[:-1] + ", gzip-compressed."


def typed_terms(triples: list[ox.Triple]) -> list[ox.Triple]:
    """The triples, plus the class (and label) of every third-party IRI they use as a value:
    media types are dct:MediaType, file types dct:MediaTypeOrExtent, landing pages
    foaf:Document, the licence a dct:LicenseDocument of type public domain, and so on."""
    out = list(triples)
    add = rdf.adder(out)
    used = {t.object.value for t in triples if isinstance(t.object, ox.NamedNode)}
    if CC0 in used:
        used.add(PUBLIC_DOMAIN)
        add(n(CC0), DCT + "type", n(PUBLIC_DOMAIN))
    if THEME in used:
        used.add(THEMES)
        add(n(THEME), SKOS + "inScheme", n(THEMES))
    pages = {t.object.value for t in triples
             if t.predicate.value in (DCAT + "landingPage", FOAF + "homepage")}
    for iri in sorted(used):
        classes, labels = TERMS.get(iri, ((), ()))
        if iri.startswith(IANA):
            classes = (DCT + "MediaType",)
        elif iri.startswith(EU_AUTHORITY + "file-type/"):
            classes = (DCT + "MediaTypeOrExtent",)
        elif iri in pages:
            classes = (FOAF + "Document",)
        for c in classes:
            add(n(iri), RDF + "type", n(c))
        for p, label in labels:
            add(n(iri), p, text(label))
    return out


def prefixes(triples: list[ox.Triple]) -> dict[str, str]:
    """The prefixes of a catalogue document: the project's, and the catalogue vocabularies'."""
    extra = {"adms": ADMS, "dcatap": DCATAP, "spdx": SPDX, "vcard": VCARD}
    return {**used_prefixes(triples), **used_prefixes(triples, extra)}
