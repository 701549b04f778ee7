"""RDF documents that keep asserted and inferred statements apart, and the named graphs as
documents: ``/graph/{ontology,data,inferred}`` and the read-only SPARQL 1.1 Graph Store Protocol
(``GET /sparql?graph=IRI`` or ``?default``).

A document is two lists of triples: what the sources assert, and what the build's reasoner
inferred. How each format carries the difference:

* TriG, N-Quads, JSON-LD: the asserted triples are the default graph, the inferred ones sit in the
  named graph ``https://w3id.org/isecg/graph/inferred`` (the graph of ``isecg.nq`` they come
  from), so a client tells them apart without knowing our vocabulary.
* Turtle, N-Triples, RDF/XML hold a single graph: they carry both, merged (what the SPARQL
  default graph and the HTML page show), and say so in a ``Link`` header pointing at the TriG
  document (``rel="alternate"``), where the inferred ones are marked.

JSON-LD is compacted with the published context (``/dumps/context.jsonld``, our prefixes),
embedded inline so that no client ever has to fetch it.
"""

from __future__ import annotations

import json

import pyoxigraph as ox

from isecg_kg import formats
from isecg_kg.builder.serialize import Compactor, context_document, jsonld_nodes
from isecg_kg.config import GRAPH_INFERRED, GRAPHS
from isecg_kg.formats import SYNTAXES
from isecg_kg.rdf import mentioned_prefixes
from isecg_kg.web.http import conneg
from isecg_kg.web.http.responses import not_modified

INFERRED = ox.NamedNode(GRAPH_INFERRED)
GRAPH_NAMES = {g.rsplit("/", 1)[-1]: g for g in GRAPHS}  # ontology, data, inferred


def jsonld(asserted: list, inferred: list, graph: str | None = GRAPH_INFERRED) -> bytes:
    """Compacted JSON-LD: the asserted triples as the default graph, the inferred ones as a named
    graph node (``graph``; None merges them), the context inline."""
    context = context_document()["@context"]
    compact = Compactor(context)

    def key(t):
        return str(t.subject), str(t.predicate), str(t.object)

    if graph is None:
        nodes = list(jsonld_nodes(sorted(set(asserted) | set(inferred), key=key), compact))
    else:
        nodes = list(jsonld_nodes(sorted(set(asserted), key=key), compact))
        if inferred:
            nodes.append({"@id": compact(graph), "@graph": list(jsonld_nodes(
                sorted(set(inferred), key=key), compact))})
    return (json.dumps({"@context": context, "@graph": nodes}, indent=2, sort_keys=True,
                       ensure_ascii=False) + "\n").encode()


def write(asserted: list, inferred: list, fmt: str) -> bytes:
    """One document in ``fmt`` (see the module docstring for what each format does)."""
    if fmt == "jsonld":
        return jsonld(asserted, inferred)
    syntax = SYNTAXES[fmt]
    if syntax.quads:
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in asserted]
        quads += [ox.Quad(t.subject, t.predicate, t.object, INFERRED) for t in inferred]
        prefixes = None if fmt == "nq" else mentioned_prefixes(asserted + inferred)
        return ox.serialize(quads, format=syntax.oxigraph_format(), prefixes=prefixes)
    seen = set(asserted)
    merged = list(asserted) + [t for t in inferred if t not in seen]
    return ox.serialize(merged, format=syntax.oxigraph_format(),
                        prefixes=None if fmt == "nt" else mentioned_prefixes(merged))


def choose(request) -> str | None:
    """The document format of a request: ?format= (a name, suffix or media type of one) wins
    over Accept."""
    param = request.query_params.get("format")
    if param is not None:
        found = formats.lookup(param, formats.documents())
        return found.name if found is not None else None
    return conneg.negotiate_rdf(request.headers.get("accept"), formats.documents())


