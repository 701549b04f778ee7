"""``link check``: every Wikidata link of the sources asked about at a SPARQL endpoint."""

from __future__ import annotations

import re
from collections import defaultdict

from isecg_kg.names import fold, initials
from isecg_kg.wikidata.client import SparqlClient
from isecg_kg.wikidata.entities import (
    OWL,
    QID_RE,
    RDFS,
    SKOS,
    WD,
    WDT,
    CheckReport,
    Entity,
    Problem,
    _batches,
    _link_records,
    _qid,
    _sparql_string,
    read_entities,
)
from isecg_kg.wikidata.suggestions import suggest_links


def _names_agree(ours: list[str], acronyms: list[str], theirs: list[str]) -> bool:
    """True if a name of ours equals, or is contained word-wise in, one of Wikidata's names, or
    one of our acronyms is the initials of one of Wikidata's names."""
    ours_n = [fold(n) for n in ours if fold(n)]
    theirs_n = [fold(n) for n in theirs if fold(n)]
    for a in ours_n:
        for b in theirs_n:
            if a == b:
                return True
            short, long_ = sorted((a, b), key=len)
            if len(short) >= 4 and f" {short} " in f" {long_} ":
                return True
    acr = {fold(a).replace(" ", "") for a in acronyms}
    return any(initials(fold(b)) in acr for b in theirs if initials(fold(b)))


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
                    f"schema:sameAs wd:{_qid(iri)} has no isecg:LinkRecord saying where the QID "
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
                f"schema:sameAs to it; add the link or remove the record"))
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
            "no Wikidata link (no checked QID); "
            "`isecg-kg link check --suggest` proposes candidates"))
    if suggest and unlinked:
        report.suggestions = suggest_links(unlinked, entities, client, batch_size=batch_size)
    report.problems.sort(key=lambda p: (p.file, p.entity, p.severity, p.message))
    return report


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names) if names else "no name"
