"""The query page at /query (and /sparql asked for HTML): an editor, the named queries as
examples, completion from the data's vocabulary."""

from __future__ import annotations

import json
import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from isecg_kg import formats
from isecg_kg.config import PREDECLARED, PREFIXES
from isecg_kg.errors import QueryError
from isecg_kg.sparql.catalogue import named_queries
from isecg_kg.sparql.engine import Limits
from isecg_kg.web.context import Site
from isecg_kg.web.defaults import QUERY_PAGE_CSP
from isecg_kg.web.http.responses import problem
from isecg_kg.web.templates import STATIC, environment

# The answer's download links, in the formats /sparql answers each query form in
DOWNLOADS = {kind: [[f.name, f.label, f.suffix] for f in formats.answers(form, served_only=True)]
             for kind, form in (("solutions", "SELECT"), ("graphs", "CONSTRUCT"))}


class QueryPage:
    """The page, rendered for one site and store."""

    def __init__(self, site: Site, store, limits: Limits):
        self.site = site
        self.store = store
        self.limits = limits  # the engine's, stated on the page
        self._page = None

    def _examples(self) -> list[dict]:
        try:
            queries = named_queries().values()
        except QueryError:
            return []
        out = []
        for q in queries:
            # a parameter is required unless its description starts with "optional", the
            # query says what it does "without the parameter", or the query has its own value
            optional_query = "without the parameter" in q.description.lower()
            params = [{"name": p.name, "type": p.type, "description": p.description,
                       "required": not (optional_query or p.default is not None or
                                        p.description.lower().startswith("optional"))}
                      for p in q.params.values()]
            out.append({"name": q.name, "title": q.title or q.name,
                        "description": q.description, "query": q.text, "params": params})
        return out

    def render(self, request: Request, query: str | None = None) -> Response:
        if self._page is None:
            self._page = environment(LICENCE="https://creativecommons.org/publicdomain/zero/1.0/"
                                     ).get_template("sparql_query.html")
        examples = self._examples()
        if query is None:
            query = request.query_params.get("query")
        name = request.query_params.get("name")
        chosen = next((e for e in examples if e["name"] == name), None)
        autorun = bool(query) or chosen is not None
        if not query:
            chosen = chosen or (examples[0] if examples else None)
            query = chosen["query"] if chosen else (
                "SELECT ?s ?label WHERE {\n  ?s rdfs:label ?label\n}\nLIMIT 20\n")
        vocabulary = self._vocabulary()
        nonce = secrets.token_urlsafe(18)
        csp = QUERY_PAGE_CSP.format(nonce=nonce)
        data = {"nonce": nonce, "examples": examples, "dataBase": self.site.data_base,
                "ontology": self.site.data_base + "ontology#", "prefixes": PREFIXES,
                "predeclared": PREDECLARED, "vocabulary": vocabulary,
                "chosen": chosen["name"] if chosen else "", "downloads": DOWNLOADS}
        # JSON inside <script>: escape <, > and & so no label can close the element
        page_json = (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
                     .replace(">", "\\u003e").replace("&", "\\u0026"))
        html = self._page.render(query=query, autorun=autorun, examples=examples,
                                 chosen=chosen["name"] if chosen else "", page_json=page_json,
                                 endpoint="/sparql", version=self.site.version,
                                 max_rows=self.limits.max_rows,
                                 timeout=self.limits.timeout,
                                 predeclared=PREDECLARED, link=_PageLink(), csp=csp,
                                 editor=(STATIC / "editor" / "editor.js").is_file())
        return HTMLResponse(html, headers={"Content-Security-Policy": csp, "Vary": "Accept",
                                           "X-Content-Type-Options": "nosniff",
                                           "Referrer-Policy": "no-referrer",
                                           "Cache-Control": "no-store"})

    def _vocabulary(self) -> list[str]:
        """Prefixed names of the classes and properties the data uses, for completion."""
        if getattr(self, "_vocab", None) is None:
            from isecg_kg.web.pages.describe import compact

            terms = set()
            try:
                for row in self.store.query(
                        "SELECT DISTINCT ?t WHERE { { ?s a ?t } UNION { ?s ?t ?o } }",
                        use_default_graph_as_union=True):
                    terms.add(compact(row["t"].value))
            except (OSError, RuntimeError, SyntaxError):  # an external store may refuse
                pass
            self._vocab = sorted(t for t in terms if ":" in t and "://" not in t)
        return self._vocab

    async def handler(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return problem(405, "Method not allowed", "the query page answers GET only",
                           headers={"Allow": "GET, HEAD"})
        return self.render(request)


class _PageLink:
    """What the site's base template asks of ``link``: the query page is served live only."""

    @staticmethod
    def path(path: str) -> str:
        return path
