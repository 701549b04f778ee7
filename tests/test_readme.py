"""The figures README.md gives about the current data are those of the build of these sources
(a figure that changes with the data is checked here, or not given: the citation names no
release but the form the pages print)."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
VOID = "http://rdfs.org/ns/void#"


def number(pattern: str) -> list[int]:
    """The figures the pattern's groups capture in README (one match required)."""
    found = re.findall(pattern, README)
    assert len(found) == 1, (pattern, found)
    groups = found[0] if isinstance(found[0], tuple) else (found[0],)
    return [int(g.replace(",", "")) for g in groups]


@pytest.fixture(scope="module")
def void(dist) -> list[ox.Triple]:
    return list(ox.parse(path=str(dist / "void.ttl"), format=ox.RdfFormat.TURTLE))


def subset_triples(void, part: str) -> int:
    return next(int(t.object.value) for t in void if t.predicate.value == VOID + "triples"
                and t.subject.value.endswith("#" + part))


def test_the_build_size_readme_gives_is_the_build(void):
    asserted, inferred = number(r"The build\s+of these sources holds ([\d,]+) asserted triples "
                                r"and ([\d,]+) entailments")
    assert (asserted, inferred) == (subset_triples(void, "asserted"),
                                    subset_triples(void, "inferred"))


def test_the_wikidata_link_counts_are_the_build(dist, void):
    store = ox.Store()
    store.bulk_load(path=str(dist / "isecg.nq"), format=ox.RdfFormat.N_QUADS)
    records = next(iter(store.query(
        "SELECT (COUNT(DISTINCT ?r) AS ?n) "
        "WHERE { ?r a <https://w3id.org/isecg/ontology#LinkRecord> }",
        use_default_graph_as_union=True)))["n"].value
    assert number(r"\| Wikidata link records \| (\d+) \|") == [int(records)]
    assert number(r"\n(\d+) entities of the graph \(agencies") == [int(records)]
    assert number(r"`void:Linkset` of the (\d+) `schema:sameAs` links") == [
        subset_triples(void, "wikidata-links")]


def test_the_explain_case_count_is_the_test_module():
    from test_sparql_explain import CASES

    assert number(r"(\d+) cases in `tests/test_sparql_explain.py`") == [len(CASES)]


def test_the_citation_names_no_release_that_goes_stale():
    cite = README[README.index("## Licence and citation"):]
    assert "release VERSION (DATE ISSUED). https://w3id.org/isecg/release/VERSION" in cite
    assert not re.search(r"release \d+\.\d+\.\d+ \(", cite)
