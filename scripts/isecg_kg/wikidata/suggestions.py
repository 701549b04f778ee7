"""``link check --suggest``: candidate items for unlinked entities by exact name; writes nothing."""

from __future__ import annotations

from collections import defaultdict

from isecg_kg.wikidata.client import SparqlClient
from isecg_kg.wikidata.entities import (
    OWL,
    RDFS,
    SCHEMA_ORG,
    SKOS,
    WD,
    WDT,
    Entity,
    Problem,
    _batches,
    _qid,
    _sparql_string,
)


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
                entry["description"] = (entry["description"]
                                        or row.get("description", {}).get("value"))
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
