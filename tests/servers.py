"""Real servers for tests: ours (`python -m isecg_kg serve`) and Oxigraph server as a reference.

Both are subprocesses bound to 127.0.0.1 on a free port, waited for with a bounded poll, and
stopped (terminate, then kill) when the `with` block ends.

    with isecg_server(dist, "--query-timeout", "2") as url:   # url = "http://127.0.0.1:PORT"
        httpx.get(url + "/sparql", params={"query": "ASK {}"})
    with oxigraph_server(dist / "isecg.nq", tmp_path) as url:  # SPARQL at url + "/query"
        ...
    with oxigraph_store(tmp_path / "db") as url:  # writable: Graph Store at url + "/store"
        ...

`app_server(app)` serves an app built in-process (options no flag gives) the same way, in a
thread. The URL `isecg_server` yields is a str that also carries the process (`url.proc`,
`url.pid`) and its log file (`url.log`), for the fault and soak tests. Also here: `raw_request`
(sends a path byte for byte, where httpx would normalise it), `leaks` (what an error body must
never show), `Canary` (a loopback listener that counts connections) and /proc readings of a
process tree.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from isecg_kg.processes import OXIGRAPH_READY, free_port, oxigraph_command, running

ROOT = Path(__file__).resolve().parents[1]


class ServerURL(str):
    """The base URL of a running server, with its process and log file."""

    proc: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextlib.contextmanager
def isecg_server(dist: Path, *args: str, port: int | None = None, startup_timeout: float = 60,
                 env: dict | None = None):
    """Run `python -m isecg_kg serve --dist DIST --port P ARGS...`; yield its base URL."""
    port = port or free_port()
    url = ServerURL(f"http://127.0.0.1:{port}")
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"isecg-serve-{port}.log"
    cmd = [sys.executable, "-m", "isecg_kg", "--quiet", "serve", "--dist", str(dist),
           "--host", "127.0.0.1", "--port", str(port), *args]
    with running(cmd, url + "/healthz", log, timeout=startup_timeout, cwd=ROOT,
                 env={**os.environ, **(env or {})}) as proc:
        url.proc, url.log = proc, log
        yield url


@contextlib.contextmanager
def app_server(app, *, startup_timeout: float = 60):
    """Serve an app built in-process (web.app.create_app, with options no flag gives) with
    uvicorn on 127.0.0.1, in a thread; yield its base URL. Its lifespan starts the workers."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(),
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="app-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@contextlib.contextmanager
def oxigraph_server(nquads: Path, workdir: Path, *, port: int | None = None,
                    startup_timeout: float = 60, union_default_graph: bool = True):
    """Oxigraph server loaded with NQUADS, read-only; yield its base URL (SPARQL at /query).

    With ``union_default_graph`` the default graph is the union of the named graphs, as ours.
    """
    location = Path(workdir) / f"oxigraph-{os.getpid()}-{time.monotonic_ns()}"
    port = port or free_port()
    cmd = oxigraph_command(location, port, load=nquads, union_default_graph=union_default_graph)
    url = f"http://127.0.0.1:{port}"
    with running(cmd, url + OXIGRAPH_READY, location.with_suffix(".log"),
                 timeout=startup_timeout):
        yield url


@contextlib.contextmanager
def oxigraph_store(location: Path, *, port: int | None = None, startup_timeout: float = 60,
                   timeout_s: float | None = None):
    """A writable Oxigraph server (`oxigraph serve`) keeping its data in LOCATION; yield its base
    URL (SPARQL at /query, Graph Store at /store). Empty until something is loaded; started
    again on the same LOCATION and port it holds what it held."""
    port = port or free_port()
    cmd = oxigraph_command(location, port, timeout_s=timeout_s)
    url = f"http://127.0.0.1:{port}"
    with running(cmd, url + OXIGRAPH_READY, Path(location).with_suffix(".log"),
                 timeout=startup_timeout, append=True):
        yield url


# ---- external SPARQL engines for `serve --store`, each from its real package

