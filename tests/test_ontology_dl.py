"""The ontology and the data are consistent for a DL reasoner together with the vocabularies they
use, no class is unsatisfiable, and nothing plainly wrong is entailed.

HermiT (the jar owlready2 ships on PyPI, run with Debian's Java) reads the build's ontology and
data graphs with ORG, PROV-O, FOAF, OWL-Time, SKOS, DCTERMS, DCAT, vCard and schema.org as the
npm package @zazuko/rdf-vocabularies has them (pinned in package-lock.json, installed into
node_modules/ by scripts/npm-setup.sh). schema.org's copy names http://schema.org/ terms; they
are read as https://schema.org/, the namespace our ontology uses. owl:imports are dropped (the
tests never fetch). Datatypes outside OWL 2's map (xsd:date, xsd:gYear, xsd:duration,
rdf:langString: a departure README and the ontology list) are ignored by the reasoner.

Probes turn every question into the one HermiT answers fastest, consistency: a fresh individual
of every named class (consistent, so no class is unsatisfiable), and disjointness axioms that
hold unless something plainly wrong is entailed (an agency, a country or a person a skos:Concept
or a document, a class of ours a skos:Concept, an event prov:used what it generated). Each fault
issue 23 found is planted back once to show the check catches it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ROOT

VOCABULARIES = ROOT / "node_modules" / "@zazuko" / "rdf-vocabularies" / "ontologies"
USED = ("org", "prov", "foaf", "time", "skos", "dcterms", "dcat", "vcard", "schema")
RDF, RDFS, OWL = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                  "http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/2002/07/owl#")
SKOS, FOAF, PROV = ("http://www.w3.org/2004/02/skos/core#", "http://xmlns.com/foaf/0.1/",
                    "http://www.w3.org/ns/prov#")
ISECG, ID = "https://w3id.org/isecg/ontology#", "https://w3id.org/isecg/id/"
RESERVED = (RDF, RDFS, OWL, "http://www.w3.org/2001/XMLSchema#")
# class pairs no individual may belong to both of
DISJOINT = [("http://www.w3.org/ns/org#Organization", SKOS + "Concept"),
            (ISECG + "Place", SKOS + "Concept"), (ISECG + "Person", SKOS + "Concept"),
            (ISECG + "Destination", SKOS + "Concept"), (ISECG + "Event", SKOS + "Concept"),
            (ISECG + "Document", SKOS + "Concept"),
            ("http://www.w3.org/ns/org#Organization", FOAF + "Document"),
            (ISECG + "Place", FOAF + "Document"), (ISECG + "Person", FOAF + "Document")]
RESULT = "http://www.w3.org/ns/org#resultingOrganization"


def _hermit_classpath() -> str | None:
    try:
        import owlready2
    except ImportError:
        return None
    here = Path(owlready2.__file__).parent / "hermit"
    return os.pathsep.join([str(here), str(here / "HermiT.jar")]) \
        if (here / "HermiT.jar").is_file() else None


@pytest.fixture(scope="module")
def hermit():
    classpath = _hermit_classpath()
    if classpath is None:
        pytest.skip("owlready2 (test extras: pip install -e '.[test]') ships HermiT; not found")
    if shutil.which("java") is None:
        pytest.skip("no java: apt-get install default-jre-headless (scripts/test.sh does)")
    if not VOCABULARIES.is_dir():
        pytest.skip(f"{VOCABULARIES} missing: run scripts/npm-setup.sh")
    return classpath


@pytest.fixture(scope="module")
def vocabularies(hermit) -> list[ox.Triple]:
    out = []
    for name in USED:
        for q in ox.parse(path=str(VOCABULARIES / f"{name}.nq"), format=ox.RdfFormat.N_QUADS,
                          rename_blank_nodes=True):
            out.append(q.triple)
    return out


@pytest.fixture(scope="module")
def ours(dist) -> list[ox.Triple]:
    """The build's ontology and data graphs (not its entailments: HermiT draws its own)."""
    return [q.triple for q in ox.parse(path=str(dist / "isecg.nq"), format=ox.RdfFormat.N_QUADS)
            if not q.graph_name.value.endswith("/graph/inferred")]


def probes(triples: list[ox.Triple]) -> list[ox.Triple]:
    n = ox.NamedNode
    classes = sorted({t.subject.value for t in triples
                      if t.predicate.value == RDF + "type" and isinstance(t.subject, ox.NamedNode)
                      and t.object.value in (OWL + "Class", RDFS + "Class")
                      and not t.subject.value.startswith(RESERVED)})
    out = [ox.Triple(n(f"urn:isecg-probe:class:{i}"), n(RDF + "type"), n(c))
           for i, c in enumerate(classes)]
    out += [ox.Triple(n(a), n(OWL + "disjointWith"), n(b)) for a, b in DISJOINT]
    # an event used no organization it resulted in (prov:used is no simple property, so no
    # property disjointness: a negative assertion for each event and organization it made)
    made = [t for t in triples if t.predicate.value == RESULT]
    for i, t in enumerate(made):
        negative = ox.BlankNode(f"notused{i}")
        out += [ox.Triple(negative, n(RDF + "type"), n(OWL + "NegativePropertyAssertion")),
                ox.Triple(negative, n(OWL + "sourceIndividual"), t.subject),
                ox.Triple(negative, n(OWL + "assertionProperty"), n(PROV + "used")),
                ox.Triple(negative, n(OWL + "targetIndividual"), t.object)]
    for i, c in enumerate(c for c in classes if c.startswith(ISECG)):  # a class of ours, used as
        complement = ox.BlankNode(f"notconcept{i}")                    # an individual, is no
        out += [ox.Triple(n(c), n(RDF + "type"), complement),           # skos:Concept
                ox.Triple(complement, n(RDF + "type"), n(OWL + "Class")),
                ox.Triple(complement, n(OWL + "complementOf"), n(SKOS + "Concept"))]
    return out