class Graphs:
    """The three named graphs of the release (and their union, the default graph) as documents,
    serialized once per format."""

    def __init__(self, store, version: str):
        self.store, self.version = store, version
        self._cache: dict[tuple[str | None, str], bytes] = {}

    def triples(self, graph: str | None) -> list[ox.Triple]:
        if graph is None:  # the default graph: the union, each triple once
            seen, out = set(), []
            for g in GRAPHS:
                for q in self.store.quads_for_pattern(None, None, None, ox.NamedNode(g)):
                    if q.triple not in seen:
                        seen.add(q.triple)
                        out.append(q.triple)
            return out
        return [q.triple for q in self.store.quads_for_pattern(None, None, None,
                                                                ox.NamedNode(graph))]

    def body(self, graph: str | None, fmt: str) -> bytes:
        key = (graph, fmt)
        if key not in self._cache:
            triples = self.triples(graph)
            if graph is not None and SYNTAXES[fmt].quads:  # the graph keeps its name
                quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph))
                         for t in triples]
                self._cache[key] = ox.serialize(
                    quads, format=SYNTAXES[fmt].oxigraph_format(),
                    prefixes=None if fmt == "nq" else mentioned_prefixes(triples))
            elif graph is not None and fmt == "jsonld":
                context = context_document()["@context"]
                compact = Compactor(context)
                doc = {"@context": context, "@id": compact(graph),
                       "@graph": list(jsonld_nodes(sorted(set(triples), key=lambda t: (
                           str(t.subject), str(t.predicate), str(t.object))), compact))}
                self._cache[key] = (json.dumps(doc, indent=2, sort_keys=True,
                                               ensure_ascii=False) + "\n").encode()
            else:
                self._cache[key] = write(triples, [], fmt)
        return self._cache[key]

    def response(self, request, graph: str | None, fmt: str | None, *, vary: bool):
        """200 with the graph in ``fmt``, 304 on a matching If-None-Match, or 406."""
        from starlette.responses import PlainTextResponse, Response

        headers = {"X-Content-Type-Options": "nosniff", "Access-Control-Allow-Origin": "*"}
        if vary:
            headers["Vary"] = "Accept"
        if fmt is None:
            offered = ", ".join(f.media_type for f in SYNTAXES.values())
            return PlainTextResponse(
                f"406 Not Acceptable: nothing in Accept or ?format= is offered for this graph; "
                f"offered: {offered} (or ?format={'|'.join(SYNTAXES)})\n", status_code=406,
                headers=headers)
        etag = f'"{self.version}-graph-{graph.rsplit("/", 1)[-1] if graph else "default"}-{fmt}"'
        headers["ETag"] = etag
        if not_modified(request, etag):
            return Response(status_code=304, headers=headers)
        return Response(self.body(graph, fmt), media_type=SYNTAXES[fmt].content_type,
                        headers=headers)


def routes(site, store, graphs: Graphs) -> list:
    """``/graph/{name}`` (negotiated, 200) and ``/graph/{name}.{suffix}`` (one format)."""
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    suffixes = {f.suffix: f.name for f in SYNTAXES.values()}

    def graph_document(request):
        asked = name = request.path_params["name"]
        fmt, vary = None, True
        if "." in name:
            name, _, suffix = name.partition(".")
            fmt, vary = suffixes.get(suffix), False
        if name not in GRAPH_NAMES or (not vary and fmt is None):
            return PlainTextResponse(
                f"404 Not Found: no graph or graph document /graph/{asked}; the graphs are "
                f"{', '.join(GRAPHS)}, as /graph/NAME (negotiated) or /graph/NAME."
                f"{{{','.join(suffixes)}}}\n", status_code=404,
                headers={"X-Content-Type-Options": "nosniff"})
        if vary:
            fmt = choose(request)
        return graphs.response(request, GRAPH_NAMES[name], fmt, vary=vary)

    return [Route("/graph/{name}", graph_document, methods=["GET", "HEAD"])]
