"""The changelog's renderings: a changed value reads old → new; Markdown and HTML escape labels;
the RDF (Changeset vocabulary) reifies every added and removed statement; the release and the
diff command write the same three files.

The planted changes between the fixture releases 1.0.0 and 1.1.0 are listed in
tests/releases.py (PLANTED), written from the edits made, not from the output.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pyoxigraph as ox
from conftest import run_cli
from isecg_kg.builder.changelog import lines_of, term_text, to_html, to_markdown, to_triples
from isecg_kg.builder.diff import compact, diff_releases
from isecg_kg.rdf import CS, RDF, VOID
from releases import PLANTED


def test_a_changed_value_reads_old_to_new(fixture_repo):
    releases = fixture_repo / "dist" / "releases"
    cl = diff_releases(releases / "1.0.0", releases / "1.1.0")
    uksa = next(e for e in cl.entities if e.subject.value.endswith("/agency/uksa"))
    [line] = lines_of(uksa)
    assert (line.kind, line.predicate, line.old, line.new) == (
        "changed", "rdfs:label", ['"UK Space Agency"@en'], ['"United Kingdom Space Agency"@en'])
    md = to_markdown(cl)
    assert '- changed `rdfs:label`: `"UK Space Agency"@en` → `"United Kingdom Space Agency"@en`' \
        in md
    assert "### Fixture Person" in md.split("## Entities added (1)")[1]
    assert "### Wikidata link of agency aem" in md.split("## Entities removed (1)")[1]


def test_the_release_publishes_the_changelog_the_diff_command_prints(fixture_repo):
    releases = fixture_repo / "dist" / "releases"
    for fmt, name in (("md", "changelog.md"), ("html", "changelog.html")):
        out = run_cli("diff", "--format", fmt, str(releases / "1.0.0"), str(releases / "1.1.0"),
                      check=True).stdout
        assert out == (releases / "1.1.0" / name).read_text(encoding="utf-8")


def test_the_changelog_as_rdf_reifies_every_added_and_removed_statement(fixture_repo):
    releases = fixture_repo / "dist" / "releases"
    graph = list(ox.parse(path=str(releases / "1.1.0" / "changelog.ttl"),
                          format=ox.RdfFormat.TURTLE))
    assert not any(isinstance(t, ox.BlankNode) for q in graph for t in (q.subject, q.object))
    by = {}
    for t in graph:
        by.setdefault(t.subject, []).append(t)

    def one(s, p):
        [v] = [t.object for t in by[s] if t.predicate.value == p]
        return v

    changesets = [s for s, ts in by.items()
                  if any(t.predicate.value == RDF + "type" and t.object.value == CS + "ChangeSet"
                         for t in ts)]
    assert {one(s, CS + "subjectOfChange").value for s in changesets} == set(PLANTED)
    for s in changesets:
        iri = one(s, CS + "subjectOfChange").value
        got = set()
        for kind, sign in ((CS + "addition", "+"), (CS + "removal", "-")):
            for t in by[s]:
                if t.predicate.value == kind:
                    p, o = one(t.object, RDF + "predicate"), one(t.object, RDF + "object")
                    assert one(t.object, RDF + "subject").value == iri
                    got.add((sign, compact(p.value), term_text(o)))
        assert got == set(PLANTED[iri][2])
    base = "https://w3id.org/isecg/release/1.1.0/changelog"
    assert one(ox.NamedNode(base + "#added"), VOID + "triples").value == "5"
    assert one(ox.NamedNode(base + "#removed"), VOID + "triples").value == "8"
    assert one(ox.NamedNode(base + "#removed"), VOID + "entities").value == "1"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_labels_are_escaped_in_html_and_markdown(dist, tmp_path):
    evil = '<script>alert(1)</script> *bold* [x](javascript:1)'
    nt = (dist / "isecg.nt").read_text(encoding="utf-8") + (
        f'<https://w3id.org/isecg/id/agency/evil> <http://www.w3.org/2000/01/rdf-schema#label> '
        f'"{evil}"@en .\n')
    (tmp_path / "evil.nt").write_text(nt, encoding="utf-8")
    cl = diff_releases(dist, tmp_path / "evil.nt")
    parser = _Text()
    parser.feed(to_html(cl))
    assert "script" not in parser.tags
    assert any(evil in chunk for chunk in parser.text)
    assert "### \\<script\\>alert(1)\\</script\\> \\*bold\\* \\[x\\](javascript:1)" in \
        to_markdown(cl)
    assert len(to_triples(cl)) > 0


def test_output_directory_gets_the_three_renderings(fixture_repo, tmp_path):
    releases = fixture_repo / "dist" / "releases"
    run_cli("diff", "--out", str(tmp_path), str(releases / "1.0.0"), str(releases / "1.1.0"),
            check=True)
    for name in ("changelog.md", "changelog.html", "changelog.ttl"):
        assert (tmp_path / name).read_bytes() == (releases / "1.1.0" / name).read_bytes()
