"""SHA-256 and SHA256SUMS (checksums.py): what `sha256sum -c` reads, over every file of a build
but the list itself."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
from isecg_kg.checksums import sha256, write_sums


def test_sha256sums_lists_every_file_but_itself_and_sha256sum_agrees(tmp_path):
    (tmp_path / "b.nt").write_bytes(b"<a:b> <c:d> <e:f> .\n")
    (tmp_path / "a.ttl").write_bytes(b"")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("not listed")
    sums = write_sums(tmp_path)
    assert sums.read_text() == (f"{hashlib.sha256(b'').hexdigest()}  a.ttl\n"
                                f"{sha256(tmp_path / 'b.nt')}  b.nt\n")
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum (coreutils) is not installed")
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True,
                           text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
