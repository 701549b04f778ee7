"""Names every module agrees on (IRIs, named graphs, file layout, prefixes) and every default
(time limits, size limits) that the CLI, the server and the engines read.

The base IRI is configurable (``ISECG_BASE`` or ``--base``); everything below it is readable
paths per kind of thing (see README, "IRI scheme"). Nothing here imports an RDF library, so
``isecg-kg --help`` stays instant.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_BASE = "https://w3id.org/isecg/"
BASE = os.environ.get("ISECG_BASE", DEFAULT_BASE)

ONTOLOGY_IRI = DEFAULT_BASE + "ontology"
ONTOLOGY_NS = ONTOLOGY_IRI + "#"
ID_BASE = DEFAULT_BASE + "id/"
VOID_IRI = DEFAULT_BASE + "void"
DATASET_IRI = VOID_IRI + "#dataset"
SERIES_IRI = DEFAULT_BASE + "releases"  # the dcat:DatasetSeries of every release


# The one dcat:Catalog, its publisher and contact point: described in full by the releases
# catalogue (/releases), named by every release's VoID
CATALOG_IRI = SERIES_IRI + "#catalog"
PUBLISHER_IRI = SERIES_IRI + "#publisher"
CONTACT_IRI = SERIES_IRI + "#contact"
WIKIDATA_DATASET = VOID_IRI + "#wikidata"  # Wikidata, as the target of our linkset


def release_iri(version: str) -> str:
    """The kept release `version` (a dcat:Dataset of the series)."""
    return f"{DEFAULT_BASE}release/{version}"


def dataset_iri(version: str | None) -> str:
    """The dataset a build describes: the release its sources declare, else (no registry) the
    unversioned build at DATASET_IRI."""
    return release_iri(version) if version else DATASET_IRI


def files_base(version: str | None) -> str:
    """Where the files of that dataset are published: /release/VERSION/, else /dumps/."""
    return release_iri(version) + "/" if version else DEFAULT_BASE + "dumps/"


# Named graphs of the N-Quads dump; the SPARQL default graph is their union.
GRAPH_ONTOLOGY = DEFAULT_BASE + "graph/ontology"
GRAPH_DATA = DEFAULT_BASE + "graph/data"
GRAPH_INFERRED = DEFAULT_BASE + "graph/inferred"
GRAPHS = (GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_INFERRED)

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parent
QUERIES_DIR = PACKAGE_DIR / "sparql" / "queries"
RULES_DIR = PACKAGE_DIR / "builder" / "rules"
DEFAULT_OUT = Path("dist")  # relative to the project, see default_dist()


def default_dist(cwd: Path | None = None) -> Path:
    """Where builds are written and read unless --dist / --out say otherwise: the project's
    dist/ when the command runs inside the project (this checkout), else a per-user data
    directory, $XDG_DATA_HOME/isecg-kg/dist (~/.local/share/isecg-kg/dist), so that a command
    run in some other folder never writes a dist/ there."""
    cwd = Path(cwd or Path.cwd()).resolve()
    if cwd == PROJECT_ROOT or PROJECT_ROOT in cwd.parents:
        return PROJECT_ROOT / DEFAULT_OUT
    data = os.environ.get("XDG_DATA_HOME") or ""
    base = Path(data) if data and Path(data).is_absolute() else Path.home() / ".local" / "share"
    return base / "isecg-kg" / "dist"

# Source layout below a --source directory.
ONTOLOGY_GLOB = "ontology/*.ttl"
DATA_GLOB = "data/*.ttl"
SHAPES_GLOB = "shapes/*.ttl"

PREFIXES = {
    "isecg": ONTOLOGY_NS,
    "agency": ID_BASE + "agency/",
    "country": ID_BASE + "country/",
    "region": ID_BASE + "region/",
    "group": ID_BASE + "group/",
    "doc": ID_BASE + "document/",
    "membership": ID_BASE + "membership/",
    "contribution": ID_BASE + "contribution/",
    "event": ID_BASE + "event/",
    "instant": ID_BASE + "instant/",
    "period": ID_BASE + "period/",
    "theme": ID_BASE + "theme/",
    "destination": ID_BASE + "destination/",
    "pathway": ID_BASE + "pathway/",
    "person": ID_BASE + "person/",
    "distribution": ID_BASE + "distribution/",
    "link": ID_BASE + "link/",
    "claim": ID_BASE + "claim/",
    "name": ID_BASE + "name/",
    "quotation": ID_BASE + "quotation/",
    "meeting": ID_BASE + "meeting/",
    "participation": ID_BASE + "participation/",
    "place": ID_BASE + "place/",
    "post": ID_BASE + "post/",
    "tenure": ID_BASE + "tenure/",
    "unit": ID_BASE + "unit/",
    "activity": ID_BASE + "activity/",
    "organization": ID_BASE + "organization/",
    "dispute": ID_BASE + "dispute/",
    "technology": ID_BASE + "technology/",
    "wd": WIKIDATA_ENTITY,
    "org": "http://www.w3.org/ns/org#",
    "time": "http://www.w3.org/2006/time#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "schema": "https://schema.org/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
    "vann": "http://purl.org/vocab/vann/",
}

# Prefixes every SPARQL query may use without declaring them (as the Wikidata Query Service
# predeclares its own): the common vocabularies and ours. A query's own PREFIX overrides one.
PREDECLARED = {p: PREFIXES[p] for p in (
    "rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "foaf", "org", "prov", "time", "schema",
    "dcat", "void", "wd", "isecg", "agency", "country", "region", "group", "doc", "membership",
    "contribution", "event", "instant", "period", "theme", "destination", "pathway", "person",
    "link")}
PREDECLARED["wdt"] = "http://www.wikidata.org/prop/direct/"

# --- defaults: every limit and time budget, read by the CLI, the server and the engines ------

# SPARQL queries (`query --timeout`, `serve --query-timeout` ...)
QUERY_TIMEOUT = 10.0                 # seconds a query may run
MAX_ROWS = 10_000                    # rows per answer; more are cut and flagged
MAX_QUERY_BYTES = 64 * 1024          # bytes of query text; more is refused (413)
MAX_ANSWER_BYTES = 16 << 20          # bytes per answer: cut at a row, flagged like the row cap
WORKER_MEMORY_MIB = 2048             # address space of each query worker
WORKER_MEMORY = WORKER_MEMORY_MIB << 20  # the same in bytes: a runaway ORDER BY dies, not the host
HEAVY_AFTER = 0.5                    # seconds after which a running query is heavy
ADMISSION_WAIT = 2.0                 # seconds a query waits for a free worker before 503
# workers that may connect, for queries with an approved SERVICE (the others can open no socket)
SERVICE_WORKERS = 1
# The server (`serve`)
MAX_CONNECTIONS = 1024               # connections served at once; uvicorn answers 503 beyond
# connections one client address may hold at once: a quarter of the slots, so slow clients from
# one address cannot take them all; 100-connection load tools still fit (web/http/http11.py)
MAX_CLIENT_CONNECTIONS = 256
# query time per client: seconds of engine time in any window, as WDQS gives 60 s a minute
CLIENT_BUDGET = 60.0
BUDGET_WINDOW = 60.0
# clients any per-client table remembers (budgets, heavy streaks); the least recent go first,
# so a flood of addresses costs bounded memory
MAX_CLIENTS = 100_000
SERVER_MEMORY_MIB = 2048             # resident memory above which queries get 503
HEAD_TIMEOUT = 10.0                  # seconds to send a request line and headers (then 408)
BODY_TIMEOUT = 30.0                  # seconds to send a request body once its head is in
# Wikidata (`link`)
WIKIDATA_TIMEOUT = 30.0              # seconds per request to a Wikidata endpoint
# The build (`build`, `validate`)
REASON_BUDGET = 60.0                 # seconds for reasoning
