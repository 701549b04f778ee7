"""Wikidata linking: check the links, suggest missing ones, export QuickStatements.

The links
    ``data/wikidata-links.ttl`` holds every link: ``skos:exactMatch wd:Q…`` on the entity, plus one
    ``isecg:LinkRecord`` per link saying where the QID was seen (``isecg:evidence``), when it was
    recorded (``dcterms:created``) and against which reference (``dcterms:source``). Only QIDs that
    ``shared/reference/wikidata.md`` gives are linked; everything else stays unlinked and is
    listed by ``link check``.

Why ``skos:exactMatch`` and not ``owl:sameAs``
    ``owl:sameAs`` would state that our IRI and the Wikidata IRI denote one resource, so an OWL RL
    reasoner copies every statement about either IRI onto the other (owlrl's run time grows about
    n³ with sameAs chains; see the stack pitfalls), and every Wikidata statement a consumer merges
    in would become a statement about our entity, including Wikidata's errors. ``skos:exactMatch``
    says "these two can be used interchangeably" without that entailment, is transitive and
    symmetric only within SKOS, and is what ISO 25964 / SKOS mappings and many LOD hubs use for
    curated cross-dataset links. The inferred dump therefore never merges identities.

``link check``
    Asks a Wikidata SPARQL endpoint about every link in batches (``VALUES``): does the item exist,
    is it a redirect (Wikidata models a redirect as ``owl:sameAs`` from the old item to the new one),
    does any of its labels, aliases or short names (P1813) agree with one of our names, and does
    its country (P17) agree with ours. One line per problem, ``[SEVERITY] file: entity: message``;
    then one ``[INFO]`` line per unlinked entity; with ``suggest`` one ``[SUGGEST]`` line per
    candidate found by exact name / acronym match (nothing is written). Exit codes as
    ``validate``: 0 every link agrees, 1 mismatches found, 2 error (endpoint unreachable, garbage).

``link quickstatements``
    QuickStatements v1 (tab-separated) for "member of (P463) ISECG": one command line per membership
    and reference, ``Qagency P463 Qisecg [P580 start] [P582 end] S854 "public address" S813 day``.
    Sources on one line form one reference, so each source gets its own line (the tool merges the
    repeated statement and adds the reference). P580 and P582 come from the claims the membership's
    period adopts, at the source's precision (``/9`` year, ``/10`` month, ``/11`` day; a window of
    days inside one month or year gives that month or year): BNSC from November 2007 to 1 April
    2010, UKSA from 1 April 2010. The reference is the address where the source was read (S854)
    and the day it was read (S813); a source without a public address (the brochure) cannot be
    cited. ISECG has no known QID, hence ``--isecg-qid`` is required.

The HTTP client is polite per the Wikimedia User-Agent policy: a descriptive User-Agent naming
isecg-kg and its version, timeouts, and bounded retries with exponential backoff that honour
``Retry-After`` on 429 and 5xx answers.
"""

from __future__ import annotations

import argparse
import email.utils
import re
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Self

from isecg_kg import __version__
from isecg_kg.config import ID_BASE, PREFIXES, WIKIDATA_ENTITY
from isecg_kg.errors import InputError, RemoteError

WD = WIKIDATA_ENTITY
WDT = "http://www.wikidata.org/prop/direct/"
ISECG = PREFIXES["isecg"]
SKOS = PREFIXES["skos"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
SCHEMA_ORG = "http://schema.org/"  # Wikidata's RDF uses http://schema.org/, not https
GROUP_ISECG = ID_BASE + "group/isecg"

QID_RE = re.compile(r"^Q[1-9][0-9]*$")
USER_AGENT = (f"isecg-kg/{__version__} (https://w3id.org/isecg/; ISECG knowledge graph "
              f"link checker and QuickStatements export)")
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

# Classes whose members can have a Wikidata item; "linkable" in the coverage report.
LINKABLE_CLASSES: dict[str, str] = {
    ISECG + "SpaceAgency": "agency",
    ISECG + "CoordinationGroup": "group",
    ISECG + "Country": "country",
    ISECG + "Region": "region",
    ISECG + "Destination": "destination",
    ISECG + "SpaceStation": "space station",
    ISECG + "Person": "person",
    ISECG + "Roadmap": "roadmap",
}
# Our name properties, strongest first.
NAME_PROPERTIES = (RDFS + "label", SKOS + "prefLabel", ISECG + "acronym", SKOS + "altLabel",
                   ISECG + "nativeName", "http://xmlns.com/foaf/0.1/name",
                   PREFIXES["dcterms"] + "title")
ACRONYM_PROPERTIES = (ISECG + "acronym",)


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, order=True)
class Problem:
    """One line of the check: ``[SEVERITY] file: entity: message``."""

    severity: str  # ERROR | WARNING | INFO | SUGGEST
    file: str
    entity: str
    message: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.file}: {self.entity}: {self.message}"


