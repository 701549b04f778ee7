"""web/pages/render.py: what the routes and the static export render, made without the network."""

from __future__ import annotations

import socket


def test_pylode_makes_the_ontology_page_offline(ld_dist, ld_store, monkeypatch):  # noqa: F811
    """pyLODE must not fetch anything: any connection attempt fails the test."""
    from isecg_kg.web.context import Site
    from isecg_kg.web.pages.render import LinkedData

    attempts = []

    def refuse(self, address, *a, **k):
        attempts.append(address)
        raise OSError(f"network refused in test: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))
    html, csp = LinkedData(Site.from_dist(ld_dist), ld_store).ontology
    assert attempts == [] and "ISECG ontology" in html
    assert "'sha256-" in csp  # pyLODE's inline style is allowed by hash, nothing else inline
