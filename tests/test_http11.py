"""Connections (web/http/http11.py, issue 16): request framing, the head-size limit and the read
deadlines, against a real `isecg-kg serve` over raw sockets (every byte as written here).

A framing the server refuses must be answered 400 and the connection closed, so that a request
pipelined behind it is never answered: behind a proxy that frames the body the other way, that
second request is the smuggled one.
"""

from __future__ import annotations

import re
import socket
import time

import pytest
from servers import isecg_server, raw_request

HEAD_TIMEOUT = 2.0
BODY_TIMEOUT = 2.0
MAX_QUERY_BYTES = 64 * 1024
HEAD_LIMIT = 3 * MAX_QUERY_BYTES + 32 * 1024
NEXT = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"  # the request pipelined behind


@pytest.fixture(scope="module")
def server(dist):
    with isecg_server(dist, "--head-timeout", str(HEAD_TIMEOUT), "--body-timeout",
                      str(BODY_TIMEOUT), "--max-query-bytes", str(MAX_QUERY_BYTES)) as url:
        yield url


def connect(server) -> socket.socket:
    host, port = server.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)))
    s.settimeout(HEAD_TIMEOUT + BODY_TIMEOUT + 10)
    return s


def read_all(s: socket.socket) -> tuple[bytes, bool]:
    """Everything the server sends until it closes (True) or stays silent for 3 s (False)."""
    s.settimeout(3)
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            return out, False
        except ConnectionResetError:
            return out, True
        if not chunk:
            return out, True
        out += chunk


def exchange(server, raw: bytes) -> tuple[bytes, bool]:
    with connect(server) as s:
        s.sendall(raw)
        return read_all(s)


def statuses(answer: bytes) -> list[int]:
    """The status of each response in a stream of them (a body does not end with CRLF)."""
    return [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]


def test_pipelined_requests_are_all_answered(server):
    # the control for the tests below: a well-framed pipeline gets every answer
    post = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 6\r\n\r\nASK {}")
    answer, _ = exchange(server, post + NEXT + NEXT)
    assert statuses(answer) == [200, 200, 200], answer[:500]


AMBIGUOUS = {
    "content-length-and-chunked": b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n",
    "chunked-and-content-length": b"Transfer-Encoding: chunked\r\nContent-Length: 6\r\n",
    "content-length-twice-same": b"Content-Length: 6\r\nContent-Length: 6\r\n",
    "content-length-twice-different": b"Content-Length: 6\r\nContent-Length: 11\r\n",
    "content-length-list": b"Content-Length: 6, 6\r\n",
    "content-length-signed": b"Content-Length: +6\r\n",
    "transfer-encoding-folded": b"Content-Length: 6\r\nTransfer-Encoding:\r\n chunked\r\n",
    "header-folded": b"Content-Length: 6\r\nX-Note: one\r\n\ttwo\r\n",
}
BODY = b"6\r\nASK {}\r\n0\r\n\r\n"  # chunked: ASK {}; by Content-Length 6: '6\r\nASK'


@pytest.mark.parametrize("headers", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_ambiguous_framing_is_400_and_closes_before_the_next_request(server, headers):
    head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            + headers + b"\r\n")
    answer, closed = exchange(server, head + BODY + NEXT)
    assert statuses(answer) == [400], answer[:500]
    assert closed, "the connection was left open"
    assert b"connection: close" in answer.lower()