@dataclass
class CheckReport:
    endpoint: str
    checked: int
    problems: list[Problem] = field(default_factory=list)   # ERROR / WARNING about links
    unlinked: list[Problem] = field(default_factory=list)   # INFO: entities without a link
    suggestions: list[Problem] = field(default_factory=list)  # SUGGEST: candidates

    @property
    def agrees(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        return [str(p) for p in (*self.problems, *self.unlinked, *self.suggestions)]


@dataclass
class Entity:
    iri: str
    kind: str                      # agency, country, ...
    file: str                      # where it is described
    names: list[tuple[str, str]] = field(default_factory=list)  # (text, language), strongest first
    acronyms: list[str] = field(default_factory=list)
    country: str | None = None     # our country IRI (agencies)
    links: list[tuple[str, str]] = field(default_factory=list)  # (Wikidata IRI, file)

    @property
    def qids(self) -> list[str]:
        return [iri[len(WD):] for iri, _ in self.links if iri.startswith(WD)]


# --------------------------------------------------------------------------------------------
# Polite SPARQL client


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class SparqlClient:
    """A SPARQL 1.1 protocol client (POST, form-encoded) for SELECT queries, JSON results.

    Retries at most ``retries`` times on 429, 5xx, timeouts and broken connections, waiting
    ``Retry-After`` when the server sends it, else ``backoff * 2**attempt`` seconds; a server that
    asks for a wait longer than ``max_wait`` is not retried, nor is a refused connection or an
    unknown host. Every failure ends as RemoteError.
    """

    def __init__(self, endpoint: str, *, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 1.0, max_wait: float = 120.0, user_agent: str = USER_AGENT,
                 sleep=time.sleep):
        import httpx

        if not re.match(r"^https?://", endpoint or ""):
            raise InputError(f"endpoint {endpoint!r} is not an http(s) URL (give --endpoint URL)")
        self.endpoint = endpoint
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_wait = max_wait
        self.requests = 0
        self._sleep = sleep
        self._httpx = httpx
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": f"{user_agent} httpx/{httpx.__version__}",
                     "Accept": "application/sparql-results+json"},
            follow_redirects=True,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def select(self, query: str) -> list[dict[str, dict]]:
        """Run a SELECT query; return its bindings (SPARQL JSON terms: type, value, xml:lang)."""
        httpx = self._httpx
        error = "no attempt made"
        for attempt in range(self.retries + 1):
            wait = self.backoff * (2 ** attempt)
            try:
                self.requests += 1
                response = self._http.post(self.endpoint, data={"query": query})
            except httpx.TimeoutException:
                error = f"no answer within {self.timeout:g} s"
            except httpx.ConnectError as exc:  # refused / unknown host: retrying will not help
                raise RemoteError(f"{self.endpoint}: cannot connect ({exc}); check the URL and "
                                  f"the network") from None
            except httpx.TransportError as exc:
                error = f"cannot connect ({exc.__class__.__name__}: {exc})"
            else:
                if response.status_code in RETRY_STATUS:
                    error = f"HTTP {response.status_code}"
                    asked = _retry_after(response.headers.get("Retry-After"))
                    if asked is not None:
                        if asked > self.max_wait:
                            raise RemoteError(
                                f"{self.endpoint}: HTTP {response.status_code}, the server asks to "
                                f"wait {asked:g} s (Retry-After), more than {self.max_wait:g} s; "
                                f"try again later")
                        wait = asked
                elif response.status_code >= 400:
                    raise RemoteError(
                        f"{self.endpoint}: HTTP {response.status_code}: "
                        f"{response.text.strip()[:300]!r}; check the endpoint URL and the query")
                else:
                    return self._parse(response)
            if attempt < self.retries:
                self._sleep(wait)
        raise RemoteError(f"{self.endpoint}: {error} after {self.retries + 1} attempts; check the "
                          f"URL and the network, or try again later")

    def _parse(self, response) -> list[dict[str, dict]]:
        try:
            data = response.json()
            bindings = data["results"]["bindings"]
            if not isinstance(bindings, list) or not isinstance(data["head"], dict):
                raise TypeError
            for row in bindings:
                for term in row.values():
                    if "type" not in term or "value" not in term:
                        raise TypeError
        except (ValueError, KeyError, TypeError):
            kind = response.headers.get("Content-Type", "?")
            raise RemoteError(f"{self.endpoint}: the answer is not SPARQL JSON results "
                              f"(Content-Type {kind}); is this a SPARQL endpoint?") from None
        return bindings


