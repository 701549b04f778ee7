"""The static export: the whole linked-data site as files, for any web host.

``write_site(dist, out, base)`` renders, from a build directory, every page and document the
server (web/pages/linkeddata.py) would answer: for each entity below the base an ``.html``,
``.ttl``, ``.jsonld``, ``.nt`` and ``.rdf`` file at its IRI's path, the ontology documentation,
the home page, the dumps under ``dumps/`` and the VoID. Pages link to each other by relative
``.html`` paths, so the site also works without content negotiation (or below a sub-path);
``README.md``, ``.htaccess`` and ``nginx.conf`` in the output give the rewrite rules that add
303 content negotiation on the thing IRIs, as the server does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox

from isecg_kg.errors import BuildError
from isecg_kg.formats import REPRESENTATIONS, SYNTAXES
from isecg_kg.web.context import Site
from isecg_kg.web.defaults import PAGE_CSP
from isecg_kg.web.pages import docs
from isecg_kg.web.pages.render import LinkedData, dump_files
from isecg_kg.web.templates import STATIC

RULES_NOTE = """# Content negotiation for the static ISECG site

This directory is the whole linked-data site as files. Every thing IRI
`https://w3id.org/isecg/<path>` has seven documents beside it: `<path>.html`, `<path>.ttl`,
`<path>.jsonld`, `<path>.nt`, `<path>.rdf`, and `<path>.trig` and `<path>.nq` (which keep
inferred statements in their own named graph; not negotiated by the rules below). Pages link to the `.html` documents by relative
paths, so any host serves a browsable site as is. To make the thing IRIs themselves
dereferenceable, the server must answer a request for `<path>` with **303 See Other** to one of
its documents, chosen from `Accept` (or `?format=html|ttl|jsonld|nt|rdf`), with `Vary: Accept`;
an unknown path is 404. This is the policy `isecg-kg serve` implements (with full q-value
negotiation); the rules below approximate it: they pick the first RDF type named in `Accept`
(in the order Turtle, JSON-LD, N-Triples, RDF/XML) and HTML otherwise, ignoring q-values.

Media types: `.ttl` text/turtle, `.jsonld` application/ld+json, `.nt` application/n-triples,
`.rdf` application/rdf+xml, `.nq` application/n-quads, `.trig` application/trig,
`.gz` application/gzip.
`/void` and `/.well-known/void` are `void.ttl`. Dumps are in `dumps/`.

## nginx

`nginx.conf` here is a `server` block to include (set `root` to this directory):

```nginx
{nginx}
```

## Apache httpd

`.htaccess` here does the same with mod_rewrite, mod_headers and mod_mime
(`AllowOverride FileInfo` is needed):

```apache
{apache}
```

## Checking a deployment

    curl -sI -H 'Accept: text/turtle' https://YOUR.HOST/id/agency/nasa   # 303, Location: ...nasa.ttl
    curl -sI https://YOUR.HOST/id/agency/nasa.ttl                        # 200, text/turtle
    curl -sI https://YOUR.HOST/id/agency/no-such-thing                    # 404

The query page needs a running `isecg-kg serve`; a static host has no SPARQL endpoint.
"""  # noqa: E501 (written as the site's README.md byte for byte: a Markdown paragraph, curl lines)

NGINX = r"""# Outside the server block (http context): the document suffix for a request.
map $http_accept $isecg_accept {
    default                    html;
    ~*text/turtle              ttl;
    ~*application/ld\+json     jsonld;
    ~*application/n-triples    nt;
    ~*application/rdf\+xml     rdf;
}
map $arg_format $isecg_suffix {
    default  $isecg_accept;
    html     html;
    ttl      ttl;
    jsonld   jsonld;
    nt       nt;
    rdf      rdf;
}

