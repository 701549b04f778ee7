"""W3C Entity Reconciliation API at /reconcile (stub; full service being written)."""

from __future__ import annotations


def routes(site, store) -> list:
    """Starlette routes of the reconciliation service (stub: none yet)."""
    return []
