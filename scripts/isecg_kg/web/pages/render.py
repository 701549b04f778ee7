"""What the linked-data routes (web/pages/linkeddata.py) and the static export (web/pages/export.py)
render: entity pages and documents, the home page, the ontology documentation, the releases page,
the VoID and the downloads, with links that work served or as plain files."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import posixpath
import re
import sys
import threading
import types
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.config import (
    CATALOG_IRI,
    ONTOLOGY_NS,
    PREFIXES,
    PUBLISHER_IRI,
    SERIES_IRI,
    WIKIDATA_ENTITY,
    dataset_iri,
    release_iri,
)
from isecg_kg.formats import REPRESENTATIONS, SYNTAXES, media_type_of
from isecg_kg.rdf import canonical, mentioned_prefixes
from isecg_kg.web.defaults import PAGE_CSP, page_csp
from isecg_kg.web.pages import describe as D
from isecg_kg.web.templates import environment

# What a thing is served as (formats.REPRESENTATIONS: the page first, then every RDF syntax; TriG
# and N-Quads put inferred statements in their own named graph, web/pages/documents.py, and are
# served here, not negotiated by static hosting), by the suffix of its document
SUFFIX_FORMAT = {f.suffix: name for name, f in REPRESENTATIONS.items()}

SCHEMA_TYPES = {  # isecg class -> schema.org type of the embedded JSON-LD
    "SpaceAgency": "GovernmentOrganization", "CoordinationGroup": "Organization",
    "WorkingGroup": "Organization", "Country": "Country", "Region": "Place", "Place": "Place",
    "Report": "Report", "ReferenceArchitecture": "Report", "WebPage": "WebPage",
    "Article": "Article", "Person": "Person", "Event": "Event", "FormationEvent": "Event",
    "ExtensionEvent": "Event", "PublicationEvent": "Event", "StudyEvent": "Event",
    "DiscussionEvent": "Event", "RenamingEvent": "Event", "Destination": "Place",
}
DOCUMENT_CLASSES = {"Document", "StrategyDocument", "Roadmap", "RoadmapEdition", "Supplement",
                    "Brochure"}
# schema.org types above that are CreativeWorks: only they take schema:isBasedOn; other things
# name the documents that state them with schema:subjectOf ("a CreativeWork about this Thing")
CREATIVE_WORKS = {"CreativeWork", "Report", "WebPage", "Article"}
SCHEMA_CONTEXT = {"@vocab": "https://schema.org/"}  # inline: the JSON-LD parses offline
HOME_ORDER = ["SpaceAgency", "CoordinationGroup", "Country", "Region"]
HOME_LAST = {"Membership", "Contribution", "LinkRecord", "ContributionRole"}
LICENCE = "https://creativecommons.org/publicdomain/zero/1.0/"
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def script_json(data) -> str:
    """JSON for an HTML <script> block: <, > and & escaped so no label can close the element."""
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def serialize(triples, fmt: str) -> bytes:
    triples = list(triples)
    if any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
           for t in triples):  # the ontology's lists: the same bytes from every load and replica
        triples = canonical(triples)
    syntax = SYNTAXES[fmt]
    if syntax.quads or fmt == "jsonld":  # compacted JSON-LD, TriG, N-Quads
        from isecg_kg.web.pages import documents

        return documents.write(list(triples), [], fmt)
    return ox.serialize(triples, format=syntax.oxigraph_format(),
                        prefixes=mentioned_prefixes(triples))


def _import_pylode():
    """pyLODE 3.4.1 reads its version from a pyproject.toml its wheel does not ship; give it one
    in memory so the import works (the version only appears in the page footer). Its import also
    sets the root logger to DEBUG on stderr and logs a traceback: keep the logging as it was."""
    if "pylode" in sys.modules:
        return sys.modules["pylode"].OntPub
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    logging.disable(logging.CRITICAL)
    try:
        try:
            import pylode.version  # noqa: F401
        except (FileNotFoundError, ModuleNotFoundError):
            stub = types.ModuleType("pylode.version")
            stub.__version__ = "3.4.1"
            sys.modules["pylode.version"] = stub
        from pylode import OntPub
    finally:
        logging.disable(logging.NOTSET)
        root.setLevel(level)
        root.handlers[:] = handlers
    return OntPub


class Linker:
    """Where a link to an IRI points: its server path, or in the static export the relative path
    of its .html document (plain hosting has no content negotiation)."""

    def __init__(self, ld: LinkedData, page: str):
        self.ld, self.page = ld, page

    def _rel(self, path: str) -> str:
        if not self.ld.static:
            return path
        return posixpath.relpath(path, posixpath.dirname(self.page) or "/")

    def path(self, path: str) -> str:
        """A link to a server path ('/', '/ontology', '/query', '/dumps/x') from this page."""
        if self.ld.static:
            if path == "/query":  # a static host has no endpoint: point at the live one
                return self.ld.site.base + "query"
            if path == "/":
                path = "/index.html"
            elif path == "/void":
                path = "/void.ttl"
            elif path == "/releases":
                path = "/releases.html"
            elif path == "/ontology" or path.startswith("/id/"):
                path += ".html"
        return self._rel(path)

    def iri(self, iri: str) -> str | None:
        """Link for an IRI: ours to its page, ontology terms to their anchor, safe others as is."""
        if iri.startswith(ONTOLOGY_NS):
            return self.path("/ontology") + "#" + iri[len(ONTOLOGY_NS):]
        path = self.ld.site.path_of(iri)
        if path is None:
            return iri if iri.startswith(SAFE_SCHEMES) else None
        if self.ld.kind(iri) is not None:
            return self._rel(path + ".html") if self.ld.static else path
        return self._rel(path) if path.startswith("/dumps/") else None

    def doc(self, path: str, fmt: str) -> str:
        return self._rel(f"{path}.{REPRESENTATIONS[fmt].suffix}")


class LinkedData:
    """Everything the routes and the static export render, for one site and store."""

    def __init__(self, site, store: ox.Store, *, static: bool = False):
        self.site, self.store, self.static = site, store, static
        self.env = environment(compact=D.compact, DOCUMENTS=list(SYNTAXES.values()),
                               WIKIDATA=WIKIDATA_ENTITY, LICENCE=LICENCE)
        self._lock = threading.Lock()
        self._kinds: dict[str, str | None] = {}
        self._membership: tuple[str, str] | None = None  # (picture, caption)
        self._ontology_pages: dict[str, str] = {}

    # --- what an IRI is ---------------------------------------------------------------------
    def kind(self, iri: str) -> str | None:
        """What the graph says the IRI is (see describe.kind); None for anything else.

        A request path can spell a string that is no IRI at all (a space, a NUL, '%ZZ' once
        decoded): that is simply not ours, a 404, never an error. Only IRIs the graph describes
        are remembered, so the cache is bounded by the graph, not by what clients ask for.
        """
        found = self._kinds.get(iri)
        if found is not None:
            return found
        try:
            found = D.kind(self.store, iri)
        except ValueError:  # pyoxigraph: "Invalid IRI code point", "Invalid IRI percent encoding"
            return None
        if found is not None:
            self._kinds[iri] = found
        return found

    def split(self, path: str) -> tuple[str, str | None]:
        """(thing path, format) for a request path: '/id/x.ttl' -> ('/id/x', 'turtle')."""
        stem, dot, suffix = path.rpartition(".")
        # A suffix names a document unless the whole path is itself an IRI in the graph.
        if dot and suffix in SUFFIX_FORMAT and self.kind(self.site.iri_of(path)) is None:
            return stem, SUFFIX_FORMAT[suffix]
        return path, None

    # --- RDF ----------------------------------------------------------------------------------
    def triples(self, iri: str) -> list[ox.Triple]:
        if self.kind(iri) == "ontology":
            return D.ontology_triples(self.store)
        return D.triples(self.store, iri)

    def rdf(self, iri: str, fmt: str) -> bytes:
        """The entity's document: what its page shows, inferred statements marked as such
        where the format can (see web/pages/documents.py)."""
        if self.kind(iri) == "ontology":
            return serialize(self.triples(iri), fmt)
        from isecg_kg.web.pages import documents

        asserted, inferred = D.document(self.store, iri)
        return documents.write(asserted, inferred, fmt)

    def unavailable(self, name: str) -> str | None:
        """Why a file of the build may not be used (see context.Release), or None."""
        release = self.site.release
        return None if release is None else release.problem(name)

    @cached_property
    def void(self) -> ox.Store:
        s = ox.Store()
        path = Path(self.site.dist) / "void.ttl"
        if path.exists() and self.unavailable("void.ttl") is None:
            s.load(path=str(path), format=ox.RdfFormat.TURTLE)
        return s

    def void_rdf(self, fmt: str) -> bytes:
        """void.ttl in another syntax, read from the file: a store would rewrite its
        xsd:nonNegativeInteger sizes (DCAT-AP's datatype) to xsd:integer."""
        path = Path(self.site.dist) / "void.ttl"
        triples = [] if self.unavailable("void.ttl") is not None or not path.exists() else \
            list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        return serialize(triples, fmt)

    # --- pages ----------------------------------------------------------------------------------
    def render(self, template: str, page: str, **context) -> str:
        link = Linker(self, page)
        return self.env.get_template(template).render(link=link, static=self.static,
                                                      csp=PAGE_CSP, **context)

    def entity_html(self, iri: str) -> str:
        d = D.describe(self.store, iri)
        thing = self.site.path_of(iri)
        notes: list[D.Ref] = []  # the sources of memberships and contributions, numbered

        def note(source: D.Ref) -> int:
            if source not in notes:
                notes.append(source)
            return notes.index(source) + 1

        groups: dict[str, list] = {}
        for st in d.statements:
            groups.setdefault(st.predicate, []).append(st.value)
        from isecg_kg.web.pages.record import agency_summary, group_overview

        return self.render("ld_entity.html", page=f"{thing}.html", d=d, thing=thing,
                           groups=groups, note=note, notes=notes,
                           summary=agency_summary(self.store, iri),
                           overview=group_overview(self.store, iri),
                           jsonld=script_json(self.schema_org(d)))

    def schema_org(self, d: D.Description) -> dict:
        """A schema.org description of the entity (inline @vocab: parses offline)."""
        local = [t.iri[len(ONTOLOGY_NS):] for t in d.types
                 if t.iri and t.iri.startswith(ONTOLOGY_NS)]
        stype = next((SCHEMA_TYPES[c] for c in local if c in SCHEMA_TYPES), None)
        if stype is None:
            stype = "CreativeWork" if DOCUMENT_CLASSES & set(local) else "Thing"
        data = {"@context": SCHEMA_CONTEXT, "@id": d.iri, "@type": stype,
                "name": d.label, "url": d.iri}
        same = d.wikidata
        if same:
            data["sameAs"] = same
        by_pred = {}
        for st in d.statements:
            by_pred.setdefault(D.compact(st.predicate.term.value), []).append(st.value)
        for key, prop in (("skos:scopeNote", "description"), ("isecg:acronym", "alternateName")):
            values = [v.label for v in by_pred.get(key, [])]
            if values:
                data[prop] = values[0] if len(values) == 1 else values
        for key in ("isecg:country", "isecg:region"):
            for v in by_pred.get(key, []):
                data.setdefault("areaServed", []).append({"@id": v.iri, "name": v.label})
        member_of = [m.other for m in d.memberships if m.other and m.other.iri != d.iri
                     and any(t.iri and t.iri.endswith("#SpaceAgency") for t in d.types)]
        if member_of:
            data["memberOf"] = [{"@id": o.iri, "name": o.label} for o in member_of]
        if stype in ("Organization",) and d.memberships:
            data["member"] = [{"@id": m.other.iri, "name": m.other.label}
                              for m in d.memberships if m.other]
        authors = [c.other for c in d.contributions
                   if c.other and c.document and c.document.iri == d.iri]
        if authors:
            data["contributor"] = [{"@id": a.iri, "name": a.label} for a in authors]
        sources = [{"@id": s.iri} for s in by_pred.get("dcterms:source", []) if s.iri]
        if sources:
            data["isBasedOn" if stype in CREATIVE_WORKS else "subjectOf"] = sources
        return data

    def _creator(self) -> dict:
        from isecg_kg.builder.dcat import PUBLISHER_NAME

        return {"@type": "Organization", "@id": PUBLISHER_IRI, "name": PUBLISHER_NAME,
                "url": self.site.base}

    def _catalog(self) -> dict:
        from isecg_kg.builder.dcat import TITLE

        return {"@type": "DataCatalog", "@id": CATALOG_IRI, "name": f"{TITLE}: catalogue",
                "url": self.site.base + "releases.html"}

    def dataset_jsonld(self, downloads: list[dict]) -> dict:
        """The release served as a schema.org Dataset, with what dataset search engines ask for:
        name, description, licence, creator, the page's own address and every download (at
        its release address once the build is the published release, else under /dumps/)."""
        from isecg_kg.builder.dcat import DESCRIPTION, KEYWORDS, TITLE

        version = self.site.release_version
        versioned = version != "unversioned"
        kept = self.site.kept_release(version) if self.site.published else None

        def address(d: dict) -> str:  # the release's own copy where it is this very file
            if kept is not None and kept.sums.get(d["name"]) == d["sha256"]:
                return release_iri(version) + "/" + d["name"]
            return self.site.base + "dumps/" + d["name"]

        data = {"@context": SCHEMA_CONTEXT, "@id": dataset_iri(version if versioned else None),
                "@type": "Dataset", "name": TITLE, "description": DESCRIPTION,
                "license": LICENCE, "url": self.site.base, "isAccessibleForFree": True,
                "keywords": list(KEYWORDS), "creator": self._creator(),
                "publisher": self._creator(), "includedInDataCatalog": self._catalog(),
                "distribution": [
                    {"@type": "DataDownload", "name": d["name"], "encodingFormat": d["type"],
                     "contentUrl": address(d)} for d in downloads]}
        if versioned:
            data["version"] = version
            info = self.site.release_info()
            if info["issued"] and self.site.published:
                data["datePublished"] = info["issued"]
        return data

    def releases_jsonld(self) -> dict:
        """The series of kept releases as a schema.org Dataset whose parts are the releases,
        each with its own files; the series' distribution is the newest release's."""
        from isecg_kg.builder.dcat import (
            KEYWORDS,
            SERIES_DESCRIPTION,
            TITLE,
            describe_file,
        )

        def files(k) -> list[dict]:
            return [{"@type": "DataDownload", "name": name, "description": describe_file(name),
                     "encodingFormat": media_type_of(name),
                     "contentUrl": release_iri(k.version) + "/" + name}
                    for name in sorted(k.sums) if describe_file(name)]

        common = {"license": LICENCE, "creator": self._creator(), "publisher": self._creator(),
                  "isAccessibleForFree": True, "keywords": list(KEYWORDS)}
        parts = [{"@type": "Dataset", "@id": release_iri(k.version),
                  "name": f"{TITLE}, release {k.version}", "version": k.version,
                  "datePublished": k.entry.issued, "url": release_iri(k.version),
                  "description": k.description, **common, "distribution": files(k)}
                 for k in self.site.kept if k.available]
        data = {"@context": SCHEMA_CONTEXT, "@id": SERIES_IRI, "@type": "Dataset",
                "name": f"{TITLE}: every release", "description": SERIES_DESCRIPTION,
                "url": self.site.base + "releases.html", **common,
                "includedInDataCatalog": self._catalog(), "hasPart": parts}
        if parts:
            data["distribution"] = parts[0]["distribution"]  # the newest release's files
        return data

    @cached_property
    def _home_graph(self) -> dict:
        """What the home page draws from the graph, once per server: the store does not change
        under it, and the membership chart alone asks members-as-of on some 60 days (0.45 s of
        a 0.52 s page, every time, before it was kept). Downloads and releases are read anew."""
        from isecg_kg.web.pages.participation import participation_svg

        def order(row):  # the things people look for first; n-ary records last
            local = row[0].iri[len(ONTOLOGY_NS):]
            first = HOME_ORDER.index(local) if local in HOME_ORDER else len(HOME_ORDER)
            return (local in HOME_LAST, first, -row[1], row[0].label)

        counts = sorted(D.class_counts(self.store, ONTOLOGY_NS), key=order)
        return {"counts": counts,
                "lists": [(cls, D.instances(self.store, cls.iri)) for cls, _ in counts],
                "svg": self.membership_svg(), "svg_caption": self.membership()[1],
                "participation": participation_svg(self.store)}

    def home_html(self) -> str:
        downloads = self.downloads()
        dataset = self.dataset_jsonld(downloads)
        return self.render("ld_home.html", page="/index.html", **self._home_graph,
                           downloads=downloads, closed={ONTOLOGY_NS + c for c in HOME_LAST},
                           jsonld=script_json(dataset), dataset=dataset["@id"],
                           release=self.site.release_info())

    def releases_html(self) -> str:
        """The page listing every kept release, newest first."""
        kept = list(self.site.kept)

        def size(path: Path) -> int | str:  # a release moved away under a running server
            try:
                return path.stat().st_size
            except OSError:
                return "unavailable"

        sizes = {k.version: {name: size(k.directory / name) for name in k.sums}
                 for k in kept if k.available}
        return self.render("ld_releases.html", page="/releases.html", releases=kept,
                           sizes=sizes, current=self.site.release_info(),
                           jsonld=script_json(self.releases_jsonld()))

    def catalogue_rdf(self, fmt: str) -> bytes:
        """The DCAT description of the release series (catalog.py) in an RDF syntax."""
        from isecg_kg.builder.catalog import catalogue_turtle

        turtle = catalogue_turtle(list(self.site.kept))
        if fmt == "turtle":
            return turtle
        return serialize(list(ox.parse(turtle, format=ox.RdfFormat.TURTLE)), fmt)

    def downloads(self) -> list[dict]:
        """Rows of the downloads table, from void.ttl (DCAT), completed from SHA256SUMS."""
        sums = {}
        sums_file = Path(self.site.dist) / "SHA256SUMS"
        if sums_file.exists():
            for line in sums_file.read_text().splitlines():
                digest, _, name = line.partition("  ")
                sums[name.strip().lstrip("*")] = digest.strip()
        q = """PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX spdx: <http://spdx.org/rdf/terms#>
        SELECT ?url ?media ?zip ?size ?sum WHERE { ?d dcat:downloadURL ?url .
          OPTIONAL { ?d dcat:mediaType ?media } OPTIONAL { ?d dcat:compressFormat ?zip }
          OPTIONAL { ?d dcat:byteSize ?size }
          OPTIONAL { ?d spdx:checksum/spdx:checksumValue ?sum } }"""
        rows, seen = [], set()
        for r in self.void.query(q, use_default_graph_as_union=True):
            url = r["url"].value
            name = url.rsplit("/", 1)[-1]
            if name in seen:
                continue
            seen.add(name)
            media = r["media"].value if r["media"] is not None else ""
            media = media.rsplit("/media-types/", 1)[-1]
            if r["zip"] is not None:  # DCAT 3: the payload's media type, compressed
                media += ", " + r["zip"].value.rsplit("/", 1)[-1]
            rows.append(self._download(name, url, media, r["size"] and int(r["size"].value),
                                       r["sum"].value if r["sum"] is not None else
                                       sums.get(name)))
        for name, digest in sums.items():  # files the VoID does not describe (void.ttl itself)
            if name not in seen and (Path(self.site.dist) / name).is_file():
                rows.append(self._download(name, self.site.data_base + "dumps/" + name,
                                           media_type_of(name), None, digest))
        return sorted((r for r in rows if self.unavailable(r["name"]) is None),
                      key=lambda r: r["name"])

    def _download(self, name, url, media, size, digest) -> dict:
        path = Path(self.site.dist) / name
        if size is None and path.is_file():
            size = path.stat().st_size
        # linked at /dumps/, where the build served is: the VoID's URL is the release's, and an
        # unpublished build's files are not (yet) that release's
        return {"name": name, "url": url, "path": f"/dumps/{name}", "type": media_type_of(name),
                "media": media or media_type_of(name), "size": size, "sha256": digest}

    @cached_property
    def ontology(self) -> tuple[str, str]:
        """(HTML, CSP) of the ontology documentation made by pyLODE, offline, once."""
        import rdflib

        OntPub = _import_pylode()
        g = rdflib.Graph()
        g.parse(data=serialize(D.ontology_triples(self.store), "nt").decode(), format="nt")
        for prefix, ns in PREFIXES.items():
            g.bind(prefix, ns, replace=True)
        with self._lock:
            od = OntPub(ontology=g)
            html = od.make_html()
        # pyLODE's anchors are lower-cased labels; make the term's own local name the anchor
        # so https://w3id.org/isecg/ontology#SpaceAgency lands on SpaceAgency.
        ids = set(re.findall(r'id="([^"]+)"', html))
        for iri, fid in od.fids.items():
            if iri.startswith(ONTOLOGY_NS):
                local = iri[len(ONTOLOGY_NS):]
                if local != fid and local not in ids:
                    html = html.replace(f'id="{fid}"', f'id="{local}"', 1)
                    html = html.replace(f'href="#{fid}"', f'href="#{local}"')
                    ids.add(local)
        styles = re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.DOTALL)
        hashes = "".join(
            f" 'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
            for s in styles)
        return html, page_csp(hashes)

    def doc_html(self, name: str) -> str:
        """A reference page (docs/NAME.md) as a page of the site."""
        from isecg_kg.web.pages import docs

        pages = [(n, docs.title(n)) for n in docs.names()]
        url = f"{self.site.base}docs/{name}.html"
        about = {"@context": SCHEMA_CONTEXT, "@id": url, "@type": "TechArticle",
                 "name": docs.title(name), "url": url, "inLanguage": "en",
                 "isPartOf": {"@type": "WebSite", "@id": self.site.base, "url": self.site.base}}
        return self.render("ld_doc.html", page=f"/docs/{name}.html", title=docs.title(name),
                           body=docs.html(name), pages=pages, current=name,
                           jsonld=script_json(about))

    def ontology_html(self, page: str = "/ontology.html") -> tuple[str, str]:
        """(HTML, CSP) of the ontology documentation as the page at `page` (its links are
        relative to it in the static export): pyLODE's page inside the site."""
        html, csp = self.ontology
        if page not in self._ontology_pages:
            self._ontology_pages[page] = self._in_site(html, page)
        return self._ontology_pages[page], csp

    def _in_site(self, html: str, page: str) -> str:
        """A page made elsewhere (pyLODE's) given the site's viewport, stylesheets and header,
        by adding to its markup rather than forking its templates."""
        link = Linker(self, page)
        head = '<meta name="viewport" content="width=device-width, initial-scale=1">\n' + "".join(
            f'<link rel="stylesheet" href="{link.path(f"/static/{css}")}">\n'
            for css in ("ld-style.css", "ld-ontology.css"))
        header = self.env.get_template("ld_header.html").render(link=link)
        for marker in ("</head>", "<body>"):
            if html.count(marker) != 1:
                raise ValueError(f"pyLODE's page has {html.count(marker)} {marker} tags, not one")
        html = html.replace("<html>", '<html lang="en">', 1)
        return html.replace("</head>", head + "</head>").replace("<body>", "<body>\n" + header)

    def error_html(self, status: int, message: str, page: str = "/error.html") -> str:
        return self.render("ld_error.html", page=page, status=status, message=message)

    def membership(self) -> tuple[str, str]:
        """The membership picture and its caption, drawn once from the same steps."""
        with self._lock:  # drawn once: concurrent first requests wait for the one drawing
            if self._membership is None:
                from isecg_kg.web.pages import svg

                found = svg.steps(self.store)
                self._membership = (svg.membership_svg(self.store, found=found),
                                    svg.caption(found))
            return self._membership

    def membership_svg(self) -> str:
        return self.membership()[0]


def dump_files(dist: Path) -> dict[str, Path]:
    """The files the build wrote at the top of dist/ (never below, never the site)."""
    return {p.name: p for p in Path(dist).iterdir() if p.is_file() and not p.is_symlink()
            and not p.name.startswith(".")} if Path(dist).is_dir() else {}
