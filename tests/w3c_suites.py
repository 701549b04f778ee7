"""The W3C test suites the conformance tests run, fetched from PyPI as data at set-up.

No registry publishes the W3C suites on their own, but two source distributions of libraries
we already pin carry them as plain files, unmodified from the W3C repositories:

* pySHACL's sdist: ``test/resources/sht_tests/core/`` is ``data-shapes-test-suite/tests/core/``
  of w3c/data-shapes (the SHACL Core tests);
* rdflib's sdist: ``test/data/suites/w3c/dawg-data-r2/`` and ``.../sparql11/`` are
  ``sparql/sparql10/`` and ``sparql/sparql11/`` of w3c/rdf-tests (the SPARQL tests).

Both suites are distributed under the W3C Test Suite Licence and the W3C 3-clause BSD Licence
(https://www.w3.org/copyright/test-suites-licence-2023/); they are downloaded into a gitignored
cache (``.cache/w3c-suites/``), never committed. ``scripts/test.sh`` runs ``python
tests/w3c_suites.py`` before pytest; the tests skip, saying so, when a suite is absent.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from isecg_kg.builder.void import sha256

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "w3c-suites"

# name: (pip requirement, sdist file, its SHA-256, {member prefix in the sdist: directory here})
SUITES = {
    "shacl": ("pyshacl==0.40.1", "pyshacl-0.40.1.tar.gz",
              "011e3cf1a68b31747cb762ba3d755ae1bdcc464c8fad0dc212a9adc550719552",
              {"pyshacl-0.40.1/test/resources/sht_tests/core/": "core/"}),
    "sparql": ("rdflib==7.6.0", "rdflib-7.6.0.tar.gz",
               "6c831288d5e4a5a7ece85d0ccde9877d512a3d0f02d7c06455d00d6d0ea379df",
               {"rdflib-7.6.0/test/data/suites/w3c/dawg-data-r2/": "sparql10/",
                "rdflib-7.6.0/test/data/suites/w3c/sparql11/": "sparql11/"}),
}


def suite_dir(name: str) -> Path | None:
    """The unpacked suite, or None when set-up has not fetched it (or fetched other bytes)."""
    d = CACHE / name
    return d if (d / ".sha256").is_file() and (d / ".sha256").read_text() == SUITES[name][2] \
        else None


def fetch(name: str) -> Path:
    """Download the pinned sdist from the package index, check its SHA-256, unpack the suite."""
    req, filename, digest, members = SUITES[name]
    if suite_dir(name):
        return CACHE / name
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / filename
    if not archive.is_file() or sha256(archive) != digest:
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            "--no-binary", ":all:", "--disable-pip-version-check", "-d", tmp,
                            req], check=True)
            shutil.move(str(Path(tmp) / filename), archive)
    got = sha256(archive)
    if got != digest:
        raise SystemExit(f"{archive}: SHA-256 {got}, expected {digest}: not the pinned {req}")
    out = CACHE / name
    shutil.rmtree(out, ignore_errors=True)
    with tarfile.open(archive) as tar:
        for m in tar.getmembers():
            for prefix, target in members.items():
                if m.isfile() and m.name.startswith(prefix):
                    dest = out / target / m.name[len(prefix):]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(tar.extractfile(m).read())
    (out / ".sha256").write_text(digest)
    return out


if __name__ == "__main__":
    for suite in sys.argv[1:] or SUITES:
        print(f"W3C {suite} suite: {fetch(suite)}")
