"""The build: dumps that parse back to the same graph in every format and by independent
parsers, byte-identical rebuilds, atomic replacement, strict parsing with file:line:col."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess

import pyoxigraph as ox
import pytest
import rdflib
from conftest import ROOT, run_cli
from isecg_kg.builder.load import load_sources
from rdflib.compare import graph_diff, to_isomorphic


def isomorphic(a, b) -> bool:
    """Equal up to blank-node labels. rdflib's own isomorphic() compares one digest of each
    graph and answered False for these isomorphic graphs once the ontology's blank-node lists
    grew; the canonical triples themselves agree."""
    _, only_a, only_b = graph_diff(to_isomorphic(a), to_isomorphic(b))
    return not only_a and not only_b

FILES = ["isecg.ttl", "isecg.nt", "isecg.nq", "isecg.jsonld", "isecg.rdf", "isecg-inferred.nt",
         "context.jsonld", "shacl-report.ttl", "void.ttl", "SHA256SUMS"]


@pytest.fixture(scope="module")
def asserted():
    g = rdflib.Graph()
    for t in load_sources(ROOT).rdflib_graph("ontology", "data"):
        g.add(t)
    return g


def test_output_holds_every_dump_and_its_gzip(dist):
    for name in FILES:
        assert (dist / name).is_file(), name
    for name in FILES[:6]:
        assert gzip.decompress((dist / f"{name}.gz").read_bytes()) == (dist / name).read_bytes()


@pytest.mark.parametrize("name, fmt", [("isecg.ttl", "turtle"), ("isecg.nt", "nt"),
                                       ("isecg.rdf", "xml"), ("isecg.jsonld", "json-ld")])
def test_dump_parses_back_isomorphic(dist, asserted, name, fmt):
    g = rdflib.Graph()
    g.parse(dist / name, format=fmt)
    assert isomorphic(g, asserted)


def test_nquads_hold_ontology_data_and_inferred_graphs(dist, asserted):
    ds = rdflib.Dataset()
    ds.parse(dist / "isecg.nq", format="nquads")
    names = {str(c.identifier) for c in ds.graphs() if len(c)}
    base = "https://w3id.org/isecg/graph/"
    assert {base + "ontology", base + "data", base + "inferred"} <= names
    union = rdflib.Graph()
    for g in ("ontology", "data"):
        for t in ds.graph(rdflib.URIRef(base + g)):
            union.add(t)
    assert isomorphic(union, asserted)
    inferred = rdflib.Graph().parse(dist / "isecg-inferred.nt", format="nt")
    assert len(ds.graph(rdflib.URIRef(base + "inferred"))) == len(inferred) > 0


def test_jsonld_through_pyld_with_no_remote_fetch(dist, asserted):
    from pyld import jsonld

    def refuse(url, options=None):
        raise AssertionError(f"pyld tried to fetch {url}")

    jsonld.set_document_loader(refuse)
    doc = json.loads((dist / "isecg.jsonld").read_text())
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    g = rdflib.Graph().parse(data=nquads, format="nt")
    assert isomorphic(g, asserted)


@pytest.mark.parametrize("name, syntax", [("isecg.ttl", "turtle"), ("isecg.rdf", "rdfxml"),
                                          ("isecg.nt", "ntriples")])
def test_rapper_parses_the_dump(dist, asserted, name, syntax):
    proc = subprocess.run(["rapper", "-i", syntax, "-c", str(dist / name)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"returned {len(asserted)} triples" in proc.stderr


def test_rapper_parses_the_quads_and_the_inferred_dump(dist):
    inferred = sum(1 for _ in ox.parse(path=str(dist / "isecg-inferred.nt"),
                                       format=ox.RdfFormat.N_TRIPLES))
    quads = sum(1 for _ in ox.parse(path=str(dist / "isecg.nq"), format=ox.RdfFormat.N_QUADS))
    for name, syntax, count in (("isecg.nq", "nquads", quads),
                                ("isecg-inferred.nt", "ntriples", inferred)):
        proc = subprocess.run(["rapper", "-i", syntax, "-c", str(dist / name)],
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0 and f"returned {count} " in proc.stderr, proc.stderr


@pytest.mark.parametrize("name, fmt", [
    ("isecg.ttl", ox.RdfFormat.TURTLE), ("isecg.nt", ox.RdfFormat.N_TRIPLES),
    ("isecg.rdf", ox.RdfFormat.RDF_XML), ("isecg.jsonld", ox.RdfFormat.JSON_LD)])
def test_oxigraph_reads_every_asserted_dump_whole(dist, asserted, name, fmt):
    assert sum(1 for _ in ox.parse(path=str(dist / name), format=fmt)) == len(asserted)


def test_sha256sums_verify(dist):
    proc = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(": OK") == len(list(dist.glob("*"))) - 1 - ((dist / "site").exists())


def test_two_builds_are_byte_identical(dist, tmp_path):
    out = tmp_path / "again"
    run_cli("-q", "build", "--out", str(out), check=True)
    for p in sorted(dist.iterdir()):
        if p.is_file():
            assert (out / p.name).read_bytes() == p.read_bytes(), p.name


def _sources_copy(tmp_path):
    src = tmp_path / "src"
    for d in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / d, src / d)
    return src


def _snapshot(d):
    return {p.name: p.read_bytes() for p in d.iterdir()}


@pytest.mark.parametrize("case, text, line, col", [
    # W3C turtle-syntax-bad-struct-14: a literal as subject (rdflib accepts it).
    ("literal-subject", '@prefix : <http://example.org/> .\n"abc" :p :o .\n', 2, 1),
    # W3C turtle-syntax-bad-uri-01: a space in an IRI (rdflib accepts it).
    ("iri-with-space", ("<http://example.org/ space> <http://example.org/p> "
                        "<http://example.org/o> .\n"), 1, 20),
    # W3C turtle-syntax-bad-kw-05: @true is not a keyword (rdflib accepts it).
    ("at-true", "@prefix : <http://example.org/> .\n:s :p @true .\n", 2, 7),
])
def test_bad_syntax_fails_the_build_with_file_line_col_and_keeps_the_output(
        dist, tmp_path, case, text, line, col):
    rdflib.Graph().parse(data=text, format="turtle")  # the lax parser lets it through...
    src = _sources_copy(tmp_path)
    (src / "data" / "zz-bad.ttl").write_text(text)
    out = tmp_path / "out"
    shutil.copytree(dist, out)
    before = _snapshot(out)
    proc = run_cli("build", "--source", str(src), "--out", str(out))
    assert proc.returncode == 2
    assert f"data/zz-bad.ttl:{line}:" in proc.stderr  # ...the strict one names file and line
    assert "Turtle syntax error" in proc.stderr
    assert _snapshot(out) == before
    assert not list(tmp_path.glob(".out.tmp-*"))


def test_a_shacl_violation_fails_the_build_and_keeps_the_output(dist, tmp_path):
    src = _sources_copy(tmp_path)
    (src / "data" / "zz-bad.ttl").write_text(
        "<https://w3id.org/isecg/id/membership/x> "
        "a <https://w3id.org/isecg/ontology#Membership> .\n")
    out = tmp_path / "out"
    shutil.copytree(dist, out)
    before = _snapshot(out)
    proc = run_cli("build", "--source", str(src), "--out", str(out))
    assert proc.returncode == 1
    assert "membership:x" in proc.stderr
    assert _snapshot(out) == before


def test_a_read_only_output_parent_is_a_clear_error(dist, tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    shutil.copytree(dist, parent / "out")
    before = _snapshot(parent / "out")
    parent.chmod(0o555)
    try:
        proc = run_cli("build", "--out", str(parent / "out"))
        if proc.returncode == 0:
            pytest.skip("running as a user that ignores directory permissions")
        assert proc.returncode == 2 and "cannot" in proc.stderr
    finally:
        parent.chmod(0o755)
    assert _snapshot(parent / "out") == before


def test_an_unwritable_output_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the output's parent should be")
    proc = run_cli("build", "--out", str(blocker / "out"))
    assert proc.returncode == 2
    assert "cannot create the build directory" in proc.stderr


def test_refuses_to_replace_a_directory_that_is_not_a_build(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    proc = run_cli("build", "--out", str(tmp_path))
    assert proc.returncode == 2 and "refusing" in proc.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_owlrl_reasoner_gives_the_same_release(dist, tmp_path):
    out = tmp_path / "owlrl"
    run_cli("-q", "build", "--reasoner", "owlrl", "--out", str(out), check=True)
    assert (out / "isecg-inferred.nt").read_bytes() == (dist / "isecg-inferred.nt").read_bytes()
    assert (out / "isecg.nq").read_bytes() == (dist / "isecg.nq").read_bytes()


def test_pyshacl_validator_gives_the_same_release(dist, tmp_path):
    out = tmp_path / "pyshacl"  # the reference, one flag away from the compiled default
    run_cli("-q", "build", "--validator", "pyshacl", "--out", str(out), check=True)
    assert (out / "SHA256SUMS").read_bytes() == (dist / "SHA256SUMS").read_bytes()


def test_pyshacl_validator_fails_the_build_like_the_compiled_one(tmp_path):
    src = _sources_copy(tmp_path)
    (src / "data" / "zz-bad.ttl").write_text(
        "<https://w3id.org/isecg/id/membership/x> "
        "a <https://w3id.org/isecg/ontology#Membership> .\n")
    said = []
    for validator in ("auto", "pyshacl"):
        proc = run_cli("build", "--validator", validator, "--source", str(src),
                       "--out", str(tmp_path / "out"))
        assert proc.returncode == 1
        said.append([line for line in proc.stderr.splitlines() if line.startswith("[")])
    assert said[0] == said[1]
    assert said[0][0].startswith("[VIOLATION] data/zz-bad.ttl:1: membership:x dcterms:source:")
