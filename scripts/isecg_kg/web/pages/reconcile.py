"""W3C Entity Reconciliation API (the protocol OpenRefine speaks) at ``/reconcile``.

``GET /reconcile`` without parameters returns the service manifest (versions 0.1 and 0.2:
``name``, ``identifierSpace``, ``schemaSpace``, ``defaultTypes`` agency / country / document, a
``view`` URL template, the ``suggest`` and ``preview`` services). Queries come as ``queries=``
(a JSON object of named queries, the batch form OpenRefine POSTs form-encoded; GET works too) or
``query=`` (one query: plain text or a JSON object). Each query has ``query`` and optionally
``type`` (a class IRI, ``isecg:SpaceAgency``, or one of ``agency``, ``country``, ``document``,
``group``, ``region``, ``destination``, ``person``) and ``limit``; ``properties`` are accepted and
ignored. Candidates are our entity IRIs, scored 0–100:

* 100: the query is, case- accent- and punctuation-insensitively, one of the entity's current
  names (label, preferred or alternative label, acronym, native name, title);
* 90: it is a former name (``isecg:formerAcronym``, ``skos:hiddenLabel``);
* below 90: a fuzzy match, word by word (words of up to four letters, acronyms, must be equal),
  with words weighted by how rare they are among our names (so "Space" and "Agency" count
  little); at least 70 when the query's initials, or one of its words, are an entity's acronym
  ("Agenzia Spaziale Italiana" → ASI, "Canadian Space Agency (CSA)" → CSA). Candidates under 50
  are dropped.

``match: true`` is set only when exactly one entity has an exact (100 or 90) hit: an unambiguous
exact name. The graph holds only names its sources give (CSA and ASI are known by acronym only),
so "Canadian Space Agency" finds CSA by initials but never as a match.

Also ``/reconcile/suggest/entity|type|property?prefix=`` and ``/reconcile/preview?id=``. Every
response allows any origin (CORS); ``OPTIONS`` answers preflights. JSONP is not offered.
"""

from __future__ import annotations

import asyncio
import functools
import html
import json
import math
import time
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from urllib.parse import parse_qs

from isecg_kg.config import ID_BASE, ONTOLOGY_NS, PREFIXES
from isecg_kg.errors import (
    BodyTooLarge,
    ReconcileError,
    ReconcileOverBudget,
    ReconcileTooLarge,
)
from isecg_kg.names import initials, normalize
from isecg_kg.web.http.body import read_body
from isecg_kg.web.http.clients import Clients

ISECG = ONTOLOGY_NS
RDFS = PREFIXES["rdfs"]
SKOS = PREFIXES["skos"]
DCTERMS = PREFIXES["dcterms"]

# Types offered, in order of preference for a candidate's main type: short name -> class IRI.
TYPES: dict[str, str] = {
    "agency": ISECG + "SpaceAgency",
    "group": ISECG + "CoordinationGroup",
    "country": ISECG + "Country",
    "region": ISECG + "Region",
    "destination": ISECG + "Destination",
    "person": ISECG + "Person",
    "document": ISECG + "Document",
}
DEFAULT_TYPES = ("agency", "country", "document")
CURRENT_NAMES = (RDFS + "label", SKOS + "prefLabel", SKOS + "altLabel", ISECG + "acronym",
                 ISECG + "nativeName", DCTERMS + "title", "http://xmlns.com/foaf/0.1/name")
FORMER_NAMES = (SKOS + "hiddenLabel", ISECG + "formerAcronym")
ACRONYMS = (ISECG + "acronym", ISECG + "formerAcronym")

EXACT, FORMER, ACRONYM, THRESHOLD = 100.0, 90.0, 70.0, 50.0
FUZZY_MAX = 89.0
TOKEN_MIN = 0.75       # a word counts as matched only if this similar ...
SHORT_WORD = 4         # ... and words this short (acronyms) only if equal
RECALL_WEIGHT = 0.7    # how much covering the entity's name counts against covering the query
DEFAULT_LIMIT, MAX_LIMIT = 5, 25
MAX_QUERIES, MAX_QUERY_CHARS, MAX_BODY = 200, 500, 512 * 1024
MAX_QUERY_WORDS = 24   # words of a query that are scored (names are shorter; the rest is noise)
BATCH_BUDGET = 5.0     # seconds of scoring per request; a batch that needs more is refused (503)
SCORING_SLOTS = 2      # requests scoring at once (one per client); others wait up to SLOT_WAIT s
SLOT_WAIT = 2.0
SCORING_NICE = 10      # scoring processes yield the CPU to the server's event loop


