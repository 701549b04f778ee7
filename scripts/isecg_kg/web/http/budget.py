"""Query time per client: the Wikidata Query Service's rule, so one client cannot take every worker.

Each client may spend ``seconds`` of engine time in any ``window`` seconds (a sliding window);
what its cache misses took is charged when they end, a cached answer costs nothing. A client over
its budget is answered 429 with ``Retry-After``: the seconds until enough of its spending leaves
the window. Who the client is, clients.py decides.

Memory is bounded: a client's record holds one entry per charged query in the window, and at most
``MAX_CLIENTS`` records are kept (the least recently charged go first), so a flood of addresses
cannot grow the table without end.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

from isecg_kg.config import MAX_CLIENTS


class ClientBudgets:
    """Engine time spent per client (as clients.Clients names it) in a sliding window."""

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
