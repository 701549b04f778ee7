"""``isecg-kg serve``'s options, in one place: read from the command line (``from_args``), checked
whenever options are made (so an app built in-process is held to the same limits), and turned
into what the server's parts take: the limits of a query, who the clients are, their budgets,
the SERVICE endpoints allowed and where each goes, the size of a request head."""

from __future__ import annotations

import os
from dataclasses import dataclass
from ipaddress import ip_address

from isecg_kg.config import (
    ADMISSION_WAIT,
    BODY_TIMEOUT,
    BUDGET_WINDOW,
    CLIENT_BUDGET,
    HEAD_TIMEOUT,
    MAX_ANSWER_BYTES,
    MAX_CLIENT_CONNECTIONS,
    MAX_CONNECTIONS,
    MAX_QUERY_BYTES,
    MAX_ROWS,
    QUERY_TIMEOUT,
    SERVER_MEMORY_MIB,
    WIKIDATA_SPARQL,
    WORKER_MEMORY,
)
from isecg_kg.errors import InputError
from isecg_kg.sparql.engine import Limits
from isecg_kg.web.defaults import DISCONNECT_GRACE, HEADER_ROOM, MIN_WORKER_MEMORY
from isecg_kg.web.http.budget import ClientBudgets
from isecg_kg.web.http.clients import Clients

# options that must be positive when given, as the command line names them
POSITIVE = ("query_timeout", "max_rows", "max_query_bytes", "workers", "max_heavy",
            "heavy_after", "admission_wait", "worker_memory", "max_connections",
            "max_answer_bytes", "server_memory", "head_timeout", "body_timeout", "budget_window",
            "max_client_connections", "disconnect_grace")


@dataclass(frozen=True)
class ServerOptions:
    query_timeout: float = QUERY_TIMEOUT
    max_rows: int | None = MAX_ROWS
    max_query_bytes: int = MAX_QUERY_BYTES
    workers: int | None = None                    # None: one per core, at least two
    service_allow: tuple[str, ...] = (WIKIDATA_SPARQL,)
    wikidata_endpoint: str = WIKIDATA_SPARQL
    admission_wait: float = ADMISSION_WAIT
    max_heavy: int | None = None                  # None: the engine's default (per core)
    heavy_after: float | None = None
    worker_memory: int | None = WORKER_MEMORY     # bytes of address space per worker
    max_connections: int = MAX_CONNECTIONS
    max_client_connections: int = MAX_CLIENT_CONNECTIONS
    max_answer_bytes: int | None = MAX_ANSWER_BYTES
    server_memory: int | None = SERVER_MEMORY_MIB << 20
    head_timeout: float = HEAD_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    client_budget: float | None = CLIENT_BUDGET  # None: no per-client budget
    budget_window: float = BUDGET_WINDOW
    trust_proxy: tuple[str, ...] = ()             # proxies whose X-Forwarded-For is believed
    store: str | None = None                      # an external SPARQL store's query URL
    # seconds a query whose client hung up may still finish (its answer cached); no flag
    disconnect_grace: float = DISCONNECT_GRACE

    def __post_init__(self) -> None:
        for name in POSITIVE:
            value = getattr(self, name)
            if value is not None and value <= 0:
                shown = value >> 20 if name in ("worker_memory", "server_memory") else value
                raise InputError(f"--{name.replace('_', '-')} must be positive, not {shown}")
        if self.client_budget is not None and self.client_budget < 0:
            raise InputError("--client-budget must be 0 (none) or positive, not "
                             f"{self.client_budget}")
        for proxy in self.trust_proxy:
            try:
                ip_address(proxy)
            except ValueError:
                raise InputError(f"--trust-proxy takes an IP address, not {proxy!r}") from None
        if self.worker_memory is not None and self.worker_memory < MIN_WORKER_MEMORY << 20:
            raise InputError(f"--worker-memory must be at least {MIN_WORKER_MEMORY} MiB (a "
                             "worker's 256 MiB query stack, Python and the store), not "
                             f"{self.worker_memory >> 20}")

    @classmethod
    def from_args(cls, args) -> ServerOptions:
        """The options of ``isecg-kg serve`` (sizes given in MiB there, held in bytes here)."""
        return cls(query_timeout=args.query_timeout, max_rows=args.max_rows,
                   max_query_bytes=args.max_query_bytes, workers=args.workers,
                   service_allow=tuple(args.service_allow or (WIKIDATA_SPARQL,)),
                   wikidata_endpoint=args.wikidata_endpoint, admission_wait=args.admission_wait,
                   max_heavy=args.max_heavy, heavy_after=args.heavy_after,
                   worker_memory=args.worker_memory << 20, max_connections=args.max_connections,
                   max_client_connections=args.max_client_connections,
                   max_answer_bytes=args.max_answer_bytes, server_memory=args.server_memory << 20,
                   head_timeout=args.head_timeout, body_timeout=args.body_timeout,
                   client_budget=args.client_budget or None, budget_window=args.budget_window,
                   trust_proxy=tuple(args.trust_proxy or ()), store=args.store)

    def worker_count(self) -> int:
        return self.workers if self.workers else max(2, os.cpu_count() or 2)

    def limits(self) -> Limits:
        """What each query may take and give (the engines hold it; the endpoint states it)."""
        return Limits(self.query_timeout, self.max_rows, self.max_answer_bytes)

    def clients(self) -> Clients:
        """Who the clients are: addresses, but behind a --trust-proxy its X-Forwarded-For."""
        return Clients(self.trust_proxy)

    def budgets(self) -> ClientBudgets | None:
        """Query time per client, or None (--client-budget 0)."""
        return ClientBudgets(self.client_budget, self.budget_window) if self.client_budget \
            else None

    def services(self) -> tuple[tuple[str, ...], dict[str, str]]:
        """(the SERVICE endpoints a query may call, where each is sent): Wikidata's goes to
        --wikidata-endpoint when that is another, which is then allowed too."""
        allow = tuple(self.service_allow)
        if WIKIDATA_SPARQL in allow and self.wikidata_endpoint != WIKIDATA_SPARQL:
            return (*allow, self.wikidata_endpoint), {WIKIDATA_SPARQL: self.wikidata_endpoint}
        return allow, {}

    def head_limit(self) -> int:
        """Bytes of request line and headers: room for a GET carrying a query at the size
        limit, percent-encoded (3 bytes per byte)."""
        return 3 * self.max_query_bytes + 2 * HEADER_ROOM
