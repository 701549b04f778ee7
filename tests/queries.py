"""SPARQL texts several test modules send, written once.

MEMBERS_2022 lists the agencies the 2022 anniversary brochure names as members (27 in the
source); CARTESIAN is the standard heavy query (every triple three times over, ~3.4e10 rows).
"""

MEMBERS_2022 = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?agency WHERE {
  ?m org:member ?agency ;
     dcterms:source <https://w3id.org/isecg/id/document/isecg-15th-anniversary> .
} ORDER BY ?agency"""
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
