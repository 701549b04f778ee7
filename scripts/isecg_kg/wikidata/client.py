"""A polite SPARQL client for Wikidata: a descriptive User-Agent, timeouts, bounded retries."""

from __future__ import annotations

import email.utils
import re
import time
from datetime import UTC, datetime
from typing import Self

from isecg_kg import __version__
from isecg_kg.config import WIKIDATA_TIMEOUT
from isecg_kg.errors import InputError, RemoteError

USER_AGENT = (f"isecg-kg/{__version__} (https://w3id.org/isecg/; ISECG knowledge graph "
              f"link checker and QuickStatements export)")
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class SparqlClient:
    """A SPARQL 1.1 protocol client (POST, form-encoded) for SELECT queries, JSON results.

    Retries at most ``retries`` times on 429, 5xx, timeouts and broken connections, waiting
    ``Retry-After`` when the server sends it, else ``backoff * 2**attempt`` seconds; a server that
    asks for a wait longer than ``max_wait`` is not retried, nor is a refused connection or an
    unknown host. Every failure ends as RemoteError.
    """

    def __init__(self, endpoint: str, *, timeout: float = WIKIDATA_TIMEOUT, retries: int = 3,
                 backoff: float = 1.0, max_wait: float = 120.0, user_agent: str = USER_AGENT,
                 sleep=time.sleep):
        import httpx

        if not re.match(r"^https?://", endpoint or ""):
            raise InputError(f"endpoint {endpoint!r} is not an http(s) URL (give --endpoint URL)")
        self.endpoint = endpoint
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_wait = max_wait
        self.requests = 0
        self._sleep = sleep
        self._httpx = httpx
        from isecg_kg.sparql import http  # the package's one SPARQL-over-HTTP client

        self._http = http.client(httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                 user_agent=f"{user_agent} httpx/{httpx.__version__}",
                                 headers={"Accept": "application/sparql-results+json"},
                                 follow_redirects=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def select(self, query: str) -> list[dict[str, dict]]:
        """Run a SELECT query; return its bindings (SPARQL JSON terms: type, value, xml:lang)."""
        httpx = self._httpx
        error = "no attempt made"
        for attempt in range(self.retries + 1):
            wait = self.backoff * (2 ** attempt)
            try:
                self.requests += 1
                response = self._http.post(self.endpoint, data={"query": query})
            except httpx.TimeoutException:
                error = f"no answer within {self.timeout:g} s"
            except httpx.ConnectError as exc:  # refused / unknown host: retrying will not help
                raise RemoteError(f"{self.endpoint}: cannot connect ({exc}); check the URL and "
                                  f"the network") from None
            except httpx.TransportError as exc:
                error = f"cannot connect ({exc.__class__.__name__}: {exc})"
            else:
                if response.status_code in RETRY_STATUS:
                    error = f"HTTP {response.status_code}"
                    asked = _retry_after(response.headers.get("Retry-After"))
                    if asked is not None:
                        if asked > self.max_wait:
                            raise RemoteError(
                                f"{self.endpoint}: HTTP {response.status_code}, the server asks to "
                                f"wait {asked:g} s (Retry-After), more than {self.max_wait:g} s; "
                                f"try again later")
                        wait = asked
                elif response.status_code >= 400:
                    raise RemoteError(
                        f"{self.endpoint}: HTTP {response.status_code}: "
                        f"{response.text.strip()[:300]!r}; check the endpoint URL and the query")
                else:
                    return self._parse(response)
            if attempt < self.retries:
                self._sleep(wait)
        raise RemoteError(f"{self.endpoint}: {error} after {self.retries + 1} attempts; check the "
                          f"URL and the network, or try again later")

    def _parse(self, response) -> list[dict[str, dict]]:
        try:
            data = response.json()
            bindings = data["results"]["bindings"]
            if not isinstance(bindings, list) or not isinstance(data["head"], dict):
                raise TypeError
            for row in bindings:
                for term in row.values():
                    if "type" not in term or "value" not in term:
                        raise TypeError
        except (ValueError, KeyError, TypeError):
            kind = response.headers.get("Content-Type", "?")
            raise RemoteError(f"{self.endpoint}: the answer is not SPARQL JSON results "
                              f"(Content-Type {kind}); is this a SPARQL endpoint?") from None
        return bindings
