"""A synthetic source directory of the same shape as ours, for benchmarks at any size.

``write_synthetic(out, triples, seed)`` writes ``out/ontology/`` and ``out/shapes/`` (copied from
the project) and ``out/data/*.ttl`` (generated): countries, source documents, space agencies, one
coordination group, memberships with sources, and documents with author contributions — every
kind of node carrying the properties our shapes require, so ``isecg-kg validate --source OUT``
conforms. The data has about ``triples`` triples and is the same bytes for the same seed.

Synthetic entities live under their own ``synth-`` paths (``…/id/agency/synth-00001``) so they
can never be mistaken for, or collide with, the real entities. The Turtle is written as plain
text (one subject block per node), which is much faster than building an rdflib graph.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

from isecg_kg.config import ID_BASE, ONTOLOGY_NS, PROJECT_ROOT
from isecg_kg.errors import InputError

PREFIX_BLOCK = f"""PREFIX agency: <{ID_BASE}agency/>
PREFIX contribution: <{ID_BASE}contribution/>
PREFIX country: <{ID_BASE}country/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX doc: <{ID_BASE}document/>
PREFIX group: <{ID_BASE}group/>
PREFIX isecg: <{ONTOLOGY_NS}>
PREFIX membership: <{ID_BASE}membership/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>

