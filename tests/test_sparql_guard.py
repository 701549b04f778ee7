"""The safety checks before evaluation (sparql/guard.py): what is refused, what passes, and
the prefixes the checks resolve with.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from isecg_kg.config import GRAPH_DATA, WIKIDATA_SPARQL
from isecg_kg.errors import QueryError, QueryRefused, QueryTooLarge
from isecg_kg.sparql.guard import check_query, prologue


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "select * where { service silent <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "PREFIX x: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE x:sparql { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE <http://127.0.0.1\\u003a9/> { ?s ?p ?o } }",
    "BASE <http://127.0.0.1:9/> SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }",
    "SELECT * WHERE {\n# comment\nSERVICE\n<http://evil.example/>\n{ ?s ?p ?o } }",
    "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <http://127.0.0.1:9/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "LOAD <http://127.0.0.1:9/data.ttl>",
    "PREFIX x: <http://x/> DELETE WHERE { ?s ?p ?o }",
])
def test_refused_before_evaluation(query):
    with pytest.raises(QueryRefused):
        check_query(query)


@pytest.mark.parametrize("query", [
    'SELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1:9/> {}" }',
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://127.0.0.1:9/> {}",
    "SELECT ?service WHERE { ?service <http://x/SERVICE> ?o }",
    "PREFIX ex: <http://x/> SELECT * WHERE { ?s ex:SERVICE ?o }",
    f"SELECT * FROM <{GRAPH_DATA}> WHERE {{ ?s ?p ?o }}",
    f"SELECT * WHERE {{ SERVICE <{WIKIDATA_SPARQL}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE { ?s ?p ?o FILTER(?o < 3 && ?o > 1) }",
])
def test_accepted(query):
    checked = check_query(query)
    assert checked.form == "SELECT"


def test_size_is_checked_before_parsing():
    with pytest.raises(QueryTooLarge):
        check_query("SELECT {{{{ not even SPARQL " + "x" * 200, max_bytes=100)


def test_service_redirected_to_configured_wikidata_endpoint():
    q = f"SELECT * WHERE {{ SERVICE <{WIKIDATA_SPARQL}> {{ ?s ?p ?o }} }}"
    checked = check_query(q, service_allow=(WIKIDATA_SPARQL, "http://127.0.0.1:5/sparql"),
                          service_map={WIKIDATA_SPARQL: "http://127.0.0.1:5/sparql"})
    assert "<http://127.0.0.1:5/sparql>" in checked.text and WIKIDATA_SPARQL not in checked.text


_PIECES = [
    "?s ?p ?o .", '?s ?p "SERVICE <http://h.example/> { }" .', "# SERVICE <http://h.example/>\n",
    "?s <http://x/SERVICE> ?o .", "?service ?p ?o .", "SERVICE <http://h.example/> { ?s ?p ?o }",
    "SERVICE SILENT <http://h.example/> { ?s ?p ?o }", "?s ?p '''SERVICE'''.",
    "OPTIONAL { ?s ?q ?r }", "FILTER(?o < 5)",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=5))
def test_tokenizer_agrees_with_rdflib_on_service(pieces):
    """rdflib's parser (an independent grammar) decides whether the query has a SERVICE."""
    from rdflib.plugins.sparql import algebra, parser

    text = "SELECT * WHERE {\n" + "\n".join(pieces) + "\n}"
    tree = algebra.translateQuery(parser.parseQuery(text))
    found = []
    algebra.traverse(tree.algebra, visitPre=lambda n: found.append(
        getattr(n, "name", None) == "ServiceGraphPattern"))
    try:
        check_query(text)
        refused = False
    except QueryRefused:
        refused = True
    assert refused == any(found)


# Predeclared prefixes (rdf, rdfs, wd, ours...): the checks resolve a prefixed SERVICE or FROM
# with the same map the engine is given, and a query's own PREFIX overrides a predeclared one.
@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE wd:sparql { ?s ?p ?o } }",           # www.wikidata.org/entity/
    "SELECT * WHERE { SERVICE wdt:x { ?s ?p ?o } }",
    "SELECT * FROM rdfs:Class WHERE { ?s ?p ?o }",
    "PREFIX isecg: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE isecg:x { ?s ?p ?o } }",
])
def test_predeclared_prefixes_resolve_exactly_in_the_guard(query):
    with pytest.raises(QueryRefused):
        check_query(query)


def test_a_query_prefix_overrides_a_predeclared_one_in_the_guard_and_the_engine():
    q = ("PREFIX wd: <https://query.wikidata.org/> SELECT * WHERE { SERVICE wd:sparql "
         "{ ?s ?p ?o } }")
    checked = check_query(q)
    assert checked.services == (WIKIDATA_SPARQL,) and checked.prefixes == ()
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"), ox.Literal("o")))
    own = check_query("PREFIX rdfs: <http://x/> SELECT ?s { ?s rdfs:p ?o }")
    assert own.prefixes == ()
    assert len(list(store.query(own.text, prefixes=dict(own.prefixes)))) == 1


