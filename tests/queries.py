"""SPARQL texts several test modules send, written once, and ``rows``: a named query run on a
store, its parameters bound, its answer as plain strings.

MEMBERS_2022 lists the agencies the 2022 anniversary brochure names as members (27 in the
source); CARTESIAN is the standard heavy query (every triple three times over, ~3.4e10 rows);
ENGINE_PANIC makes pyoxigraph 0.5.13 abort its process at once ("comparison function does not
correctly implement a total order", sorting these mixed literals), whatever the data holds.
"""

MEMBERS_2022 = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?agency WHERE {
  ?m org:member ?agency ;
     dcterms:source <https://w3id.org/isecg/id/document/isecg-15th-anniversary> .
} ORDER BY ?agency"""
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
# found by cutting down ORDER BY ?c ?f over the release's literals (the cartesian product the
# tests sent before took minutes to reach the panic once the data grew)
ENGINE_PANIC = """SELECT ?c ?f {
  VALUES ?c {
    "ISECG's page on the 2024 roadmap calls ISECG 'a forum of 27 space agencies'; its page of \\
December 2023 and NASA's later page also say 27."@en
    "ISECG's members in 2024: 27"@en
    "The International Space Exploration Coordination Group (ISECG), a group of 24 space \\
agencies, released an updated version of its “Global Exploration Roadmap” report in August with \\
little fanfare."@en
  }
  VALUES ?f {
    4 "Berlin"@en <https://w3id.org/isecg/id/instant/2020-09-09>
    "23 agencies attended (a count of those present, not of the members)."@en
    "Senior agency managers' meeting of 9 September 2020"@en
    <https://w3id.org/isecg/id/document/isecg-p1109> 17
  }
} ORDER BY ?c ?f""".replace("\\\n", "")


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