server {
    # listen / server_name as your host needs
    root /srv/isecg/site;
    types {
        text/html               html;
        text/css                css;
        image/svg+xml           svg;
        text/turtle             ttl;
        application/ld+json     jsonld;
        application/n-triples   nt;
        application/n-quads     nq;
        application/trig        trig;
        application/rdf+xml     rdf;
        application/gzip        gz;
        text/markdown           md;
        text/plain              txt SHA256SUMS;
    }
    add_header X-Content-Type-Options nosniff always;
    add_header Content-Security-Policy """ + f'"{PAGE_CSP}"' + r""" always;

    location = / { try_files /index.html =404; }
    location = /void { default_type text/turtle; try_files /void.ttl =404; }
    location = /.well-known/void { default_type text/turtle; try_files /void.ttl =404; }
    location = /dataset {
        add_header Vary Accept always;
        if ($isecg_suffix = html) { return 303 /; }
        return 303 /void.$isecg_suffix;
    }
    # The release series and each release: the releases page, or their DCAT catalogue.
    location = /releases {
        add_header Vary Accept always;
        if ($isecg_suffix = html) { return 303 /releases.html; }
        return 303 /releases.$isecg_suffix;
    }
    location ~ "^/release/([0-9]+\.[0-9]+\.[0-9]+)/?$" {
        add_header Vary Accept always;
        if ($isecg_suffix = html) { return 303 /releases.html#release-$1; }
        return 303 /releases.$isecg_suffix;
    }
    location /release/ {
        # a kept release never changes
        add_header Cache-Control "public, max-age=31536000, immutable" always;
        add_header X-Content-Type-Options nosniff always;
    }
    # Thing IRIs: no suffix. 303 to the negotiated document, 404 when there is none.
    location ~ "^/(id/[^.]+|ontology(/[^.]+)?)$" {
        add_header Vary Accept always;
        if (!-f $request_filename.html) { return 404; }
        return 303 $uri.$isecg_suffix;
    }
    location /dumps/ { add_header X-Content-Type-Options nosniff always; }
    error_page 404 /404.html;
}"""

APACHE = r"""Options -MultiViews -Indexes
AddType text/turtle .ttl
AddType application/ld+json .jsonld
AddType application/n-triples .nt
AddType application/n-quads .nq
AddType application/trig .trig
AddType application/rdf+xml .rdf
AddType image/svg+xml .svg
<Files "SHA256SUMS">
    ForceType text/plain
</Files>
Header always set X-Content-Type-Options nosniff
Header always set Content-Security-Policy """ + f'"{PAGE_CSP}"' + r"""
ErrorDocument 404 /404.html

AddType text/markdown .md
RewriteEngine On
RewriteRule ^(\.well-known/)?void$ void.ttl [L,T=text/turtle]

# The release series and each release: the releases page, or (Turtle) their DCAT catalogue.
RewriteCond %{HTTP_ACCEPT} text/turtle
RewriteRule ^(releases|release/[0-9]+\.[0-9]+\.[0-9]+/?)$ /releases.ttl [R=303,L]
RewriteRule ^releases$ /releases.html [R=303,L]
RewriteRule ^release/([0-9]+\.[0-9]+\.[0-9]+)/?$ /releases.html#release-$1 [R=303,NE,L]

# Thing IRIs (no suffix) that have documents: Vary on Accept, 303 to the chosen document.
RewriteCond %{REQUEST_URI} ^/(id/[^.]+|ontology(/[^.]+)?)$
RewriteRule ^ - [E=ISECG_THING:1]
Header always merge Vary Accept env=ISECG_THING
RewriteCond %{ENV:ISECG_THING} =1
RewriteCond %{DOCUMENT_ROOT}%{REQUEST_URI}.html !-f
RewriteRule ^ - [R=404,L]
RewriteCond %{ENV:ISECG_THING} =1
RewriteCond %{QUERY_STRING} (?:^|&)format=(html|ttl|jsonld|nt|rdf)(?:&|$)
RewriteRule ^(.*)$ /$1.%1? [R=303,L]
RewriteCond %{ENV:ISECG_THING} =1
RewriteCond %{HTTP_ACCEPT} text/turtle
RewriteRule ^(.*)$ /$1.ttl [R=303,L]
RewriteCond %{ENV:ISECG_THING} =1
RewriteCond %{HTTP_ACCEPT} application/ld\+json
RewriteRule ^(.*)$ /$1.jsonld [R=303,L]
RewriteCond %{ENV:ISECG_THING} =1
RewriteCond %{HTTP_ACCEPT} application/n-triples
RewriteRule ^(.*)$ /$1.nt [R=303,L]
RewriteCond %{ENV:ISECG_THING} =1
RewriteCond %{HTTP_ACCEPT} application/rdf\+xml
RewriteRule ^(.*)$ /$1.rdf [R=303,L]
RewriteCond %{ENV:ISECG_THING} =1
RewriteRule ^(.*)$ /$1.html [R=303,L]"""


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)


def _with_meta_csp(html: str, csp: str) -> str:
    """Put the page's policy in a <meta> (static hosts may send no headers); frame-ancestors is
    dropped because browsers ignore it, with a console warning, in a <meta>."""
    policy = csp.replace("; frame-ancestors 'none'", "")
    return html.replace("<head>", f'<head>\n<meta http-equiv="Content-Security-Policy" '
                        f'content="{policy}">', 1)


def entity_iris(store: ox.Store, data_base: str) -> list[str]:
    """Every IRI below the base that the graph describes (fragment IRIs belong to their page)."""
    from isecg_kg.web.pages.describe import kind

    found = set()
    for q in store.quads_for_pattern(None, None, None, None):
        for term in (q.subject, q.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(data_base):
                found.add(term.value.split("#")[0])
    return sorted(iri for iri in found if kind(store, iri) is not None)


def write_site(dist: Path, out: Path, base: str | None, *, releases: Path | None = None,
               source: Path | None = None) -> None:
    """Write the static site for the build in ``dist`` into ``out`` (created or replaced);
    with ``source`` (the project root) also the kept releases of its registry found in
    ``releases``: the releases page, their catalogue and every file under release/VERSION/."""
    dist, out = Path(dist), Path(out)
    nq = dist / "isecg.nq"
    if not nq.is_file():
        raise BuildError(f"{nq}: missing; the static site is made from a finished build "
                         "(run `isecg-kg build` first)")
    store = ox.Store()
    store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    site = Site.from_dist(dist, base, source=source, releases=releases)
    ld = LinkedData(site, store, static=True)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    for iri in entity_iris(store, site.data_base):
        path = site.path_of(iri).lstrip("/")
        for fmt, f in REPRESENTATIONS.items():
            target = out / f"{path}.{f.suffix}"
            if fmt == "html":
                if ld.kind(iri) == "ontology":
                    html, csp = ld.ontology_html(f"/{path}.html")
                    _write(target, _with_meta_csp(html, csp))
                else:
                    _write(target, ld.entity_html(iri))
            else:
                _write(target, ld.rdf(iri, fmt))

    _write(out / "index.html", ld.home_html())
    _write(out / "404.html", ld.error_html(404, "No such page or resource in this dataset.",
                                           page="/404.html"))
    _write(out / "ld-membership.svg", ld.membership_svg())
    for name in docs.names():
        _write(out / "docs" / f"{name}.html", ld.doc_html(name))
    for css in STATIC.glob("ld-*"):
        _write(out / "static" / css.name, css.read_bytes())
    _write(out / "favicon.ico", (STATIC / "ld-favicon.svg").read_bytes())
    for name, path in dump_files(dist).items():
        (out / "dumps").mkdir(exist_ok=True)
        shutil.copyfile(path, out / "dumps" / name)
    if (dist / "void.ttl").is_file():
        for fmt, f in SYNTAXES.items():
            if fmt == "turtle":
                _write(out / "void.ttl", (dist / "void.ttl").read_bytes())
            else:
                _write(out / f"void.{f.suffix}", ld.void_rdf(fmt))
        _write(out / ".well-known" / "void", (dist / "void.ttl").read_bytes())
    _write(out / "releases.html", ld.releases_html())
    for fmt, f in SYNTAXES.items():
        _write(out / f"releases.{f.suffix}", ld.catalogue_rdf(fmt))
    for kept in site.kept:
        if kept.available:
            (out / "release" / kept.version).mkdir(parents=True)
            for name in [*kept.sums, "SHA256SUMS"]:
                shutil.copyfile(kept.directory / name, out / "release" / kept.version / name)
    _write(out / "nginx.conf", NGINX + "\n")
    _write(out / ".htaccess", APACHE + "\n")
    _write(out / "README.md", RULES_NOTE.replace("{nginx}", NGINX).replace("{apache}", APACHE))
