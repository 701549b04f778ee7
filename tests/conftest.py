"""Shared fixtures: one real build of the project's sources per test session, the stores and
servers several test modules read (each module gets its own server), and a loopback canary.

Helpers several modules share are modules of their own: servers.py (real servers, /proc),
answers.py (a body read completely), queries.py (SPARQL texts, named queries run), sites.py (the
linked-data site), shacl_fixtures.py (a failing fixture per shape), wikidata_facts.py (what
the Wikidata tests expect), releases.py (kept releases made in a git repository)."""

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


@pytest.fixture(scope="module")
def source_store():
    """The committed ontology and data, each file in the named graph the build uses (no
    build, no reasoning: what the sources say)."""
    import pyoxigraph as ox

    s = ox.Store()
    for path in sorted(ROOT.glob("ontology/*.ttl")):
        s.load(path=str(path), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode("https://w3id.org/isecg/graph/ontology"))
    for path in sorted(ROOT.glob("data/*.ttl")):
        s.load(path=str(path), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode("https://w3id.org/isecg/graph/data"))
    return s


@pytest.fixture(scope="module")
def ld_dist(request) -> Path:
    """The build the linked-data tests serve: $ISECG_TEST_DIST when set, else the session's."""
    from sites import build_dir

    return build_dir(request)


@pytest.fixture(scope="module")
def ld_store(ld_dist):
    from sites import load_store

    return load_store(ld_dist)


# The SPARQL endpoint the /sparql tests share (test_sparql_endpoint, test_query_page,
# test_service_description), its Wikidata mapped to the module's canary. Every named query's whole
# answer fits the row cap (the differential compares whole answers: sources-of-claim asked about
# every claim is 1,267 rows with the data of issue 22), the whole graph does not
# (test_row_cap_signalled_in_header).
ENDPOINT_TIMEOUT = 2.0
ENDPOINT_MAX_ROWS = 5000
ENDPOINT_MAX_BYTES = 8192


@pytest.fixture(scope="module")
def sparql_server(dist, canary):
    from servers import isecg_server

    with isecg_server(dist, "--query-timeout", str(ENDPOINT_TIMEOUT), "--workers", "3",
                      "--max-rows", str(ENDPOINT_MAX_ROWS), "--max-query-bytes",
                      str(ENDPOINT_MAX_BYTES),
                      "--wikidata-endpoint", f"http://127.0.0.1:{canary.port}/sparql") as url:
        yield url


@pytest.fixture(scope="module")
def sparql_client(sparql_server):
    import httpx

    with httpx.Client(base_url=sparql_server, timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def wikidata(tmp_path_factory) -> str:
    """URL of a real Oxigraph server holding the Wikidata-shaped fixture (its /query endpoint),
    standing in for the Wikidata Query Service."""
    import shutil

    from servers import oxigraph_server
    from wikidata_facts import FIXTURE

    if shutil.which("oxigraph") is None:
        pytest.skip("the oxigraph server command is not installed (pip install oxigraph)")
    with oxigraph_server(FIXTURE, tmp_path_factory.mktemp("wikidata"),
                         union_default_graph=False) as url:
        yield url + "/query"


# --- a real browser: Debian's chromium driven by Playwright (never `playwright install`) --------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    pw = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
