"""What every web route needs to know about the release it serves, built once at start-up.

The release is checked against its SHA256SUMS when the server starts (``verify_release``):

* SHA256SUMS missing, unreadable or malformed, or ``isecg.nq`` missing or not matching it: the
  server refuses to start (InputError, exit 2), since every answer comes from that dump.
* any other file it lists missing or not matching: the server starts and says so on stderr and
  in /healthz ("degraded"); that file is answered 503 with the reason, never served.
* a file it does not list is never served.
* a listed file that changes after start-up (size, mtime or inode differ) is hashed again on
  its next request and answered 503 if it no longer matches; a withheld file that changes
  again (restored, say) is hashed again too, and served once it matches.
* SHA256SUMS itself is held to the bytes read at start-up the same way: deleted or replaced
  under a running server, it is answered 503 (it would no longer describe what is served).
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from isecg_kg.checksums import sha256
from isecg_kg.config import DEFAULT_BASE
from isecg_kg.errors import InputError

REQUIRED = ("isecg.nq",)  # the store and every query worker load it
_LINE = re.compile(r"([0-9a-f]{64}) [ *]([^/\\\x00-\x1f]+)")


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class Release:
    """The files of one build, as SHA256SUMS lists them, and which of them may be served."""

    dist: Path
    sums: dict[str, str]                                          # file name -> SHA-256
    problems: dict[str, str] = field(default_factory=dict)        # file name -> why not served
    stamps: dict[str, tuple] = field(default_factory=dict)        # of each verified file
    sums_sha256: str = ""   # of SHA256SUMS as read at start-up (it is held to those bytes)
    _withheld_at: dict[str, tuple | None] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def expected(self, name: str) -> str | None:
        """The SHA-256 a file of this build must have (SHA256SUMS: as read at start-up)."""
        if name == "SHA256SUMS" and self.sums_sha256:
            return self.sums_sha256
        return self.sums.get(name)

    def problem(self, name: str) -> str | None:
        """Why `name` may not be served now, or None when it is a verified file of the build."""
        expected = self.expected(name)
        if expected is None:
            return "not a file of this build"
        path = self.dist / name
        try:
            stamp = _stamp(path)
        except OSError:
            stamp = None
        if name in self.problems and stamp == self._withheld_at.get(name, stamp):
            return self.problems[name]  # withheld, and unchanged since
        if stamp is not None and stamp == self.stamps.get(name):
            return None
        try:
            with self._lock:  # changed since it was checked: check it again
                digest = sha256(path)
        except OSError as exc:
            reason = f"it can no longer be read ({exc.strerror})"
        else:
            if digest == expected:
                self.stamps[name] = stamp
                self.problems.pop(name, None)
                self._withheld_at.pop(name, None)
                return None
            reason = (f"it changed after start-up and no longer matches "
                      f"{'what was read at start-up' if name == 'SHA256SUMS' else 'SHA256SUMS'}"
                      f" (expected {expected[:12]}…, found {digest[:12]}…)")
        self.problems[name] = reason
        self._withheld_at[name] = stamp
        return reason

    def servable(self) -> list[str]:
        return [n for n in self.sums if n not in self.problems]


def verify_release(dist: Path) -> Release:
    """Check every file SHA256SUMS lists; raise InputError when the server cannot serve at all."""
    dist = Path(dist)
    sums_path = dist / "SHA256SUMS"
    try:
        lines = sums_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise InputError(f"cannot read the build's checksums ({why}); rebuild with "
                         "`isecg-kg build`", path=str(sums_path)) from None
    sums: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        m = _LINE.fullmatch(line.strip())
        if not m or m.group(2) in (".", ".."):
            raise InputError("not a line of `sha256sum` output; rebuild with `isecg-kg build`",
                             path=str(sums_path), line=number)
        sums[m.group(2)] = m.group(1)
    release = Release(dist=dist, sums=sums)
    try:  # SHA256SUMS itself: served only while it still holds what was read here
        release.stamps["SHA256SUMS"] = _stamp(sums_path)
        release.sums_sha256 = sha256(sums_path)
    except OSError:
        pass
    for name in REQUIRED:
        if name not in sums:
            raise InputError(f"{name} is not listed; rebuild with `isecg-kg build`",
                             path=str(sums_path))
    for name, expected in sums.items():
        path = dist / name
        try:
            if not path.is_file() or path.is_symlink():
                release.problems[name] = "it is missing from the build"
                release._withheld_at[name] = None  # looked at again once a file is there
                continue
            stamp = _stamp(path)
            digest = sha256(path)
        except OSError as exc:
            release.problems[name] = f"it cannot be read ({exc.strerror})"
            release._withheld_at[name] = None
            continue
        if digest != expected:
            release.problems[name] = (f"it does not match SHA256SUMS (expected {expected[:12]}…, "
                                      f"found {digest[:12]}…): the file is damaged")
            release._withheld_at[name] = stamp
        else:
            release.stamps[name] = stamp
    for name in REQUIRED:
        if name in release.problems:
            raise InputError(f"{release.problems[name]}; every answer comes from it, so the "
                             "server will not start. Rebuild with `isecg-kg build`",
                             path=str(dist / name))
    return release


def release_version(dist: Path) -> str | None:
    """The data release a build says it is (dcat:version in its void.ttl), or None."""
    from isecg_kg.builder.void import version_of

    return version_of(Path(dist) / "void.ttl")


@dataclass(frozen=True)
class Site:
    dist: Path          # the build output directory being served (read-only)
    base: str           # public base IRI whose paths map onto this server, e.g. https://w3id.org/isecg/
    version: str        # "RELEASE-DIGEST": the ETag of every response (digest: of SHA256SUMS)
    data_base: str = DEFAULT_BASE  # the base IRI the data was minted with
    release: Release | None = field(default=None, compare=False)  # verified at start-up
    release_version: str = "unversioned"  # the data release (data/releases/releases.toml)
    kept: tuple = field(default=(), compare=False)  # catalog.Kept, newest first
    published: bool = False  # the build is, file for file, the kept release of its version

    @classmethod
    def from_dist(cls, dist: Path, base: str | None = None, *, source: Path | None = None,
                  releases: Path | None = None) -> Site:
        """The site of the build in `dist`; with `source` (the project root) also the kept
        releases its registry lists, found in `releases` (default dist/releases)."""
        sums = Path(dist) / "SHA256SUMS"
        try:
            text = sums.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the build's checksums ({exc.strerror}); rebuild "
                             "with `isecg-kg build`", path=str(sums)) from None
        digest = hashlib.sha256(text).hexdigest()
        name = release_version(dist) or "unversioned"
        kept: tuple = ()
        if source is not None:
            from isecg_kg.builder.catalog import kept_releases
            from isecg_kg.builder.release import read_registry

            kept = tuple(kept_releases(read_registry(source),
                                       Path(releases or Path(dist) / "releases")))
        mine = next((k for k in kept if k.version == name and k.available), None)
        lines = set(text.decode("ascii", "replace").splitlines())
        published = mine is not None and lines <= {f"{d}  {n}" for n, d in mine.sums.items()}
        return cls(dist=Path(dist), base=base or DEFAULT_BASE, version=f"{name}-{digest[:12]}",
                   release_version=name, kept=kept, published=published)

    def kept_release(self, version: str):
        return next((k for k in self.kept if k.version == version), None)

    def release_info(self) -> dict:
        """What the pages say about the release served: version, date, whether it is the
        published one, the changelog's path and the citation."""
        mine = self.kept_release(self.release_version)
        issued = mine.entry.issued if mine else None
        cite = f"ISECG knowledge graph, release {self.release_version}"
        if mine is not None:
            cite += f" ({issued}). {DEFAULT_BASE}release/{self.release_version}"
        else:
            cite += f" (unpublished build). {DEFAULT_BASE}"
        return {"version": self.release_version, "issued": issued,
                "published": self.published, "registered": mine is not None,
                "changelog": (f"/release/{self.release_version}/changelog.html"
                              if mine is not None and mine.available else None),
                "citation": cite, "count": len(self.kept)}

    def verified(self) -> Site:
        """This site with its release checked against SHA256SUMS (see verify_release)."""
        from dataclasses import replace

        return replace(self, release=verify_release(self.dist))

    def path_of(self, iri: str) -> str | None:
        """The server path of an IRI below the data's base, or None if it is not ours."""
        if iri.startswith(self.data_base):
            return "/" + iri[len(self.data_base):]
        return None

    def iri_of(self, path: str) -> str:
        """The IRI in the data that a server path stands for."""
        return self.data_base + path.lstrip("/")

