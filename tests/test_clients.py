"""Who the client is (web/http/clients.py): one spelling per address, a trusted proxy's forwarded
address, and no client for a trusted proxy's connections."""

from __future__ import annotations

from isecg_kg.web.http.clients import Clients, canonical
from starlette.requests import Request


def request_from(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers,
                    "client": (peer, 50000)})


def test_an_ipv4_mapped_address_is_its_ipv4_address():
    assert canonical("::ffff:203.0.113.9") == "203.0.113.9"
    assert canonical("2001:db8:0:0::1") == "2001:db8::1"  # one spelling of IPv6 too
    assert canonical("not an address") == "not an address"


def test_a_request_is_its_peer_whatever_it_forwards():
    clients = Clients()
    assert clients.of_request(request_from("::ffff:198.51.100.7", "203.0.113.9")) == \
        "198.51.100.7"


def test_a_trusted_proxy_names_its_client_by_its_first_forwarded_address():
    clients = Clients(["::ffff:10.0.0.1"])  # trusted however its address is written
    assert clients.of_request(request_from("10.0.0.1", "::ffff:203.0.113.9, 10.0.0.2")) == \
        "203.0.113.9"
    # a forwarded value that is no address: the proxy itself is charged
    assert clients.of_request(request_from("10.0.0.1", "unknown")) == "10.0.0.1"
    assert clients.of_request(request_from("10.0.0.1")) == "10.0.0.1"


def test_connections_count_against_their_address_but_a_trusted_proxy_is_no_one():
    clients = Clients(["10.0.0.1"])
    assert clients.of_connection("::ffff:10.0.0.1") is None
    assert clients.of_connection("::ffff:203.0.113.9") == clients.of_connection("203.0.113.9")
