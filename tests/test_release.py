"""Kept releases: rebuilt byte for byte from their commit, never modified by a later build,
refused when the sources or the registry do not allow them, and a clear message without git
history. The real release 0.1.0 (commit 5e5c9d8) is rebuilt and checked against the registry."""

from __future__ import annotations

import hashlib
import shutil
import stat
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ROOT, run_cli
from isecg_kg.builder.release import check_directory, parse_registry, read_registry, resolve
from isecg_kg.errors import InputError, ReleaseError
from releases import git, set_version

DCAT = "http://www.w3.org/ns/dcat#"
DATASET = "https://w3id.org/isecg/void#dataset"  # releases before 0.3.0


def digests(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_release_0_1_0_is_rebuilt_byte_identical_from_its_commit(tmp_path):
    registry = read_registry(ROOT)
    entry = registry.entry("0.1.0")
    assert entry is not None and entry.commit.startswith("5e5c9d8")
    try:
        resolve(ROOT, entry.commit)
    except ReleaseError as exc:
        pytest.skip(f"no git history here: {exc}")
    proc = run_cli("release", "0.1.0", "--releases", str(tmp_path), check=True)
    assert "rebuilt from commit 5e5c9d8" in proc.stderr
    assert hashlib.sha256((tmp_path / "0.1.0" / "SHA256SUMS").read_bytes()).hexdigest() == \
        entry.sha256sums
    assert check_directory(tmp_path / "0.1.0", entry) == []
    # what commit 5e5c9d8 built: 2,078 asserted triples (README of that commit)
    void = list(ox.parse(path=str(tmp_path / "0.1.0" / "void.ttl"), format=ox.RdfFormat.TURTLE))
    assert any(t.predicate.value == "http://rdfs.org/ns/void#triples" and
               t.subject.value == DATASET and t.object.value == "2078" for t in void)
    assert "Release 0.1.0: the first release" in \
        (tmp_path / "0.1.0" / "changelog.md").read_text()


def test_fixture_releases_rebuild_byte_identical(fixture_repo, tmp_path):
    kept = fixture_repo / "dist" / "releases"
    run_cli("release", "--source", str(fixture_repo), "--releases", str(tmp_path), check=True)
    for version in ("1.0.0", "1.1.0"):
        assert digests(tmp_path / version) == digests(kept / version)
    registry = read_registry(fixture_repo)
    assert [e.version for e in registry.releases] == ["1.0.0", "1.1.0"]
    assert [e.issued for e in registry.releases] == ["2026-12-01", "2026-12-02"]


def test_a_release_names_its_version_and_the_one_before(fixture_repo):
    void = list(ox.parse(path=str(fixture_repo / "dist" / "releases" / "1.1.0" / "void.ttl"),
                         format=ox.RdfFormat.TURTLE))
    about = {(t.predicate.value, t.object.value) for t in void
             if t.subject.value == "https://w3id.org/isecg/release/1.1.0"}
    assert (DCAT + "version", "1.1.0") in about
    assert (DCAT + "previousVersion", "https://w3id.org/isecg/release/1.0.0") in about
    assert (DCAT + "inSeries", "https://w3id.org/isecg/releases") in about
    first = fixture_repo / "dist" / "releases" / "1.0.0" / "void.ttl"
    assert not any(t.predicate.value == DCAT + "previousVersion"
                   for t in ox.parse(path=str(first), format=ox.RdfFormat.TURTLE))


def test_a_release_keeps_its_quickstatements_with_the_placeholder(fixture_repo):
    """From the release after 0.2.0 on, a release's files hold the QuickStatements of ISECG's
    memberships, listed in its SHA256SUMS and described by its VoID (kept 0.1.0 and 0.2.0 are
    rebuilt byte for byte from their commits, so never gain it)."""
    from isecg_kg.builder.quickstatements import FILE, PLACEHOLDER

    kept = fixture_repo / "dist" / "releases" / "1.1.0"
    assert check_directory(kept, read_registry(fixture_repo).entry("1.1.0")) == []
    listed = {ln.split("  ", 1)[1] for ln in (kept / "SHA256SUMS").read_text().splitlines()}
    assert FILE in listed
    lines = (kept / FILE).read_text(encoding="utf-8").splitlines()
    assert lines and all(ln.split("\t")[1:3] == ["P463", PLACEHOLDER] for ln in lines)
    void = list(ox.parse(path=str(kept / "void.ttl"), format=ox.RdfFormat.TURTLE))
    url = f"https://w3id.org/isecg/release/1.1.0/{FILE}"
    dist = next(t.subject for t in void
                if t.predicate.value == DCAT + "downloadURL" and t.object.value == url)
    assert any(t.subject == dist and t.predicate.value == DCAT + "mediaType"
               and t.object.value.endswith("/text/plain") for t in void)


def test_a_later_build_never_modifies_a_kept_release(fixture_repo, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(fixture_repo, repo)
    kept = repo / "dist" / "releases"
    before = digests(kept)
    assert all(not (p.stat().st_mode & stat.S_IWUSR) for p in kept.rglob("*") if p.is_file())
    run_cli("build", "--source", str(repo), "--out", str(repo / "dist"), check=True)
    run_cli("build", "--site", "--source", str(repo), "--out", str(repo / "dist"), check=True)
    assert digests(kept) == before
    assert (repo / "dist" / "isecg.nq").is_file()
    # the current build of the released commit is the kept release, file for file
    sums = (repo / "dist" / "SHA256SUMS").read_text().splitlines()
    assert set(sums) <= set((kept / "1.1.0" / "SHA256SUMS").read_text().splitlines())


def test_a_new_release_needs_the_declared_version_committed_sources_and_a_newer_number(
        fixture_repo, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(fixture_repo, repo)
    releases = repo / "dist" / "releases"

    def release(version):
        return run_cli("release", version, "--source", str(repo), "--releases", str(releases))

    proc = release("1.2.0")
    assert proc.returncode == 2
    assert 'declare version 1.1.0, not 1.2.0: set version = "1.2.0"' in proc.stderr
    set_version(repo, "1.2.0")
    proc = release("1.2.0")
    assert proc.returncode == 2 and "declare version 1.1.0" in proc.stderr  # not committed
    git(repo, "commit", "-q", "-am", "version 1.2.0")
    (repo / "data" / "agencies.ttl").write_text((repo / "data" / "agencies.ttl").read_text()
                                                + "\n")
    proc = release("1.2.0")
    assert proc.returncode == 2 and "uncommitted changes" in proc.stderr
    assert "data/agencies.ttl" in proc.stderr
    git(repo, "checkout", "-q", "--", "data/agencies.ttl")
    set_version(repo, "1.0.5")
    git(repo, "commit", "-q", "-am", "version 1.0.5")
    proc = release("1.0.5")
    assert proc.returncode == 2 and "not newer than the last kept release 1.1.0" in proc.stderr
    assert not (releases / "1.0.5").exists() and not (releases / "1.2.0").exists()


def test_a_damaged_kept_release_is_reported_and_never_rewritten(fixture_repo, tmp_path):
    releases = tmp_path / "releases"
    shutil.copytree(fixture_repo / "dist" / "releases", releases)
    target = releases / "1.0.0" / "isecg.ttl"
    target.chmod(0o644)
    target.write_bytes(target.read_bytes() + b"# damaged\n")
    damaged = target.read_bytes()
    proc = run_cli("release", "--source", str(fixture_repo), "--releases", str(releases))
    assert proc.returncode == 2
    assert "isecg.ttl does not match SHA256SUMS" in proc.stderr and "never rewritten" in \
        proc.stderr
    assert target.read_bytes() == damaged


def test_without_git_history_the_message_says_what_to_do(fixture_repo, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(fixture_repo, tree, ignore=shutil.ignore_patterns(".git", "dist"))
    proc = run_cli("release", "--source", str(tree), "--releases", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert "not a git repository" in proc.stderr and "https://w3id.org/isecg/releases" in \
        proc.stderr
    # a commit the history lacks (e.g. a clone of another branch)
    (tmp_path / "other").mkdir()
    git(tmp_path / "other", "init", "-q")
    with pytest.raises(ReleaseError, match="is not in the git history"):
        resolve(tmp_path / "other", "5e5c9d8e8fb2209abcb5a77cfec5689fe69ffcfd")


@pytest.mark.parametrize(("text", "message"), [
    ('version = "1.0"\n', "is not a version MAJOR.MINOR.PATCH"),
    ('version = "1.0.0"\n[[release]]\nversion = "1.0.0"\ncommit = "abc"\nissued = 2026-01-01\n'
     'sha256sums = "' + "0" * 64 + '"\n', "commit = 'abc' is missing or malformed"),
    ('version = [\n', "not TOML"),
    ('version = "2.0.0"\n' + "".join(
        f'[[release]]\nversion = "{v}"\ncommit = "{"a" * 40}"\nissued = 2026-01-01\n'
        f'sha256sums = "{"0" * 64}"\n' for v in ("1.1.0", "1.0.0")), "oldest first"),
])
def test_a_bad_registry_is_named(text, message):
    with pytest.raises(InputError, match=message) as info:
        parse_registry(text, Path("data/releases/releases.toml"))
    assert "data/releases/releases.toml" in str(info.value)


def test_the_registry_declares_the_version_the_build_writes(dist):
    declared = read_registry(ROOT).version
    void = list(ox.parse(path=str(dist / "void.ttl"), format=ox.RdfFormat.TURTLE))
    assert (f"https://w3id.org/isecg/release/{declared}", DCAT + "version", declared) in {
        (t.subject.value, t.predicate.value, t.object.value) for t in void}


def test_the_build_is_unversioned_without_a_registry(tmp_path):
    for top in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / top, tmp_path / top, ignore=shutil.ignore_patterns("releases"))
    run_cli("build", "--source", str(tmp_path), "--out", str(tmp_path / "out"), check=True)
    void = list(ox.parse(path=str(tmp_path / "out" / "void.ttl"), format=ox.RdfFormat.TURTLE))
    assert not any(t.predicate.value == DCAT + "version" for t in void)
