"""README.md and the reference pages (scripts/isecg_kg/docs/): the figures they give about the
current data are those of the build of these sources (a figure that changes with the data is
checked here, or not given: the citation names no release but the form the pages print); README
is short and its links lead somewhere; its examples run as printed against a real server."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "scripts" / "isecg_kg" / "docs"
PAGES = {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))}
VOID = "http://rdfs.org/ns/void#"


def number(pattern: str) -> list[int]:
    """The figures the pattern's groups capture in README and the reference pages (at least one
    match; where several, all the same figures)."""
    found = [m for text in (README, *PAGES.values()) for m in re.findall(pattern, text)]
    assert found, pattern
    figures = {tuple(int(g.replace(",", "")) for g in (m if isinstance(m, tuple) else (m,)))
               for m in found}
    assert len(figures) == 1, (pattern, figures)
    return list(figures.pop())


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


def test_readme_is_short():
    assert len(README.splitlines()) <= 250


@pytest.mark.parametrize("name", ["README.md", *PAGES])
def test_every_relative_link_leads_to_a_file(name):
    text, here = (README, ROOT) if name == "README.md" else (PAGES[name], DOCS)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [link.split("#")[0] for link in links if "://" not in link and link.split("#")[0]]
    assert local or name not in ("README.md", "index.md"), "no links"
    missing = [link for link in local if not (here / link).is_file()]
    assert not missing, missing


def test_the_index_lists_every_reference_page():
    listed = set(re.findall(r"\]\(([a-z-]+)\.md\)", PAGES["index.md"]))
    assert listed == {n.removesuffix(".md") for n in PAGES} - {"index"}


def test_the_member_counts_readme_gives_are_members_as_of(store):
    """14 at the end of November 2007 (GES), 15 from 5 October 2015, 20 at the end of 2019, 27
    from the meeting of 30 November - 2 December 2021: the sources' counts, as README states
    them, answered by the named query on those days."""
    from queries import rows

    said = re.search(r"(\d+) at the end of November 2007, (\d+) from 5 October 2015, (\d+) at\s+"
                     r"the end of 2019, (\d+) from the meeting of 30 November", README)
    assert said and [int(g) for g in said.groups()] == [14, 15, 20, 27]
    for day, expected in (("2007-11-30", 14), ("2015-10-05", 15), ("2019-12-31", 20),
                          ("2021-12-02", 27)):
        members = [r for r in rows(store, "members-as-of", date=day) if r["status"] == "member"]
        assert len(members) == expected, day


def code_block(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README, re.S)
    found = [b for b in blocks if containing in b]
    assert len(found) == 1, (language, containing)
    return found[0]


def test_the_readme_examples_run_as_printed(sparql_server, tmp_path):
    """The curl and SPARQLWrapper examples, against a real server in place of 127.0.0.1:8000:
    the agencies (the 27 of 2022 and BNSC, source: the anniversary brochure and NASA's page),
    20 members at the end of 2019 (ISECG's count)."""
    import csv
    import io
    import shlex
    import subprocess
    import sys

    curl = code_block("sh", "/sparql").replace("\\\n", " ").strip()
    curl = curl.replace("http://127.0.0.1:8000", sparql_server)
    out = subprocess.run(shlex.split(curl), capture_output=True, text=True, check=True).stdout
    table = list(csv.DictReader(io.StringIO(out)))
    assert len({r["agency"] for r in table}) == 28
    assert {"https://w3id.org/isecg/id/agency/bnsc", "https://w3id.org/isecg/id/agency/uksa"} \
        <= {r["agency"] for r in table}
    python = code_block("python", "SPARQLWrapper").replace("http://127.0.0.1:8000", sparql_server)
    done = subprocess.run([sys.executable, "-c", python], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout == "20 members at the end of 2019\n", done.stderr


def test_the_download_example_checks_a_dump(sparql_server, tmp_path):
    import shlex
    import subprocess

    lines = code_block("sh", "sha256sum").replace("http://127.0.0.1:8000", sparql_server)
    for line in lines.strip().splitlines():
        done = subprocess.run(shlex.split(line), capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, (line, done.stderr)
    assert "isecg.nt.gz: OK" in done.stdout
