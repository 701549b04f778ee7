"""The ontology header is complete and every term is declared and documented."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ROOT
from isecg_kg.builder.load import load_sources

ONT = "https://w3id.org/isecg/ontology"
RULES = sorted((Path(__file__).parent / "rules").glob("*.rq"))


@pytest.fixture(scope="module")
def everything():
    s = ox.Store()
    src = load_sources(ROOT)
    s.bulk_extend(ox.Quad(t.subject, t.predicate, t.object)
                  for t in src.triples("ontology", "data", "shapes"))
    return s


def value(store, pred: str) -> str | None:
    for q in store.quads_for_pattern(ox.NamedNode(ONT), ox.NamedNode(pred), None):
        return q.object.value
    return None


def test_version_info_is_a_data_release(everything):
    """The ontology's version is the data release in which it last changed: the one the
    sources declare or a kept one (data/releases/releases.toml), never the code's."""
    from isecg_kg.builder.release import read_registry

    registry = read_registry(ROOT)
    releases = {registry.version} | {e.version for e in registry.releases}
    version = value(everything, "http://www.w3.org/2002/07/owl#versionInfo")
    assert version in releases
    assert value(everything, "http://www.w3.org/2002/07/owl#versionIRI") == f"{ONT}/{version}"
    prior = value(everything, "http://www.w3.org/2002/07/owl#priorVersion")
    if prior is not None:  # an earlier kept release's ontology
        from isecg_kg.builder.release import version_key

        assert prior in {f"{ONT}/{e.version}" for e in registry.releases
                         if version_key(e.version) < version_key(version)}


@pytest.mark.parametrize("pred", [
    "http://purl.org/dc/terms/title", "http://purl.org/dc/terms/description",
    "http://purl.org/dc/terms/license", "http://purl.org/dc/terms/created",
    "http://purl.org/dc/terms/modified", "http://purl.org/vocab/vann/preferredNamespacePrefix",
    "http://purl.org/vocab/vann/preferredNamespaceUri",
])
def test_header_has(everything, pred):
    assert value(everything, pred)


@pytest.mark.parametrize("rule", RULES, ids=[r.stem for r in RULES])
def test_repository_rule_returns_no_rows(everything, rule):
    rows = list(everything.query(rule.read_text()))
    assert not rows, "\n" + "\n".join(" ".join(str(v) for v in r) for r in rows)


def test_rules_can_fail(everything):
    """The rule queries are not vacuous: a typo'd term is reported."""
    s = ox.Store()
    s.extend(everything)
    s.add(ox.Quad(ox.NamedNode("https://w3id.org/isecg/id/agency/nasa"),
                  ox.NamedNode(ONT + "#acronymm"), ox.Literal("NASA")))
    rows = list(s.query((Path(__file__).parent / "rules" / "undeclared-terms.rq").read_text()))
    assert [r["term"].value for r in rows] == [ONT + "#acronymm"]
