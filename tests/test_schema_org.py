"""The schema.org a search engine reads from our pages is valid: extruct (the extractor of
Scrapinghub's crawlers, from PyPI) takes the JSON-LD of every page of the static site, pyld
expands it offline, and every property is checked against schema.org's own definitions
(schema:domainIncludes, with the types' ancestors; the copy in npm's
@zazuko/rdf-vocabularies): a term is used only on the types it belongs to. The home page and
the releases page each carry a Dataset with what dataset search asks for: name, description,
licence, creator, distribution and a real url (the page's own address).

The site is the static export of a copy of the fixture repository (tests/releases.py), so the
build is published release 1.1.0 and the releases page lists 1.0.0 and 1.1.0.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ROOT, run_cli

VOCABULARY = ROOT / "node_modules" / "@zazuko" / "rdf-vocabularies" / "ontologies" / "schema.nq"
SCHEMA = "https://schema.org/"
BASE = "https://w3id.org/isecg/"


@pytest.fixture(scope="module")
def schema() -> dict:
    """schema.org as {"types": {type: ancestors}, "domains": {property: types}}."""
    if not VOCABULARY.is_file():
        pytest.skip(f"{VOCABULARY} missing: run scripts/npm-setup.sh")
    parents, domains, types, properties = defaultdict(set), defaultdict(set), set(), set()
    http = "http://schema.org/"
    for q in ox.parse(path=str(VOCABULARY), format=ox.RdfFormat.N_QUADS):
        s, p, o = q.subject.value, q.predicate.value, q.object.value
        if not s.startswith(http):
            continue
        s = s[len(http):]
        if p.endswith("#subClassOf") and o.startswith(http):
            parents[s].add(o[len(http):])
        elif p == http + "domainIncludes":
            domains[s].add(o[len(http):])
        elif p.endswith("#type") and o.endswith("#Class"):
            types.add(s)
        elif p.endswith("#type") and o.endswith("#Property"):
            properties.add(s)

    def ancestors(t: str) -> set[str]:
        seen, todo = {t}, [t]
        while todo:
            for x in parents.get(todo.pop(), ()):
                if x not in seen:
                    seen.add(x)
                    todo.append(x)
        return seen

    return {"types": {t: ancestors(t) for t in types},
            "domains": {p: domains[p] for p in properties}}


@pytest.fixture(scope="module")
def site(fixture_repo, tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("schema") / "repo"
    shutil.copytree(fixture_repo, repo)
    run_cli("-q", "build", "--site", "--source", str(repo), "--out", str(repo / "dist"),
            check=True, timeout=600)
    return repo / "dist" / "site"


def extract(page: Path) -> list[dict]:
    """The page's JSON-LD as extruct finds it, expanded by pyld (no remote context: the
    document loader refuses any)."""
    import extruct
    from pyld import jsonld

    def offline(url, options=None):
        raise AssertionError(f"{page}: JSON-LD would fetch {url}")

    found = extruct.extract(page.read_text(encoding="utf-8"), syntaxes=["json-ld"],
                            uniform=False)["json-ld"]
    return [node for doc in found
            for node in jsonld.expand(doc, {"documentLoader": offline})]


def nodes(node):
    """Every node object in an expanded JSON-LD tree."""
    if isinstance(node, dict):
        if "@value" in node:  # a literal (its @type is a datatype)
            return
        if "@type" in node:
            yield node
        for key, value in node.items():
            if not key.startswith("@") or key == "@list":
                for v in value if isinstance(value, list) else [value]:
                    yield from nodes(v)
    elif isinstance(node, list):
        for v in node:
            yield from nodes(v)


def local(iri: str) -> str | None:
    for ns in (SCHEMA, "http://schema.org/"):
        if iri.startswith(ns):
            return iri[len(ns):]
    return None


def misuses(tree, schema) -> list[str]:
    out = []
    for node in nodes(tree):
        types = [local(t) for t in node["@type"]]
        if None in types or not all(t in schema["types"] for t in types):
            out.append(f"{node.get('@id')}: type {node['@type']} is not schema.org's")
            continue
        ancestors = set().union(*(schema["types"][t] for t in types))
        for key in node:
            if key.startswith("@"):
                continue
            prop = local(key)
            if prop is None or prop not in schema["domains"]:
                out.append(f"{node.get('@id')}: {key} is no schema.org property")
            elif not schema["domains"][prop] & ancestors:
                out.append(f"{node.get('@id')}: {prop} does not belong to {'/'.join(types)}")
    return out


def value(node: dict, prop: str) -> list:
    return [v.get("@value", v.get("@id", v)) for v in node.get(SCHEMA + prop, [])]


def test_every_page_uses_schema_org_terms_on_the_types_they_belong_to(site, schema):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 400
    problems, without = [], []
    for page in pages:
        tree = extract(page)
        if not tree:
            without.append(page.relative_to(site).as_posix())
        problems += [f"{page.relative_to(site)}: {m}" for m in misuses(tree, schema)]
    assert problems == []
    # every page describes its thing, but the error page and the kept changelogs
    assert all(p == "404.html" or p.endswith("/changelog.html") for p in without), without


def test_the_checker_finds_the_old_misuse(schema):
    """isBasedOn belongs to CreativeWork: on an agency (as the pages had it) it is a misuse."""
    tree = [{"@id": BASE + "id/agency/nasa", "@type": [SCHEMA + "GovernmentOrganization"],
             SCHEMA + "isBasedOn": [{"@id": BASE + "id/document/x"}]}]
    assert misuses(tree, schema) == [
        BASE + "id/agency/nasa: isBasedOn does not belong to GovernmentOrganization"]


def dataset_of(page: Path) -> dict:
    found = [n for n in nodes(extract(page)) if SCHEMA + "Dataset" in n["@type"]
             and SCHEMA + "url" in n and SCHEMA + "license" in n and "@id" in n]
    assert found, f"{page.name} has no Dataset"
    return found[0]


def assert_searchable(ds: dict, url: str, site: Path) -> None:
    assert value(ds, "name") and all(isinstance(v, str) for v in value(ds, "name"))
    assert len(value(ds, "description")[0]) >= 50  # dataset search wants 50 to 5,000 characters
    assert value(ds, "license") == ["https://creativecommons.org/publicdomain/zero/1.0/"]
    assert value(ds, "url") == [url] and "#" not in url
    creator = ds[SCHEMA + "creator"][0]
    assert creator["@type"] == [SCHEMA + "Organization"] and value(creator, "name")
    downloads = ds[SCHEMA + "distribution"]
    assert downloads
    for d in downloads:
        assert d["@type"] == [SCHEMA + "DataDownload"] and value(d, "encodingFormat")
        address = value(d, "contentUrl")[0]
        assert address.startswith(BASE) and (site / address[len(BASE):]).is_file(), address


def test_the_home_page_dataset_is_what_dataset_search_asks_for(site):
    ds = dataset_of(site / "index.html")
    assert ds["@id"] == BASE + "release/1.1.0" and value(ds, "version") == ["1.1.0"]
    assert_searchable(ds, BASE, site)
    # the published release: its files at their release address (the build's own SHA256SUMS,
    # which the release's replaces, under /dumps/)
    urls = {value(d, "name")[0]: value(d, "contentUrl")[0] for d in ds[SCHEMA + "distribution"]}
    assert {"isecg.nt", "isecg.nq.gz", "void.ttl"} <= set(urls)
    assert all(url == BASE + "release/1.1.0/" + name for name, url in urls.items()
               if name != "SHA256SUMS")


def test_the_releases_page_has_a_dataset_with_every_release(site):
    ds = dataset_of(site / "releases.html")
    assert ds["@id"] == BASE + "releases"
    assert_searchable(ds, BASE + "releases.html", site)
    parts = {p["@id"]: p for p in ds[SCHEMA + "hasPart"]}
    assert set(parts) == {BASE + "release/1.0.0", BASE + "release/1.1.0"}
    for iri, part in parts.items():
        assert all(value(d, "contentUrl")[0].startswith(iri + "/")
                   for d in part[SCHEMA + "distribution"])
        assert len(value(part, "description")[0]) >= 50