def consistent(classpath: str, triples: list[ox.Triple], tmp_path: Path) -> tuple[bool, str]:
    """HermiT's verdict on the triples (N-Triples, schema.org read as https), and its output."""
    triples = [t for t in triples if t.predicate.value != OWL + "imports"]
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    path = tmp_path / "all.nt"
    path.write_bytes(data.replace(b"<http://schema.org/", b"<https://schema.org/"))
    proc = subprocess.run(["java", "-Xmx2g", "-cp", classpath,
                           "org.semanticweb.HermiT.cli.CommandLine", "-k",
                           "--ignoreUnsupportedDatatypes", path.as_uri()],
                          capture_output=True, text=True, timeout=600, check=False)
    out = proc.stdout + proc.stderr
    if "is satisfiable" in proc.stdout:
        return True, out
    if "is not satisfiable" in proc.stdout or "nconsistent" in out:
        return False, out
    raise AssertionError(f"HermiT gave no verdict (exit {proc.returncode}):\n{out[-3000:]}")


def test_consistent_with_every_class_satisfiable_and_no_wrong_entailment(
        hermit, vocabularies, ours, tmp_path):
    everything = ours + vocabularies
    verdict, out = consistent(hermit, everything + probes(everything), tmp_path)
    if not verdict:  # say which: the graph itself, or a probe
        alone, _ = consistent(hermit, everything, tmp_path)
        pytest.fail("HermiT: " + ("the ontology and data are inconsistent with the vocabularies"
                                  if not alone else "a probe fails: some class is unsatisfiable "
                                  "or a plainly wrong entailment holds") + "\n" + out[-2000:])


def _replace(triples: list[ox.Triple], old: ox.Triple | None, *new: ox.Triple):
    return [t for t in triples if t != old] + list(new)


def test_the_brochures_mailbox_made_it_inconsistent(hermit, vocabularies, ours, tmp_path):
    """foaf:mbox is inverse-functional with domain foaf:Agent: the brochure that printed ISECG's
    mailbox was ISECG itself, a document and an organization, which FOAF keeps apart."""
    brochure = ox.Triple(ox.NamedNode(ID + "document/exploring-together"),
                         ox.NamedNode(FOAF + "mbox"), ox.NamedNode("mailto:ISECG@esa.int"))
    verdict, _ = consistent(hermit, _replace(ours, None, brochure) + vocabularies, tmp_path)
    assert not verdict


def test_skos_exact_match_links_would_make_agencies_concepts(hermit, vocabularies, ours, tmp_path):
    link = next(t for t in ours if t.subject.value == ID + "agency/nasa"
                and t.predicate.value == "https://schema.org/sameAs")
    exact = ox.Triple(link.subject, ox.NamedNode(SKOS + "exactMatch"), link.object)
    everything = _replace(ours, link, exact) + vocabularies
    verdict, _ = consistent(hermit, everything + probes(everything), tmp_path)
    assert not verdict


def test_concerns_as_prov_used_would_make_formations_use_what_they_made(
        hermit, vocabularies, ours, tmp_path):
    axiom = ox.Triple(ox.NamedNode(ISECG + "concerns"), ox.NamedNode(RDFS + "subPropertyOf"),
                      ox.NamedNode(PROV + "used"))
    everything = _replace(ours, None, axiom) + vocabularies
    verdict, _ = consistent(hermit, everything + probes(everything), tmp_path)
    assert not verdict


def test_the_builds_own_closure_entails_nothing_plainly_wrong(store):
    """The build's reasoner (rules, held to owlrl by test_reason) makes no agency, country or
    person a concept or a document, and no event use the organization it created."""
    wrong = """PREFIX isecg: <https://w3id.org/isecg/ontology#>
      PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX foaf: <http://xmlns.com/foaf/0.1/>
      PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX org: <http://www.w3.org/ns/org#>
      ASK { { ?x a ?kind . VALUES ?kind { isecg:SpaceAgency isecg:CoordinationGroup isecg:Country
                                          isecg:Region isecg:Person isecg:Destination }
              ?x a ?wrong . VALUES ?wrong { skos:Concept foaf:Document isecg:Document } }
            UNION { ?e prov:used ?o ; org:resultingOrganization ?o }
            UNION { ?c a skos:Concept FILTER(STRSTARTS(STR(?c), STR(isecg:)))
                    ?c a <http://www.w3.org/2002/07/owl#Class> } }"""
    assert not bool(store.query(wrong))


def test_the_closure_gives_nothing_a_class_of_ours_it_was_not_given(store):
    """A domain or range of ours entails no class of ours beyond the superclasses of those an
    entity is given: isecg:scenario's domain RoadmapEdition made the Reference Architecture and
    the 2020 lunar supplement roadmap editions (and targets of the edition shapes)."""
    extra = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
      SELECT ?x ?class WHERE {
        GRAPH <https://w3id.org/isecg/graph/inferred> { ?x a ?class }
        FILTER(STRSTARTS(STR(?class), "https://w3id.org/isecg/ontology#"))
        FILTER NOT EXISTS { GRAPH ?g { ?x a ?given } FILTER(?g != <https://w3id.org/isecg/graph/inferred>)
                            GRAPH <https://w3id.org/isecg/graph/ontology> {
                              ?given rdfs:subClassOf* ?class } } }"""
    assert [f"{r['x']} a {r['class']}" for r in store.query(extra)] == []
