"""Query time per client: the Wikidata Query Service's rule, so one client cannot take every worker.

Each client may spend ``seconds`` of engine time in any ``window`` seconds (a sliding window);
what its cache misses took is charged when they end, a cached answer costs nothing. A client over
its budget is answered 429 with ``Retry-After``: the seconds until enough of its spending leaves
the window. The client is the connection's address, or, when that address is a proxy named with
``--trust-proxy``, the first address of ``X-Forwarded-For`` (the header is ignored otherwise: any
client can write it).

Memory is bounded: a client's record holds one entry per charged query in the window, and at most
``MAX_CLIENTS`` records are kept (the least recently charged go first), so a flood of addresses
cannot grow the table without end.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from ipaddress import ip_address

from starlette.requests import Request

from isecg_kg.config import MAX_CLIENTS


def _canonical(address: str) -> str:
    """One spelling per address: an IPv4-mapped IPv6 address (``::ffff:203.0.113.9``, how a
    dual-stack socket or a proxy may write an IPv4 client) is that IPv4 address."""
    try:
        ip = ip_address(address)
    except ValueError:
        return address
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def client_of(request: Request, trusted: frozenset[str]) -> str:
    """The address a request is charged to."""
    peer = _canonical(request.client.host) if request.client else "unknown"
    if peer in trusted or (request.client and request.client.host in trusted):
        first = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        try:
            ip_address(first)
        except ValueError:
            return peer  # absent or not an address: the proxy itself is the client
        return _canonical(first)
    return peer


class ClientBudgets:
    """Engine time spent per client (named by ``client_of``) in a sliding window."""

    def __init__(self, seconds: float, window: float, *, clock=time.monotonic,
                 max_clients: int = MAX_CLIENTS):
        self.seconds, self.window = seconds, window
        self.clock, self.max_clients = clock, max_clients
        self._spent: OrderedDict[str, deque[tuple[float, float]]] = OrderedDict()

    def _prune(self, client: str, now: float) -> deque[tuple[float, float]] | None:
        spent = self._spent.get(client)
        while spent and spent[0][0] <= now - self.window:
            spent.popleft()
        if spent is not None and not spent:
            del self._spent[client]
            return None
        return spent

    def retry_after(self, client: str) -> int | None:
        """None while CLIENT has time left; else the whole seconds until it has some again."""
        now = self.clock()
        spent = self._prune(client, now)
        if not spent:
            return None
        total = sum(s for _, s in spent)
        if total < self.seconds:
            return None
        for at, s in spent:  # oldest first: when does enough of it leave the window?
            total -= s
            if total < self.seconds:
                return max(1, math.ceil(at + self.window - now))
        return max(1, math.ceil(self.window))

    def charge(self, client: str, seconds: float) -> None:
        now = self.clock()
        spent = self._prune(client, now)
        if spent is None:
            spent = self._spent[client] = deque()
        spent.append((now, seconds))
        self._spent.move_to_end(client)
        while len(self._spent) > self.max_clients:
            self._spent.popitem(last=False)

    def __len__(self) -> int:
        return len(self._spent)
