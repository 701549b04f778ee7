"""SPARQL texts several test modules send, written once, and ``rows``: a named query run on a
store, its parameters bound, its answer as plain strings.

MEMBERS_2022 lists the agencies the 2022 anniversary brochure names as members (27 in the
source); CARTESIAN is the standard heavy query (every triple three times over, ~3.4e10 rows);
ENGINE_PANIC a query pyoxigraph aborts the process on, in milliseconds, whatever the data.
"""

MEMBERS_2022 = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?agency WHERE {
  ?m org:member ?agency ;
     dcterms:source <https://w3id.org/isecg/id/document/isecg-15th-anniversary> .
} ORDER BY ?agency"""
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _mixed_literals(n: int, offset: int) -> str:
    """n literals of four kinds (strings, language-tagged strings, integers, dates) in a fixed
    scrambled order."""
    kinds = ('"s{:04d}"', '"l{:04d}"@en', "{:d}",
             '"2020-01-{:02d}"^^<http://www.w3.org/2001/XMLSchema#date>')
    out = []
    for i in range(n):
        kind, value = kinds[(i * 7 + offset) % 4], (i * 37 + offset) % 97
        out.append(kind.format(value % 28 + 1 if "date" in kind else value))
    return " ".join(out)


# pyoxigraph 0.5.13 orders literals of different kinds as equal, which is no total order, and
# Rust's sort aborts the process (a panic, "does not correctly implement a total order") on these
# 4,900 pairs (the sort is deterministic: the same pairs abort it every time). The pairs of the
# data's own literals and triples used before cost the data's size squared: 61 s of a 60 s limit
# once issue 22's data was in.
ENGINE_PANIC = (f"SELECT ?c ?f {{ VALUES ?c {{ {_mixed_literals(70, 0)} }} "
                f"VALUES ?f {{ {_mixed_literals(70, 1)} }} }} ORDER BY ?c ?f LIMIT 1")


def rows(store, name: str, **params) -> list[dict[str, str]]:
    """The rows of the named query NAME on STORE, each variable's value as a string; PARAMS
    bound as the query's header types them."""
    import json

    import pyoxigraph as ox
    from isecg_kg.sparql.catalogue import named_queries
    from isecg_kg.sparql.engine import QueryRequest, execute

    q = named_queries()[name]
    subs = {}
    for key, value in params.items():
        p = q.params[key]
        subs[key] = (ox.NamedNode(value) if p.type == "iri"
                     else ox.Literal(value, datatype=ox.NamedNode(
                         "http://www.w3.org/2001/XMLSchema#" + p.type.split(":")[1])))
    result = execute(store, QueryRequest(q.text, "json", substitutions=subs))
    doc = json.loads(result.body)
    return [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]
