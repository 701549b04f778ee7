"""`isecg-kg synth`: whole copies of the project's data, renamed apart, that pass the shapes and
build, with the real graph's proportions."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from bench.synth import count_triples, proportions, write_synthetic
from conftest import ROOT, run_cli
from isecg_kg.config import ID_BASE


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "data").glob("*.ttl"))}


def test_synth_10k_validates_and_builds(tmp_path):
    src = tmp_path / "src"
    run_cli("synth", "--triples", "10000", "--out", str(src), check=True)
    per_copy, n = count_triples(ROOT), count_triples(src)
    assert n % per_copy == 0 and abs(n - 10_000) <= per_copy / 2  # whole copies, the nearest
    out = tmp_path / "dist"  # the build validates first (and fails on any violation)
    run_cli("--quiet", "build", "--source", str(src), "--out", str(out), check=True)
    assert (out / "isecg.nq").stat().st_size > 0


def test_synth_has_the_real_graphs_proportions(tmp_path):
    """Entities per class are the real graph's times the copies, so every shape meets its
    targets at scale in the same proportions (the generator written by hand had no claims,
    events or intervals at all)."""
    real = proportions(ROOT)
    per_copy = real["data_triples"]
    synth = proportions(write_synthetic(tmp_path / "s", 3 * per_copy, seed=0))
    assert synth["data_triples"] == 3 * per_copy
    assert synth["classes"] == {c: 3 * k for c, k in real["classes"].items()}


def test_synth_is_deterministic_for_a_seed(tmp_path):
    a = _files(write_synthetic(tmp_path / "a", 3000, seed=7))
    b = _files(write_synthetic(tmp_path / "b", 3000, seed=7))
    c = _files(write_synthetic(tmp_path / "c", 3000, seed=8))
    assert a == b
    assert a != c  # the seed orders the subject blocks


def test_synth_never_reuses_real_entity_iris_or_text(tmp_path):
    # two copies, however much data a copy holds (7,000 triples were one copy once it held 6,554)
    src = write_synthetic(tmp_path / "s", 2 * count_triples(ROOT), seed=0)
    texts = set()
    for path in (src / "data").glob("*.ttl"):
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            for term in (t.subject, t.object):
                if isinstance(term, ox.NamedNode) and term.value.startswith(ID_BASE):
                    assert term.value.rsplit("/", 1)[1].startswith("synth-"), term
            assert t.subject.value.startswith(ID_BASE)
            if isinstance(t.object, ox.Literal) and t.object.language:
                assert t.object.value.endswith(")") and "(synth 0000" in t.object.value
                texts.add(t.object.value)
    # two copies: the same label twice, told apart
    assert any(x.replace("(synth 00000)", "(synth 00001)") in texts for x in texts)


def test_synth_too_small_is_refused_with_a_fix(tmp_path):
    proc = run_cli("synth", "--triples", "10", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and "at least 200" in proc.stderr
