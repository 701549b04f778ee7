"""`isecg-kg synth`: synthetic sources of our shape that pass the shapes and build."""

from __future__ import annotations

from pathlib import Path

from bench.synth import count_triples, write_synthetic
from conftest import run_cli
from isecg_kg.config import ID_BASE


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "data").glob("*.ttl"))}


def test_synth_10k_validates_and_builds(tmp_path):
    src = tmp_path / "src"
    run_cli("synth", "--triples", "10000", "--out", str(src), check=True)
    assert abs(count_triples(src) - 10_000) < 500
    out = tmp_path / "dist"  # the build validates first (and fails on any violation)
    run_cli("--quiet", "build", "--source", str(src), "--out", str(out), check=True)
    assert (out / "isecg.nq").stat().st_size > 0


def test_synth_is_deterministic_for_a_seed(tmp_path):
    a = _files(write_synthetic(tmp_path / "a", 3000, seed=7))
    b = _files(write_synthetic(tmp_path / "b", 3000, seed=7))
    c = _files(write_synthetic(tmp_path / "c", 3000, seed=8))
    assert a == b
    assert a != c


def test_synth_never_reuses_real_entity_iris(tmp_path):
    src = write_synthetic(tmp_path / "s", 2000, seed=0)
    import pyoxigraph as ox

    for path in (src / "data").glob("*.ttl"):
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            assert t.subject.value.startswith(ID_BASE)
            assert t.subject.value.rsplit("/", 1)[1].startswith("synth-"), t.subject


def test_synth_too_small_is_refused_with_a_fix(tmp_path):
    proc = run_cli("synth", "--triples", "10", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and "at least 200" in proc.stderr