@functools.lru_cache(maxsize=1 << 16)
def _word_similarity(a: str, b: str) -> float:
    """Similarity of two words; 0.0 for any pair below TOKEN_MIN (they never count)."""
    if a == b:
        return 1.0
    if min(len(a), len(b)) <= SHORT_WORD:
        return 0.0
    # The ratio is at most 2·min/(len a + len b): most pairs are ruled out without matching.
    if 2 * min(len(a), len(b)) < TOKEN_MIN * (len(a) + len(b)):
        return 0.0
    m = SequenceMatcher(None, a, b)
    if m.quick_ratio() < TOKEN_MIN:
        return 0.0
    ratio = m.ratio()
    return ratio if ratio >= TOKEN_MIN else 0.0


@dataclass
class Entry:
    iri: str
    name: str
    types: list[str]                     # class IRIs, most specific first
    current: set[str] = field(default_factory=set)   # normalized names
    former: set[str] = field(default_factory=set)
    acronyms: set[str] = field(default_factory=set)
    display: list[str] = field(default_factory=list)  # names as written
    description: str = ""


class Index:
    """All reconcilable entities of one build, with their names, built once."""

    def __init__(self, store):
        self.entries: dict[str, Entry] = {}
        self.type_names: dict[str, str] = {}

        def q(text):
            return store.query(text, use_default_graph_as_union=True)

        values = " ".join(f"<{c}>" for c in TYPES.values())
        for row in q(f"SELECT ?c ?l WHERE {{ VALUES ?c {{ {values} }} ?c <{RDFS}label> ?l "
                     f"FILTER(LANGMATCHES(LANG(?l), 'en') || LANG(?l) = '') }}"):
            self.type_names.setdefault(row["c"].value, row["l"].value)
        for short, cls in TYPES.items():
            self.type_names.setdefault(cls, short)
        specific: dict[str, str] = {}
        for row in q(f"""SELECT ?e ?c ?t WHERE {{
                VALUES ?c {{ {values} }} ?e a ?t . ?t <{RDFS}subClassOf>* ?c FILTER(isIRI(?e)) }}"""):  # noqa: E501 (query text kept as is)
            iri, cls, t = row["e"].value, row["c"].value, row["t"].value
            entry = self.entries.get(iri)
            if entry is None:
                entry = self.entries[iri] = Entry(iri=iri, name="", types=[])
            if cls not in entry.types:
                entry.types.append(cls)
            if t.startswith(ISECG) and t not in TYPES.values():
                specific.setdefault(iri, t)
        order = list(TYPES.values())
        for e in self.entries.values():
            e.types.sort(key=order.index)
        for iri, t in specific.items():  # e.g. isecg:Report before isecg:Document
            self.entries[iri].types.insert(0, t)
        for row in q(f"SELECT ?t ?l WHERE {{ ?t <{RDFS}subClassOf>+ <{TYPES['document']}> ; "
                     f"<{RDFS}label> ?l }}"):
            self.type_names.setdefault(row["t"].value, row["l"].value)

        for props, target in ((CURRENT_NAMES, "current"), (FORMER_NAMES, "former")):
            for prop in props:
                for row in q(f"SELECT ?e ?n WHERE {{ ?e <{prop}> ?n FILTER(isLiteral(?n)) }}"):
                    e = self.entries.get(row["e"].value)
                    if e is None:
                        continue
                    text = row["n"].value
                    norm = normalize(text)
                    if not norm:
                        continue
                    getattr(e, target).add(norm)
                    if text not in e.display:
                        e.display.append(text)
                    if prop == RDFS + "label" and not e.name:
                        e.name = text
                    if prop in ACRONYMS:
                        e.acronyms.add(norm.replace(" ", ""))
        places = {row["e"].value: row["l"].value for row in q(
            f"SELECT ?e ?l WHERE {{ ?e <{ISECG}country>|<{ISECG}region> ?p . "
            f"?p <{RDFS}label> ?l }}")}
        issued = {row["e"].value: row["d"].value for row in q(
            f"SELECT ?e ?d WHERE {{ ?e <{DCTERMS}issued> ?d }}")}
        for e in self.entries.values():
            e.name = e.name or (e.display[0] if e.display else e.iri.rsplit("/", 1)[-1])
            parts = [self.type_names.get(e.types[0], "")] if e.types else []
            if e.iri in places:
                parts.append(places[e.iri])
            if e.iri in issued:
                parts.append(issued[e.iri])
            others = [d for d in e.display if d != e.name]
            if others:
                parts.append("also " + ", ".join(others[:4]))
            e.description = " · ".join(p for p in parts if p)
        # Word rarity over all names: idf = log(N / df).
        df: dict[str, int] = {}
        for e in self.entries.values():
            for word in {w for n in e.current | e.former for w in n.split()}:
                df[word] = df.get(word, 0) + 1
        n = max(1, len(self.entries))
        self.idf = {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}
        self.idf_unknown = math.log((n + 1) / 0.5)

    # -- types ----------------------------------------------------------------------------

    def resolve_type(self, value) -> str | None:
        """A requested type (IRI, prefixed name, short name or {"id": ...}) as a class IRI."""
        if isinstance(value, dict):
            value = value.get("id")
        if not isinstance(value, str) or not value.strip():
            return None
        value = value.strip()
        if value in TYPES:
            return TYPES[value]
        if value.startswith("isecg:"):
            return ISECG + value[len("isecg:"):]
        return value

    def type_json(self, cls: str) -> dict:
        return {"id": cls, "name": self.type_names.get(cls, cls.rsplit("#", 1)[-1])}

    # -- scoring --------------------------------------------------------------------------

    def _weight(self, word: str) -> float:
        return self.idf.get(word, self.idf_unknown)

    def _soft(self, words_a: list[str], words_b: list[str]) -> float:
        """Weighted share of words_a that have a similar word in words_b."""
        total = sum(self._weight(w) for w in words_a)
        if not total:
            return 0.0
        got = 0.0
        for w in words_a:
            best = max((_word_similarity(w, v) for v in words_b), default=0.0)
            if best >= TOKEN_MIN:
                got += self._weight(w) * best
        return got / total

    def fuzzy(self, query: str, name: str) -> float:
        """Words of the query found in the name (precision) and of the name found in the query
        (recall), rarity-weighted; recall counts more, since users' names are often longer."""
        qa, na = query.split(), name.split()
        p, r = self._soft(qa, na), self._soft(na, qa)
        if not p or not r:
            return 0.0
        return FUZZY_MAX * ((1 - RECALL_WEIGHT) * p + RECALL_WEIGHT * r)

    def score(self, query: str, entry: Entry) -> tuple[float, bool]:
        """(score, exact) of one normalized query against one entity."""
        if query in entry.current:
            return EXACT, True
        if query in entry.former:
            return FORMER, True
        best = max((self.fuzzy(query, n) for n in entry.current | entry.former), default=0.0)
        words = query.split()
        if initials(query) in entry.acronyms or (len(words) > 1 and entry.acronyms & set(words)):
            best = max(best, ACRONYM)  # "Agenzia Spaziale Italiana", "Canadian Space Agency (CSA)"
        return best, False

    def _of_type(self, type_: str | None):
        """The entries of class ``type_`` (every entry for None), in index order."""
        return (e for e in self.entries.values() if not type_ or type_ in e.types)

    def reconcile(self, query: str, *, type_: str | None = None, limit: int = DEFAULT_LIMIT
                  ) -> list[dict]:
        norm = " ".join(normalize(query).split()[:MAX_QUERY_WORDS])
        if not norm:
            return []
        scored = []
        for e in self._of_type(type_):
            s, exact = self.score(norm, e)
            if s >= THRESHOLD:
                scored.append((s, exact, e))
        scored.sort(key=lambda x: (-x[0], x[2].name.casefold(), x[2].iri))
        exact_hits = [x for x in scored if x[1]]
        unambiguous = len(exact_hits) == 1
        return [{
            "id": e.iri,
            "name": e.name,
            "description": e.description,
            "type": [self.type_json(t) for t in e.types],
            "score": round(s, 1),
            "match": bool(exact and unambiguous),
        } for s, exact, e in scored[:limit]]

    def suggest(self, prefix: str, *, type_: str | None = None, limit: int = 10) -> list[dict]:
        norm = normalize(prefix)
        if not norm:
            return []
        hits = []
        for e in self._of_type(type_):
            names = e.current | e.former
            if any(n.startswith(norm) for n in names):
                rank = 0 if any(n == norm for n in names) else 1
                hits.append((rank, e.name.casefold(), e))
            elif any(f" {norm}" in f" {n}" for n in names):
                hits.append((2, e.name.casefold(), e))
        hits.sort(key=lambda x: (x[0], x[1], x[2].iri))
        return [{"id": e.iri, "name": e.name, "description": e.description}
                for _, _, e in hits[:limit]]