VIRTUOSO = "/usr/bin/virtuoso-t"  # Debian's virtuoso-opensource (scripts/test.sh installs it)
FUSEKI_VERSION = "5.6.0"  # the newest jena-fuseki-server that runs on Java 17
FUSEKI_JAR = Path(os.environ.get("ISECG_FUSEKI_JAR", ROOT / ".cache" / "fuseki" /
                                 f"jena-fuseki-server-{FUSEKI_VERSION}.jar"))


class Engine(str):
    """A writable SPARQL engine's base URL, with its query endpoint and the Graph Store URL that
    `isecg-kg load --into` takes (credentials included where writes need them)."""

    name: str
    query: str
    graph_store: str


def _engine(base: str, name: str, query: str, graph_store: str) -> Engine:
    engine = Engine(base)
    engine.name, engine.query, engine.graph_store = name, base + query, graph_store
    return engine


@contextlib.contextmanager
def oxigraph_engine(workdir: Path):
    with oxigraph_store(Path(workdir) / "db", timeout_s=5) as url:
        yield _engine(url, "oxigraph", "/query", url + "/store")


VIRTUOSO_INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = .
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 10
[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
"""


@contextlib.contextmanager
def virtuoso_engine(workdir: Path, startup_timeout: float = 120):
    """A fresh Virtuoso 7 database in WORKDIR on loopback ports (its stock `dba` account); SPARQL
    at /sparql, and the Graph Store that takes writes at /sparql-graph-crud-auth, with HTTP Digest
    as dba (the unauthenticated /sparql-graph-crud needs SPARQL_UPDATE granted to nobody)."""
    workdir = Path(workdir)
    http = free_port()
    (workdir / "virtuoso.ini").write_text(VIRTUOSO_INI.format(d=workdir, sql=free_port(),
                                                              http=http))
    url = f"http://127.0.0.1:{http}"
    cmd = [VIRTUOSO, "+foreground", "+configfile", str(workdir / "virtuoso.ini")]
    with running(cmd, url + "/sparql?query=ASK%7B%7D", workdir / "virtuoso.out",
                 timeout=startup_timeout, cwd=workdir):
        yield _engine(url, "virtuoso", "/sparql",
                      f"http://dba:dba@127.0.0.1:{http}/sparql-graph-crud-auth")


@contextlib.contextmanager
def fuseki_engine(workdir: Path, startup_timeout: float = 120):
    """Fuseki (jena-fuseki-server) with an in-memory, updatable dataset /isecg: SPARQL at
    /isecg/query, the Graph Store at /isecg/data."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = ["java", "-Xmx1g", "-jar", str(FUSEKI_JAR), "--localhost", "--port", str(port),
           "--update", "--mem", "/isecg"]
    with running(cmd, url + "/$/ping", Path(workdir) / "fuseki.out", timeout=startup_timeout,
                 cwd=workdir):
        yield _engine(url, "fuseki", "/isecg/query", url + "/isecg/data")


def engine_missing(name: str) -> str | None:
    """Why NAME cannot run here (the package that brings it), or None."""
    import shutil

    if name == "oxigraph" and shutil.which("oxigraph") is None:
        return "the oxigraph command is not installed (pip install -e '.[test]')"
    if name == "virtuoso" and not Path(VIRTUOSO).exists():
        return f"{VIRTUOSO} is not installed (Debian: apt-get install virtuoso-opensource)"
    if name == "fuseki" and not (FUSEKI_JAR.is_file() and shutil.which("java")):
        return (f"{FUSEKI_JAR} or java is missing (scripts/test.sh fetches "
                f"org.apache.jena:jena-fuseki-server:{FUSEKI_VERSION} with mvn)")
    return None


ENGINES = {"oxigraph": oxigraph_engine, "virtuoso": virtuoso_engine, "fuseki": fuseki_engine}


class LoopbackHTTP:
    """A stand-in HTTP server: `handler` (a BaseHTTPRequestHandler class) on 127.0.0.1, served
    on a daemon thread, its request log silenced; `url` is its base plus `path`."""

    def __init__(self, handler, path: str = ""):
        from http.server import ThreadingHTTPServer

        quiet = type(handler.__name__, (handler,), {"log_message": lambda self, *args: None})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), quiet)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- raw HTTP and what a response must never contain


