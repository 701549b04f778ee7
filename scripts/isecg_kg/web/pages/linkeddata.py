"""Linked-data routes: entity IRIs, their documents, the home page, ontology docs, dumps, VoID.

IRI scheme: an IRI below the data's base (https://w3id.org/isecg/) is served at the same path
on this server: https://w3id.org/isecg/id/agency/nasa is /id/agency/nasa.

Content-negotiation policy (one for every thing IRI, the ontology IRI included):
  * GET or HEAD on a thing's IRI answers **303 See Other** with ``Location`` set to a document
    about it: the same path plus a suffix, chosen from ``Accept`` (q-values honoured; no Accept
    or */* gives HTML) or from ``?format=html|ttl|jsonld|nt|rdf`` (which wins over Accept):
    .html text/html, .ttl text/turtle, .jsonld application/ld+json, .nt application/n-triples,
    .rdf application/rdf+xml.
  * The document URL answers 200 with that representation, whatever Accept says.
  * Every negotiated response (303, 404 and 406 included) carries ``Vary: Accept``.
  * An IRI the graph does not describe is 404 (HTML or text, as negotiated), at the thing's
    path and at every suffixed path; an Accept header or ?format that offers none of the five
    types is 406, with the offered types listed.
The same policy is what the rewrite rules of the static export (web/pages/export.py) implement.
"""

from __future__ import annotations

from pathlib import Path

from isecg_kg import formats
from isecg_kg.formats import REPRESENTATIONS, SYNTAXES, media_type_of
from isecg_kg.web.defaults import PAGE_CSP, PAGE_HEADERS, SVG_CSP
from isecg_kg.web.http import conneg
from isecg_kg.web.http.responses import checked_file, read_routes
from isecg_kg.web.pages import docs
from isecg_kg.web.pages.render import SUFFIX_FORMAT, LinkedData
from isecg_kg.web.templates import STATIC

VOID_TYPES = [f.media_type for f in SYNTAXES.values()]  # Turtle first


def format_param(value: str) -> str | None:
    """The representation a ?format= value names (a name, suffix or media type), or None."""
    found = formats.lookup(value, REPRESENTATIONS.values())
    return found.name if found is not None else None