"""

# Triples per node of each kind, as written below (used to size the graph).
T_COUNTRY = 4      # type, label, prefLabel, source
T_SOURCE = 8       # type, title, label, issued, language, source (itself), url, titleSource
T_AGENCY = 7       # type, label, prefLabel, acronym, country, 2 sources
T_NAME = 5         # the acronym's name statement: type, subject, predicate, object, source
T_MEMBERSHIP = 6   # type, label, member, organization, 2 sources
T_CONTRIBUTION = 6  # type, label, agent, role, source + the document's qualifiedAuthorship
T_DOCUMENT = 7     # type, title, label, issued, source, authorCount, titleSource
AUTHORS_PER_DOC = 4
SOURCES = 20
GROUP = "synth-group"
GROUP_TRIPLES = 9


def plan(triples: int) -> dict[str, int]:
    """How many nodes of each kind make about `triples` triples.

    A third of the budget goes to agencies with their memberships, the rest to documents with
    their contributions; countries are one per 20 agencies.
    """
    if triples < 200:
        raise InputError(f"--triples {triples}: too small; ask for at least 200")
    budget = triples - SOURCES * T_SOURCE - GROUP_TRIPLES
    per_agency = T_AGENCY + T_NAME + T_MEMBERSHIP + T_COUNTRY / 20
    agencies = max(2, int(budget / 3 / per_agency))
    countries = max(1, agencies // 20)
    rest = budget - agencies * (T_AGENCY + T_NAME + T_MEMBERSHIP) - countries * T_COUNTRY
    documents = max(1, int(rest / (T_DOCUMENT + AUTHORS_PER_DOC * T_CONTRIBUTION)))
    return {"agencies": agencies, "countries": countries, "documents": documents,
            "sources": SOURCES}


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"@en'


def _write(path: Path, blocks) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(PREFIX_BLOCK)
        f.writelines(blocks)
    tmp.replace(path)


def write_synthetic(out: Path, triples: int, seed: int = 0) -> Path:
    """Write a source directory with ≈`triples` data triples into `out`; return `out`."""
    out = Path(out)
    n = plan(triples)
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("ontology", "shapes", "data"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    shutil.copytree(PROJECT_ROOT / "ontology", out / "ontology")
    shutil.copytree(PROJECT_ROOT / "shapes", out / "shapes")
    (out / "data").mkdir()

    sources = [f"synth-source-{i:03d}" for i in range(n["sources"])]
    source_year = {s: 2007 + rng.randrange(17) for s in sources}
    countries = [f"synth-{i:05d}" for i in range(n["countries"])]
    agencies = [f"synth-{i:06d}" for i in range(n["agencies"])]
    acronym = {a: f"SA{i}" for i, a in enumerate(agencies)}

    def two_sources() -> tuple[str, str]:
        a, b = rng.sample(sources, 2)
        return (a, b) if a < b else (b, a)

    def src_docs():
        for s in sources:
            year = source_year[s]
            title = _lit(f"Synthetic source {s[-3:]} ({year})")
            yield (f"doc:{s}\n    a isecg:Article ;\n    rdfs:label {title} ;\n"
                   f'    dcterms:issued "{year}"^^xsd:gYear ;\n    dcterms:language "en" ;\n'
                   f"    dcterms:source doc:{s} ;\n    dcterms:title {title} ;\n"
                   f"    isecg:titleSource doc:{s} ;\n"
                   f"    <https://schema.org/url> <https://example.org/synth/{s}> ;\n.\n\n")

    def country_blocks():
        for c in countries:
            label = _lit(f"Country {c[6:]}")
            yield (f"country:{c}\n    a isecg:Country ;\n    rdfs:label {label} ;\n"
                   f"    dcterms:source doc:{rng.choice(sources)} ;\n"
                   f"    skos:prefLabel {label} ;\n.\n\n")

    def agency_blocks():
        for a in agencies:
            s1, s2 = two_sources()
            label = _lit(f"Synthetic Space Agency {a[6:]}")
            yield (f"agency:{a}\n    a isecg:SpaceAgency ;\n    rdfs:label {label} ;\n"
                   f"    dcterms:source doc:{s1} , doc:{s2} ;\n    skos:prefLabel {label} ;\n"
                   f'    isecg:acronym "{acronym[a]}" ;\n'
                   f"    isecg:country country:{rng.choice(countries)} ;\n.\n\n")

    def name_blocks():
        rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        for a in agencies:
            yield (f"<{ID_BASE}name/{a}-acronym>\n    a isecg:NameStatement ;\n"
                   f"    <{rdf}subject> agency:{a} ;\n    <{rdf}predicate> isecg:acronym ;\n"
                   f'    <{rdf}object> "{acronym[a]}" ;\n'
                   f"    dcterms:source doc:{rng.choice(sources)} ;\n.\n\n")

    def group_block():
        yield (f"group:{GROUP}\n    a isecg:CoordinationGroup ;\n"
               f"    rdfs:label {_lit('Synthetic Coordination Group')} ;\n"
               f"    dcterms:source doc:{sources[0]} , doc:{sources[1]} ;\n"
               f"    skos:prefLabel {_lit('Synthetic Coordination Group')} ;\n"
               f'    isecg:acronym "SCG" ;\n    isecg:workingGroupCount 7 ;\n.\n\n')

    def membership_blocks():
        for a in agencies:
            s1, s2 = two_sources()
            yield (f"membership:{a}\n    a isecg:Membership ;\n"
                   f"    rdfs:label {_lit(f'Membership of {acronym[a]} in SCG')} ;\n"
                   f"    dcterms:source doc:{s1} , doc:{s2} ;\n    org:member agency:{a} ;\n"
                   f"    org:organization group:{GROUP} ;\n.\n\n")

    docs = [(f"synth-{i:06d}", sorted(rng.sample(agencies, min(AUTHORS_PER_DOC, len(agencies)))),
             rng.choice(sources), 2007 + rng.randrange(17)) for i in range(n["documents"])]

    def document_blocks():
        for d, authors, s, year in docs:
            title = _lit(f"Synthetic report {d[6:]}")
            quals = " ,\n        ".join(f"contribution:{d}-{a}-author" for a in authors)
            yield (f"doc:{d}\n    a isecg:Report ;\n    rdfs:label {title} ;\n"
                   f'    dcterms:issued "{year}"^^xsd:gYear ;\n    dcterms:source doc:{s} ;\n'
                   f"    dcterms:title {title} ;\n    isecg:titleSource doc:{s} ;\n"
                   f"    isecg:authorCount {len(authors)} ;\n"
                   f"    isecg:qualifiedAuthorship\n        {quals} ;\n.\n\n")

    def contribution_blocks():
        for d, authors, s, _ in docs:
            for a in authors:
                yield (f"contribution:{d}-{a}-author\n    a isecg:Contribution ;\n"
                       f"    rdfs:label {_lit(f'Author of {d}: {acronym[a]}')} ;\n"
                       f"    dcterms:source doc:{s} ;\n    prov:agent agency:{a} ;\n"
                       f"    prov:hadRole isecg:AuthorRole ;\n.\n\n")

    # Materialise in a fixed order so the random stream (and so the bytes) depend only on seed.
    parts = {
        "sources.ttl": list(src_docs()),
        "places.ttl": list(country_blocks()),
        "agencies.ttl": list(agency_blocks()),
        "names.ttl": list(name_blocks()),
        "group.ttl": list(group_block()),
        "memberships.ttl": list(membership_blocks()),
        "documents.ttl": list(document_blocks()),
        "contributions.ttl": list(contribution_blocks()),
    }
    for name, blocks in parts.items():
        _write(out / "data" / name, blocks)
    return out


def count_triples(source: Path) -> int:
    """Triples in `source`/data/*.ttl (parsed with pyoxigraph)."""
    import pyoxigraph as ox

    return sum(sum(1 for _ in ox.parse(path=str(p), format=ox.RdfFormat.TURTLE))
               for p in sorted(Path(source).glob("data/*.ttl")))


def cli_synth(args: argparse.Namespace) -> int:
    out = write_synthetic(args.out, args.triples, args.seed)
    if not getattr(args, "quiet", False):
        print(f"wrote {out}: ≈{args.triples} triples (seed {args.seed})", file=sys.stderr)
    return 0
