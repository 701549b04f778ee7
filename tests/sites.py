"""The linked-data site as the tests serve it: the routes of web/pages/linkeddata.py alone, on a
real server in a subprocess (``serve_linked_data``), over the session's build or
$ISECG_TEST_DIST (``build_dir``), and the formats its documents are read in."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import pyoxigraph as ox
from isecg_kg.processes import free_port, running

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
BASE = "https://w3id.org/isecg/"
OX_PARSE = {"ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD,
            "nt": ox.RdfFormat.N_TRIPLES, "rdf": ox.RdfFormat.RDF_XML}


# --- a real server of the linked-data routes ------------------------------------------------------

# The server runs in its own process: in a thread it would share the GIL with the test client
# and every request would wait out thread switches (about 18 ms each, measured here).
SERVE = """
import sys, pyoxigraph as ox, uvicorn
from pathlib import Path
from isecg_kg.web.context import Site
from isecg_kg.web.pages.linkeddata import app
dist = Path(sys.argv[1])
store = ox.Store()
store.bulk_load(path=str(dist / "isecg.nq"), format=ox.RdfFormat.N_QUADS)
uvicorn.run(app(Site.from_dist(dist), store), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", lifespan="off")
"""


@contextlib.contextmanager
def serve_linked_data(dist: Path, tmp: Path):
    """The linked-data routes alone, served by uvicorn on 127.0.0.1 in a subprocess."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts")}
    with running([sys.executable, "-c", SERVE, str(dist), str(port)], url + "/void",
                 tmp / "linked-data-server.log", timeout=30, env=env):
        yield url


def build_dir(request) -> Path:
    """The build to serve: $ISECG_TEST_DIST when set (to iterate quickly), else a fresh build."""
    override = os.environ.get("ISECG_TEST_DIST")
    return Path(override) if override else request.getfixturevalue("dist")


def load_store(dist: Path) -> ox.Store:
    s = ox.Store()
    s.bulk_load(path=str(dist / "isecg.nq"), format=ox.RdfFormat.N_QUADS)
    return s
