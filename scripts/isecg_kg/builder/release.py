"""Kept releases: versioned, immutable, rebuilt byte-identically from their git commit.

The one place that names versions is ``data/releases/releases.toml`` (the build reads only
``data/*.ttl``, so it is no source of triples):

* ``version`` — the data release the sources of this commit make. The build writes it into the
  VoID (``dcat:version``), and the server shows it on every page, in ``Isecg-Release`` and in
  its ETags. It is the data's version, not the code's (pyproject's).
* ``[[release]]`` entries — the published releases: version, the git commit whose sources *and
  code* built it, the date it was issued, and the SHA-256 of the release's SHA256SUMS (which
  lists every file of it, so this one digest fixes every byte).

``isecg-kg release VERSION`` makes ``<releases>/VERSION/`` (by default ``dist/releases/``):
``git archive COMMIT`` is unpacked into a temporary directory and built there with that
commit's own code (``PYTHONPATH`` points at its ``scripts/``) and the current virtualenv (the
dependencies are pinned), so a release made from an old commit comes out as it did then. The
changelog against the previous release (``isecg_kg.builder.diff`` and ``.changelog``) is added,
then SHA256SUMS over it all, by that commit's own release code too where it has one (0.1.0
predates it), so a later change of the changelog's code or of the prefixes never alters a
published release. A new VERSION must be what ``releases.toml`` declares at HEAD, with nothing
uncommitted; its entry is appended to ``releases.toml`` (to be committed). A kept VERSION is
rebuilt and checked against its entry; an existing directory is only ever checked, never rewritten.
Without history (a source archive, a shallow clone) a kept release cannot be rebuilt: the error
says so and where to download it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from isecg_kg.checksums import sha256, write_sums
from isecg_kg.config import DEFAULT_BASE
from isecg_kg.errors import InputError, ReleaseError

REGISTRY = Path("data/releases/releases.toml")
VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
HEX40, HEX64 = re.compile(r"[0-9a-f]{40}"), re.compile(r"[0-9a-f]{64}")
CHANGELOG = ("changelog.md", "changelog.html", "changelog.ttl")
BUILD_TIMEOUT = 600


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


@dataclass(frozen=True)
class Entry:
    version: str
    commit: str
    issued: str        # YYYY-MM-DD
    sha256sums: str    # SHA-256 of the release's SHA256SUMS


@dataclass(frozen=True)
class Registry:
    path: Path
    version: str | None            # what the sources declare; None without a registry
    releases: tuple[Entry, ...]    # oldest first

    def entry(self, version: str) -> Entry | None:
        return next((e for e in self.releases if e.version == version), None)

    def previous(self, version: str) -> Entry | None:
        """The newest kept release older than `version`."""
        older = [e for e in self.releases if version_key(e.version) < version_key(version)]
        return older[-1] if older else None

    @property
    def current(self) -> Entry | None:
        return self.releases[-1] if self.releases else None


def parse_registry(text: str, path: Path) -> Registry:
    """The registry in `text`; InputError naming the file (and line) at fault."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not TOML: {exc}", path=str(path)) from None
    version = doc.get("version")
    if version is not None and (not isinstance(version, str) or not VERSION.fullmatch(version)):
        raise InputError(f"version = {version!r} is not a version MAJOR.MINOR.PATCH",
                         path=str(path))
    entries = []
    for i, item in enumerate(doc.get("release", []), 1):
        where = f"[[release]] number {i}"
        fields = {k: item.get(k) for k in ("version", "commit", "issued", "sha256sums")}
        if isinstance(fields["issued"], dt.date):
            fields["issued"] = fields["issued"].isoformat()
        checks = {"version": VERSION, "commit": HEX40, "sha256sums": HEX64,
                  "issued": re.compile(r"\d{4}-\d{2}-\d{2}")}
        for key, pattern in checks.items():
            if not isinstance(fields[key], str) or not pattern.fullmatch(fields[key]):
                raise InputError(f"{where}: {key} = {fields[key]!r} is missing or malformed",
                                 path=str(path))
        entries.append(Entry(**fields))
    versions = [e.version for e in entries]
    if versions != sorted(versions, key=version_key) or len(set(versions)) != len(versions):
        raise InputError(f"releases must be listed oldest first, each once: {versions}",
                         path=str(path))
    return Registry(path, version, tuple(entries))


