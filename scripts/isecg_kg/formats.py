"""Every format the project reads, writes or serves, in one registry (as rdflib's plugin registry
has one entry per format): the RDF syntaxes, the SPARQL result formats, the HTML page and the
other files of a build.

An entry says everything a module needs to know of its format: its media type, the file suffix
of its documents and dumps, the media types clients send for it (``aliases``, read as the media
type in every Accept header) and the other names ``?format=`` may give it (``names``), its
parser and writer in pyoxigraph and rdflib, the query forms /sparql and ``isecg-kg query``
answer in it, whether our own writer (sparql/results.py) writes it so the row cap cuts before
writing, and its IRIs in the W3C format vocabulary and the EU file-type authority. Content
negotiation (web/http/conneg.py), the endpoint's formats, the result writers, the service
description, the CLI, the entity documents, the static export and the DCAT descriptions read
it; tests/test_formats.py holds each entry to what the server and the dumps do.

Nothing here imports an RDF library (``isecg-kg --help`` stays instant): pyoxigraph's format
is looked up by name when asked for (``Format.oxigraph_format``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

SOLUTION_FORMS = ("SELECT", "ASK")
GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")
W3C_FORMATS = "http://www.w3.org/ns/formats/"  # the service description's sd:resultFormat


@dataclass(frozen=True)
class Format:
    name: str                        # what --format, ?format= and the code call it
    media_type: str
    kind: str                        # "rdf" (a syntax), "results" (SPARQL), "page" or "file"
    suffix: str | None = None        # of its files, documents and downloads (no dot)
    aliases: tuple[str, ...] = ()    # media types an Accept header may give for it
    names: tuple[str, ...] = ()      # other ?format= values for it (a name, a media type)
    forms: tuple[str, ...] = ()      # query forms whose answers it writes
    served: bool = True              # /sparql offers it (the table is for a terminal only)
    own_writer: bool = False         # written by sparql/results.py, whose row cap cuts before
    #                                  writing (pyoxigraph's result writers take the whole result)
    quads: bool = False              # keeps named graphs (inferred statements apart)
    oxigraph: str | None = None      # its member of pyoxigraph's RdfFormat / QueryResultsFormat
    rdflib: str | None = None        # rdflib's parser and serializer plugin name
    w3c: str | None = None           # its name in the W3C format vocabulary (formats:Turtle)
    eu_file_type: str | None = None  # its code in the EU file-type authority (DCAT-AP dct:format)
    file_names: tuple[str, ...] = () # files of a build without a suffix that hold it
    remote_q: float | None = None    # how much the CLI wants it from a remote endpoint (Accept)
    label: str | None = None         # what a page calls it (the query page's download links)

    @property
    def content_type(self) -> str:
        """The Content-Type of a body in it (text is UTF-8)."""
        return self.media_type + ("; charset=utf-8" if self.media_type.startswith("text/")
                                  else "")

    @property
    def media_types(self) -> tuple[str, ...]:
        """Every media type that means it: its own, its aliases, and those among its names."""
        return (self.media_type, *self.aliases, *(n for n in self.names if "/" in n))

    def oxigraph_format(self):
        """pyoxigraph's RdfFormat or QueryResultsFormat for it (None where it has none)."""
        if self.oxigraph is None:
            return None
        import pyoxigraph as ox

        kind = ox.QueryResultsFormat if self.kind == "results" else ox.RdfFormat
        return getattr(kind, self.oxigraph)


# In preference order within each kind: content negotiation gives ties to the earlier one.
REGISTRY: tuple[Format, ...] = (
    Format("html", "text/html", "page", "html", aliases=("application/xhtml+xml",),
           eu_file_type="HTML", label="HTML"),
    Format("turtle", "text/turtle", "rdf", "ttl",
           aliases=("application/x-turtle", "application/turtle", "text/n3", "text/rdf+n3",
                    "application/n3"),
           names=("n3",),  # N3 is answered as Turtle, which every N3 parser reads
           forms=GRAPH_FORMS, oxigraph="TURTLE", rdflib="turtle", w3c="Turtle",
           eu_file_type="RDF_TURTLE", remote_q=0.8, label="Turtle"),
    # application/json is a name, not an alias: it means JSON-LD to an entity or a CONSTRUCT
    # and SPARQL JSON results to a SELECT, so each place offers it for its own
    Format("jsonld", "application/ld+json", "rdf", "jsonld", aliases=("application/x-json+ld",),
           names=("json", "json-ld", "application/json"), forms=GRAPH_FORMS,
           oxigraph="JSON_LD", rdflib="json-ld", w3c="JSON-LD", eu_file_type="JSON_LD",
           label="JSON-LD"),
    Format("nt", "application/n-triples", "rdf", "nt", aliases=("text/plain",),
           names=("ntriples", "n-triples"), forms=GRAPH_FORMS, oxigraph="N_TRIPLES",
           rdflib="nt", w3c="N-Triples", eu_file_type="RDF_N_TRIPLES", remote_q=0.7,
           label="N-Triples"),
    Format("xml", "application/rdf+xml", "rdf", "rdf", aliases=("text/xml",),
           names=("rdfxml", "rdf+xml", "application/xml"), forms=GRAPH_FORMS,
           oxigraph="RDF_XML", rdflib="xml", w3c="RDF_XML", eu_file_type="RDF_XML",
           remote_q=0.5, label="RDF/XML"),
    Format("trig", "application/trig", "rdf", "trig", quads=True, oxigraph="TRIG",
           rdflib="trig", w3c="TriG", label="TriG"),
    Format("nq", "application/n-quads", "rdf", "nq", names=("nquads",), quads=True,
           oxigraph="N_QUADS", rdflib="nquads", w3c="N-Quads", eu_file_type="RDF_N_QUADS",
           label="N-Quads"),
    Format("table", "text/plain", "results", forms=SOLUTION_FORMS, served=False,
           own_writer=True),
    Format("json", "application/sparql-results+json", "results", "srj",
           names=("application/json",), forms=SOLUTION_FORMS, own_writer=True,
           oxigraph="JSON", rdflib="json", w3c="SPARQL_Results_JSON", remote_q=1.0, label="JSON"),
    Format("xml", "application/sparql-results+xml", "results", "srx",
           aliases=("application/xml",), names=("text/xml",), forms=SOLUTION_FORMS,
           own_writer=True, oxigraph="XML", rdflib="xml", w3c="SPARQL_Results_XML",
           remote_q=0.9, label="XML"),
    Format("csv", "text/csv", "results", "csv", forms=SOLUTION_FORMS, own_writer=True,
           oxigraph="CSV", rdflib="csv", w3c="SPARQL_Results_CSV", label="CSV"),
    Format("tsv", "text/tab-separated-values", "results", "tsv", forms=SOLUTION_FORMS,
           own_writer=True, oxigraph="TSV", rdflib="tsv", w3c="SPARQL_Results_TSV", label="TSV"),
    Format("gzip", "application/gzip", "file", "gz"),
    Format("markdown", "text/markdown", "file", "md", eu_file_type="TXT"),
    Format("text", "text/plain", "file", "txt", eu_file_type="TXT", file_names=("SHA256SUMS",)),
    Format("svg", "image/svg+xml", "file", "svg"),
    Format("json-file", "application/json", "file", "json"),
    Format("css", "text/css", "file", "css"),
    Format("javascript", "text/javascript", "file", "js"),
)


