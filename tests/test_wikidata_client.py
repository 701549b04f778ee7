"""wikidata/client.py: the polite SPARQL client (User-Agent, bounded retries that honour
Retry-After, every failure a RemoteError) and the link command's exit codes when it fails."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import run_cli
from isecg_kg import __version__
from isecg_kg.errors import RemoteError
from servers import LoopbackHTTP, free_port

# --------------------------------------------------------------------------------------------
# A tiny stub for what a real server will not do on demand (429, 503, garbage, slowness)


class Stub:
    """Answers each POST with the next scripted reply: (status, headers, body, delay)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                stub.requests.append({"headers": dict(self.headers),
                                      "body": self.rfile.read(length).decode(),
                                      "at": time.monotonic()})
                status, headers, body, delay = (stub.replies.pop(0) if len(stub.replies) > 1
                                                else stub.replies[0])
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

        self.http = LoopbackHTTP(Handler, "/sparql")
        self.url = self.http.url

    def close(self):
        self.http.close()


EMPTY = json.dumps({"head": {"vars": ["item"]}, "results": {"bindings": []}}).encode()
JSON = {"Content-Type": "application/sparql-results+json"}


@pytest.fixture
def stub():
    made = []

    def make(*replies):
        s = Stub(replies)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_user_agent_names_the_tool_and_its_version(stub):
    from isecg_kg.wikidata.client import SparqlClient

    s = stub((200, JSON, EMPTY, 0))
    with SparqlClient(s.url) as client:
        assert client.select("SELECT ?item WHERE {}") == []
    ua = s.requests[0]["headers"]["User-Agent"]
    assert ua.startswith(f"isecg-kg/{__version__} (")
    assert "https://" in ua  # contact information, as the Wikimedia policy asks
    assert s.requests[0]["headers"]["Accept"] == "application/sparql-results+json"


def test_429_retry_after_is_honoured(stub):
    from isecg_kg.wikidata.client import SparqlClient

    s = stub((429, {"Retry-After": "1"}, b"slow down", 0), (200, JSON, EMPTY, 0))
    with SparqlClient(s.url, backoff=0.01) as client:
        assert client.select("SELECT ?item WHERE {}") == []
    assert len(s.requests) == 2
    assert s.requests[1]["at"] - s.requests[0]["at"] >= 0.95  # waited Retry-After, not backoff


def test_503_is_retried_with_backoff(stub):
    from isecg_kg.wikidata.client import SparqlClient

    waits = []
    s = stub((503, {}, b"", 0), (502, {}, b"", 0), (200, JSON, EMPTY, 0))
    with SparqlClient(s.url, backoff=0.5, sleep=waits.append) as client:
        client.select("SELECT ?item WHERE {}")
    assert waits == [0.5, 1.0]


def test_retries_are_bounded(stub):
    from isecg_kg.wikidata.client import SparqlClient

    s = stub((503, {"Retry-After": "0"}, b"", 0))
    with SparqlClient(s.url, retries=3) as client, pytest.raises(RemoteError, match="4 attempts"):
        client.select("SELECT ?item WHERE {}")
    assert len(s.requests) == 4


def test_a_retry_after_beyond_the_limit_is_not_waited_for(stub):
    from isecg_kg.wikidata.client import SparqlClient

    s = stub((429, {"Retry-After": "3600"}, b"", 0))
    with SparqlClient(s.url, max_wait=60) as client, pytest.raises(RemoteError, match="3600"):
        client.select("SELECT ?item WHERE {}")
    assert len(s.requests) == 1


def test_timeout_ends_as_remote_error(stub):
    from isecg_kg.wikidata.client import SparqlClient

    s = stub((200, JSON, EMPTY, 30))  # unanswered for 30 s: a deadline, held with a wide margin
    t0 = time.monotonic()
    with SparqlClient(s.url, timeout=0.3, retries=1, backoff=0) as client, \
            pytest.raises(RemoteError, match="no answer within 0.3 s"):
        client.select("SELECT ?item WHERE {}")
    assert time.monotonic() - t0 < 15
    assert len(s.requests) == 2


def test_cli_exits_2_when_the_endpoint_keeps_failing(stub):
    s = stub((503, {"Retry-After": "0"}, b"", 0))
    proc = run_cli("link", "check", "--endpoint", s.url)
    assert proc.returncode == 2
    assert "HTTP 503 after 4 attempts" in proc.stderr
    assert proc.stdout == ""


def test_cli_exits_2_on_an_answer_that_is_not_sparql_results(stub):
    s = stub((200, {"Content-Type": "text/html"}, b"<html>maintenance</html>", 0))
    proc = run_cli("link", "check", "--endpoint", s.url)
    assert proc.returncode == 2
    assert "not SPARQL JSON results" in proc.stderr


def test_cli_exits_2_when_nothing_listens():
    port = free_port()
    proc = run_cli("link", "check", "--endpoint", f"http://127.0.0.1:{port}/sparql",
                   "--timeout", "1", timeout=120)
    assert proc.returncode == 2
    assert "cannot connect" in proc.stderr
