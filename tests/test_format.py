"""The committed Turtle is already in the canonical layout, and `format` produces it."""

from __future__ import annotations

import shutil

from conftest import ROOT, run_cli


def test_committed_files_are_formatted():
    proc = run_cli("format", "--check")
    assert proc.returncode == 0, proc.stdout


def test_format_rewrites_a_messy_file_to_the_canonical_layout(tmp_path):
    for d in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / d, tmp_path / d)
    messy = tmp_path / "data" / "persons.ttl"
    original = messy.read_text()
    messy.write_text(original.replace("\n    ", "\n  ").replace(" ;\n", " ;\n\n"))
    assert run_cli("format", "--check", "--source", str(tmp_path)).returncode == 1
    assert run_cli("-q", "format", "--source", str(tmp_path)).returncode == 0
    assert messy.read_text() == original
    assert run_cli("format", "--check", "--source", str(tmp_path)).returncode == 0
