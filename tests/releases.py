"""Two fixture releases made the real way: a git repository holding a copy of this project,
release 1.0.0 cut from its first commit, planted changes committed, release 1.1.0 cut.

PLANTED lists the changes made between them; test_diff checks that the changelog lists exactly
these, test_release and test_releases use the repository and its kept releases.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGENCY = "https://w3id.org/isecg/id/agency/"
LINK = "https://w3id.org/isecg/id/link/"
# a made-up person: the fixture must not depend on what the real data holds or on the
# shapes of its richer classes
ADDED = """
person:fixture-person
    a isecg:Person ;
    rdfs:label "Fixture Person"@en ;
    dcterms:source doc:exploring-together ;
    foaf:name "Fixture Person" ;
.
"""
# What 1.0.0 -> 1.1.0 changes: entity IRI -> (status, label, [(sign, predicate, value)])
PLANTED = {
    "https://w3id.org/isecg/id/person/fixture-person": ("added", "Fixture Person", [
        ("+", "rdf:type", "isecg:Person"),
        ("+", "rdfs:label", '"Fixture Person"@en'),
        ("+", "dcterms:source", "doc:exploring-together"),
        ("+", "foaf:name", '"Fixture Person"')]),
    AGENCY + "uksa": ("changed", "UK Space Agency", [
        ("-", "rdfs:label", '"UK Space Agency"@en'),
        ("+", "rdfs:label", '"United Kingdom Space Agency"@en')]),
    LINK + "agency-aem": ("removed", "Wikidata link of agency aem", [
        ("-", "rdf:type", "isecg:LinkRecord"),
        ("-", "rdfs:label", '"Wikidata link of agency aem"@en'),
        ("-", "dcterms:created", '"2026-11-22"^^xsd:date'),
        ("-", "dcterms:source", "doc:wikidata-reference"),
        ("-", "isecg:evidence", '"space-atlas"@en'),
        ("-", "isecg:linkSubject", "agency:aem"),
        ("-", "isecg:linkTarget", "wd:Q2582603")]),
}
REGISTRY_HEAD = "# fixture registry\n\nversion = \"{version}\"\n"
GIT_ENV = {"GIT_AUTHOR_NAME": "fixture", "GIT_AUTHOR_EMAIL": "fixture@example.org",
           "GIT_COMMITTER_NAME": "fixture", "GIT_COMMITTER_EMAIL": "fixture@example.org",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env={**os.environ, **GIT_ENV}).stdout.strip()


def project_files() -> list[str]:
    """The files of this project that git tracks (the working tree's copy of each), or without
    git the source folders and pyproject.toml."""
    proc = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True,
                          check=False)
    if proc.returncode == 0:
        names = proc.stdout.decode().split("\0")
    else:
        names = [str(p.relative_to(ROOT)) for top in ("ontology", "data", "shapes", "scripts")
                 for p in (ROOT / top).rglob("*") if "__pycache__" not in p.parts]
        names.append("pyproject.toml")
    return [f for f in names if f and (ROOT / f).is_file()]


def copy_project(target: Path) -> Path:
    for name in project_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, target / name)
    return target


def set_version(repo: Path, version: str) -> None:
    path = repo / "data" / "releases" / "releases.toml"
    text = path.read_text()
    _, _, rest = text.partition("\n[[release]]")
    path.write_text(REGISTRY_HEAD.format(version=version) + (("\n[[release]]" + rest)
                                                             if rest else ""))


def plant(repo: Path) -> None:
    agencies = repo / "data" / "agencies.ttl"
    text = agencies.read_text()
    assert 'rdfs:label "UK Space Agency"@en ;' in text
    agencies.write_text(text.replace('rdfs:label "UK Space Agency"@en ;',
                                     'rdfs:label "United Kingdom Space Agency"@en ;', 1))
    persons = repo / "data" / "persons.ttl"
    persons.write_text(persons.read_text() + ADDED)
    links = repo / "data" / "wikidata-links.ttl"
    text = links.read_text()
    cut = re.sub(r"\nlink:agency-aem\n.*?\n\.\n", "\n", text, count=1, flags=re.DOTALL)
    assert cut != text
    links.write_text(cut)


def run(*args: str) -> subprocess.CompletedProcess:
    import sys

    proc = subprocess.run([sys.executable, "-m", "isecg_kg", *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"isecg-kg {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stderr}")
    return proc


def make_fixture_releases(base: Path) -> Path:
    """A repository under `base` with releases 1.0.0 and 1.1.0 kept in its dist/releases/."""
    repo = copy_project(base / "repo")
    (repo / "data" / "releases" / "releases.toml").write_text(
        REGISTRY_HEAD.format(version="1.0.0"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fixture: sources of 1.0.0")
    releases = repo / "dist" / "releases"
    run("-q", "release", "1.0.0", "--source", str(repo), "--releases", str(releases),
        "--issued", "2026-12-01")
    git(repo, "commit", "-q", "-am", "fixture: release 1.0.0")
    plant(repo)
    set_version(repo, "1.1.0")
    git(repo, "commit", "-q", "-am", "fixture: planted changes, version 1.1.0")
    run("-q", "release", "1.1.0", "--source", str(repo), "--releases", str(releases),
        "--issued", "2026-12-02")
    git(repo, "commit", "-q", "-am", "fixture: release 1.1.0")
    return repo