def routes(site, store) -> list:
    """Starlette routes serving the linked-data side of the site for one build and store."""
    from starlette.responses import FileResponse, PlainTextResponse, Response

    if site.release is None:
        site = site.verified()
    release = site.release
    ld = LinkedData(site, store)

    def withheld(name: str, reason: str) -> Response:
        return PlainTextResponse(
            f"503 Service Unavailable: {name} is not served because {reason}. The server "
            "checks every file of the build against its SHA256SUMS; rebuild with "
            "`isecg-kg build` and restart.\n", status_code=503, headers=PAGE_HEADERS)

    def page(body: str, *, status: int = 200, csp: str | None = None,
             vary: bool = False) -> Response:
        headers = {**PAGE_HEADERS, "Content-Security-Policy": csp or PAGE_CSP}
        if vary:
            headers["Vary"] = "Accept"
        return Response(body, status_code=status, headers=headers,
                        media_type="text/html; charset=utf-8")

    def rdf_response(body: bytes, fmt: str) -> Response:
        return Response(body, headers={**PAGE_HEADERS, "ETag": f'"{site.version}-{fmt}"'},
                        media_type=REPRESENTATIONS[fmt].content_type)

    def offered() -> str:
        return ", ".join(f.media_type for f in REPRESENTATIONS.values())

    def not_acceptable(request) -> Response:
        return PlainTextResponse(
            f"406 Not Acceptable: the Accept header ({request.headers.get('accept', '')!r}) or "
            f"?format= matches no representation offered here. Offered: {offered()}; or use "
            "?format=html|ttl|jsonld|nt|rdf.\n", status_code=406,
            headers={**PAGE_HEADERS, "Vary": "Accept"})

    def not_found(request, path: str, negotiated: bool) -> Response:
        """404 as a page for browsers and .html paths, as text for RDF clients."""
        msg = (f"No resource {site.iri_of(path)} in this dataset. The IRIs it describes are "
               "listed on the home page and in the dumps.")
        if negotiated:
            html = conneg.negotiate_rdf(request.headers.get("accept")) in (None, "html")
        else:
            html = path.endswith(".html")
        headers = {**PAGE_HEADERS, **({"Vary": "Accept"} if negotiated else {})}
        if html:
            return page(ld.error_html(404, msg), status=404, vary=negotiated)
        return PlainTextResponse(f"404 Not Found: {msg}\n", status_code=404, headers=headers)

    def choose(request) -> str | None:
        param = request.query_params.get("format")
        if param is not None:
            return format_param(param)
        return conneg.negotiate_rdf(request.headers.get("accept"), REPRESENTATIONS.values())

    def resource(request) -> Response:
        """A thing IRI (303 to its document) or a document URL (200)."""
        path = request.url.path
        thing, fmt = ld.split(path)
        iri = site.iri_of(thing)
        kind = ld.kind(iri)
        if fmt is None:
            if kind is None:
                return not_found(request, path, negotiated=True)
            fmt = choose(request)
            if fmt is None:
                return not_acceptable(request)
            return Response(status_code=303, headers={
                "Location": f"{thing}.{REPRESENTATIONS[fmt].suffix}", "Vary": "Accept",
                **PAGE_HEADERS})
        if kind is None:
            return not_found(request, path, negotiated=False)
        if fmt == "html":
            if kind == "ontology":
                html, csp = ld.ontology_html()
                return page(html, csp=csp)
            return page(ld.entity_html(iri))
        response = rdf_response(ld.rdf(iri, fmt), fmt)
        if fmt in ("turtle", "nt", "xml"):  # one graph: inferred merged; TriG marks them
            response.headers["Link"] = (f'<{thing}.trig>; rel="alternate"; '
                                        'type="application/trig"')
        return response

    def home(request) -> Response:
        return page(ld.home_html())

    def dataset(request) -> Response:
        """The dataset IRI: HTML is the home page, RDF is the VoID description."""
        fmt = choose(request)
        if fmt is None:
            return not_acceptable(request)
        target = "/" if fmt == "html" else f"/void.{REPRESENTATIONS[fmt].suffix}"
        return Response(status_code=303, headers={"Location": target, "Vary": "Accept",
                                                  **PAGE_HEADERS})

    def void(request) -> Response:
        """VoID: Turtle as the build wrote it unless Accept asks for another RDF syntax."""
        suffix = request.path_params.get("suffix")
        if suffix is not None:
            fmt = SUFFIX_FORMAT.get(suffix)
            if fmt in (None, "html"):
                return not_found(request, request.url.path, negotiated=False)
            vary = {}
        else:
            param = request.query_params.get("format")
            if param is not None:
                fmt = format_param(param)
            else:
                media = conneg.negotiate(request.headers.get("accept"), VOID_TYPES)
                fmt = next((f.name for f in SYNTAXES.values() if f.media_type == media), None)
            if fmt in (None, "html"):
                return not_acceptable(request)
            vary = {"Vary": "Accept"}
        path = Path(site.dist) / "void.ttl"
        if "void.ttl" not in release.sums:
            return PlainTextResponse("404 Not Found: this build has no void.ttl\n",
                                     status_code=404, headers=PAGE_HEADERS)
        reason = release.problem("void.ttl")
        if reason is not None:
            return withheld("void.ttl", reason)
        body = path.read_bytes() if fmt == "turtle" else ld.void_rdf(fmt)
        return Response(body, media_type=REPRESENTATIONS[fmt].content_type,
                        headers={**PAGE_HEADERS, **vary})

    def dumps(request) -> Response:
        # Only names SHA256SUMS lists, matched exactly ('..', '%2e%2e', '/' never name a file),
        # and only while they match it.
        name = request.path_params["name"]

        def missing() -> Response:
            return PlainTextResponse(
                f"404 Not Found: no dump named {name!r}; the files are listed on the home "
                "page and in /void.\n", status_code=404, headers=PAGE_HEADERS)

        return checked_file(release, site.dist, name, media_type=media_type_of(name),
                            headers=PAGE_HEADERS, missing=missing,
                            withheld=lambda reason: withheld(name, reason), request=request)

    def static(request) -> Response:
        name = "ld-" + request.path_params["name"]
        path = STATIC / name
        if "/" in name or not path.is_file():
            return PlainTextResponse("404 Not Found\n", status_code=404)
        return FileResponse(path, media_type=media_type_of(name), headers=PAGE_HEADERS)

    def favicon(request) -> Response:
        # Browsers ask every site for /favicon.ico; answering avoids a 404 in their consoles.
        return FileResponse(STATIC / "ld-favicon.svg", media_type="image/svg+xml",
                            headers=PAGE_HEADERS)

    def doc(request) -> Response:
        """A reference page: /docs/ (the index) or /docs/NAME.html."""
        name = request.path_params.get("name", docs.INDEX)
        if not docs.exists(name):
            return page(ld.error_html(404, f"No reference page {name!r}; the index is at "
                                      "/docs/.", page="/docs/404.html"), status=404)
        return page(ld.doc_html(name))

    def svg(request) -> Response:
        return Response(ld.membership_svg(), media_type="image/svg+xml",
                        headers={**PAGE_HEADERS, "Content-Security-Policy": SVG_CSP})

    return read_routes(
        ("/", home),
        ("/index.html", home),
        ("/id/{rest:path}", resource),
        ("/ontology", resource),
        ("/ontology.{suffix}", resource),
        ("/ontology/{rest:path}", resource),
        ("/dataset", dataset),
        ("/void", void),
        ("/void.{suffix}", void),
        ("/.well-known/void", void),
        ("/dumps/{name}", dumps),
        ("/static/ld-{name}", static),
        ("/ld-membership.svg", svg),
        ("/favicon.ico", favicon),
        ("/docs/", doc),
        ("/docs/{name}.html", doc),
    )

def app(site, store):
    """A Starlette app of these routes alone (tests, and serving before the full app exists)."""
    from starlette.applications import Starlette

    return Starlette(routes=routes(site, store))