def test_checked_query_carries_only_the_predeclared_prefixes_it_uses():
    checked = check_query("PREFIX org: <http://www.w3.org/ns/org#> "
                          "SELECT ?a { ?m org:member ?a . ?a rdfs:label ?l ; a isecg:SpaceAgency }")
    assert dict(checked.prefixes) == {"rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                                      "isecg": "https://w3id.org/isecg/ontology#"}
    assert prologue(checked.prefixes) == (
        "PREFIX isecg: <https://w3id.org/isecg/ontology#> "
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ")


def test_codepoint_escapes_outside_terms_are_replaced_then_checked_again():
    """SPARQL replaces \\u escapes anywhere before parsing; Oxigraph only inside terms."""
    q = "PREFIX : <http://example/> SELECT * WHERE { ?s :\\u0070 ?xx\\u0078 }"
    # (the engine is given the re-emission: prefixed names expanded, no PREFIX left)
    assert check_query(q).text == "SELECT * WHERE { ?s <http://example/p> ?xxx }"
    # what an escape spells is checked like the rest: no SERVICE hidden in one
    with pytest.raises(QueryRefused, match="SERVICE"):
        check_query("SELECT * { \\u0053ERVICE <http://example.org/> { ?s ?p ?o } }")
    for bad in ("ASK { ?s ?p \\x }", "ASK { ?s ?p \\u005Cu0041 }"):
        with pytest.raises(QueryError, match="backslash"):
            check_query(bad)


def test_union_branches_stop_at_exactly_the_limit():
    """README: 1,024 UNION branches (1,023 keywords); 1,025 were let through before."""
    from isecg_kg.sparql.guard import MAX_UNION

    def union(branches: int) -> str:
        return "SELECT * {" + " UNION ".join(f"{{ ?s ?p {i} }}" for i in range(branches)) + "}"

    assert check_query(union(MAX_UNION)).form == "SELECT"
    with pytest.raises(QueryError, match="more than 1024 UNION branches"):
        check_query(union(MAX_UNION + 1))


@pytest.mark.parametrize("query", [
    "SELECT * { ?s ?p ?o \\uD800 }",               # a lone surrogate outside any term
    "SELECT * { ?s ?p ?o } \\uDFFF",
    "SELECT * { ?s <http://a.example/\\uD800> ?o }",  # inside an IRI
    "SELECT * { ?s ?p ?o \\U00110000 }",           # past U+10FFFF
    "SELECT * { ?s <http://a.example/\\U0011FFFF> ?o }",
])
def test_escapes_that_name_no_character_are_syntax_errors(query):
    """Issue 21: these were a 500 (UnicodeEncodeError) at the endpoint."""
    with pytest.raises(QueryError, match="names no character") as exc:
        check_query(query)
    assert exc.value.line == 1 and exc.value.column is not None
    assert not isinstance(exc.value, QueryRefused)


@pytest.mark.parametrize("query, refused", [
    ("PREFIX : <http://127.0.0.1:8799/x> SELECT * WHERE { SERVICE:{ ?s ?p ?o } }",
     "undeclared prefix `SERVICE:`"),
    ("SELECT * WHERE { SERVICESILENT<http://127.0.0.1:8799/x>{ ?s ?p ?o } }",
     "unknown keyword `SERVICESILENT`"),
    ("select * where { servicesilent<http://127.0.0.1:8799/x>{ ?s ?p ?o } }",
     "unknown keyword `servicesilent`"),
    ("PREFIX x: <https://query.wikidata.org/sparql> PREFIXx:<http://127.0.0.1:8799/evil> "
     "SELECT * { SERVICE x: { ?s ?p ?o } }", "undeclared prefix `PREFIXx:`"),
    ("SELECT * { \\u0053ERVICE:{ ?s ?p ?o } }", "undeclared prefix `SERVICE:`"),
    ("CONSTRUCTWHERE{?s a ?o}", "unknown keyword `CONSTRUCTWHERE`"),
])
def test_keywords_glued_to_their_neighbours_are_read_as_the_grammar_does(query, refused):
    """Issue 21's reproductions: each reached a loopback listener (or, for CONSTRUCTWHERE,
    answered Turtle to a JSON request); the grammar reads them as a prefixed name or a word."""
    with pytest.raises(QueryError, match=refused.replace("`", ".")):
        check_query(query)


def test_the_engine_is_given_the_checks_own_reading():
    checked = check_query("PREFIX x: <https://query.wikidata.org/sparql> PREFIX x: <http://a/> "
                          "SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> "
                          "{ ?s x:p ?o } } # tail")
    assert checked.text == ("SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> "
                            "{ ?s <http://a/p> ?o } } # tail\n")
    assert checked.services == (WIKIDATA_SPARQL,)
    # what the re-emission reads as is what the checks read: checking it again changes nothing
    again = check_query(checked.text)
    assert again.text == checked.text and again.services == checked.services