def _by_name(kind: str) -> dict[str, Format]:
    return {f.name: f for f in REGISTRY if f.kind == kind}


PAGE = REGISTRY[0]
SYNTAXES: dict[str, Format] = _by_name("rdf")   # every RDF syntax: the documents' formats
RESULTS: dict[str, Format] = _by_name("results")
GZIP = _by_name("file")["gzip"]
# What a thing IRI is served as, by name: the page and every document
REPRESENTATIONS: dict[str, Format] = {PAGE.name: PAGE, **SYNTAXES}


def answers(form: str | None, *, served_only: bool = False) -> list[Format]:
    """The formats an answer to a query of FORM is written in (None: a SELECT's), /sparql's
    alone with ``served_only``."""
    forms = GRAPH_FORMS if form in GRAPH_FORMS else SOLUTION_FORMS
    return [f for f in REGISTRY if forms[0] in f.forms and (f.served or not served_only)]


def graph_answers() -> list[Format]:
    """The formats a CONSTRUCT or DESCRIBE is answered in (and the service description)."""
    return answers("CONSTRUCT", served_only=True)


def documents() -> list[Format]:
    """Every RDF syntax a document (an entity's, a graph's) is served in, Turtle first."""
    return list(SYNTAXES.values())


def representations(*, quads: bool = True) -> list[Format]:
    """What a thing IRI is served as: the page, then its documents (without TriG and N-Quads:
    the five a static host's rewrite rules negotiate too)."""
    return [PAGE, *(f for f in documents() if quads or not f.quads)]


def lookup(value: str, among: Iterable[Format]) -> Format | None:
    """The format AMONG these that a ?format= value names: its name, suffix, media type, an
    alias or another name of it (case-insensitive), or None."""
    key = value.strip().lower()
    for f in among:
        if key == f.name or key == f.suffix or key in f.names or key in f.media_types:
            return f
    return None


def param_names(among: Iterable[Format]) -> dict[str, str]:
    """Every ?format= value that names one of these formats (lower case) -> its name, in their
    order (the server's order of preference)."""
    table: dict[str, str] = {}
    for f in among:
        for key in (f.name, f.suffix, *f.media_types, *f.names):
            if key is not None:
                table.setdefault(key, f.name)
    return table


def by_suffix(suffix: str, among: Iterable[Format] = REGISTRY) -> Format | None:
    """The format whose files end in ``.SUFFIX`` (no dot), or None."""
    return next((f for f in among if f.suffix == suffix), None)


def media_type_of(name: str) -> str:
    """The media type of a file of a build, a release or the web layer, by its name (a .gz
    file is gzip)."""
    f = next((f for f in REGISTRY if name in f.file_names), None) or \
        by_suffix(PurePosixPath(name).suffix[1:])
    return f.media_type if f is not None else "application/octet-stream"


def payload_media_type(name: str) -> str:
    """The media type of what a file holds: a .gz file's is that of the file inside (DCAT 3:
    dcat:mediaType is the payload's, dcat:compressFormat says gzip)."""
    return media_type_of(name.removesuffix("." + GZIP.suffix))


def remote_accept() -> str:
    """The Accept header the CLI sends a remote endpoint: the formats it reads an answer in,
    most wanted first (never JSON-LD, whose contexts would be fetched)."""
    wanted = sorted((f for f in REGISTRY if f.remote_q is not None), key=lambda f: -f.remote_q)
    return ", ".join(f.media_type + ("" if f.remote_q == 1.0 else f";q={f.remote_q:g}")
                     for f in wanted)


def remote_answer(media_type: str) -> Format | None:
    """The format a remote endpoint's answer of this media type is read in: the results asked
    for first (application/json is a SELECT's answer there), then any syntax of a CONSTRUCT's
    answer (an endpoint may ignore Accept); None for any other."""
    readable = [f for f in REGISTRY if f.kind == "results" and f.remote_q is not None]
    readable += graph_answers()
    return next((f for f in readable if media_type in f.media_types), None)
