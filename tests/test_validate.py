"""Every SHACL constraint catches what its message says: one failing fixture per shape.

Each fixture adds a few triples to the real data; the report must name the shape (as
sh:sourceShape or sh:sourceConstraint). The committed data must conform, and the shapes graph
must conform to SHACL-SHACL.
"""

from __future__ import annotations

import shutil

import pyshacl
import pytest
import rdflib
from conftest import ROOT, run_cli
from isecg_kg.builder.load import load_sources
from isecg_kg.builder.validate import check_shapes, validate
from shacl_fixtures import FIXTURES, PREFIXES, SH, SHAPES, owners


@pytest.fixture(scope="module")
def sources():
    return load_sources(ROOT)


def shapes_with_messages(sources) -> set[str]:
    g = sources.rdflib_graph("shapes")
    return {str(s)[len(SHAPES):] for s in g.subjects(SH.message, None)}


def test_committed_data_conforms(sources):
    report = validate(sources)
    assert report.conforms, "\n".join(map(str, report.problems))
    assert not report.problems


def test_every_shape_has_a_failing_fixture(sources):
    assert shapes_with_messages(sources) == set(FIXTURES)


def test_every_constraint_has_a_message_and_a_severity(sources):
    g = sources.rdflib_graph("shapes")
    for s in g.subjects(SH.message, None):
        assert g.value(s, SH.severity) in (SH.Violation, SH.Warning, SH.Info), s
    for s in set(g.subjects(SH.path, None)) - {None}:
        if isinstance(s, rdflib.URIRef):
            assert g.value(s, SH.message) is not None, f"{s} has no sh:message"


@pytest.mark.parametrize("shape", sorted(FIXTURES))
def test_fixture_is_caught_by_its_shape(sources, shape):
    data = rdflib.Graph()
    for t in sources.rdflib_graph("ontology", "data"):
        data.add(t)
    data.parse(data=PREFIXES + FIXTURES[shape], format="turtle")
    shapes = sources.rdflib_graph("shapes")
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, advanced=True,
                                           use_shapes=owners(shapes, shape))  # warnings fail too
    assert not conforms
    named = {str(o) for p in (SH.sourceShape, SH.sourceConstraint) for o in report.objects(None, p)}
    assert SHAPES + shape in named


def test_shapes_graph_conforms_to_shacl_shacl(sources, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no cached verdict: really check
    check_shapes(sources)
    g = sources.rdflib_graph("shapes")
    conforms, _, text = pyshacl.validate(g, shacl_graph=None, meta_shacl=True)
    assert conforms, text


def test_cli_prints_one_line_per_problem_and_exits_1(tmp_path):
    for d in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / d, tmp_path / d)
    (tmp_path / "data" / "zz-bad.ttl").write_text(
        PREFIXES + FIXTURES["Membership-source"] + "\n" + FIXTURES["SpaceAgencyShape"])
    proc = run_cli("validate", "--source", str(tmp_path))
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    first = PREFIXES.count("\n") + 1  # the line of the first fixture in zz-bad.ttl
    # ESA's node-level sh:xone names every file describing ESA, the new one included
    assert lines[0].startswith("[VIOLATION] data/agencies.ttl:") and " agency:esa " in lines[0]
    assert f"also data/zz-bad.ttl:{first + 1})" in lines[0]
    assert lines[1].startswith(f"[VIOLATION] data/zz-bad.ttl:{first}: membership:x "
                               "dcterms:source: ")
    assert "cite the source" in lines[1] and lines[1].endswith("(sh:minCount)")


def test_cli_exit_codes_0_and_2(tmp_path):
    assert run_cli("-q", "validate").returncode == 0
    proc = run_cli("validate", "--source", str(tmp_path / "missing"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_the_compiled_validator_is_the_default_and_pyshacl_takes_what_it_refuses(tmp_path):
    """A shapes graph using a feature the compiler refuses (here sh:equals nested in sh:or)
    is validated by pySHACL, with one line saying so; --validator sparql refuses it."""
    for d in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / d, tmp_path / d)
    (tmp_path / "shapes" / "zz-nested.ttl").write_text(
        "PREFIX agency: <https://w3id.org/isecg/id/agency/>\n"
        "PREFIX isecg: <https://w3id.org/isecg/ontology#>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "PREFIX sh: <http://www.w3.org/ns/shacl#>\n"
        "<https://example.org/Nested> a sh:NodeShape ; sh:targetNode agency:nasa ;\n"
        "  sh:message \"The acronym is the label.\"@en ; sh:severity sh:Violation ;\n"
        "  sh:or ( [ sh:path isecg:acronym ; sh:equals rdfs:label ] ) .\n")
    proc = run_cli("validate", "--source", str(tmp_path))
    notes = [line for line in proc.stderr.splitlines() if "pySHACL instead" in line]
    assert len(notes) == 1 and notes[0].startswith("validate: shape ")
    assert "the sh:equals constraint component is not supported" in notes[0]
    assert proc.returncode == 1  # "NASA" is not "NASA"@en: pySHACL found it
    [line] = proc.stdout.splitlines()
    assert line.startswith("[VIOLATION] data/agencies.ttl:") and " agency:nasa " in line
    assert "The acronym is the label. (sh:or" in line
    strict = run_cli("validate", "--validator", "sparql", "--source", str(tmp_path))
    assert strict.returncode == 2 and "sh:equals" in strict.stderr
    assert "pySHACL instead" not in strict.stderr
    # and the project's own shapes need no fallback
    assert "pySHACL" not in run_cli("validate").stderr
