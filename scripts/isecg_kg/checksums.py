"""SHA-256 of files and the SHA256SUMS a build and a release carry (``sha256sum -c`` reads it):
written by the build wing, checked by the release code and by the server before it serves."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path


def sha256(path: Path) -> str:
    with open(path, "rb") as f:  # in chunks: a dump can be larger than we want in memory
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_sums(out: Path, digest: Callable[[Path], str] = sha256) -> Path:
    """SHA256SUMS over every file of the release (site/ excluded), as `sha256sum -c` reads it."""
    files = sorted(p for p in out.iterdir() if p.is_file() and p.name != "SHA256SUMS")
    target = out / "SHA256SUMS"
    target.write_text("".join(f"{digest(p)}  {p.name}\n" for p in files), encoding="ascii")
    return target
