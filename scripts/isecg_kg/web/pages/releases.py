"""Routes of the kept releases: the releases page, their DCAT catalogue, and every file of
every kept release under /release/VERSION/ (the current release stays at today's paths).

The series IRI https://w3id.org/isecg/releases and a release's IRI …/release/VERSION are things:
they answer 303 to the releases page (HTML) or the catalogue (RDF), as every thing IRI does. A
file is served only when its release was checked against the registry at start-up, only if
that release's SHA256SUMS lists it, and only while it still matches (context.Release).
Responses about a kept release say which in ``Isecg-Release``.
"""

from __future__ import annotations

from isecg_kg.formats import REPRESENTATIONS, media_type_of
from isecg_kg.web.context import verify_release
from isecg_kg.web.defaults import PAGE_CSP, PAGE_HEADERS
from isecg_kg.web.http import conneg
from isecg_kg.web.http.responses import checked_file, read_routes
from isecg_kg.web.pages.linkeddata import format_param
from isecg_kg.web.pages.render import SUFFIX_FORMAT, LinkedData


def routes(site, store) -> list:
    from starlette.responses import PlainTextResponse, Response

    ld = LinkedData(site, store)
    checked = {k.version: verify_release(k.directory) for k in site.kept if k.available}

    def choose(request) -> str | None:
        param = request.query_params.get("format")
        if param is not None:
            return format_param(param)
        return conneg.negotiate_rdf(request.headers.get("accept"))

    def not_acceptable() -> Response:
        return PlainTextResponse(
            "406 Not Acceptable: offered are " + ", ".join(f.media_type for f in
                                                           REPRESENTATIONS.values())
            + "; or use ?format=html|ttl|jsonld|nt|rdf.\n", status_code=406,
            headers={**PAGE_HEADERS, "Vary": "Accept"})

    def see_other(request, fragment: str = "") -> Response:
        fmt = choose(request)
        if fmt is None:
            return not_acceptable()
        target = ("/releases.html" + fragment) if fmt == "html" else \
            f"/releases.{REPRESENTATIONS[fmt].suffix}"
        return Response(status_code=303, headers={"Location": target, "Vary": "Accept",
                                                  **PAGE_HEADERS})

    def not_found(what: str) -> Response:
        return PlainTextResponse(f"404 Not Found: {what}; the kept releases are listed at "
                                 "/releases.\n", status_code=404, headers=PAGE_HEADERS)

    def series(request) -> Response:
        return see_other(request)

    def document(request) -> Response:
        fmt = SUFFIX_FORMAT.get(request.path_params["suffix"])
        if fmt is None:
            return not_found("no such document")
        if fmt == "html":
            return Response(ld.releases_html(), media_type="text/html; charset=utf-8",
                            headers={**PAGE_HEADERS, "Content-Security-Policy":
                                     PAGE_CSP})
        return Response(ld.catalogue_rdf(fmt), media_type=REPRESENTATIONS[fmt].content_type,
                        headers={**PAGE_HEADERS, "ETag": f'"{site.version}-releases-{fmt}"'})

    def release(request) -> Response:
        version = request.path_params["version"]
        if site.kept_release(version) is None:
            return not_found(f"no release {version!r}")
        return see_other(request, f"#release-{version}")

    def release_file(request) -> Response:
        version, name = request.path_params["version"], request.path_params["name"]
        kept = site.kept_release(version)
        if kept is None:
            return not_found(f"no release {version!r}")
        if version not in checked:
            return PlainTextResponse(
                f"503 Service Unavailable: release {version} is not available on this server "
                f"({'; '.join(kept.problems)}).\n", status_code=503,
                headers={**PAGE_HEADERS, "Isecg-Release": version})
        headers = {**PAGE_HEADERS, "Isecg-Release": version,
                   # a kept release never changes: its files may be cached for good
                   "Cache-Control": "public, max-age=31536000, immutable"}
        if name == "changelog.html":
            headers["Content-Security-Policy"] = PAGE_CSP
        return checked_file(
            checked[version], kept.directory, name,
            media_type=media_type_of(name), headers=headers,
            missing=lambda: not_found(f"release {version} has no file {name!r}"),
            withheld=lambda reason: PlainTextResponse(
                f"503 Service Unavailable: {name} of release {version} is not served because "
                f"{reason}.\n", status_code=503,
                headers={**PAGE_HEADERS, "Isecg-Release": version}), request=request)

    return read_routes(
        ("/releases", series),
        ("/releases.{suffix}", document),
        ("/release/{version}", release),
        ("/release/{version}/", release),
        ("/release/{version}/{name}", release_file),
    )