# --------------------------------------------------------------------------------------------
# Reading our side


def _norm(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name, for comparisons."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


STOPWORDS = frozenset(["of", "and", "the", "for", "de", "di", "del", "della", "des", "du", "la", "le", "el", "y", "et", "und", "fur", "für"])


def initials(text: str) -> str:
    """Initials of the significant words: "National Aeronautics and Space Administration" -> nasa."""
    words = [w for w in _norm(text).split() if w not in STOPWORDS]
    return "".join(w[0] for w in words) if len(words) > 1 else ""


def _store(sources):
    import pyoxigraph as ox

    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in sources.triples("ontology", "data"))
    return store


def read_entities(sources) -> dict[str, Entity]:
    """Entities of the linkable classes with their names, country and Wikidata links."""
    store = _store(sources)
    where = sources.file_of_subject()
    triple_file: dict[tuple[str, str, str], str] = {}
    for f in sources.files:
        rel = sources.relative(f.path)
        for t in f.triples:
            if t.predicate.value == SKOS + "exactMatch":
                triple_file.setdefault((t.subject.value, t.predicate.value, t.object.value), rel)

    entities: dict[str, Entity] = {}
    values = " ".join(f"(<{c}> \"{k}\")" for c, k in LINKABLE_CLASSES.items())
    for row in store.query(f"""
        SELECT ?e ?kind WHERE {{
          VALUES (?class ?kind) {{ {values} }}
          ?e a/<{RDFS}subClassOf>* ?class .
          FILTER(isIRI(?e))
        }} ORDER BY ?e"""):
        iri = row["e"].value
        if iri not in entities:
            entities[iri] = Entity(iri=iri, kind=row["kind"].value, file=where.get(iri, "?"))

    for rank, prop in enumerate(NAME_PROPERTIES):
        for row in store.query(f"SELECT ?e ?n WHERE {{ ?e <{prop}> ?n FILTER(isLiteral(?n)) }}"):
            e = entities.get(row["e"].value)
            if e is None:
                continue
            pair = (row["n"].value, row["n"].language or "")
            if pair not in e.names:
                e.names.append(pair)
            if prop in ACRONYM_PROPERTIES and pair[0] not in e.acronyms:
                e.acronyms.append(pair[0])
    for row in store.query(f"SELECT ?e ?c WHERE {{ ?e <{ISECG}country> ?c }}"):
        e = entities.get(row["e"].value)
        if e is not None and e.country is None:
            e.country = row["c"].value
    for row in store.query(f"SELECT ?e ?w WHERE {{ ?e <{SKOS}exactMatch> ?w FILTER(isIRI(?w)) }}"):
        e = entities.get(row["e"].value)
        w = row["w"].value
        if e is not None and "wikidata.org/" in w:
            e.links.append((w, triple_file.get((e.iri, SKOS + "exactMatch", w), e.file)))
    return entities


