"""The read-only SPARQL 1.1 Graph Store Protocol on /sparql: GET ?graph=IRI or ?default, each
graph a document in every RDF syntax (pages/documents.py writes them)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from isecg_kg import formats
from isecg_kg.config import GRAPHS
from isecg_kg.web.endpoint import problems
from isecg_kg.web.endpoint.formats import agreed_format
from isecg_kg.web.endpoint.protocol import Asked
from isecg_kg.web.http import conneg
from isecg_kg.web.http.responses import problem
from isecg_kg.web.pages.documents import Graphs


def asks_for_a_graph(asked: Asked) -> bool:
    """A request without a query that names a graph (graph=IRI) or the default graph."""
    return asked.query is None and ("graph" in asked.names or "default" in asked.names)


def graph(request: Request, asked: Asked, graphs: Graphs) -> Response:
    """The graph the request names, in the syntax it asks for (or a 4xx)."""
    if request.method == "POST":
        return problems.read_only()
    named = asked.values("graph")
    if len(named) + asked.names.count("default") != 1:
        return problem(400, "Bad request", "name exactly one graph: graph=IRI or default")
    iri = named[0] if named else None
    if iri is not None and iri not in GRAPHS:
        return problem(404, "No such graph", f"<{iri}> is not a graph of this dataset; "
                       f"its graphs are {', '.join(GRAPHS)}, or ask for ?default")
    documents = formats.documents()
    if asked.formats:
        fmt = agreed_format(asked.formats, formats.param_names(documents),
                            {f.media_type: f.name for f in documents}, "graphs")
        if isinstance(fmt, Response):
            return fmt
    else:
        fmt = conneg.negotiate_rdf(asked.accept, documents)
    return graphs.response(request, iri, fmt, vary=True)
