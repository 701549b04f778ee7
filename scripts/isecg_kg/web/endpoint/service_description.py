"""The SPARQL 1.1 Service Description of /sparql: its graphs, formats (the format registry's),
limits and prefixes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyoxigraph as ox

from isecg_kg import formats
from isecg_kg.config import GRAPHS, PREDECLARED, dataset_iri
from isecg_kg.sparql.engine import Limits
from isecg_kg.web.context import Site


@dataclass
class ServiceDescription:
    """What GET /sparql without a query describes (asked of the store once, then kept)."""

    site: Site
    store: object
    endpoint_iri: str
    limits: Limits  # the engine's, stated here
    max_query_bytes: int
    service_allow: tuple[str, ...]
    _description: list | None = field(default=None, repr=False)
    _turtle: str | None = field(default=None, repr=False)

    def triples(self) -> list:
        """The SPARQL 1.1 Service Description of this endpoint (as triples)."""
        if self._description is None:
            self._description = list(ox.parse(self.turtle().encode(),
                                              format=ox.RdfFormat.TURTLE))
        return self._description

    def turtle(self) -> str:
        if self._turtle is None:
            self._turtle = self._write_turtle()
        return self._turtle

    def _write_turtle(self) -> str:
        counts = {}
        for g in GRAPHS:
            res = self.store.query(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")
            counts[g] = int(next(iter(res))["n"].value)
        named = ",\n".join(
            f"""        [ a sd:NamedGraph ; sd:name <{g}> ;
          sd:graph [ a sd:Graph ; void:triples {counts[g]} ] ]""" for g in GRAPHS)
        allow = ", ".join(f"<{s}>" for s in self.service_allow) or "none"
        # the formats /sparql answers in (the registry's), three to a line
        answered = [f"formats:{f.w3c}" for f in (*formats.answers("SELECT", served_only=True),
                                                 *formats.graph_answers()) if f.w3c]
        answered = " ,\n        ".join(" , ".join(answered[i:i + 3])
                                       for i in range(0, len(answered), 3))
        declare = " ,\n        ".join(
            f'[ sh:prefix "{p}" ; sh:namespace "{ns}"^^xsd:anyURI ]'
            for p, ns in sorted(PREDECLARED.items()))
        max_rows = self.limits.max_rows
        limits = (f"Read-only. Each query is stopped after {self.limits.timeout:g} s (HTTP 503 "
                  f"with Retry-After, never a partial 200). At most "
                  f"{max_rows if max_rows is not None else 'unlimited'} rows or triples "
                  "per answer; a capped answer carries the header Isecg-Result-Truncated: true. "
                  f"Queries up to {self.max_query_bytes} bytes. SERVICE only to {allow}. FROM, "
                  "FROM NAMED, default-graph-uri and named-graph-uri accept only the graphs "
                  "listed here; nothing is ever fetched.")
        release_note = (f"Queries are always answered from the current release, "
                        f"{self.site.release_version}; earlier releases are not queryable "
                        "here, they are kept as downloads under /release/VERSION/ (listed at "
                        "/releases).")
        version = self.site.release_version  # the dataset its VoID describes (builder/void.py)
        source = dataset_iri(None if version == "unversioned" else version)
        return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix formats: <{formats.W3C_FORMATS}> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<{self.endpoint_iri}> a sd:Service ;
    rdfs:comment "Queries may use these prefixes without declaring them (sh:declare); a PREFIX in the query overrides one."@en ;
    sh:declare {declare} ;
    sd:endpoint <{self.endpoint_iri}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:feature sd:UnionDefaultGraph , sd:BasicFederatedQuery ;
    sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> ;
    sd:resultFormat {answered} ;
    rdfs:comment {json.dumps(limits)}@en ;
    sd:defaultDataset [
        a sd:Dataset ;
        dcterms:source <{source}> ;
        dcat:version {json.dumps(self.site.release_version)} ;
        rdfs:comment "The default graph is the union of the named graphs (sd:UnionDefaultGraph). The inferred graph holds entailments materialized by the build, so queries are evaluated under simple entailment."@en ;
        rdfs:comment {json.dumps(release_note)}@en ;
        sd:defaultGraph [ a sd:Graph ; void:triples {sum(counts.values())} ] ;
        sd:namedGraph
{named}
    ] .
"""  # noqa: E501 (Turtle served as is; its rdfs:comment literals are one line each)