def _link_records(sources) -> dict[tuple[str, str], str]:
    """(subject, target) of every isecg:LinkRecord -> the file it is in."""
    out: dict[tuple[str, str], str] = {}
    for f in sources.files:
        rel = sources.relative(f.path)
        subj: dict[str, str] = {}
        targ: dict[str, str] = {}
        for t in f.triples:
            if t.predicate.value == ISECG + "linkSubject":
                subj[t.subject.value] = t.object.value
            elif t.predicate.value == ISECG + "linkTarget":
                targ[t.subject.value] = t.object.value
        for rec, s in subj.items():
            if rec in targ:
                out[(s, targ[rec])] = rel
    return out


def coverage(entities: dict[str, Entity]) -> dict[str, tuple[int, int]]:
    """kind -> (linked, total) over the linkable classes."""
    linked: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for e in entities.values():
        total[e.kind] += 1
        if e.qids:
            linked[e.kind] += 1
    return {k: (linked[k], total[k]) for k in sorted(total)}


# --------------------------------------------------------------------------------------------
# Checking


def _batches(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _qid(iri: str) -> str:
    return iri.removeprefix(WD)


def _sparql_string(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r"))
    return f'"{escaped}"'


def _names_agree(ours: list[str], acronyms: list[str], theirs: list[str]) -> bool:
    """True if a name of ours equals, or is contained word-wise in, one of Wikidata's names, or
    one of our acronyms is the initials of one of Wikidata's names."""
    ours_n = [_norm(n) for n in ours if _norm(n)]
    theirs_n = [_norm(n) for n in theirs if _norm(n)]
    for a in ours_n:
        for b in theirs_n:
            if a == b:
                return True
            short, long_ = sorted((a, b), key=len)
            if len(short) >= 4 and f" {short} " in f" {long_} ":
                return True
    acr = {_norm(a).replace(" ", "") for a in acronyms}
    return any(initials(b) in acr for b in theirs if initials(b))


def check_links(sources, client: SparqlClient, *, suggest: bool = False,
                batch_size: int = 50) -> CheckReport:
    """Check every Wikidata link of the sources against the client's endpoint (see module doc)."""
    entities = read_entities(sources)
    records = _link_records(sources)
    report = CheckReport(endpoint=client.endpoint, checked=0)
    from isecg_kg.rdf import shorten

    # Local checks: canonical IRIs, one link per entity, a link record for each link.
    by_item: dict[str, list[Entity]] = defaultdict(list)
    for e in entities.values():
        for iri, file in e.links:
            if not (iri.startswith(WD) and QID_RE.match(iri[len(WD):])):
                report.problems.append(Problem("ERROR", file, shorten(e.iri),
                    f"<{iri}> is not a canonical Wikidata item IRI; write "
                    f"http://www.wikidata.org/entity/Q… (http, /entity/)"))
                continue
            by_item[iri].append(e)
            if (e.iri, iri) not in records:
                report.problems.append(Problem("ERROR", file, shorten(e.iri),
                    f"skos:exactMatch wd:{_qid(iri)} has no isecg:LinkRecord saying where the QID "
                    f"was checked; add one (isecg:linkSubject, isecg:linkTarget, isecg:evidence)"))
        if len(e.qids) > 1:
            report.problems.append(Problem("WARNING", e.links[0][1], shorten(e.iri),
                f"linked to {len(e.qids)} Wikidata items ({', '.join('wd:' + q for q in e.qids)}); "
                f"keep the one that is the same entity"))
    for (subj, target), file in sorted(records.items()):
        e = entities.get(subj)
        if e is None or target not in [i for i, _ in e.links]:
            report.problems.append(Problem("ERROR", file, shorten(subj),
                f"an isecg:LinkRecord names wd:{_qid(target)} but the entity has no "
                f"skos:exactMatch to it; add the link or remove the record"))
    for iri, es in sorted(by_item.items()):
        if len(es) > 1:
            for e in es:
                others = ", ".join(shorten(o.iri) for o in es if o is not e)
                report.problems.append(Problem("WARNING", e.links[0][1], shorten(e.iri),
                    f"wd:{_qid(iri)} is also linked from {others}; one item, one entity"))

    items = sorted(by_item)
    report.checked = len(items)
    exists: set[str] = set()
    redirects: dict[str, str] = {}
    facts: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    languages = sorted({"en", "mul"} | {lang for e in entities.values() for _, lang in e.names
                                        if lang and re.fullmatch(r"[A-Za-z0-9-]+", lang)})
    lang_list = ", ".join(_sparql_string(lang.lower()) for lang in languages)
    for batch in _batches(items, batch_size):
        values = " ".join(f"<{i}>" for i in batch)
        for row in client.select(f"""
            SELECT ?item ?redirect WHERE {{
              VALUES ?item {{ {values} }}
              FILTER EXISTS {{ ?item ?p ?o }}
              OPTIONAL {{ ?item <{OWL}sameAs> ?redirect }}
            }}"""):
            item = row["item"]["value"]
            exists.add(item)
            if "redirect" in row:
                redirects[item] = row["redirect"]["value"]
        for row in client.select(f"""
            SELECT ?item ?p ?o WHERE {{
              VALUES ?item {{ {values} }}
              VALUES ?p {{ <{RDFS}label> <{SKOS}altLabel> <{WDT}P1813> <{WDT}P17> }}
              ?item ?p ?o .
              FILTER(!isLiteral(?o) || LCASE(LANG(?o)) IN ({lang_list}))
            }}"""):
            facts[row["item"]["value"]][row["p"]["value"]].append(row["o"])

    country_items = {iri: e for e in entities.values() if e.kind == "country"
                     for iri, _ in e.links}
    for item in items:
        for e in by_item[item]:
            file = next(f for i, f in e.links if i == item)
            name = shorten(e.iri)
            q = _qid(item)
            if item not in exists:
                report.problems.append(Problem("ERROR", file, name,
                    f"wd:{q} does not exist at the endpoint (deleted or mistyped); remove the "
                    f"link or replace it with a checked QID"))
                continue
            if item in redirects:
                new = _qid(redirects[item])
                report.problems.append(Problem("ERROR", file, name,
                    f"wd:{q} is a redirect to wd:{new}; check wd:{new} and link it instead"))
                continue
            f = facts.get(item, {})
            labels = [t["value"] for t in f.get(RDFS + "label", [])]
            aliases = [t["value"] for t in f.get(SKOS + "altLabel", [])]
            shorts = [t["value"] for t in f.get(WDT + "P1813", [])]
            ours = [n for n, _ in e.names]
            if not labels and not aliases and not shorts:
                report.problems.append(Problem("WARNING", e.file, name,
                    f"wd:{q} has no label in {', '.join(languages)} to compare with ours "
                    f"({_quoted(ours)})"))
            elif not _names_agree(ours, e.acronyms, labels + aliases + shorts):
                theirs = _quoted(labels[:2] or aliases[:2] or shorts[:2])
                report.problems.append(Problem("WARNING", e.file, name,
                    f"wd:{q} is labelled {theirs}, which matches none of our names "
                    f"({_quoted(ours)}); check that the link points at this entity"))
            elif shorts and e.acronyms and not _names_agree(e.acronyms, [], shorts) \
                    and not _names_agree(shorts, [], ours):
                report.problems.append(Problem("WARNING", e.file, name,
                    f"wd:{q} has short name (P1813) {_quoted(shorts)}, ours is "
                    f"{_quoted(e.acronyms)}"))
            if e.country:
                ours_c = [i for i, _ in entities[e.country].links] if e.country in entities else []
                theirs_c = [t["value"] for t in f.get(WDT + "P17", []) if t["type"] == "uri"]
                if ours_c and theirs_c and not set(ours_c) & set(theirs_c):
                    described = ", ".join(
                        f"wd:{_qid(c)}" + (f" ({shorten(country_items[c].iri)})"
                                           if c in country_items else "") for c in theirs_c)
                    report.problems.append(Problem("WARNING", e.file, name,
                        f"wd:{q} has country (P17) {described}; ours is "
                        f"{shorten(e.country)} (wd:{_qid(ours_c[0])})"))

    unlinked = [e for e in entities.values() if not e.qids]
    for e in sorted(unlinked, key=lambda e: (e.kind, e.iri)):
        report.unlinked.append(Problem("INFO", e.file, shorten(e.iri),
            "no Wikidata link (no checked QID); `isecg-kg link check --suggest` proposes candidates"))
    if suggest and unlinked:
        report.suggestions = suggest_links(unlinked, entities, client, batch_size=batch_size)
    report.problems.sort(key=lambda p: (p.file, p.entity, p.severity, p.message))
    return report


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names) if names else "no name"


def suggest_links(unlinked: list[Entity], entities: dict[str, Entity], client: SparqlClient, *,
                  batch_size: int = 50) -> list[Problem]:
    """Candidates for unlinked entities: items whose label, alias or short name (P1813) is
    exactly one of the entity's names (English or language-neutral ``mul``). Writes nothing."""
    from isecg_kg.rdf import shorten

    wanted: dict[str, list[Entity]] = defaultdict(list)
    for e in unlinked:
        for text, _lang in e.names:
            if e not in wanted[text]:
                wanted[text].append(e)
    linked_to = {iri: e for e in entities.values() for iri, _ in e.links}
    found: dict[tuple[str, str], dict] = {}
    for batch in _batches(sorted(wanted), batch_size):
        values = " ".join(f"{_sparql_string(t)}@{lang}" for t in batch for lang in ("en", "mul"))
        for row in client.select(f"""
            SELECT ?name ?item ?via ?label ?description WHERE {{
              VALUES ?name {{ {values} }}
              {{ ?item <{RDFS}label> ?name BIND("label" AS ?via) }}
              UNION {{ ?item <{SKOS}altLabel> ?name BIND("alias" AS ?via) }}
              UNION {{ ?item <{WDT}P1813> ?name BIND("short name" AS ?via) }}
              FILTER(STRSTARTS(STR(?item), "{WD}Q"))
              FILTER NOT EXISTS {{ ?item <{OWL}sameAs> ?target }}
              OPTIONAL {{ ?item <{RDFS}label> ?label FILTER(LANG(?label) IN ("en", "mul")) }}
              OPTIONAL {{ ?item <{SCHEMA_ORG}description> ?description
                          FILTER(LANG(?description) = "en") }}
            }}"""):
            name = row["name"]["value"]
            for e in wanted.get(name, []):
                key = (e.iri, row["item"]["value"])
                entry = found.setdefault(key, {"entity": e, "via": set(), "label": None,
                                               "description": None})
                entry["via"].add(f'"{name}" is its {row["via"]["value"]}')
                entry["label"] = entry["label"] or row.get("label", {}).get("value")
                entry["description"] = entry["description"] or row.get("description", {}).get("value")
    out = []
    for (iri, item), entry in sorted(found.items()):
        e = entry["entity"]
        text = f"candidate wd:{_qid(item)}"
        if entry["label"]:
            text += f' "{entry["label"]}"'
        if entry["description"]:
            text += f" ({entry['description']})"
        text += ": " + "; ".join(sorted(entry["via"]))
        if item in linked_to:
            text += f"; already linked to {shorten(linked_to[item].iri)}"
        text += ". Check it before adding a link record"
        out.append(Problem("SUGGEST", e.file, shorten(iri), text))
    return out


# --------------------------------------------------------------------------------------------
# QuickStatements


@dataclass(frozen=True)
class MembershipStatement:
    agency: str                 # our agency IRI
    label: str
    item: str                   # agency QID
    start: str | None           # Wikidata time value with precision, e.g. +2007-11-00T00:00:00Z/10
    end: str | None
    references: tuple[tuple[str, str | None], ...]  # (public address, day read), oldest first


def normalize_qid(value: str | None) -> str:
    """``Q123`` from ``Q123``, ``wd:Q123`` or the entity IRI; InputError for anything else."""
    if not value:
        raise InputError("--isecg-qid is required: ISECG's Wikidata item is not known to this "
                         "project (shared/reference/wikidata.md lists none), so give the QID you "
                         "have checked yourself, e.g. --isecg-qid Q123456")
    text = value.strip()
    for prefix in (WD, "https://www.wikidata.org/entity/", "https://www.wikidata.org/wiki/",
                   "wd:"):
        text = text.removeprefix(prefix)
    if not QID_RE.match(text):
        raise InputError(f"--isecg-qid {value!r} is not a Wikidata item id: expected Q followed "
                         f"by digits without leading zero, e.g. Q123456")
    return text


def _wikidata_time(literal) -> str | None:
    """A Wikidata QuickStatements time (``+YYYY-MM-DDT00:00:00Z/precision``) from an XSD value."""
    value = literal.value
    dtype = literal.datatype.value if literal.datatype else ""
    xsd = PREFIXES["xsd"]
    if dtype == xsd + "gYear" and re.fullmatch(r"\d{4}", value):
        return f"+{value}-00-00T00:00:00Z/9"
    if dtype == xsd + "gYearMonth" and re.fullmatch(r"\d{4}-\d{2}", value):
        return f"+{value}-00T00:00:00Z/10"
    if dtype in (xsd + "date", xsd + "dateTime") and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return f"+{value[:10]}T00:00:00Z/11"
    return None


def _window_time(first: str, last: str) -> str | None:
    """The smallest calendar unit holding a window of days, as a Wikidata time: a window within
    one month is that month (/10), within one year that year (/9); a longer one says nothing."""
    if first[:7] == last[:7]:
        return f"+{first[:7]}-00T00:00:00Z/10"
    if first[:4] == last[:4]:
        return f"+{first[:4]}-00-00T00:00:00Z/9"
    return None


def membership_statements(sources) -> tuple[list[MembershipStatement], list[str]]:
    """The ISECG memberships of agencies linked to Wikidata, and the agencies skipped (no QID).

    The start and end times are those of the claims the membership's period adopts, at the
    precision the source gives. References are the public addresses of the documents that list
    the membership or state its adopted dates; documents without one cannot be cited there.
    """
    store = _store(sources)
    entities = read_entities(sources)
    org, tm, dcterms = PREFIXES["org"], PREFIXES["time"], PREFIXES["dcterms"]
    schema = PREFIXES["schema"]
    times = f"<{tm}inXSDDate>|<{tm}inXSDgYearMonth>|<{tm}inXSDgYear>"
    dates: dict[tuple[str, str], str] = {}
    for row in store.query(f"""
        SELECT ?m ?kind ?t ?first ?last WHERE {{
          ?m a <{ISECG}Membership> ; <{org}organization> <{GROUP_ISECG}> ; <{ISECG}adoptedClaim> ?c .
          ?c a ?kind .
          OPTIONAL {{ ?c <{ISECG}claimedTime>/({times}) ?t }}
          OPTIONAL {{ ?c <{ISECG}notBefore> ?first ; <{ISECG}notAfter> ?last }}
        }}"""):
        side = "end" if row["kind"].value.endswith("EndClaim") else "start"
        if row["t"] is not None:
            when = _wikidata_time(row["t"])
        elif row["first"] is not None:
            when = _window_time(row["first"].value, row["last"].value)
        else:
            when = None
        if when:
            dates[(row["m"].value, side)] = when
    refs: dict[str, set[tuple[str, str, str | None]]] = {}
    for row in store.query(f"""
        SELECT ?m ?url ?issued ?read WHERE {{
          ?m a <{ISECG}Membership> ; <{org}organization> <{GROUP_ISECG}> .
          ?m <{dcterms}source>|(<{ISECG}adoptedClaim>/<{dcterms}source>) ?d .
          ?d <{schema}url> ?url .
          OPTIONAL {{ ?d <{dcterms}issued> ?issued }}
          OPTIONAL {{ ?d <{ISECG}retrieved> ?read }}
        }}"""):
        refs.setdefault(row["m"].value, set()).add((
            row["issued"].value if row["issued"] is not None else "9999", row["url"].value,
            row["read"].value if row["read"] is not None else None))
    statements, skipped = [], []
    for row in store.query(f"""
        SELECT ?m ?agency WHERE {{
          ?m a <{ISECG}Membership> ; <{org}member> ?agency ; <{org}organization> <{GROUP_ISECG}> .
        }}"""):
        m, iri = row["m"].value, row["agency"].value
        agency = entities.get(iri)
        if agency is None or not agency.qids:
            skipped.append(iri)
            continue
        label = agency.names[0][0] if agency.names else iri
        statements.append(MembershipStatement(
            agency=iri, label=label, item=agency.qids[0], start=dates.get((m, "start")),
            end=dates.get((m, "end")),
            references=tuple((url, read) for _, url, read in sorted(refs.get(m, ())))))
    statements.sort(key=lambda s: (s.label.casefold(), s.agency))
    return statements, sorted(skipped)


def existing_memberships(client: SparqlClient, items: list[str], isecg_qid: str, *,
                         batch_size: int = 50) -> set[str]:
    """The QIDs among items that already state member of (P463) the ISECG item at the endpoint."""
    have: set[str] = set()
    for batch in _batches(sorted(set(items)), batch_size):
        values = " ".join(f"<{WD}{q}>" for q in batch)
        for row in client.select(f"""
            SELECT ?item WHERE {{
              VALUES ?item {{ {values} }}
              ?item <{WDT}P463> <{WD}{isecg_qid}> .
            }}"""):
            have.add(_qid(row["item"]["value"]))
    return have


def quickstatements(statements: list[MembershipStatement], isecg_qid: str, *,
                    retrieved: date, skip: set[str] = frozenset()) -> list[str]:
    """QuickStatements v1 command lines (tab-separated), one per membership and reference.

    Each reference is the source's public address (S854) and the day it was read there (S813);
    ``retrieved`` stands in only for a source that records no such day.
    """
    fallback = f"+{retrieved.isoformat()}T00:00:00Z/11"
    lines = []
    for s in statements:
        if s.item in skip:
            continue
        head = [s.item, "P463", isecg_qid]
        if s.start:
            head += ["P580", s.start]
        if s.end:
            head += ["P582", s.end]
        for url, read in s.references or ((None, None),):
            ref = ["S854", f'"{url}"', "S813", f"+{read}T00:00:00Z/11" if read else fallback] \
                if url else []
            lines.append("\t".join(head + ref))
    return lines


# --------------------------------------------------------------------------------------------
# CLI


def _client(args: argparse.Namespace, endpoint: str) -> SparqlClient:
    return SparqlClient(endpoint, timeout=getattr(args, "timeout", 30.0))


def cli_link(args: argparse.Namespace) -> int:
    from isecg_kg.builder.load import load_sources

    quiet = getattr(args, "quiet", False)
    if args.link_command == "quickstatements":
        isecg_qid = normalize_qid(args.isecg_qid)
        sources = load_sources(Path(args.source))
        statements, skipped = membership_statements(sources)
        skip: set[str] = set()
        if args.endpoint:
            with _client(args, args.endpoint) as client:
                skip = existing_memberships(client, [s.item for s in statements], isecg_qid)
        lines = quickstatements(statements, isecg_qid, retrieved=datetime.now(UTC).date(),
                                skip=skip)
        for line in lines:
            print(line)
        if not quiet:
            from isecg_kg.rdf import shorten

            kept = [s for s in statements if s.item not in skip]
            already = f"; {len(statements) - len(kept)} already at {args.endpoint}" \
                if args.endpoint else ""
            print(f"link quickstatements: {len(kept)} membership statements in {len(lines)} "
                  f"lines{already}; agencies without a QID, skipped: "
                  f"{', '.join(shorten(a) for a in skipped) or 'none'}", file=sys.stderr)
        return 0

    sources = load_sources(Path(args.source))
    with _client(args, args.endpoint) as client:
        report = check_links(sources, client, suggest=args.suggest)
    for line in report.lines():
        print(line)
    if not quiet:
        errors = sum(p.severity == "ERROR" for p in report.problems)
        warnings = sum(p.severity == "WARNING" for p in report.problems)
        state = "all links agree" if report.agrees else f"{errors} errors, {warnings} warnings"
        print(f"link check: {report.checked} Wikidata items checked against {report.endpoint}: "
              f"{state}; {len(report.unlinked)} entities unlinked"
              + (f"; {len(report.suggestions)} candidates" if args.suggest else ""),
              file=sys.stderr)
    return 0 if report.agrees else 1
