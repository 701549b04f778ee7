"""Push a build into an external SPARQL 1.1 store through the Graph Store HTTP Protocol.

``load_into(url, dist)`` reads ``dist/isecg.nq`` and, for each of its three named graphs
(ontology, data, inferred), sends ``PUT URL?graph=G`` with the graph as N-Triples: a PUT replaces
the graph, so loading the same release twice leaves the store as after one load. Any answer but
2xx raises ``RemoteError`` naming the URL, the graph and the status.

A store that takes writes only from a user (Virtuoso's ``/sparql-graph-crud-auth``, a Fuseki
behind a password) is given one in the URL, ``http://USER:PASSWORD@HOST/...``: the credentials
are sent the way the store's challenge asks (HTTP Digest or Basic) and never printed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from isecg_kg import formats
from isecg_kg.config import GRAPHS
from isecg_kg.errors import InputError, RemoteError

NTRIPLES = formats.SYNTAXES["nt"].media_type  # what each graph is PUT as


def graphs_of(nquads: Path) -> dict[str, bytes]:
    """The release's named graphs, each serialized as N-Triples (in GRAPHS order)."""
    nquads = Path(nquads)
    if not nquads.is_file():
        raise InputError(f"{nquads}: no N-Quads dump here; run `isecg-kg build` first or pass "
                         "--dist DIR")
    by_graph: dict[str, list[ox.Triple]] = {g: [] for g in GRAPHS}
    try:
        for quad in ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS):
            name = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else None
            if name not in by_graph:
                raise InputError(f"{nquads}: a quad in graph {quad.graph_name} is outside the "
                                 f"release's graphs {', '.join(GRAPHS)}; rebuild the dist")
            by_graph[name].append(quad.triple)
    except SyntaxError as exc:
        raise InputError(f"{nquads}: not valid N-Quads: {exc}") from exc
    return {g: ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES) or b""
            for g, ts in by_graph.items()}


def load_into(url: str, dist: Path, *, timeout: float = 120.0,
              log: Callable[[str], None] | None = None) -> dict[str, int]:
    """PUT each named graph of `dist`/isecg.nq to the Graph Store at `url`; return triples each."""
    import httpx

    from isecg_kg.sparql import http

    counts: dict[str, int] = {}
    graphs = graphs_of(Path(dist) / "isecg.nq")
    url, credentials = http.split_credentials(url)  # from here on `url` is safe to print
    with http.client(httpx.Timeout(timeout, connect=10.0), credentials=credentials,
                     user_agent=None) as client:
        for graph, body in graphs.items():
            try:
                resp = client.put(url, params={"graph": graph}, content=body,
                                  headers={"Content-Type": NTRIPLES})
            except httpx.HTTPError as exc:
                raise RemoteError(f"{url}: cannot PUT graph <{graph}>: {exc!s} "
                                  "(is the store running, and is this its Graph Store URL?)"
                                  ) from exc
            if not 200 <= resp.status_code < 300:
                raise RemoteError(f"{url}: PUT graph <{graph}> answered HTTP "
                                  f"{resp.status_code}: {resp.text[:300].strip()} (check that the "
                                  "URL is the store's Graph Store endpoint and that it is "
                                  "writable)")
            counts[graph] = body.count(b"\n")
            if log:
                log(f"PUT <{graph}>: {counts[graph]} triples, HTTP {resp.status_code}")
    return counts


def cli_load(args: argparse.Namespace) -> int:
    from isecg_kg.sparql import http

    log = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    counts = load_into(args.into, args.dist, log=log)
    if not args.quiet:
        print(f"loaded {sum(counts.values())} triples in {len(counts)} graphs into "
              f"{http.split_credentials(args.into)[0]}", file=sys.stderr)
    return 0