def raw_request(url: str, method: str, path: str, headers: dict | None = None,
                body: bytes | None = None, timeout: float = 30) -> tuple[int, dict, bytes]:
    """One request with the path sent exactly as given (http.client does not normalise it)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None and "Content-Length" not in (headers or {}):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


LEAKS = (b"Traceback", b'File "', b"site-packages", b".py\"", b"Internal Server Error")
# A file-system path starts a token; inside a URL (".../en/home/research...") the same letters
# follow a path segment, and the data cites such URLs.
PATH_LEAK = re.compile(rb"(?<![\w.%-])/(?:work|tmp|root|home)/")


def leaks(body: bytes) -> list[bytes]:
    """What an answer shows that it must not: a traceback, a file-system path, a crash page."""
    return [m for m in LEAKS if m in body] + PATH_LEAK.findall(body)


# ---- a canary: a loopback listener that counts every connection made to it


class Canary:
    """Listens on 127.0.0.1 (and ::1 when the host has IPv6) on one port; counts connections.

    ``settled()`` is the count once every connection made before the call has been accepted
    (a connection of its own goes through each queue last: accept is first in, first out), so a
    check that none came is no race against the listener's thread."""

    def __init__(self):
        self._accepted = 0
        self._sentinels = 0
        self._peers: set = set()
        self.socks = []
        v4 = socket.socket()
        v4.bind(("127.0.0.1", 0))
        self.port = v4.getsockname()[1]
        self.socks.append(v4)
        try:
            v6 = socket.socket(socket.AF_INET6)
            v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            v6.bind(("::1", self.port))
            self.socks.append(v6)
            self.ipv6 = True
        except OSError:
            self.ipv6 = False
        self._stop = threading.Event()
        self._threads = []
        for s in self.socks:
            s.listen(64)
            s.settimeout(0.1)
            t = threading.Thread(target=self._run, args=(s,), daemon=True)
            t.start()
            self._threads.append(t)

    def _run(self, sock):
        while not self._stop.is_set():
            try:
                conn, peer = sock.accept()
            except OSError:
                continue
            self._accepted += 1
            self._peers.add(peer[:2])
            conn.close()

    @property
    def count(self) -> int:
        return self._accepted - self._sentinels

    def settled(self, timeout: float = 30) -> int:
        """The connections made so far, every one queued before this call counted."""
        for listening in self.socks:
            with socket.socket(listening.family) as mine:
                mine.connect(listening.getsockname()[:2])
                me = mine.getsockname()[:2]
                deadline = time.monotonic() + timeout
                while me not in self._peers and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert me in self._peers, "the canary's listener did not accept in time"
                self._sentinels += 1
        return self.count

    def close(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        for s in self.socks:
            s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- a process tree read from /proc (no psutil)

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # fields from 3 (state) on; comm may hold spaces


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None and int(st[1]) == pid:
                out.append(int(entry.name))
    return sorted(out)


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return sorted(found)


def forkserver_children(server_pid: int) -> list[int]:
    """The processes a server started through its multiprocessing forkserver: query workers,
    SERVICE workers and reconciliation scorers."""
    workers = []
    for kid in children(server_pid):
        try:
            cmd = Path(f"/proc/{kid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"forkserver" in cmd:
            workers += [w for w in children(kid) if alive(w)]
    return sorted(workers)


def _sealed(pid: int) -> bool | None:
    """Whether a process runs under a seccomp filter (sparql/seal.py), from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Seccomp:"):
                return line.split()[1] == "2"
    except OSError:
        return None
    return None


def query_workers(server_pid: int) -> list[int]:
    """The query worker processes of a server: its forkserver's children that are sealed (no
    network) and run at the normal priority (the reconciliation scorers are niced)."""
    return [w for w in forkserver_children(server_pid)
            if _sealed(w) and (_stat(w) or ["0"] * 17)[16] == "0"]


def service_workers(server_pid: int) -> list[int]:
    """The workers that may connect (queries with an approved SERVICE): not sealed."""
    return [w for w in forkserver_children(server_pid) if _sealed(w) is False]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, or None once it is gone."""
    st = _stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return None
    return (int(st[11]) + int(st[12])) / _TICK  # utime, stime (fields 14, 15)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
