"""Shared fixtures: one real build of the project's sources per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Third-party material some tests read and never copy: ../shared beside the checkout, or the
# folder ISECG_SHARED names (a git worktree, a CI runner). Tests without it skip, saying this.
SHARED = Path(os.environ.get("ISECG_SHARED") or ROOT.parent / "shared")


def shared_missing(relative: str) -> str:
    """The skip reason of a test that needs SHARED/relative: what is missing, what to set."""
    return (f"{SHARED / relative} not found: set ISECG_SHARED to the folder that holds "
            f"{relative} (the project's shared/ material, ../shared beside a checkout)")
# Test this checkout's code, whatever an installed (editable) copy points at.
sys.path.insert(0, str(ROOT / "scripts"))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT / "scripts")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])


def pytest_addoption(parser):
    parser.addoption("--soak", action="store_true", help="run the long soak tests at full length")


def run_cli(*args: str, cwd: Path | None = None, check: bool = False, timeout: float = 300,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run the real CLI (`python -m isecg_kg ...`) and capture its output."""
    proc = subprocess.run([sys.executable, "-m", "isecg_kg", *args], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=timeout, input=input,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"isecg-kg {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """The build output of the committed sources (built once, read-only for tests)."""
    out = tmp_path_factory.mktemp("build") / "dist"
    run_cli("--quiet", "build", "--source", str(ROOT), "--out", str(out), check=True)
    return out


@pytest.fixture(scope="session")
def store(dist):
    """A pyoxigraph store loaded with the build's N-Quads (default graph = union)."""
    import pyoxigraph as ox

    s = ox.Store()
    s.bulk_load(path=str(dist / "isecg.nq"), format=ox.RdfFormat.N_QUADS)
    return s


@pytest.fixture(scope="session")
def fixture_repo(tmp_path_factory) -> Path:
    """A git repository copying this project with two kept releases, 1.0.0 and 1.1.0, in its
    dist/releases/ and planted changes between them (tests/releases.py)."""
    from releases import make_fixture_releases

    return make_fixture_releases(tmp_path_factory.mktemp("releases"))


@pytest.fixture(scope="module")
def canary():
    """A loopback listener that counts connections (servers.Canary), one per test module."""
    from servers import Canary

    with Canary() as listener:
        yield listener
