"""The W3C Entity Reconciliation service at /reconcile, through the real server.

Requests are the ones OpenRefine sends (the manifest GET, batch ``queries=`` as a form POST).
Expected answers come from the sources: the graph names CSA and ASI by acronym only (the sources
never give "Canadian Space Agency" or "Agenzia Spaziale Italiana"), so those full names can never
be an exact match; "South Korea" is the brochure's name for the Republic of Korea, "NSAU" the
earlier acronym of the State Space Agency of Ukraine.
"""

from __future__ import annotations

import json

import httpx
import pytest
from servers import isecg_server

ISECG = "https://w3id.org/isecg/ontology#"
ID = "https://w3id.org/isecg/id/"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def service(dist):
    with isecg_server(dist, "--workers", "1") as url:
        yield url + "/reconcile"


def batch(service: str, queries: dict, method: str = "POST") -> dict:
    if method == "POST":
        r = httpx.post(service, data={"queries": json.dumps(queries)}, headers=FORM, timeout=30)
    else:
        r = httpx.get(service, params={"queries": json.dumps(queries)}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def ids(result: dict) -> list[str]:
    return [c["id"] for c in result["result"]]


def test_manifest(service):
    r = httpx.get(service, headers={"Origin": "https://openrefine.example"}, timeout=30)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    m = r.json()
    assert "0.2" in m["versions"]
    assert m["name"]
    assert m["identifierSpace"] == ID
    assert m["schemaSpace"] == ISECG
    assert [t["id"] for t in m["defaultTypes"]] == [ISECG + "SpaceAgency", ISECG + "Country",
                                                   ISECG + "Document"]
    assert all(t["name"] for t in m["defaultTypes"])
    assert "{{id}}" in m["view"]["url"]
    assert m["suggest"]["entity"]["service_url"].endswith("/reconcile")
    assert "{{id}}" in m["preview"]["url"]


def test_openrefine_batch(service):
    res = batch(service, {
        "q0": {"query": "NASA", "type": ISECG + "SpaceAgency", "type_strict": "should"},
        "q1": {"query": "Agenzia Spaziale Italiana", "limit": 3},
        "q2": {"query": "Canadian Space Agency", "type": ISECG + "SpaceAgency"},
        "q3": {"query": "Rocosmos"},
        "q4": {"query": "Zyxwvut Orbital Bureau"},
        "q5": {"query": "Canadian Space Agency"},
    })
    assert set(res) == {"q0", "q1", "q2", "q3", "q4", "q5"}
    nasa = res["q0"]["result"][0]
    assert nasa["id"] == ID + "agency/nasa"
    assert nasa["match"] is True and nasa["score"] == 100
    assert nasa["name"] == "National Aeronautics and Space Administration"  # full-name label
    assert ISECG + "SpaceAgency" in [t["id"] for t in nasa["type"]]
    assert [c for c in res["q0"]["result"] if c["match"]] == [nasa]
    # full names isecg-facts.md §1 gives (ISECG home 2021) are now the agencies' names: a match
    for key in ("q1", "q2", "q5"):
        assert [c["match"] for c in res[key]["result"]][:1] == [True], res[key]
    assert ids(res["q1"])[:1] == [ID + "agency/asi"]
    assert ids(res["q2"])[:1] == [ID + "agency/csa"]
    # a misspelling: Roscosmos first, but no automatic match
    assert ids(res["q3"])[0] == ID + "agency/roscosmos"
    assert not any(c["match"] for c in res["q3"]["result"])
    # an unknown name: nothing above the threshold
    assert res["q4"]["result"] == []
    for r in res.values():
        for c in r["result"]:
            assert c["id"].startswith(ID) and 0 <= c["score"] <= 100


def test_names_the_sources_give(service):
    res = batch(service, {
        "korea": {"query": "South Korea", "type": "country"},
        "nsau": {"query": "NSAU"},
        "uksa": {"query": "uk space agency"},
        "pt": {"query": "Portugal", "type": ISECG + "SpaceAgency"},
        "portugal": {"query": "Portugal"},
        "ger": {"query": "Global Exploration Roadmap", "type": ISECG + "Document"},
    })
    first = {k: v["result"][0] for k, v in res.items()}
    assert first["korea"]["id"] == ID + "country/republic-of-korea" and first["korea"]["match"]
    assert first["nsau"]["id"] == ID + "agency/ssau" and first["nsau"]["match"]
    assert first["uksa"]["id"] == ID + "agency/uksa" and first["uksa"]["match"]
    # typed as agency, "Portugal" finds Portugal Space but is not its name
    assert first["pt"]["id"] == ID + "agency/pt-space" and not first["pt"]["match"]
    assert first["portugal"]["id"] == ID + "country/portugal" and first["portugal"]["match"]
    # the work and its first edition share the title "The Global Exploration Roadmap"
    # (NASA's page): the work ranks first, but the tie is no automatic match
    assert first["ger"]["id"] == ID + "document/ger" and not first["ger"]["match"]
    assert all(ISECG + "Document" in [t["id"] for t in c["type"]] for c in res["ger"]["result"])


def test_get_and_post_agree_and_limit_is_honoured(service):
    queries = {"a": {"query": "Space Agency", "limit": 3}, "b": {"query": "JAXA"}}
    assert batch(service, queries, "GET") == batch(service, queries, "POST")
    res = batch(service, queries)
    assert 1 <= len(res["a"]["result"]) <= 3
    assert not any(c["match"] for c in res["a"]["result"])  # many agencies, none by that name


def test_single_query(service):
    r = httpx.get(service, params={"query": "ESA"}, timeout=30)
    assert r.status_code == 200
    assert r.json()["result"][0]["id"] == ID + "agency/esa"
    r = httpx.get(service, params={"query": json.dumps({"query": "Europe", "type": "region"})},
                  timeout=30)
    assert r.json()["result"][0]["id"] == ID + "region/europe"


@pytest.mark.parametrize("queries", ["{not json", "[1, 2]", json.dumps({"q0": {"q": "x"}})])
def test_malformed_batches_are_400(service, queries):
    r = httpx.post(service, data={"queries": queries}, headers=FORM, timeout=30)
    assert r.status_code == 400
    assert r.json()["error"]


def test_cors_preflight(service):
    r = httpx.options(service, headers={"Origin": "https://openrefine.example",
                                        "Access-Control-Request-Method": "POST",
                                        "Access-Control-Request-Headers": "Content-Type"},
                      timeout=30)
    assert r.status_code in (200, 204)
    assert r.headers["access-control-allow-origin"] in ("*", "https://openrefine.example")
    assert "POST" in r.headers["access-control-allow-methods"]


def test_suggest_and_preview(service):
    r = httpx.get(service + "/suggest/entity", params={"prefix": "Norw"}, timeout=30)
    found = [c["id"] for c in r.json()["result"]]
    assert ID + "agency/nosa" in found and ID + "country/norway" in found
    r = httpx.get(service + "/suggest/type", params={"prefix": "agen"}, timeout=30)
    assert ISECG + "SpaceAgency" in [t["id"] for t in r.json()["result"]]
    r = httpx.get(service + "/preview", params={"id": ID + "agency/nasa"}, timeout=30)
    assert r.status_code == 200 and "NASA" in r.text
    r = httpx.get(service + "/preview", params={"id": ID + "agency/none"}, timeout=30)
    assert r.status_code == 404


def test_two_entities_with_one_name_are_never_a_match():
    """Ambiguity: an exact name shared by two entities scores 100 for both, matches neither."""
    import pyoxigraph as ox
    from isecg_kg.web.reconcile import Index

    store = ox.Store()
    a = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    acr = ox.NamedNode(ISECG + "acronym")
    for local in ("one", "two"):
        e = ox.NamedNode(ID + "agency/" + local)
        store.add(ox.Quad(e, a, ox.NamedNode(ISECG + "SpaceAgency")))
        store.add(ox.Quad(e, acr, ox.Literal("XYZ", language="en")))
    result = Index(store).reconcile("xyz")
    assert [c["score"] for c in result] == [100, 100]
    assert not any(c["match"] for c in result)