def test_chunked_in_http_1_0_is_400(server):
    head = (b"POST /sparql HTTP/1.0\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    answer, closed = exchange(server, head + BODY + NEXT)
    assert statuses(answer) == [400] and closed, answer[:300]


@pytest.mark.parametrize("size", [300_000, 400_000])
def test_a_head_over_the_limit_is_431_when_sent_in_one_write(server, size):
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * size + b"\r\n\r\n"
    answer, closed = exchange(server, head + NEXT)
    assert statuses(answer) == [431] and closed, answer[:300]
    assert str(HEAD_LIMIT).encode() in answer  # names the limit


def test_a_head_over_the_limit_is_431_when_sent_slowly(server):
    with connect(server) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ")
        try:
            for _ in range(40):
                s.sendall(b"a" * 10_000)
                time.sleep(0.005)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it stopped reading: also a refusal, but the status must have come first
        answer, closed = read_all(s)
    assert statuses(answer) == [431] and closed, answer[:300]


def test_a_head_just_under_the_limit_is_served(server):
    pad = HEAD_LIMIT - 200
    status, _, _ = raw_request(server, "GET", "/healthz", {"X-Pad": "a" * pad})
    assert status == 200


def test_a_head_that_never_completes_is_408_at_the_head_deadline(server):
    """A byte every half second does not extend the deadline: the 408 comes at the head
    deadline (2 s; from below, load only delays it), not after the 20 s the trickle lasts."""
    with connect(server) as s:
        t0 = time.monotonic()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for _ in range(40):
            time.sleep(0.5)  # the trickle's pace
            try:
                s.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                break
        answer, closed = read_all(s)
        elapsed = time.monotonic() - t0
    assert statuses(answer) == [408] and closed, answer[:300]
    assert HEAD_TIMEOUT - 0.2 <= elapsed < 15, elapsed


def test_a_connection_that_sends_nothing_is_closed_at_the_head_deadline(server):
    with connect(server) as s:
        t0 = time.monotonic()
        s.settimeout(60)
        assert s.recv(100) == b""
        assert time.monotonic() - t0 < 15  # the 2 s deadline, with a wide margin


@pytest.mark.parametrize("path", ["/sparql", "/reconcile", "/id/agency/nasa"])
def test_a_body_that_never_completes_is_408_at_the_body_deadline(server, path):
    ctype = {"/sparql": "application/sparql-query"}.get(path, "application/json")
    with connect(server) as s:
        t0 = time.monotonic()
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                  "Content-Length: 1000\r\n\r\nASK".encode())
        answer, closed = read_all(s)
        while not closed and time.monotonic() - t0 < 60:
            more, closed = read_all(s)
            answer += more
        elapsed = time.monotonic() - t0
    assert closed, answer[:300]
    # /id/... answers 405 without reading the body; the connection is still cut at the deadline
    assert statuses(answer) == ([405] if path.startswith("/id/") else [408]), answer[:300]
    assert elapsed < 15, elapsed  # the 2 s deadline, with a wide margin


def test_a_client_that_drops_mid_body_leaves_one_log_line(server):
    before = server.log.read_text(errors="replace")
    gone = "the client went away before its request body was complete"
    for i, path in enumerate(("/sparql", "/reconcile"), 1):
        with connect(server) as s:
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                      "x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\nquery=ASK".encode())
        deadline = time.monotonic() + 30  # until the server has logged this one (polled)
        while server.log.read_text(errors="replace")[len(before):].count(gone) < i and \
                time.monotonic() < deadline:
            time.sleep(0.02)
    status, _, _ = raw_request(server, "GET", "/healthz")
    assert status == 200
    new = server.log.read_text(errors="replace")[len(before):]
    assert new.count(gone) == 2, new
    assert "Exception in ASGI application" not in new and "Traceback" not in new, new
    lines = [line for line in new.splitlines() if "body" in line]
    assert len(lines) == 2, new


def test_one_address_holds_at_most_its_share_of_the_connections(dist):
    """Slow clients from one address fill only their own share: past --max-client-connections
    its next connection is 429 and closed, while another address (127.0.0.2, loopback too) and
    connections closed since are served."""
    with isecg_server(dist, "--max-client-connections", "8", "--head-timeout", "30") as url:
        host, port = url.removeprefix("http://").split(":")
        held = [socket.create_connection((host, int(port))) for _ in range(8)]
        try:
            for s in held:
                s.sendall(b"GET /healthz HTTP/1.1\r\n")  # a head that never completes
            answer, closed = exchange(url, NEXT)
            assert statuses(answer) == [429] and closed, answer
            assert b"retry-after: 1" in answer.lower() and b"--max-client-connections" in answer
            other = socket.create_connection((host, int(port)), source_address=("127.0.0.2", 0))
            with other:
                other.sendall(NEXT)
                assert statuses(read_all(other)[0]) == [200]
        finally:
            for s in held:
                s.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the server notices the closes, and frees the share
            if statuses(exchange(url, NEXT)[0]) == [200]:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the address's connections were never freed")