def read_registry(source: Path) -> Registry:
    """The registry of a source tree; an empty one (no version) when it has none."""
    path = Path(source) / REGISTRY
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Registry(path, None, ())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read it: {exc}", path=str(path)) from None
    return parse_registry(text, path)


# --- git ----------------------------------------------------------------------------------------

def _git(repo: Path, *args: str, binary: bool = False):
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                              check=False, timeout=120)
    except FileNotFoundError:
        raise ReleaseError("git is not installed; releases are rebuilt from the git "
                           "history") from None
    if proc.returncode != 0:
        return None
    return proc.stdout if binary else proc.stdout.decode().strip()


def resolve(repo: Path, commit: str) -> str:
    """The full hash of `commit`, or ReleaseError saying why the history cannot give it."""
    if _git(repo, "rev-parse", "--git-dir") is None:
        raise ReleaseError(f"{repo}: not a git repository, so no release can be rebuilt from "
                           "its commit; clone the repository with its history, or download "
                           f"kept releases from {DEFAULT_BASE}releases")
    full = _git(repo, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    if full is None:
        shallow = _git(repo, "rev-parse", "--is-shallow-repository") == "true"
        raise ReleaseError(
            f"commit {commit} is not in the git history of {repo}"
            + (" (a shallow clone: run `git fetch --unshallow`)" if shallow else
               " (fetch the branch that holds it)")
            + f"; or download the release from {DEFAULT_BASE}releases")
    return full


def build_commit(repo: Path, commit: str, out: Path,
                 assemble_into: tuple[Path, str, Path | None] | None = None) -> None:
    """Build `commit` as it was: its tree from `git archive`, built by its own code. With
    `assemble_into` (target, version, previous release directory) also make the release
    directory, by that commit's own release code when it has one (so a published changelog
    never depends on later code), else by this code (release 0.1.0 predates it)."""
    out = Path(out).absolute()
    data = _git(repo, "archive", "--format=tar", commit, binary=True)
    if data is None:
        raise ReleaseError(f"git archive {commit} failed in {repo}")
    with tempfile.TemporaryDirectory(prefix="isecg-release-") as tmp:
        tree = Path(tmp) / "tree"
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(tree, filter="data")
        env = {**os.environ, "PYTHONPATH": str(tree / "scripts"), "PYTHONHASHSEED": "0"}
        env.pop("ISECG_BASE", None)
        code = ("import sys; from isecg_kg.cli import main; sys.exit(main(sys.argv[1:]))")
        proc = subprocess.run([sys.executable, "-c", code, "-q", "build", "--source", str(tree),
                               "--out", str(out)], cwd=tree, env=env, capture_output=True,
                              text=True, timeout=BUILD_TIMEOUT, check=False)
        if proc.returncode != 0:
            raise ReleaseError(f"the build of commit {commit[:12]} failed (exit "
                               f"{proc.returncode}): {proc.stderr.strip()[-2000:]}")
        if assemble_into is None:
            return
        target, version, previous = assemble_into
        package = tree / "scripts" / "isecg_kg"
        module = next((m for f, m in (("builder/release.py", "isecg_kg.builder.release"),
                                      ("release.py", "isecg_kg.release"))
                       if (package / f).is_file()), None)
        if module is None:
            assemble(out, target, version, previous)
            return
        code = (f"import sys; from pathlib import Path; from {module} import assemble; "
                "assemble(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], "
                "Path(sys.argv[4]) if sys.argv[4] else None)")
        proc = subprocess.run([sys.executable, "-c", code, str(out), str(target), version,
                               str(previous) if previous else ""], cwd=tree, env=env,
                              capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                              check=False)
        if proc.returncode != 0:
            raise ReleaseError(f"making the release directory with the code of commit "
                               f"{commit[:12]} failed (exit {proc.returncode}): "
                               f"{proc.stderr.strip()[-2000:]}")


# --- release directories ------------------------------------------------------------------------

def sums_digest(directory: Path) -> str:
    return hashlib.sha256((Path(directory) / "SHA256SUMS").read_bytes()).hexdigest()


def check_directory(directory: Path, entry: Entry) -> list[str]:
    """What is wrong with a kept release directory (empty: it is the release, byte for byte)."""
    directory = Path(directory)
    sums_path = directory / "SHA256SUMS"
    if not sums_path.is_file():
        return ["SHA256SUMS is missing"]
    problems = []
    if sums_digest(directory) != entry.sha256sums:
        problems.append(f"SHA256SUMS has SHA-256 {sums_digest(directory)[:16]}…, the registry "
                        f"says {entry.sha256sums[:16]}…")
    listed = set()
    for line in sums_path.read_text(encoding="ascii", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        listed.add(name)
        path = directory / name
        if "/" in name or not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256(path) != digest:
            problems.append(f"{name} does not match SHA256SUMS")
    extra = sorted(p.name for p in directory.iterdir() if p.name not in listed | {"SHA256SUMS"})
    problems += [f"{name} is not part of the release" for name in extra]
    return problems


def assemble(build: Path, target: Path, version: str, previous: Path | None) -> None:
    """The release directory `target` (written beside it, then renamed into place): the build's
    files, the changelog against the `previous` release directory, SHA256SUMS over them all."""
    from isecg_kg.builder.changelog import write_changelog
    from isecg_kg.builder.diff import diff_releases

    stage = Path(tempfile.mkdtemp(prefix=f".{version}.tmp-", dir=target.parent))
    try:
        for path in sorted(Path(build).iterdir()):
            if path.is_file() and path.name != "SHA256SUMS":
                shutil.copyfile(path, stage / path.name)
        changelog = diff_releases(previous, stage)
        changelog.new = version  # the release's name, even when the build's VoID names none
        write_changelog(changelog, stage)
        write_sums(stage)
        for path in stage.iterdir():
            path.chmod(0o444)  # kept releases are read-only; nothing rewrites them
        stage.chmod(0o755)
        stage.rename(target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def make(repo: Path, entry_version: str, commit: str, target: Path,
         previous: Path | None) -> str:
    """Build `commit` into the release directory `target`; the digest of its SHA256SUMS."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="isecg-build-", dir=target.parent) as tmp:
        build_commit(repo, commit, Path(tmp) / "build",
                     assemble_into=(target, entry_version,
                                    Path(previous).absolute() if previous else None))
    return sums_digest(target)


def ensure(registry: Registry, repo: Path, releases: Path, version: str,
           log=lambda msg: None) -> Path:
    """The kept release `version` in `releases`: checked if present, else rebuilt from its commit
    (its predecessors first, for its changelog) and checked. Never rewrites a directory."""
    entry = registry.entry(version)
    if entry is None:
        raise ReleaseError(f"{version} is not a kept release (see {registry.path})")
    target = Path(releases) / version
    if target.exists():
        problems = check_directory(target, entry)
        if problems:
            raise ReleaseError(f"{target} is not release {version} as the registry records it: "
                               f"{'; '.join(problems)}. It is never rewritten: move it away and "
                               "run `isecg-kg release` again to rebuild it")
        log(f"release {version}: {target} checked, {entry.sha256sums[:16]}…")
        return target
    prev = registry.previous(version)
    prev_dir = ensure(registry, repo, releases, prev.version, log) if prev else None
    commit = resolve(repo, entry.commit)
    digest = make(repo, version, commit, target, prev_dir)
    if digest != entry.sha256sums:
        bad = target.with_name(f".{version}.mismatch")
        shutil.rmtree(bad, ignore_errors=True)
        target.rename(bad)
        raise ReleaseError(f"rebuilding release {version} from commit {commit[:12]} gave "
                           f"SHA256SUMS {digest[:16]}…, the registry says "
                           f"{entry.sha256sums[:16]}… (kept for inspection in {bad}; compare "
                           "it with a downloaded copy: a dependency or the changelog code "
                           "changed its output)")
    log(f"release {version}: rebuilt from commit {commit[:12]} into {target}, checked")
    return target


def append_entry(registry: Registry, entry: Entry) -> None:
    """Add the entry at the end of releases.toml, keeping the rest of the file as it is."""
    text = registry.path.read_text(encoding="utf-8")
    text = text.rstrip("\n") + (
        f'\n\n[[release]]\nversion = "{entry.version}"\ncommit = "{entry.commit}"\n'
        f'issued = {entry.issued}\nsha256sums = "{entry.sha256sums}"\n')
    parse_registry(text, registry.path)  # never write a registry we could not read back
    registry.path.write_text(text, encoding="utf-8")


def cut(source: Path, releases: Path, version: str, issued: str | None = None,
        log=lambda msg: None) -> Entry:
    """Publish `version` from the committed sources at HEAD; return its registry entry."""
    registry = read_registry(source)
    if not VERSION.fullmatch(version):
        raise InputError(f"release version {version!r} is not MAJOR.MINOR.PATCH")
    head = resolve(source, "HEAD")
    text = _git(source, "show", f"HEAD:{REGISTRY.as_posix()}")
    declared = parse_registry(text, registry.path).version if text is not None else None
    if declared != version:
        said = f"version {declared}" if declared else "no version"
        raise ReleaseError(f"the sources at HEAD declare {said}, not {version}: set "
                           f'version = "{version}" in {REGISTRY}, commit, and run again')
    newest = registry.current
    if newest and version_key(version) <= version_key(newest.version):
        raise ReleaseError(f"{version} is not newer than the last kept release "
                           f"{newest.version}")
    dirty = _git(source, "status", "--porcelain", "--untracked-files=all", "--", "ontology",
                 "data", "shapes", "scripts", "pyproject.toml")
    if dirty:
        raise ReleaseError("uncommitted changes in the sources (a release is built from a "
                           "commit, so they would not be in it): " + dirty.splitlines()[0]
                           + (" …" if len(dirty.splitlines()) > 1 else ""))
    if issued is None:
        issued = dt.datetime.now(dt.UTC).date().isoformat()
    elif not re.fullmatch(r"\d{4}-\d{2}-\d{2}", issued):
        raise InputError(f"--issued {issued!r} is not a date YYYY-MM-DD")
    target = Path(releases) / version
    if target.exists():
        raise ReleaseError(f"{target} exists but {version} is not in {registry.path}; "
                           "move it away first (a release directory is never rewritten)")
    prev_dir = ensure(registry, source, releases, newest.version, log) if newest else None
    digest = make(source, version, head, target, prev_dir)
    entry = Entry(version, head, issued, digest)
    append_entry(registry, entry)
    log(f"release {version}: built from commit {head[:12]} into {target}; "
        f"commit {REGISTRY} to publish it")
    return entry


def cli_release(args) -> int:
    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr)

    source, releases = Path(args.source), Path(args.releases)
    registry = read_registry(source)
    if args.version is None:
        if not registry.releases:
            raise ReleaseError(f"no kept releases in {registry.path}")
        for entry in registry.releases:
            ensure(registry, source, releases, entry.version, log)
        return 0
    if registry.entry(args.version):
        ensure(registry, source, releases, args.version, log)
        return 0
    cut(source, releases, args.version, args.issued, log)
    return 0
