"""The one SPARQL-over-HTTP client: how this package talks to a SPARQL endpoint or Graph Store.

* ``client(timeout, ...)``: an httpx client that names us (``USER_AGENT``), with optional
  credentials answered the way the server's challenge asks (``ChallengeAuth``: Basic or Digest);
* ``post_query(client, url, text, ...)``: the SPARQL 1.1 Protocol's POST of a query (form-encoded,
  with its dataset as ``default-graph-uri`` / ``named-graph-uri``), its answer streamed;
* ``bounded(chunks, ...)``: a streamed body read against a deadline (httpx's timeout is per
  read: a server sending a byte every few seconds would never end), at most MAX_REMOTE_BYTES,
  and stopped when the caller is cancelled;
* ``fetch(url, query, accept, timeout)``: a whole answer of a public endpoint
  (``isecg-kg query --endpoint``);
* ``refuse_dtd``: what every XML answer from outside passes before a parser sees it;
* ``split_credentials``: ``http://USER:PASSWORD@HOST/`` into a printable URL and credentials.

Answers are untrusted: what parses them decides what to do with the bytes.
"""

from __future__ import annotations

import contextlib
import time
import xml.parsers.expat
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

import httpx

from isecg_kg import __version__
from isecg_kg.errors import RemoteError

MAX_REMOTE_BYTES = 256 << 20  # an answer larger than this from a remote endpoint is refused
USER_AGENT = f"isecg-kg/{__version__} (ISECG knowledge graph query client; +https://w3id.org/isecg/)"
FORM = "application/x-www-form-urlencoded"


class ChallengeAuth(httpx.Auth):
    """Basic or Digest, whichever the server's 401 challenge names (Virtuoso asks for Digest)."""

    def __init__(self, user: str, password: str):
        self._credentials = (user, password)
        self._chosen: httpx.Auth | None = None

    def auth_flow(self, request):
        if self._chosen is not None:
            yield from self._chosen.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        scheme = response.headers.get("www-authenticate", "").split(" ")[0].lower()
        self._chosen = (httpx.DigestAuth if scheme == "digest" else httpx.BasicAuth)(
            *self._credentials)
        yield from self._chosen.auth_flow(request)


def client(timeout: float | httpx.Timeout, *, credentials: tuple[str, str] | None = None,
           user_agent: str | None = USER_AGENT, headers: dict[str, str] | None = None,
           **options) -> httpx.Client:
    """An httpx client for SPARQL endpoints and Graph Stores: our User-Agent (None: httpx's),
    ``credentials`` answered as the server's challenge asks, more default ``headers`` (e.g. an
    Accept for every request) and any other httpx.Client option (e.g. follow_redirects)."""
    sent = {"User-Agent": user_agent} if user_agent else {}
    sent.update(headers or {})
    return httpx.Client(timeout=timeout, headers=sent or None,
                        auth=ChallengeAuth(*credentials) if credentials else None, **options)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(the URL without its user:password, (user, password) or None)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return bare, (unquote(parts.username), unquote(parts.password or ""))


def post_query(http: httpx.Client, url: str, text: str, *, accept: str,
               default: Iterable[str] = (), named: Iterable[str] = (),
               timeout: float | None = None):
    """The streamed response (a context manager) to a SPARQL Protocol query POSTed as a form,
    naming its dataset. httpx errors are the caller's to word."""
    form = [("query", text), *(("default-graph-uri", g) for g in default),
            *(("named-graph-uri", g) for g in named)]
    extra = {} if timeout is None else {"timeout": timeout}
    return http.stream("POST", url, content=urlencode(form).encode(),
                       headers={"Accept": accept, "Content-Type": FORM}, **extra)


def bounded(chunks: Iterable[bytes], *, deadline: float, fail: Callable[[str], Exception],
            limit: int | None = None, cancelled=None) -> Iterator[bytes]:
    """``chunks`` as they arrive, raising ``fail(why)`` when ``cancelled`` (a threading.Event)
    is set ("cancelled"), past ``limit`` bytes (default MAX_REMOTE_BYTES) ("size") or past the
    monotonic ``deadline`` ("time")."""
    limit = MAX_REMOTE_BYTES if limit is None else limit
    size = 0
    chunks = iter(chunks)
    while True:
        if cancelled is not None and cancelled.is_set():
            raise fail("cancelled")
        chunk = next(chunks, None)
        if chunk is None:
            return
        size += len(chunk)
        if size > limit:
            raise fail("size")
        if time.monotonic() > deadline:
            raise fail("time")
        yield chunk


def fetch(endpoint: str, query: str, accept: str, timeout: float) -> tuple[str, bytes]:
    """(media type, body) of a 200 answer, read within ``timeout`` seconds in total and at most
    MAX_REMOTE_BYTES long; any failure is a RemoteError naming the endpoint."""
    deadline = time.monotonic() + timeout

    def fail(why: str) -> RemoteError:
        if why == "size":
            return RemoteError(f"{endpoint} answered more than {MAX_REMOTE_BYTES >> 20} "
                               "MiB; add a LIMIT")
        return RemoteError(f"{endpoint} did not finish answering within {timeout:g} s "
                           "(raise --timeout)")

    try:
        with client(timeout) as http, http.stream("POST", endpoint, data={"query": query},
                                                  headers={"Accept": accept}) as resp:
            chunks = list(bounded(resp.iter_bytes(), deadline=deadline, fail=fail))
            status, media = resp.status_code, resp.headers.get("content-type", "")
    except httpx.HTTPError as exc:
        raise RemoteError(f"{endpoint}: {type(exc).__name__}: {exc}") from None
    body = b"".join(chunks)
    if status != 200:
        text = body[:300].decode("utf-8", "replace")
        raise RemoteError(f"{endpoint} answered HTTP {status}: {' '.join(text.split())}")
    return media.split(";")[0].strip().lower(), body


def refuse_dtd(body: bytes, where: str) -> None:
    """RemoteError if an XML body declares a DTD. pyoxigraph expands internal entities: a 1 KB
    "billion laughs" RDF/XML document took it 33 s and a gigabyte. No SPARQL or RDF/XML answer
    needs a DTD, so any is refused, before the RDF parser sees the body (expat stops at the
    declaration: nothing is expanded or fetched)."""
    parser = xml.parsers.expat.ParserCreate()

    def found(*_):
        raise RemoteError(f"{where} answered XML with a DTD (<!DOCTYPE>); entity declarations "
                          "are refused (billion laughs, external entities)")

    parser.StartDoctypeDeclHandler = found
    parser.EntityDeclHandler = found
    with contextlib.suppress(xml.parsers.expat.ExpatError):
        parser.Parse(body, True)  # not well-formed: the RDF parser reports it in its words
