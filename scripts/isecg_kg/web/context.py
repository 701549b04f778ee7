"""What every web route needs to know about the release it serves, built once at start-up."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from isecg_kg.config import DEFAULT_BASE


@dataclass(frozen=True)
class Site:
    dist: Path          # the build output directory being served (read-only)
    base: str           # public base IRI whose paths map onto this server, e.g. https://w3id.org/isecg/
    version: str        # dataset version: SHA-256 of SHA256SUMS; the ETag of every response
    data_base: str = DEFAULT_BASE  # the base IRI the data was minted with

    @classmethod
    def from_dist(cls, dist: Path, base: str | None = None) -> Site:
        sums = Path(dist) / "SHA256SUMS"
        version = hashlib.sha256(sums.read_bytes()).hexdigest()[:32]
        return cls(dist=Path(dist), base=base or DEFAULT_BASE, version=version)

    def path_of(self, iri: str) -> str | None:
        """The server path of an IRI below the data's base, or None if it is not ours."""
        if iri.startswith(self.data_base):
            return "/" + iri[len(self.data_base):]
        return None

    def iri_of(self, path: str) -> str:
        """The IRI in the data that a server path stands for."""
        return self.data_base + path.lstrip("/")
