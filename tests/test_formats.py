"""The format registry (formats.py): every entry held to what the project does with it.

Nothing here lists a format by hand: the tests walk the registry, and for each entry ask the
server (/sparql, the entity documents, the graphs, the dumps, the service description), the
result writers, the CLI and the libraries whether they do what the entry says.
"""

from __future__ import annotations

import argparse
import io
import json
import re

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from isecg_kg import formats
from isecg_kg.cli import make_parser
from isecg_kg.formats import REGISTRY, SYNTAXES, W3C_FORMATS
from isecg_kg.sparql.results import WRITERS
from servers import isecg_server

SELECT = "SELECT ?s ?l WHERE { ?s a isecg:SpaceAgency ; rdfs:label ?l } ORDER BY ?s LIMIT 3"
ASK = "ASK { ?s a isecg:SpaceAgency }"
CONSTRUCT = "CONSTRUCT { ?s rdfs:label ?l } WHERE { ?s a isecg:SpaceAgency ; rdfs:label ?l }"
SERVED_RESULTS = formats.answers("SELECT", served_only=True)
GRAPH_ANSWERS = formats.graph_answers()


def ids(f: formats.Format) -> str:
    return f"{f.kind}-{f.name}"


@pytest.fixture(scope="module")
def server(dist):
    with isecg_server(dist, "--workers", "2") as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server, timeout=30) as c:
        yield c


# ---- the registry itself ---------------------------------------------------------------------

def test_a_suffix_or_an_alias_means_one_format():
    suffixes = [f.suffix for f in REGISTRY if f.suffix]
    assert len(suffixes) == len(set(suffixes))
    aliases = [a for f in REGISTRY for a in f.aliases]
    assert len(aliases) == len(set(aliases))
    # an alias is read as its format's media type in every Accept header: never the own media
    # type of another format that is negotiated (text/plain, N-Triples' alias, is the table's
    # and SHA256SUMS's, which no Accept header chooses)
    negotiated = [f for f in REGISTRY if f.kind in ("page", "rdf") or f.kind == "results"
                  and f.served]
    assert not set(aliases) & {f.media_type for f in negotiated}


@pytest.mark.parametrize("offer", [SERVED_RESULTS, GRAPH_ANSWERS, formats.documents(),
                                   list(formats.REPRESENTATIONS.values())],
                         ids=["results", "graph-answers", "documents", "representations"])
def test_a_format_value_names_one_format_where_it_is_offered(offer):
    seen: dict[str, str] = {}
    for f in offer:
        for key in {f.name, f.suffix, *f.media_types, *f.names} - {None}:
            assert seen.setdefault(key, f.name) == f.name, (key, seen[key], f.name)
            assert formats.lookup(key.upper(), offer) is f


def test_our_result_writers_are_those_the_registry_says():
    assert set(WRITERS) == {f.name for f in REGISTRY if f.own_writer}
    assert all(f.kind == "results" for f in REGISTRY if f.own_writer)


@pytest.mark.parametrize("f", [f for f in REGISTRY if f.oxigraph or f.rdflib], ids=ids)
def test_the_library_names_are_the_libraries_own(f):
    if f.oxigraph:
        found = f.oxigraph_format()
        assert found.media_type == f.media_type or f.media_type in found.media_type
    if f.rdflib:
        kind = rdflib.query.ResultParser if f.kind == "results" else rdflib.parser.Parser
        assert rdflib.plugin.get(f.rdflib, kind)


def test_the_cli_states_the_formats_a_query_is_answered_in():
    commands = next(a for a in make_parser()._actions
                    if isinstance(a, argparse._SubParsersAction))
    option = next(a for a in commands.choices["query"]._actions if "--format" in a.option_strings)
    solutions, graphs = re.findall(r": ([a-z|]+) \(default", option.help)
    assert set(solutions.split("|")) == {f.name for f in formats.answers("SELECT")}
    assert set(graphs.split("|")) == {f.name for f in formats.answers("CONSTRUCT")}


@pytest.mark.parametrize("name", ["isecg.nq", "isecg.ttl.gz", "SHA256SUMS", "changelog.md",
                                  "changelog.html", "context.jsonld", "isecg.rdf.gz"])
def test_a_files_media_type_is_its_formats(name):
    payload = name.removesuffix(".gz")
    f = next((f for f in REGISTRY if payload in f.file_names), None) or \
        formats.by_suffix(payload.rsplit(".", 1)[-1])
    assert formats.payload_media_type(name) == f.media_type
    assert formats.media_type_of(name) == (formats.GZIP.media_type if name.endswith(".gz")
                                           else f.media_type)
    assert formats.media_type_of("no-such.suffix") == "application/octet-stream"


def test_the_cli_reads_every_answer_it_asks_a_remote_endpoint_for():
    asked = [part.split(";")[0].strip() for part in formats.remote_accept().split(",")]
    assert asked and all(formats.remote_answer(m).media_type == m for m in asked)
    assert formats.remote_answer("text/html") is None


# ---- /sparql ---------------------------------------------------------------------------------

def parse_results(f: formats.Format, body: bytes):
    """The rows or boolean of a result body, read by rdflib's parser the registry names."""
    parsed = rdflib.query.Result.parse(io.BytesIO(body), format=f.rdflib,
                                       content_type=f.media_type)
    return parsed.askAnswer if parsed.type == "ASK" else list(parsed)