# --------------------------------------------------------------------------------------------
# HTTP


def _limit(value) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError, OverflowError):  # "abc", [], NaN, 1e999 (JSON allows it)
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, n))


def _one(index: Index, q) -> dict:
    if isinstance(q, str):
        q = {"query": q}
    if not isinstance(q, dict) or not isinstance(q.get("query"), str):
        raise ReconcileError('each query must be an object with a "query" string')
    text = q["query"]
    if len(text) > MAX_QUERY_CHARS:
        raise ReconcileError(f"a query is longer than {MAX_QUERY_CHARS} characters")
    return {"result": index.reconcile(text, type_=index.resolve_type(q.get("type")),
                                      limit=_limit(q.get("limit", DEFAULT_LIMIT)))}


def _json_int(digits: str) -> int:
    """A JSON integer, but one of thousands of digits (Python refuses to convert those, in
    words of its own) is just a very large number: a limit clamps it like any other."""
    if len(digits) > 30:
        return -(10 ** 30) if digits.startswith("-") else 10 ** 30
    return int(digits)


def _loads(text: str):
    return json.loads(text, parse_int=_json_int)


def _text(value, what: str) -> None:
    """Refuse a string JSON allowed (\\ud800) that is no text: it cannot be answered back."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ReconcileError(f"{what} holds a lone surrogate (an unpaired \\uD800-\\uDFFF "
                                 "escape), which is no character") from None


def answer(index: Index, params: dict[str, str], *, budget: float | None = None) -> dict | None:
    """The JSON answer for the request parameters, or None when the manifest is wanted.

    With ``budget`` (seconds), a batch still scoring after that long is abandoned
    (ReconcileOverBudget).
    """
    if "queries" in params:
        try:
            batch = _loads(params["queries"])
        except ValueError as exc:
            raise ReconcileError(f"queries= is not valid JSON ({exc})") from None
        except RecursionError:  # [[[[... nested deeper than the parser's stack
            raise ReconcileError("queries= is nested too deeply to be a batch of queries") from None
        if not isinstance(batch, dict):
            raise ReconcileError('queries= must be a JSON object like {"q0": {"query": "NASA"}}')
        if len(batch) > MAX_QUERIES:
            raise ReconcileError(f"at most {MAX_QUERIES} queries per batch, got {len(batch)}")
        for key, q in batch.items():
            _text(key, "a query's key")
            if isinstance(q, dict):
                for field_name in ("query", "type"):
                    _text(q.get(field_name), f"the {field_name} of query {key!r}")
        deadline = None if budget is None else time.monotonic() + budget
        out = {}
        for key, q in batch.items():
            if deadline is not None and time.monotonic() > deadline:
                raise ReconcileOverBudget(f"this batch needs more than {budget:g} s of scoring; "
                                          "send smaller batches or shorter queries")
            out[str(key)] = _one(index, q)
        return out
    if "query" in params:
        text = params["query"]
        _text(text, "query=")
        if text.lstrip().startswith("{"):
            try:
                return _one(index, _loads(text))
            except (ValueError, RecursionError):
                pass
        return _one(index, text)
    return None


# --------------------------------------------------------------------------------------------
# Scoring processes: scoring is pure Python, and on the server's threads it held the GIL the
# event loop needs (one client's batches raised /healthz p50 from 1 to 34 ms). Each of the
# SCORING_SLOTS processes builds its own index from the checked isecg.nq, runs at a lower
# priority, and has no network (sparql/seal.py).

_INDEX: Index | None = None


def _start_scorer(nq_path: str, sha256: str | None) -> None:
    global _INDEX
    import os

    from isecg_kg.sparql.engine import open_store
    from isecg_kg.sparql.seal import deny_network

    os.nice(SCORING_NICE)
    deny_network()
    _INDEX = Index(open_store(nq_path, sha256))


def _score(params: dict[str, str], budget: float) -> tuple[dict | None, float, Exception | None]:
    """In a scoring process: (the answer, the seconds it took, or the error it raised)."""
    t0 = time.perf_counter()
    try:
        return answer(_INDEX, params, budget=budget), time.perf_counter() - t0, None
    except ReconcileError as exc:
        return None, time.perf_counter() - t0, exc


class Scorers:
    """The scoring processes and who may use them: at most SCORING_SLOTS batches at once and
    one per client (a client with several connections waits for its own previous batch), each
    wait at most SLOT_WAIT seconds (then 503); the scoring time is charged to the client's
    budget (web/http/budget.py) as a query's engine time is."""

    def __init__(self, nq_path: str, sha256: str | None):
        self.nq_path, self.sha256 = nq_path, sha256
        self._pool = None
        self._slots: asyncio.Semaphore | None = None
        self._mine: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}

    def _executor(self):
        from concurrent.futures import ProcessPoolExecutor

        from isecg_kg import children

        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                SCORING_SLOTS, mp_context=children.context("forkserver"),
                initializer=_start_scorer, initargs=(self.nq_path, self.sha256))
        return self._pool

    async def _take(self, lock: asyncio.Semaphore, deadline: float) -> None:
        try:
            await asyncio.wait_for(lock.acquire(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise ReconcileOverBudget("the reconciliation service is busy; retry in a "
                                      "second") from None

    async def score(self, client: str, params: dict[str, str]) -> tuple[dict | None, float]:
        from concurrent.futures.process import BrokenProcessPool

        if self._slots is None:
            self._slots = asyncio.Semaphore(SCORING_SLOTS)
        mine = self._mine.setdefault(client, asyncio.Semaphore(1))
        self._users[client] = self._users.get(client, 0) + 1
        deadline = time.monotonic() + SLOT_WAIT
        try:
            await self._take(mine, deadline)
            try:
                await self._take(self._slots, deadline)
                try:
                    loop = asyncio.get_running_loop()
                    try:
                        data, seconds, error = await loop.run_in_executor(
                            self._executor(), _score, params, BATCH_BUDGET)
                    except BrokenProcessPool:  # a scoring process died: new ones next time
                        self.close()
                        raise ReconcileOverBudget("a scoring process failed; retry in a "
                                                  "second") from None
                finally:
                    self._slots.release()
            finally:
                mine.release()
        finally:
            self._users[client] -= 1
            if not self._users[client]:
                del self._users[client], self._mine[client]
        if error is not None:
            error.seconds = seconds
            raise error
        return data, seconds

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def routes(site, store, *, budgets=None, clients: Clients | None = None) -> list:
    """Starlette routes of the reconciliation service for one build (site) and its store;
    scoring is charged to the client's share of ``budgets`` (the SPARQL endpoint's)."""
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    clients = clients or Clients()
    index = Index(store)
    release = site.release
    scorers = Scorers(str(site.dist / "isecg.nq"),
                      release.sums.get("isecg.nq") if release is not None else None)
    cors = {"Access-Control-Allow-Origin": "*"}
    preflight = {**cors, "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                 "Access-Control-Allow-Headers": "Content-Type, Accept",
                 "Access-Control-Max-Age": "86400"}

    def as_json(data, status: int = 200, cache: bool = False,
                headers: dict | None = None) -> Response:
        headers = {**cors, **(headers or {})}
        if cache:
            headers["ETag"] = f'"{site.version}-reconcile"'
        return JSONResponse(data, status_code=status, headers=headers)

    async def params_of(request) -> dict[str, str]:
        params = dict(request.query_params)
        if request.method == "POST":
            try:
                body = await read_body(request, MAX_BODY)
            except BodyTooLarge:
                raise ReconcileTooLarge(f"request body larger than {MAX_BODY} bytes") from None
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            text = body.decode("utf-8", errors="replace")
            if kind == "application/json":
                params["queries"] = text
            elif text:
                for key, values in parse_qs(text, keep_blank_values=True).items():
                    params[key] = values[-1]
        return params

    def service_url(request) -> str:
        return str(request.base_url).rstrip("/") + "/reconcile"

    def manifest(request) -> dict:
        url = service_url(request)
        return {
            "versions": ["0.1", "0.2"],
            "name": "ISECG knowledge graph",
            "identifierSpace": ID_BASE,
            "schemaSpace": ONTOLOGY_NS,
            "defaultTypes": [index.type_json(TYPES[t]) for t in DEFAULT_TYPES],
            "view": {"url": "{{id}}"},
            "preview": {"url": url + "/preview?id={{id}}", "width": 400, "height": 90},
            "suggest": {
                "entity": {"service_url": url, "service_path": "/suggest/entity"},
                "type": {"service_url": url, "service_path": "/suggest/type"},
                "property": {"service_url": url, "service_path": "/suggest/property"},
            },
            "batchSize": 50,
        }

    async def reconcile(request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=preflight)
        client = clients.of_request(request)
        try:
            params = await params_of(request)
            if "queries" not in params and "query" not in params:
                return as_json(manifest(request), cache=True)
            if budgets is not None and (retry := budgets.retry_after(client)) is not None:
                return as_json({"error": f"{client} has used its query time: "
                                f"{budgets.seconds:g} s in any {budgets.window:g} s (SPARQL "
                                "queries and reconciliation together; --client-budget). Retry "
                                f"after {retry} s."}, status=429,
                               headers={"Retry-After": str(retry)})
            try:
                data, seconds = await scorers.score(client, params)
            except ReconcileError as exc:
                if budgets is not None and getattr(exc, "seconds", None):
                    budgets.charge(client, exc.seconds)
                raise
            if budgets is not None:
                budgets.charge(client, seconds)
        except ReconcileError as exc:
            headers = {"Retry-After": "1"} if exc.status == 503 else None
            return as_json({"error": str(exc)}, status=exc.status, headers=headers)
        return as_json(data)

    async def suggest_entity(request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=preflight)
        p = request.query_params
        return as_json({"result": index.suggest(p.get("prefix", ""),
                                                type_=index.resolve_type(p.get("type")),
                                                limit=_limit(p.get("limit", 10)))})

    async def suggest_type(request) -> Response:
        prefix = normalize(request.query_params.get("prefix", ""))
        result = [{"id": cls, "name": index.type_names.get(cls, short)}
                  for short, cls in TYPES.items()
                  if not prefix or prefix in normalize(index.type_names.get(cls, short))
                  or short.startswith(prefix)]
        return as_json({"result": result})

    async def suggest_property(request) -> Response:
        return as_json({"result": []})

    async def preview(request) -> Response:
        iri = request.query_params.get("id", "")
        e = index.entries.get(iri)
        if e is None:
            return Response(f"unknown id {iri!r}: give one of this service's candidate ids\n",
                            status_code=404, media_type="text/plain; charset=utf-8",
                            headers=cors)
        body = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                f"<title>{html.escape(e.name)}</title></head><body style=\"font:14px sans-serif\">"
                f'<p><a href="{html.escape(e.iri)}" target="_blank">{html.escape(e.name)}</a></p>'
                f"<p>{html.escape(e.description)}</p></body></html>")
        return HTMLResponse(body, headers={**cors, "Content-Security-Policy": "default-src 'none'; "
                                           "style-src 'unsafe-inline'"})

    both = ["GET", "POST", "OPTIONS"]
    return [
        Route("/reconcile", reconcile, methods=both),
        Route("/reconcile/suggest/entity", suggest_entity, methods=["GET", "OPTIONS"]),
        Route("/reconcile/suggest/type", suggest_type, methods=["GET"]),
        Route("/reconcile/suggest/property", suggest_property, methods=["GET"]),
        Route("/reconcile/preview", preview, methods=["GET"]),
    ]
