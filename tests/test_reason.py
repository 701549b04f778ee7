"""The rule reasoner derives exactly what owlrl's OWL RL closure derives on our data, and
inconsistencies fail."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from conftest import ROOT
from isecg_kg.builder.load import load_sources
from isecg_kg.builder.reason import comparable, fixpoint_of_rules, owlrl_closure, reason_rules
from isecg_kg.errors import InconsistencyError

ID, ONT = "https://w3id.org/isecg/id/", "https://w3id.org/isecg/ontology#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@pytest.fixture(scope="module")
def asserted():
    return load_sources(ROOT).triples("ontology", "data")


def test_rules_agree_with_owlrl_on_the_real_data(asserted):
    inferred = reason_rules(asserted)
    closure = owlrl_closure(asserted, budget=120)
    ours, reference = comparable(set(asserted) | inferred), comparable(closure)
    assert ours - reference == set()
    assert reference - ours == set()


def test_fast_path_equals_the_rule_files_fixpoint(asserted):
    assert reason_rules(asserted) == fixpoint_of_rules(asserted)


def test_fast_path_equals_the_rule_files_fixpoint_on_synthetic_data(tmp_path):
    from bench.synth import write_synthetic

    src = write_synthetic(tmp_path / "synth", 10_000, 7)
    triples = load_sources(src).triples("ontology", "data")
    fast = reason_rules(triples)
    assert fast == fixpoint_of_rules(triples)
    assert any(t.predicate.value == "http://purl.org/dc/terms/creator" for t in fast)


def test_entailments_answer_standard_vocabulary_questions(asserted):
    inferred = reason_rules(asserted)
    nasa = ox.NamedNode(ID + "agency/nasa")
    isecg = ox.NamedNode(ID + "group/isecg")
    assert ox.Triple(nasa, RDF_TYPE, ox.NamedNode("http://www.w3.org/ns/org#FormalOrganization")) \
        in inferred
    assert ox.Triple(nasa, ox.NamedNode("http://www.w3.org/ns/org#memberOf"), isecg) in inferred
    assert ox.Triple(ox.NamedNode(ID + "document/ger-1"),
                     ox.NamedNode("http://purl.org/dc/terms/creator"), nasa) in inferred
    assert ox.Triple(ox.NamedNode(ID + "document/ger-3"),
                     ox.NamedNode("http://purl.org/dc/terms/contributor"), isecg) in inferred


def test_inferred_triples_are_not_asserted_ones(asserted):
    assert not (reason_rules(asserted) & set(asserted))


def test_a_disjointness_clash_fails(asserted):
    clash = ox.Triple(ox.NamedNode(ID + "agency/nasa"), RDF_TYPE,
                      ox.NamedNode(ONT + "CoordinationGroup"))
    with pytest.raises(InconsistencyError, match="agency/nasa"):
        reason_rules(list(asserted) + [clash])


def test_two_countries_for_one_agency_fail(asserted):
    second = ox.Triple(ox.NamedNode(ID + "agency/nasa"), ox.NamedNode(ONT + "country"),
                       ox.NamedNode(ID + "country/france"))
    with pytest.raises(InconsistencyError, match="functional"):
        reason_rules(list(asserted) + [second])