def held_to_json(client, f: formats.Format, query: str, body: bytes) -> None:
    """A format no library reads (ours alone): its body is our writer's of the answer in SPARQL
    JSON results, read by pyoxigraph."""
    json_answer = client.get("/sparql", params={"query": query, "format": "json"})
    answer = ox.parse_query_results(json_answer.content, format=ox.QueryResultsFormat.JSON)
    solutions, boolean = WRITERS[f.name]
    if isinstance(answer, ox.QueryBoolean):
        assert body == boolean(bool(answer))
    else:
        assert body == solutions([v.value for v in answer.variables], [tuple(s) for s in answer])


@pytest.mark.parametrize("f", SERVED_RESULTS, ids=ids)
def test_sparql_answers_select_and_ask_in_each_result_format(client, f):
    for how in ({"params": {"query": SELECT, "format": f.name}},
                {"params": {"query": SELECT}, "headers": {"Accept": f.media_type}},
                *({"params": {"query": SELECT}, "headers": {"Accept": a}} for a in f.aliases),
                *({"params": {"query": SELECT, "format": n}} for n in (f.suffix, *f.names))):
        r = client.get("/sparql", **how)
        assert r.status_code == 200, (how, r.text[:300])
        assert r.headers["content-type"].split(";")[0] == f.media_type, how
        if f.rdflib is None:
            held_to_json(client, f, SELECT, r.content)
        else:
            assert len(parse_results(f, r.content)) == 3
        if "format" in how["params"]:
            assert r.headers["content-disposition"].endswith(f'.{f.suffix}"')
    r = client.get("/sparql", params={"query": ASK, "format": f.name})
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == f.media_type
    if f.rdflib is None:
        held_to_json(client, f, ASK, r.content)
    elif f.name not in ("csv", "tsv"):  # no W3C form of a boolean: the word (results.py)
        assert parse_results(f, r.content) is True
    else:
        assert r.content == b"true\n"


@pytest.mark.parametrize("f", GRAPH_ANSWERS, ids=ids)
def test_sparql_answers_construct_in_each_graph_format(client, f):
    for how in ({"params": {"query": CONSTRUCT, "format": f.name}},
                {"params": {"query": CONSTRUCT}, "headers": {"Accept": f.media_type}},
                *({"params": {"query": CONSTRUCT}, "headers": {"Accept": a}} for a in f.aliases)):
        r = client.get("/sparql", **how)
        assert r.status_code == 200, (how, r.text[:300])
        assert r.headers["content-type"].split(";")[0] == f.media_type, how
        triples = list(ox.parse(r.content, format=f.oxigraph_format()))
        assert triples and len(triples) == len(rdflib.Graph().parse(
            data=r.content, format=f.rdflib))


def test_the_service_description_lists_what_sparql_answers_in(client):
    r = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    sd = "http://www.w3.org/ns/sparql-service-description#resultFormat"
    stated = {t.object.value for t in ox.parse(r.content, format=ox.RdfFormat.TURTLE)
              if t.predicate.value == sd}
    assert stated == {W3C_FORMATS + f.w3c for f in (*SERVED_RESULTS, *GRAPH_ANSWERS) if f.w3c}
    for f in GRAPH_ANSWERS:  # and the description itself is served in each
        r = client.get("/sparql", params={"format": f.name})
        assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == f.media_type


def test_the_query_page_offers_each_answer_format_as_a_download(client):
    page = client.get("/query").text
    data = json.loads(re.search(r'<script id="page-data" type="application/json">(.*?)</script>',
                                page, re.S).group(1))
    for kind, offered in (("solutions", SERVED_RESULTS), ("graphs", GRAPH_ANSWERS)):
        assert data["downloads"][kind] == [[f.name, f.label, f.suffix] for f in offered]
        for name, _label, suffix in data["downloads"][kind]:  # each link is answered as named
            query = SELECT if kind == "solutions" else CONSTRUCT
            r = client.get("/sparql", params={"query": query, "format": name})
            assert r.status_code == 200
            assert r.headers["content-disposition"].endswith(f'.{suffix}"')


# ---- documents and dumps ---------------------------------------------------------------------

@pytest.mark.parametrize("f", formats.documents(), ids=ids)
def test_entities_and_graphs_are_documents_in_each_syntax(client, f):
    r = client.get("/id/agency/nasa", headers={"Accept": f.media_type})
    assert r.status_code == 303 and r.headers["location"] == f"/id/agency/nasa.{f.suffix}"
    for path in (f"/id/agency/nasa.{f.suffix}", f"/graph/data.{f.suffix}",
                 f"/id/agency/nasa?format={f.name}"):
        r = client.get(path, follow_redirects=True)
        assert r.status_code == 200, path
        assert r.headers["content-type"].split(";")[0] == f.media_type, path
        quads = list(ox.parse(r.content, format=f.oxigraph_format()))
        assert quads, path
        if f.quads:  # the inferred statements kept apart, in their named graph
            assert any(isinstance(q, ox.Quad) and not isinstance(q.graph_name, ox.DefaultGraph)
                       for q in quads) or path.startswith("/graph/")


def test_the_dumps_are_served_and_parse_as_their_formats(client, dist):
    import gzip

    names = [line.split("  ", 1)[1] for line in (dist / "SHA256SUMS").read_text().splitlines()]
    assert names
    for name in [*names, "SHA256SUMS"]:
        r = client.get(f"/dumps/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].split(";")[0] == formats.media_type_of(name), name
        f = formats.by_suffix(name.removesuffix(".gz").rsplit(".", 1)[-1], SYNTAXES.values())
        if f is not None and name != "context.jsonld":  # a context holds no triples
            body = gzip.decompress(r.content) if name.endswith(".gz") else r.content
            assert list(ox.parse(body, format=f.oxigraph_format())), name
