"""Who the client is: one answer for every limit that counts clients (connections per address in
http11.py, query time in budget.py, reconciliation's turns).

A client is the connection's peer address, in one spelling: an IPv4-mapped IPv6 address
(``::ffff:203.0.113.9``, how a dual-stack socket or a proxy may write an IPv4 client) is that
IPv4 address. When the peer is a proxy named with ``--trust-proxy``, a request is charged to the
first address of its ``X-Forwarded-For`` (the header is ignored otherwise: any client can write
it), and the proxy's connections count as no one's (it carries many clients).
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import ip_address

from starlette.requests import Request


def canonical(address: str) -> str:
    """One spelling per address (anything that is no address stays as it is)."""
    try:
        ip = ip_address(address)
    except ValueError:
        return address
    return str(getattr(ip, "ipv4_mapped", None) or ip)


class Clients:
    """The clients of one server, told apart by address; ``trusted``: the proxies whose
    X-Forwarded-For names the client."""

    def __init__(self, trusted: Iterable[str] = ()):
        self.trusted = frozenset(canonical(a) for a in trusted)

    def of_connection(self, peer: str) -> str | None:
        """The client a new connection from PEER counts against; None for a trusted proxy."""
        address = canonical(peer)
        return None if address in self.trusted else address

    def of_request(self, request: Request) -> str:
        """The client a request is charged to."""
        peer = canonical(request.client.host) if request.client else "unknown"
        if peer in self.trusted:
            first = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
            try:
                ip_address(first)
            except ValueError:
                return peer  # absent or not an address: the proxy itself is the client
            return canonical(first)
        return peer
